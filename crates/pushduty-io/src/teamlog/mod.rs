//! The team's push log: a branch of a git repository the team already has, holding one folder
//! per push (`<runbook slug>/<push date>/`: `journal.jsonl`, `report.md`, `seats.jsonl`), so
//! that the team sees a push in their forge and two machines never act on the same step.
//!
//! A step with a side effect, or a gate, is first journaled as running *in the log*
//! ([`PushLog::claim`]): fetch, check that nobody else has it running or done and that nobody
//! else drives the push ([`seat`]), append, push. git's push is the compare-and-swap: a push
//! that finds the branch moved is rejected, and the whole decision is made again on the new
//! tip. Only once the push lands is the local journal written and the step run. Its result,
//! and whatever else the local journal holds that the log has not heard yet, follows with
//! [`PushLog::publish`].

pub mod decide;
pub mod past;
pub mod seat;
pub mod store;
pub mod takein;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::config::LogConfig;
use crate::runbook::model::Runbook;
use crate::session::SessionState;
use crate::session::journal::Entry;
pub use decide::{LogEntry, Me};
pub use seat::Seat;
pub use store::{Pushed, Store, Unreachable, is_unreachable};
pub use takein::TakeIn;

/// Renders a push's report (Markdown) from the log's entries and the local state.
pub type Render = Arc<dyn Fn(&[Entry], &SessionState, &Runbook) -> Option<String> + Send + Sync>;

/// The start of a running step's reason when the operator went on without the log.
pub const OFFLINE: &str = "went on without the team's push log: ";

/// How many times a write is decided again after someone else wrote first.
const ATTEMPTS: usize = 50;
/// Beside the local journal: how many of its lines the log has.
const SENT: &str = "push-log.json";

#[derive(Debug, Default, Serialize, Deserialize)]
struct Sent {
    /// The log (`URL#branch`) the lines went to.
    log: String,
    /// How many lines of the local journal it has.
    lines: usize,
    /// How many of its lines the local journal has (taken in at a takeover, or sent).
    #[serde(default)]
    taken: usize,
}

/// The log as fetched, for one push.
struct Fetched {
    tip: store::Tip,
    /// The push's journal there, as text and as entries.
    text: String,
    log: Vec<LogEntry>,
    seats_text: String,
    seats: Vec<Seat>,
}

/// `line` at the end of `text`, on a line of its own.
fn push_line(text: &mut String, line: &str) {
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(line);
    text.push('\n');
}

/// One push as a follower reads it from the log.
pub struct Look {
    /// The push's journal and seats as text: the same text, the same push.
    pub text: String,
    pub log: Vec<LogEntry>,
    pub seats: Vec<Seat>,
}

/// The log's lines of a push as one journal: its first session line (each operator's
/// machine opened the push with one), then every line in the order the log took them.
pub fn as_journal(lines: Vec<LogEntry>) -> Vec<Entry> {
    let mut begun = false;
    lines
        .into_iter()
        .map(|l| l.entry)
        .filter(|e| {
            let session = matches!(e.event, crate::session::journal::Event::Session(_));
            !(session && std::mem::replace(&mut begun, true))
        })
        .collect()
}

/// One push in the team's push log, as this operator writes to it.
pub struct PushLog {
    store: Store,
    me: Me,
    /// `<slug>/<push date>`: the push's folder in the log.
    folder: String,
    session_dir: PathBuf,
    render: Option<Render>,
    /// Lines the log has once the entry just claimed is journaled here too.
    claimed: Option<usize>,
    /// What a write has to tell the operator (lines kept here, not sent): taken by the
    /// engine after each write.
    pub notices: Vec<String>,
}

impl PushLog {
    /// The push `slug`/`push_date` (journaled locally in `session_dir`) in `cfg`'s log.
    pub fn open(
        state_dir: &Path,
        cfg: &LogConfig,
        operator: &str,
        slug: &str,
        push_date: &str,
        session_dir: &Path,
    ) -> Result<Self> {
        Ok(Self {
            store: Store::open(state_dir, cfg)?,
            me: Me {
                operator: operator.to_string(),
                host: pushduty_platform::process::hostname(),
            },
            folder: format!("{slug}/{push_date}"),
            session_dir: session_dir.to_path_buf(),
            render: None,
            claimed: None,
            notices: Vec::new(),
        })
    }

    pub fn with_render(mut self, render: Render) -> Self {
        self.render = Some(render);
        self
    }

    fn log_key(&self) -> String {
        format!("{}#{}", self.store.shown(), self.store.branch)
    }

    fn journal_path(&self) -> String {
        format!("{}/journal.jsonl", self.folder)
    }

