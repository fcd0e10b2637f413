//! A Slack channel: the Web API with a bot token (`chat.postMessage`, `conversations.history`,
//! `conversations.setTopic`), or an incoming webhook. The Web API answers HTTP 200 with
//! `ok: false` and an `error` code when it refuses, and 429 with `Retry-After` when it limits;
//! a webhook answers a status with the code as plain text. Slack keeps no idempotency key: a
//! post carries its id in its `metadata`, so a run that is not sure it posted can look for it.

use std::time::Duration;

use anyhow::{Result, anyhow};
use serde_json::{Value, json};

use super::SlackConf;
use super::http::{API_ANSWER, ERROR_HEAD, Transient, acting_client, read_body};
use crate::secret::{Secret, scrub};

const JSON: &str = "application/json; charset=utf-8";

/// The metadata event type of pushduty's posts.
pub const EVENT_TYPE: &str = "pushduty_post";
/// The longest a rate-limited call waits before trying again, as `Retry-After` asks.
pub const MOST_WAIT: Duration = Duration::from_secs(30);
/// How many of the channel's recent messages a resumed post reads to find itself.
const HISTORY: u32 = 200;

/// A refusal: Slack answered, and did nothing. Trying again changes nothing until the cause
/// is fixed, and nothing was posted.
#[derive(Debug)]
pub struct Refused(pub String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// Whether Slack answered `e` and so certainly posted nothing.
pub fn refused(e: &anyhow::Error) -> bool {
    e.downcast_ref::<Refused>().is_some()
}

/// How pushduty reaches the channel.
pub enum Slack {
    Api {
        name: String,
        api: String,
        channel: String,
        token: Secret,
    },
    Webhook {
        name: String,
        url: Secret,
    },
}

impl Slack {
    pub fn api(conf: &SlackConf, channel: &str, token: Secret) -> Self {
        Slack::Api {
            name: conf.name.clone(),
            api: conf.api_url.trim_end_matches('/').to_string(),
            channel: channel.to_string(),
            token,
        }
    }

    pub fn webhook(conf: &SlackConf, url: Secret) -> Self {
        Slack::Webhook {
            name: conf.name.clone(),
            url,
        }
    }

    fn name(&self) -> &str {
        match self {
            Slack::Api { name, .. } | Slack::Webhook { name, .. } => name,
        }
    }

    fn scrub(&self, text: &str) -> String {
        match self {
            Slack::Api { token, .. } => scrub(text, &[token]),
            Slack::Webhook { url, .. } => scrub(text, &[url]),
        }
    }

    /// Where it posts, for progress lines (never the webhook's URL: it is the secret).
    pub fn place(&self) -> String {
        match self {
            Slack::Api { channel, api, .. } => format!("Slack channel {channel} ({api})"),
            Slack::Webhook { name, .. } => format!("the incoming webhook of `{name}`"),
        }
    }

    /// Posts `text` carrying `post_id`: the message's `ts` (a webhook gives none).
    pub async fn post(&self, post_id: &str, text: &str) -> Result<Option<String>> {
        match self {
            Slack::Api { channel, .. } => {
                let body = json!({
                    "channel": channel,
                    "text": text,
                    "metadata": { "event_type": EVENT_TYPE, "event_payload": { "post_id": post_id } },
                });
                let answer = self.call("chat.postMessage", &body, Body::Json).await?;
                Ok(answer["ts"].as_str().map(str::to_string))
            }
            Slack::Webhook { url, .. } => {
                self.hook(url, &json!({ "text": text })).await?;
                Ok(None)
            }
        }
    }

    /// Sets the channel's topic (the Web API only).
    pub async fn set_topic(&self, topic: &str) -> Result<()> {
        match self {
            Slack::Api { channel, .. } => {
                let body = json!({ "channel": channel, "topic": topic });
                self.call("conversations.setTopic", &body, Body::Json)
                    .await
                    .map(|_| ())
            }
            Slack::Webhook { name, .. } => Err(anyhow!(
                "service `{name}` posts through an incoming webhook, which cannot set a topic: give it a bot `token` with the `channels:manage` scope, or set the topic by hand"
            )),
        }
    }

    /// The `ts` of the message carrying `post_id` among the channel's latest, posted at or
    /// after `since` (unix seconds); `None` when it is not there. Needs a bot token with
    /// `channels:history`.
    pub async fn find(&self, post_id: &str, since: i64) -> Result<Option<String>> {
        let Slack::Api { channel, .. } = self else {
            return Err(anyhow!("an incoming webhook cannot read the channel back"));
        };
        let body = json!({
            "channel": channel,
            "oldest": format!("{}.000000", since.saturating_sub(60)),
            "limit": HISTORY,
            "include_all_metadata": true,
        });
        // A read method: Slack takes its arguments as a form, not JSON.
        let answer = self
            .call("conversations.history", &body, Body::Form)
            .await?;
        let found = answer["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|m| {
                m["metadata"]["event_type"] == EVENT_TYPE
                    && m["metadata"]["event_payload"]["post_id"] == post_id
            });
        Ok(found.and_then(|m| m["ts"].as_str()).map(str::to_string))
    }

    /// One Web API method. A 429 is waited out (at most [`MOST_WAIT`]) and tried again, twice
    /// at most: a limited call did nothing.
    async fn call(&self, method: &str, body: &Value, as_: Body) -> Result<Value> {
        let Slack::Api { api, token, .. } = self else {
            return Err(anyhow!("`{method}` needs a bot token"));
        };
        let what = format!("Slack `{method}`");
        let url = format!("{api}/{method}");
        let mut tries = 0;
        loop {
            tries += 1;
            let request = acting_client()?.post(&url).bearer_auth(token.expose());
            let request = match as_ {
                Body::Json => request
                    .header(reqwest::header::CONTENT_TYPE, JSON)
                    .body(body.to_string()),
                Body::Form => request.form(&form(body)),
            };
            let resp = request
                .send()
                .await
                .map_err(|e| self.unreachable(&what, api, &e))?;
            let status = resp.status();
            let retry = retry_after(&resp);
            let text = read_body(resp, API_ANSWER, "Slack", &what, |e| {
                self.unreachable(&what, api, e)
            })
            .await?;
            if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
                let wait = Duration::from_secs(retry.unwrap_or(1));
                if tries < 3 && wait <= MOST_WAIT {
                    tracing::info!(method, secs = wait.as_secs(), "Slack asked to wait");
                    tokio::time::sleep(wait).await;
                    continue;
                }
                return Err(anyhow::Error::new(Refused(format!(
                    "{what}: Slack is limiting this token (429, Retry-After {}s); nothing was posted: wait, then run the step again",
                    retry.map_or_else(|| "not given".into(), |s| s.to_string())
                ))));
            }
            if status.is_redirection() {
                return Err(anyhow!(
                    "{what}: {api} answered with a redirect (HTTP {status}), which pushduty does not follow with a post: check the service's `api_url`"
                ));
            }
            if status.is_server_error() {
                return Err(anyhow::Error::new(Transient(self.scrub(&format!(
                    "{what}: HTTP {status} from {api}; the message may or may not have been taken"
                )))));
            }
            let answer: Value = serde_json::from_str(&text).map_err(|e| {
                anyhow!(self.scrub(&format!(
                    "{what}: {api} answered HTTP {status} with something that is not the Web API's JSON ({e}); check the service's `api_url`"
                )))
            })?;
            if answer["ok"] == true {
                return Ok(answer);
            }
            let code = answer["error"].as_str().unwrap_or("no error code");
            return Err(anyhow::Error::new(Refused(
                self.scrub(&format!("{what}: {}", self.said(code, &answer))),
            )));
        }
    }

    /// An `error` code as what happened and what to do.
    fn said(&self, code: &str, answer: &Value) -> String {
        let name = self.name();
        let channel = match self {
            Slack::Api { channel, .. } => channel.as_str(),
            Slack::Webhook { .. } => "the webhook's channel",
        };
        let hint = match code {
            "invalid_auth" | "not_authed" | "token_revoked" | "token_expired"
            | "account_inactive" => format!(
                "Slack refused the token of service `{name}`: check the one `services.{name}.token` names (a bot token, `xoxb-...`)"
            ),
            "channel_not_found" => format!(
                "Slack knows no channel {channel} for this token: check the service's `channel` (an id, `C...`, not `#name`)"
            ),
            "not_in_channel" => format!(
                "the bot is not in channel {channel}: invite it there (`/invite @bot`), then run the step again"
            ),
            "is_archived" | "channel_is_archived" => {
                format!("channel {channel} is archived: unarchive it or name another")
            }
            "missing_scope" => format!(
                "the token lacks a scope (needed: {}): add it to the Slack app and reinstall it",
                answer["needed"]
                    .as_str()
                    .unwrap_or("see the app's settings")
            ),
            "msg_too_long" => "the message is too long for Slack: shorten the step's `text`".into(),
            "ratelimited" => {
                "Slack is limiting this token: wait a minute, then run the step again".into()
            }
            _ => "see Slack's documentation of the method for this error".into(),
        };
        format!("Slack said `{code}`; nothing was posted: {hint}")
    }

    /// A webhook post: 200 with `ok`, or a status with the error code as text.
    async fn hook(&self, url: &Secret, body: &Value) -> Result<()> {
        let what = "Slack webhook";
        let resp = acting_client()?
            .post(url.expose())
            .header(reqwest::header::CONTENT_TYPE, JSON)
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| {
                anyhow::Error::new(Transient(format!(
                    "{what}: {}; the message may or may not have been taken",
                    unanswered_hook(&e)
                )))
            })?;
        let status = resp.status();
        let text = super::http::read_head(resp, ERROR_HEAD)
            .await
            .map_err(|e| anyhow!("{what}: {}", unanswered_hook(&e)))?;
        if status.is_success() {
            return Ok(());
        }
        let code = text.trim();
        if status.is_server_error() {
            return Err(anyhow::Error::new(Transient(self.scrub(&format!(
                "{what}: HTTP {status} ({code}); the message may or may not have been taken"
            )))));
        }
        Err(anyhow::Error::new(Refused(self.scrub(&format!(
            "{what}: HTTP {status}, {}",
            self.said(code, &Value::Null)
        )))))
    }

    fn unreachable(&self, what: &str, base: &str, e: &reqwest::Error) -> anyhow::Error {
        super::http::unanswered(what, "Slack", base, e, |t| self.scrub(t))
    }
}

/// Why a webhook request got no answer, without its URL: the whole URL is the secret, so
/// neither the error's text nor the shared helper (which logs the path) may see it.
fn unanswered_hook(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "no answer within the time limit (PUSHDUTY_HTTP_TIMEOUT)"
    } else if e.is_connect() {
        "cannot connect"
    } else if e.is_body() || e.is_decode() {
        "its answer broke off"
    } else {
        "the request failed"
    }
}

/// How a method takes its arguments.
#[derive(Clone, Copy)]
enum Body {
    Json,
    Form,
}

/// A flat JSON object as form fields.
fn form(body: &Value) -> Vec<(String, String)> {
    body.as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| {
            let v = v.as_str().map_or_else(|| v.to_string(), str::to_string);
            (k.clone(), v)
        })
        .collect()
}

fn retry_after(resp: &reqwest::Response) -> Option<u64> {
    resp.headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}
