//! The team's push log, read on a thread of its own for a screen that follows a push: every
//! few seconds a fetch (read access only: nothing is ever written), and a report to the screen
//! only when this push's journal or seats changed there, so an idle push redraws nothing.

use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::time::Duration;

use indexmap::IndexMap;

use crate::report::Report;
use crate::runbook::model::Runbook;
use crate::session::SessionState;
use crate::teamlog::{LogEntry, PushLog, Seat};

/// How often the log is read when `--interval` is not given.
pub const INTERVAL: Duration = Duration::from_secs(5);

/// The push as the log had it at one look.
#[derive(Debug, Clone)]
pub struct Followed {
    /// The journal's state and report; `None` while nobody has written to this push yet.
    pub seen: Option<(SessionState, Report)>,
    /// Each step's last move in the log: (step, status, operator on host, when).
    pub moves: Vec<Move>,
    /// Who drove, oldest first: the last one drives.
    pub seats: Vec<Seat>,
}

/// A step's last move as the log has it.
#[derive(Debug, Clone, PartialEq)]
pub struct Move {
    pub step: String,
    pub status: String,
    pub by: String,
    pub at: String,
}

/// What the screen is sent: the push, or why the log could not be read this time.
pub type Update = Result<Followed, String>;

/// Reads `log` now and then every `interval` on its own thread, and calls `send` when what it
/// found differs from the last look (a failure too, once per different message), until
/// `send` says the screen is gone. `titles`: the steps' titles filled in for the report.
pub fn spawn(
    log: PushLog,
    interval: Duration,
    rb: Runbook,
    titles: IndexMap<String, String>,
    send: impl Fn(Update) -> bool + Send + 'static,
) -> Sender<()> {
    let (tx, rx) = mpsc::channel::<()>();
    let spawned = std::thread::Builder::new()
        .name("push-log-source".into())
        .spawn(move || {
            let mut last: Option<Result<String, String>> = None;
            loop {
                // A panic (a bug) is said on the screen like a log that cannot be read, and
                // the log is read again.
                let polled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    let found = log.look().map_err(|e| format!("{e:#}"));
                    let key = found.as_ref().map(|l| l.text.clone()).map_err(Clone::clone);
                    (last.as_ref() != Some(&key))
                        .then(|| (key, found.map(|l| followed(l.log, l.seats, &rb, &titles))))
                }))
                .unwrap_or_else(|panic| {
                    let why = super::panicked("push log", panic.as_ref());
                    Some((Err(why.clone()), Err(why)))
                });
                if let Some((key, update)) = polled {
                    if !send(update) {
                        return;
                    }
                    last = Some(key);
                }
                match rx.recv_timeout(interval) {
                    Ok(()) | Err(RecvTimeoutError::Timeout) => while rx.try_recv().is_ok() {},
                    Err(RecvTimeoutError::Disconnected) => return,
                }
            }
        });
    if spawned.is_err() {
        // Without a thread the screen says it is waiting for the log; nothing else breaks.
        return mpsc::channel().0;
    }
    tx
}

/// The push from the log's lines: state, report and each step's last move.
pub fn followed(
    lines: Vec<LogEntry>,
    seats: Vec<Seat>,
    rb: &Runbook,
    titles: &IndexMap<String, String>,
) -> Followed {
    let last = crate::teamlog::decide::last_moves(&lines);
    let mut moves: Vec<Move> = rb
        .steps
        .iter()
        .filter_map(|s| {
            let (to, e) = last.get(s.id.as_str())?;
            Some(Move {
                step: s.id.clone(),
                status: to.to_string(),
                by: format!("{} on {}", e.entry.operator, e.host),
                at: e.entry.time.clone(),
            })
        })
        .collect();
    moves.sort_by(|a, b| a.at.cmp(&b.at));
    let entries = crate::teamlog::as_journal(lines);
    // A journal the state cannot be made from (none yet) leaves the checklist as it was.
    let seen = SessionState::rebuild(&entries).ok().map(|state| {
        let report = crate::report::build(&entries, &state, rb, titles, Vec::new());
        (state, report)
    });
    Followed { seen, moves, seats }
}
