//! Executes steps: each step kind has an [`Executor`]; the [`Engine`] runs one on a worker
//! thread when the operator confirms, and records every transition in the session (journal
//! first) before anyone shows it. No ratatui here: the TUI and `do` drive the same engine.

mod actions;
mod blocker_fixes;
mod blocker_path;
pub use blocker_path::FollowUp;
pub mod blockers;
pub mod chat;
mod child_env;
mod days;
pub mod editor;
pub mod email;
mod executor;
mod follow;
pub mod git;
pub mod http_check;
pub mod interactive;
pub mod jenkins;
mod log_writes;
pub mod notes;
mod pick_checks;
mod release;
pub mod shell;
pub mod takeover;
pub mod template;
pub mod unavailable;
pub mod watch;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::runbook::Loaded;
use crate::runbook::model::{Outputs, Step, StepKind};
use crate::runbook::vars::Vars;
use crate::session::journal::Transition;
use crate::session::{Session, Status, now_rfc3339};
pub use executor::*;

/// The plan of a push, each step previewed by its executor.
pub fn plan(loaded: &Loaded, vars: &Vars) -> crate::plan::Plan {
    let executors = Registry::for_runbook(loaded);
    crate::plan::plan_with(loaded, vars, &|s, rb, ctx| {
        executors.get(&s.kind).preview(s, rb, ctx)
    })
}

/// What `repos.NAME` holds from the runbook and the session, which step outputs never shadow.
const REPO_FIELDS: &[&str] = &[
    "tag",
    "previous_tag",
    "compare_url",
    "path",
    "github",
    "remote",
    "branch",
    "made_tags",
    "migrations",
    "name",
    "error",
];

/// A step that is running in this process.
struct Running {
    cancel: Cancel,
    /// The operator's note, repeated on the line that closes the step.
    note: Option<String>,
    /// Set when a signal stops pushduty: the step ends as interrupted, not failed.
    signal: Option<String>,
}

/// A session of a runbook being executed.
pub struct Engine {
    pub loaded: Loaded,
    pub vars: Vars,
    pub session: Session,
    pub operator: String,
    pub registry: Registry,
    /// The runbook's services as this operator reaches them.
    pub services: Arc<crate::services::Services>,
    console: Arc<dyn Console>,
    notify: Notify,
    running: HashMap<String, Running>,
    /// The runbook's own steps. `loaded.runbook.steps` is these plus this push's ad-hoc
    /// items as manual steps, made again from the session whenever an item is added.
    base_steps: Vec<Step>,
    /// Which step sets each value (its outputs, a choice's var), made when first asked.
    /// Ad-hoc items set none, so it holds while they come and go.
    setters: std::sync::OnceLock<HashMap<String, String>>,
    /// Today follows the wall clock (no `--now`): a screen left open overnight moves on to
    /// the next day's steps. Off by default, so that `vars.today` is today (tests, `--now`).
    pub live_clock: bool,
    /// What the screen's panes show, kept with a gate's approval (empty without a screen).
    pub on_screen: Vec<String>,
    /// The team's push log, when the config names one: steps with a side effect are
    /// journaled there first ([`crate::teamlog`]).
    pub push_log: Option<crate::teamlog::PushLog>,
    /// What could not be written to the push log (it is sent with the next write), for the
    /// front end to say.
    pub log_warnings: Vec<String>,
    /// The operator chose to go on without the push log when it cannot be reached, and why.
    pub offline_log: Option<String>,
    /// The step whose start is being written to the push log (a [`LogClaim`] holds the log).
    claiming: Option<String>,
    /// Results and checkpoints go to the push log on a thread of their own (the screen):
    /// the front end hands the log back on [`Event::LogWritten`] ([`Engine::log_back`]).
    pub background_log: bool,
    /// A background write holds the log: it comes back through here.
    log_away: Option<std::sync::mpsc::Receiver<log_writes::Returned>>,
    /// A write that waits for the log to come back (what to name it).
    log_dirty: Option<String>,
}

/// The output in which a `github.release` step lists the one-off items of the release body.
const RELEASE_ITEMS: &str = "release_items";
/// The tag of the release a `github.release` step read.
const RELEASE_TAG: &str = "release_tag";

/// The longest text an ad-hoc item may have, in chars: it is a checklist line, not a doc.
pub const ITEM_MAX_CHARS: usize = 200;

