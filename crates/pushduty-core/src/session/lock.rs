//! One live process per push: an exclusive `flock` (`pushduty_platform::lock`) on the
//! session's `lock` file, held for the life of the process and let go by the kernel when it
//! ends, however it ends. Nothing is guessed from pids and the file is never removed, so
//! there is no check-then-act to race.
//! The holder writes who it is into the locked file, for the message a second process shows.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::Duration;

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
            crate::sanitize::clean_line(&self.operator),
            crate::sanitize::clean_line(&self.host),
            self.pid,
            crate::sanitize::clean_line(&self.since)
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("this push is already being run by {}", .0.as_ref().map_or_else(|| "another process (it has not said who yet)".to_string(), Holder::to_string))]
    Held(Option<Holder>),
    #[error(transparent)]
    Io(#[from] anyhow::Error),
}

/// Held while the session is live. Dropping it empties the holder details, then closes the
/// file, which releases the lock.
#[derive(Debug)]
pub struct Lock {
    file: File,
    path: std::path::PathBuf,
    pub holder: Holder,
}

/// Takes the exclusive lock without waiting: `false` when another open file holds it.
fn try_flock(file: &File, path: &Path) -> Result<bool, LockError> {
    pushduty_platform::lock::try_lock_exclusive(file).map_err(|e| {
        LockError::Io(anyhow::Error::new(e).context(format!("locking {}", path.display())))
    })
}

fn read_holder(file: &mut File) -> Option<Holder> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.read_to_string(&mut text).ok()?;
    serde_json::from_str(&text).ok()
}

impl Lock {
    /// Takes the lock, or says who has it. The notice returned names a holder that ended
    /// without letting go (a crash, a kill -9): its details were still in the file.
    pub fn acquire(
        path: &Path,
        operator: &str,
        since: &str,
    ) -> Result<(Lock, Option<String>), LockError> {
        let mut file = super::private_file(
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false),
        )
        .open(path)
        .with_context(|| format!("opening the lock {}", path.display()))?;
        if !try_flock(&file, path)? {
            // The holder writes its details right after it takes the lock: give it a moment.
            // A lock let go a moment ago may also come free: a process forked meanwhile keeps
            // the file open (and so the lock) until it execs.
            let mut free = false;
            for _ in 0..10 {
                if let Some(h) = read_holder(&mut file) {
                    return Err(LockError::Held(Some(h)));
                }
                std::thread::sleep(Duration::from_millis(20));
                if try_flock(&file, path)? {
                    free = true;
                    break;
                }
            }
            if !free {
                return Err(LockError::Held(None));
            }
        }
        let notice = read_holder(&mut file).map(|h| {
            format!("the last session of this push ({h}) ended without closing: resuming it")
        });
        let me = Holder {
            pid: std::process::id(),
            host: pushduty_platform::process::hostname(),
            operator: operator.to_string(),
            since: since.to_string(),
        };
        let text = serde_json::to_string(&me).context("encoding the lock holder")?;
        // Not synced: the lock itself is the kernel's, and the holder's name only needs to
        // outlive this process (a crash), which the page cache does; not a power cut.
        file.set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| file.write_all(text.as_bytes()))
            .with_context(|| format!("writing the lock {}", path.display()))?;
        Ok((
            Lock {
                file,
                path: path.to_path_buf(),
                holder: me,
            },
            notice,
        ))
    }
}

