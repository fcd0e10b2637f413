//! What an executor is given (a [`Job`], the operator's inputs and console) and what it gives
//! back (progress, checkpoints, outputs), and the registry that finds one by step kind.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Result;
use serde_json::Value;

use super::unavailable;
use crate::git::tags::TagFormat;
use crate::runbook::Loaded;
use crate::runbook::model::{Outputs, Runbook, Step, StepKind};
use crate::templates::Base;
use pushduty_core::runbook::kinds::Kind;

/// Strings the operator typed for a step, by key (a note, an output value, a choice, a list
/// of commits).
pub type Inputs = BTreeMap<String, String>;

/// The key of the free-form note every step accepts; it goes to the journal, not the outputs.
pub const NOTE: &str = "note";

/// One value an executor needs from the operator before it runs.
#[derive(Debug, Clone, PartialEq)]
pub struct InputSpec {
    pub key: String,
    pub prompt: String,
    pub required: bool,
    /// When not empty, the answer must be one of these `(value, label)`.
    pub options: Vec<(String, String)>,
    /// Lines shown with the prompt to help answer it (e.g. the commits that can be picked).
    pub hints: Vec<String>,
    /// A suggested answer the prompt starts with (never taken without the operator seeing it).
    pub default: Option<String>,
    /// Commits the answer can list (a cherry-pick's candidates, oldest first): the answer
    /// holds their shas.
    pub commits: Vec<crate::git::state::CommitInfo>,
    /// A check of the answer beyond being given and being an option, by the executor that
    /// asks: a refused answer is asked again with why, instead of failing the step.
    pub check: Option<AnswerCheck>,
}

/// Checks an answer as typed; the error says what is wrong and what to give instead.
#[derive(Clone)]
pub struct AnswerCheck(pub Arc<CheckFn>);

/// What an [`AnswerCheck`] runs.
pub type CheckFn = dyn Fn(&str) -> Result<(), String> + Send + Sync;

impl std::fmt::Debug for AnswerCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AnswerCheck")
    }
}

impl PartialEq for AnswerCheck {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl InputSpec {
    pub fn text(key: &str, prompt: String, required: bool) -> Self {
        Self {
            key: key.to_string(),
            prompt,
            required,
            options: Vec::new(),
            hints: Vec::new(),
            default: None,
            commits: Vec::new(),
            check: None,
        }
    }