    /// The entries of the local journal (lines that do not parse are the journal's own
    /// warning, and are not sent).
    fn local(&self) -> Result<Vec<Entry>> {
        let path = self.session_dir.join("journal.jsonl");
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        Ok(text
            .lines()
            .filter_map(|l| serde_json::from_str::<Entry>(l).ok())
            .collect())
    }

    fn kept(&self) -> Sent {
        std::fs::read(self.session_dir.join(SENT))
            .ok()
            .and_then(|b| serde_json::from_slice::<Sent>(&b).ok())
            .filter(|s| s.log == self.log_key())
            .unwrap_or_default()
    }

    fn sent(&self) -> usize {
        self.kept().lines
    }

    fn save_sent(&self, lines: usize) -> Result<()> {
        let taken = self.kept().taken;
        self.save_kept(lines, taken)
    }

    fn save_kept(&self, lines: usize, taken: usize) -> Result<()> {
        let text = serde_json::to_vec(&Sent {
            log: self.log_key(),
            lines,
            taken,
        })?;
        crate::session::write_cache(&self.session_dir.join(SENT), &text)
    }

    fn mine(&self, entries: &[Entry]) -> Vec<LogEntry> {
        entries
            .iter()
            .map(|e| LogEntry {
                host: self.me.host.clone(),
                entry: e.clone(),
            })
            .collect()
    }

    /// The log's tip and this push's journal and seats there.
    fn read(&self) -> Result<Fetched> {
        let tip = self.store.tip()?;
        let path = self.journal_path();
        let text = self.store.read(tip, &path)?.unwrap_or_default();
        let log = decide::parse(&path, &text)?;
        let seats_path = self.seats_path();
        let seats_text = self.store.read(tip, &seats_path)?.unwrap_or_default();
        let seats = seat::parse(&seats_path, &seats_text)?;
        Ok(Fetched {
            tip,
            text,
            log,
            seats_text,
            seats,
        })
    }

    fn seats_path(&self) -> String {
        format!("{}/seats.jsonl", self.folder)
    }

    /// This operator in the seat, now.
    fn seat(&self, reason: Option<&str>, from: Option<&Seat>) -> Seat {
        Seat {
            since: crate::session::now_rfc3339(),
            operator: self.me.operator.clone(),
            host: self.me.host.clone(),
            reason: reason.map(str::to_string),
            from: from.map(Seat::who),
        }
    }

    /// Writes `send` after the journal as fetched (with the report), and `seat` after the
    /// seats, on top of the fetched tip.
    fn write(
        &self,
        f: &Fetched,
        send: &[LogEntry],
        seat: Option<&Seat>,
        what: &str,
        view: Option<(&SessionState, &Runbook)>,
    ) -> Result<Pushed> {
        let mut files = Vec::new();
        if !send.is_empty() {
            let mut journal = f.text.clone();
            for e in send {
                push_line(&mut journal, &serde_json::to_string(e)?);
            }
            files.push((self.journal_path(), journal));
            if let (Some(render), Some((state, rb))) = (&self.render, view) {
                let all: Vec<Entry> = f.log.iter().chain(send).map(|e| e.entry.clone()).collect();
                if let Some(md) = render(&all, state, rb) {
                    files.push((format!("{}/report.md", self.folder), md));
                }
            }
        }
        if let Some(seat) = seat {
            let mut seats = f.seats_text.clone();
            push_line(&mut seats, &serde_json::to_string(seat)?);
            files.push((self.seats_path(), seats));
        }
        let message = format!(
            "{}: {what} ({} on {})",
            self.folder, self.me.operator, self.me.host
        );
        self.store.commit_and_push(Some(f.tip), &files, &message)
    }

