//! A session is one push of one runbook: each step's status and outputs, kept on disk as
//! `<state-dir>/sessions/<runbook-slug>/<push_date>/` (its journal, the truth; `session.json`,
//! a cache of what the journal adds up to; and its lock). No ratatui here, and nothing secret
//! is ever written: only step statuses, operator-typed text, resolved actions and outputs.

pub mod briefing;
pub mod evidence;
mod history;
pub mod journal;
pub mod lock;
mod state;
pub mod timing;

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result, bail};
use indexmap::IndexMap;

use crate::runbook::model::{Outputs, Runbook};
pub use history::{Summary, history, newest_first, usual_durations};
use journal::{Entry, Event, Item, ItemFor, Journal, Origin, Transition};
use lock::{Lock, LockError};
pub use state::*;
/// Files of one session on disk.
pub fn session_dir(state_dir: &Path, slug: &str, push_date: &str) -> PathBuf {
    state_dir.join("sessions").join(slug).join(push_date)
}

/// Options that create a file readable by its owner only: sessions hold who did what.
pub fn private_file(opts: &mut OpenOptions) -> &mut OpenOptions {
    opts.mode(0o600)
}

/// Creates a session's folder readable by its owner only, with the folders above it that are
/// missing. The `sessions` folders are made private even when they exist (an older pushduty
/// left them readable); the state folder itself, which the operator may have chosen, is
/// never changed.
fn private_session_dir(state_dir: &Path, dir: &Path) -> Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))?;
    let sessions = state_dir.join("sessions");
    for d in dir.ancestors().take_while(|d| d.starts_with(&sessions)) {
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("making {} private", d.display()))?;
    }
    Ok(())
}

/// Writes `text` to `path` so a reader sees the old or the new file, never a mix (the
/// temporary file has a name of its own, so two writers never share one), without waiting for
/// the disk: for a cache that is checked against what it caches when read. A killed process
/// loses nothing it wrote (the kernel has it); only a machine that loses power may find the
/// old file, or none.
pub fn write_cache(path: &Path, text: &[u8]) -> Result<()> {
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        COUNT.fetch_add(1, Ordering::Relaxed)
    ));
    let write = || -> std::io::Result<()> {
        let mut f = private_file(OpenOptions::new().write(true).create_new(true)).open(&tmp)?;
        f.write_all(text)?;
        std::fs::rename(&tmp, path)
    };
    let r = write();
    if r.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    r.with_context(|| format!("writing {}", path.display()))
}

pub fn read_state(path: &Path) -> Result<SessionState> {
    let text = crate::bounded::read_text(path, crate::bounded::MAX_FILE_BYTES, "the session")?;
    serde_json::from_str(&text).with_context(|| format!("{} is not a session", path.display()))
}

/// A session as its journal tells it, read without taking the lock (`show`, `history`).
#[derive(Debug)]
pub struct Loaded {
    pub state: SessionState,
    /// Lines passed over, and whether `session.json` disagreed with the journal.
    pub warnings: Vec<String>,
}

/// Reads a session folder: the journal is the truth, `session.json` only a cache that is
/// checked against it.
pub fn load(dir: &Path) -> Result<Loaded> {
    let jpath = dir.join(JOURNAL);
    let cache = dir.join(STATE);
    if !jpath.exists() {
        bail!(
            "{} has no journal{}",
            dir.display(),
            if cache.exists() {
                " (only a session.json, which pushduty does not trust alone)"
            } else {
                ""
            }
        );
    }
    let read = journal::read(&jpath)?;
    let state = SessionState::rebuild(&read.entries)
        .with_context(|| format!("reading the journal {}", jpath.display()))?;
    let mut warnings = read.warnings;
    let stale = match read_state(&cache) {
        Err(_) if !cache.exists() => Some("was missing"),
        Err(_) => Some("was unreadable"),
        Ok(c) if c.seq < state.seq => Some("was older than the journal"),
        Ok(c) if c != state => Some("disagreed with the journal"),
        Ok(_) => None,
    };
    if let Some(why) = stale {
        warnings.push(format!(
            "{} {why}: the session was rebuilt from its journal",
            cache.display()
        ));
    }
    Ok(Loaded { state, warnings })
}

