//! Processes and process groups: signalling a group, asking whether a process or group still
//! lives and when its leader started, starting a child in a session of its own. The calls are
//! POSIX on both systems; what a process is (its state, its start time, the members of a
//! group) is read from `/proc` on Linux and from libproc on macOS.

use std::io;
use std::os::unix::process::CommandExt;
use std::process::Command;

#[cfg(target_os = "linux")]
#[path = "process/linux.rs"]
mod os;
#[cfg(target_os = "macos")]
#[path = "process/macos.rs"]
mod os;

/// What a process is doing, as far as pushduty cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Running or sleeping: it may still act.
    Live,
    /// Stopped by a signal (SIGSTOP, SIGTSTP): it acts once continued.
    Stopped,
    /// Ended, waiting for its parent to reap it: it runs nothing any more.
    Zombie,
}

/// When process `pid` started, in a unit of the system's own (clock ticks since boot on
/// Linux, microseconds since the epoch on macOS): only ever compared with another reading on
/// the same machine, to tell a process from a later one given the same pid.
pub fn started(pid: u64) -> Option<u64> {
    os::started(pid)
}

/// The state of process `pid`; `None` when it cannot be read (gone, or not ours to see).
pub fn state(pid: u64) -> Option<State> {
    os::state(pid)
}

/// A positive pid that fits the system's type: never 0 or negative, which `kill` would take
/// for our own group or for every process.
fn pid_t(id: u64) -> Option<libc::pid_t> {
    libc::pid_t::try_from(id).ok().filter(|p| *p > 0)
}

/// Whether a process of this host is alive; `kill(pid, 0)` fails with ESRCH when it is not.
pub fn alive(pid: u32) -> bool {
    let Some(pid) = pid_t(u64::from(pid)) else {
        return false;
    };
    // SAFETY: signal 0 only checks that the process exists and may be signalled.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// Whether a process group lives: some process is in it that is more than a zombie, and
/// (when `started` is known) its leader is the one that was recorded, not a later process
/// that got the same pid.
pub fn group_alive(pgid: u64, started: Option<u64>) -> bool {
    let Some(id) = pid_t(pgid) else {
        return false;
    };
    // SAFETY: signal 0 to a group only checks that it exists.
    let exists = unsafe { libc::kill(-id, 0) } == 0
        || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
    // A killed command whose parent (a pushduty killed with it) is gone waits as a zombie
    // until someone reaps it, and a zombie runs nothing.
    if !exists || !os::has_live_member(pgid) {
        return false;
    }
    match (started, os::started(pgid)) {
        (Some(want), Some(now)) => want == now,
        // The leader is gone but members remain, or the system says nothing: alive.
        _ => true,
    }
}

fn signal_group(pgid: u32, sig: libc::c_int) {
    if let Some(pid) = pid_t(u64::from(pgid)) {
        // SAFETY: a negative pid signals the whole process group the child leads.
        unsafe {
            libc::kill(-pid, sig);
        }
    }
}

/// Sends SIGKILL to every process of group `pgid`.
pub fn kill_group(pgid: u32) {
    signal_group(pgid, libc::SIGKILL);
}

/// Sends SIGCONT to every process of group `pgid`, so a stopped group goes on.
pub fn continue_group(pgid: u32) {
    signal_group(pgid, libc::SIGCONT);
}

/// Asks process `pid` to end (SIGTERM). The caller's own child, not reaped yet, so the pid is
/// still its.
pub fn terminate(pid: u32) {
    if let Some(pid) = pid_t(u64::from(pid)) {
        // SAFETY: signals one process; the caller vouches that the pid is its child's.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
    }
}

/// Waits until child `pid` has stopped (`Ok(true)`) or ended (`Ok(false)`: then it has been
/// reaped here, and its status is lost to a later wait).
pub fn wait_stopped(pid: u32) -> io::Result<bool> {
    let id = pid_t(u64::from(pid))
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "process id out of range"))?;
    let mut status: libc::c_int = 0;
    loop {
        // SAFETY: waits on the caller's own child; WUNTRACED reports a stop without reaping it.
        let r = unsafe { libc::waitpid(id, &mut status, libc::WUNTRACED) };
        if r == id {
            return Ok(libc::WIFSTOPPED(status));
        }
        let err = io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EINTR) {
            return Err(err);
        }
    }
}

