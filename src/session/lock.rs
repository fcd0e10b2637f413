//! One live session per push: a lock file created with `O_EXCL`, naming who holds it.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Holder {
    pub pid: u32,
    pub host: String,
    pub operator: String,
    pub since: String,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} on {} (pid {}) since {}",
            self.operator, self.host, self.pid, self.since
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("this push is already being run by {0}")]
    Held(Holder),
    #[error(transparent)]
    Io(#[from] anyhow::Error),
}

/// Held while the session is live; the file is removed on drop.
#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
    pub holder: Holder,
}

pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates within it on success.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "unknown".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// Whether a process of this host is alive; `kill(pid, 0)` fails with ESRCH when it is not.
pub fn pid_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks that the process exists and may be signalled.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

impl Lock {
    /// Takes the lock. A lock left by a dead process of this host is taken over; the notice
    /// returned says whose it was.
    pub fn acquire(
        path: &Path,
        operator: &str,
        since: &str,
    ) -> Result<(Lock, Option<String>), LockError> {
        let me = Holder {
            pid: std::process::id(),
            host: hostname(),
            operator: operator.to_string(),
            since: since.to_string(),
        };
        let mut notice = None;
        for _ in 0..2 {
            match OpenOptions::new().write(true).create_new(true).open(path) {
                Ok(mut f) => {
                    let text = serde_json::to_string(&me).context("encoding the lock")?;
                    f.write_all(text.as_bytes())
                        .and_then(|()| f.sync_all())
                        .with_context(|| format!("writing the lock {}", path.display()))?;
                    return Ok((
                        Lock {
                            path: path.to_path_buf(),
                            holder: me,
                        },
                        notice,
                    ));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let text = std::fs::read_to_string(path).unwrap_or_default();
                    let held: Option<Holder> = serde_json::from_str(&text).ok();
                    match held {
                        Some(h) if h.host != me.host || pid_alive(h.pid) => {
                            return Err(LockError::Held(h));
                        }
                        // Dead holder on this host, or a lock torn by a crash while written.
                        stale => {
                            notice = Some(match stale {
                                Some(h) => {
                                    format!("took over a stale lock of {h}: that process is gone")
                                }
                                None => "took over an unreadable lock file".to_string(),
                            });
                            std::fs::remove_file(path).with_context(|| {
                                format!("removing the stale lock {}", path.display())
                            })?;
                        }
                    }
                }
                Err(e) => {
                    return Err(LockError::Io(
                        anyhow::Error::new(e)
                            .context(format!("creating the lock {}", path.display())),
                    ));
                }
            }
        }
        Err(LockError::Io(anyhow::anyhow!(
            "could not take the lock {}: it keeps coming back",
            path.display()
        )))
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_holder_is_refused_and_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("lock");
        let (held, notice) = Lock::acquire(&p, "andym", "2015-09-08T10:00:00Z").unwrap();
        assert!(notice.is_none());
        match Lock::acquire(&p, "kumar", "now") {
            Err(LockError::Held(h)) => {
                assert_eq!(h.operator, "andym");
                assert_eq!(h.pid, std::process::id());
                let msg = LockError::Held(h).to_string();
                assert!(msg.contains("andym on "), "{msg}");
                assert!(
                    msg.contains(&format!("(pid {})", std::process::id())),
                    "{msg}"
                );
                assert!(msg.contains("since 2015-09-08T10:00:00Z"), "{msg}");
            }
            other => panic!("expected refusal, got {other:?}"),
        }
        drop(held);
        assert!(!p.exists(), "released on drop");
        assert!(Lock::acquire(&p, "kumar", "now").is_ok());
    }

    #[test]
    fn a_stale_lock_is_taken_over_with_a_notice() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("lock");
        // A child that has exited and been reaped: its pid is dead.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let stale = Holder {
            pid: dead,
            host: hostname(),
            operator: "ghost".into(),
            since: "2015-09-08T09:00:00Z".into(),
        };
        std::fs::write(&p, serde_json::to_string(&stale).unwrap()).unwrap();
        let (lock, notice) = Lock::acquire(&p, "andym", "now").unwrap();
        let notice = notice.unwrap();
        assert!(notice.contains("ghost"), "{notice}");
        assert_eq!(lock.holder.operator, "andym");
        let on_disk: Holder = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        assert_eq!(on_disk.pid, std::process::id());
    }

    #[test]
    fn another_hosts_lock_is_never_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("lock");
        let other = Holder {
            pid: 1,
            host: "elsewhere.example".into(),
            operator: "kumar".into(),
            since: "x".into(),
        };
        std::fs::write(&p, serde_json::to_string(&other).unwrap()).unwrap();
        assert!(matches!(
            Lock::acquire(&p, "andym", "now"),
            Err(LockError::Held(h)) if h.host == "elsewhere.example"
        ));
    }
}
