//! A Matrix homeserver stand-in: the client-server API calls pushduty makes in one room, as the
//! specification answers them. Errors are JSON `{"errcode", "error"}` with the status the
//! spec gives (401 `M_MISSING_TOKEN`/`M_UNKNOWN_TOKEN`, 403 `M_FORBIDDEN` for a room the
//! account is not in, 404 `M_NOT_FOUND` for a state event never set, 429 `M_LIMIT_EXCEEDED`
//! with `retry_after_ms`). A message sent twice under one transaction id is stored once and
//! answered with the same event id, as a homeserver does for one access token. The real
//! homeserver (Synapse) is tested too; this one stands in where none can run: rehearsals, and
//! the tests of a whole push.

use crate::Server;
use crate::http::{Conn, Request, Response, decode};
use serde_json::{Value, json};
use std::sync::{Mutex, MutexGuard};

#[derive(Clone, Debug)]
pub struct Config {
    /// The loopback port to listen on; 0 (or a taken one): any free port.
    pub port: u16,
    /// The access token of the one account.
    pub token: String,
    /// The account's user id.
    pub user: String,
    /// The one room the account has joined.
    pub room: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            port: 0,
            token: "syt_c3RhbmQtaW4_t0ken".into(),
            user: "@pushduty:example.org".into(),
            room: "!push:example.org".into(),
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Fault {
    #[default]
    None,
    /// The next `times` calls answer 429 with `retry_after_ms`.
    RateLimited { times: u32, ms: u64 },
    /// A send is stored, and its answer never comes.
    TakeThenHang,
    /// The next `times` calls answer 502 with an HTML page, as a proxy in front of a
    /// restarting homeserver does.
    BadGateway { times: u32 },
}

/// One message in the room.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    pub event_id: String,
    pub sender: String,
    pub body: String,
    /// Milliseconds since the epoch.
    pub ts: i64,
    pub txn: String,
}

pub struct Matrix {
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
    topic: Option<String>,
    /// Events made so far, for their ids.
    events: u64,
}

impl Matrix {
    /// On a free loopback port; for tests, where a stand-in that cannot start ends the test.
    #[cfg(any(test, feature = "testing"))]
    pub fn start(cfg: Config) -> Self {
        super::started("Matrix", Self::try_start(cfg))
    }

    /// On `cfg.port`, or a free loopback port.
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

    /// The homeserver's base URL: "http://127.0.0.1:PORT".
    pub fn url(&self) -> &str {
        &self.server.url
    }

    pub fn token(&self) -> &str {
        &self.server.shared.cfg.token
    }

    pub fn room(&self) -> &str {
        &self.server.shared.cfg.room
    }

    /// The room's messages, oldest first.
    pub fn messages(&self) -> Vec<Message> {
        self.server.shared.lock().messages.clone()
    }

    pub fn topic(&self) -> Option<String> {
        self.server.shared.lock().topic.clone()
    }

    pub fn set_fault(&self, fault: Fault) {
        self.server.shared.lock().fault = fault;
    }

    /// "METHOD PATH" of every request, in order.
    pub fn requests(&self) -> Vec<String> {
        self.server.shared.lock().requests.clone()
    }

    /// The room as it stands, for a rehearsal kept in a folder.
    pub fn snapshot(&self) -> Value {
        let st = self.server.shared.lock();
        json!({
            "topic": st.topic,
            "events": st.events,
            "messages": st.messages.iter().map(|m| json!({
                "event_id": m.event_id, "sender": m.sender, "body": m.body,
                "ts": m.ts, "txn": m.txn,
            })).collect::<Vec<_>>(),
        })
    }

    /// Takes up a [`Matrix::snapshot`]: its messages and topic replace this stand-in's.
    pub fn restore(&self, saved: &Value) -> Result<(), String> {
        use crate::saved::{i64_of, list, str_of, u64_of};
        let read = || -> Result<State, String> {
            let messages = list(saved, "messages")?
                .iter()
                .map(|m| {
                    Ok(Message {
                        event_id: str_of(m, "event_id")?,
                        sender: str_of(m, "sender")?,
                        body: str_of(m, "body")?,
                        ts: i64_of(m, "ts")?,
                        txn: str_of(m, "txn")?,
                    })
                })
                .collect::<Result<Vec<_>, String>>()?;
            let topic = match &saved["topic"] {
                Value::Null => None,
                Value::String(t) => Some(t.clone()),
                _ => return Err("`topic` is not text".into()),
            };
            Ok(State {
                messages,
                topic,
                events: u64_of(saved, "events")?,
                ..State::default()
            })
        };
        let state = read().map_err(|e| format!("the Matrix state: {e}"))?;
        let mut st = self.server.shared.lock();
        st.messages = state.messages;
        st.topic = state.topic;
        st.events = state.events;
        Ok(())
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        super::lock(&self.state)
    }
}

