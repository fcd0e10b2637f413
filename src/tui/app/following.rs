//! The push as the team's push log has it, coming in from its source: on `follow`'s screen it
//! is the whole checklist; on a `run` screen it is the driver's seat only, and a seat taken
//! from this operator turns that screen read-only.

use super::prompt::{Prompt, Purpose};
use super::{App, Level, Modal, Mode};
use crate::sources::follow::{Move, Update};
use crate::teamlog::{Me, Seat};

/// The push log's source among the app's sources to poke (`App::refresh`).
pub const PUSH_LOG: &str = "push-log";
use crate::tui::action::Action;

/// A screen that reads the push log.
#[derive(Debug, Clone, PartialEq)]
pub struct Following {
    /// Where the log is, for messages.
    pub log: String,
    /// How often the source reads the log, in seconds, to say when it tries again.
    pub every_secs: u64,
    /// This operator on this host, to know the seat taken from them.
    pub me: Me,
    /// Who drives now; `None` before anyone acted (or before the first read).
    pub driver: Option<Seat>,
    /// The log was read at least once.
    pub read: bool,
    /// Why the last read failed; the screen keeps what it read before.
    pub problem: Option<String>,
    /// The seat went from this operator to `driver` while this `run` screen was open.
    pub taken_over: bool,
    /// Each step's last move as last read, to say in the log only what moved since.
    moves: Vec<Move>,
}

impl Following {
    pub fn new(log: String, every_secs: u64, me: Me) -> Self {
        Self {
            log,
            every_secs,
            me,
            driver: None,
            read: false,
            problem: None,
            taken_over: false,
            moves: Vec::new(),
        }
    }
}

impl App {
    /// Takes what the push log's source read; the screen redraws (the source sends only
    /// what changed).
    pub fn on_followed(&mut self, update: Update) {
        let Some(f) = self.following.as_mut() else {
            return;
        };
        let followed = match update {
            Ok(x) => x,
            Err(e) => {
                // The message names the log already (and never its password).
                let what = if self.mode == Mode::Run {
                    "who drives is read again"
                } else {
                    "the screen shows what it read last and tries again"
                };
                let said = format!("{e}; {what} every {}s", f.every_secs);
                f.problem = Some(e);
                self.log(Level::Warn, said);
                return;
            }
        };
        let back = f.problem.take().is_some();
        f.read = true;
        f.driver = followed.seats.last().cloned();
        let moved: Vec<Move> = followed
            .moves
            .iter()
            .filter(|m| !f.moves.contains(m))
            .cloned()
            .collect();
        f.moves = followed.moves;
        // The seat left this operator (it was theirs once, and is someone else's now).
        let taken = self.mode == Mode::Run
            && followed.seats.iter().any(|s| s.is(&f.me))
            && f.driver.as_ref().is_some_and(|d| !d.is(&f.me));
        if back {
            self.log(Level::Info, "the team's push log answers again");
        }
        if taken {
            self.turn_read_only();
        }
        if self.mode != Mode::Learn {
            return;
        }
        let tz = self.engine.loaded.calendar.tz;
        for m in moved {
            let at = clock(&m.at, tz);
            // `not_applicable` as words.
            let status = m.status.replace('_', " ");
            let line = format!("{}: {} {status} at {at}", m.by, m.step);
            self.log(Level::Info, crate::sanitize::clean_line(&line).into_owned());
        }
        // A screen that turned read-only keeps its own journal's checklist: a step it still
        // runs reports there.
        let own = self.following.as_ref().is_some_and(|f| f.taken_over);
        if let Some((state, report)) = followed.seen.filter(|_| !own) {
            self.engine.show_state(state);
            self.replay = Some(report);
            self.refresh_views();
            // The health panes' windows follow the production push as the log has it.
            self.note_push_moment();
        }
    }

    /// Someone took the seat: nothing more is confirmed from this screen, and it says who
    /// and why.
    fn turn_read_only(&mut self) {
        let Some(f) = self.following.as_mut() else {
            return;
        };
        f.taken_over = true;
        self.mode = Mode::Learn;
        // A dialog that would have started something is closed; one that explains stays.
        if matches!(
            self.modal,
            Modal::Confirm { .. } | Modal::ByHand { .. } | Modal::Prompt(_) | Modal::Refused { .. }
        ) {
            self.modal = Modal::None;
        }
        let said = self.seat_line().unwrap_or_default();
        self.log(
            Level::Warn,
            format!(
                "{said}: this screen is read-only now, nothing can be started from it. Quit \
                 it (`pushduty follow` shows the push as it goes on), or `T` takes the seat \
                 back"
            ),
        );
    }

