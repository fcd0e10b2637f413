//! A Slack stand-in: the Web API methods pushduty calls, and an incoming webhook, answered as
//! Slack documents them. A Web API refusal is HTTP 200 with `{"ok": false, "error": CODE}`
//! (`not_authed`, `invalid_auth`, `channel_not_found`, `not_in_channel`, `missing_scope` with
//! `needed` and `provided`); a rate limit is HTTP 429 with `Retry-After` (seconds) and
//! `ratelimited`. Write methods take JSON or a form, read methods (`conversations.history`) a
//! form or the query only. A webhook answers `ok` as text, or a status with the code as text.
//! One channel, in memory; a message keeps the `metadata` it was posted with.

use crate::Server;
use crate::http::{Conn, Request, Response, form};
use serde_json::{Value, json};
use std::sync::{Mutex, MutexGuard};

#[derive(Clone, Debug)]
pub struct Config {
    /// The loopback port to listen on; 0 (or a taken one): any free port.
    pub port: u16,
    /// The bot token the Web API takes.
    pub token: String,
    /// The one channel's id.
    pub channel: String,
    /// The token's scopes.
    pub scopes: Vec<String>,
    /// Whether the bot is a member of the channel (else posting is `not_in_channel`).
    pub member: bool,
    /// The webhook's path (its URL is the secret).
    pub webhook_path: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            port: 0,
            token: "xoxb-st4nd-in-t0ken".into(),
            channel: "C0PUSHDUTY".into(),
            scopes: ["chat:write", "channels:history", "channels:manage"]
                .map(String::from)
                .to_vec(),
            member: true,
            webhook_path: "/services/T0000/B0000/w3bh00k".into(),
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Fault {
    #[default]
    None,
    /// The next `times` Web API calls answer 429 with `Retry-After: secs`.
    RateLimited { times: u32, secs: u64 },
    /// A post is taken (it is in the channel), and its answer never comes.
    TakeThenHang,
    /// Every call answers 500 with an HTML page, as a failing edge does.
    ServerError,
}

/// One message in the channel.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    pub ts: String,
    pub text: String,
    /// What it was posted with, `Null` without.
    pub metadata: Value,
}

pub struct Slack {
    server: Server<Shared>,
}

struct Shared {
    cfg: Config,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    fault: Fault,
    /// "METHOD PATH", in order.
    requests: Vec<String>,
    messages: Vec<Message>,
    topic: String,
    /// The last `ts` given: each message's is later than the one before.
    clock: u64,
}

impl Slack {
    /// On a free loopback port; for tests, where a stand-in that cannot start ends the test.
    #[cfg(any(test, feature = "testing"))]
    pub fn start(cfg: Config) -> Self {
        super::started("Slack", Self::try_start(cfg))
    }

    /// On a free loopback port.
    pub fn try_start(cfg: Config) -> std::io::Result<Self> {
        let port = cfg.port;
        Server::start_http(
            port,
            |_| Shared {
                cfg,
                state: Mutex::new(State::default()),
            },
            serve,
        )
        .map(|server| Self { server })
    }

    /// The Web API's base: "http://127.0.0.1:PORT/api".
    pub fn api_url(&self) -> String {
        format!("{}/api", self.server.url)
    }

    /// The incoming webhook's URL.
    pub fn webhook_url(&self) -> String {
        format!("{}{}", self.server.url, self.server.shared.cfg.webhook_path)
    }

    pub fn token(&self) -> &str {
        &self.server.shared.cfg.token
    }

    pub fn channel(&self) -> &str {
        &self.server.shared.cfg.channel
    }

    /// The channel's messages, oldest first.
    pub fn messages(&self) -> Vec<Message> {
        self.server.shared.lock().messages.clone()
    }

    pub fn topic(&self) -> String {
        self.server.shared.lock().topic.clone()
    }

    pub fn set_fault(&self, fault: Fault) {
        self.server.shared.lock().fault = fault;
    }

    /// "METHOD PATH" of every request, in order.
    pub fn requests(&self) -> Vec<String> {
        self.server.shared.lock().requests.clone()
    }