impl Lock {
    /// Whether the file this holds is still the lock at its path. A lock file deleted or
    /// replaced (by hand, by a clean-up) lets another process take a new one at the same
    /// path while this one still holds the old: both would act. Checked before every journal
    /// write, so the second writer stops instead of acting.
    pub fn check(&self) -> Result<()> {
        use std::os::unix::fs::MetadataExt;
        let held = self
            .file
            .metadata()
            .with_context(|| format!("reading the lock {}", self.path.display()))?;
        let replaced = match std::fs::metadata(&self.path) {
            Ok(now) => now.dev() != held.dev() || now.ino() != held.ino(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
            Err(e) => {
                return Err(anyhow::Error::new(e)
                    .context(format!("reading the lock {}", self.path.display())));
            }
        };
        if replaced {
            anyhow::bail!(
                "the lock {} was deleted or replaced while this session held it: another \
                 pushduty may be acting on this push; nothing more is written here: quit, and \
                 run again once only one is open",
                self.path.display()
            );
        }
        Ok(())
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Still locked here: nobody else can be writing. An empty file tells the next holder
        // that this one ended properly.
        let _ = self.file.set_len(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_let_go_a_moment_ago_is_taken() {
        // Another open file of the lock, without holder details, that closes soon after: what
        // a process forked while a session ended holds until it execs.
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("lock");
        let other = File::create(&p).unwrap();
        assert!(try_flock(&other, &p).unwrap());
        let closer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(60));
            drop(other);
        });
        let taken = Lock::acquire(&p, "andym", "now");
        closer.join().unwrap();
        assert!(taken.is_ok(), "{:?}", taken.err());
        // Held for good (and no details to read): refused after the wait.
        let stuck = File::open(&p).unwrap();
        drop(taken);
        assert!(try_flock(&stuck, &p).unwrap());
        assert!(matches!(
            Lock::acquire(&p, "kumar", "now"),
            Err(LockError::Held(None))
        ));
    }

    #[test]
    fn a_deleted_or_replaced_lock_is_noticed_by_its_holder() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("lock");
        let (first, _) = Lock::acquire(&p, "andym", "now").unwrap();
        first.check().unwrap();
        std::fs::remove_file(&p).unwrap();
        let gone = first.check().unwrap_err().to_string();
        assert!(gone.contains("was deleted or replaced"), "{gone}");
        // A second process takes a new lock at the same path: it may act, the first may not.
        let (second, _) = Lock::acquire(&p, "kumar", "now").unwrap();
        second.check().unwrap();
        assert!(first.check().is_err());
    }

    #[test]
    fn a_live_holder_is_refused_and_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("lock");
        let (held, notice) = Lock::acquire(&p, "andym", "2015-09-08T10:00:00Z").unwrap();
        assert!(notice.is_none());
        match Lock::acquire(&p, "kumar", "now") {
            Err(LockError::Held(Some(h))) => {
                assert_eq!(h.operator, "andym");
                assert_eq!(h.pid, std::process::id());
                let msg = LockError::Held(Some(h)).to_string();
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
        assert!(p.exists(), "the lock file is never removed");
        let (_again, notice) = Lock::acquire(&p, "kumar", "now").unwrap();
        assert!(notice.is_none(), "a clean release leaves no notice");
    }

    #[test]
    fn details_left_by_a_dead_holder_do_not_block() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("lock");
        // What a kill -9'd holder leaves: its details, but no lock (the kernel dropped it).
        let ghost = Holder {
            pid: 1,
            host: pushduty_platform::process::hostname(),
            operator: "ghost".into(),
            since: "2015-09-08T09:00:00Z".into(),
        };
        std::fs::write(&p, serde_json::to_string(&ghost).unwrap()).unwrap();
        let (lock, notice) = Lock::acquire(&p, "andym", "now").unwrap();
        let notice = notice.unwrap();
        assert!(notice.contains("ghost"), "{notice}");
        assert_eq!(lock.holder.operator, "andym");
        let on_disk: Holder = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        assert_eq!(on_disk.pid, std::process::id());
    }

    #[test]
    fn a_hostile_operator_name_cannot_reach_the_terminal() {
        let h = Holder {
            pid: 7,
            host: "h".into(),
            operator: "\x1b]0;pwned\x07".into(),
            since: "x".into(),
        };
        assert!(!LockError::Held(Some(h)).to_string().contains('\x1b'));
    }
}