    /// Journals `running` (this operator starting `step`) in the log, with whatever the local
    /// journal has that the log has not: refused when someone else drives the push or has the
    /// step running or done. The first to act takes the driver's seat. Returns once the push
    /// landed; call [`PushLog::confirm`] once the local journal has `running` too.
    pub fn claim(
        &mut self,
        step: &str,
        running: &Entry,
        state: &SessionState,
        rb: &Runbook,
    ) -> Result<()> {
        let local = self.local()?;
        let sent = self.sent().min(local.len());
        let mine = self.mine(&local[sent..]);
        let began = std::time::Instant::now();
        let mut with_running = mine.clone();
        with_running.extend(self.mine(std::slice::from_ref(running)));
        for attempt in 1..=ATTEMPTS {
            let f = self.read()?;
            let seat_why = seat::refusal(&f.seats, &self.me);
            // Someone took the seat from this operator: that, not their lines, is the news.
            let taken_from_me = f
                .seats
                .iter()
                .any(|s| s.from.as_deref() == Some(self.me.who().as_str()));
            let why = match seat_why {
                Some(w) if taken_from_me => Some(w),
                w => decide::refusal(&f.log, &mine, step, &self.me).or(w),
            };
            if let Some(why) = why {
                bail!("{why}");
            }
            let send = decide::to_send(!f.log.is_empty(), with_running.clone());
            let first = f.seats.is_empty().then(|| self.seat(None, None));
            let what = format!("{step} running");
            match self.write(&f, &send, first.as_ref(), &what, Some((state, rb)))? {
                Pushed::Landed(_) => {
                    self.claimed = Some(local.len() + 1);
                    // What write-ahead costs: measured, and kept in the log file.
                    tracing::info!(
                        step,
                        attempt,
                        waited_ms = began.elapsed().as_millis() as u64,
                        "the team's push log has the step running"
                    );
                    return Ok(());
                }
                Pushed::Rejected => {
                    tracing::info!(step, attempt, "the push log moved first: deciding again");
                }
            }
        }
        bail!(
            "the push log moved under every one of {ATTEMPTS} writes: too many writers at once; \
             nothing was run, try again"
        )
    }

    /// The local journal has the claimed entry too: the log has every line so far.
    pub fn confirm(&mut self) -> Result<()> {
        match self.claimed.take() {
            Some(n) => self.save_sent(n),
            None => Ok(()),
        }
    }

    /// Sends what the local journal has and the log has not (a step's result, the steps that
    /// sync lazily). Nothing to decide: these lines are this operator's own, unless they
    /// started a step offline that the log has moved on from differently.
    pub fn publish(&mut self, what: &str, state: &SessionState, rb: &Runbook) -> Result<()> {
        let local = self.local()?;
        let sent = self.sent().min(local.len());
        if sent == local.len() {
            return Ok(());
        }
        let all_mine = self.mine(&local[sent..]);
        for _ in 0..ATTEMPTS {
            let f = self.read()?;
            // Once someone took the seat from this operator, the push is theirs: lines made
            // here after that (a late result, a restart's `interrupted`) stay here.
            let (mine, kept): (Vec<LogEntry>, Vec<LogEntry>) =
                match seat::taken_from(&f.seats, &self.me) {
                    Some(s) => all_mine
                        .iter()
                        .cloned()
                        .partition(|e| e.entry.time <= s.since),
                    None => (all_mine.clone(), Vec::new()),
                };
            if let Some(why) = decide::diverged(&f.log, &mine, &self.me) {
                bail!("{why}");
            }
            let send = decide::to_send(!f.log.is_empty(), mine);
            let landed = send.is_empty()
                || matches!(
                    self.write(&f, &send, None, what, Some((state, rb)))?,
                    Pushed::Landed(_)
                );
            if landed {
                if let (Some(s), false) = (seat::taken_from(&f.seats, &self.me), kept.is_empty()) {
                    self.notices.push(format!(
                        "{} line(s) journaled here after {} took the push over ({}) are kept \
                         in this journal only: the push log is theirs now",
                        kept.len(),
                        s.who(),
                        s.since
                    ));
                }
                return self.save_sent(local.len());
            }
        }
        bail!("the push log moved under every one of {ATTEMPTS} writes: too many writers at once")
    }

    /// The steps this journal's unsent lines started that the log has someone else's run
    /// of: what `log sync --settled` settles.
    pub fn clashes(&self) -> Result<Vec<String>> {
        let local = self.local()?;
        let sent = self.sent().min(local.len());
        let mine = self.mine(&local[sent..]);
        let f = self.read()?;
        Ok(decide::clashes(&f.log, &mine, &self.me)
            .into_iter()
            .map(|(step, _)| step)
            .collect())
    }

