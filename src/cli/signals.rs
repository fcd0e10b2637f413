//! SIGINT, SIGTERM and SIGHUP for `run` and `do`: instead of dying with a step's process group
//! orphaned and the terminal raw, pushduty hears them on a thread of its own, cancels the
//! running step (killing its group), journals it as interrupted by that signal, restores the
//! terminal and exits 130, 143 or 129.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result};
use pushduty_platform::signals::Stops;

/// A signal that ends pushduty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stop(pub i32);

impl Stop {
    pub fn name(self) -> &'static str {
        pushduty_platform::signals::name(self.0)
    }

    /// 128 + the signal's number, as a shell reports a death by it.
    pub fn exit_code(self) -> u8 {
        u8::try_from(128 + self.0).unwrap_or(1)
    }
}

/// Hands each stopping signal to `deliver` on a thread of its own; `deliver` returns false
/// when nobody can act on it any more, and the process then exits at once with its code.
/// While `started` is false (nothing is running yet), the process also exits at once.
pub fn watch(
    started: Arc<AtomicBool>,
    deliver: impl Fn(Stop) -> bool + Send + 'static,
) -> Result<()> {
    let mut signals = Stops::listen().context("listening for signals")?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for sig in signals.forever() {
                let stop = Stop(sig);
                if !started.load(Ordering::SeqCst) || !deliver(stop) {
                    std::process::exit(i32::from(stop.exit_code()));
                }
            }
        })
        .context("starting the signal thread")?;
    Ok(())
}
