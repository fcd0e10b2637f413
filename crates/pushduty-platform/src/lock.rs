//! An exclusive advisory lock on an open file (`flock`: Linux and macOS both have it, held by
//! the open file and let go by the kernel when the last descriptor closes, however the
//! process ends).

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;

/// Takes the exclusive lock without waiting: `Ok(false)` when another open file holds it.
pub fn try_lock_exclusive(file: &File) -> io::Result<bool> {
    // SAFETY: flock on a descriptor the caller owns; it only sets a lock on the open file.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc == 0 {
        return Ok(true);
    }
    let err = io::Error::last_os_error();
    if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
        return Ok(false);
    }
    Err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_open_files_contend_and_the_lock_goes_with_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("lock");
        let first = File::create(&p).unwrap();
        let second = File::open(&p).unwrap();
        assert!(try_lock_exclusive(&first).unwrap());
        assert!(!try_lock_exclusive(&second).unwrap(), "two holders at once");
        drop(first);
        // A process forked meanwhile by another test holds a copy of every descriptor until
        // it execs (which closes them): the lock goes with the last copy, within moments.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
        while !try_lock_exclusive(&second).unwrap() {
            assert!(std::time::Instant::now() < deadline, "not let go on close");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn another_process_is_refused_while_this_one_holds_it() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("lock");
        let held = File::create(&p).unwrap();
        assert!(try_lock_exclusive(&held).unwrap());
        // flock(1) from util-linux: exit 1 when it cannot take the lock at once.
        let other = |p: &std::path::Path| {
            std::process::Command::new("flock")
                .args(["--nonblock", "--conflict-exit-code", "7"])
                .arg(p)
                .arg("true")
                .status()
                .unwrap()
                .code()
        };
        assert_eq!(other(&p), Some(7));
        drop(held);
        // As above: a child another test forked meanwhile may hold a copy for a moment.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
        while other(&p) != Some(0) {
            assert!(std::time::Instant::now() < deadline, "not let go on close");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }
}