    /// Takes the driver's seat from whoever has it, saying why, and sends along what the local
    /// journal has that the log has not: the seat they left (none when this operator drove
    /// already), and what the local journal must take in ([`PushLog::taken_in`] once it has).
    /// Refused, the seat unmoved, when the two journals disagree ([`takein::plan`]).
    pub fn takeover(
        &mut self,
        reason: &str,
        state: &SessionState,
        rb: &Runbook,
    ) -> Result<(Option<Seat>, TakeIn)> {
        let local = self.local()?;
        let sent = self.sent().min(local.len());
        let mine = self.mine(&local[sent..]);
        let taken = self.kept().taken;
        for _ in 0..ATTEMPTS {
            let f = self.read()?;
            if let Some(why) = decide::diverged(&f.log, &mine, &self.me) {
                bail!("{why}");
            }
            let plan = takein::plan(&f.log, taken, &local, &mine, &self.me)
                .map_err(|why| anyhow::anyhow!("{why}"))?;
            let driver = f.seats.last();
            // Driving already (a takeover whose taking in did not finish): the lines only.
            let seat =
                (!driver.is_some_and(|d| d.is(&self.me))).then(|| self.seat(Some(reason), driver));
            // A line this session wrote by itself about a step their lines move on is
            // worked out again here once they are in: the log keeps theirs as the last word.
            let moved: std::collections::HashSet<&str> =
                plan.entries.iter().filter_map(takein::step_of).collect();
            let send: Vec<LogEntry> = decide::to_send(!f.log.is_empty(), mine.clone())
                .into_iter()
                .filter(|e| {
                    !(takein::derived(&e.entry)
                        && takein::step_of(&e.entry).is_some_and(|s| moved.contains(s)))
                })
                .collect();
            if seat.is_none() && send.is_empty() {
                if plan.entries.is_empty() {
                    bail!(
                        "you drive this push already (since {})",
                        driver.map_or("", |d| &d.since)
                    );
                }
                // All of it is in the log, or worked out again here.
                self.save_sent(local.len())?;
                return Ok((None, plan));
            }
            let mut plan = plan;
            plan.upto += send.len();
            let view = Some((state, rb));
            if let Pushed::Landed(_) = self.write(&f, &send, seat.as_ref(), "takeover", view)? {
                self.save_sent(local.len())?;
                return Ok((seat.and(driver.cloned()), plan));
            }
        }
        bail!("the push log moved under every one of {ATTEMPTS} writes: too many writers at once")
    }

    /// The local journal has taken in what [`PushLog::takeover`] returned: it has the log's
    /// first `upto` lines, and the log has every line of it.
    pub fn taken_in(&mut self, upto: usize) -> Result<()> {
        let lines = self.local()?.len();
        self.save_kept(lines, upto)
    }

    /// The push as the log has it: its journal and seats (a read: nothing is written).
    pub fn view(&self) -> Result<(Vec<LogEntry>, Vec<Seat>)> {
        let f = self.read()?;
        Ok((f.log, f.seats))
    }

    /// [`PushLog::view`] with the files' texts, so that a follower can tell whether this
    /// push changed since its last look (the branch's tip moves with every push's writes).
    pub fn look(&self) -> Result<Look> {
        let f = self.read()?;
        Ok(Look {
            text: format!("{}\0{}", f.text, f.seats_text),
            log: f.log,
            seats: f.seats,
        })
    }

    /// Who writes here: the operator on this host.
    pub fn me(&self) -> &Me {
        &self.me
    }

    /// Where the log is, for messages.
    pub fn describe(&self) -> String {
        format!("branch `{}` of {}", self.store.branch, self.store.shown())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::journal::{Event, Header, Transition};

    fn line(who: &str, host: &str, event: Event) -> LogEntry {
        LogEntry {
            host: host.into(),
            entry: Entry {
                time: "2015-09-08T10:00:00Z".into(),
                operator: who.into(),
                event,
            },
        }
    }

    fn opened(tag: &str) -> Event {
        Event::Session(Header {
            runbook: "Follow me".into(),
            fingerprint: String::new(),
            slug: "follow-me".into(),
            push_date: "2015-09-10".into(),
            tag: tag.into(),
            tags: indexmap::IndexMap::new(),
            steps: indexmap::IndexMap::new(),
            services: indexmap::IndexMap::new(),
        })
    }

    #[test]
    fn the_logs_lines_make_one_journal_opened_by_the_first_machine() {
        let lines = vec![
            line("ann", "laptop", opened("2015.09.10")),
            line(
                "ann",
                "laptop",
                Event::Step(Transition::new("deploy", "pending", "done")),
            ),
            // bob's machine opened the push too when he took over: its header is not a
            // second beginning.
            line("bob", "desk", opened("2015.09.10-1")),
            line(
                "bob",
                "desk",
                Event::Step(Transition::new("announce", "pending", "done")),
            ),
        ];
        let journal = as_journal(lines);
        let kinds: Vec<String> = journal
            .iter()
            .map(|e| match &e.event {
                Event::Session(h) => format!("session {}", h.tag),
                Event::Step(t) => format!("{} {} by {}", t.step, t.to, e.operator),
                _ => "other".into(),
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "session 2015.09.10",
                "deploy done by ann",
                "announce done by bob"
            ]
        );
    }
}