/// The section an ad-hoc item goes in: `section` if the runbook has it, else (none given)
/// the last one. A wrong one is an error naming the sections there are.
pub fn item_section(rb: &crate::runbook::model::Runbook, section: Option<&str>) -> Result<String> {
    let sections = &rb.sections;
    match section.map(str::trim) {
        Some(s) if sections.iter().any(|x| x.id == s) => Ok(s.to_string()),
        Some(s) => bail!(
            "no section `{s}` in this runbook; its sections: {}",
            sections
                .iter()
                .map(|x| x.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => sections
            .last()
            .map(|x| x.id.clone())
            .context("this runbook has no sections"),
    }
}

/// An ad-hoc item's text as it will be journaled: whitespace runs (newlines, tabs) become one
/// space; any other control character (an escape sequence, a bidi override) is refused.
pub fn item_text(text: &str) -> Result<String> {
    if let Some(c) = text.chars().find(|c| {
        !c.is_whitespace()
            && (c.is_control()
                || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'))
    }) {
        bail!(
            "the item's text has a control character ({}): type plain text",
            c.escape_unicode()
        );
    }
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.is_empty() {
        bail!("the item's text is empty");
    }
    let n = text.chars().count();
    if n > ITEM_MAX_CHARS {
        bail!("the item's text is {n} characters long: at most {ITEM_MAX_CHARS}");
    }
    Ok(text)
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
        let mut registry = Registry::for_runbook(&loaded);
        // The runbook's own references; `use_services` brings in the operator's config.
        let services = Arc::new(crate::services::Services::resolve(
            &loaded.runbook,
            &crate::config::Config::default(),
        ));
        registry.use_services(services.clone());
        let base_steps = loaded.runbook.steps.clone();
        let mut e = Engine {
            loaded,
            vars,
            session,
            operator: operator.to_string(),
            registry,
            services,
            console,
            notify,
            running: HashMap::new(),
            base_steps,
            setters: std::sync::OnceLock::new(),
            live_clock: false,
            on_screen: Vec::new(),
            push_log: None,
            log_warnings: Vec::new(),
            offline_log: None,
            claiming: None,
            background_log: false,
            log_away: None,
            log_dirty: None,
        };
        e.sync_items();
        // A push keeps the tag names it began with (once `2015.09.10` exists, a restarted
        // session must not think its tag is `2015.09.10-1`); they change only when a tag
        // step makes a new revision, and the journal says so.
        for (repo, tag) in e.session.state.repo_tags.clone() {
            e.vars.set_repo_tag(&repo, &tag);
        }
        e.refresh()?;
        Ok(e)
    }

    /// An engine on a fresh session kept in memory only (nothing opened or written on disk),
    /// with no editor: for learn mode, which only reads.
    pub fn in_memory(loaded: Loaded, vars: Vars, operator: &str, notify: Notify) -> Result<Self> {
        let state = crate::session::SessionState::new(&loaded.runbook, &vars, operator);
        Self::new(
            loaded,
            vars,
            Session::in_memory(state),
            operator,
            Arc::new(NoEdit),
            notify,
        )
    }

    /// Shows `state` (the push as another machine journaled it: the team's push log's) in
    /// place of this in-memory session's, with its tags and ad-hoc items. Nothing is
    /// journaled or run: for a screen that follows a push.
    pub fn show_state(&mut self, state: crate::session::SessionState) {
        for (repo, tag) in &state.repo_tags {
            self.vars.set_repo_tag(repo, tag);
        }
        self.session.state = state;
        self.sync_items();
    }

    /// Makes the runbook view again: the runbook's steps with this push's items among them.
    fn sync_items(&mut self) {
        let mut rb = self.loaded.runbook.clone();
        rb.steps = self.base_steps.clone();
        self.loaded.runbook.steps = self.session.state.steps_with_items(&rb);
    }

    /// Whether `id` is an ad-hoc item of this session.
    pub fn is_item(&self, id: &str) -> bool {
        self.session.state.items.contains_key(id)
    }

    /// Adds an ad-hoc item: for this push, a manual step in `section` (default: the last
    /// section); for the next push, a line its session will carry in. Journaled first, then
    /// shown. Returns its id.
    pub fn add_item(
        &mut self,
        text: &str,
        section: Option<&str>,
        next_push: bool,
    ) -> Result<String> {
        self.add_item_from(text, section, next_push, None, None)
    }

    /// [`Self::add_item`] of an item found elsewhere: a release's body, which may give it a
    /// command to run.
    fn add_item_from(
        &mut self,
        text: &str,
        section: Option<&str>,
        next_push: bool,
        command: Option<String>,
        release: Option<crate::session::journal::FromRelease>,
    ) -> Result<String> {
        let text = item_text(text)?;
        let section = item_section(&self.loaded.runbook, section)?;
        let mut rb = self.loaded.runbook.clone();
        rb.steps = self.base_steps.clone();
        let id = self.session.state.next_item_id(&rb);
        self.session.add_item(
            &self.operator,
            crate::session::journal::Item {
                id: id.clone(),
                text,
                section,
                push: if next_push {
                    crate::session::journal::ItemFor::Next
                } else {
                    crate::session::journal::ItemFor::This
                },
                from: None,
                command,
                release,
            },
        )?;
        self.sync_items();
        self.refresh()?;
        Ok(id)
    }

    /// The services as this operator reaches them (the config's users, URLs and secrets).
    pub fn use_services(&mut self, services: crate::services::Services) {
        self.services = Arc::new(services);
        self.registry.use_services(self.services.clone());
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

    /// Variables plus the values steps have set so far; values not set yet show as marked
    /// placeholders. For previews and titles, never for running.
    pub fn context(&self) -> Value {
        self.with_session(crate::plan::context(
            &self.loaded,
            &self.vars,
            &self.session.state.values,
        ))
    }

    /// The context steps run with: only values that are known. A template that needs one
    /// that is not fails, so nothing unresolved reaches a command.
    pub fn run_context(&self) -> Value {
        self.with_session(crate::plan::known_context(
            &self.vars,
            &self.session.state.values,
        ))
    }

    /// Adds what the session knows about each repo: the tags this push made (`made_tags`).
    fn with_session(&self, mut ctx: Value) -> Value {
        let mut made: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for step in &self.loaded.runbook.steps {
            let (StepKind::GitTag(t), Some(st)) =
                (&step.kind, self.session.state.steps.get(&step.id))
            else {
                continue;
            };
            if let Some(Value::String(name)) = st.outputs.get(git::TAG_NAME) {
                made.entry(&t.repo).or_default().push(name);
            }
        }
        for (repo, tags) in made {
            if let Some(r) = ctx["repos"].get_mut(repo) {
                r["made_tags"] = Value::from(tags);
            }
        }
        // Each repo's done steps' outputs under `repos.NAME` too: in a push of several repos
        // the flat values hold only the last repo's (its cherry-picks, its compare link).
        // The newest done step wins, and a repo's own settings are never shadowed.
        let mut done: Vec<(&str, &str, &crate::runbook::model::Outputs)> = Vec::new();
        for step in &self.loaded.runbook.steps {
            if let (Some(repo), Some(st)) =
                (step.kind.repo(), self.session.state.steps.get(&step.id))
                && let Status::Done { at } = &st.status
            {
                done.push((at.as_str(), repo, &st.outputs));
            }
        }
        done.sort_by_key(|(at, ..)| *at);
        for (_, repo, outputs) in done {
            if let Some(Value::Object(r)) = ctx["repos"].get_mut(repo) {
                for (k, v) in outputs {
                    if !REPO_FIELDS.contains(&k.as_str()) {
                        r.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        // When each finished step's event happened: a watch's soak starts with its `since`.
        let done: serde_json::Map<String, Value> = self
            .session
            .state
            .steps
            .iter()
            .filter_map(|(id, st)| Some((id.clone(), Value::from(crate::health::moment_of(st)?))))
            .collect();
        // What each step's next run goes on from, so its checks can say so (the Message-ID
        // an email will be sent with again).
        let resume: serde_json::Map<String, Value> = self
            .loaded
            .runbook
            .steps
            .iter()
            .map(|s| (s.id.clone(), self.resume_of_step(s)))
            .filter(|(_, r)| !r.is_empty())
            .map(|(id, r)| (id, Value::Object(r.into_iter().collect())))
            .collect();
        if let Value::Object(m) = &mut ctx {
            m.insert("done_at".into(), Value::Object(done));
            m.insert("resume".into(), Value::Object(resume));
            m.insert(RELEASE_ITEMS.into(), self.release_item_outcomes());
        }
        ctx
    }

    /// This push's items taken from release bodies, with how each stands: what a step that
    /// ticks them there reads.
    fn release_item_outcomes(&self) -> Value {
        let state = &self.session.state;
        let items = state.items.iter().filter_map(|(id, it)| {
            let release = it.release.as_ref()?;
            let st = state.steps.get(id);
            Some(serde_json::json!({
                "id": id,
                "text": it.text,
                "status": st.map_or("pending", |s| s.status.name()),
                "by": st.and_then(|s| s.by.clone()),
                "at": st.and_then(|s| s.at.clone()),
                "repo": release.repo,
                "tag": release.tag,
            }))
        });
        Value::Array(items.collect())
    }

    /// When the production push happened, as the journal has it.
    pub fn push_moment(&self) -> Option<i64> {
        crate::health::push_moment(&self.loaded.runbook, &self.session.state)
    }

    /// The soak and baseline lengths (seconds) of the first watch on `service`.
    pub fn watch_windows(&self, service: &str) -> (i64, i64) {
        crate::health::watch_windows(&self.loaded.runbook, service)
    }

    pub fn preview(&self, id: &str) -> Result<String> {
        Ok(self.preview_in(self.step(id)?, &self.context()))
    }

    /// [`Engine::preview`] over a [`Engine::context`] made once for many steps: making it
    /// reads every step, so a caller going over every step makes it once.
    pub fn preview_in(&self, step: &Step, ctx: &Value) -> String {
        self.registry
            .get(&step.kind)
            .preview(step, &self.loaded.runbook, ctx)
    }

    /// What the step will do with the values known now, or which values it still needs.
    pub fn action(&self, id: &str) -> Result<String> {
        self.action_in(self.step(id)?, &self.run_context())
    }

    /// [`Engine::action`] over a [`Engine::run_context`] made once for many steps.
    pub fn action_in(&self, step: &Step, run_ctx: &Value) -> Result<String> {
        crate::preview::action(step, &self.loaded.runbook, run_ctx)
            .map_err(|e| anyhow::anyhow!("{}", self.explain_missing(&format!("{e:#}"))))
    }

    /// Names the step that sets each missing value, so the operator knows what to run first.
    fn explain_missing(&self, text: &str) -> String {
        explain_missing(text, self.setters())
    }

    /// Which step sets each value, made once: asked for every step of a long runbook, a scan
    /// of all steps each time would cost the square of its length.
    fn setters(&self) -> &HashMap<String, String> {
        self.setters.get_or_init(|| {
            let mut m = HashMap::new();
            for s in &self.loaded.runbook.steps {
                let sets: Vec<&String> = match &s.kind {
                    StepKind::Choice(c) => vec![&c.var],
                    _ => s.outputs.iter().collect(),
                };
                for name in sets {
                    m.entry(name.clone()).or_insert_with(|| s.id.clone());
                }
            }
            m
        })
    }

    /// The facts to confirm before the step acts.
    /// The checks of a step as a job to run elsewhere (they read the repository).
    /// The day rule comes first: it is known at once, and it is why the others may not matter.
    pub fn checker(&self, id: &str) -> Result<impl FnOnce() -> Confirmation + Send + 'static> {
        self.checker_given(id, Inputs::new())
    }

    /// [`Engine::checker`] with the inputs known before the confirmation opens.
    pub fn checker_given(
        &self,
        id: &str,
        given: Inputs,
    ) -> Result<impl FnOnce() -> Confirmation + Send + 'static> {
        let step = self.step(id)?.clone();
        let exec = self.registry.get(&step.kind);
        let ctx = self.run_context();
        let runbook = self.loaded.runbook.without_steps();
        let day = self.day_check(id);
        Ok(move || {
            let mut c = exec.confirm_given(&step, &runbook, &ctx, &given);
            c.checks = day.into_iter().chain(c.checks).collect();
            c
        })
    }

    pub fn checks(&self, id: &str) -> Result<Vec<Check>> {
        Ok(self.confirmation(id)?.checks)
    }

    /// Whether the confirmation of `id` resolves its action from the repository.
    pub fn pins(&self, id: &str) -> bool {
        self.step(id)
            .is_ok_and(|s| self.registry.get(&s.kind).pins())
    }

    /// The confirmation of `id` read here and now (see [`Executor::confirm`]).
    pub fn confirmation(&self, id: &str) -> Result<Confirmation> {
        Ok(self.checker(id)?())
    }

    /// [`Engine::confirmation`] with the inputs given before it opens (`do --input`).
    pub fn confirmation_given(&self, id: &str, given: &Inputs) -> Result<Confirmation> {
        Ok(self.checker_given(id, given.clone())?())
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
            Status::Running { .. } => return Some("it is running".into()),
            Status::Done { .. } => return Some("it is done (reopen it to run it again)".into()),
            Status::Skipped { .. } => {
                return Some("it was skipped (reopen it to run it after all)".into());
            }
            Status::NotApplicable => return Some("it does not apply to the choices made".into()),
            _ => {}
        }
        if let Some(other) = &self.claiming {
            return Some(format!(
                "`{other}` is being written to the team's push log: wait for it"
            ));
        }
        // Steps that only watch or ask run beside others; those that change something run
        // one at a time.
        if self.step(id).is_ok_and(|s| s.kind.info().side_effect)
            && let Some(other) = self
                .running
                .keys()
                .find(|r| self.step(r).is_ok_and(|s| s.kind.info().side_effect))
        {
            return Some(format!(
                "`{other}` is running, and this step changes things too"
            ));
        }
        if let Some(why) = self.still_running(id) {
            return Some(why);
        }
        if let Some(why) = self.running_elsewhere(id) {
            return Some(why);
        }
        if let Some(why) = self.waiting_for(id) {
            return Some(why);
        }
        self.action(id).err().map(|e| format!("{e:#}"))
    }

    /// An interrupted step whose process group outlived the pushduty that started it: it is
    /// still running, elsewhere, and must not be started a second time.
    pub fn still_running(&self, id: &str) -> Option<String> {
        let st = self.session.state.steps.get(id)?;
        if !matches!(st.status, Status::Interrupted { .. }) {
            return None;
        }
        // A group on another driver's machine: this one cannot look ([`Self::running_elsewhere`]).
        if st.checkpoint.contains_key(takeover::PGID_HOST) {
            return None;
        }
        let pgid = st.checkpoint.get(shell::PGID)?.as_u64()?;
        let started = st.checkpoint.get(shell::STARTED).and_then(Value::as_u64);
        shell::group_alive(pgid, started).then(|| {
            format!(
                "it is still running elsewhere (process group {pgid}, left by a pushduty that \
                 stopped): wait for it to end, or end it with `kill -TERM -{pgid}`"
            )
        })
    }

    /// The `after` steps of `id` that are not finished yet, as a refusal.
    pub fn waiting_for(&self, id: &str) -> Option<String> {
        let step = self.loaded.runbook.step(id)?;
        let open: Vec<String> = step
            .after
            .iter()
            .filter(|dep| !self.status(dep).is_finished())
            .map(|dep| format!("`{dep}`"))
            .collect();
        (!open.is_empty()).then(|| format!("it comes after {}, not finished yet", open.join(", ")))
    }

    /// Starts a confirmed step on a worker thread; `Event::Finished` follows, after which
    /// the front end calls [`Engine::finish`]. The checks run again on the worker right
    /// before it acts; a failed one stops it unless `override_reason` says why to go on.
    pub fn start(&mut self, id: &str, inputs: Inputs, override_reason: Option<&str>) -> Result<()> {
        self.start_confirmed(id, inputs, override_reason, None)
    }

    /// [`Engine::start`] of what a confirmation showed: the journal records the action as
    /// shown, and the worker acts on exactly what it was resolved to or refuses.
    pub fn start_confirmed(
        &mut self,
        id: &str,
        inputs: Inputs,
        override_reason: Option<&str>,
        pinned: Option<Pinned>,
    ) -> Result<()> {
        match self.begin_start(id, inputs, override_reason, pinned)? {
            Some(claim) => self.end_start(claim.run()),
            None => Ok(()),
        }
    }

    /// [`Engine::start_confirmed`] up to the team's push log: a step that is written there
    /// first comes back as a [`LogClaim`] to run (the screen runs it off its thread, and
    /// holds every other journal write until it ends), then [`Engine::end_start`]; any other
    /// step is started now.
    pub fn begin_start(
        &mut self,
        id: &str,
        mut inputs: Inputs,
        override_reason: Option<&str>,
        pinned: Option<Pinned>,
    ) -> Result<Option<LogClaim>> {
        if let Some(why) = self.refusal(id) {
            bail!("cannot run `{id}`: {why}");
        }
        let overridden = override_reason.is_some_and(|r| !r.trim().is_empty());
        if let Some(why) = self.too_early(id)
            && !overridden
        {
            bail!("cannot run `{id}` yet: {why}; act anyway only with a reason (an override)");
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
        let override_reason = override_reason
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_string);
        let note = inputs.get(NOTE).filter(|n| !n.trim().is_empty()).cloned();
        let resume = self.resume_of(id);
        let resumed_since = match self.session.state.steps.get(id).map(|s| &s.status) {
            Some(Status::Interrupted { since }) => Some(since.clone()),
            _ => None,
        };
        let mut t = Transition::new(id, "", "");
        t.note = note.clone();
        t.action = Some(match &pinned {
            Some(p) => p.shown.clone(),
            None => self.action(id)?,
        });
        t.reason = override_reason
            .as_ref()
            .map(|r| format!("preconditions overridden: {r}"));
        let running = Status::Running {
            since: now_rfc3339(),
        };
        let pending = PendingStart {
            id: id.to_string(),
            step,
            inputs,
            override_reason,
            pinned,
            note,
            resume,
            resumed_since,
        };
        if (self.push_log.is_some() || self.log_away.is_some()) && written_ahead(&pending.step) {
            // The team hears of it first: another machine may have it already.
            let (entry, next) =
                self.session
                    .prepare_record(id, running.clone(), &self.operator, t.clone())?;
            // A write still holding the log is waited for on the claim's thread.
            let log = match (self.push_log.take(), self.log_away.take()) {
                (Some(l), _) => log_writes::LogSource::Here(Box::new(l)),
                (None, Some(rx)) => log_writes::LogSource::Away(rx),
                (None, None) => log_writes::LogSource::Lost,
            };
            self.claiming = Some(id.to_string());
            return Ok(Some(LogClaim {
                log,
                said: Vec::new(),
                entry,
                next,
                rb: self.loaded.runbook.clone(),
                t,
                running,
                pending,
                result: None,
            }));
        }
        self.session.record(id, running, &self.operator, t)?;
        self.spawn_start(pending)?;
        Ok(None)
    }

    /// Goes on with a start once the team's push log answered [`LogClaim::run`]: journaled
    /// here as written there, and started; or refused, or (the operator's journaled choice)
    /// started without the log.
    pub fn end_start(&mut self, claim: LogClaim) -> Result<()> {
        let LogClaim {
            log,
            said,
            entry,
            next,
            rb: _,
            mut t,
            running,
            pending,
            result,
        } = claim;
        let id = pending.id.clone();
        self.claiming = None;
        self.log_warnings.extend(said);
        let mut log = match log {
            log_writes::LogSource::Here(l) => *l,
            _ => bail!(
                "`{id}` was not run: the team's push log was lost by a write on another \
                 thread; quit and start pushduty again to reach it"
            ),
        };
        let claimed = result.unwrap_or_else(|| Err(anyhow::anyhow!("the push log was not asked")));
        let outcome = match (claimed, &self.offline_log) {
            (Ok(()), _) => self.session.append_prepared(entry, next).map(|()| {
                if let Err(e) = log.confirm() {
                    self.log_warnings.push(format!("{e:#}"));
                }
            }),
            // The operator's choice, journaled with the step's start.
            (Err(e), Some(why)) if crate::teamlog::is_unreachable(&e) => {
                let went_on = format!("{}{why} ({e:#})", crate::teamlog::OFFLINE);
                t.reason = Some(match t.reason.take() {
                    Some(r) => format!("{r}; {went_on}"),
                    None => went_on,
                });
                let recorded = self.session.record(&id, running, &self.operator, t);
                self.log_warnings.push(format!(
                    "`{id}` runs without the team's push log ({}): its lines go there \
                     with the next step that writes to the log, or `pushduty log sync`",
                    log.describe()
                ));
                recorded
            }
            (Err(e), _) if crate::teamlog::is_unreachable(&e) => Err(e.context(format!(
                "`{id}` was not run; to run it without the team's push log, pass \
                 --offline-log \"WHY\" (journaled), and sync when it is back"
            ))),
            (Err(e), _) => Err(e.context(format!("`{id}` was not run"))),
        };
        self.push_log = Some(log);
        self.catch_up_log();
        outcome?;
        self.spawn_start(pending)
    }

    /// A write that waited while a start held the log goes now.
    fn catch_up_log(&mut self) {
        if let Some(what) = self.log_dirty.take() {
            self.publish_in_background(what);
        }
    }

    /// [`Engine::end_start`] of a claim whose push log could not be reached, the step run
    /// without it for `why` (journaled with its start), as `do --offline-log` does. For this
    /// step only: the next one asks the log again.
    pub fn end_start_offline(&mut self, claim: LogClaim, why: &str) -> Result<()> {
        let before = self.offline_log.replace(why.to_string());
        let out = self.end_start(claim);
        self.offline_log = before;
        out
    }

    /// A claim the operator chose not to go on with: nothing is journaled or run, and the
    /// push log is the engine's again.
    pub fn abandon_start(&mut self, claim: LogClaim) {
        self.claiming = None;
        self.log_warnings.extend(claim.said);
        if let log_writes::LogSource::Here(l) = claim.log {
            self.push_log = Some(*l);
            self.catch_up_log();
        }
    }

    /// Starts the worker of a step journaled as running.
    fn spawn_start(&mut self, p: PendingStart) -> Result<()> {
        let PendingStart {
            id,
            step,
            inputs,
            override_reason,
            pinned,
            note,
            resume,
            resumed_since,
        } = p;
        let id = id.as_str();
        if !resume.is_empty() {
            // Kept for the next crash, too.
            self.session
                .checkpoint(id, &self.operator, resume.clone())?;
        }
        let cancel = Cancel::default();
        self.running.insert(
            id.to_string(),
            Running {
                cancel: cancel.clone(),
                note,
                signal: None,
            },
        );
        let exec = self.registry.get(&step.kind);
        let notify = self.notify.clone();
        let sid = id.to_string();
        // Each service cuts its own secret out of what it says; this catches any that slips
        // through (a command's output, a server's echo) before the screen or the journal.
        let secrets: Arc<Vec<crate::secret::Secret>> = Arc::new(self.services.secrets());
        let scrub = move |text: &str| {
            let refs: Vec<&crate::secret::Secret> = secrets.iter().collect();
            crate::secret::scrub(text, &refs)
        };
        let progress: Arc<dyn Fn(String) + Send + Sync> = {
            let notify = notify.clone();
            let sid = sid.clone();
            let scrub = scrub.clone();
            Arc::new(move |line| {
                notify(Event::Progress {
                    step: sid.clone(),
                    line: scrub(&line),
                })
            })
        };
        let checkpoint: Arc<dyn Fn(Outputs, Ack) + Send + Sync> = {
            let notify = notify.clone();
            let sid = sid.clone();
            Arc::new(move |values, ack| {
                notify(Event::Checkpoint {
                    step: sid.clone(),
                    values,
                    ack,
                })
            })
        };
        let job = Job {
            step,
            ctx: self.run_context(),
            inputs,
            base: self.loaded.base.clone(),
            session_dir: self.session.dir().map(std::path::Path::to_path_buf),
            cancel,
            resume,
            resumed_since,
            now: if self.live_clock {
                crate::runbook::vars::Now::real()
            } else {
                self.vars.clock
            },
            console: self.console.clone(),
            pinned,
            progress,
            checkpoint,
        };
        std::thread::Builder::new()
            .name(format!("step-{sid}"))
            .spawn(move || {
                // A panic (a library's bug) must still end the step: without `Finished` the
                // front end would wait for it forever, deaf to cancels and signals.
                let acted = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    act(exec.as_ref(), &job, override_reason.is_some())
                }));
                let result = match acted {
                    Ok(r) => r.map_err(|e| scrub(&format!("{e:#}"))),
                    Err(p) => Err(scrub(&format!(
                        "the step stopped on an internal error ({}): what it had done is as \
                         its progress says; please report it",
                        p.downcast_ref::<&str>()
                            .copied()
                            .or_else(|| p.downcast_ref::<String>().map(String::as_str))
                            .unwrap_or("no message")
                    ))),
                };
                notify(Event::Finished { step: sid, result });
            })
            .context("starting a worker thread")?;
        Ok(())
    }

    /// The checkpoint the next run of `id` goes on from: a step stopped in the middle goes on;
    /// a failed one starts over, unless its kind keeps what the operator typed.
    fn resume_of(&self, id: &str) -> Outputs {
        self.step(id)
            .map(|step| self.resume_of_step(step))
            .unwrap_or_default()
    }

    fn resume_of_step(&self, step: &Step) -> Outputs {
        let Some(st) = self.session.state.steps.get(&step.id) else {
            return Outputs::new();
        };
        match st.status {
            Status::Interrupted { .. } => st.checkpoint.clone(),
            Status::Failed { .. } if self.registry.get(&step.kind).resumes_failed() => {
                st.checkpoint.clone()
            }
            _ => Outputs::new(),
        }
    }

    /// Asks a running step to stop; it ends as failed ("cancelled").
    pub fn cancel(&self, id: &str) {
        if let Some(r) = self.running.get(id) {
            r.cancel.cancel();
        }
    }

    /// Tells a running watch it has watched enough: it judges what it saw and ends. The
    /// operator's note goes with it to the journal.
    pub fn end_early(&mut self, id: &str, note: &str) -> Result<()> {
        let r = self
            .running
            .get_mut(id)
            .with_context(|| format!("`{id}` is not running"))?;
        let note = note.trim();
        if !note.is_empty() {
            r.note = Some(match r.note.take() {
                Some(n) => format!("{n}; ended early: {note}"),
                None => format!("ended early: {note}"),
            });
        }
        r.cancel.end_early();
        Ok(())
    }

    pub fn cancel_all(&self) {
        for r in self.running.values() {
            r.cancel.cancel();
        }
    }

    /// pushduty is being stopped by `signal`: every running step is cancelled (its process
    /// group killed) and will be journaled as interrupted by it.
    pub fn interrupt_all(&mut self, signal: &str) {
        for r in self.running.values_mut() {
            r.signal = Some(signal.to_string());
            r.cancel.cancel();
        }
    }

    /// Journals a running step's handle, and tells the step (through `ack`) whether the
    /// journal has it: a step that waits for it acts only then.
    pub fn checkpoint(&mut self, id: &str, values: Outputs, ack: &Ack) -> Result<()> {
        let handle = values.values().any(|v| !v.is_null());
        let r = self.session.checkpoint(id, &self.operator, values);
        ack.reply(&r);
        r?;
        // The team's push log hears the handle too (after the step was told, so it is not
        // held up): a driver who takes the push over follows it instead of starting again.
        // A cleared handle goes with the step's result, which comes next.
        if handle {
            self.publish_to_log(id, "checkpoint");
        }
        Ok(())
    }

    /// Records how a step ended (with what it did), then which later steps apply and which
    /// done steps no longer hold.
    pub fn finish(&mut self, id: &str, result: Result<Outputs, String>) -> Result<()> {
        let run = self.running.remove(id);
        let note = run.as_ref().and_then(|r| r.note.clone());
        let signal = run.and_then(|r| r.signal);
        let mut t = Transition::new(id, "", "");
        t.note = note;
        let to = match (result, signal) {
            (Ok(outputs), _) => {
                // A tag step may have made a new revision (`-1`): later steps use that name.
                if let (Some(Value::String(name)), Some(repo)) =
                    (outputs.get(git::TAG_NAME), self.step(id)?.kind.repo())
                {
                    let mut tags = self.session.state.repo_tags.clone();
                    if tags.get(repo) != Some(name) {
                        tags.insert(repo.to_string(), name.clone());
                        t.tags = Some(tags);
                    }
                }
                t.outputs = outputs;
                let at = now_rfc3339();
                // An approval keeps what it was given on.
                if matches!(self.step(id)?.kind, StepKind::Gate(_)) {
                    let seen = crate::session::evidence::gather(
                        &self.loaded.runbook,
                        &self.session.state,
                        id,
                        &at,
                        &self.on_screen,
                    );
                    t.outputs.insert(crate::session::evidence::KEY.into(), seen);
                }
                t.action = Some(self.action_after(id, &t)?);
                Status::Done { at }
            }
            (Err(error), Some(signal)) => {
                t.reason = Some(format!("stopped by {signal}: {error}"));
                Status::Interrupted {
                    since: String::new(),
                }
            }
            (Err(error), None) => Status::Failed { error },
        };
        if let Some(tags) = &t.tags {
            for (repo, tag) in tags {
                self.vars.set_repo_tag(repo, tag);
            }
        }
        let items = match (
            &to,
            t.outputs.get(RELEASE_ITEMS),
            t.outputs.get(RELEASE_TAG),
        ) {
            (Status::Done { .. }, Some(v), Some(Value::String(tag))) => {
                Some((v.clone(), tag.clone()))
            }
            _ => None,
        };
        self.session.record(id, to, &self.operator, t)?;
        let to = self.status(id).name();
        self.publish_to_log(id, to);
        self.refresh()?;
        if let Some((items, tag)) = items {
            self.take_up_release_items(id, &items, &tag)?;
        }
        Ok(())
    }

    /// A written-ahead step's result goes to the team's push log now (with whatever else it has
    /// not heard); other steps' lines follow with the next. A failure is said, not fatal: the
    /// local journal has it, and the next write sends it.
    fn publish_to_log(&mut self, id: &str, what: &str) {
        if !self.step(id).is_ok_and(written_ahead) {
            return;
        }
        let what = format!("{id} {what}");
        if self.background_log {
            return self.publish_in_background(what);
        }
        let Some(log) = self.push_log.as_mut() else {
            return;
        };
        let state = &self.session.state;
        if let Err(e) = log.publish(&what, state, &self.loaded.runbook) {
            self.log_warnings.push(log_writes::unsent(log, &what, &e));
        }
        self.log_warnings.append(&mut log.notices);
    }

    /// Sends the push log every line of this push's journal it has not heard yet. `settled`:
    /// the operator settled with the team where the two differ; that is journaled (the steps
    /// and why) and both histories are kept, this one's after the log's. The steps settled,
    /// if any.
    pub fn sync_log(&mut self, settled: Option<&str>) -> Result<Vec<String>> {
        let log = self
            .push_log
            .as_mut()
            .context("no push log is configured (`[log]` in the config)")?;
        let mut steps = Vec::new();
        if let Some(why) = settled {
            steps = log.clashes()?;
            if steps.is_empty() {
                bail!(
                    "nothing to settle: the push log and this journal agree (`pushduty log \
                     sync` alone sends what the log has not heard)"
                );
            }
            self.session.settled(&self.operator, steps.clone(), why)?;
        }
        let log = self
            .push_log
            .as_mut()
            .context("no push log is configured (`[log]` in the config)")?;
        let sent = log.publish("sync", &self.session.state, &self.loaded.runbook);
        self.log_warnings.append(&mut log.notices);
        sent?;
        Ok(steps)
    }

    /// The one-off items a release's body lists become ad-hoc items of this push, once each
    /// (an item of the same text is there already): "Before we start" in the release step's
    /// section, "Before we promote" in the section of the first gate after it, "After we're
    /// done" in the last section. One already ticked in the body is left out.
    fn take_up_release_items(&mut self, step: &str, items: &Value, tag: &str) -> Result<()> {
        let rb = &self.loaded.runbook;
        let at = rb.steps.iter().position(|s| s.id == step).unwrap_or(0);
        let repo = rb
            .steps
            .get(at)
            .and_then(|s| s.kind.repo())
            .unwrap_or_default()
            .to_string();
        let release = crate::session::journal::FromRelease {
            repo: repo.clone(),
            tag: tag.to_string(),
            step: step.to_string(),
        };
        let here = rb.steps.get(at).map(|s| s.section.clone());
        let gate = rb.steps[at..]
            .iter()
            .find(|s| matches!(s.kind, StepKind::Gate(_)))
            .map(|s| s.section.clone());
        let last = rb.sections.last().map(|s| s.id.clone());
        // Taken up once: the same text from the same release (read again by its publish)
        // is there already; the same text in another release is an item of its own.
        let have: Vec<String> = self
            .session
            .state
            .items
            .values()
            .filter(|i| {
                i.release
                    .as_ref()
                    .is_none_or(|r| r.repo == release.repo && r.tag == release.tag)
            })
            .map(|i| i.text.clone())
            .collect();
        let mut refused = Vec::new();
        for item in items.as_array().into_iter().flatten() {
            let Some(text) = item["text"].as_str() else {
                continue;
            };
            // Said as it will be shown: one line, at most an item's length.
            let text: String = text
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .take(ITEM_MAX_CHARS)
                .collect();
            if item["done"] == true || have.contains(&text) {
                continue;
            }
            let section = match item["phase"].as_str() {
                Some("before_we_start") => here.clone(),
                Some("before_we_promote") => gate.clone().or_else(|| here.clone()),
                _ => last.clone(),
            };
            // A command runs as written; one that cannot be said literally is done by hand.
            let command = item["command"]
                .as_str()
                .filter(|c| !c.chars().any(char::is_control))
                .filter(|c| pushduty_core::shell::literal(c).is_some())
                .map(str::to_string);
            if let Err(e) = self.add_item_from(
                &text,
                section.as_deref(),
                false,
                command,
                Some(release.clone()),
            ) {
                refused.push(format!("`{text}`: {e:#}"));
            }
        }
        if refused.is_empty() {
            Ok(())
        } else {
            bail!(
                "the release's one-off items not taken up (add them with `pushduty add`): {}",
                refused.join("; ")
            )
        }
    }

    /// The action of a step as it stands once `t` (its outputs, a new tag name) is applied:
    /// what "done" refers to from now on.
    fn action_after(&self, id: &str, t: &Transition) -> Result<String> {
        let mut vars = self.vars.clone();
        if let Some(tags) = &t.tags {
            for (repo, tag) in tags {
                vars.set_repo_tag(repo, tag);
            }
        }
        let mut values = self.session.state.values.clone();
        values.extend(t.outputs.clone());
        let ctx = self.with_session(crate::plan::known_context(&vars, &values));
        crate::preview::action(self.step(id)?, &self.loaded.runbook, &ctx)
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
        if let Some(why) = self.still_running(id) {
            bail!("cannot reopen `{id}`: {why}");
        }
        let mut t = Transition::new(id, "", "");
        t.reason = Some(format!("reopened: {}", reason.trim()));
        self.session
            .record(id, Status::Pending, &self.operator, t)?;
        self.refresh()
    }

    /// Skipping is for a step that has not run (or did not finish): one that is done can
    /// only be reopened, so its side effect is never repeated behind a skip.
    /// What to do by hand instead of `id`, with the values known now (see [`ByHand`]).
    pub fn by_hand(&self, id: &str) -> Result<ByHand> {
        self.by_hand_reader(id)?()
    }

    /// [`Engine::by_hand`] as a job to run elsewhere (it reads the runbook's files).
    pub fn by_hand_reader(
        &self,
        id: &str,
    ) -> Result<impl FnOnce() -> Result<ByHand> + Send + 'static> {
        let step = self.step(id)?.clone();
        if matches!(
            step.kind,
            StepKind::Manual(_) | StepKind::Choice(_) | StepKind::Gate(_)
        ) {
            bail!("`{id}` is done by hand already: run it (Enter, or `pushduty do {id}`)");
        }
        let exec = self.registry.get(&step.kind);
        let runbook = self.loaded.runbook.without_steps();
        let ctx = self.run_context();
        // Which step sets a missing value, said now: the job has no engine to ask.
        let setters = self.setters().clone();
        Ok(move || {
            exec.by_hand(&step, &runbook, &ctx)
                .map_err(|e| anyhow::anyhow!("{}", explain_missing(&format!("{e:#}"), &setters)))
        })
    }

    /// Ticks `id` off as done by hand, having shown the operator `shown`: journaled with what
    /// was shown and their note, and done like any done step (it runs again if what it would
    /// do changes). Refused when what to do changed since it was shown.
    pub fn done_by_hand(&mut self, id: &str, note: &str, shown: &ByHand) -> Result<()> {
        let again = self.by_hand(id)?;
        self.done_by_hand_as_read(id, note, shown, &again)
    }

    /// [`Engine::done_by_hand`] with what to do read `again` by the caller (off its UI
    /// thread): refused unless it is what was `shown`.
    pub fn done_by_hand_as_read(
        &mut self,
        id: &str,
        note: &str,
        shown: &ByHand,
        again: &ByHand,
    ) -> Result<()> {
        match self.status(id) {
            Status::Pending | Status::Failed { .. } | Status::Interrupted { .. } => {}
            Status::Done { .. } => bail!("`{id}` is done already: reopen it first"),
            other => bail!("`{id}` is {}: it cannot be ticked off", other.name()),
        }
        if note.trim().is_empty() {
            bail!("say what you did (a note) to tick `{id}` off by hand");
        }
        if let Some(why) = self.refusal(id) {
            bail!("cannot tick off `{id}`: {why}");
        }
        if let Some(why) = self.still_running(id) {
            bail!("cannot tick off `{id}`: {why}");
        }
        if again != shown {
            bail!("what to do by hand for `{id}` changed since it was shown: look again");
        }
        let mut t = Transition::new(id, "", "");
        t.note = Some(note.trim().to_string());
        t.action = Some(self.action(id)?);
        t.by_hand = Some(shown.text());
        t.outputs = shown.outputs.clone();
        self.session
            .record(id, Status::Done { at: now_rfc3339() }, &self.operator, t)?;
        self.refresh()
    }

    pub fn skip(&mut self, id: &str, reason: &str) -> Result<()> {
        match self.status(id) {
            Status::Pending | Status::Failed { .. } | Status::Interrupted { .. } => {}
            Status::Done { .. } => bail!("`{id}` is done: reopen it instead of skipping it"),
            other => bail!("`{id}` is {}: it cannot be skipped", other.name()),
        }
        if reason.trim().is_empty() {
            bail!("skipping needs a reason");
        }
        if let Some(why) = self.still_running(id) {
            bail!("cannot skip `{id}`: {why}");
        }
        self.session.record(
            id,
            Status::Skipped {
                reason: reason.trim().to_string(),
            },
            &self.operator,
            Transition::new(id, "", ""),
        )?;
        self.refresh()
    }

    /// Brings statuses in line with the values: done steps whose action changed run again,
    /// pending steps whose `only_if` turned false do not apply (and back).
    fn refresh(&mut self) -> Result<()> {
        self.refresh_stale()?;
        self.refresh_applicability()
    }

    /// A done step whose action, resolved now, differs from what it did (an earlier step
    /// was reopened, a re-tag made `-1`) is no longer done: back to pending, with why.
    fn refresh_stale(&mut self) -> Result<()> {
        let mut moves = Vec::new();
        for step in &self.loaded.runbook.steps {
            let Some(st) = self.session.state.steps.get(&step.id) else {
                continue;
            };
            let (Status::Done { .. }, Some(did)) = (&st.status, &st.action) else {
                continue;
            };
            // A choice's labels only describe its options, and may name what the push has
            // made since (the base of the picks once a tag exists): the choice made stands.
            if matches!(step.kind, StepKind::Choice(_)) {
                continue;
            }
            // Unknown values now (a reopened choice) do not undo what was done.
            let Ok(now) = self.action(&step.id) else {
                continue;
            };
            if &now != did {
                moves.push((step.id.clone(), self.stale_reason(&st.done_tags, did, &now)));
            }
        }
        for (id, reason) in moves {
            let mut t = Transition::new(&id, "", "");
            t.reason = Some(reason);
            t.stale = true;
            self.session
                .record(&id, Status::Pending, &self.operator, t)?;
        }
        Ok(())
    }

    /// Why a done step must run again, in the push's words where a re-tag is the cause.
    fn stale_reason(
        &self,
        done_tags: &indexmap::IndexMap<String, String>,
        did: &str,
        now: &str,
    ) -> String {
        for (repo, old) in done_tags {
            match self.session.state.repo_tags.get(repo) {
                Some(new)
                    if new != old && did.contains(old.as_str()) && now.contains(new.as_str()) =>
                {
                    return format!("done for {old}; this push is now {new}");
                }
                _ => {}
            }
        }
        format!("done as \"{did}\"; now it would \"{now}\"")
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
            let t = Transition::new(&id, "", "");
            self.session.record(&id, to, &self.operator, t)?;
        }
        Ok(())
    }
}

