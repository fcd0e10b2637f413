//! The TUI's state and its update function. Drawing is in `ui/` (pure); I/O happens only
//! through the engine (which journals) and the event loop (terminal, editor). What keys and
//! events set going lives in the submodules: the prompt's line editor, the confirm/ask/submit
//! flows, engine and source events, the open log's keys, and the step views.

mod desk_keys;
mod engine_events;
mod flows;
mod following;
mod log_keys;
mod prompt;
mod source_events;
mod views;

use std::time::{Duration, Instant};

use ratatui::crossterm::event::{
    Event, KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::layout::Rect;

use super::action::Action;
use super::keys;
use super::logbuf::{self, LogView};
use super::pane::Pane;
use super::theme::Theme;
use crate::engine::{Confirmation, Engine};
use crate::session::Status;
pub use following::{Following, PUSH_LOG};
pub use log_keys::KEYS as LOG_KEYS;
pub use prompt::{KEYS as PROMPT_KEYS, Prompt, Purpose, Then};

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
        /// The checks and the action as resolved when the dialog opened; `None` while they
        /// are read (off the UI thread).
        read: Option<Confirmation>,
    },
    /// Learn mode: what the step would do and why.
    Explain {
        step: String,
    },
    /// What to do by hand instead of the step; `y` ticks it off (asks what was done).
    ByHand {
        step: String,
        /// `None` while it is read (off the UI thread).
        shown: Option<crate::engine::ByHand>,
    },
    Prompt(Prompt),
    Help,
    /// The whole procedure (summary, sections, days), scrolled by `scroll` lines.
    Overview {
        scroll: u16,
    },
    /// Quit while a step runs.
    QuitRunning,
    /// What `c` put on the clipboard, shown whole so a terminal without OSC 52 still lets
    /// the operator select it.
    Copied {
        text: String,
    },
    /// Why Enter did not open a step's confirmation: a dialog, so the keys typed for the
    /// one that did not open (a note) land here, not on the checklist.
    Refused {
        step: String,
        why: String,
    },
    /// What changed since the hero's last push (the push of `since`); closing it journals it
    /// as seen.
    Briefing {
        since: String,
        lines: Vec<String>,
    },
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
    /// Shown instead of the clock (snapshot tests).
    pub fixed_clock: Option<String>,
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
    /// The step whose start is being written to the team's push log, off the UI thread.
    claiming: Option<String>,
    /// What came while it was: handled, in order, once it is written.
    pub held: Vec<super::Msg>,
    /// A start the push log could not be reached for, while the operator is asked whether
    /// to go on without it.
    pub offline: Option<Box<crate::engine::LogClaim>>,
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
    /// What the loop is to do outside the screen (open a link, copy, call the operator).
    pub effects: Vec<super::desk::Effect>,
    /// A step that ran at least this many seconds calls the operator when it ends.
    pub long_step_secs: i64,
    /// The gates that have called the operator to follow up (once each per screen).
    pub gates_called: std::collections::HashSet<String>,
    /// The team's push log as this screen reads it (`follow`, or `run` with a log): who
    /// drives, and on `follow` the whole push.
    pub following: Option<Following>,
    /// The seat was asked for with this reason (`T`): the screen ends, and the command
    /// takes the seat and opens `run` (the UI does no I/O of its own).
    pub take_over: Option<String>,
}

/// Work started once the first frame is on screen.
pub type Deferred = Box<dyn FnOnce(&mut App) + Send>;

