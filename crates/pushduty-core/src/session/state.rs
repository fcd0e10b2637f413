//! What a session is at one moment: each step's status, what it did, and the values steps set.
//! It is what the journal's lines add up to ([`SessionState::apply`]).

use anyhow::{Context, Result, bail};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::journal::{Entry, Event, FromRelease, Header, Item, ItemFor, Origin};
use crate::runbook::model::{ManualStep, Outputs, Runbook, ShellStep, Step, StepCommon, StepKind};
use crate::runbook::vars::Vars;

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
    /// When it was last done by hand: what the operator was shown to do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by_hand: Option<String>,
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
            by_hand: None,
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
    /// Ad-hoc items, in the order they were added. Those for this push also have their
    /// status in `steps`, under the same id.
    #[serde(default)]
    pub items: IndexMap<String, ItemState>,
    /// Each service as the session began, `KIND ADDRESS` (see [`service_marks`]).
    #[serde(default)]
    pub services: IndexMap<String, String>,
    /// The hero saw the briefing of what changed since their last push.
    #[serde(default)]
    pub briefed: bool,
}

/// An ad-hoc item as the journal adds it up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemState {
    pub text: String,
    pub section: String,
    #[serde(rename = "for")]
    pub push: ItemFor,
    /// Who added it to this session, and when.
    pub by: String,
    pub at: String,
    #[serde(default)]
    pub from: Option<Origin>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<FromRelease>,
}

impl ItemState {
    /// The manual step an item of this push is, for the engine and the screens. Its text is
    /// data, not a template: any `{` is written so that filling it in gives it back as typed.
    pub fn step(&self, id: &str) -> Step {
        let mut doc = format!(
            "An ad-hoc item, added by {} at {}, for this push only.",
            self.by, self.at
        );
        if let Some(o) = &self.from {
            doc.push_str(&format!(
                " Carried from the push of {} (its `{}`, added there by {} at {}).",
                o.push_date, o.id, o.by, o.at
            ));
        }
        if let Some(r) = &self.release {
            doc.push_str(&format!(
                " Listed in the body of the release {} of repo `{}` (read by `{}`): its \
                 outcome is ticked there by the step that writes the items back.",
                r.tag, r.repo, r.step
            ));
        }
        let kind = match self.command.as_deref().and_then(crate::shell::literal) {
            Some(command) => {
                doc.push_str(
                    " Its command is run as written in the release, in the repo's checkout: \
                     read it in full before you confirm.",
                );
                StepKind::Shell(ShellStep {
                    command,
                    repo: self.release.as_ref().map(|r| r.repo.clone()),
                    timeout_secs: ITEM_COMMAND_TIMEOUT_SECS,
                    env: Vec::new(),
                })
            }
            None => StepKind::Manual(ManualStep {}),
        };
        Step {
            common: StepCommon {
                id: id.to_string(),
                title: literal(&self.text),
                section: self.section.clone(),
                doc: literal(&doc),
                day: None,
                confirm: None,
                only_if: None,
                outputs: Vec::new(),
                after: Vec::new(),
                tell: None,
                told_for: None,
            },
            kind,
        }
    }
}

/// How long a command taken from a release body may run.
const ITEM_COMMAND_TIMEOUT_SECS: u64 = 600;

/// `text` as a template that renders to exactly `text`.
fn literal(text: &str) -> String {
    text.replace('{', "{{ \"{\" }}")
}

pub use crate::runbook::model::ITEM_PREFIX;

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

/// Each service as `KIND ADDRESS`, the address being its `url`, `api_url` or `host`: enough to
/// tell a later hero that a service moved.
pub fn service_marks(rb: &Runbook) -> IndexMap<String, String> {
    rb.services
        .iter()
        .map(|(name, svc)| {
            let v = serde_json::to_value(svc).unwrap_or_default();
            let place = ["url", "api_url", "host"]
                .iter()
                .find_map(|k| v[*k].as_str())
                .unwrap_or_default();
            (
                name.clone(),
                format!("{} {place}", svc.kind()).trim_end().to_string(),
            )
        })
        .collect()
}

