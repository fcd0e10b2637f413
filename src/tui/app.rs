//! The TUI's state and its update function. Drawing is in `ui/` (pure); I/O happens only
//! through the engine (which journals) and the event loop (terminal, editor).

use std::time::{Duration, Instant};

use ratatui::crossterm::event::{
    Event, KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::layout::Rect;

use super::action::Action;
use super::keys;
use super::logbuf::{self, LogView, Search};
use super::pane::{Pane, SourceUpdate};
use super::picker::{Item, Pick, Picker};
use super::theme::Theme;
use crate::engine::{self, Check, Engine, InputSpec, Inputs};
use crate::session::Status;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Run,
    /// Read-only: nothing runs, nothing is written.
    Learn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Checklist,
    Panes,
    /// The log, open full-size: scroll it, search it.
    Log,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Modal {
    None,
    /// What will run and the facts checked first; `y` goes on to the inputs, then runs.
    /// A failed check allows only `f`: override it, with a reason.
    Confirm {
        step: String,
        /// `None` while they are read (off the UI thread).
        checks: Option<Vec<Check>>,
    },
    /// Learn mode: what the step would do and why.
    Explain {
        step: String,
    },
    Prompt(Prompt),
    Help,
    /// The whole procedure (summary, sections, days), scrolled by `scroll` lines.
    Overview {
        scroll: u16,
    },
    /// Quit while a step runs.
    QuitRunning,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Purpose {
    Skip {
        step: String,
    },
    Reopen {
        step: String,
    },
    /// Why to act although a check failed.
    Override {
        step: String,
    },
    /// Why a watch has seen enough.
    EndEarly {
        step: String,
    },
    /// The text of an ad-hoc item for `section`.
    AddItem {
        section: String,
    },
    /// Asking `specs[index]`; `answers` holds the ones before it.
    Inputs {
        step: String,
        specs: Vec<InputSpec>,
        index: usize,
        answers: Inputs,
        override_reason: Option<String>,
    },
}

/// A one-line editor in a small modal.
#[derive(Debug, Clone, PartialEq)]
pub struct Prompt {
    pub title: String,
    pub label: String,
    /// Listed under the line, e.g. a choice's options.
    pub hints: Vec<String>,
    pub buffer: String,
    /// In chars.
    pub cursor: usize,
    pub error: Option<String>,
    pub purpose: Purpose,
    /// A list to pick the answer from (a choice's options, a cherry-pick's commits).
    /// Boxed: most prompts have none, and the modal stays small.
    pub picker: Option<Box<Picker>>,
}

impl Prompt {
    fn new(title: String, label: String, hints: Vec<String>, purpose: Purpose) -> Self {
        Prompt {
            title,
            label,
            hints,
            buffer: String::new(),
            cursor: 0,
            error: None,
            purpose,
            picker: None,
        }
    }

    /// Keys a list picks with; false when the key is for the line editor.
    fn pick(&mut self, key: &KeyEvent) -> bool {
        let Some(picker) = &mut self.picker else {
            return false;
        };
        match (key.code, picker.pick) {
            (KeyCode::Up, _) => picker.up(),
            (KeyCode::Down, _) => picker.down(),
            (KeyCode::PageUp, _) => (0..5).for_each(|_| picker.up()),
            (KeyCode::PageDown, _) => (0..5).for_each(|_| picker.down()),
            (KeyCode::Char(' '), Pick::Many) => {
                self.buffer = picker.toggle(&self.buffer);
                self.cursor = self.buffer.chars().count();
            }
            _ => return false,
        }
        // Moving through a choice's options: Enter takes the highlighted one, not a
        // number typed before.
        if picker.pick == Pick::One
            && matches!(
                key.code,
                KeyCode::Up | KeyCode::Down | KeyCode::PageUp | KeyCode::PageDown
            )
        {
            self.buffer.clear();
            self.cursor = 0;
        }
        self.error = None;
        true
    }

    fn byte(&self, chars: usize) -> usize {
        self.buffer
            .char_indices()
            .nth(chars)
            .map_or(self.buffer.len(), |(i, _)| i)
    }

    fn edit(&mut self, key: &KeyEvent) {
        let len = self.buffer.chars().count();
        match key.code {
            KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.buffer.clear();
                self.cursor = 0;
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                let at = self.byte(self.cursor);
                self.buffer.insert(at, c);
                self.cursor += 1;
            }
            KeyCode::Backspace if self.cursor > 0 => {
                self.cursor -= 1;
                let at = self.byte(self.cursor);
                self.buffer.remove(at);
            }
            KeyCode::Delete if self.cursor < len => {
                let at = self.byte(self.cursor);
                self.buffer.remove(at);
            }
            KeyCode::Left => self.cursor = self.cursor.saturating_sub(1),
            KeyCode::Right => self.cursor = (self.cursor + 1).min(len),
            KeyCode::Home => self.cursor = 0,
            KeyCode::End => self.cursor = len,
            _ => {}
        }
        self.error = None;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Progress,
    Warn,
    Error,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    pub level: Level,
    pub text: String,
}

pub struct App {
    pub engine: Engine,
    pub mode: Mode,
    pub theme: Theme,
    pub focus: Focus,
    pub modal: Modal,
    /// Index into the runbook's steps.
    pub selected: usize,
    pub detail_scroll: u16,
    pub pane_selected: usize,
    pub panes: Vec<Pane>,
    pub log: Vec<LogLine>,
    /// Where the log is scrolled to and what it is searched for.
    pub log_view: LogView,
    pub started: Instant,
    /// Shown instead of the real elapsed time (snapshot tests).
    pub fixed_elapsed: Option<Duration>,
    pub spinner: usize,
    /// The terminal's size at the last draw, for mouse hit-testing.
    pub area: Rect,
    pub quit: bool,
    /// Asks a source for a fresh snapshot, by pane (after a step that changes what it shows).
    pub refresh: Vec<(&'static str, std::sync::mpsc::Sender<()>)>,
    /// Each step's title, doc and preview with the session's values filled in, by step index.
    /// Made when something changes, never while drawing: a git preview reads the repo.
    pub views: Vec<StepView>,
    /// Set when a signal ends the TUI: the exit code to leave with.
    pub exit_code: Option<u8>,
    /// Where previews computed off the UI thread are sent; `None` computes them in place
    /// (tests).
    pub previewer: Option<std::sync::mpsc::Sender<super::Msg>>,
    views_generation: u64,
    /// The production push as the journal has it, shared with the Sentry and metrics
    /// sources so their panes mark it.
    pub push_moment: crate::sources::health::Moment,
    /// `y` was pressed in a confirmation whose checks were still being read.
    yes_pending: bool,
    /// How long each step usually takes, from past pushes of the runbook (by step id).
    pub usual: std::collections::BTreeMap<String, crate::report::Usual>,
    /// The past push `learn --replay` steps through.
    pub replay: Option<crate::report::Report>,
    /// Shown instead of the wall clock for a running step's elapsed time (snapshot tests).
    pub fixed_now: Option<chrono::DateTime<chrono::Utc>>,
    /// The runbook's summary and each section's doc (by section index), values filled in.
    pub procedure: Procedure,
    /// How far the open dialog's body is scrolled (rows); back to 0 for each new dialog.
    pub dialog_scroll: usize,
    /// Background work (threads that read the repo or the services) held back until the
    /// first frame is on screen, so that it does not compete with drawing it; `None` once
    /// that frame is drawn (see [`App::first_frame_drawn`]).
    pub deferred: Option<Vec<Deferred>>,
}

/// Work started once the first frame is on screen.
pub type Deferred = Box<dyn FnOnce(&mut App) + Send>;

/// The story of the runbook as the overview and the section header tell it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Procedure {
    pub summary: String,
    pub section_docs: Vec<String>,
}

/// A step as the screens show it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StepView {
    pub title: String,
    pub doc: String,
    pub preview: String,
    /// Why it cannot run while a process it started still lives elsewhere.
    pub elsewhere: Option<String>,
}

impl App {
    /// An app whose previews are computed in place (tests).
    pub fn new(engine: Engine, mode: Mode, theme: Theme) -> Self {
        Self::build(engine, mode, theme, None)
    }

    /// An app whose previews are computed on a thread and sent to `tx` (the TUI's loop).
    pub fn with_previewer(
        engine: Engine,
        mode: Mode,
        theme: Theme,
        tx: std::sync::mpsc::Sender<super::Msg>,
    ) -> Self {
        Self::build(engine, mode, theme, Some(tx))
    }

    fn build(
        engine: Engine,
        mode: Mode,
        theme: Theme,
        previewer: Option<std::sync::mpsc::Sender<super::Msg>>,
    ) -> Self {
        let mut panes = Pane::for_runbook(&engine);
        if mode == Mode::Learn {
            // Learn mode never reads GitHub; what `run` will need is still worth saying.
            for p in panes.iter_mut().filter(|p| p.name == "blockers") {
                let learn = "read live by `pushduty run` (learn mode reads no service)";
                p.hint = if p.hint.starts_with(learn) {
                    learn.to_string()
                } else {
                    format!("{learn}; {}", p.hint)
                };
            }
        }
        let mut app = App {
            engine,
            mode,
            theme,
            focus: Focus::Checklist,
            modal: Modal::None,
            selected: 0,
            detail_scroll: 0,
            pane_selected: 0,
            panes,
            log: Vec::new(),
            log_view: LogView::default(),
            started: Instant::now(),
            fixed_elapsed: None,
            spinner: 0,
            area: Rect::new(0, 0, 80, 24),
            quit: false,
            refresh: Vec::new(),
            views: Vec::new(),
            exit_code: None,
            previewer,
            views_generation: 0,
            push_moment: Default::default(),
            yes_pending: false,
            usual: Default::default(),
            replay: None,
            fixed_now: None,
            procedure: Procedure::default(),
            dialog_scroll: 0,
            deferred: Some(Vec::new()),
        };
        app.refresh_views();
        app.start_at_today();
        app
    }

    /// Where the operator is in the procedure: the cursor on the step to do next, and a
    /// notice when this week's hero is someone else (they may have swapped: not a block).
    fn start_at_today(&mut self) {
        if let Some(i) = self.next_index() {
            self.select(i);
        }
        let v = &self.engine.vars;
        if self.mode == Mode::Run
            && let Some(hero) = v.hero.as_deref()
            && hero != self.engine.operator
        {
            let notice = format!("you are not this week's hero: {hero} is");
            self.log(Level::Warn, notice);
        }
    }

    /// The index of the step to do next, if any is left.
    pub fn next_index(&self) -> Option<usize> {
        let id = self.engine.next_actionable()?;
        self.engine
            .loaded
            .runbook
            .steps
            .iter()
            .position(|s| s.id == id)
    }

    /// Renders every step's texts for the screens; called after anything that can change
    /// them (a step finished, skipped or reopened, a repo changed).
    /// How many times the step views were made (each asks for fresh previews).
    pub fn views_generation(&self) -> u64 {
        self.views_generation
    }

    pub fn refresh_views(&mut self) {
        let ctx = self.engine.context();
        let rb = &self.engine.loaded.runbook;
        self.procedure = Procedure {
            summary: crate::preview::fill(&rb.summary, &ctx),
            section_docs: rb
                .sections
                .iter()
                .map(|s| crate::preview::fill(&s.doc, &ctx))
                .collect(),
        };
        let old = std::mem::take(&mut self.views);
        let n = self.engine.loaded.runbook.steps.len();
        self.views = self
            .engine
            .loaded
            .runbook
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| StepView {
                title: crate::preview::fill(&s.title, &ctx),
                doc: crate::preview::fill(&s.doc, &ctx),
                // Until the new one comes: the last one, or a word that it is on its way
                // (an added item moved the steps after it: their old previews are not theirs).
                preview: old
                    .get(i)
                    .filter(|_| old.len() == n)
                    .map_or_else(|| "(reading…)".to_string(), |v| v.preview.clone()),
                elsewhere: self.engine.still_running(&s.id),
            })
            .collect();
        self.previews_for(ctx);
    }

    /// Computes every step's preview again (off the UI thread when there is a previewer),
    /// keeping titles and docs: what a change to the repository alone calls for.
    pub fn refresh_previews(&mut self) {
        self.previews_for(self.engine.context());
    }

    fn previews_for(&mut self, ctx: serde_json::Value) {
        self.views_generation += 1;
        let generation = self.views_generation;
        let registry = self.engine.registry.clone();
        let rb = self.engine.loaded.runbook.clone();
        let compute = move || -> Vec<String> {
            rb.steps
                .iter()
                .map(|s| registry.get(&s.kind).preview(s, &rb, &ctx))
                .collect()
        };
        match &self.previewer {
            // Git previews read the repository: never on the UI thread. The newest request
            // wins; an older answer arriving late is dropped.
            Some(tx) => {
                let tx = tx.clone();
                self.after_first_frame(Box::new(move |app: &mut App| {
                    let spawned = off_the_ui(&tx, "previews", move || super::Msg::Previews {
                        generation,
                        previews: compute(),
                    });
                    if !spawned {
                        app.log(Level::Warn, "could not start a thread for the previews");
                    }
                }));
            }
            None => {
                let previews = compute();
                self.on_previews(generation, previews);
            }
        }
    }

    /// Runs `work` now if the first frame is on screen, else as soon as it is.
    pub fn after_first_frame(&mut self, work: Deferred) {
        match &mut self.deferred {
            Some(held) => held.push(work),
            None => work(self),
        }
    }

    /// The first frame is on screen: the work held back for it starts, in the order it was
    /// asked for.
    pub fn first_frame_drawn(&mut self) {
        for work in self.deferred.take().unwrap_or_default() {
            work(self);
        }
    }

    /// Previews computed off the UI thread; only the newest request's are kept.
    pub fn on_previews(&mut self, generation: u64, previews: Vec<String>) {
        if generation != self.views_generation {
            return;
        }
        for (v, p) in self.views.iter_mut().zip(previews) {
            v.preview = p;
        }
    }

    /// The rendered texts of a step, by id.
    pub fn view(&self, id: &str) -> &StepView {
        static NONE: StepView = StepView {
            title: String::new(),
            doc: String::new(),
            preview: String::new(),
            elsewhere: None,
        };
        self.engine
            .loaded
            .runbook
            .steps
            .iter()
            .position(|s| s.id == id)
            .and_then(|i| self.views.get(i))
            .unwrap_or(&NONE)
    }

    pub fn elapsed(&self) -> Duration {
        self.fixed_elapsed.unwrap_or_else(|| self.started.elapsed())
    }

    /// How long the running step `id` has run, by the journal's start time.
    pub fn running_for(&self, id: &str) -> Option<i64> {
        match self.engine.status(id) {
            Status::Running { since } => crate::session::timing::since(
                &since,
                self.fixed_now.unwrap_or_else(chrono::Utc::now),
            ),
            _ => None,
        }
    }

    /// Whether the loop should tick (spinner, elapsed time): only while something runs.
    pub fn ticking(&self) -> bool {
        self.engine.is_running()
    }

    pub fn tick(&mut self) {
        self.spinner = self.spinner.wrapping_add(1);
    }

    pub fn log(&mut self, level: Level, text: impl Into<String>) {
        self.log.push(LogLine {
            level,
            text: text.into(),
        });
        // Dropped a tenth at a time, not a line per line.
        if self.log.len() > logbuf::KEEP + logbuf::KEEP / 10 {
            let extra = self.log.len() - logbuf::KEEP;
            self.log.drain(..extra);
            self.log_view.dropped(extra);
        }
    }

    pub fn step_ids(&self) -> Vec<String> {
        self.engine
            .loaded
            .runbook
            .steps
            .iter()
            .map(|s| s.id.clone())
            .collect()
    }

    pub fn selected_id(&self) -> Option<String> {
        self.engine
            .loaded
            .runbook
            .steps
            .get(self.selected)
            .map(|s| s.id.clone())
    }

    fn select(&mut self, i: usize) {
        let n = self.engine.loaded.runbook.steps.len();
        if n == 0 {
            return;
        }
        let i = i.min(n - 1);
        if i != self.selected {
            self.selected = i;
            self.detail_scroll = 0;
        }
    }

    /// Turns a terminal event into state changes.
    pub fn handle_event(&mut self, ev: &Event) {
        match ev {
            Event::Key(k) => self.handle_key(k),
            Event::Mouse(m) => self.handle_mouse(m),
            Event::Resize(w, h) => self.area = Rect::new(0, 0, *w, *h),
            _ => {}
        }
    }

    pub fn handle_key(&mut self, key: &KeyEvent) {
        let before = self.dialog_identity();
        self.dispatch_key(key);
        if self.dialog_identity() != before {
            self.dialog_scroll = 0;
        }
    }

    /// Which dialog is open, to start a new one at its top.
    fn dialog_identity(&self) -> (std::mem::Discriminant<Modal>, String) {
        let name = match &self.modal {
            Modal::Confirm { step, .. } | Modal::Explain { step } => step.clone(),
            Modal::Prompt(p) => p.title.clone(),
            _ => String::new(),
        };
        (std::mem::discriminant(&self.modal), name)
    }

    /// PgUp/PgDn (a page) and the arrows (a row) scroll a dialog's body.
    fn scroll_dialog(&mut self, key: &KeyEvent) -> bool {
        let (pages, rows) = match key.code {
            KeyCode::PageDown => (1, 0),
            KeyCode::PageUp => (-1, 0),
            KeyCode::Down | KeyCode::Char('j') => (0, 1),
            KeyCode::Up | KeyCode::Char('k') => (0, -1),
            _ => return false,
        };
        self.dialog_scroll = super::ui::dialog_scrolled(self, pages, rows);
        true
    }

    fn dispatch_key(&mut self, key: &KeyEvent) {
        // The overview scrolls itself (it is a page, not a dialog body).
        if !matches!(
            self.modal,
            Modal::None | Modal::Help | Modal::Prompt(_) | Modal::Overview { .. }
        ) && self.scroll_dialog(key)
        {
            return;
        }
        if self.modal == Modal::None && self.focus == Focus::Log && self.log_key(key) {
            return;
        }
        if let Modal::Prompt(p) = &mut self.modal
            && p.pick(key)
        {
            // Where the highlighted item brought the view: the next move starts from there.
            self.dialog_scroll = super::ui::dialog_scrolled(self, 0, 0);
            return;
        }
        match &mut self.modal {
            Modal::Prompt(_)
                if matches!(
                    key.code,
                    KeyCode::PageUp | KeyCode::PageDown | KeyCode::Up | KeyCode::Down
                ) =>
            {
                self.scroll_dialog(key);
            }
            Modal::Prompt(p) => match key.code {
                KeyCode::Enter => self.submit_prompt(),
                KeyCode::Esc => {
                    self.modal = Modal::None;
                    self.log(Level::Info, "cancelled");
                }
                KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                    self.modal = Modal::None;
                }
                _ => p.edit(key),
            },
            Modal::Overview { scroll } => match key.code {
                KeyCode::Char('j') | KeyCode::Down => *scroll = scroll.saturating_add(1),
                KeyCode::Char('k') | KeyCode::Up => *scroll = scroll.saturating_sub(1),
                KeyCode::PageDown | KeyCode::Char(' ') => *scroll = scroll.saturating_add(10),
                KeyCode::PageUp => *scroll = scroll.saturating_sub(10),
                KeyCode::Char('g') | KeyCode::Home => *scroll = 0,
                KeyCode::Esc | KeyCode::Char('i') | KeyCode::Char('q') | KeyCode::Enter => {
                    self.modal = Modal::None;
                }
                _ => {}
            },
            Modal::Help => {
                if matches!(
                    key.code,
                    KeyCode::Esc | KeyCode::Char('?') | KeyCode::Char('q') | KeyCode::Enter
                ) {
                    self.modal = Modal::None;
                }
            }
            Modal::Explain { .. } => {
                if matches!(
                    key.code,
                    KeyCode::Esc | KeyCode::Enter | KeyCode::Char('n') | KeyCode::Char('q')
                ) {
                    self.modal = Modal::None;
                }
            }
            Modal::Confirm { .. } | Modal::QuitRunning => {
                if let Some(a) = keys::lookup(keys::DIALOG, key) {
                    self.update(a);
                }
            }
            Modal::None => {
                if let Some(a) = keys::lookup(keys::MAIN, key) {
                    self.update(a);
                }
            }
        }
    }

    fn handle_mouse(&mut self, m: &MouseEvent) {
        if self.modal != Modal::None {
            return;
        }
        // The open log covers the checklist: the wheel scrolls it.
        if self.focus == Focus::Log {
            let delta = match m.kind {
                MouseEventKind::ScrollDown => 3,
                MouseEventKind::ScrollUp => -3,
                _ => return,
            };
            let (total, height) = self.log_size();
            self.log_view.scroll(delta, total, height);
            return;
        }
        match m.kind {
            MouseEventKind::Down(MouseButton::Left) => {
                let areas = super::ui::areas(self, self.area);
                if let Some(i) = super::ui::checklist::hit(self, areas.checklist, m.column, m.row) {
                    self.focus = Focus::Checklist;
                    self.select(i);
                }
            }
            MouseEventKind::ScrollDown => self.update(Action::Next),
            MouseEventKind::ScrollUp => self.update(Action::Prev),
            _ => {}
        }
    }

    pub fn update(&mut self, action: Action) {
        let n = self.engine.loaded.runbook.steps.len();
        match action {
            Action::Next if self.focus == Focus::Panes => {
                self.detail_scroll = 0;
                self.pane_selected = (self.pane_selected + 1) % self.panes.len().max(1);
            }
            Action::Prev if self.focus == Focus::Panes => {
                self.detail_scroll = 0;
                self.pane_selected =
                    (self.pane_selected + self.panes.len().max(1) - 1) % self.panes.len().max(1);
            }
            Action::Next => self.select(self.selected + 1),
            Action::Prev => self.select(self.selected.saturating_sub(1)),
            Action::First => self.select(0),
            Action::Last => self.select(n.saturating_sub(1)),
            Action::ScrollDown => self.detail_scroll = self.detail_scroll.saturating_add(5),
            Action::ScrollUp => self.detail_scroll = self.detail_scroll.saturating_sub(5),
            Action::FocusNext => {
                // Each pane in turn, then the checklist again: Tab alone reaches them all.
                self.focus = match self.focus {
                    Focus::Checklist if !self.panes.is_empty() => {
                        self.pane_selected = 0;
                        Focus::Panes
                    }
                    Focus::Panes if self.pane_selected + 1 < self.panes.len() => {
                        self.pane_selected += 1;
                        Focus::Panes
                    }
                    Focus::Checklist | Focus::Panes => Focus::Log,
                    Focus::Log => Focus::Checklist,
                };
                // The details area shows the other thing now: start it at the top.
                self.detail_scroll = 0;
            }
            Action::Help => self.modal = Modal::Help,
            Action::Overview => self.modal = Modal::Overview { scroll: 0 },
            Action::Open => self.open(false),
            Action::Retry => self.open(true),
            Action::Skip => self.ask_skip(),
            Action::Reopen => self.ask_reopen(),
            Action::EndEarly => self.ask_end_early(),
            Action::Add => self.ask_item(),
            Action::Quit => {
                if self.engine.is_running() {
                    self.modal = Modal::QuitRunning;
                } else {
                    self.quit = true;
                }
            }
            Action::Interrupt => {
                if self.engine.is_running() {
                    self.engine.cancel_all();
                    self.log(Level::Warn, "cancelling the running step");
                } else {
                    self.quit = true;
                }
            }
            Action::Yes => match std::mem::replace(&mut self.modal, Modal::None) {
                Modal::Confirm { step, checks: None } => {
                    // Taken as said: it runs as soon as the checks pass.
                    self.yes_pending = true;
                    self.modal = Modal::Confirm { step, checks: None };
                }
                Modal::Confirm {
                    step,
                    checks: Some(checks),
                } => {
                    if let Some(failed) = engine::failed_checks(&checks) {
                        self.log(
                            Level::Warn,
                            format!(
                                "`{step}` is not run: {failed} (f overrides it, with a reason)"
                            ),
                        );
                        self.modal = Modal::Confirm {
                            step,
                            checks: Some(checks),
                        };
                    } else {
                        self.confirmed(&step, None);
                    }
                }
                Modal::QuitRunning => {
                    self.engine.cancel_all();
                    self.log(Level::Warn, "quitting: the running step was cancelled");
                    self.quit = true;
                }
                other => self.modal = other,
            },
            Action::Override => match std::mem::replace(&mut self.modal, Modal::None) {
                Modal::Confirm {
                    step,
                    checks: Some(checks),
                } if engine::failed_checks(&checks).is_some() => {
                    self.modal = Modal::Prompt(Prompt::new(
                        format!("Override the checks of {step}"),
                        "why act anyway (journaled)".into(),
                        checks
                            .iter()
                            .filter(|c| !c.ok)
                            .map(|c| c.text.clone())
                            .collect(),
                        Purpose::Override { step },
                    ));
                }
                other => self.modal = other,
            },
            Action::No => {
                self.yes_pending = false;
                self.modal = Modal::None;
            }
        }
    }

    /// The log's line count and the rows it is shown in (open full-size).
    fn log_size(&self) -> (usize, usize) {
        let a = super::ui::areas(self, self.area);
        let full = super::ui::log_full_area(&a);
        (self.log.len(), super::ui::log::text_height(self, full))
    }

    /// Keys of the open log: scrolling, and `/` search with n/N. False for keys it leaves
    /// to the main keymap (Tab, ?, q).
    fn log_key(&mut self, key: &KeyEvent) -> bool {
        let (total, height) = self.log_size();
        let page = isize::try_from(height.saturating_sub(1).max(1)).unwrap_or(1);
        let typing = self.log_view.search.as_ref().is_some_and(|s| s.typing);
        if typing {
            let Some(s) = self.log_view.search.as_mut() else {
                return false;
            };
            match key.code {
                KeyCode::Enter => {
                    s.typing = false;
                    self.jump_match(None, true);
                }
                KeyCode::Esc => self.log_view.search = None,
                KeyCode::Backspace => {
                    s.query.pop();
                }
                KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                    s.query.push(c)
                }
                _ => return !key.modifiers.contains(KeyModifiers::CONTROL),
            }
            return true;
        }
        let v = &mut self.log_view;
        match key.code {
            KeyCode::Char('j') | KeyCode::Down => v.scroll(1, total, height),
            KeyCode::Char('k') | KeyCode::Up => v.scroll(-1, total, height),
            KeyCode::PageDown => v.scroll(page, total, height),
            KeyCode::PageUp => v.scroll(-page, total, height),
            KeyCode::Char('g') | KeyCode::Home => v.home(),
            KeyCode::Char('G') | KeyCode::End => v.end(),
            KeyCode::Char('/') => {
                v.search = Some(Search {
                    typing: true,
                    ..Search::default()
                })
            }
            KeyCode::Char('n') if v.search.is_some() => {
                let from = v.search.as_ref().and_then(|s| s.current);
                self.jump_match(from, true);
            }
            KeyCode::Char('N') if v.search.is_some() => {
                let from = v.search.as_ref().and_then(|s| s.current);
                self.jump_match(from, false);
            }
            KeyCode::Esc if v.search.is_some() => v.search = None,
            _ => return false,
        }
        true
    }

    /// Moves the search to the match after (before) `from` and scrolls to it.
    fn jump_match(&mut self, from: Option<usize>, forward: bool) {
        let (total, height) = self.log_size();
        let Some(s) = self.log_view.search.as_mut() else {
            return;
        };
        let found = logbuf::matches(self.log.iter().map(|l| l.text.as_str()), &s.query);
        s.current = logbuf::next_match(&found, from, forward);
        if let Some(line) = s.current {
            self.log_view.show(line, total, height);
        }
    }

    fn open(&mut self, retry: bool) {
        let Some(id) = self.selected_id() else {
            return;
        };
        if self.mode == Mode::Learn {
            if retry {
                self.log(Level::Info, "learn mode is read-only: nothing is retried");
            } else {
                self.modal = Modal::Explain { step: id };
            }
            return;
        }
        let status = self.engine.status(&id);
        if retry && !matches!(status, Status::Failed { .. } | Status::Interrupted { .. }) {
            self.log(
                Level::Info,
                format!("`{id}` has not failed: nothing to retry (Enter runs a step)"),
            );
            return;
        }
        if let Some(why) = self.engine.refusal(&id) {
            self.log(Level::Info, format!("`{id}` cannot run: {why}"));
            return;
        }
        self.yes_pending = false;
        // Read when the dialog opens (and again by the engine right before acting); they
        // read the repository, so off the UI thread when there is a loop to send them to.
        let check = match self.engine.checker(&id) {
            Ok(c) => c,
            Err(e) => {
                self.log(Level::Error, format!("{e:#}"));
                return;
            }
        };
        match &self.previewer {
            Some(tx) => {
                let step = id.clone();
                let spawned = off_the_ui(tx, "checks", move || super::Msg::Checks {
                    step,
                    checks: check(),
                });
                if !spawned {
                    self.log(Level::Error, "could not start a thread for the checks");
                    return;
                }
                self.modal = Modal::Confirm {
                    step: id,
                    checks: None,
                };
            }
            None => {
                self.modal = Modal::Confirm {
                    step: id,
                    checks: Some(check()),
                }
            }
        }
    }

    /// The checks of the step whose confirmation is open, read off the UI thread.
    /// A `y` pressed while they were read counts now, if they passed.
    pub fn on_checks(&mut self, step: &str, checks: Vec<Check>) {
        let Modal::Confirm {
            step: open,
            checks: pending @ None,
        } = &mut self.modal
        else {
            return;
        };
        if open != step {
            return;
        }
        *pending = Some(checks);
        if std::mem::take(&mut self.yes_pending) {
            self.update(Action::Yes);
        }
    }

    fn ask_skip(&mut self) {
        self.ask_reason(false);
    }

    fn ask_reopen(&mut self) {
        self.ask_reason(true);
    }

    /// A running watch (Sentry, metrics) ends now and is judged on what it saw; the note
    /// says why, for the journal.
    fn ask_end_early(&mut self) {
        let Some(id) = self.selected_id() else {
            return;
        };
        let watches = self
            .engine
            .step(&id)
            .is_ok_and(|s| matches!(s.kind.name(), "sentry.check" | "metrics.check"));
        if !watches || !self.engine.running().any(|r| *r == id) {
            self.log(
                Level::Info,
                format!("`{id}` is not a running watch: only a running Sentry or metrics check can end early"),
            );
            return;
        }
        self.modal = Modal::Prompt(Prompt::new(
            format!("End {id} now"),
            "why it has watched enough".into(),
            vec!["it is judged on the data it has seen so far".into()],
            Purpose::EndEarly { step: id },
        ));
    }

    /// An ad-hoc item for the selected step's section: asks for its text.
    fn ask_item(&mut self) {
        if self.mode == Mode::Learn {
            self.log(
                Level::Info,
                "learn mode is read-only: nothing is added or recorded",
            );
            return;
        }
        let Some(section) = self
            .selected_id()
            .and_then(|id| self.engine.step(&id).ok().map(|s| s.section.clone()))
        else {
            return;
        };
        let title = self
            .engine
            .loaded
            .runbook
            .section_title(&section)
            .to_string();
        self.modal = Modal::Prompt(Prompt::new(
            format!("Add an item to {title}"),
            "what to do (a manual step of this push only)".into(),
            vec!["journaled; tick it off like any manual step".into()],
            Purpose::AddItem { section },
        ));
    }

    /// Skip (a step not finished) or reopen (a finished one): both ask why, for the journal.
    fn ask_reason(&mut self, reopen: bool) {
        let Some(id) = self.selected_id() else {
            return;
        };
        let verb = if reopen { "reopened" } else { "skipped" };
        if self.mode == Mode::Learn {
            self.log(
                Level::Info,
                format!("learn mode is read-only: nothing is {verb} or recorded"),
            );
            return;
        }
        // The engine's rules, asked before the prompt so nobody types a reason in vain.
        let status = self.engine.status(&id);
        let refused = match (reopen, &status) {
            (
                true,
                Status::Done { .. }
                | Status::Skipped { .. }
                | Status::Failed { .. }
                | Status::Interrupted { .. },
            ) => None,
            (true, _) => Some("is not finished: nothing to reopen".to_string()),
            (false, Status::Pending | Status::Failed { .. } | Status::Interrupted { .. }) => None,
            (false, Status::Done { .. }) => {
                Some("is done: it can only be reopened (o), not skipped".to_string())
            }
            (false, other) => Some(format!("is {}: it cannot be skipped", other.name())),
        };
        if let Some(why) = refused {
            self.log(Level::Info, format!("`{id}` {why}"));
            return;
        }
        let (title, prompt, purpose) = if reopen {
            (
                format!("Reopen {id}"),
                "why it must run again",
                Purpose::Reopen { step: id },
            )
        } else {
            (format!("Skip {id}"), "reason", Purpose::Skip { step: id })
        };
        self.modal = Modal::Prompt(Prompt::new(title, prompt.into(), Vec::new(), purpose));
    }

    fn confirmed(&mut self, step: &str, override_reason: Option<String>) {
        match self.engine.inputs(step) {
            Ok(specs) => self.ask_input(step.to_string(), specs, 0, Inputs::new(), override_reason),
            Err(e) => self.log(Level::Error, format!("{e:#}")),
        }
    }

    fn ask_input(
        &mut self,
        step: String,
        specs: Vec<InputSpec>,
        index: usize,
        answers: Inputs,
        override_reason: Option<String>,
    ) {
        let Some(spec) = specs.get(index) else {
            self.start(&step, answers, override_reason.as_deref());
            return;
        };
        let hints = spec.hints.clone();
        let picker = if !spec.options.is_empty() {
            let items = spec.options.iter().map(|(v, l)| Item {
                value: v.clone(),
                label: l.clone(),
                note: String::new(),
            });
            Some(Box::new(Picker::new(Pick::One, items.collect())))
        } else if !spec.commits.is_empty() {
            let items = spec.commits.iter().map(|c| Item {
                value: c.sha.clone(),
                label: c.subject.clone(),
                note: c.author.clone(),
            });
            Some(Box::new(Picker::new(Pick::Many, items.collect())))
        } else {
            None
        };
        let default = spec.default.clone();
        let mut prompt = Prompt::new(
            format!("{step} ({}/{})", index + 1, specs.len()),
            spec.prompt.clone(),
            hints,
            Purpose::Inputs {
                step,
                specs,
                index,
                answers,
                override_reason,
            },
        );
        prompt.picker = picker;
        // A suggestion is typed in already: Enter takes it, Ctrl-U clears it.
        if let Some(d) = default {
            prompt.cursor = d.chars().count();
            prompt.buffer = d;
        }
        self.modal = Modal::Prompt(prompt);
    }

    fn submit_prompt(&mut self) {
        let Modal::Prompt(mut p) = std::mem::replace(&mut self.modal, Modal::None) else {
            return;
        };
        // Nothing typed in a choice: the highlighted option is the answer.
        if let Some(k) = p.picker.as_ref().filter(|k| k.pick == Pick::One)
            && p.buffer.trim().is_empty()
            && let Some(item) = k.items.get(k.cursor)
        {
            p.buffer = item.value.clone();
        }
        let reason = p.buffer.trim().to_string();
        let needs_reason = !matches!(p.purpose, Purpose::Inputs { .. });
        if needs_reason && reason.is_empty() {
            let what = match p.purpose {
                Purpose::AddItem { .. } => "the item needs a text",
                _ => "a reason is required",
            };
            self.modal = Modal::Prompt(Prompt {
                error: Some(what.into()),
                ..p
            });
            return;
        }
        match p.purpose.clone() {
            Purpose::Override { step } => {
                self.log(
                    Level::Warn,
                    format!("overriding the checks of {step}: {reason}"),
                );
                self.confirmed(&step, Some(reason));
            }
            Purpose::EndEarly { step } => match self.engine.end_early(&step, &reason) {
                Ok(()) => self.log(Level::Info, format!("ending {step} early: {reason}")),
                Err(e) => self.log(Level::Error, format!("{e:#}")),
            },
            Purpose::AddItem { section } => {
                match self.engine.add_item(&p.buffer, Some(&section), false) {
                    Ok(id) => {
                        self.log(Level::Info, format!("added {id}: {reason}"));
                        self.refresh_views();
                        if let Some(i) = self
                            .engine
                            .loaded
                            .runbook
                            .steps
                            .iter()
                            .position(|s| s.id == id)
                        {
                            self.select(i);
                        }
                    }
                    // A text the engine refuses (a control character, too long): fix it.
                    Err(e) => {
                        self.modal = Modal::Prompt(Prompt {
                            error: Some(format!("{e:#}")),
                            ..p
                        });
                    }
                }
            }
            Purpose::Skip { step } | Purpose::Reopen { step } => {
                let (done, verb) = match p.purpose {
                    Purpose::Skip { .. } => (self.engine.skip(&step, &reason), "skipped"),
                    _ => (self.engine.reopen(&step, &reason), "reopened"),
                };
                match done {
                    Ok(()) => self.log(Level::Info, format!("{verb} {step}: {reason}")),
                    Err(e) => self.log(Level::Error, format!("{e:#}")),
                }
                self.refresh_views();
                self.move_on_from(&step);
            }
            Purpose::Inputs {
                step,
                specs,
                index,
                mut answers,
                override_reason,
            } => {
                let Some(spec) = specs.get(index) else {
                    return;
                };
                match spec.accept(&p.buffer) {
                    Ok(v) => {
                        answers.insert(spec.key.clone(), v);
                        self.ask_input(step, specs, index + 1, answers, override_reason);
                    }
                    Err(e) => {
                        self.modal = Modal::Prompt(Prompt {
                            error: Some(e),
                            ..p
                        });
                    }
                }
            }
        }
    }

    fn start(&mut self, step: &str, inputs: Inputs, override_reason: Option<&str>) {
        match self.engine.start(step, inputs, override_reason) {
            Ok(()) => self.log(Level::Info, format!("running {step}")),
            Err(e) => self.log(Level::Error, format!("{e:#}")),
        }
    }

    /// News from a running step.
    pub fn on_engine(&mut self, ev: engine::Event) {
        match ev {
            engine::Event::Progress { step, line } => {
                self.log(Level::Progress, format!("{step}: {line}"));
            }
            engine::Event::Checkpoint { step, values } => {
                self.poke_sources(&step);
                if let Err(e) = self.engine.checkpoint(&step, values) {
                    self.log(
                        Level::Error,
                        format!("could not journal {step}'s handle: {e:#}"),
                    );
                }
            }
            engine::Event::Finished { step, result } => {
                self.poke_sources(&step);
                let msg = match &result {
                    Ok(_) => (Level::Info, format!("done: {step}")),
                    // The first line: the rest (a health check's table) is in the
                    // details and was logged as it came.
                    Err(e) => (
                        Level::Error,
                        format!("failed: {step}: {}", e.lines().next().unwrap_or_default()),
                    ),
                };
                match self.engine.finish(&step, result) {
                    Ok(()) => self.log(msg.0, msg.1),
                    Err(e) => self.log(Level::Error, format!("could not record {step}: {e:#}")),
                }
                self.refresh_views();
                self.move_on_from(&step);
                self.note_push_moment();
            }
        }
    }

    /// After `step` finished, the cursor goes on to the step to do next, if it was on `step`
    /// (one that failed keeps it, for a retry; one the operator looks at elsewhere is left).
    fn move_on_from(&mut self, step: &str) {
        let on_it = self.selected_id().as_deref() == Some(step);
        if on_it
            && self.engine.status(step).is_finished()
            && let Some(i) = self.next_index()
        {
            self.select(i);
        }
    }

    /// Keeps the health panes' push moment in step with the journal; when it moves, they
    /// read again at once.
    pub fn note_push_moment(&self) {
        let now = self.engine.push_moment();
        if self.push_moment.get() != now {
            self.push_moment.set(now);
            for (pane, tx) in &self.refresh {
                if matches!(*pane, "sentry" | "metrics") {
                    let _ = tx.send(());
                }
            }
        }
    }

    /// Asks the sources that show what `step` changes for a fresh look.
    fn poke_sources(&self, step: &str) {
        let Ok(kind) = self.engine.step(step).map(|s| s.kind.name()) else {
            return;
        };
        let family = match kind {
            // Outcomes recorded: the pane reads GitHub again rather than wait a minute.
            "github.blockers" => "blockers",
            _ => kind.split('.').next().unwrap_or(kind),
        };
        for (pane, tx) in &self.refresh {
            if *pane == family {
                let _ = tx.send(());
            }
        }
    }

    /// A signal ends pushduty: the running step is cancelled and journaled as interrupted
    /// by it, then the loop ends and the terminal is restored.
    pub fn on_signal(&mut self, name: &str, exit_code: u8) {
        if self.engine.is_running() {
            self.engine.interrupt_all(name);
            self.log(
                Level::Warn,
                format!("{name}: interrupting the running step"),
            );
        }
        self.exit_code = Some(exit_code);
        self.modal = Modal::None;
        self.quit = true;
    }

    /// Takes a source's report; whether the screen shows anything new (a poll that found
    /// what the pane already says, in the same minute, needs no redraw: idle panes cost no
    /// drawing).
    pub fn on_source(&mut self, u: SourceUpdate) -> bool {
        let git = u.pane == "git";
        let Some(pane) = self.panes.iter_mut().find(|p| p.name == u.pane) else {
            return false;
        };
        let title = pane.title();
        let changed = pane.apply(u);
        let retitled = pane.title() != title;
        // The repo changed outside pushduty: git previews name its commits (titles and docs
        // read the session, not the repo). A read that found the same repo (every 30 s while
        // idle) computes nothing again.
        if git && changed {
            self.refresh_previews();
        }
        changed || retitled
    }
}

/// Runs `work` on a thread named `name` and sends what it makes to the loop; whether the
/// thread could start.
fn off_the_ui(
    tx: &std::sync::mpsc::Sender<super::Msg>,
    name: &str,
    work: impl FnOnce() -> super::Msg + Send + 'static,
) -> bool {
    let tx = tx.clone();
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let _ = tx.send(work());
        })
        .is_ok()
}