/// The session of the same runbook with the latest push date before `push_date` that has a
/// journal. Push dates are `YYYY-MM-DD`, so their names sort as dates.
pub fn previous_session(state_dir: &Path, slug: &str, push_date: &str) -> Option<PathBuf> {
    let root = state_dir.join("sessions").join(slug);
    std::fs::read_dir(&root)
        .ok()?
        .flatten()
        .filter_map(|d| {
            let name = d.file_name().to_string_lossy().into_owned();
            (name.len() == 10 && name.as_str() < push_date && d.path().join(JOURNAL).exists())
                .then_some(name)
        })
        .max()
        .map(|name| root.join(name))
}

const JOURNAL: &str = "journal.jsonl";
const STATE: &str = "session.json";

/// On-disk side of a live session: its folder, journal and lock.
pub struct Disk {
    pub dir: PathBuf,
    journal: Journal,
    lock: Lock,
}

/// What opening a session found.
#[derive(Debug, Default)]
pub struct Opened {
    pub resumed: bool,
    /// Steps that were running when the last process died.
    pub interrupted: Vec<String>,
    pub changes: Changes,
    /// Set when the last holder of the lock ended without letting go.
    pub lock_notice: Option<String>,
    /// Journal lines passed over, a cache rebuilt.
    pub warnings: Vec<String>,
    /// Items for this push carried in from the previous push's journal: (new id, text).
    pub carried: Vec<(String, String)>,
}

/// A session's state, written through to disk when it has a `Disk` (learn mode has none).
pub struct Session {
    pub state: SessionState,
    disk: Option<Disk>,
}

impl Session {
    /// A session that writes nothing: learn mode and tests.
    pub fn in_memory(state: SessionState) -> Self {
        Self { state, disk: None }
    }

    /// Locks the push and loads its session from the journal, or begins one from `fresh`.
    /// Steps found `running` become `interrupted`, and runbook changes are journaled and
    /// listed.
    pub fn open(
        state_dir: &Path,
        fresh: SessionState,
        rb: &Runbook,
    ) -> Result<(Self, Opened), LockError> {
        let dir = session_dir(state_dir, &fresh.slug, &fresh.push_date);
        private_session_dir(state_dir, &dir)?;
        let operator = fresh.operator.clone();
        let (lock, lock_notice) = Lock::acquire(&dir.join("lock"), &operator, &now_rfc3339())?;
        let jpath = dir.join(JOURNAL);
        let has_journal = std::fs::metadata(&jpath).is_ok_and(|m| m.len() > 0);
        let mut opened = Opened {
            lock_notice,
            ..Opened::default()
        };
        let state = if has_journal {
            let loaded = load(&dir)?;
            opened.warnings = loaded.warnings;
            opened.resumed = true;
            loaded.state
        } else if dir.join(STATE).exists() {
            return Err(LockError::Io(anyhow::anyhow!(
                "{} has a session.json but no journal: pushduty cannot tell what was done. \
                 Move that folder away to begin this push again.",
                dir.display()
            )));
        } else {
            fresh
        };
        let (journal, torn) = Journal::open(&jpath)?;
        if torn {
            opened.warnings.push(format!(
                "{}: its last line was cut short (pushduty stopped while writing it, or the disk \
                 was full); that entry is skipped",
                jpath.display()
            ));
        }
        let mut session = Self {
            state,
            disk: Some(Disk { dir, journal, lock }),
        };
        if !has_journal {
            let header = session.state.header();
            session.append(&operator, Event::Session(header))?;
            session.carry_items(state_dir, rb, &operator, &mut opened)?;
        }
        let changes = session.state.changes(rb);
        if !changes.is_empty() {
            session.append(
                &operator,
                Event::Runbook {
                    fingerprint: runbook_fingerprint(rb),
                    steps: step_fingerprints(rb),
                    added: changes.added.clone(),
                    removed: changes.removed.clone(),
                    changed: changes.changed.clone(),
                },
            )?;
        }
        opened.changes = changes;
        let running: Vec<String> = session
            .state
            .steps
            .iter()
            .filter(|(_, s)| matches!(s.status, Status::Running { .. }))
            .map(|(id, _)| id.clone())
            .collect();
        for id in running {
            let mut t = Transition::new(&id, "running", "interrupted");
            t.reason = Some("pushduty stopped while this step was running".into());
            session.record(
                &id,
                Status::Interrupted {
                    since: String::new(),
                },
                &operator,
                t,
            )?;
            opened.interrupted.push(id);
        }
        session.save()?;
        Ok((session, opened))
    }