    /// The channel as it stands, for a rehearsal kept in a folder.
    pub fn snapshot(&self) -> Value {
        let st = self.server.shared.lock();
        json!({
            "topic": st.topic,
            "clock": st.clock,
            "messages": st.messages.iter().map(|m| json!({
                "ts": m.ts, "text": m.text, "metadata": m.metadata,
            })).collect::<Vec<_>>(),
        })
    }

    /// Takes up a [`Slack::snapshot`]: its messages and topic replace this stand-in's.
    pub fn restore(&self, saved: &Value) -> Result<(), String> {
        use crate::saved::{list, str_of, u64_of};
        let read = || -> Result<(Vec<Message>, String, u64), String> {
            let messages = list(saved, "messages")?
                .iter()
                .map(|m| {
                    Ok(Message {
                        ts: str_of(m, "ts")?,
                        text: str_of(m, "text")?,
                        metadata: m.get("metadata").cloned().unwrap_or(Value::Null),
                    })
                })
                .collect::<Result<Vec<_>, String>>()?;
            Ok((messages, str_of(saved, "topic")?, u64_of(saved, "clock")?))
        };
        let (messages, topic, clock) = read().map_err(|e| format!("the Slack state: {e}"))?;
        let mut st = self.server.shared.lock();
        st.messages = messages;
        st.topic = topic;
        st.clock = clock;
        Ok(())
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        super::lock(&self.state)
    }
}

/// `{"ok": false, "error": code}`, with HTTP 200 as the Web API answers a refusal.
fn refuse(code: &str) -> Response {
    ok_json(json!({ "ok": false, "error": code }))
}

fn ok_json(body: Value) -> Response {
    Response::new(200, "application/json; charset=utf-8", body.to_string())
}

/// A request's arguments: a JSON body (write methods only), else a form body and the query.
fn arguments(req: &Request, json_allowed: bool) -> Value {
    let (_, query) = req.path_and_query();
    let json_body = req
        .header("content-type")
        .is_some_and(|t| t.starts_with("application/json"));
    if json_body {
        return if json_allowed {
            serde_json::from_slice(&req.body).unwrap_or(Value::Null)
        } else {
            // Slack reads a read method's arguments from a form only.
            json!({})
        };
    }
    let mut out = serde_json::Map::new();
    for (k, v) in form(query.as_bytes()).into_iter().chain(form(&req.body)) {
        out.insert(k, Value::String(v));
    }
    Value::Object(out)
}