/// What a step's start needs once the push log has answered.
pub struct PendingStart {
    id: String,
    step: Step,
    inputs: Inputs,
    override_reason: Option<String>,
    pinned: Option<Pinned>,
    note: Option<String>,
    resume: Outputs,
    resumed_since: Option<String>,
}

/// A step's `running`, to be written to the team's push log before it is journaled here and
/// the step acts: [`LogClaim::run`] does the writing (fetch, decide, push; it may take a
/// second over ssh), then [`Engine::end_start`] goes on. The push log is held by the claim
/// meanwhile, so nothing else writes to it.
pub struct LogClaim {
    log: log_writes::LogSource,
    /// What a write the claim waited for had to say.
    said: Vec<String>,
    entry: crate::session::journal::Entry,
    next: crate::session::SessionState,
    rb: crate::runbook::model::Runbook,
    t: Transition,
    running: Status,
    pending: PendingStart,
    result: Option<Result<()>>,
}

impl LogClaim {
    /// The step this claim starts.
    pub fn step(&self) -> &str {
        &self.pending.id
    }

    /// Why the push log could not be reached, when that is why the claim failed: the
    /// operator may go on without it ([`Engine::end_start_offline`]).
    pub fn unreachable(&self) -> Option<String> {
        match &self.result {
            Some(Err(e)) if crate::teamlog::is_unreachable(e) => Some(format!("{e:#}")),
            _ => None,
        }
    }