pub(super) fn step_fingerprints(rb: &Runbook) -> IndexMap<String, String> {
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
            services: service_marks(rb),
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
            items: IndexMap::new(),
            services: h.services.clone(),
            briefed: false,
        }
    }

    pub(super) fn header(&self) -> Header {
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
            services: self.services.clone(),
        }
    }

    /// Adds up a journal. It must begin with its session line.
    pub fn rebuild(entries: &[Entry]) -> Result<Self> {
        let Some((first, rest)) = entries.split_first() else {
            bail!(
                "the journal has no readable entry (move its folder away to begin this push again)"
            );
        };
        let Event::Session(h) = &first.event else {
            bail!(
                "the journal does not begin with its session line (written by an older pushduty?); \
                 move its folder away to begin this push again"
            );
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
                // Items are not the runbook's: a change of the runbook keeps them.
                for id in self.items.keys() {
                    if let Some(st) = self.steps.shift_remove(id) {
                        next.insert(id.clone(), st);
                    }
                }
                self.steps = next;
                self.fingerprint = fingerprint.clone();
            }
            Event::Item(it) => self.add_item(it, e)?,
            Event::Briefed { .. } => self.briefed = true,
            // Said for the team; the steps' lines on either side say what happened.
            Event::Settled { .. } => {}
            // What it announces follows, line by line; the push's tags are the log's.
            Event::Imported { tags, .. } => {
                if !tags.is_empty() {
                    self.repo_tags = tags.clone();
                }
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
                if matches!(t.to.as_str(), "done" | "running" | "pending") {
                    s.by_hand = t.by_hand.clone().filter(|_| t.to == "done");
                }
                for (k, v) in &t.outputs {
                    s.outputs.insert(k.clone(), v.clone());
                    self.values.insert(k.clone(), v.clone());
                }
            }
        }
        Ok(())
    }

    fn add_item(&mut self, it: &Item, e: &Entry) -> Result<()> {
        if self.items.contains_key(&it.id) || self.steps.contains_key(&it.id) {
            bail!("the id `{}` of an ad-hoc item is taken already", it.id);
        }
        if it.push == ItemFor::This {
            self.steps
                .insert(it.id.clone(), StepState::new(fnv(&it.text)));
        }
        self.items.insert(
            it.id.clone(),
            ItemState {
                text: it.text.clone(),
                section: it.section.clone(),
                push: it.push,
                by: e.operator.clone(),
                at: e.time.clone(),
                from: it.from.clone(),
                command: it.command.clone(),
                release: it.release.clone(),
            },
        );
        Ok(())
    }

    /// The next free item id: `item-1`, `item-2`, ... skipping any id in use.
    pub fn next_item_id(&self, rb: &Runbook) -> String {
        (self.items.len() + 1..)
            .map(|n| format!("{ITEM_PREFIX}{n}"))
            .find(|id| {
                !self.items.contains_key(id)
                    && !self.steps.contains_key(id)
                    && rb.step(id).is_none()
            })
            .unwrap_or_else(|| format!("{ITEM_PREFIX}{}", self.items.len() + 1))
    }

    /// The runbook's steps with this push's items among them, each after the last step of
    /// its section (or where its section would be, if that section has no steps).
    pub fn steps_with_items(&self, rb: &Runbook) -> Vec<Step> {
        let rank = |section: &str| rb.sections.iter().position(|s| s.id == section);
        let mut steps = rb.steps.clone();
        for (id, it) in &self.items {
            if it.push != ItemFor::This || steps.iter().any(|s| s.id == *id) {
                continue;
            }
            let mut at = match rank(&it.section) {
                Some(r) => steps
                    .iter()
                    .rposition(|s| rank(&s.section).is_some_and(|x| x <= r))
                    .map_or(0, |i| i + 1),
                None => steps.len(),
            };
            // A step writing the items' outcomes back comes after the items of its section.
            while at > 0
                && steps[at - 1].section == it.section
                && crate::runbook::kinds::release::writes_items_back(&steps[at - 1])
            {
                at -= 1;
            }
            steps.insert(at, it.step(id));
        }
        steps
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
            .filter(|id| rb.step(id).is_none() && !self.items.contains_key(*id))
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
