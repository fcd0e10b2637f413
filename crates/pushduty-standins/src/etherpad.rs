//! An Etherpad stand-in: the HTTP API calls of SERVICES.md answered as Etherpad 1.8.14 answers
//! them (checked against the real server): `{code, message, data}`, code 1 with HTTP 200, a
//! wrong key as code 4 with HTTP 401, an unknown function as code 3 with HTTP 404, an unknown
//! API version as an HTML 404. Pads live in memory; text is kept as Etherpad keeps it (CRLF as
//! LF, tabs as eight spaces, one closing newline; appended text goes before that newline).

use crate::Server;
use crate::http::{Conn, Request, Response, form, object};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

/// What a pad holds when `createPad` is given no text.
pub const WELCOME: &str = "Welcome to Etherpad!\n\nThis pad text is synchronized as you type.\n";

#[derive(Clone, Debug)]
pub struct Config {
    /// The loopback port to listen on; 0 (or a taken one): any free port.
    pub port: u16,
    pub key: String,
    pub api_version: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            port: 0,
            key: "ep-k3y-s3cret".into(),
            api_version: "1.2.15".into(),
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Fault {
    #[default]
    None,
    /// Requests are read and never answered.
    Hang,
    /// Answers are cut in half.
    Malformed,
    /// Every call answers code 2 (internal error), as Etherpad does when its database fails.
    Internal,
}

pub struct Etherpad {
    server: Server<Shared>,
}

struct Shared {
    cfg: Config,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    fault: Fault,
    /// "METHOD TARGET FUNCTION", in order (the target as sent, query string included).
    requests: Vec<String>,
    pads: BTreeMap<String, String>,
}

impl Etherpad {
    /// On a free loopback port; for tests, where a stand-in that cannot start ends the test.
    #[cfg(any(test, feature = "testing"))]
    pub fn start(cfg: Config) -> Self {
        super::started("Etherpad", Self::try_start(cfg))
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

    /// "http://127.0.0.1:PORT", no trailing slash.
    pub fn url(&self) -> &str {
        &self.server.url
    }

    /// Plays `fault` on every request instead of the API, whatever it is asked (see
    /// [`crate::http::WireFault`]); `WireFault::None` ends it.
    pub fn set_wire_fault(&self, fault: crate::http::WireFault) {
        self.server.set_wire_fault(fault);
    }

    pub fn key(&self) -> &str {
        &self.server.shared.cfg.key
    }

    /// A pad's text as `getText` gives it.
    pub fn pad(&self, id: &str) -> Option<String> {
        self.server.shared.lock().pads.get(id).cloned()
    }

    /// Makes or overwrites a pad, as someone typing in it would.
    pub fn set_pad(&self, id: &str, text: &str) {
        self.server
            .shared
            .lock()
            .pads
            .insert(id.into(), stored(text));
    }

    /// Every pad and its text, as JSON; a stand-in started later takes them up with
    /// [`Etherpad::restore`].
    pub fn snapshot(&self) -> Value {
        json!({ "pads": self.server.shared.lock().pads })
    }

    /// Takes up an [`Etherpad::snapshot`]: its pads replace this stand-in's, text as kept.
    pub fn restore(&self, saved: &Value) -> Result<(), String> {
        let pads = crate::saved::field(saved, "pads")
            .and_then(|pads| {
                pads.as_object()
                    .ok_or_else(|| "`pads` is not a map".to_string())
            })
            .and_then(|pads| {
                pads.iter()
                    .map(|(id, text)| match text {
                        Value::String(t) => Ok((id.clone(), t.clone())),
                        _ => Err(format!("the pad `{id}` holds something that is not text")),
                    })
                    .collect::<Result<BTreeMap<_, _>, String>>()
            })
            .map_err(|e| format!("the Etherpad state: {e}"))?;
        self.server.shared.lock().pads = pads;
        Ok(())
    }

    pub fn set_fault(&self, fault: Fault) {
        self.server.shared.lock().fault = fault;
    }

    pub fn requests(&self) -> Vec<String> {
        self.server.shared.lock().requests.clone()
    }

    /// The API functions called, in order.
    pub fn calls(&self) -> Vec<String> {
        self.requests()
            .iter()
            .filter_map(|r| r.rsplit(' ').next().map(str::to_string))
            .collect()
    }
}

/// Text as Etherpad stores it: it always adds a closing newline, even after one.
fn stored(text: &str) -> String {
    format!("{}\n", text.replace("\r\n", "\n").replace('\t', "        "))
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        super::lock(&self.state)
    }