    /// A new session takes in the items the previous push left for it (`--next-push`), each
    /// journaled here as an item of this push that says where it came from. A previous
    /// journal that cannot be read is a warning: it must not stop this push.
    fn carry_items(
        &mut self,
        state_dir: &Path,
        rb: &Runbook,
        operator: &str,
        opened: &mut Opened,
    ) -> Result<()> {
        let Some(prev) = previous_session(state_dir, &self.state.slug, &self.state.push_date)
        else {
            return Ok(());
        };
        let loaded = match load(&prev) {
            Ok(l) => l,
            Err(e) => {
                opened.warnings.push(format!(
                    "items for this push left by the previous one were not read: {e:#}"
                ));
                return Ok(());
            }
        };
        let last = rb.sections.last().map(|s| s.id.clone()).unwrap_or_default();
        for (id, it) in &loaded.state.items {
            if it.push != ItemFor::Next {
                continue;
            }
            let section = if rb.sections.iter().any(|s| s.id == it.section) {
                it.section.clone()
            } else {
                last.clone()
            };
            let new_id = self.state.next_item_id(rb);
            self.append(
                operator,
                Event::Item(Item {
                    id: new_id.clone(),
                    text: it.text.clone(),
                    section,
                    push: ItemFor::This,
                    from: Some(Origin {
                        push_date: loaded.state.push_date.clone(),
                        id: id.clone(),
                        by: it.by.clone(),
                        at: it.at.clone(),
                    }),
                    command: it.command.clone(),
                    release: None,
                }),
            )?;
            opened.carried.push((new_id, it.text.clone()));
        }
        Ok(())
    }

    /// Journals that the hero saw the briefing of what changed since `since`, as `lines`.
    pub fn briefed(&mut self, operator: &str, since: &str, lines: Vec<String>) -> Result<()> {
        self.append(
            operator,
            Event::Briefed {
                since: since.to_string(),
                lines,
            },
        )
    }

    /// Journals that the operator settled a divergence from the team's push log on `steps`.
    pub fn settled(&mut self, operator: &str, steps: Vec<String>, reason: &str) -> Result<()> {
        self.append(
            operator,
            Event::Settled {
                steps,
                reason: reason.to_string(),
            },
        )
    }

    /// Journals an ad-hoc item (its id, text and section checked by the caller).
    pub fn add_item(&mut self, operator: &str, item: Item) -> Result<()> {
        self.append(operator, Event::Item(item))
    }

    pub fn dir(&self) -> Option<&Path> {
        self.disk.as_ref().map(|d| d.dir.as_path())
    }

    pub fn status(&self, step: &str) -> Option<&Status> {
        self.state.steps.get(step).map(|s| &s.status)
    }

    /// Replaces `session.json`, the cache of the journal for readers outside pushduty. The
    /// journal is synced before this is written, and every open rebuilds the state from the
    /// journal and checks the cache against it, so the cache need not wait for the disk.
    fn save(&self) -> Result<()> {
        if let Some(d) = &self.disk {
            let text = serde_json::to_vec_pretty(&self.state).context("encoding the session")?;
            write_cache(&d.dir.join(STATE), &text)?;
        }
        Ok(())
    }

    /// Journals one event (fsync'd), then applies it to the state in memory and replaces the
    /// cache, so nothing is shown that is not on disk.
    fn append(&mut self, operator: &str, event: Event) -> Result<()> {
        let (entry, next) = self.entry(operator, event)?;
        self.commit(entry, next)
    }

    /// The entry of `event` now, and the state it makes (nothing journaled yet).
    fn entry(&self, operator: &str, event: Event) -> Result<(Entry, SessionState)> {
        let entry = Entry {
            time: now_rfc3339(),
            operator: operator.to_string(),
            event,
        };
        let mut next = self.state.clone();
        next.apply(&entry)?;
        Ok((entry, next))
    }

    /// Journals `entry` (the lock still ours) and makes `next` the state.
    fn commit(&mut self, entry: Entry, next: SessionState) -> Result<()> {
        if let Some(d) = &mut self.disk {
            d.lock.check()?;
            d.journal.append(&entry)?;
        }
        self.state = next;
        // The journal has it: a cache that cannot be written (a full disk) is found older
        // than the journal and rebuilt on the next open, so this is not the step's failure.
        let _ = self.save();
        Ok(())
    }

