//! A real SMTP server (aiosmtpd) for the email tests, started through the project's
//! scripts/services/smtp.sh; every message it accepts is a file in its maildir. With TLS
//! (STARTTLS or from the first byte) the script makes a certificate signed by an authority of
//! its own, which a client trusts through [`SmtpServer::ca_file`].
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

/// How the server speaks: smtp.sh's modes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Plain,
    /// STARTTLS offered, and required before a message.
    StartTls,
    /// TLS from the first byte.
    Tls,
}

impl SmtpServer {
    /// On a free port.
    pub fn start() -> Self {
        Self::start_as(Mode::Plain)
    }

    /// On a free port, speaking as `mode` says.
    pub fn start_as(mode: Mode) -> Self {
        // A free port may be taken between our look and the server's bind: one more try then.
        let mut last = String::new();
        for _ in 0..2 {
            match Self::try_start_on(free_port(), mode) {
                Ok(s) => return s,
                Err(e) => last = e,
            }
        }
        panic!("smtp.sh failed twice: {last}");
    }

    /// On `port` (a test that first found nothing listening there).
    pub fn start_on(port: u16) -> Self {
        Self::try_start_on(port, Mode::Plain).unwrap_or_else(|e| panic!("smtp.sh failed: {e}"))
    }

    /// The authority that signed the server's certificate (TLS modes only).
    pub fn ca_file(&self) -> PathBuf {
        self.maildir.with_extension("tls").join("ca.pem")
    }

    fn try_start_on(port: u16, mode: Mode) -> Result<Self, String> {
        let dir = tempfile::tempdir().expect("a temp dir for the server");
        let maildir = dir.path().join("maildir");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/services/smtp.sh");
        let run = Command::new(&script)
            .arg(port.to_string())
            .arg(&maildir)
            .arg(match mode {
                Mode::Plain => "plain",
                Mode::StartTls => "starttls",
                Mode::Tls => "tls",
            })
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