    /// Checks one answer; returns the value to store.
    pub fn accept(&self, answer: &str) -> Result<String, String> {
        let a = answer.trim();
        if a.is_empty() {
            return if self.required {
                Err(format!("{} is required", self.key))
            } else {
                Ok(String::new())
            };
        }
        if let Some(check) = &self.check {
            (check.0)(a)?;
        }
        if self.options.is_empty() {
            return Ok(a.to_string());
        }
        if let Ok(n) = a.parse::<usize>()
            && let Some((v, _)) = n.checked_sub(1).and_then(|i| self.options.get(i))
        {
            return Ok(v.clone());
        }
        match self.options.iter().find(|(v, _)| v == a) {
            Some((v, _)) => Ok(v.clone()),
            None => Err(format!(
                "choose one of: {}",
                self.options
                    .iter()
                    .map(|(v, _)| v.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }
}

/// One fact shown before a step acts. A failed one stops it unless the operator overrides
/// it with a reason; a warning (`ok` and `warn`) stops nothing but is marked to be read.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Check {
    pub ok: bool,
    pub warn: bool,
    pub text: String,
}

impl Check {
    pub fn ok(text: impl Into<String>) -> Self {
        Self {
            ok: true,
            warn: false,
            text: text.into(),
        }
    }
    pub fn fail(text: impl Into<String>) -> Self {
        Self {
            ok: false,
            warn: false,
            text: text.into(),
        }
    }
    /// Something to read before acting that does not stop it (a cherry-pick that adds a
    /// database migration).
    pub fn warn(text: impl Into<String>) -> Self {
        Self {
            ok: true,
            warn: true,
            text: text.into(),
        }
    }
}

/// The failed checks, as one line.
pub fn failed_checks(checks: &[Check]) -> Option<String> {
    let failed: Vec<&str> = checks
        .iter()
        .filter(|c| !c.ok)
        .map(|c| c.text.as_str())
        .collect();
    (!failed.is_empty()).then(|| failed.join("; "))
}

/// Set by the operator (Ctrl-C, quit) to stop a running step; executors check it. A step
/// that only watches can also be told it has watched enough: it then judges what it saw.
#[derive(Debug, Clone, Default)]
pub struct Cancel {
    stop: Arc<AtomicBool>,
    enough: Arc<AtomicBool>,
}

impl Cancel {
    pub fn cancel(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }
    pub fn is_cancelled(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }
    /// Ends a watch early (steps that do not watch ignore it).
    pub fn end_early(&self) {
        self.enough.store(true, Ordering::SeqCst);
    }
    pub fn ended_early(&self) -> bool {
        self.enough.load(Ordering::SeqCst)
    }
}

/// What the front end lends executors that need the operator's terminal.
pub trait Console: Send + Sync {
    /// Lets the operator edit `text` (in `$EDITOR`); `name` hints the file type. A cancel
    /// (the operator, a signal) ends the editor and the edit fails.
    /// The TUI leaves raw mode and pauses its input reader while this runs.
    fn edit(&self, text: &str, name: &str, cancel: &Cancel) -> Result<String>;
}

/// A console that leaves text as it is: tests, and `do --yes` without a terminal.
pub struct NoEdit;

impl Console for NoEdit {
    fn edit(&self, text: &str, _name: &str, _cancel: &Cancel) -> Result<String> {
        Ok(text.to_string())
    }
}

/// Everything a step run needs, owned so it can move to a worker thread.
pub struct Job {
    pub step: Step,
    /// The session context: variables plus values set by earlier steps.
    pub ctx: Value,
    pub inputs: Inputs,
    pub base: Base,
    /// The session's folder: relative output paths go under it. `None` in memory.
    pub session_dir: Option<PathBuf>,
    pub cancel: Cancel,
    /// The checkpoint of a run that pushduty stopped in the middle of (a queued item, a
    /// build number): the step follows it instead of starting over. Empty otherwise.
    pub resume: Outputs,
    /// When the run this one goes on from began (as journaled), if pushduty stopped it in the
    /// middle: whatever that run started on a service is no older. `None` for a fresh run.
    pub resumed_since: Option<String>,
    /// The session's now: `--now` when given, else the clock as the step starts.
    pub now: crate::runbook::vars::Now,
    pub console: Arc<dyn Console>,
    /// What the operator confirmed, resolved when the confirmation opened: the step acts on
    /// exactly that, or refuses. `None` when nothing was resolved for it (the kind pins
    /// nothing, or a caller with nobody to show it to).
    pub pinned: Option<Pinned>,
    pub(super) progress: Arc<dyn Fn(String) + Send + Sync>,
    pub(super) checkpoint: Arc<dyn Fn(Outputs, Ack) + Send + Sync>,
}

impl Job {
    /// Reports one line of progress (a command's output, a poll result).
    pub fn progress(&self, line: impl Into<String>) {
        (self.progress)(line.into());
    }

    /// Waits for a service call on the I/O runtime; a cancel (the operator, a signal) ends
    /// the wait at once, even while the service hangs.
    pub fn call<T>(&self, f: impl std::future::Future<Output = Result<T>>) -> Result<T> {
        let cancel = self.cancel.clone();
        crate::services::http::block_on(async move {
            tokio::select! {
                r = f => r,
                () = async {
                    while !cancel.is_cancelled() {
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    }
                } => anyhow::bail!("cancelled by the operator"),
            }
        })?
    }

    /// Hands the engine a handle to journal at once (a build number, a soak's start), so that
    /// after a crash the step is followed, not started again; waits until it is journaled.
    /// The front end reports a failure to journal; a step that must not act without the
    /// line uses [`Job::journal`].
    pub fn checkpoint(&self, values: Outputs) {
        (self.checkpoint)(values, Ack::default());
    }

    /// Journals `values` and waits until they are on disk: for a write-ahead, where acting
    /// without the record (an email that could then be sent twice) is worse than not acting.
    /// An error says the journal does not have them, and the step must not go on.
    pub fn checkpoint_synced(&self, values: Outputs) -> Result<()> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        (self.checkpoint)(values, Ack(Some(tx)));
        loop {
            match rx.recv_timeout(std::time::Duration::from_millis(50)) {
                Ok(r) => return r.map_err(anyhow::Error::msg),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) if self.cancel.is_cancelled() => {
                    anyhow::bail!("cancelled while journaling")
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    anyhow::bail!("pushduty stopped before the journal had it")
                }
            }
        }
    }
}

/// Where the front end says whether a checkpoint reached the journal; empty when the step
/// does not wait for it.
#[derive(Clone, Default)]
pub struct Ack(Option<std::sync::mpsc::SyncSender<Result<(), String>>>);

impl Ack {
    /// Tells the waiting step how journaling went.
    pub fn reply(&self, r: &Result<()>) {
        if let Some(tx) = &self.0 {
            let _ = tx.try_send(r.as_ref().map(|_| ()).map_err(|e| format!("{e:#}")));
        }
    }
}

impl std::fmt::Debug for Ack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Ack(waiting)"
        } else {
            "Ack"
        })
    }
}