fn route(sh: &Shared, req: &Request, st: &mut State) -> Response {
    let (path, _) = req.path_and_query();
    if path == sh.cfg.webhook_path {
        return webhook(req, st);
    }
    let Some(method) = path.strip_prefix("/api/") else {
        return Response::new(404, "text/plain", "not found");
    };
    if let Fault::RateLimited { times, secs } = st.fault
        && times > 0
    {
        st.fault = Fault::RateLimited {
            times: times - 1,
            secs,
        };
        return Response::new(
            429,
            "application/json; charset=utf-8",
            json!({ "ok": false, "error": "ratelimited" }).to_string(),
        )
        .with("Retry-After", secs.to_string());
    }
    if st.fault == Fault::ServerError {
        return Response::new(500, "text/html", "<html><body>Internal error</body></html>");
    }
    let Some(auth) = req.header("authorization") else {
        return refuse("not_authed");
    };
    if auth.strip_prefix("Bearer ") != Some(sh.cfg.token.as_str()) {
        return refuse("invalid_auth");
    }
    let scope = |needed: &str| {
        (!sh.cfg.scopes.iter().any(|s| s == needed)).then(|| {
            ok_json(json!({
                "ok": false,
                "error": "missing_scope",
                "needed": needed,
                "provided": sh.cfg.scopes.join(","),
            }))
        })
    };
    let write = matches!(method, "chat.postMessage" | "conversations.setTopic");
    let args = arguments(req, write);
    let channel = args["channel"].as_str().unwrap_or_default();
    let known = channel == sh.cfg.channel;
    match method {
        "chat.postMessage" => {
            if let Some(r) = scope("chat:write") {
                return r;
            }
            if !known {
                return refuse("channel_not_found");
            }
            if !sh.cfg.member {
                return refuse("not_in_channel");
            }
            let text = args["text"].as_str().unwrap_or_default();
            if text.is_empty() {
                return refuse("no_text");
            }
            let ts = post(st, text, args["metadata"].clone());
            ok_json(json!({
                "ok": true,
                "channel": channel,
                "ts": ts,
                "message": { "type": "message", "text": text, "ts": ts, "bot_id": "B0PUSHDUTY" },
            }))
        }
        // Any valid token may ask who it is; no scope needed.
        "auth.test" => ok_json(json!({
            "ok": true,
            "url": "https://pushduty-standin.slack.com/",
            "team": "Stand-in",
            "user": "pushduty",
            "team_id": "T0000",
            "user_id": "U0000",
        })),
        "conversations.history" => {
            if let Some(r) = scope("channels:history") {
                return r;
            }
            if !known {
                return refuse("channel_not_found");
            }
            let oldest: f64 = args["oldest"]
                .as_str()
                .and_then(|o| o.parse().ok())
                .unwrap_or(0.0);
            let limit: usize = args["limit"]
                .as_str()
                .and_then(|l| l.parse().ok())
                .unwrap_or(100);
            let with_metadata = args["include_all_metadata"] == "true";
            let newest_first: Vec<Value> = st
                .messages
                .iter()
                .rev()
                .filter(|m| m.ts.parse::<f64>().unwrap_or(0.0) >= oldest)
                .take(limit)
                .map(|m| {
                    let mut v = json!({ "type": "message", "text": m.text, "ts": m.ts });
                    if with_metadata && !m.metadata.is_null() {
                        v["metadata"] = m.metadata.clone();
                    }
                    v
                })
                .collect();
            ok_json(json!({ "ok": true, "messages": newest_first, "has_more": false }))
        }
        "conversations.setTopic" => {
            if let Some(r) = scope("channels:manage") {
                return r;
            }
            if !known {
                return refuse("channel_not_found");
            }
            if !sh.cfg.member {
                return refuse("not_in_channel");
            }
            st.topic = args["topic"].as_str().unwrap_or_default().to_string();
            ok_json(json!({
                "ok": true,
                "channel": { "id": channel, "topic": { "value": st.topic } },
            }))
        }
        _ => refuse("unknown_method"),
    }
}

/// Adds a message to the channel: its `ts`, now's seconds and a counter.
fn post(st: &mut State, text: &str, metadata: Value) -> String {
    st.clock += 1;
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let ts = format!("{secs}.{:06}", st.clock);
    st.messages.push(Message {
        ts: ts.clone(),
        text: text.to_string(),
        metadata,
    });
    ts
}

/// An incoming webhook: JSON with `text`, answered `ok`; a refusal as a status and its code.
fn webhook(req: &Request, st: &mut State) -> Response {
    if req.method != "POST" {
        return Response::new(405, "text/plain", "invalid_request_method");
    }
    if st.fault == Fault::ServerError {
        return Response::new(500, "text/html", "<html><body>Internal error</body></html>");
    }
    let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
    match body["text"].as_str() {
        Some(t) if !t.is_empty() => {
            post(st, t, Value::Null);
            Response::new(200, "text/html", "ok")
        }
        _ if body.is_null() => Response::new(400, "text/html", "invalid_payload"),
        _ => Response::new(400, "text/html", "no_text"),
    }
}

fn serve(sh: &Shared, req: Request, mut conn: Conn) {
    let response = {
        let mut st = sh.lock();
        st.requests.push(req.line());
        let hang = st.fault == Fault::TakeThenHang;
        let response = route(sh, &req, &mut st);
        if hang { None } else { Some(response) }
    };
    match response {
        Some(r) => conn.send(&r),
        None => conn.hang(),
    }
}
