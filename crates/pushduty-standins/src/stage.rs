//! A stand-in for the stage site's version endpoint: `GET /__version__` answers
//! `{"version": TAG}` with whatever the deploy job last deployed (404 before anything was),
//! so an `http.check` on it passes only once the deploy of that tag has finished.

use crate::Server;
use crate::http::{Conn, Request, Response};
use serde_json::json;

/// What is deployed now; asked at every request.
pub type Deployed = Box<dyn Fn() -> Option<String> + Send + Sync>;

pub struct Stage {
    server: Server<Deployed>,
}

impl Stage {
    /// On a free loopback port.
    pub fn try_start(deployed: Deployed, port: u16) -> std::io::Result<Self> {
        Server::start_http(port, |_| deployed, serve).map(|server| Self { server })
    }

    /// "http://127.0.0.1:PORT", no trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.server.addr)
    }
}

fn serve(deployed: &Deployed, req: Request, mut conn: Conn) {
    let (path, _) = req.path_and_query();
    let (status, body) = match (req.method.as_str(), path.trim_end_matches('/')) {
        ("GET", "/__version__") => match deployed() {
            Some(tag) => (200, json!({ "version": tag })),
            None => (404, json!({"error": "nothing deployed yet"})),
        },
        _ => (404, json!({"error": "not found"})),
    };
    conn.send(&Response::new(status, "application/json", body.to_string()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::sync::{Arc, Mutex};

    #[test]
    fn the_version_follows_what_is_deployed() {
        let now = Arc::new(Mutex::new(None::<String>));
        let seen = Arc::clone(&now);
        let stage = Stage::try_start(Box::new(move || seen.lock().unwrap().clone()), 0).unwrap();
        let get = || {
            let mut s = TcpStream::connect(stage.server.addr).unwrap();
            s.write_all(b"GET /__version__ HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).unwrap();
            out
        };
        assert!(get().starts_with("HTTP/1.1 404"));
        *now.lock().unwrap() = Some("2015.09.10".into());
        let out = get();
        assert!(out.starts_with("HTTP/1.1 200"), "{out}");
        assert!(out.ends_with(r#"{"version":"2015.09.10"}"#), "{out}");
    }
}