    /// Who drives, as the banner says it: "bob on desk drives since Thu 14:02 (took over
    /// from ann on laptop: ann is ill)"; on the screen whose seat was taken, "bob on desk
    /// took over from you at Thu 14:02: ann is ill". A log that cannot be read is said
    /// there too: what the screen shows may be old.
    pub fn seat_line(&self) -> Option<String> {
        let f = self.following.as_ref()?;
        let again = format!("trying again every {}s", f.every_secs);
        let seat = match (&f.driver, f.read) {
            (_, false) if f.problem.is_some() => {
                return Some(format!(
                    "the team's push log cannot be read ({again}; the log below says why)"
                ));
            }
            (_, false) => return Some(format!("reading the team's push log ({})", f.log)),
            (None, true) => "nobody drives yet: the first to act takes the seat".to_string(),
            (Some(d), true) => {
                let since = clock(&d.since, self.engine.loaded.calendar.tz);
                let reason = d.reason.as_deref().unwrap_or("no reason given");
                match &d.from {
                    _ if f.taken_over => {
                        format!("{} took over from you at {since}: {reason}", d.who())
                    }
                    Some(from) => format!(
                        "{} drives since {since} (took over from {from}: {reason})",
                        d.who()
                    ),
                    None => format!("{} drives since {since}", d.who()),
                }
            }
        };
        let stale = if f.problem.is_some() {
            format!(" · as last read; {again}")
        } else {
            String::new()
        };
        Some(crate::sanitize::clean_line(&format!("{seat}{stale}")).into_owned())
    }

    /// A step runs on the driver's machine, as the followed log says: its time goes on
    /// here too.
    pub(super) fn follows_a_running_step(&self) -> bool {
        self.mode == Mode::Learn
            && self.following.as_ref().is_some_and(|f| !f.taken_over)
            && self
                .engine
                .session
                .state
                .steps
                .values()
                .any(|s| matches!(s.status, crate::session::Status::Running { .. }))
    }

    /// `T`: on `follow`'s screen, or a `run` screen whose seat was taken, asks why the seat
    /// is taken; the answer ends the screen, and the command takes the seat, then opens
    /// `run`. Elsewhere it says where the seat is taken.
    pub(super) fn ask_take_over(&mut self) {
        let hint = "`pushduty takeover --reason WHY` takes the seat from the command line";
        let Some(f) = self.following.as_ref() else {
            let said = format!(
                "no push is followed here: `T` takes the seat on `pushduty follow`'s screen; {hint}"
            );
            return self.log(Level::Info, said);
        };
        let said = if f.taken_over && self.engine.is_running() {
            "a step still runs on this screen: let it end (or Ctrl-C it), then `T` takes the \
             seat back"
                .to_string()
        } else if !f.taken_over && self.mode == Mode::Run {
            "you drive this push on this screen: there is no seat to take".to_string()
        } else if !f.read {
            "the team's push log has not been read yet: who drives is not known; `T` again once it is".to_string()
        } else {
            match &f.driver {
                Some(d) if d.is(&f.me) && !f.taken_over => {
                    "you drive this push already: quit and `pushduty run` to go on with it"
                        .to_string()
                }
                driver => {
                    let from = driver
                        .as_ref()
                        .map_or_else(|| "nobody".to_string(), |d| d.who());
                    let title = format!("Take over the push from {from}");
                    let lines = vec![
                        "the seat moves to you in the team's push log, with your reason; the \
                         driver's screen turns read-only"
                            .into(),
                        "your journal takes in the log's lines, and this screen opens the push \
                         in `run`; a step left running goes on from its checkpoint"
                            .into(),
                    ];
                    let purpose = Purpose::TakeOver {
                        from: crate::sanitize::clean_line(&from).into_owned(),
                    };
                    self.modal = Modal::Prompt(Prompt::new(
                        title,
                        "why (the team reads it; Esc: not now)".into(),
                        lines,
                        purpose,
                    ));
                    return;
                }
            }
        };
        self.log(Level::Info, said);
    }

    /// The keys of a screen that reads the push log. On `follow`'s, `r` reads the log now
    /// instead of at the next interval. On a screen whose seat was taken, a key that would
    /// start or record something says why nothing happens (learn mode's own refusals would
    /// blame learn mode). `true`: the key is handled.
    pub(super) fn follow_key(&mut self, action: Action) -> bool {
        let Some(f) = self.following.as_ref() else {
            return false;
        };
        if !f.taken_over {
            if self.mode != Mode::Learn || action != Action::Retry {
                return false;
            }
            for (_, poke) in self.refresh.iter().filter(|(p, _)| *p == PUSH_LOG) {
                let _ = poke.send(());
            }
            self.log(Level::Info, "reading the team's push log now");
            return true;
        }
        let acts = match action {
            Action::Retry
            | Action::Skip
            | Action::Reopen
            | Action::Add
            | Action::EndEarly
            | Action::Override => true,
            Action::Yes => matches!(self.modal, Modal::ByHand { .. }),
            _ => false,
        };
        if acts {
            let seat = self.seat_line().unwrap_or_default();
            self.log(
                Level::Warn,
                format!("{seat}: this screen is read-only, nothing is started or recorded here"),
            );
        }
        acts
    }
}

/// An RFC 3339 instant where the team is: "Thu 14:02".
fn clock(at: &str, tz: chrono_tz::Tz) -> String {
    chrono::DateTime::parse_from_rfc3339(at).map_or_else(
        |_| crate::sanitize::clean_line(at).into_owned(),
        |t| t.with_timezone(&tz).format("%a %H:%M").to_string(),
    )
}
