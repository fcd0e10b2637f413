//! Executes steps: each step kind has an [`Executor`]; the [`Engine`] runs one on a worker
//! thread when the operator confirms, and records every transition in the session (journal
//! first) before anyone shows it. No ratatui here: the TUI and `do` drive the same engine.

pub mod git;
pub mod interactive;
pub mod shell;
pub mod template;
pub mod unavailable;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::runbook::Loaded;
use crate::runbook::model::{Outputs, Step, StepKind};
use crate::runbook::vars::Vars;
use crate::session::{Session, Status, now_rfc3339};
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
}

impl InputSpec {
    pub fn text(key: &str, prompt: String, required: bool) -> Self {
        Self {
            key: key.to_string(),
            prompt,
            required,
            options: Vec::new(),
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

/// Set by the operator (Ctrl-C, quit) to stop a running step; executors check it.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
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
    pub console: Arc<dyn Console>,
    progress: Arc<dyn Fn(String) + Send + Sync>,
}

impl Job {
    /// Reports one line of progress (a command's output, a poll result).
    pub fn progress(&self, line: impl Into<String>) {
        (self.progress)(line.into());
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
    fn preview(&self, step: &Step, loaded: &Loaded, ctx: &Value) -> String {
        crate::preview::preview(step, &loaded.runbook, ctx)
    }
    /// Does the work on a worker thread; reports through `job.progress`; checks
    /// `job.cancel`. Returns the step's outputs.
    fn run(&self, job: &Job) -> Result<Outputs>;
}

/// Executors by kind name. The git executors are plugged in by `register`.
#[derive(Clone)]
pub struct Registry(HashMap<&'static str, Arc<dyn Executor>>);

impl Registry {
    pub fn builtin() -> Self {
        let mut r = Registry(HashMap::new());
        for k in crate::runbook::model::KINDS {
            r.0.insert(k.name, Arc::new(unavailable::Unavailable(k.name)));
        }
        r.register("manual", Arc::new(interactive::Manual));
        r.register("choice", Arc::new(interactive::Choice));
        r.register("gate", Arc::new(interactive::Gate));
        r.register("template", Arc::new(template::Template));
        r.register("shell", Arc::new(shell::Shell));
        r
    }

    /// The built-in executors plus those that need the runbook's tag format.
    pub fn for_runbook(loaded: &Loaded) -> Self {
        let mut r = Self::builtin();
        let format = loaded.calendar.tag_format.clone();
        r.register("git.fetch", Arc::new(git::Fetch));
        r.register("git.tag", Arc::new(git::Tag(format.clone())));
        r.register("git.push_tag", Arc::new(git::PushTag));
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
    Finished {
        step: String,
        result: Result<Outputs, String>,
    },
}

pub type Notify = Arc<dyn Fn(Event) + Send + Sync>;

/// A session of a runbook being executed.
pub struct Engine {
    pub loaded: Loaded,
    pub vars: Vars,
    pub session: Session,
    pub operator: String,
    pub registry: Registry,
    console: Arc<dyn Console>,
    notify: Notify,
    /// Running steps: how to cancel each, and the operator's note to repeat when it ends.
    running: HashMap<String, (Cancel, Option<String>)>,
}

impl Engine {
    pub fn new(
        loaded: Loaded,
        vars: Vars,
        session: Session,
        operator: &str,
        console: Arc<dyn Console>,
        notify: Notify,
    ) -> Result<Self> {
        let registry = Registry::for_runbook(&loaded);
        let mut e = Engine {
            loaded,
            vars,
            session,
            operator: operator.to_string(),
            registry,
            console,
            notify,
            running: HashMap::new(),
        };
        e.freeze_repo_tags()?;
        e.refresh_applicability()?;
        Ok(e)
    }

    /// A push keeps the tag names it began with: once `2015.09.10` exists, a restarted
    /// session must not think its tag is `2015.09.10-1`. Names are stored in the session and
    /// change only when a tag step makes a new revision.
    fn freeze_repo_tags(&mut self) -> Result<()> {
        if self.session.state.repo_tags.is_empty() {
            let tags = self
                .vars
                .repos
                .iter()
                .map(|(n, r)| (n.clone(), r.tag.clone()))
                .collect();
            self.session.set_repo_tags(tags)?;
        }
        for (repo, tag) in self.session.state.repo_tags.clone() {
            self.vars.set_repo_tag(&repo, &tag);
        }
        Ok(())
    }

    pub fn step(&self, id: &str) -> Result<&Step> {
        self.loaded
            .runbook
            .step(id)
            .with_context(|| format!("no step `{id}` in this runbook"))
    }

    pub fn status(&self, id: &str) -> Status {
        self.session.status(id).cloned().unwrap_or(Status::Pending)
    }

    /// Variables plus the values steps have set so far.
    pub fn context(&self) -> Value {
        crate::plan::context(&self.loaded, &self.vars, &self.session.state.values)
    }

    pub fn preview(&self, id: &str) -> Result<String> {
        let step = self.step(id)?;
        Ok(self
            .registry
            .get(&step.kind)
            .preview(step, &self.loaded, &self.context()))
    }

    pub fn inputs(&self, id: &str) -> Result<Vec<InputSpec>> {
        let step = self.step(id)?;
        Ok(self.registry.get(&step.kind).inputs(step, &self.context()))
    }

    pub fn is_running(&self) -> bool {
        !self.running.is_empty()
    }

    pub fn running(&self) -> impl Iterator<Item = &String> {
        self.running.keys()
    }

    /// Why a step cannot start now, if it cannot.
    pub fn refusal(&self, id: &str) -> Option<String> {
        match self.status(id) {
            Status::Running { .. } => Some("it is running".into()),
            Status::Done { .. } => Some("it is done".into()),
            Status::NotApplicable => Some("it does not apply to the choices made".into()),
            _ if self.is_running() => Some("another step is running".into()),
            _ => self.waiting_for(id),
        }
    }

    /// The `after` steps of `id` that are not finished yet, as a refusal.
    fn waiting_for(&self, id: &str) -> Option<String> {
        let step = self.loaded.runbook.step(id)?;
        let open: Vec<String> = step
            .after
            .iter()
            .filter(|dep| {
                !matches!(
                    self.status(dep),
                    Status::Done { .. } | Status::Skipped { .. } | Status::NotApplicable
                )
            })
            .map(|dep| format!("`{dep}`"))
            .collect();
        (!open.is_empty()).then(|| format!("it comes after {}, not finished yet", open.join(", ")))
    }

    /// Starts a confirmed step on a worker thread; `Event::Finished` follows, after which
    /// the front end calls [`Engine::finish`].
    pub fn start(&mut self, id: &str, mut inputs: Inputs) -> Result<()> {
        if let Some(why) = self.refusal(id) {
            bail!("cannot run `{id}`: {why}");
        }
        let step = self.step(id)?.clone();
        for spec in self.inputs(id)? {
            let given = inputs.get(&spec.key).map_or("", String::as_str);
            // Stored as accepted: a choice typed as its number becomes its value.
            let value = spec
                .accept(given)
                .map_err(|e| anyhow::anyhow!("step `{id}`: {e}"))?;
            inputs.insert(spec.key.clone(), value);
        }
        let note = inputs.get(NOTE).filter(|n| !n.trim().is_empty()).cloned();
        self.session.record(
            id,
            Status::Running {
                since: now_rfc3339(),
            },
            &self.operator,
            note.clone(),
            Outputs::new(),
        )?;
        let cancel = Cancel::default();
        self.running.insert(id.to_string(), (cancel.clone(), note));
        let exec = self.registry.get(&step.kind);
        let notify = self.notify.clone();
        let sid = id.to_string();
        let progress: Arc<dyn Fn(String) + Send + Sync> = {
            let notify = notify.clone();
            let sid = sid.clone();
            Arc::new(move |line| {
                notify(Event::Progress {
                    step: sid.clone(),
                    line,
                })
            })
        };
        let job = Job {
            step,
            ctx: self.context(),
            inputs,
            base: self.loaded.base.clone(),
            session_dir: self.session.dir().map(std::path::Path::to_path_buf),
            cancel,
            console: self.console.clone(),
            progress,
        };
        std::thread::Builder::new()
            .name(format!("step-{sid}"))
            .spawn(move || {
                let result = exec.run(&job).map_err(|e| format!("{e:#}"));
                notify(Event::Finished { step: sid, result });
            })
            .context("starting a worker thread")?;
        Ok(())
    }

    /// Asks a running step to stop; it ends as failed ("cancelled").
    pub fn cancel(&self, id: &str) {
        if let Some((c, _)) = self.running.get(id) {
            c.cancel();
        }
    }

    pub fn cancel_all(&self) {
        for (c, _) in self.running.values() {
            c.cancel();
        }
    }

    /// Records how a step ended, then which later steps apply.
    pub fn finish(&mut self, id: &str, result: Result<Outputs, String>) -> Result<()> {
        // The note goes on the closing line too, so "done, with this note" reads in one line.
        let note = self.running.remove(id).and_then(|(_, n)| n);
        // A tag step may have made a new revision (`-1`): later steps use that name.
        if let (Ok(outputs), Some(repo)) = (&result, self.step(id)?.kind.repo().map(str::to_string))
        {
            if let Some(Value::String(name)) = outputs.get(git::TAG_NAME) {
                let mut tags = self.session.state.repo_tags.clone();
                tags.insert(repo.clone(), name.clone());
                self.session.set_repo_tags(tags)?;
                self.vars.set_repo_tag(&repo, name);
            }
        }
        match result {
            Ok(outputs) => self.session.record(
                id,
                Status::Done { at: now_rfc3339() },
                &self.operator,
                note,
                outputs,
            )?,
            Err(error) => self.session.record(
                id,
                Status::Failed { error },
                &self.operator,
                note,
                Outputs::new(),
            )?,
        }
        self.refresh_applicability()
    }

    /// Puts a finished step back to pending so it can run again (a blocker fix after the
    /// tag: a new choice, new cherry-picks, a `-N` re-tag). The reason goes to the journal.
    pub fn reopen(&mut self, id: &str, reason: &str) -> Result<()> {
        match self.status(id) {
            Status::Done { .. }
            | Status::Skipped { .. }
            | Status::Failed { .. }
            | Status::Interrupted { .. } => {}
            other => bail!(
                "`{id}` is {}: only a finished step can be reopened",
                other.name()
            ),
        }
        if reason.trim().is_empty() {
            bail!("reopening needs a reason");
        }
        self.session.record(
            id,
            Status::Pending,
            &self.operator,
            Some(format!("reopened: {}", reason.trim())),
            Outputs::new(),
        )?;
        self.refresh_applicability()
    }

    pub fn skip(&mut self, id: &str, reason: &str) -> Result<()> {
        match self.status(id) {
            Status::Running { .. } => bail!("cannot skip `{id}` while it runs"),
            Status::NotApplicable => bail!("`{id}` does not apply"),
            _ => {}
        }
        if reason.trim().is_empty() {
            bail!("skipping needs a reason");
        }
        self.session.record(
            id,
            Status::Skipped {
                reason: reason.trim().to_string(),
            },
            &self.operator,
            None,
            Outputs::new(),
        )?;
        self.refresh_applicability()
    }

    /// Pending steps whose `only_if` turned false become not applicable, and back.
    fn refresh_applicability(&mut self) -> Result<()> {
        let ctx = self.context();
        let known = self.session.state.values.clone();
        let mut moves = Vec::new();
        for step in &self.loaded.runbook.steps {
            let applies = crate::plan::applies(&self.loaded, step, &known, &ctx);
            match (self.status(&step.id), applies) {
                (Status::Pending, Some(false)) => {
                    moves.push((step.id.clone(), Status::NotApplicable))
                }
                (Status::NotApplicable, Some(true) | None) => {
                    moves.push((step.id.clone(), Status::Pending));
                }
                _ => {}
            }
        }
        for (id, to) in moves {
            self.session
                .record(&id, to, &self.operator, None, Outputs::new())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