    /// One transition of a step. `t` carries its note, reason, action, outputs and tags;
    /// its `from` and `to` are filled in here, and a skip's or failure's text becomes its
    /// reason.
    pub fn record(&mut self, step: &str, to: Status, operator: &str, t: Transition) -> Result<()> {
        let t = self.filled(step, to, t)?;
        let (from, to, reason) = (t.from.clone(), t.to.clone(), t.reason.clone());
        self.append(operator, Event::Step(t))?;
        log_transition(step, &from, &to, reason.as_deref());
        Ok(())
    }

    /// `t` as `step` moving to `to` from where it is now.
    fn filled(&self, step: &str, to: Status, mut t: Transition) -> Result<Transition> {
        let from = self
            .status(step)
            .with_context(|| format!("no step `{step}` in this session"))?;
        t.step = step.to_string();
        t.from = from.name().to_string();
        t.to = to.name().to_string();
        match to {
            Status::Skipped { reason } | Status::Failed { error: reason } if t.reason.is_none() => {
                t.reason = Some(reason);
            }
            _ => {}
        }
        Ok(t)
    }

    /// Journals `entries` (other operators' lines, from the team's push log, each with its
    /// own operator and time) after a line saying where they came from. All of them or none:
    /// they are added up on a copy of the state first, and one that does not fit (a step this
    /// runbook lacks, an item id taken here) refuses the lot with nothing journaled.
    pub fn take_in(
        &mut self,
        operator: &str,
        from: &str,
        entries: Vec<Entry>,
        tags: IndexMap<String, String>,
    ) -> Result<()> {
        let marker = Entry {
            time: now_rfc3339(),
            operator: operator.to_string(),
            event: Event::Imported {
                from: from.to_string(),
                lines: entries.len(),
                tags,
            },
        };
        let mut next = self.state.clone();
        let all: Vec<Entry> = std::iter::once(marker).chain(entries).collect();
        for (i, e) in all.iter().enumerate() {
            next.apply(e).with_context(|| {
                format!(
                    "line {i} of what the push log has and this journal has not (by {} at {}) \
                     does not fit this push here; nothing was taken in",
                    e.operator, e.time
                )
            })?;
        }
        if let Some(d) = &mut self.disk {
            d.lock.check()?;
            for e in &all {
                d.journal.append(e)?;
            }
        }
        self.state = next;
        let _ = self.save();
        Ok(())
    }

    /// The entry [`Session::record`] would journal, and the state it would make, without
    /// journaling it: for a step whose start is first written elsewhere (the team's push
    /// log), then journaled as it was written with [`Session::append_prepared`].
    pub fn prepare_record(
        &self,
        step: &str,
        to: Status,
        operator: &str,
        t: Transition,
    ) -> Result<(Entry, SessionState)> {
        let t = self.filled(step, to, t)?;
        self.entry(operator, Event::Step(t))
    }

    /// Journals an entry made by [`Session::prepare_record`], unless the journal moved since
    /// (then the state it made is not this journal's next).
    pub fn append_prepared(&mut self, entry: Entry, next: SessionState) -> Result<()> {
        if next.seq != self.state.seq + 1 {
            bail!(
                "the journal moved while the step's start was being written elsewhere: it was \
                 not started here; look again"
            );
        }
        let moved = match &entry.event {
            Event::Step(t) => Some((
                t.step.clone(),
                t.from.clone(),
                t.to.clone(),
                t.reason.clone(),
            )),
            _ => None,
        };
        self.commit(entry, next)?;
        if let Some((step, from, to, reason)) = moved {
            log_transition(&step, &from, &to, reason.as_deref());
        }
        Ok(())
    }

    /// Journals a running step's handle the moment it is known.
    pub fn checkpoint(&mut self, step: &str, operator: &str, values: Outputs) -> Result<()> {
        self.append(
            operator,
            Event::Checkpoint {
                step: step.to_string(),
                values,
            },
        )
    }
}

/// Every step transition passes through [`Session::record`], the engine's and the CLI's alike,
/// so this is the one place the log hears of steps. The reason is the journal's text, which
/// services have already scrubbed of their secrets.
fn log_transition(step: &str, from: &str, to: &str, reason: Option<&str>) {
    let reason = reason.unwrap_or("");
    match to {
        "running" => tracing::info!(step, from, "step started"),
        "done" => tracing::info!(step, from, "step finished"),
        "failed" => tracing::warn!(step, from, reason, "step failed"),
        "interrupted" => tracing::warn!(step, from, reason, "step interrupted"),
        _ => tracing::info!(step, from, to, reason, "step status changed"),
    }
}