/// The story of the runbook as the overview and the section header tell it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Procedure {
    pub summary: String,
    pub section_docs: Vec<String>,
    /// The runbook's `[links]`, values filled in: (name, address).
    pub links: Vec<(String, String)>,
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
            fixed_clock: None,
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
            claiming: None,
            held: Vec::new(),
            offline: None,
            usual: Default::default(),
            replay: None,
            fixed_now: None,
            procedure: Procedure::default(),
            dialog_scroll: 0,
            deferred: Some(Vec::new()),
            effects: Vec::new(),
            long_step_secs: super::desk::DEFAULT_LONG_STEP_SECS,
            gates_called: std::collections::HashSet::new(),
            following: None,
            take_over: None,
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

    /// The index of the step to do next, if any is left: the one a blocker's fix waits for
    /// first.
    pub fn next_index(&self) -> Option<usize> {
        if let Some(f) = self.engine.blocker_follow_up() {
            return self.step_index(&f.step);
        }
        self.step_index(&self.engine.next_actionable()?)
    }

    /// Where step `id` stands in the checklist.
    fn step_index(&self, id: &str) -> Option<usize> {
        self.engine
            .loaded
            .runbook
            .steps
            .iter()
            .position(|s| s.id == id)
    }

    /// The header's clock: the time now where the team is (the runbook's timezone), in
    /// minutes: `10:12`.
    pub fn clock(&self) -> String {
        match &self.fixed_clock {
            Some(c) => c.clone(),
            None => chrono::Utc::now()
                .with_timezone(&self.engine.loaded.calendar.tz)
                .format("%H:%M")
                .to_string(),
        }
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
        self.engine.is_running() || self.follows_a_running_step()
    }

    pub fn tick(&mut self) {
        self.spinner = self.spinner.wrapping_add(1);
        self.call_for_waiting_gates();
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
            Modal::Confirm { step, .. } | Modal::Explain { step } | Modal::ByHand { step, .. } => {
                step.clone()
            }
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
        // A step that cannot run as it stands (no token, a refusing check) may be done by hand
        // instead, from its confirmation.
        if key.code == KeyCode::Char('h')
            && let Modal::Confirm { step, .. } = &self.modal
            && super::ui::confirm::by_hand_possible(self, step)
        {
            let step = step.clone();
            self.modal = Modal::None;
            if let Some(i) = self.step_ids().iter().position(|s| *s == step) {
                self.select(i);
            }
            self.show_by_hand();
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
                    self.not_offline();
                }
                KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                    self.modal = Modal::None;
                    self.not_offline();
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
            Modal::Help => match key.code {
                KeyCode::Esc | KeyCode::Char('?') | KeyCode::Char('q') | KeyCode::Enter => {
                    self.modal = Modal::None;
                }
                // Scrolled as far as the screen needs, no further.
                KeyCode::Down | KeyCode::Char('j') | KeyCode::PageDown => {
                    let step = if key.code == KeyCode::PageDown { 10 } else { 1 };
                    let most = super::ui::help::most_scroll(self, self.area);
                    self.dialog_scroll = (self.dialog_scroll + step).min(most);
                }
                KeyCode::Up | KeyCode::Char('k') => {
                    self.dialog_scroll = self.dialog_scroll.saturating_sub(1);
                }
                KeyCode::PageUp => self.dialog_scroll = self.dialog_scroll.saturating_sub(10),
                _ => {}
            },
            Modal::Briefing { since, lines } => {
                if matches!(key.code, KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q')) {
                    let (since, lines) = (since.clone(), lines.clone());
                    self.modal = Modal::None;
                    let operator = self.engine.operator.clone();
                    if let Err(e) = self.engine.session.briefed(&operator, &since, lines) {
                        self.log(
                            Level::Error,
                            format!("could not journal the briefing: {e:#}"),
                        );
                    }
                }
            }
            // Only these close it: whatever else was typed for the dialog that did not open
            // is dropped here.
            Modal::Refused { .. } => {
                if matches!(key.code, KeyCode::Esc | KeyCode::Enter) {
                    self.modal = Modal::None;
                }
            }
            Modal::Explain { .. } | Modal::Copied { .. } => match key.code {
                KeyCode::Esc | KeyCode::Enter | KeyCode::Char('n') | KeyCode::Char('q') => {
                    self.modal = Modal::None;
                }
                // Learn mode's explanation opens and copies too (it writes nothing).
                KeyCode::Char('o') => self.open_link(),
                KeyCode::Char('c') => self.copy(),
                _ => {}
            },
            Modal::Confirm { .. } | Modal::QuitRunning | Modal::ByHand { .. } => {
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
        if self.follow_key(action) {
            return;
        }
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
            Action::OpenLink => self.open_link(),
            Action::Copy => self.copy(),
            Action::EndEarly => self.ask_end_early(),
            Action::ByHand => self.show_by_hand(),
            Action::Add => self.ask_item(),
            Action::TakeOver => self.ask_take_over(),
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
            Action::Yes => self.yes(),
            Action::Override => self.override_checks(),
            Action::No => self.no(),
        }
    }
}

/// How long until the wall clock turns the next minute (and the header's clock with it).
/// Whether `m` waits while a step's start is written to the push log: keys, a step's events
/// and a tick-off journal or act; a signal ends steps. Panes, previews and dialogs' reads
/// do not.
pub fn waits_for_claim(m: &super::Msg) -> bool {
    use super::Msg;
    matches!(
        m,
        Msg::Input(_)
            | Msg::Engine(_)
            | Msg::TickOff { .. }
            | Msg::Signal { .. }
            | Msg::Edit { .. }
    )
}

pub fn until_next_minute() -> Duration {
    use chrono::Timelike;
    let now = chrono::Utc::now();
    let into = u64::from(now.second()) * 1000 + u64::from(now.timestamp_subsec_millis() % 1000);
    Duration::from_millis(60_000u64.saturating_sub(into).max(50))
}