fn error(status: u16, errcode: &str, message: &str) -> Response {
    Response::new(
        status,
        "application/json",
        json!({ "errcode": errcode, "error": message }).to_string(),
    )
}

fn ok(body: Value) -> Response {
    Response::new(200, "application/json", body.to_string())
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn new_event(st: &mut State) -> String {
    st.events += 1;
    format!("$ev{:06}standin", st.events)
}

fn route(sh: &Shared, req: &Request, st: &mut State) -> Response {
    let (path, query) = req.path_and_query();
    if let Fault::RateLimited { times, ms } = st.fault
        && times > 0
    {
        st.fault = Fault::RateLimited {
            times: times - 1,
            ms,
        };
        return Response::new(
            429,
            "application/json",
            json!({ "errcode": "M_LIMIT_EXCEEDED", "error": "Too Many Requests", "retry_after_ms": ms })
                .to_string(),
        );
    }
    if let Fault::BadGateway { times } = st.fault
        && times > 0
    {
        st.fault = Fault::BadGateway { times: times - 1 };
        return Response::new(
            502,
            "text/html",
            "<html><body>502 Bad Gateway</body></html>",
        );
    }
    let Some(rest) = path.strip_prefix("/_matrix/client/v3/") else {
        return error(404, "M_UNRECOGNIZED", "Unrecognized request");
    };
    let token = req
        .header("authorization")
        .and_then(|a| a.strip_prefix("Bearer "));
    match token {
        None => return error(401, "M_MISSING_TOKEN", "Missing access token"),
        Some(t) if t != sh.cfg.token => {
            return error(401, "M_UNKNOWN_TOKEN", "Invalid access token passed.");
        }
        Some(_) => {}
    }
    let parts: Vec<String> = rest.split('/').map(|p| decode(p.as_bytes())).collect();
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    match (req.method.as_str(), parts.as_slice()) {
        ("GET", ["account", "whoami"]) => ok(json!({ "user_id": sh.cfg.user })),
        (_, ["rooms", room, ..]) if *room != sh.cfg.room => error(
            403,
            "M_FORBIDDEN",
            &format!("User {} not in room {room}", sh.cfg.user),
        ),
        ("PUT", ["rooms", _, "send", "m.room.message", txn]) => {
            let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
            let Some(text) = body["body"].as_str() else {
                return error(400, "M_BAD_JSON", "Content is missing a `body`");
            };
            if let Some(m) = st.messages.iter().find(|m| m.txn == *txn) {
                return ok(json!({ "event_id": m.event_id }));
            }
            let event_id = new_event(st);
            st.messages.push(Message {
                event_id: event_id.clone(),
                sender: sh.cfg.user.clone(),
                body: text.to_string(),
                ts: now_ms(),
                txn: txn.to_string(),
            });
            ok(json!({ "event_id": event_id }))
        }
        (
            "PUT",
            ["rooms", _, "state", "m.room.topic", ""] | ["rooms", _, "state", "m.room.topic"],
        ) => {
            let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
            let Some(topic) = body["topic"].as_str() else {
                return error(400, "M_BAD_JSON", "Content is missing a `topic`");
            };
            st.topic = Some(topic.to_string());
            ok(json!({ "event_id": new_event(st) }))
        }
        (
            "GET",
            ["rooms", _, "state", "m.room.topic", ""] | ["rooms", _, "state", "m.room.topic"],
        ) => match &st.topic {
            Some(t) => ok(json!({ "topic": t })),
            None => error(404, "M_NOT_FOUND", "Event not found."),
        },
        ("GET", ["rooms", _, "messages"]) => {
            let limit: usize = crate::http::form(query.as_bytes())
                .into_iter()
                .find(|(k, _)| k == "limit")
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(10);
            let chunk: Vec<Value> = st
                .messages
                .iter()
                .rev()
                .take(limit)
                .map(|m| {
                    json!({
                        "type": "m.room.message",
                        "event_id": m.event_id,
                        "sender": m.sender,
                        "origin_server_ts": m.ts,
                        "content": { "msgtype": "m.text", "body": m.body },
                    })
                })
                .collect();
            ok(json!({ "chunk": chunk, "start": "t0", "end": "t1" }))
        }
        _ => error(404, "M_UNRECOGNIZED", "Unrecognized request"),
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
