//! Real servers git reaches over the network, started through the project's
//! scripts/services/: OpenSSH's sshd (sshd.sh) and `git http-backend` behind lighttpd with TLS
//! and basic authentication (git-http.sh); and the operator's side: a home with `~/.ssh`, keys,
//! an ssh agent.
//!
//! ssh reads `~/.ssh` from the password database, not from `$HOME`, so the binary under test
//! runs with nss_wrapper (Debian's libnss-wrapper, installed by sshd.sh) and a password file
//! that gives the current user the test's home: the real `~/.ssh` is never read or written.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use super::smtp_server::free_port;

/// A server started by a scripts/services/ script; dropping it stops it.
pub struct Server {
    pub port: u16,
    /// The script's DIR (configuration, keys, logs).
    pub dir: PathBuf,
    pid: i32,
    _tmp: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        super::daemon::stop(self.pid);
    }
}

/// Runs `scripts/services/SCRIPT PORT DIR ARGS...` on a free port (twice, should the port be
/// taken between our look and the server's bind).
fn start(script: &str, args: &[&str]) -> Server {
    let tmp = tempfile::tempdir().expect("a temp dir for the server");
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scripts/services")
        .join(script);
    let mut last = String::new();
    for attempt in 0..2 {
        let port = free_port();
        let dir = tmp.path().join(format!("run-{attempt}"));
        let run = Command::new(&path)
            .arg(port.to_string())
            .arg(&dir)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", path.display()));
        if !run.status.success() {
            last = String::from_utf8_lossy(&run.stderr).into_owned();
            continue;
        }
        let out = String::from_utf8_lossy(&run.stdout);
        let pid = out
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{script} printed no PID: {out:?}"));
        return Server {
            port,
            dir,
            pid,
            _tmp: tmp,
        };
    }
    panic!("{script} failed twice: {last}");
}

/// sshd on 127.0.0.1, letting in the current user with the keys given to [`Server::authorize`].
pub fn sshd() -> Server {
    start("sshd.sh", &[])
}

/// https://127.0.0.1:PORT/git/NAME.git for every repository under `root`, for `user` with
/// `password` alone.
pub fn git_https(root: &Path, user: &str, password: &str) -> Server {
    start("git-http.sh", &[root.to_str().unwrap(), user, password])
}

impl Server {
    /// The server's process: a test may stop it (the server going away).
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// sshd again, on the same port with the same keys, once it was stopped: the server
    /// coming back.
    pub fn restart_sshd(&mut self) {
        super::daemon::stop(self.pid);
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/services/sshd.sh");
        let run = Command::new(&path)
            .arg(self.port.to_string())
            .arg(&self.dir)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", path.display()));
        assert!(
            run.status.success(),
            "sshd did not come back: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        let out = String::from_utf8_lossy(&run.stdout);
        self.pid = out
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("sshd.sh printed no PID: {out:?}"));
    }

    /// sshd: accept the public key `pubkey` (a `.pub` file).
    pub fn authorize(&self, pubkey: &Path) {
        let key = std::fs::read_to_string(pubkey).unwrap();
        let file = self.dir.join("authorized_keys");
        let mut all = std::fs::read_to_string(&file).unwrap_or_default();
        all.push_str(&key);
        std::fs::write(file, all).unwrap();
    }

    /// git-http: the authority that signed the server's certificate.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.join("tls/ca.pem")
    }
}

/// The operator's side: `home` is their home for ssh too (see the module's note).
pub struct Operator {
    pub home: PathBuf,
    passwd: PathBuf,
    group: PathBuf,
    agent: Option<(Child, PathBuf)>,
}

fn id(flag: &str) -> String {
    let out = Command::new("id").arg(flag).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn getent(db: &str, key: &str) -> String {
    let out = Command::new("getent").args([db, key]).output().unwrap();
    assert!(out.status.success(), "getent {db} {key} found nothing");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

impl Operator {
    /// In `home` (the test's HOME), with no ssh configuration yet.
    pub fn new(home: &Path) -> Self {
        let user = id("-un");
        let mut fields: Vec<String> = getent("passwd", &user)
            .split(':')
            .map(str::to_string)
            .collect();
        fields[5] = home.display().to_string();
        let passwd = home.join("nss-passwd");
        std::fs::write(&passwd, format!("{}\n", fields.join(":"))).unwrap();
        let group = home.join("nss-group");
        std::fs::write(&group, format!("{}\n", getent("group", &id("-gn")))).unwrap();
        std::fs::create_dir_all(home.join(".ssh")).unwrap();
        Self {
            home: home.to_path_buf(),
            passwd,
            group,
            agent: None,
        }
    }

    pub fn user(&self) -> String {
        id("-un")
    }

    /// A new key pair without passphrase at `~/.ssh/NAME`; returns the private key's path.
    pub fn keygen(&self, name: &str) -> PathBuf {
        let key = self.home.join(".ssh").join(name);
        let out = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
            .arg(&key)
            .output()
            .unwrap();
        assert!(out.status.success(), "ssh-keygen failed");
        key
    }

    /// `~/.ssh/config` with `Host olympia-upstream` for `server`, and `IdentityFile key` when
    /// given (else only the agent, or nothing, offers a key). The host key is taken on first
    /// use into a file of the test's.
    pub fn ssh_config(&self, server: &Server, key: Option<&Path>) {
        let identity =
            key.map_or_else(String::new, |k| format!("  IdentityFile {}\n", k.display()));
        let config = format!(
            "Host olympia-upstream\n  HostName 127.0.0.1\n  Port {}\n  User {}\n{identity}  \
             IdentitiesOnly {}\n  StrictHostKeyChecking no\n  UserKnownHostsFile {}\n",
            server.port,
            self.user(),
            if key.is_some() { "yes" } else { "no" },
            self.home.join(".ssh/known_hosts_test").display(),
        );
        std::fs::write(self.home.join(".ssh/config"), config).unwrap();
    }

    /// Starts an ssh agent holding `key` alone.
    pub fn agent_with(&mut self, key: &Path) {
        let sock = self.home.join("agent.sock");
        let child = Command::new("ssh-agent")
            .args(["-D", "-a"])
            .arg(&sock)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while !sock.exists() {
            assert!(
                std::time::Instant::now() < deadline,
                "ssh-agent made no socket"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let out = Command::new("ssh-add")
            .arg(key)
            .env("SSH_AUTH_SOCK", &sock)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "ssh-add: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.agent = Some((child, sock));
    }

    /// What the binary's environment needs for ssh to take this home for the operator's, and
    /// the agent's socket when there is one.
    pub fn env(&self) -> Vec<(String, String)> {
        let mut env = vec![
            ("LD_PRELOAD".into(), "libnss_wrapper.so".into()),
            (
                "NSS_WRAPPER_PASSWD".into(),
                self.passwd.display().to_string(),
            ),
            ("NSS_WRAPPER_GROUP".into(), self.group.display().to_string()),
        ];
        if let Some((_, sock)) = &self.agent {
            env.push(("SSH_AUTH_SOCK".into(), sock.display().to_string()));
        }
        env
    }
}

impl Drop for Operator {
    fn drop(&mut self) {
        if let Some((child, _)) = &mut self.agent {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
