//! A real SMTP server (aiosmtpd) for the email tests, started through the project's
//! scripts/services/smtp.sh; every message it accepts is a file in its maildir.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A running server; dropping it stops it and waits until it is gone.
pub struct SmtpServer {
    pub port: u16,
    pid: i32,
    maildir: PathBuf,
    _dir: tempfile::TempDir,
}

impl SmtpServer {
    /// On a free port.
    pub fn start() -> Self {
        // A free port may be taken between our look and the server's bind: one more try then.
        let mut last = String::new();
        for _ in 0..2 {
            match Self::try_start_on(free_port()) {
                Ok(s) => return s,
                Err(e) => last = e,
            }
        }
        panic!("smtp.sh failed twice: {last}");
    }

    /// On `port` (a test that first found nothing listening there).
    pub fn start_on(port: u16) -> Self {
        Self::try_start_on(port).unwrap_or_else(|e| panic!("smtp.sh failed: {e}"))
    }

    fn try_start_on(port: u16) -> Result<Self, String> {
        let dir = tempfile::tempdir().expect("a temp dir for the server");
        let maildir = dir.path().join("maildir");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/services/smtp.sh");
        let run = Command::new(&script)
            .arg(port.to_string())
            .arg(&maildir)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
        if !run.status.success() {
            return Err(String::from_utf8_lossy(&run.stderr).into_owned());
        }
        let out = String::from_utf8_lossy(&run.stdout);
        let pid = out
            .trim()
            .parse()
            .map_err(|_| format!("smtp.sh printed no PID: {out:?}"))?;
        Ok(Self {
            port,
            pid,
            maildir,
            _dir: dir,
        })
    }

    /// Every message that arrived, oldest first (the maildir's file names start with the
    /// time of arrival).
    pub fn messages(&self) -> Vec<String> {
        let mut files: Vec<PathBuf> = ["new", "cur"]
            .iter()
            .filter_map(|d| std::fs::read_dir(self.maildir.join(d)).ok())
            .flatten()
            .flatten()
            .map(|e| e.path())
            .collect();
        files.sort();
        files
            .iter()
            .map(|f| std::fs::read_to_string(f).expect("read a message"))
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        super::daemon::stop(self.pid);
    }
}

pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().expect("the port's address").port()
}

/// The value of header `name` in a message as stored (first occurrence, unfolded).
pub fn header(message: &str, name: &str) -> Option<String> {
    let head = message.split("\n\n").next()?;
    let prefix = format!("{}:", name.to_ascii_lowercase());
    head.lines()
        .find(|l| l.to_ascii_lowercase().starts_with(&prefix))
        .map(|l| l[prefix.len()..].trim().to_string())
}