    /// Writes the step's `running` to the push log: the slow part, safe on any thread.
    pub fn run(mut self) -> Self {
        self.log = self.log.get(&mut self.said);
        let r = match &mut self.log {
            log_writes::LogSource::Here(log) => {
                log.claim(&self.pending.id, &self.entry, &self.next, &self.rb)
            }
            _ => Err(anyhow::anyhow!(
                "the push log was lost by a write on another thread"
            )),
        };
        self.result = Some(r);
        self
    }
}

/// Whether a step is journaled in the team's push log before it acts: one that changes
/// something, and a gate (the driver's decision, and where a hand-off happens).
fn written_ahead(step: &Step) -> bool {
    step.kind.info().side_effect || matches!(step.kind, StepKind::Gate(_))
}

/// `text` with the step that sets each value it says is missing (`` `x` is not set yet``).
fn explain_missing(text: &str, setters: &HashMap<String, String>) -> String {
    const NOT_SET: &str = "` is not set yet";
    if !text.contains(NOT_SET) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(NOT_SET) {
        let (before, after) = rest.split_at(at + NOT_SET.len());
        out.push_str(before);
        let name = before[..at].rsplit('`').next().unwrap_or_default();
        if let Some(id) = setters.get(name) {
            out.push_str(&format!(" (step `{id}` sets it)"));
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// On the worker: the checks once more, right before acting, then the act.
fn act(exec: &dyn Executor, job: &Job, overridden: bool) -> Result<Outputs> {
    let checks = exec.check(&job.step, &job.ctx);
    if let Some(failed) = failed_checks(&checks) {
        if !overridden {
            bail!("not done: {failed}");
        }
        job.progress(format!("going on although: {failed}"));
    }
    exec.run(job)
}

#[cfg(test)]
mod tests;
