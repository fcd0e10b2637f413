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

    /// Plays `fault` on every request instead of the API, whatever it is asked (see
    /// [`crate::http::WireFault`]); `WireFault::None` ends it.
    pub fn set_wire_fault(&self, fault: crate::http::WireFault) {
        self.server.set_wire_fault(fault);
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
    use crate::http::get;
    use std::sync::{Arc, Mutex};

    #[test]
    fn the_version_follows_what_is_deployed() {
        let now = Arc::new(Mutex::new(None::<String>));
        let seen = Arc::clone(&now);
        let stage = Stage::try_start(Box::new(move || seen.lock().unwrap().clone()), 0).unwrap();
        let version = format!("{}/__version__", stage.url());
        assert_eq!(get(&version, &[]).0, 404);
        *now.lock().unwrap() = Some("2015.09.10".into());
        let (status, body) = get(&version, &[]);
        assert_eq!(status, 200, "{body}");
        assert_eq!(body, r#"{"version":"2015.09.10"}"#);
    }
}
