//! A Matrix room through the client-server API: a message is `PUT .../send/m.room.message/TXN`,
//! where the homeserver keeps the transaction id of each access token and answers a repeat with
//! the event it stored the first time. So a post that may or may not have arrived is simply
//! sent again with the same id. The topic is a state event, the same however often it is set.
//! Every failure is said with the API's `errcode`, the token cut out.

use std::time::Duration;

use anyhow::{Result, anyhow};
use serde::Deserialize;
use serde_json::{Value, json};

use super::MatrixConf;
use super::http::{API_ANSWER, Transient, acting_client, client, read_body};
use crate::secret::{Secret, scrub};
use pushduty_core::urls::encode;

/// The longest a rate-limited request waits before its one more try, as the server asks.
pub const MOST_WAIT: Duration = Duration::from_secs(30);

const JSON: &str = "application/json";

pub struct Matrix {
    name: String,
    url: String,
    room: String,
    token: Secret,
}

/// An error as the API says it.
#[derive(Debug, Default, Deserialize)]
struct ApiError {
    #[serde(default)]
    errcode: String,
    #[serde(default)]
    error: String,
    #[serde(default)]
    retry_after_ms: Option<u64>,
}

impl Matrix {
    pub fn new(conf: &MatrixConf, token: Secret) -> Self {
        Self {
            name: conf.name.clone(),
            url: conf.url.trim_end_matches('/').to_string(),
            room: conf.room.clone(),
            token,
        }
    }

    fn room_api(&self) -> String {
        format!(
            "{}/_matrix/client/v3/rooms/{}",
            self.url,
            encode(&self.room)
        )
    }

    fn scrub(&self, text: &str) -> String {
        scrub(text, &[&self.token])
    }

    /// Posts `text` as transaction `txn`: the event id, the same for every send of one id.
    pub async fn send(&self, txn: &str, text: &str) -> Result<String> {
        let url = format!("{}/send/m.room.message/{}", self.room_api(), encode(txn));
        let body = json!({ "msgtype": "m.text", "body": text });
        let answer = self.put(&url, &body, "posting the message").await?;
        event_id(&answer)
    }

    /// Sets the room's topic: the event id of the state event.
    pub async fn set_topic(&self, topic: &str) -> Result<String> {
        let url = format!("{}/state/m.room.topic/", self.room_api());
        let answer = self
            .put(&url, &json!({ "topic": topic }), "setting the topic")
            .await?;
        event_id(&answer)
    }

    /// The room's topic, `None` when it has none.
    pub async fn topic(&self) -> Result<Option<String>> {
        let url = format!("{}/state/m.room.topic/", self.room_api());
        let what = "reading the topic";
        let resp = client()?
            .get(&url)
            .bearer_auth(self.token.expose())
            .send()
            .await
            .map_err(|e| self.unreachable(what, &e))?;
        let status = resp.status();
        let body = read_body(resp, API_ANSWER, "Matrix", what, |e| {
            self.unreachable(what, e)
        })
        .await?;
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(self.refusal(what, status, &body));
        }
        let v: Value = serde_json::from_str(&body)
            .map_err(|e| anyhow!("Matrix, {what}: the answer is not JSON ({e})"))?;
        Ok(v["topic"].as_str().map(str::to_string))
    }

    /// One PUT; a rate limit is waited out once, when the server asks for no more than
    /// [`MOST_WAIT`] (a PUT of the same transaction is safe to repeat).
    async fn put(&self, url: &str, body: &Value, what: &str) -> Result<Value> {
        let mut waited = false;
        loop {
            let resp = acting_client()?
                .put(url)
                .bearer_auth(self.token.expose())
                .header(reqwest::header::CONTENT_TYPE, JSON)
                .body(body.to_string())
                .send()
                .await
                .map_err(|e| self.unreachable(what, &e))?;
            let status = resp.status();
            let text = read_body(resp, API_ANSWER, "Matrix", what, |e| {
                self.unreachable(what, e)
            })
            .await?;
            if status.is_success() {
                return serde_json::from_str(&text).map_err(|e| {
                    anyhow!(self.scrub(&format!(
                        "Matrix, {what}: {} answered with something that is not the API's JSON ({e}); is the service's `url` the homeserver's?",
                        self.url
                    )))
                });
            }
            let err: ApiError = serde_json::from_str(&text).unwrap_or_default();
            if status == reqwest::StatusCode::TOO_MANY_REQUESTS && !waited {
                let wait = Duration::from_millis(err.retry_after_ms.unwrap_or(1000));
                if wait <= MOST_WAIT {
                    tokio::time::sleep(wait).await;
                    waited = true;
                    continue;
                }
            }
            return Err(self.refusal(what, status, &text));
        }
    }

    fn refusal(&self, what: &str, status: reqwest::StatusCode, body: &str) -> anyhow::Error {
        let err: ApiError = serde_json::from_str(body).unwrap_or_default();
        let said = if err.errcode.is_empty() {
            format!("HTTP {status}")
        } else {
            format!("{} {}: {}", status.as_u16(), err.errcode, err.error)
        };
        let hint = match err.errcode.as_str() {
            "M_UNKNOWN_TOKEN" | "M_MISSING_TOKEN" => format!(
                "the homeserver does not know the access token of service `{}`: log in again and name the new token in `services.{}.token`",
                self.name, self.name
            ),
            "M_FORBIDDEN" => format!(
                "the account may not do this in room {}: it must have joined the room (and, for the topic, have the power level to set it)",
                self.room
            ),
            "M_NOT_FOUND" | "M_UNRECOGNIZED" => format!(
                "no room {} there, or not a Matrix API: check the service's `room` and `url`",
                self.room
            ),
            "M_LIMIT_EXCEEDED" => format!(
                "the homeserver is limiting this account: wait {}s and run the step again (nothing was posted)",
                err.retry_after_ms.unwrap_or(60_000).div_ceil(1000)
            ),
            _ => "run the step again; if it keeps failing, look at the homeserver's log".into(),
        };
        let text = self.scrub(&format!("Matrix at {}, {what}: {said}; {hint}", self.url));
        if status.is_server_error() {
            anyhow::Error::new(Transient(text))
        } else {
            anyhow!(text)
        }
    }

    fn unreachable(&self, what: &str, e: &reqwest::Error) -> anyhow::Error {
        super::http::unanswered(what, "Matrix", &self.url, e, |t| self.scrub(t))
    }
}

fn event_id(answer: &Value) -> Result<String> {
    answer["event_id"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow!("Matrix answered without an `event_id`: {answer}"))
}
