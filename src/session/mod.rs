//! A session is one push of one runbook: each step's status and outputs, kept on disk as
//! `<state-dir>/sessions/<runbook-slug>/<push_date>/session.json` (replaced atomically) next to
//! its append-only journal and its lock. No ratatui here, and nothing secret is ever written:
//! only step statuses, operator-typed text and step outputs.

pub mod journal;
pub mod lock;

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::runbook::model::{Outputs, Runbook, Step};
use journal::{Entry, Journal};
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
    let text = serde_json::to_string(step).unwrap_or_default();
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

impl SessionState {
    pub fn new(rb: &Runbook, push_date: &str, tag: &str, operator: &str) -> Self {
        let now = now_rfc3339();
        Self {
            runbook: rb.name.clone(),
            slug: slug(&rb.name),
            push_date: push_date.to_string(),
            tag: tag.to_string(),
            operator: operator.to_string(),
            started: now.clone(),
            updated: now,
            steps: rb
                .steps
                .iter()
                .map(|s| {
                    (
                        s.id.clone(),
                        StepState {
                            status: Status::Pending,
                            note: None,
                            outputs: Outputs::new(),
                            fingerprint: fingerprint(s),
                        },
                    )
                })
                .collect(),
            values: Map::new(),
            repo_tags: IndexMap::new(),
        }
    }

    /// Brings the state in line with the runbook loaded now: new steps are pending, removed
    /// ones dropped, changed ones keep their status (the operator decides) and are listed.
    pub fn reconcile(&mut self, rb: &Runbook) -> Changes {
        let mut changes = Changes::default();
        let mut steps = IndexMap::new();
        for s in &rb.steps {
            let fp = fingerprint(s);
            match self.steps.shift_remove(&s.id) {
                Some(mut st) => {
                    if st.fingerprint != fp {
                        changes.changed.push(s.id.clone());
                        st.fingerprint = fp;
                    }
                    steps.insert(s.id.clone(), st);
                }
                None => {
                    changes.added.push(s.id.clone());
                    steps.insert(
                        s.id.clone(),
                        StepState {
                            status: Status::Pending,
                            note: None,
                            outputs: Outputs::new(),
                            fingerprint: fp,
                        },
                    );
                }
            }
        }
        changes.removed = self.steps.keys().cloned().collect();
        self.steps = steps;
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

/// Writes `text` to `path` so a reader sees the old or the new file, never a mix.
pub fn write_atomic(path: &Path, text: &[u8]) -> Result<()> {
    let tmp = path.with_extension("json.tmp");
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        if let Some(dir) = path.parent() {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    };
    write().with_context(|| format!("writing {}", path.display()))
}

pub fn read_state(path: &Path) -> Result<SessionState> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not a session", path.display()))
}

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
    /// Set when a stale lock was taken over.
    pub lock_notice: Option<String>,
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

    /// Locks the push and loads its session, or starts one from `fresh`. Steps found
    /// `running` become `interrupted` (journaled), and runbook changes are listed.
    pub fn open(
        state_dir: &Path,
        fresh: SessionState,
        rb: &Runbook,
    ) -> Result<(Self, Opened), LockError> {
        let dir = session_dir(state_dir, &fresh.slug, &fresh.push_date);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("creating the session folder {}", dir.display()))?;
        let operator = fresh.operator.clone();
        let (lock, lock_notice) = Lock::acquire(&dir.join("lock"), &operator, &now_rfc3339())?;
        let journal = Journal::open(&dir.join("journal.jsonl"))?;
        let path = dir.join("session.json");
        let mut opened = Opened {
            lock_notice,
            ..Opened::default()
        };
        let state = if path.exists() {
            let mut st = read_state(&path)?;
            opened.resumed = true;
            opened.changes = st.reconcile(rb);
            st
        } else {
            fresh
        };
        let mut session = Self {
            state,
            disk: Some(Disk {
                dir,
                journal,
                _lock: lock,
            }),
        };
        let running: Vec<(String, String)> = session
            .state
            .steps
            .iter()
            .filter_map(|(id, s)| match &s.status {
                Status::Running { since } => Some((id.clone(), since.clone())),
                _ => None,
            })
            .collect();
        for (id, since) in running {
            session.record(
                &id,
                Status::Interrupted { since },
                &operator,
                Some("pushduty stopped while this step was running".into()),
                Outputs::new(),
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

    /// Replaces the repos' tag names (state file written before the change shows).
    pub fn set_repo_tags(&mut self, tags: IndexMap<String, String>) -> Result<()> {
        let old = std::mem::replace(&mut self.state.repo_tags, tags);
        if let Err(e) = self.save() {
            self.state.repo_tags = old;
            return Err(e);
        }
        Ok(())
    }

    fn save(&self) -> Result<()> {
        if let Some(d) = &self.disk {
            let text = serde_json::to_vec_pretty(&self.state).context("encoding the session")?;
            write_atomic(&d.dir.join("session.json"), &text)?;
        }
        Ok(())
    }

    /// One transition: journaled and fsync'd, then the state file replaced, then the state
    /// in memory changed, so nothing is shown that is not on disk.
    pub fn record(
        &mut self,
        step: &str,
        to: Status,
        operator: &str,
        note: Option<String>,
        outputs: Outputs,
    ) -> Result<()> {
        let from = self
            .status(step)
            .with_context(|| format!("no step `{step}` in this session"))?
            .clone();
        let now = now_rfc3339();
        let mut next = self.state.clone();
        next.updated = now.clone();
        if let Some(s) = next.steps.get_mut(step) {
            s.status = to.clone();
            if note.is_some() {
                s.note = note.clone();
            }
            for (k, v) in &outputs {
                s.outputs.insert(k.clone(), v.clone());
                next.values.insert(k.clone(), v.clone());
            }
        }
        if let Some(d) = &mut self.disk {
            d.journal.append(&Entry {
                time: now,
                operator: operator.to_string(),
                step: step.to_string(),
                from: from.name().to_string(),
                to: to.name().to_string(),
                note,
                outputs,
            })?;
        }
        let old = std::mem::replace(&mut self.state, next);
        if let Err(e) = self.save() {
            self.state = old;
            return Err(e);
        }
        Ok(())
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
}

/// Every session under the state dir, newest push first.
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
            let path = date.path().join("session.json");
            if !path.exists() {
                continue;
            }
            let st = read_state(&path)?;
            let (done, total) = st.progress();
            out.push(Summary {
                runbook: st.runbook.clone(),
                push_date: st.push_date.clone(),
                operator: st.operator.clone(),
                done,
                total,
                outcome: st.outcome().to_string(),
                started: st.started.clone(),
                path: path.display().to_string(),
            });
        }
    }
    out.sort_by(|a, b| {
        b.push_date
            .cmp(&a.push_date)
            .then(a.runbook.cmp(&b.runbook))
    });
    Ok(out)
}