/// Events compare by what they say; who waits for the answer is not part of it.
impl PartialEq for Ack {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// What to do by hand instead of the step: for a hero without the service's credentials (an
/// Etherpad API key, an SMTP login) or who chooses to. Shown exactly, journaled with the step
/// when it is ticked off, and reported as done by hand.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ByHand {
    /// What to do, one instruction a line.
    pub steps: Vec<String>,
    /// The text to paste (the lines for the pad, the whole email), when there is one.
    pub copy: Option<String>,
    /// The page to open (the pad, a `mailto:`, the build form), when there is one.
    pub link: Option<String>,
    /// Values the step would have set that the hand-made result gives (the pad's address).
    #[serde(skip)]
    pub outputs: Outputs,
}

impl ByHand {
    /// Everything shown, as one text: what the journal keeps.
    pub fn text(&self) -> String {
        let mut out = self.steps.join("\n");
        if let Some(link) = &self.link {
            out.push_str(&format!("\nopen: {link}"));
        }
        if let Some(copy) = &self.copy {
            out.push_str("\n---\n");
            out.push_str(copy);
        }
        out
    }
}

/// A confirmation as it was read from the world when it opened: the checks, the action as
/// shown, and what the action was resolved to (a commit, a tag), for the worker to hold it to.
#[derive(Clone, Debug, PartialEq)]
pub struct Confirmation {
    pub checks: Vec<Check>,
    /// The action as the confirmation shows it; `None`: the step's usual preview, which
    /// reads nothing that can move.
    pub shown: Option<String>,
    /// What the shown action was resolved to; `Null` when the kind pins nothing.
    pub pin: Value,
}

impl Confirmation {
    /// What a confirmed start carries to the worker.
    pub fn pinned(&self) -> Option<Pinned> {
        let shown = self.shown.clone()?;
        Some(Pinned {
            shown,
            pin: self.pin.clone(),
        })
    }
}

/// The confirmed action carried to the worker: the text shown and what it was resolved to.
#[derive(Clone, Debug, PartialEq)]
pub struct Pinned {
    pub shown: String,
    pub pin: Value,
}

/// One step kind family. Implementations must never pretend success: a kind that cannot run
/// in this build fails with a plain message.
pub trait Executor: Send + Sync {
    /// What the operator must type before the step runs (asked after they confirm).
    fn inputs(&self, _step: &Step, _ctx: &Value) -> Vec<InputSpec> {
        Vec::new()
    }
    /// Exactly what running the step will do, values filled in.
    fn preview(&self, step: &Step, rb: &Runbook, ctx: &Value) -> String {
        crate::preview::preview(step, rb, ctx)
    }
    /// Facts that must hold before the step acts (and what the operator should know), read
    /// at confirm time and again right before acting. Reading only.
    fn check(&self, _step: &Step, _ctx: &Value) -> Vec<Check> {
        Vec::new()
    }
    /// The confirmation of a step: its checks and, for a kind whose action depends on what
    /// can move (a branch's tip, a tag), the action resolved now and shown exactly; its
    /// `run` then acts on that or refuses. Reading only, off the UI thread.
    fn confirm(&self, step: &Step, _rb: &Runbook, ctx: &Value) -> Confirmation {
        Confirmation {
            checks: self.check(step, ctx),
            shown: None,
            pin: Value::Null,
        }
    }
    /// [`Executor::confirm`] when some of the step's inputs are known before it opens (given
    /// on the command line): a kind whose checks depend on them (the commits to pick) reads
    /// them too, and shows and pins them.
    fn confirm_given(
        &self,
        step: &Step,
        rb: &Runbook,
        ctx: &Value,
        _given: &Inputs,
    ) -> Confirmation {
        self.confirm(step, rb, ctx)
    }
    /// What to do by hand instead, with the values known now. By default the step's action
    /// itself; the hand-over kinds say exactly what to paste where.
    fn by_hand(&self, step: &Step, rb: &Runbook, ctx: &Value) -> Result<ByHand> {
        let action = crate::preview::action(step, rb, ctx)?;
        Ok(ByHand {
            steps: vec![format!("do what this step would: {action}")],
            copy: None,
            link: None,
            outputs: Outputs::new(),
        })
    }
    /// Whether [`Executor::confirm`] resolves the action from what can move, so a dialog
    /// shows "reading" rather than an older preview until it is read.
    fn pins(&self) -> bool {
        false
    }
    /// Does the work on a worker thread; reports through `job.progress`; checks
    /// `job.cancel`. Returns the step's outputs.
    fn run(&self, job: &Job) -> Result<Outputs>;
    /// Whether a run that failed hands its checkpoint to the next one, as a run that was
    /// stopped does. Only for what the operator typed (an email's text): a checkpoint that is
    /// a handle to something that ran (a failed build) must not be followed again.
    fn resumes_failed(&self) -> bool {
        false
    }
}

