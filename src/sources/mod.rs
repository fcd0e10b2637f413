//! Live sources: pollers that run off the UI thread and report snapshots as lines for their
//! pane. A source that fails reports the error; it never blocks or takes the screen, and one
//! that panics (a bug) reports that too, and is polled again.

pub mod blockers;
pub mod follow;
pub mod git;
pub mod health;
pub mod jenkins;

use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::time::Duration;

/// One poll's result: the time it was taken (for the pane title) and the lines, or an error.
pub type Snapshot = Result<(String, Vec<String>), String>;

/// Polls `read` on a thread of its own every `interval` until `send` says the receiver is
/// gone. Sending on the returned channel asks for a poll now (after a related step); a burst
/// of such requests makes one poll.
pub fn spawn_poller(
    name: &str,
    interval: Duration,
    read: impl Fn() -> Result<Vec<String>, String> + Send + 'static,
    send: impl Fn(Snapshot) -> bool + Send + 'static,
) -> Sender<()> {
    spawn_paced_poller(name, move |_| interval, read, send)
}

/// Like [`spawn_poller`], with the wait before the next poll chosen from the last one's
/// lines (sooner while something moves, such as a running build's progress).
pub fn spawn_paced_poller(
    name: &str,
    pace: impl Fn(&Result<Vec<String>, String>) -> Duration + Send + 'static,
    read: impl Fn() -> Result<Vec<String>, String> + Send + 'static,
    send: impl Fn(Snapshot) -> bool + Send + 'static,
) -> Sender<()> {
    let (tx, rx) = mpsc::channel::<()>();
    let name = name.to_string();
    let spawned = std::thread::Builder::new()
        .name(format!("{name}-source"))
        .spawn(move || {
            loop {
                // To the minute: a poll every 15 s that finds nothing new redraws nothing.
                let at = chrono::Local::now().format("%H:%M").to_string();
                let lines = std::panic::catch_unwind(std::panic::AssertUnwindSafe(&read))
                    .unwrap_or_else(|panic| Err(panicked(name.as_str(), panic.as_ref())));
                let interval = pace(&lines);
                if !send(lines.map(|l| (at, l))) {
                    return;
                }
                match rx.recv_timeout(interval) {
                    Ok(()) | Err(RecvTimeoutError::Timeout) => while rx.try_recv().is_ok() {},
                    Err(RecvTimeoutError::Disconnected) => return,
                }
            }
        });
    if spawned.is_err() {
        // Without a thread the pane keeps its "loading" title; the push itself goes on.
        return mpsc::channel().0;
    }
    tx
}

/// A pane's words for its source's panic.
fn panicked(name: &str, panic: &(dyn std::any::Any + Send)) -> String {
    let why = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_string());
    format!(
        "the {name} source failed inside pushduty ({why}); it is read again later, and the push goes on: please report it"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::time::Instant;

    #[test]
    fn a_source_that_blocks_holds_up_neither_its_caller_nor_later_polls() {
        let (release, wait) = mpsc::channel::<()>();
        let wait = Mutex::new(wait);
        let (tx, got) = mpsc::channel();
        let started = Instant::now();
        let poke = spawn_poller(
            "blocking",
            Duration::from_secs(3600),
            move || {
                wait.lock().unwrap().recv().map_err(|e| e.to_string())?;
                Ok(vec!["answered".into()])
            },
            move |s| tx.send(s).is_ok(),
        );
        // The caller (the TUI, before its first frame) goes on while the read waits.
        assert!(started.elapsed() < Duration::from_millis(500));
        assert!(got.recv_timeout(Duration::from_millis(100)).is_err());
        release.send(()).unwrap();
        let (_, lines) = got.recv_timeout(Duration::from_secs(5)).unwrap().unwrap();
        assert_eq!(lines, ["answered"]);
        // A poke asks again at once, without waiting for the interval.
        poke.send(()).unwrap();
        release.send(()).unwrap();
        assert!(got.recv_timeout(Duration::from_secs(5)).unwrap().is_ok());
    }

    #[test]
    fn a_source_that_panics_says_so_in_its_pane_and_is_read_again() {
        let (tx, got) = mpsc::channel();
        let reads = std::sync::atomic::AtomicU32::new(0);
        let poke = spawn_poller(
            "flaky",
            Duration::from_secs(3600),
            move || match reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst) {
                0 => panic!("index out of bounds"),
                _ => Ok(vec!["answered".into()]),
            },
            move |s| tx.send(s).is_ok(),
        );
        let e = got
            .recv_timeout(Duration::from_secs(5))
            .unwrap()
            .unwrap_err();
        assert!(
            e.contains("the flaky source failed inside pushduty (index out of bounds)"),
            "{e}"
        );
        poke.send(()).unwrap();
        let (_, lines) = got.recv_timeout(Duration::from_secs(5)).unwrap().unwrap();
        assert_eq!(lines, ["answered"]);
    }
}
