//! A real Matrix homeserver (Synapse) for the chat tests, started through the project's
//! scripts/services/synapse.sh with a user and a room; read back through the client-server API.
//! Where Synapse cannot be installed or started (no network for its first install), a test is
//! skipped with a line saying why, except under CI (`CI=true`), where that fails the test.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// A running homeserver; dropping it stops it and waits until it is gone.
pub struct Synapse {
    /// "http://127.0.0.1:PORT".
    pub url: String,
    pub token: String,
    pub room: String,
    pid: i32,
    _dir: tempfile::TempDir,
}

impl Drop for Synapse {
    fn drop(&mut self) {
        super::daemon::stop(self.pid);
    }
}

impl Synapse {
    /// A fresh homeserver and room, or `None` (said on stderr) where it cannot run here and
    /// this is not CI.
    pub fn start() -> Option<Self> {
        let mut last = String::new();
        // A free port may be taken between our look and the server's bind: one more try then.
        for attempt in 0..2 {
            match Self::try_start(attempt) {
                Ok(s) => return Some(s),
                Err(e) => last = e,
            }
        }
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("synapse.sh failed (CI needs it): {last}");
        }
        eprintln!("skipped: no Matrix homeserver here (synapse.sh: {last})");
        None
    }

    fn try_start(attempt: u32) -> Result<Self, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let port = free_port();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/services/synapse.sh");
        let run = Command::new(&script)
            .arg(port.to_string())
            .arg(dir.path().join(format!("work-{attempt}")))
            .output()
            .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
        if !run.status.success() {
            return Err(String::from_utf8_lossy(&run.stderr).into_owned());
        }
        let out = String::from_utf8_lossy(&run.stdout).into_owned();
        let mut words = out.split_whitespace();
        let (Some(pid), Some(token), Some(room)) = (words.next(), words.next(), words.next())
        else {
            return Err(format!("synapse.sh printed no `PID TOKEN ROOM`: {out:?}"));
        };
        Ok(Self {
            url: format!("http://127.0.0.1:{port}"),
            token: token.into(),
            room: room.into(),
            pid: pid.parse().map_err(|_| format!("not a PID: {pid}"))?,
            _dir: dir,
        })
    }

    /// GET of a client-server API path under the room, as the test's user; the JSON answer.
    fn get(&self, path: &str) -> Value {
        let url = format!(
            "{}/_matrix/client/v3/rooms/{}/{path}",
            self.url,
            pushduty::urls::encode(&self.room)
        );
        let out = Command::new("curl")
            .args(["-fsS", "-H"])
            .arg(format!("Authorization: Bearer {}", self.token))
            .arg(&url)
            .output()
            .expect("curl runs");
        assert!(
            out.status.success(),
            "GET {path}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("the API answers JSON")
    }

    /// The bodies of the room's text messages, oldest first.
    pub fn messages(&self) -> Vec<String> {
        let page = self.get("messages?dir=b&limit=100");
        let mut bodies: Vec<String> = page["chunk"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["type"] == "m.room.message")
            .filter_map(|e| e["content"]["body"].as_str().map(str::to_string))
            .collect();
        bodies.reverse();
        bodies
    }

    /// The room's topic, as its state says.
    pub fn topic(&self) -> Option<String> {
        self.get("state/m.room.topic/")["topic"]
            .as_str()
            .map(str::to_string)
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}