/// What executors are made from: where the runbook's files are, how its tags are named, and
/// the services as the operator's config resolves them (none while only previewing).
pub struct Setup<'a> {
    pub base: &'a Base,
    pub format: &'a TagFormat,
    pub services: Option<&'a Arc<crate::services::Services>>,
}

impl Setup<'_> {
    /// An executor that talks to the services; without them, one that says it cannot run.
    pub fn with_services(
        &self,
        kind: &'static str,
        make: impl FnOnce(Arc<crate::services::Services>) -> Arc<dyn Executor>,
    ) -> Arc<dyn Executor> {
        match self.services {
            Some(s) => make(s.clone()),
            None => Arc::new(unavailable::Unavailable {
                kind,
                why: "the operator's services were not loaded (a preview only)",
            }),
        }
    }
}

/// The I/O half of a step kind's table (the model's half is
/// [`pushduty_core::runbook::kinds::Kind`]): the executor that runs it. Every kind in
/// [`pushduty_core::for_each_step_kind!`] must have one, or the registry does not build.
pub trait Execute: Kind {
    fn executor(setup: &Setup<'_>) -> Arc<dyn Executor>;
}

macro_rules! executors {
    ($($variant:ident => $marker:path,)*) => {
        /// Every kind's executor, by kind name.
        fn executors(setup: &Setup<'_>) -> HashMap<&'static str, Arc<dyn Executor>> {
            HashMap::from([$((
                <$marker as Kind>::INFO.name,
                <$marker as Execute>::executor(setup),
            ),)*])
        }
    };
}

pushduty_core::for_each_step_kind!(executors);

/// Executors by kind name, made for one runbook (and, once `use_services` is called, the
/// operator's services).
#[derive(Clone)]
pub struct Registry {
    by_kind: HashMap<&'static str, Arc<dyn Executor>>,
    base: Base,
    format: TagFormat,
}

impl Registry {
    /// The executors of a runbook's steps, without services: enough to preview and to run
    /// the kinds that need none.
    pub fn for_runbook(loaded: &Loaded) -> Self {
        let (base, format) = (loaded.base.clone(), loaded.calendar.tag_format.clone());
        let setup = Setup {
            base: &base,
            format: &format,
            services: None,
        };
        Registry {
            by_kind: executors(&setup),
            base,
            format,
        }
    }

    /// The executors of the steps that talk to services, with the services as resolved.
    pub fn use_services(&mut self, services: Arc<crate::services::Services>) {
        let setup = Setup {
            base: &self.base,
            format: &self.format,
            services: Some(&services),
        };
        self.by_kind = executors(&setup);
    }

    pub fn get(&self, kind: &StepKind) -> Arc<dyn Executor> {
        self.by_kind.get(kind.name()).cloned().unwrap_or_else(|| {
            Arc::new(unavailable::Unavailable {
                kind: kind.name(),
                why: "it has no executor",
            })
        })
    }
}

/// What a running step tells the front end.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Progress {
        step: String,
        line: String,
    },
    /// A handle to journal; `ack` is answered once it is (or could not be).
    Checkpoint {
        step: String,
        values: Outputs,
        /// Answer it once the values are journaled (see [`Engine::checkpoint`]).
        ack: Ack,
    },
    Finished {
        step: String,
        result: Result<Outputs, String>,
    },
    /// A write to the team's push log made off the screen's thread is done: the front end
    /// hands the log back ([`super::Engine::log_back`]).
    LogWritten,
}

pub type Notify = Arc<dyn Fn(Event) + Send + Sync>;
