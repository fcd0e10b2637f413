//! What an executor is given (a [`Job`], the operator's inputs and console) and what it gives
//! back (progress, checkpoints, outputs), and the registry that finds one by step kind.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Result;
use serde_json::Value;

use super::{git, interactive, shell, template, unavailable};
use crate::runbook::Loaded;
use crate::runbook::model::{Outputs, Step, StepKind};
use crate::templates::Base;

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
/// it with a reason.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub ok: bool,
    pub text: String,
}

impl Check {
    pub fn ok(text: impl Into<String>) -> Self {
        Self {
            ok: true,
            text: text.into(),
        }
    }
    pub fn fail(text: impl Into<String>) -> Self {
        Self {
            ok: false,
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
    /// Lets the operator edit `text` (in `$EDITOR`); `name` hints the file type.
    /// The TUI leaves raw mode and pauses its input reader while this runs.
    fn edit(&self, text: &str, name: &str) -> Result<String>;
}

/// A console that leaves text as it is: tests, and `do --yes` without a terminal.
pub struct NoEdit;

impl Console for NoEdit {
    fn edit(&self, text: &str, _name: &str) -> Result<String> {
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
    pub console: Arc<dyn Console>,
    pub(super) progress: Arc<dyn Fn(String) + Send + Sync>,
    pub(super) checkpoint: Arc<dyn Fn(Outputs) + Send + Sync>,
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

    /// Hands the engine a handle to journal at once (a process group, a build number), so
    /// that after a crash the step is followed, not started again.
    pub fn checkpoint(&self, values: Outputs) {
        (self.checkpoint)(values);
    }
}

/// One step kind family. Implementations must never pretend success: a kind that cannot run
/// in this build fails with a plain message.
pub trait Executor: Send + Sync {
    /// What the operator must type before the step runs (asked after they confirm).
    fn inputs(&self, _step: &Step, _ctx: &Value) -> Vec<InputSpec> {
        Vec::new()
    }
    /// Exactly what running the step will do, values filled in.
    fn preview(&self, step: &Step, rb: &crate::runbook::model::Runbook, ctx: &Value) -> String {
        crate::preview::preview(step, rb, ctx)
    }
    /// Facts that must hold before the step acts (and what the operator should know), read
    /// at confirm time and again right before acting. Reading only.
    fn check(&self, _step: &Step, _ctx: &Value) -> Vec<Check> {
        Vec::new()
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

/// Executors by kind name. The git executors are plugged in by `register`.
#[derive(Clone)]
pub struct Registry(HashMap<&'static str, Arc<dyn Executor>>, Base);

impl Registry {
    pub fn builtin() -> Self {
        let mut r = Registry(HashMap::new(), Base::Bundled);
        for k in crate::runbook::model::KINDS {
            r.0.insert(k.name, Arc::new(unavailable::Unavailable(k.name)));
        }
        r.register("manual", Arc::new(interactive::Manual));
        r.register("choice", Arc::new(interactive::Choice));
        r.register("gate", Arc::new(interactive::Gate));
        r.register("template", Arc::new(template::Template(Base::Bundled)));
        r.register("shell", Arc::new(shell::Shell));
        r
    }

    /// The executors of the steps that talk to services, with the services as resolved.
    pub fn use_services(&mut self, services: Arc<crate::services::Services>) {
        self.register(
            "jenkins.build",
            Arc::new(super::jenkins::JenkinsBuild(services.clone())),
        );
        self.register("http.check", Arc::new(super::http_check::HttpCheck));
        self.register(
            "metrics.check",
            Arc::new(super::watch::MetricsCheck(services.clone())),
        );
        self.register(
            "sentry.check",
            Arc::new(super::watch::SentryCheck(services.clone())),
        );
        self.register(
            "notes.publish",
            Arc::new(super::notes::NotesPublish::new(
                services.clone(),
                self.1.clone(),
            )),
        );
        self.register(
            "notes.append",
            Arc::new(super::notes::NotesAppend::new(
                services.clone(),
                self.1.clone(),
            )),
        );
        self.register(
            "github.blockers",
            Arc::new(super::blockers::Blockers::new(services.clone())),
        );
        self.register("email.send", Arc::new(super::email::EmailSend(services)));
    }

    /// The built-in executors plus those that need the runbook's tag format.
    pub fn for_runbook(loaded: &Loaded) -> Self {
        let mut r = Self::builtin();
        // Notes files are found beside the runbook.
        r.1 = loaded.base.clone();
        let format = loaded.calendar.tag_format.clone();
        r.register(
            "template",
            Arc::new(template::Template(loaded.base.clone())),
        );
        r.register("git.fetch", Arc::new(git::Fetch));
        r.register("git.tag", Arc::new(git::Tag(format.clone())));
        r.register("git.push_tag", Arc::new(git::PushTag(format.clone())));
        r.register("git.cherry_pick", Arc::new(git::CherryPick(format.clone())));
        r.register("git.compare", Arc::new(git::Compare(format)));
        r
    }

    pub fn register(&mut self, kind: &'static str, exec: Arc<dyn Executor>) {
        self.0.insert(kind, exec);
    }

    pub fn get(&self, kind: &StepKind) -> Arc<dyn Executor> {
        self.0
            .get(kind.name())
            .cloned()
            .unwrap_or_else(|| Arc::new(unavailable::Unavailable(kind.name())))
    }
}

/// What a running step tells the front end.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Progress {
        step: String,
        line: String,
    },
    Checkpoint {
        step: String,
        values: Outputs,
    },
    Finished {
        step: String,
        result: Result<Outputs, String>,
    },
}

pub type Notify = Arc<dyn Fn(Event) + Send + Sync>;
