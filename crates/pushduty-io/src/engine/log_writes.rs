//! Writes to the team's push log off the screen's thread. A step's result or checkpoint is
//! sent by a thread that holds the log meanwhile and hands it back through a channel
//! ([`Event::LogWritten`] wakes the screen to take it); a start written ahead while the log
//! is away waits for it on the claim's own thread. Headless front ends write in place.

use std::sync::mpsc;
use std::time::Duration;

use super::{Engine, Event};
use crate::teamlog::PushLog;

/// The push log back from a write, with what the operator is to hear of it.
pub struct Returned {
    pub log: PushLog,
    pub said: Vec<String>,
}

/// Where a claim gets the push log from.
pub enum LogSource {
    /// The engine had it.
    Here(Box<PushLog>),
    /// A write on another thread has it: the claim waits for it there.
    Away(mpsc::Receiver<Returned>),
    /// That write's thread ended without handing it back.
    Lost,
}

impl LogSource {
    /// The log, waiting (on the calling thread) for a write that has it; what that write had
    /// to say goes into `said`.
    pub fn get(self, said: &mut Vec<String>) -> LogSource {
        match self {
            LogSource::Away(rx) => match rx.recv() {
                Ok(r) => {
                    said.extend(r.said);
                    LogSource::Here(Box::new(r.log))
                }
                Err(_) => LogSource::Lost,
            },
            other => other,
        }
    }
}

impl Engine {
    /// Whether the push log is held by a write on another thread.
    pub fn log_away(&self) -> bool {
        self.log_away.is_some()
    }

    /// Sends what the log has not heard, on a thread of its own; `what` names the write in
    /// the log's history. With the log away already, the write follows once it is back.
    pub(super) fn publish_in_background(&mut self, what: String) {
        let Some(mut log) = self.push_log.take() else {
            self.log_dirty = Some(what);
            return;
        };
        let state = self.session.state.clone();
        let rb = self.loaded.runbook.clone();
        let notify = self.notify.clone();
        let (tx, rx) = mpsc::channel();
        self.log_away = Some(rx);
        let spawned = std::thread::Builder::new()
            .name("push-log-write".into())
            .spawn(move || {
                let mut said = Vec::new();
                if let Err(e) = log.publish(&what, &state, &rb) {
                    said.push(unsent(&log, &what, &e));
                }
                said.append(&mut log.notices);
                let _ = tx.send(Returned { log, said });
                notify(Event::LogWritten);
            });
        if let Err(e) = spawned {
            self.log_warnings
                .push(format!("the push log's writer could not start: {e}"));
        }
    }

    /// After [`Event::LogWritten`]: the log is the engine's again, what the write had to say
    /// is in `log_warnings`, and a write that waited for it goes now.
    pub fn log_back(&mut self) {
        let Some(rx) = &self.log_away else {
            return;
        };
        match rx.try_recv() {
            Ok(r) => {
                self.push_log = Some(r.log);
                self.log_warnings.extend(r.said);
                self.log_away = None;
            }
            // A start took it to wait for it on its own thread.
            Err(mpsc::TryRecvError::Disconnected) => self.log_away = None,
            Err(mpsc::TryRecvError::Empty) => return,
        }
        if let Some(what) = self.log_dirty.take() {
            self.publish_in_background(what);
        }
    }

    /// Before pushduty ends: a write still on its way gets up to `wait` to land; what it
    /// could not send goes with the next write (or `log sync`).
    pub fn settle_log(&mut self, wait: Duration) {
        if let Some(rx) = self.log_away.take()
            && let Ok(r) = rx.recv_timeout(wait)
        {
            self.push_log = Some(r.log);
            self.log_warnings.extend(r.said);
        }
    }
}

/// The warning for a write that did not reach the log.
pub(super) fn unsent(log: &PushLog, what: &str, e: &anyhow::Error) -> String {
    let id = what.split_whitespace().next().unwrap_or(what);
    format!(
        "`{id}` is journaled here but not yet in the team's push log ({}): {e:#}; it is sent \
         with the next step that writes to the log",
        log.describe()
    )
}
