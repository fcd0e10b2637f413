//! Servers the project's scripts/services/*.sh start in the background: no child of ours, so
//! stopping one means watching it go rather than waitpid.
#![allow(dead_code)]

use std::thread;
use std::time::{Duration, Instant};

/// Sends SIGTERM to `pid` and waits until it is gone, with SIGKILL after 5s.
pub fn stop(pid: i32) {
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(5);
    while alive(pid) {
        if Instant::now() > deadline {
            unsafe { libc::kill(pid, libc::SIGKILL) };
            break;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Whether `pid` still runs; a zombie waiting for its reaper does not.
fn alive(pid: i32) -> bool {
    u64::try_from(pid)
        .ok()
        .and_then(pushduty_platform::process::state)
        .is_some_and(|s| s != pushduty_platform::process::State::Zombie)
}
