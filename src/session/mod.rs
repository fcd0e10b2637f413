//! A session is one push of one runbook: each step's status and outputs, kept on disk as
//! `<state-dir>/sessions/<runbook-slug>/<push_date>/session.json` (replaced atomically) next to
//! its append-only journal and its lock. No ratatui here, and nothing secret is ever written:
//! only step statuses, operator-typed text and step outputs.

pub mod journal;
pub mod lock;

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result, bail};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::runbook::model::{Outputs, Runbook, Step};
use crate::runbook::vars::Vars;
use journal::{Entry, Event, Header, Journal, Transition};
use lock::{Lock, LockError};

/// Where a step is. Finished states are `Done`, `Skipped` and `NotApplicable`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Status {
    Pending,
    Running {
        since: String,
    },
    Done {
        at: String,
    },
    Skipped {
        reason: String,
    },
    Failed {
        error: String,
    },
    /// Its `only_if` is false for the choices made.
    NotApplicable,
    /// It was running when pushduty stopped: it may have partly happened.
    Interrupted {
        since: String,
    },
}

impl Status {
    pub fn name(&self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Running { .. } => "running",
            Status::Done { .. } => "done",
            Status::Skipped { .. } => "skipped",
            Status::Failed { .. } => "failed",
            Status::NotApplicable => "not_applicable",
            Status::Interrupted { .. } => "interrupted",
        }
    }

    /// A mark per status, distinct without colour: the checklist and `show` print it.
    pub fn mark(&self) -> &'static str {
        match self {
            Status::Pending => "[ ]",
            Status::Running { .. } => "[>]",
            Status::Done { .. } => "[x]",
            Status::Skipped { .. } => "[-]",
            Status::Failed { .. } => "[!]",
            Status::NotApplicable => "[/]",
            Status::Interrupted { .. } => "[?]",
        }
    }

    pub fn is_finished(&self) -> bool {
        matches!(
            self,
            Status::Done { .. } | Status::Skipped { .. } | Status::NotApplicable
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepState {
    pub status: Status,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub outputs: Outputs,
    /// Hash of the step's definition when the session last saw it.
    pub fingerprint: String,
    /// The resolved action of its last run: what it is doing, or what it did.
    #[serde(default)]
    pub action: Option<String>,
    /// Who made the last transition, and when.
    #[serde(default)]
    pub by: Option<String>,
    #[serde(default)]
    pub at: Option<String>,
    /// Why a step that was done must run again (what it would do changed).
    #[serde(default)]
    pub stale_reason: Option<String>,
    /// The running step's handle (e.g. its process group), for a restarted pushduty.
    #[serde(default)]
    pub checkpoint: Outputs,
    /// The repos' tags when it was last done: what "done" referred to.
    #[serde(default)]
    pub done_tags: IndexMap<String, String>,
}

impl StepState {
    fn new(fingerprint: String) -> Self {
        Self {
            status: Status::Pending,
            note: None,
            outputs: Outputs::new(),
            fingerprint,
            action: None,
            by: None,
            at: None,
            stale_reason: None,
            checkpoint: Outputs::new(),
            done_tags: IndexMap::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionState {
    pub runbook: String,
    pub slug: String,
    pub push_date: String,
    pub tag: String,
    pub operator: String,
    pub started: String,
    pub updated: String,
    /// Hash of the runbook the session last saw.
    #[serde(default)]
    pub fingerprint: String,
    /// How many journal entries this state adds up: a cache with fewer is older than the
    /// journal.
    #[serde(default)]
    pub seq: u64,
    /// In runbook order.
    pub steps: IndexMap<String, StepState>,
    /// Values set by steps (choices and outputs), read by later templates and `only_if`s.
    #[serde(default)]
    pub values: Map<String, Value>,
    /// Each repo's tag for this push, fixed when the session begins; a re-tag after
    /// cherry-picks replaces it with the new revision.
    #[serde(default)]
    pub repo_tags: IndexMap<String, String>,
}

/// What differs between the runbook a session began with and the one loaded now.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Changes {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: Vec<String>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }

    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (what, ids) in [
            ("added", &self.added),
            ("removed", &self.removed),
            ("changed", &self.changed),
        ] {
            if !ids.is_empty() {
                out.push(format!(
                    "runbook changed since this session began: {what} {}",
                    ids.join(", ")
                ));
            }
        }
        out
    }
}

/// A stable hash (FNV-1a 64) of a step's serialized definition: unlike `DefaultHasher` it
/// does not change between Rust releases, so journals from older builds still compare.
pub fn fingerprint(step: &Step) -> String {
    fnv(&serde_json::to_string(step).unwrap_or_default())
}

fn fnv(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "runbook".into()
    } else {
        out
    }
}

pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A stable hash of the whole runbook as the session sees it: its name and every step.
pub fn runbook_fingerprint(rb: &Runbook) -> String {
    let mut text = rb.name.clone();
    for s in &rb.steps {
        text.push('\n');
        text.push_str(&s.id);
        text.push('=');
        text.push_str(&fingerprint(s));
    }
    fnv(&text)
}

fn step_fingerprints(rb: &Runbook) -> IndexMap<String, String> {
    rb.steps
        .iter()
        .map(|s| (s.id.clone(), fingerprint(s)))
        .collect()
}

impl SessionState {
    /// A session not begun yet: every step pending, each repo with its planned tag.
    pub fn new(rb: &Runbook, vars: &Vars, operator: &str) -> Self {
        let header = Header {
            runbook: rb.name.clone(),
            fingerprint: runbook_fingerprint(rb),
            slug: slug(&rb.name),
            push_date: vars.push_date.clone(),
            tag: vars.tag.clone(),
            tags: vars
                .repos
                .iter()
                .map(|(n, r)| (n.clone(), r.tag.clone()))
                .collect(),
            steps: step_fingerprints(rb),
        };
        Self::begun(&header, operator, &now_rfc3339())
    }

    /// The state a journal's first line describes.
    fn begun(h: &Header, operator: &str, time: &str) -> Self {
        Self {
            runbook: h.runbook.clone(),
            slug: h.slug.clone(),
            push_date: h.push_date.clone(),
            tag: h.tag.clone(),
            operator: operator.to_string(),
            started: time.to_string(),
            updated: time.to_string(),
            fingerprint: h.fingerprint.clone(),
            seq: 0,
            steps: h
                .steps
                .iter()
                .map(|(id, fp)| (id.clone(), StepState::new(fp.clone())))
                .collect(),
            values: Map::new(),
            repo_tags: h.tags.clone(),
        }
    }

    fn header(&self) -> Header {
        Header {
            runbook: self.runbook.clone(),
            fingerprint: self.fingerprint.clone(),
            slug: self.slug.clone(),
            push_date: self.push_date.clone(),
            tag: self.tag.clone(),
            tags: self.repo_tags.clone(),
            steps: self
                .steps
                .iter()
                .map(|(id, s)| (id.clone(), s.fingerprint.clone()))
                .collect(),
        }
    }

    /// Adds up a journal. It must begin with its session line.
    pub fn rebuild(entries: &[Entry]) -> Result<Self> {
        let Some((first, rest)) = entries.split_first() else {
            bail!("the journal has no readable entry");
        };
        let Event::Session(h) = &first.event else {
            bail!("the journal does not begin with its session line");
        };
        let mut st = Self::begun(h, &first.operator, &first.time);
        st.seq = 1;
        for e in rest {
            st.apply(e)?;
        }
        Ok(st)
    }

    /// One journal entry's effect. The live session and a rebuild both come through here, so
    /// what is shown is what the journal says.
    pub fn apply(&mut self, e: &Entry) -> Result<()> {
        self.seq += 1;
        self.updated = e.time.clone();
        match &e.event {
            // The first line of a journal: the state began from it already.
            Event::Session(_) if self.seq == 1 => {}
            Event::Session(_) => bail!("a second session line in one journal"),
            Event::Runbook {
                fingerprint, steps, ..
            } => {
                let mut next = IndexMap::new();
                for (id, fp) in steps {
                    let mut st = self
                        .steps
                        .shift_remove(id)
                        .unwrap_or_else(|| StepState::new(fp.clone()));
                    st.fingerprint = fp.clone();
                    next.insert(id.clone(), st);
                }
                self.steps = next;
                self.fingerprint = fingerprint.clone();
            }
            Event::Checkpoint { step, values } => {
                if let Some(s) = self.steps.get_mut(step) {
                    s.checkpoint.extend(values.clone());
                }
            }
            Event::Step(t) => {
                if let Some(tags) = &t.tags {
                    self.repo_tags = tags.clone();
                }
                let repo_tags = self.repo_tags.clone();
                let s = self
                    .steps
                    .get_mut(&t.step)
                    .with_context(|| format!("no step `{}` in this session", t.step))?;
                let reason = || t.reason.clone().unwrap_or_default();
                s.status = match t.to.as_str() {
                    "pending" => Status::Pending,
                    "running" => Status::Running {
                        since: e.time.clone(),
                    },
                    "done" => Status::Done { at: e.time.clone() },
                    "skipped" => Status::Skipped { reason: reason() },
                    "failed" => Status::Failed { error: reason() },
                    "not_applicable" => Status::NotApplicable,
                    "interrupted" => Status::Interrupted {
                        since: match &s.status {
                            Status::Running { since } | Status::Interrupted { since } => {
                                since.clone()
                            }
                            _ => e.time.clone(),
                        },
                    },
                    other => bail!("`{other}` is not a step status"),
                };
                s.by = Some(e.operator.clone());
                s.at = Some(e.time.clone());
                if t.note.is_some() {
                    s.note = t.note.clone();
                }
                if t.action.is_some() {
                    s.action = t.action.clone();
                }
                if t.stale {
                    s.stale_reason = t.reason.clone();
                } else if matches!(t.to.as_str(), "running" | "done" | "skipped") {
                    s.stale_reason = None;
                }
                if t.to == "running" {
                    s.checkpoint.clear();
                }
                if t.to == "done" {
                    s.done_tags = repo_tags;
                }
                for (k, v) in &t.outputs {
                    s.outputs.insert(k.clone(), v.clone());
                    self.values.insert(k.clone(), v.clone());
                }
            }
        }
        Ok(())
    }

    /// Compares the steps with the runbook loaded now: new steps are pending, removed ones
    /// dropped, changed ones keep their status (the operator decides) and are listed.
    pub fn changes(&self, rb: &Runbook) -> Changes {
        let mut changes = Changes::default();
        for s in &rb.steps {
            match self.steps.get(&s.id) {
                Some(st) if st.fingerprint != fingerprint(s) => changes.changed.push(s.id.clone()),
                Some(_) => {}
                None => changes.added.push(s.id.clone()),
            }
        }
        changes.removed = self
            .steps
            .keys()
            .filter(|id| rb.step(id).is_none())
            .cloned()
            .collect();
        changes
    }

    /// (finished, applicable): done or skipped steps over those that apply.
    pub fn progress(&self) -> (usize, usize) {
        let total = self
            .steps
            .values()
            .filter(|s| s.status != Status::NotApplicable)
            .count();
        let done = self
            .steps
            .values()
            .filter(|s| matches!(s.status, Status::Done { .. } | Status::Skipped { .. }))
            .count();
        (done, total)
    }

    pub fn outcome(&self) -> &'static str {
        let st = || self.steps.values().map(|s| &s.status);
        if st().any(|s| matches!(s, Status::Running { .. } | Status::Interrupted { .. })) {
            "interrupted"
        } else if st().any(|s| matches!(s, Status::Failed { .. })) {
            "failed"
        } else if st().all(Status::is_finished) {
            "complete"
        } else if st().all(|s| *s == Status::Pending || *s == Status::NotApplicable) {
            "not started"
        } else {
            "in progress"
        }
    }
}

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

/// Writes `text` to `path` so a reader sees the old or the new file, never a mix. The
/// temporary file has a name of its own, so two writers never share one.
pub fn write_atomic(path: &Path, text: &[u8]) -> Result<()> {
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
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        if let Some(dir) = path.parent() {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    };
    let r = write();
    if r.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    r.with_context(|| format!("writing {}", path.display()))
}

pub fn read_state(path: &Path) -> Result<SessionState> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
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

const JOURNAL: &str = "journal.jsonl";
const STATE: &str = "session.json";

/// On-disk side of a live session: its folder, journal and lock.
pub struct Disk {
    pub dir: PathBuf,
    journal: Journal,
    _lock: Lock,
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
                "{}: its last line was torn by a crash",
                jpath.display()
            ));
        }
        let mut session = Self {
            state,
            disk: Some(Disk {
                dir,
                journal,
                _lock: lock,
            }),
        };
        if !has_journal {
            let header = session.state.header();
            session.append(&operator, Event::Session(header))?;
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

    pub fn dir(&self) -> Option<&Path> {
        self.disk.as_ref().map(|d| d.dir.as_path())
    }

    pub fn status(&self, step: &str) -> Option<&Status> {
        self.state.steps.get(step).map(|s| &s.status)
    }

    fn save(&self) -> Result<()> {
        if let Some(d) = &self.disk {
            let text = serde_json::to_vec_pretty(&self.state).context("encoding the session")?;
            write_atomic(&d.dir.join(STATE), &text)?;
        }
        Ok(())
    }

    /// Journals one event (fsync'd), then applies it to the state in memory and replaces the
    /// cache, so nothing is shown that is not on disk.
    fn append(&mut self, operator: &str, event: Event) -> Result<()> {
        let entry = Entry {
            time: now_rfc3339(),
            operator: operator.to_string(),
            event,
        };
        let mut next = self.state.clone();
        next.apply(&entry)?;
        if let Some(d) = &mut self.disk {
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
    pub fn record(
        &mut self,
        step: &str,
        to: Status,
        operator: &str,
        mut t: Transition,
    ) -> Result<()> {
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
        self.append(operator, Event::Step(t))
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

/// One line of `history`.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub runbook: String,
    pub push_date: String,
    pub operator: String,
    pub done: usize,
    pub total: usize,
    pub outcome: String,
    pub started: String,
    pub path: String,
    /// Why the session could not be read; the other fields are then what its folder says.
    pub error: Option<String>,
}

/// Every session under the state dir, newest push first. One that cannot be read is listed
/// with why, not allowed to hide the others.
pub fn history(state_dir: &Path) -> Result<Vec<Summary>> {
    let root = state_dir.join("sessions");
    let mut out = Vec::new();
    let Ok(books) = std::fs::read_dir(&root) else {
        return Ok(out);
    };
    for book in books.flatten() {
        let Ok(dates) = std::fs::read_dir(book.path()) else {
            continue;
        };
        for date in dates.flatten() {
            let dir = date.path();
            if !dir.join(JOURNAL).exists() && !dir.join(STATE).exists() {
                continue;
            }
            let summary = match load(&dir) {
                Ok(l) => {
                    let st = l.state;
                    let (done, total) = st.progress();
                    Summary {
                        runbook: st.runbook.clone(),
                        push_date: st.push_date.clone(),
                        operator: st.operator.clone(),
                        done,
                        total,
                        outcome: st.outcome().to_string(),
                        started: st.started.clone(),
                        path: dir.display().to_string(),
                        error: None,
                    }
                }
                Err(e) => Summary {
                    runbook: book.file_name().to_string_lossy().into_owned(),
                    push_date: date.file_name().to_string_lossy().into_owned(),
                    operator: String::new(),
                    done: 0,
                    total: 0,
                    outcome: "unreadable".into(),
                    started: String::new(),
                    path: dir.display().to_string(),
                    error: Some(format!("{e:#}")),
                },
            };
            out.push(summary);
        }
    }
    out.sort_by(|a, b| {
        b.push_date
            .cmp(&a.push_date)
            .then(a.runbook.cmp(&b.runbook))
    });
    Ok(out)
}
