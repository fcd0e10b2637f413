//! A child process that leads a process group of its own (a shell step's command, a network
//! `git`): waiting for it while a cancel or a deadline may end it, and killing the whole group,
//! so that nothing it started outlives the step.

use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

/// How a supervised child ended.
#[derive(Debug)]
pub enum Ended {
    Exited(ExitStatus),
    /// The operator (or a signal) cancelled the step; the group was killed.
    Cancelled,
    /// The deadline passed; the group was killed.
    TimedOut,
}

pub use pushduty_platform::process::kill_group;

/// Waits for `child`, the leader of its own group. `cancelled` is asked on every poll, and
/// `tick` runs there too (to pass on output as it comes). On a cancel or after `deadline` the
/// group is killed; whatever the group still holds once the child has ended is killed as well,
/// so its pipes close and their readers end.
pub fn supervise(
    child: &mut Child,
    cancelled: &dyn Fn() -> bool,
    deadline: Option<Instant>,
    tick: &mut dyn FnMut(),
) -> Result<Ended> {
    let pgid = child.id();
    let ended = loop {
        tick();
        match child.try_wait() {
            Ok(Some(st)) => break Ended::Exited(st),
            Ok(None) => {}
            Err(e) => {
                kill_group(pgid);
                let _ = child.wait();
                return Err(e).context("waiting for the command");
            }
        }
        if cancelled() {
            kill_group(pgid);
            let _ = child.wait();
            break Ended::Cancelled;
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            kill_group(pgid);
            let _ = child.wait();
            break Ended::TimedOut;
        }
        // Polling only while a command runs; a short sleep keeps cancel responsive.
        std::thread::sleep(Duration::from_millis(20));
    };
    kill_group(pgid);
    Ok(ended)
}