/// Makes `cmd`'s child lead a session of its own: it has no controlling terminal, so nothing
/// it starts can open ours, and it leads a process group that can be killed whole.
pub fn in_new_session(cmd: &mut Command) {
    // SAFETY: setsid is async-signal-safe, and nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() == -1 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// This machine's name, or `unknown`.
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !done() {
            assert!(Instant::now() < deadline, "timed out waiting: {what}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn this_process_has_a_start_time_that_does_not_change() {
        let me = u64::from(std::process::id());
        let first = started(me).expect("our own start time");
        assert!(first > 0);
        assert_eq!(started(me), Some(first));
        assert_eq!(state(me), Some(State::Live));
        assert!(alive(std::process::id()));
    }

    #[test]
    fn a_reaped_child_is_dead_and_has_no_start_time() {
        let mut child = Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert!(!alive(pid));
        assert_eq!(started(u64::from(pid)), None);
        assert_eq!(state(u64::from(pid)), None);
        assert!(!group_alive(u64::from(pid), None));
        // 0 and out-of-range pids are nobody, not our own group.
        assert!(!alive(0));
        assert!(!group_alive(0, None));
        assert!(!group_alive(u64::MAX, None));
    }

    #[test]
    fn a_group_lives_until_killed_and_a_zombie_leader_does_not_count() {
        let mut cmd = Command::new("sleep");
        cmd.arg("30").stdin(Stdio::null()).process_group(0);
        let mut child = cmd.spawn().unwrap();
        let pgid = child.id();
        let when = started(u64::from(pgid));
        assert!(when.is_some());
        assert!(group_alive(u64::from(pgid), when));
        // Another process that was given the same pid later would have another start time.
        assert!(!group_alive(u64::from(pgid), when.map(|w| w + 1)));
        kill_group(pgid);
        // Killed but not reaped: a zombie, which runs nothing.
        wait_until("the leader becomes a zombie", || {
            state(u64::from(pgid)) == Some(State::Zombie)
        });
        assert!(!group_alive(u64::from(pgid), when));
        child.wait().unwrap();
    }

    #[test]
    fn a_stopped_child_is_seen_stopped_and_goes_on_when_continued() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "kill -STOP $$; exit 3"]).process_group(0);
        let mut child = cmd.spawn().unwrap();
        let pid = child.id();
        assert!(wait_stopped(pid).unwrap(), "it stopped itself");
        assert_eq!(state(u64::from(pid)), Some(State::Stopped));
        continue_group(pid);
        assert_eq!(child.wait().unwrap().code(), Some(3));
    }

    #[test]
    fn a_child_that_ends_before_stopping_is_reported_ended() {
        let mut child = Command::new("true").spawn().unwrap();
        assert!(!wait_stopped(child.id()).unwrap());
        // Reaped by the wait above: nothing is left to wait for.
        assert!(child.wait().is_err());
    }

    #[test]
    fn a_child_in_a_new_session_leads_its_own_group() {
        use std::io::Write;
        let mut cmd = Command::new("sh");
        // Waits for a line, so its session can be asked while it runs.
        cmd.args(["-c", "read line"]).stdin(Stdio::piped());
        in_new_session(&mut cmd);
        let mut child = cmd.spawn().unwrap();
        let pid = libc::pid_t::try_from(child.id()).unwrap();
        // SAFETY: getsid and getpgid only read the ids of our own running child.
        let (sid, pgid) = unsafe { (libc::getsid(pid), libc::getpgid(pid)) };
        child.stdin.take().unwrap().write_all(b"done\n").unwrap();
        child.wait().unwrap();
        assert_eq!((sid, pgid), (pid, pid));
        // SAFETY: as above, for this test process.
        assert_ne!(unsafe { libc::getsid(0) }, pid);
    }

    #[test]
    fn terminate_ends_a_child() {
        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        terminate(child.id());
        let st = child.wait().unwrap();
        assert_eq!(std::os::unix::process::ExitStatusExt::signal(&st), Some(15));
    }

    #[test]
    fn the_host_has_a_name() {
        assert!(!hostname().is_empty());
    }
}