    fn route(&self, req: &Request, fault: Fault) -> Response {
        let (path, query) = req.path_and_query();
        let function = match path.strip_prefix("/api/").and_then(|r| r.split_once('/')) {
            Some((version, function)) if version == self.cfg.api_version => function,
            _ => {
                return Response::new(
                    404,
                    "text/html; charset=utf-8",
                    format!(
                        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Error</title>\n</head>\n<body>\n<pre>Cannot {} {path}</pre>\n</body>\n</html>\n",
                        req.method
                    ),
                );
            }
        };
        let mut params = form(query.as_bytes());
        if req.method == "POST" {
            params.extend(form(&req.body));
        }
        let get = |k: &str| {
            params
                .iter()
                .rev()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
        };
        let answer = |status: u16, code: u8, message: &str, data: Value| {
            let body = object! {"code": code, "message": message, "data": data};
            Response::new(status, "application/json; charset=utf-8", body)
        };
        if ![
            "createPad",
            "getText",
            "setText",
            "appendText",
            "checkToken",
        ]
        .contains(&function)
        {
            return answer(404, 3, "no such function", Value::Null);
        }
        if get("apikey").as_deref() != Some(self.cfg.key.as_str()) {
            return answer(401, 4, "no or wrong API Key", Value::Null);
        }
        if function == "checkToken" {
            return answer(200, 0, "ok", Value::Null);
        }
        if fault == Fault::Internal {
            return answer(500, 2, "internal error", Value::Null);
        }
        let Some(pad) = get("padID") else {
            return answer(200, 1, "padID is missing", Value::Null);
        };
        if pad.is_empty() || pad.contains(['/', '?', '&', '#']) {
            return answer(
                200,
                1,
                "malformed padID: Remove special characters",
                Value::Null,
            );
        }
        let mut st = self.lock();
        let exists = st.pads.contains_key(&pad);
        match function {
            "createPad" if exists => answer(200, 1, "padID does already exist", Value::Null),
            "createPad" => {
                let text = get("text").map_or_else(|| WELCOME.to_string(), |t| stored(&t));
                st.pads.insert(pad, text);
                answer(200, 0, "ok", Value::Null)
            }
            _ if !exists => answer(200, 1, "padID does not exist", Value::Null),
            "getText" => {
                let text = st.pads[&pad].clone();
                answer(200, 0, "ok", json!({ "text": text }))
            }
            "setText" => {
                let Some(text) = get("text") else {
                    return answer(200, 1, "text is not a string", Value::Null);
                };
                st.pads.insert(pad, stored(&text));
                answer(200, 0, "ok", Value::Null)
            }
            _ => {
                let Some(text) = get("text") else {
                    return answer(200, 1, "text is not a string", Value::Null);
                };
                // Only a pad that exists reaches here; the check above said so.
                let Some(now) = st.pads.get_mut(&pad) else {
                    return answer(200, 1, "padID does not exist", Value::Null);
                };
                // Before the pad's closing newline, as Etherpad does.
                now.pop();
                now.push_str(&stored(&text));
                answer(200, 0, "ok", Value::Null)
            }
        }
    }
}

fn serve(sh: &Shared, req: Request, mut conn: Conn) {
    let (path, _) = req.path_and_query();
    let function = path.rsplit('/').next().unwrap_or_default();
    let fault = {
        let mut st = sh.lock();
        st.requests.push(format!("{} {function}", req.line()));
        st.fault
    };
    if fault == Fault::Hang {
        return conn.hang();
    }
    let mut response = sh.route(&req, fault);
    if fault == Fault::Malformed {
        response = response.cut_in_half();
    }
    conn.send(&response.headed("X-Powered-By", "Express"));
}
