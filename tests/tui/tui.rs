//! The TUI drawn on a `TestBackend`: snapshots of the text (reviewed by hand), assertions on
//! styles where colour matters, and key flows through `App` with the real engine.

use std::sync::{Arc, mpsc};
use std::time::Duration;

use chrono::NaiveDate;
use pushduty::config::Config;
use pushduty::engine::{self, Engine, NoEdit};
use pushduty::runbook::vars::{Now, Vars};
use pushduty::session::{Session, SessionState, Status};
use pushduty::tui::app::{App, Focus, Level, Modal, Mode};
use pushduty::tui::theme::Theme;
use pushduty::tui::ui;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{
    Event, KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier};

use crate::support;

fn app_with(runbook: Option<&str>, mode: Mode) -> (App, mpsc::Receiver<engine::Event>) {
    build_app(runbook, (2015, 9, 8), &[], mode)
}

/// An app on `runbook` (the bundled one for `None`) with `--now` at `today`, its `done` steps
/// finished already (a resume), its engine's events on the receiver.
pub(crate) fn build_app(
    runbook: Option<&str>,
    today: (i32, u32, u32),
    done: &[&str],
    mode: Mode,
) -> (App, mpsc::Receiver<engine::Event>) {
    support::gitrepo::isolate_libgit2();
    let path = runbook.map(|r| {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/runbooks/valid")
            .join(r)
    });
    let loaded = pushduty::runbook::load(path.as_deref(), &[]).unwrap();
    let (tx, rx) = mpsc::channel();
    let notify: engine::Notify = Arc::new(move |e| {
        let _ = tx.send(e);
    });
    let engine = engine_on(loaded, &Config::default(), today, done, notify);
    let mut app = App::new(engine, mode, Theme::color());
    app.fixed_clock = Some("10:12".into());
    (app, rx)
}

/// The engine of `loaded` run by `tester` with `--now` at `today` and `config`, its `done`
/// steps finished already (a resume), an in-memory session, its events to `notify`.
fn engine_on(
    loaded: pushduty::runbook::Loaded,
    config: &Config,
    today: (i32, u32, u32),
    done: &[&str],
    notify: engine::Notify,
) -> Engine {
    let now = Now::Date(NaiveDate::from_ymd_opt(today.0, today.1, today.2).unwrap());
    let vars = Vars::compute(
        &loaded,
        config,
        now,
        "tester",
        "run",
        &pushduty::git::tags::checkout_release_tags,
    )
    .unwrap();
    let mut state = SessionState::new(&loaded.runbook, &vars, "tester");
    for id in done {
        state.steps[*id].status = Status::Done {
            at: "2015-09-08T10:00:00Z".into(),
        };
    }
    Engine::new(
        loaded,
        vars,
        Session::in_memory(state),
        "tester",
        Arc::new(NoEdit),
        notify,
    )
    .unwrap()
}

pub(crate) fn app(mode: Mode) -> App {
    app_with(None, mode).0
}

pub(crate) fn draw(app: &mut App, w: u16, h: u16) -> Buffer {
    app.area = Rect::new(0, 0, w, h);
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| ui::draw(f, app)).unwrap();
    t.backend().buffer().clone()
}

/// A throwaway checkout on `branch` where every commit is Ana's, each a minute after the
/// last (fixed dates, so orders and shas do not depend on the clock). `git` runs in it.
/// It starts with "Released work" tagged 2015.09.03 and "Fix the add-on search" after it.
struct AnaRepo {
    dir: tempfile::TempDir,
    clock: std::cell::Cell<i64>,
}

impl AnaRepo {
    fn released(branch: &str) -> Self {
        support::gitrepo::isolate_libgit2();
        let repo = AnaRepo {
            dir: tempfile::tempdir().unwrap(),
            clock: std::cell::Cell::new(1_441_843_200),
        };
        repo.git(&["init", "-q", "-b", branch]);
        repo.git(&["commit", "-q", "--allow-empty", "-m", "Released work"]);
        repo.git(&["tag", "2015.09.03"]);
        repo.git(&[
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "Fix the add-on search",
        ]);
        repo
    }

    fn git(&self, args: &[&str]) {
        self.clock.set(self.clock.get() + 60);
        let date = format!("@{} +0000", self.clock.get());
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(self.dir.path())
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Ana")
            .env("GIT_AUTHOR_EMAIL", "ana@example.com")
            .env("GIT_COMMITTER_NAME", "Ana")
            .env("GIT_COMMITTER_EMAIL", "ana@example.com")
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}");
    }
}

/// The git pane's source on one repo `app` (branch `main` of remote `origin`) at `path`,
/// release tags named `%Y.%m.%d`.
fn git_source(
    path: std::path::PathBuf,
    github: Option<&str>,
    push_date: Option<NaiveDate>,
) -> pushduty::sources::git::GitSource {
    pushduty::sources::git::GitSource {
        specs: vec![pushduty::git::RepoSpec {
            name: "app".into(),
            path,
            github: github.map(Into::into),
            remote: "origin".into(),
            branch: "main".into(),
        }],
        format: pushduty::git::tags::TagFormat::new("%Y.%m.%d").unwrap(),
        push_date,
        fetch_every: None,
    }
}

/// The confirm dialog of `step` with its checks read and none to show.
fn unchecked_confirm(step: &str) -> Modal {
    Modal::Confirm {
        step: step.into(),
        read: Some(engine::Confirmation {
            checks: Vec::new(),
            shown: None,
            pin: serde_json::Value::Null,
        }),
    }
}

/// The checks of the confirm dialog open in `a`, read already; anything else fails the test.
fn confirm_checks(a: &App) -> &[engine::Check] {
    let Modal::Confirm {
        read: Some(read), ..
    } = &a.modal
    else {
        panic!("{:?}", a.modal);
    };
    &read.checks
}

fn text(buf: &Buffer) -> String {
    let a = buf.area;
    let mut out = String::new();
    for y in 0..a.height {
        let mut line = String::new();
        for x in 0..a.width {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Where `needle` starts on screen.
fn find(buf: &Buffer, needle: &str) -> (u16, u16) {
    let t = text(buf);
    for (y, line) in t.lines().enumerate() {
        if let Some(b) = line.find(needle) {
            let x = line[..b].chars().count();
            return (x as u16, y as u16);
        }
    }
    panic!("`{needle}` not on screen:\n{t}");
}

pub(crate) fn key(app: &mut App, code: KeyCode) {
    app.handle_event(&Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn typed(app: &mut App, s: &str) {
    for c in s.chars() {
        key(app, KeyCode::Char(c));
    }
}

/// Puts a step in a status as it is, times included (the session is in memory).
fn set(app: &mut App, id: &str, s: Status) {
    app.engine.session.state.steps[id].status = s;
}

/// A session part-way through: one step done, one failed, the failed one selected.
fn midway(mode: Mode) -> App {
    let mut a = app(mode);
    set(
        &mut a,
        "check-rotation",
        Status::Done {
            at: "2015-09-08T10:00:00Z".into(),
        },
    );
    set(
        &mut a,
        "fetch",
        Status::Failed {
            error: "upstream: the branch has diverged (2 local commits not on the remote)".into(),
        },
    );
    a.selected = 1;
    a.log(Level::Info, "done: check-rotation");
    a.log(
        Level::Error,
        "failed: fetch: upstream: the branch has diverged (2 local commits not on the remote)",
    );
    a
}

#[test]
fn main_screen() {
    for (w, h) in [(80, 24), (120, 40)] {
        let mut a = midway(Mode::Run);
        let buf = draw(&mut a, w, h);
        insta::assert_snapshot!(format!("main_{w}x{h}"), text(&buf));
    }
}

#[test]
fn confirm_dialog() {
    for (w, h) in [(80, 24), (120, 40)] {
        let mut a = midway(Mode::Run);
        a.selected = 0;
        set(&mut a, "check-rotation", Status::Pending);
        key(&mut a, KeyCode::Enter);
        assert_eq!(a.modal, unchecked_confirm("check-rotation"));
        let buf = draw(&mut a, w, h);
        insta::assert_snapshot!(format!("confirm_{w}x{h}"), text(&buf));
    }
}

#[test]
fn learn_mode() {
    for (w, h) in [(80, 24), (120, 40)] {
        let mut a = app(Mode::Learn);
        let buf = draw(&mut a, w, h);
        insta::assert_snapshot!(format!("learn_{w}x{h}"), text(&buf));
        key(&mut a, KeyCode::Char('j'));
        key(&mut a, KeyCode::Enter);
        assert_eq!(
            a.modal,
            Modal::Explain {
                step: "fetch".into()
            }
        );
        let buf = draw(&mut a, w, h);
        insta::assert_snapshot!(format!("learn_explain_{w}x{h}"), text(&buf));
    }
}

#[test]
fn help_overlay() {
    for (w, h) in [(80, 24), (120, 40)] {
        let mut a = app(Mode::Run);
        key(&mut a, KeyCode::Char('?'));
        let buf = draw(&mut a, w, h);
        insta::assert_snapshot!(format!("help_{w}x{h}"), text(&buf));
        key(&mut a, KeyCode::Esc);
        assert_eq!(a.modal, Modal::None);
    }
}

/// The findings: at 80x24 the help was cut with no hint, the open log's keys were not in it,
/// and learn mode's help listed keys it cannot use.
#[test]
fn the_help_scrolls_on_a_small_screen_names_the_log_keys_and_fits_learn_mode() {
    let mut a = app(Mode::Run);
    key(&mut a, KeyCode::Char('?'));
    let first = text(&draw(&mut a, 80, 24));
    assert!(first.contains("PgDn/PgUp scroll; Esc closes"), "{first}");
    assert!(!first.contains("[?] interrupted"), "{first}");
    for _ in 0..40 {
        key(&mut a, KeyCode::Char('j'));
    }
    let last = text(&draw(&mut a, 80, 24));
    assert!(last.contains("[?] interrupted"), "{last}");
    assert!(last.contains("In the open log (Tab to it):"), "{last}");
    assert!(last.contains("search: type the text"), "{last}");
    // Scrolled no further than the end: one step up shows one line more at the top.
    key(&mut a, KeyCode::Char('k'));
    assert_ne!(text(&draw(&mut a, 80, 24)), last);

    let mut l = app(Mode::Learn);
    key(&mut l, KeyCode::Char('?'));
    let learn = text(&draw(&mut l, 120, 40));
    for gone in [
        "skip (asks",
        "retry failed",
        "reopen a finished",
        "add an ad-hoc",
        "yes: do it",
        "Ctrl-C",
        "y runs it",
    ] {
        assert!(!learn.contains(gone), "{gone}: {learn}");
    }
    assert!(learn.contains("Enter  what it does and why"), "{learn}");
    assert!(
        learn.contains("open the step's or the pane's link"),
        "{learn}"
    );
    assert!(learn.contains("Learn mode is read-only"), "{learn}");
    assert!(
        learn.contains("`pushduty doctor` checks every remote, service and link"),
        "{learn}"
    );
}

#[test]
fn failed_and_done_marks_are_coloured() {
    let mut a = midway(Mode::Run);
    a.selected = 2;
    let buf = draw(&mut a, 120, 40);
    let (x, y) = find(&buf, "[x] Confirm");
    assert_eq!(buf[(x + 1, y)].fg, Color::Green);
    let (x, y) = find(&buf, "[!] Fetch");
    assert_eq!(buf[(x + 1, y)].fg, Color::Red);
    assert!(buf[(x + 1, y)].modifier.contains(Modifier::BOLD));
    let (x, y) = find(&buf, "[ ] Push");
    assert_eq!(buf[(x + 1, y)].fg, Color::Reset);
}

#[test]
fn read_only_banner_and_only_what_learn_does_in_the_footer() {
    let mut a = app(Mode::Learn);
    let buf = draw(&mut a, 80, 24);
    let (x, y) = find(&buf, "READ-ONLY · learn mode");
    assert_eq!(y, 0);
    assert_eq!(buf[(x, y)].bg, Color::Yellow);
    assert!(buf[(x, y)].modifier.contains(Modifier::BOLD));
    // The status line names the mode the same way.
    let (x, y) = find(&buf, "LEARN · READ-ONLY");
    assert_eq!(buf[(x, y)].bg, Color::Yellow);
    // Skip and retry are not offered: they would write to the session.
    assert!(!text(&buf).contains("s skip"), "{}", text(&buf));
    let (x, y) = find(&buf, "Enter explain");
    assert_eq!(buf[(x, y)].fg, Color::Cyan);
}

#[test]
fn no_color_keeps_marks_distinct_without_colour() {
    let mut a = midway(Mode::Run);
    a.theme = Theme::no_color();
    let buf = draw(&mut a, 80, 24);
    for cell in buf.content() {
        assert!(
            matches!(cell.fg, Color::Reset),
            "colour used with NO_COLOR: {cell:?}"
        );
        assert!(
            matches!(cell.bg, Color::Reset),
            "colour used with NO_COLOR: {cell:?}"
        );
    }
    let t = text(&buf);
    assert!(t.contains("[x] Confirm") && t.contains("[!] Fetch") && t.contains("[ ] Tag master"));
    let (x, y) = find(&buf, "[!] Fetch");
    assert!(buf[(x + 1, y)].modifier.contains(Modifier::BOLD));
}

#[test]
fn small_and_resized_terminals_draw() {
    let mut a = midway(Mode::Run);
    for (w, h) in [(80, 24), (200, 60), (40, 12), (10, 5), (120, 40)] {
        a.handle_event(&Event::Resize(w, h));
        // The app takes the size from the event (`draw` below sets it again, as a frame does).
        assert_eq!(a.area, Rect::new(0, 0, w, h), "after a resize to {w}x{h}");
        let buf = draw(&mut a, w, h);
        assert_eq!(buf.area, Rect::new(0, 0, w, h));
        assert!(!text(&buf).trim().is_empty(), "nothing drawn at {w}x{h}");
    }
}

fn wait_finished(a: &mut App, rx: &mpsc::Receiver<engine::Event>) {
    loop {
        let ev = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("step did not finish");
        let done = matches!(ev, engine::Event::Finished { .. });
        a.on_engine(ev);
        if done {
            return;
        }
    }
}

#[test]
fn enter_confirm_note_runs_a_manual_step() {
    let (mut a, rx) = app_with(None, Mode::Run);
    key(&mut a, KeyCode::Enter);
    key(&mut a, KeyCode::Char('n'));
    assert_eq!(a.modal, Modal::None, "n cancels");
    assert_eq!(a.engine.status("check-rotation"), Status::Pending);
    key(&mut a, KeyCode::Enter);
    key(&mut a, KeyCode::Char('y'));
    assert!(matches!(a.modal, Modal::Prompt(_)));
    typed(&mut a, "swapped with kumar");
    key(&mut a, KeyCode::Enter);
    assert_eq!(a.modal, Modal::None);
    wait_finished(&mut a, &rx);
    assert!(matches!(
        a.engine.status("check-rotation"),
        Status::Done { .. }
    ));
    assert_eq!(
        a.engine.session.state.steps["check-rotation"]
            .note
            .as_deref(),
        Some("swapped with kumar")
    );
}

#[test]
fn a_adds_an_item_to_the_selected_section_and_it_runs_like_a_manual_step() {
    let (mut a, rx) = app_with(None, Mode::Run);
    let before = a.engine.loaded.runbook.steps.len();
    // On `fetch`, in the tag section.
    key(&mut a, KeyCode::Char('j'));
    key(&mut a, KeyCode::Char('a'));
    assert!(matches!(a.modal, Modal::Prompt(_)));
    key(&mut a, KeyCode::Enter);
    match &a.modal {
        Modal::Prompt(p) => assert_eq!(p.error.as_deref(), Some("the item needs a text")),
        other => panic!("{other:?}"),
    }
    typed(&mut a, "Ask #ops about {{ tag }} first");
    key(&mut a, KeyCode::Enter);
    assert_eq!(a.modal, Modal::None);
    let steps = &a.engine.loaded.runbook.steps;
    assert_eq!(steps.len(), before + 1);
    // After the last step of its section, selected, its text as typed (not a template).
    let i = steps.iter().position(|s| s.id == "item-1").unwrap();
    assert_eq!(a.selected, i);
    assert_eq!(steps[i].section, "tag");
    assert_eq!(steps[i + 1].section, "stage");
    assert_eq!(
        a.engine.session.state.items["item-1"].text,
        "Ask #ops about {{ tag }} first"
    );
    let buf = draw(&mut a, 120, 40);
    let screen = text(&buf);
    assert!(
        screen.contains("[ ] Ask #ops about {{ tag }} first"),
        "{screen}"
    );
    assert!(screen.contains("Checklist 0/"), "{screen}");
    // Ticked off like any manual step.
    key(&mut a, KeyCode::Enter);
    key(&mut a, KeyCode::Char('y'));
    typed(&mut a, "they said go");
    key(&mut a, KeyCode::Enter);
    wait_finished(&mut a, &rx);
    assert!(matches!(a.engine.status("item-1"), Status::Done { .. }));
    let (done, _) = a.engine.session.state.progress();
    assert_eq!(done, 1);
}

#[test]
fn learn_mode_adds_no_item() {
    let mut a = app(Mode::Learn);
    let before = a.engine.loaded.runbook.steps.len();
    key(&mut a, KeyCode::Char('a'));
    assert_eq!(a.modal, Modal::None);
    assert_eq!(a.engine.loaded.runbook.steps.len(), before);
    assert!(
        a.log
            .last()
            .unwrap()
            .text
            .contains("learn mode is read-only")
    );
}

#[test]
fn choice_by_number_then_not_applicable_steps() {
    let (mut a, rx) = app_with(None, Mode::Run);
    a.selected = 2;
    key(&mut a, KeyCode::Enter);
    key(&mut a, KeyCode::Char('y'));
    typed(&mut a, "7");
    key(&mut a, KeyCode::Enter);
    match &a.modal {
        Modal::Prompt(p) => assert!(p.error.as_deref().unwrap().contains("choose one of")),
        m => panic!("{m:?}"),
    }
    key(&mut a, KeyCode::Backspace);
    typed(&mut a, "1");
    key(&mut a, KeyCode::Enter);
    wait_finished(&mut a, &rx);
    assert_eq!(a.engine.status("cherry-pick"), Status::NotApplicable);
    let buf = draw(&mut a, 120, 40);
    let (x, y) = find(&buf, "[/] Cherry-pick");
    assert!(buf[(x + 1, y)].modifier.contains(Modifier::CROSSED_OUT));
}

#[test]
fn failed_step_retries_and_skip_asks_a_reason() {
    let (mut a, rx) = app_with(None, Mode::Run);
    a.selected = 1;
    key(&mut a, KeyCode::Char('r'));
    assert_eq!(a.modal, Modal::None, "nothing to retry yet");
    key(&mut a, KeyCode::Enter);
    key(&mut a, KeyCode::Char('y'));
    wait_finished(&mut a, &rx);
    assert!(matches!(a.engine.status("fetch"), Status::Failed { .. }));
    assert!(
        a.log
            .iter()
            .any(|l| l.text.contains("has no local checkout"))
    );
    key(&mut a, KeyCode::Char('r'));
    assert_eq!(a.modal, unchecked_confirm("fetch"));
    key(&mut a, KeyCode::Esc);
    key(&mut a, KeyCode::Char('s'));
    key(&mut a, KeyCode::Enter);
    match &a.modal {
        Modal::Prompt(p) => assert_eq!(p.error.as_deref(), Some("a reason is required")),
        m => panic!("{m:?}"),
    }
    typed(&mut a, "fetched by hand");
    key(&mut a, KeyCode::Enter);
    assert_eq!(
        a.engine.status("fetch"),
        Status::Skipped {
            reason: "fetched by hand".into()
        }
    );
}

#[test]
fn learn_mode_executes_nothing() {
    let (mut a, rx) = app_with(None, Mode::Learn);
    let n = a.engine.loaded.runbook.steps.len();
    for _ in 0..n {
        key(&mut a, KeyCode::Enter);
        assert!(matches!(a.modal, Modal::Explain { .. }));
        key(&mut a, KeyCode::Char('y'));
        key(&mut a, KeyCode::Esc);
        key(&mut a, KeyCode::Char('s'));
        key(&mut a, KeyCode::Char('r'));
        key(&mut a, KeyCode::Char('j'));
    }
    assert_eq!(a.selected, n - 1);
    assert!(!a.engine.is_running());
    assert!(rx.try_recv().is_err(), "no step ran");
    assert!(
        a.engine.session.dir().is_none(),
        "learn mode has no session on disk"
    );
    assert!(
        a.engine
            .session
            .state
            .steps
            .values()
            .all(|s| s.status == Status::Pending)
    );
}

#[test]
fn tab_focus_mouse_and_quit() {
    let mut a = app(Mode::Run);
    key(&mut a, KeyCode::Tab);
    assert_eq!(a.focus, Focus::Panes);
    key(&mut a, KeyCode::Char('j'));
    assert_eq!((a.pane_selected, a.selected), (1, 0));
    key(&mut a, KeyCode::Tab);
    let buf = draw(&mut a, 120, 40);
    let (x, y) = find(&buf, "Push 2015.09.10 to upstream");
    a.handle_event(&Event::Mouse(MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: x,
        row: y,
        modifiers: KeyModifiers::NONE,
    }));
    assert_eq!(a.selected_id().as_deref(), Some("push-tag"));
    key(&mut a, KeyCode::Char('q'));
    assert!(a.quit, "nothing running: quits at once");
}

#[test]
fn quitting_while_a_step_runs_asks_first() {
    let (mut a, rx) = app_with(Some("engine.toml"), Mode::Run);
    a.selected = a.step_ids().iter().position(|s| s == "echo").unwrap();
    // Make the shell step long-running.
    let Some(pushduty::runbook::model::StepKind::Shell(sh)) = a
        .engine
        .loaded
        .runbook
        .step_mut("echo")
        .map(|s| &mut s.kind)
    else {
        panic!("the fixture has no step echo of that kind");
    };
    {
        sh.command = "echo started; sleep 30".into();
    }
    key(&mut a, KeyCode::Enter);
    key(&mut a, KeyCode::Char('y'));
    assert!(a.engine.is_running());
    assert!(a.ticking(), "ticks only while a step runs");
    key(&mut a, KeyCode::Char('q'));
    assert_eq!(a.modal, Modal::QuitRunning);
    key(&mut a, KeyCode::Char('n'));
    assert!(!a.quit);
    key(&mut a, KeyCode::Char('q'));
    key(&mut a, KeyCode::Char('y'));
    assert!(a.quit);
    wait_finished(&mut a, &rx);
    match a.engine.status("echo") {
        Status::Failed { error } => assert!(error.contains("cancelled"), "{error}"),
        s => panic!("{s:?}"),
    }
    assert!(!a.ticking());
}

#[test]
fn interrupted_step_shows_its_mark_and_warns_before_running_again() {
    let mut a = app(Mode::Run);
    set(
        &mut a,
        "check-rotation",
        Status::Interrupted {
            since: "2015-09-08T10:05:00Z".into(),
        },
    );
    let buf = draw(&mut a, 120, 40);
    let (x, y) = find(&buf, "[?] Confirm");
    assert_eq!(buf[(x + 1, y)].fg, Color::Magenta);
    assert!(text(&buf).contains("interrupted: it was running (since Tue 2015-09-08 03:05 PDT)"));
    key(&mut a, KeyCode::Enter);
    assert_eq!(a.modal, unchecked_confirm("check-rotation"));
    let t = text(&draw(&mut a, 120, 40));
    assert!(t.contains("it may have partly happened"), "{t}");
    assert!(t.contains("Check before running it"), "{t}");
}

#[test]
fn the_git_pane_shows_a_real_repo_and_opens_in_full() {
    // A real checkout: two commits, a release tag on the first.
    let repo = AnaRepo::released("main");
    let dir = &repo.dir;
    let source = git_source(dir.path().to_path_buf(), Some("example/app"), None);
    let lines = source.snapshot().unwrap();
    assert!(lines[0].starts_with("app main @ "), "{lines:?}");
    assert!(lines[0].ends_with(" · clean · ↑0 ↓0"), "{lines:?}");
    assert_eq!(lines[1], "  last tag 2015.09.03 · 1 commit since");
    assert_eq!(
        lines[2],
        "  https://github.com/example/app/compare/2015.09.03...main"
    );
    assert!(
        lines[3].ends_with(" Fix the add-on search — Ana"),
        "{lines:?}"
    );

    let mut a = app(Mode::Run);
    let before = a.views_generation();
    let read = |a: &mut App, at: &str, lines: &[String]| {
        a.on_source(pushduty::tui::pane::SourceUpdate {
            pane: "git",
            result: Ok((at.into(), lines.to_vec())),
        })
    };
    assert!(read(&mut a, "11:59", &lines), "the first read is drawn");
    assert_eq!(
        a.views_generation(),
        before + 1,
        "the first read makes the views"
    );
    // The same repo read again within the minute (idle polling): nothing to draw.
    assert!(!read(&mut a, "11:59", &lines), "an idle poll draws nothing");
    // The next minute: only the title's time moves, and nothing else is made.
    assert!(
        read(&mut a, "12:00:00", &lines),
        "the title's time is drawn"
    );
    assert_eq!(a.views_generation(), before + 1, "an unchanged repo");
    // A commit made outside pushduty: the previews that name commits are made again.
    let mut moved = lines.clone();
    moved.push("  abc1234 Commit made in another terminal — Bo".into());
    a.on_source(pushduty::tui::pane::SourceUpdate {
        pane: "git",
        result: Ok(("12:00:00".into(), moved)),
    });
    assert_eq!(a.views_generation(), before + 2, "a changed repo");
    a.on_source(pushduty::tui::pane::SourceUpdate {
        pane: "git",
        result: Ok(("12:00:00".into(), lines.clone())),
    });
    let buf = draw(&mut a, 120, 40);
    assert!(text(&buf).contains("git (12:00:00)"), "{}", text(&buf));
    key(&mut a, KeyCode::Tab);
    assert_eq!(a.focus, Focus::Panes);
    let buf = draw(&mut a, 120, 40);
    let (x, _) = find(&buf, "Fix the add-on search — Ana");
    assert!(
        x > 40,
        "shown in full in the details area, right of the checklist"
    );

    // An unreadable repo: the pane says so in its title and body, the screen stays.
    let broken = git_source(dir.path().join("missing"), None, None);
    let err = broken.snapshot().unwrap_err();
    assert!(err.contains("does not exist"), "{err}");
    a.on_source(pushduty::tui::pane::SourceUpdate {
        pane: "git",
        result: Err(err),
    });
    let buf = draw(&mut a, 120, 40);
    assert!(text(&buf).contains("git (error)"), "{}", text(&buf));
}

#[test]
fn a_failed_check_blocks_yes_and_an_override_asks_why() {
    let mut a = app(Mode::Run);
    set(
        &mut a,
        "fetch",
        Status::Done {
            at: "2015-09-08T10:00:00Z".into(),
        },
    );
    a.engine
        .session
        .state
        .values
        .insert("strategy".into(), "master".into());
    a.selected = a.step_ids().iter().position(|s| s == "tag-master").unwrap();
    key(&mut a, KeyCode::Enter);
    let checks = confirm_checks(&a);
    assert!(
        checks
            .iter()
            .any(|c| !c.ok && c.text.contains("has no local checkout")),
        "{checks:?}"
    );
    let buf = draw(&mut a, 80, 24);
    insta::assert_snapshot!("confirm_failed_check_80x24", text(&buf));
    let (x, y) = find(&buf, "✗ repo");
    assert_eq!(buf[(x, y)].fg, Color::Red);
    // `y` does not run it.
    key(&mut a, KeyCode::Char('y'));
    assert!(matches!(a.modal, Modal::Confirm { .. }));
    assert!(!a.engine.is_running());
    assert!(
        a.log
            .iter()
            .any(|l| l.text.contains("is not run") && l.text.contains("f overrides"))
    );
    // `f` asks why, and a reason is required.
    key(&mut a, KeyCode::Char('f'));
    let Modal::Prompt(p) = &a.modal else {
        panic!("{:?}", a.modal);
    };
    assert_eq!(p.title, "Override the checks of tag-master");
    key(&mut a, KeyCode::Enter);
    let Modal::Prompt(p) = &a.modal else {
        panic!("{:?}", a.modal);
    };
    assert_eq!(p.error.as_deref(), Some("a reason is required"));
}

/// The finding: keys typed for a dialog that did not open acted on the checklist (the note
/// "a note" became an ad-hoc item). A refused step now opens a dialog saying why, which takes
/// those keys until Esc or Enter closes it.
#[test]
fn keys_typed_after_a_refused_enter_do_not_reach_the_checklist() {
    let mut a = app(Mode::Run);
    a.selected = a.step_ids().iter().position(|s| s == "tag-master").unwrap();
    key(&mut a, KeyCode::Enter);
    assert!(matches!(a.modal, Modal::Refused { .. }), "{:?}", a.modal);
    let t = text(&draw(&mut a, 80, 24));
    assert!(
        t.contains("tag-master cannot run: it comes after `fetch`"),
        "{t}"
    );
    typed(&mut a, "a note");
    assert!(a.engine.session.state.items.is_empty(), "an item was added");
    assert!(matches!(a.modal, Modal::Refused { .. }), "{:?}", a.modal);
    key(&mut a, KeyCode::Esc);
    assert_eq!(a.modal, Modal::None);
}

/// The finding: the header's clock was unlabelled, counted from the process's start and
/// stopped between keys. It is the time now where the team is, labelled, and the idle screen
/// wakes when it turns a minute.
#[test]
fn the_header_clock_is_the_teams_time_now_and_turns_each_minute() {
    let mut a = app(Mode::Run);
    a.fixed_clock = None;
    let tz: chrono_tz::Tz = "America/Los_Angeles".parse().unwrap();
    let before = chrono::Utc::now()
        .with_timezone(&tz)
        .format("%H:%M")
        .to_string();
    let shown = a.clock();
    let after = chrono::Utc::now()
        .with_timezone(&tz)
        .format("%H:%M")
        .to_string();
    assert!(shown == before || shown == after, "{shown}");
    let wait = pushduty::tui::app::until_next_minute();
    assert!(
        wait <= Duration::from_secs(60) && wait >= Duration::from_millis(50),
        "{wait:?}"
    );
    let mut a = app(Mode::Run);
    a.fixed_clock = Some("10:12".into());
    assert!(text(&draw(&mut a, 160, 40)).contains("│ now 10:12 │"));
}

#[test]
fn a_done_step_is_not_skipped() {
    let mut a = app(Mode::Run);
    a.selected = 0;
    set(
        &mut a,
        "check-rotation",
        Status::Done {
            at: "2015-09-08T10:00:00Z".into(),
        },
    );
    key(&mut a, KeyCode::Char('s'));
    assert_eq!(a.modal, Modal::None);
    assert!(
        a.log
            .iter()
            .any(|l| l.text == "`check-rotation` is done: it can only be reopened (O), not skipped"),
        "{:?}",
        a.log
    );
}

#[test]
fn panes_come_from_the_runbooks_sources_and_say_how_to_configure_them() {
    let names = |a: &App| a.panes.iter().map(|p| p.name).collect::<Vec<_>>();
    let bundled = app(Mode::Run);
    assert_eq!(
        names(&bundled),
        ["git", "jenkins", "sentry", "metrics", "blockers"]
    );
    assert!(
        bundled.panes[4]
            .hint
            .contains("service `github` has no GitHub token"),
        "{}",
        bundled.panes[4].hint
    );
    assert_eq!(
        bundled.panes[0].hint,
        "set `repos.olympia.path` in your config to your checkout"
    );
    let (deploy, _) = app_with(Some("deploy.toml"), Mode::Run);
    assert_eq!(
        names(&deploy),
        ["jenkins"],
        "no repos, no Sentry, no metrics"
    );
    assert!(
        deploy.panes[0]
            .hint
            .contains("service `stage` has no user: set `services.stage.user`"),
        "{}",
        deploy.panes[0].hint
    );
    let (two, _) = app_with(Some("two-manual.toml"), Mode::Run);
    assert!(two.panes.is_empty());
    // Nothing to show draws nothing, and nothing breaks.
    let mut two = two;
    draw(&mut two, 80, 24);
}

#[test]
fn checks_are_read_off_the_ui_thread_and_an_early_yes_waits_for_them() {
    let mut a = app(Mode::Run);
    let (tx, rx) = mpsc::channel();
    a.previewer = Some(tx);
    a.selected = 0;
    key(&mut a, KeyCode::Enter);
    assert_eq!(
        a.modal,
        Modal::Confirm {
            step: "check-rotation".into(),
            read: None
        }
    );
    let t = text(&draw(&mut a, 120, 40));
    assert!(t.contains("Checking first…"), "{t}");
    assert!(!t.contains("[y] yes"), "no yes before the checks: {t}");
    key(&mut a, KeyCode::Char('y'));
    assert!(!a.engine.is_running(), "not before the checks are in");
    let msg = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    let pushduty::tui::Msg::Confirmation { step, read } = msg else {
        panic!("expected the checks");
    };
    a.on_confirmation(&step, read);
    // The early `y` counts now: the step asks for its note.
    assert!(matches!(a.modal, Modal::Prompt(_)), "{:?}", a.modal);
}

/// A warning (a cherry-pick that adds a database migration) is marked `!` apart from the
/// facts that passed, and stops nothing: `y` is offered, not an override.
#[test]
fn a_warning_in_the_confirmation_is_marked_and_stops_nothing() {
    let mut a = app(Mode::Run);
    a.selected = 0;
    a.modal = Modal::Confirm {
        step: "check-rotation".into(),
        read: Some(engine::Confirmation {
            checks: vec![
                engine::Check::ok("tags the cherry-picks"),
                engine::Check::warn("abc1234 (Add the column) adds a database migration"),
            ],
            shown: None,
            pin: serde_json::Value::Null,
        }),
    };
    let t = text(&draw(&mut a, 120, 40));
    assert!(t.contains("✓ tags the cherry-picks"), "{t}");
    assert!(
        t.contains("! abc1234 (Add the column) adds a database migration"),
        "{t}"
    );
    assert!(t.contains("yes, run it"), "{t}");
    assert!(!t.contains("act anyway"), "{t}");
}

/// The finding: the tag dialog showed the git pane's snapshot (up to 30 s old) while the
/// worker read the branch again. The dialog now says it is reading until the action is read
/// from the repository, then shows that action, which the step carries to the worker.
#[test]
fn a_tag_dialog_reads_the_repository_before_it_shows_what_it_tags() {
    let mut a = app(Mode::Run);
    let (tx, rx) = mpsc::channel();
    a.previewer = Some(tx);
    set(
        &mut a,
        "fetch",
        Status::Done {
            at: "2015-09-08T10:00:00Z".into(),
        },
    );
    a.engine
        .session
        .state
        .values
        .insert("strategy".into(), "master".into());
    a.selected = a.step_ids().iter().position(|s| s == "tag-master").unwrap();
    key(&mut a, KeyCode::Enter);
    let t = text(&draw(&mut a, 80, 24));
    assert!(t.contains("reading the repository…"), "{t}");
    let msg = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    let pushduty::tui::Msg::Confirmation { step, read } = msg else {
        panic!("expected the confirmation");
    };
    // No checkout configured: what it would do is shown with why it cannot, and nothing
    // is pinned, so even an override cannot tag something unshown.
    let shown = read.shown.clone().unwrap();
    assert!(shown.contains("tag 2015.09.10"), "{shown}");
    assert!(
        read.checks
            .iter()
            .any(|c| !c.ok && c.text.contains("has no local checkout")),
        "{:?}",
        read.checks
    );
    assert_eq!(read.pin, serde_json::Value::Null);
    a.on_confirmation(&step, read);
    let t = text(&draw(&mut a, 80, 24));
    assert!(!t.contains("reading the repository…"), "{t}");
    assert!(t.contains("✗ repo `olympia` has no local checkout"), "{t}");
}

/// `h` shows exactly what to do by hand (here the whole email and its `mailto:`), and `y`
/// with a note ticks the step off as done by hand.
#[test]
fn h_shows_what_to_do_by_hand_and_y_ticks_it_off_with_what_was_done() {
    let (mut a, _rx) = build_app(None, (2015, 9, 10), &[], Mode::Run);
    a.selected = a.step_ids().iter().position(|s| s == "announce").unwrap();
    key(&mut a, KeyCode::Char('h'));
    let t = text(&draw(&mut a, 100, 40));
    assert!(t.contains("Do announce by hand"), "{t}");
    assert!(
        t.contains("send this message from your own mail client"),
        "{t}"
    );
    assert!(t.contains("mailto:dev-addons@mozilla.org?subject="), "{t}");
    assert!(t.contains("Subject: AMO push 2015.09.10 is done"), "{t}");
    assert!(t.contains("[y] done: tick it off"), "{t}");
    key(&mut a, KeyCode::Char('y'));
    let Modal::Prompt(p) = &a.modal else {
        panic!("{:?}", a.modal);
    };
    assert_eq!(p.title, "announce done by hand");
    typed(&mut a, "sent from Thunderbird");
    key(&mut a, KeyCode::Enter);
    let st = &a.engine.session.state.steps["announce"];
    assert!(matches!(st.status, Status::Done { .. }), "{:?}", st.status);
    assert!(
        st.by_hand
            .as_deref()
            .is_some_and(|b| b.starts_with("send this message from your own mail client")),
        "{:?}",
        st.by_hand
    );
    assert_eq!(st.note.as_deref(), Some("sent from Thunderbird"));
}

#[test]
fn health_panes_draw_sparklines_with_the_push_marked() {
    use pushduty::health::view::{SentryView, SeriesView, Watch, metrics_lines, sentry_lines};
    use pushduty::services::sentry::Issue;
    let push = 1_441_900_800; // 2015-09-10 16:00 UTC, on the minute
    let w = Watch {
        now: push + 1800,
        push: Some(push),
        baseline_secs: 3600,
        soak_secs: 1800,
    };
    let hm = |t: i64| {
        chrono::DateTime::from_timestamp(t, 0)
            .unwrap()
            .format("%H:%M")
            .to_string()
    };
    let minutes = |f: &dyn Fn(i64) -> Option<f64>| -> Vec<(i64, Option<f64>)> {
        (0..90)
            .map(|m| push - 3600 + m * 60)
            .map(|t| (t, f(t)))
            .collect()
    };
    let series = vec![
        SeriesView {
            name: "all responses".into(),
            points: minutes(&|t| Some(1000.0 + ((t - push) / 60) as f64 * 4.0)),
            error: None,
        },
        SeriesView {
            name: "server errors".into(),
            // A gap of ten minutes before the push, then a spike.
            points: minutes(&|t| match t - push {
                d if (-1500..-900).contains(&d) => None,
                d if d >= 0 => Some(40.0 - (d / 60) as f64),
                _ => Some(4.0),
            }),
            error: None,
        },
        SeriesView {
            name: "latency p95".into(),
            points: Vec::new(),
            error: Some("no series matches `stats.addons.latency.p95`: check the name".into()),
        },
    ];
    let sentry = SentryView {
        since: push,
        issues: vec![Issue {
            id: "7".into(),
            short_id: "OLYMPIA-7F".into(),
            title: "TypeError: addon.slug is None".into(),
            level: "error".into(),
            status: "unresolved".into(),
            count: 41,
            user_count: 12,
            first_seen: None,
            last_seen: None,
            permalink: Some("https://sentry.example/organizations/mkt/issues/7/".into()),
        }],
        more: false,
        events: minutes(&|t| Some(if t >= push { 60.0 } else { 20.0 })),
        error: None,
        remaining: Some(37),
        retry_at: None,
    };
    let mut a = app(Mode::Run);
    for (pane, lines) in [
        ("metrics", metrics_lines(&series, &w, &hm)),
        ("sentry", sentry_lines(&sentry, &w, &hm)),
    ] {
        a.on_source(pushduty::tui::pane::SourceUpdate {
            pane,
            result: Ok(("16:30:00".into(), lines)),
        });
    }
    // The metrics pane opened in full (Tab to the panes, then down to it).
    key(&mut a, KeyCode::Tab);
    assert_eq!(a.focus, Focus::Panes);
    while a.panes[a.pane_selected].name != "metrics" {
        key(&mut a, KeyCode::Down);
    }
    let buf = draw(&mut a, 120, 40);
    insta::assert_snapshot!("health_metrics_pane", text(&buf));
    while a.panes[a.pane_selected].name != "sentry" {
        key(&mut a, KeyCode::Up);
    }
    let buf = draw(&mut a, 120, 40);
    insta::assert_snapshot!("health_sentry_pane", text(&buf));
}

#[test]
fn the_blockers_pane_lists_each_blocker_and_counts_them_in_its_title() {
    use pushduty::services::GithubConf;
    use pushduty::services::github::Blocker;
    use pushduty::sources::blockers::{Read, Target, pane_lines};
    use pushduty::tui::pane::SourceUpdate;
    let target = Target {
        conf: GithubConf {
            name: "github".into(),
            api_url: "https://api.github.com".into(),
            token: Err("unset".into()),
        },
        label: "blocker".into(),
        repos: vec!["mozilla/olympia".into()],
    };
    let blocker = |number: u64, title: &str| Blocker {
        number,
        title: title.into(),
        url: format!("https://github.com/mozilla/olympia/issues/{number}"),
        repo: "mozilla/olympia".into(),
    };
    let read = Read {
        open: vec![
            blocker(12, "Uploads fail on stage"),
            blocker(15, "Search is empty for Firefox 40"),
        ],
        ..Read::default()
    };
    let mut a = app(Mode::Run);
    a.on_source(SourceUpdate {
        pane: "blockers",
        result: Ok(("16:30:00".into(), pane_lines(&target, &read, false))),
    });
    let pane = |a: &App| {
        a.panes
            .iter()
            .find(|p| p.name == "blockers")
            .unwrap()
            .clone()
    };
    assert_eq!(pane(&a).title(), "blockers: 2 open (16:30:00)");
    key(&mut a, KeyCode::Tab);
    while a.panes[a.pane_selected].name != "blockers" {
        key(&mut a, KeyCode::Down);
    }
    let buf = draw(&mut a, 120, 40);
    insta::assert_snapshot!("blockers_pane", text(&buf));
    // A failed poll keeps the last list under the error, and the UI goes on.
    a.on_source(SourceUpdate {
        pane: "blockers",
        result: Err(
            "reading the blockers of mozilla/olympia: HTTP 403 Forbidden: API rate limit exceeded"
                .into(),
        ),
    });
    assert_eq!(pane(&a).title(), "blockers: 2 open (error)");
    let t = text(&draw(&mut a, 120, 40));
    assert!(t.contains("HTTP 403 Forbidden"), "{t}");
    assert!(t.contains("#12 Uploads fail on stage"), "{t}");
    // None open is a count too.
    a.on_source(SourceUpdate {
        pane: "blockers",
        result: Ok((
            "16:31:00".into(),
            pane_lines(&target, &Read::default(), false),
        )),
    });
    assert_eq!(pane(&a).title(), "blockers: 0 open (16:31:00)");
}

/// An app opened on a session whose `done` steps are finished already (a resume), with
/// `--now` at `today`.
fn resumed(
    runbook: &str,
    today: (i32, u32, u32),
    done: &[&str],
) -> (App, mpsc::Receiver<engine::Event>) {
    build_app(Some(runbook), today, done, Mode::Run)
}

/// The status line (the first line in run mode).
fn status_line(buf: &Buffer) -> String {
    text(buf).lines().next().unwrap_or_default().to_string()
}

#[test]
fn the_section_header_names_the_selected_steps_section_its_days_and_its_doc() {
    for (w, h) in [(80, 24), (120, 40)] {
        let mut a = app(Mode::Run);
        a.selected = a.step_ids().iter().position(|s| s == "blockers").unwrap();
        let buf = draw(&mut a, w, h);
        insta::assert_snapshot!(format!("section_header_{w}x{h}"), text(&buf));
        let t = text(&buf);
        let header = t.lines().nth(1).unwrap();
        assert!(
            header.starts_with(" Before the push: stage · Tue 2015-09-08 – Wed 2015-09-09"),
            "{header}"
        );
        // The doc: after the title on a short screen, on its own line on a tall one.
        let doc_line = if h >= 32 {
            t.lines().nth(2).unwrap()
        } else {
            header
        };
        assert!(doc_line.contains("The tag is deployed"), "{t}");
        // The checklist's section rows end with their days.
        assert!(
            t.contains("Before the push: stage  Tue–Wed") || t.contains("Tue–Wed│"),
            "{t}"
        );
    }
}

#[test]
fn the_overview_tells_the_whole_procedure_with_days_and_scrolls() {
    for (w, h) in [(80, 24), (120, 40)] {
        let mut a = app(Mode::Run);
        key(&mut a, KeyCode::Char('i'));
        assert_eq!(a.modal, Modal::Overview { scroll: 0 });
        let buf = draw(&mut a, w, h);
        insta::assert_snapshot!(format!("overview_{w}x{h}"), text(&buf));
        let t = text(&buf);
        assert!(
            t.contains("push Thu 2015-09-10 · tag Tue 2015-09-08 · today Tue 2015-09-08"),
            "{t}"
        );
        assert!(
            t.contains("Every week one developer is the push hero"),
            "{t}"
        );
        assert!(t.contains("▶ Who pushes · Tue 2015-09-08"), "{t}");
        // Scrolled to its end, the last section shows, its template filled in.
        for _ in 0..8 {
            key(&mut a, KeyCode::PageDown);
        }
        let t = text(&draw(&mut a, w, h));
        assert!(t.contains("Once complete · Thu 2015-09-10"), "{t}");
        key(&mut a, KeyCode::Esc);
        assert_eq!(a.modal, Modal::None);
    }
    // The section docs are templates: the overview shows them filled in.
    let mut a = app(Mode::Run);
    key(&mut a, KeyCode::Char('i'));
    let t = text(&draw(&mut a, 120, 40));
    assert!(t.contains("this week that is 2015.09.10"), "{t}");
}

#[test]
fn a_step_planned_for_a_later_day_says_so_and_running_it_asks_why() {
    for (w, h) in [(80, 24), (120, 40)] {
        let mut a = app(Mode::Run);
        a.selected = a
            .step_ids()
            .iter()
            .position(|s| s == "qa-approval")
            .unwrap();
        let buf = draw(&mut a, w, h);
        insta::assert_snapshot!(format!("later_day_{w}x{h}"), text(&buf));
        let t = text(&buf);
        assert!(t.contains("Thu 2015-09-10"), "{t}");
        assert!(t.contains("Not yet: planned for Thu 2015-09-10"), "{t}");
        // Greyed in the checklist.
        let (x, y) = find(&buf, "Ops push");
        assert_eq!(buf[(x, y)].fg, Color::DarkGray);
    }
    // Enter: the day rule is the first check, failed; y does not run it; f asks why.
    let (mut a, rx) = resumed("days.toml", (2015, 9, 8), &["tag-it", "look"]);
    assert_eq!(a.selected_id().as_deref(), Some("ship"));
    key(&mut a, KeyCode::Enter);
    let checks = confirm_checks(&a);
    assert_eq!(
        checks[0].text,
        "planned for Thu 2015-09-10 (today is Tue 2015-09-08)"
    );
    assert!(!checks[0].ok);
    key(&mut a, KeyCode::Char('y'));
    assert!(!a.engine.is_running());
    key(&mut a, KeyCode::Char('f'));
    assert!(matches!(a.modal, Modal::Prompt(_)));
    typed(&mut a, "ops asked to ship early");
    key(&mut a, KeyCode::Enter);
    wait_finished(&mut a, &rx);
    assert!(matches!(a.engine.status("ship"), Status::Done { .. }));
    assert!(
        a.log
            .iter()
            .any(|l| l.text == "overriding the checks of ship: ops asked to ship early")
    );
}

#[test]
fn the_cursor_starts_at_the_next_step_and_moves_on_when_it_finishes() {
    // Resumed with Tuesday's step done: the cursor is on Wednesday's.
    let (mut a, rx) = resumed("days.toml", (2015, 9, 8), &["tag-it"]);
    assert_eq!(a.selected_id().as_deref(), Some("look"));
    let line = status_line(&draw(&mut a, 120, 40));
    assert!(line.contains("│ next on Wed 2015-09-09: look"), "{line}");
    // On Wednesday, it is due: run it, and the cursor goes on to Thursday's.
    let (mut a, rx2) = resumed("days.toml", (2015, 9, 9), &["tag-it"]);
    drop(rx);
    let line = status_line(&draw(&mut a, 120, 40));
    assert!(line.contains("│ next: look (Wed)"), "{line}");
    key(&mut a, KeyCode::Enter);
    key(&mut a, KeyCode::Char('y'));
    wait_finished(&mut a, &rx2);
    assert!(matches!(a.engine.status("look"), Status::Done { .. }));
    assert_eq!(a.selected_id().as_deref(), Some("ship"));
    let line = status_line(&draw(&mut a, 80, 24));
    assert!(line.contains("next on Thu 2015-09-10: ship"), "{line}");
    // A fresh session starts at the first step.
    assert_eq!(app(Mode::Run).selected, 0);
}

#[test]
fn the_learn_footer_offers_only_what_learn_mode_does_and_tab_reaches_every_pane() {
    for (w, h) in [(80, 24), (120, 40)] {
        let mut a = app(Mode::Learn);
        let buf = draw(&mut a, w, h);
        let footer = text(&buf).lines().last().unwrap().to_string();
        insta::assert_snapshot!(format!("learn_footer_{w}x{h}"), footer.clone());
        for gone in ["skip", "retry", "run "] {
            assert!(!footer.contains(gone), "{footer}");
        }
        for here in ["explain", "panes", "i procedure", "? help", "q quit"] {
            assert!(footer.contains(here), "{footer}");
        }
    }
    let mut a = app(Mode::Learn);
    let n = a.panes.len();
    assert!(n >= 4);
    for i in 0..n {
        key(&mut a, KeyCode::Tab);
        assert_eq!((a.focus, a.pane_selected), (Focus::Panes, i));
        // An unconfigured pane says how to configure it.
        let t = text(&draw(&mut a, 120, 40));
        assert!(
            t.contains("config") || t.contains("--set") || t.contains("token"),
            "pane {}: {t}",
            a.panes[i].name
        );
    }
    // After the last pane: the log, full-size; then the checklist again.
    key(&mut a, KeyCode::Tab);
    assert_eq!(a.focus, Focus::Log);
    key(&mut a, KeyCode::Tab);
    assert_eq!(a.focus, Focus::Checklist);
}

#[test]
fn run_says_when_the_operator_is_not_this_weeks_hero() {
    let a = app(Mode::Run);
    assert!(
        a.log
            .iter()
            .any(|l| l.level == Level::Warn && l.text == "you are not this week's hero: andym is"),
        "{:?}",
        a.log
    );
    // Learn mode is for anyone: no notice.
    assert!(app(Mode::Learn).log.is_empty());
}

/// The steps' index by id, in the bundled runbook.
fn index_of(a: &App, id: &str) -> usize {
    a.step_ids().iter().position(|s| s == id).unwrap()
}

#[test]
fn a_long_preview_scrolls_and_the_confirmations_keys_stay_visible() {
    for (w, h) in [(80, 24), (120, 40)] {
        let mut a = app(Mode::Run);
        a.selected = index_of(&a, "fetch");
        a.area = Rect::new(0, 0, w, h);
        key(&mut a, KeyCode::Enter);
        assert!(matches!(a.modal, Modal::Confirm { .. }), "{:?}", a.modal);
        // A preview longer than any screen: one line per tag fetched, say.
        a.views[a.selected].preview = (1..=60)
            .map(|i| format!("git -C ~/src/olympia fetch upstream refs/tags/2015.{i:02}.01"))
            .collect::<Vec<_>>()
            .join("\n");
        let buf = draw(&mut a, w, h);
        let screen = text(&buf);
        assert!(screen.contains("[n/Esc] cancel"), "{screen}");
        assert!(screen.contains("PgUp/PgDn 1-"), "{screen}");
        insta::assert_snapshot!(format!("confirm_long_preview_{w}x{h}"), screen);
        // PgDn a page, End of it by arrows: the last line shows, the keys still do.
        for _ in 0..20 {
            key(&mut a, KeyCode::PageDown);
        }
        let screen = text(&draw(&mut a, w, h));
        assert!(
            screen.contains("fetch upstream refs/tags/2015.60.01"),
            "{screen}"
        );
        assert!(screen.contains("[n/Esc] cancel"), "{screen}");
        assert!(
            !screen.contains("2015.01.01"),
            "scrolled past the top: {screen}"
        );
        key(&mut a, KeyCode::PageUp);
        key(&mut a, KeyCode::Up);
        let back = a.dialog_scroll;
        key(&mut a, KeyCode::Down);
        assert_eq!(a.dialog_scroll, back + 1, "arrows scroll a row");
        key(&mut a, KeyCode::Esc);
        assert_eq!((a.modal.clone(), a.dialog_scroll), (Modal::None, 0));
    }
}

#[test]
fn a_choice_is_picked_with_the_arrows_and_enter() {
    for (w, h) in [(80, 24), (120, 40)] {
        let (mut a, rx) = app_with(None, Mode::Run);
        a.selected = index_of(&a, "strategy");
        key(&mut a, KeyCode::Enter);
        key(&mut a, KeyCode::Char('y'));
        key(&mut a, KeyCode::Down);
        let buf = draw(&mut a, w, h);
        let (x, y) = find(&buf, "› 2. cherry_pick: Cherry-pick");
        assert_eq!(buf[(x, y)].bg, Color::Indexed(237), "the highlighted row");
        insta::assert_snapshot!(format!("choice_arrows_{w}x{h}"), text(&buf));
        key(&mut a, KeyCode::Enter);
        wait_finished(&mut a, &rx);
        assert_eq!(a.engine.status("tag-master"), Status::NotApplicable);
        assert_eq!(a.engine.status("cherry-pick"), Status::Pending);
    }
}

#[test]
fn the_cherry_pick_prompt_lists_the_commits_to_pick() {
    use pushduty::engine::{InputSpec, Inputs};
    use pushduty::git::state::CommitInfo;
    use pushduty::tui::app::{Prompt, Purpose};
    use pushduty::tui::picker::{Item, Pick, Picker};
    for (w, h) in [(80, 24), (120, 40)] {
        let mut a = app(Mode::Run);
        let commits: Vec<CommitInfo> = (1..=14)
            .map(|i| CommitInfo {
                sha: format!("{i:02}ab{i:03}"),
                author: ["Ana", "Bo", "Kumar"][i % 3].into(),
                subject: format!(
                    "Fix number {i} of the add-on search, a subject long enough to wrap"
                ),
            })
            .collect();
        let mut spec = InputSpec::text(
            "commits",
            "commits to cherry-pick, oldest first".into(),
            true,
        );
        spec.hints = vec![
            "on master since 2015.09.03 (the release production runs now), oldest first:".into(),
        ];
        spec.commits = commits.clone();
        let items = commits
            .iter()
            .map(|c| Item {
                value: c.sha.clone(),
                label: c.subject.clone(),
                note: c.author.clone(),
            })
            .collect();
        a.modal = Modal::Prompt(Prompt {
            title: "cherry-pick (1/1)".into(),
            label: spec.prompt.clone(),
            hints: spec.hints.clone(),
            buffer: String::new(),
            cursor: 0,
            error: None,
            purpose: Purpose::Inputs {
                step: "cherry-pick".into(),
                specs: vec![spec],
                index: 0,
                answers: Inputs::new(),
                then: pushduty::tui::app::Then {
                    override_reason: None,
                    pinned: None,
                },
            },
            picker: Some(Box::new(Picker::new(Pick::Many, items))),
        });
        a.area = Rect::new(0, 0, w, h);
        key(&mut a, KeyCode::Char(' '));
        for _ in 0..9 {
            key(&mut a, KeyCode::Down);
        }
        key(&mut a, KeyCode::Char(' '));
        let Modal::Prompt(p) = &a.modal else {
            panic!("{:?}", a.modal)
        };
        assert_eq!(p.buffer, "01ab001 10ab010", "picked shas, oldest first");
        let buf = draw(&mut a, w, h);
        let screen = text(&buf);
        assert!(
            screen.contains("[x] 10ab010"),
            "the highlighted pick stays in view: {screen}"
        );
        assert!(screen.contains("[Space] pick"), "{screen}");
        insta::assert_snapshot!(format!("cherry_pick_list_{w}x{h}"), screen);
        // Typed shas mark their commits too.
        typed(&mut a, ",12ab012");
        key(&mut a, KeyCode::Down);
        key(&mut a, KeyCode::Down);
        let screen = text(&draw(&mut a, w, h));
        let Modal::Prompt(p) = &a.modal else {
            panic!("{:?}", a.modal)
        };
        assert_eq!(p.buffer, "01ab001 10ab010,12ab012");
        assert!(screen.contains("› [x] 12ab012"), "{screen}");
    }
}

#[test]
fn the_log_opens_full_size_keeps_its_scrollback_and_searches() {
    for (w, h) in [(80, 24), (120, 40)] {
        let mut a = app(Mode::Run);
        for i in 0..6000 {
            let text = if i % 500 == 7 {
                format!("fetch: {i} new tags from upstream")
            } else {
                format!("progress line {i}")
            };
            a.log(Level::Progress, text);
        }
        assert!(a.log.len() <= 5500, "bounded: {}", a.log.len());
        assert!(
            a.log.len() >= 5000,
            "the scrollback is kept: {}",
            a.log.len()
        );
        a.area = Rect::new(0, 0, w, h);
        // Tab goes through every pane, then to the log.
        for _ in 0..=a.panes.len() {
            key(&mut a, KeyCode::Tab);
        }
        assert_eq!(a.focus, Focus::Log);
        key(&mut a, KeyCode::Char('/'));
        typed(&mut a, "FETCH");
        key(&mut a, KeyCode::Enter);
        key(&mut a, KeyCode::Char('n'));
        key(&mut a, KeyCode::Char('n'));
        let buf = draw(&mut a, w, h);
        let screen = text(&buf);
        // Enter found the newest match; n wrapped to the oldest, then the next.
        assert!(
            screen.contains("fetch: 1007 new tags from upstream ◀"),
            "{screen}"
        );
        let (x, y) = find(&buf, "fetch: 1007");
        assert!(
            buf[(x, y)].modifier.contains(Modifier::REVERSED),
            "the match is marked"
        );
        insta::assert_snapshot!(format!("log_search_{w}x{h}"), screen);
        // N goes back; g/G scroll to the ends; Esc leaves the search, Tab the log.
        key(&mut a, KeyCode::Char('N'));
        let screen = text(&draw(&mut a, w, h));
        assert!(
            screen.contains("fetch: 507 new tags from upstream ◀"),
            "{screen}"
        );
        key(&mut a, KeyCode::Esc);
        assert_eq!(a.log_view.search, None);
        key(&mut a, KeyCode::Char('G'));
        let screen = text(&draw(&mut a, w, h));
        assert!(screen.contains("progress line 5999"), "{screen}");
        key(&mut a, KeyCode::Char('g'));
        key(&mut a, KeyCode::Char('j'));
        let screen = text(&draw(&mut a, w, h));
        assert!(!screen.contains("progress line 5999"), "{screen}");
        key(&mut a, KeyCode::Tab);
        assert_eq!(a.focus, Focus::Checklist);
    }
}

#[test]
fn outputs_read_as_lists_and_links_in_the_details() {
    for (w, h) in [(80, 24), (120, 40)] {
        let mut a = app(Mode::Run);
        let id = "compare";
        set(
            &mut a,
            id,
            Status::Done {
                at: "2015-09-08T10:00:00Z".into(),
            },
        );
        a.engine.session.state.steps[id].outputs = [
            (
                "commits".to_string(),
                serde_json::json!([
                    {"sha": "abc1234", "subject": "Fix the add-on search", "author": "Ana"},
                    {"sha": "def5678", "subject": "Faster uploads", "author": "Bo"}
                ]),
            ),
            (
                "shipping_compare_url".to_string(),
                serde_json::json!(
                    "https://github.com/mozilla/olympia/compare/2015.09.03...2015.09.10"
                ),
            ),
        ]
        .into_iter()
        .collect();
        a.selected = index_of(&a, id);
        // The outputs in view: the section header takes a line more on a short screen.
        a.detail_scroll = if h < 30 { 16 } else { 14 };
        let buf = draw(&mut a, w, h);
        let screen = text(&buf);
        assert!(!screen.contains("{\""), "no raw JSON: {screen}");
        assert!(screen.contains("- author: Ana"), "{screen}");
        assert!(screen.contains("  sha: abc1234"), "{screen}");
        let (x, y) = find(&buf, "https://github.com/mozilla");
        assert!(
            buf[(x, y)].modifier.contains(Modifier::UNDERLINED),
            "a link"
        );
        insta::assert_snapshot!(format!("outputs_in_details_{w}x{h}"), screen);
    }
}

#[test]
fn the_git_pane_says_what_the_tag_ships_then_the_picks() {
    let repo = AnaRepo::released("main");
    let (dir, run) = (&repo.dir, |args: &[&str]| repo.git(args));
    run(&["checkout", "-q", "-b", "side", "2015.09.03"]);
    run(&["commit", "-q", "--allow-empty", "-m", "Side work"]);
    run(&["checkout", "-q", "main"]);
    run(&["merge", "-q", "--no-ff", "-m", "Merge side", "side"]);
    run(&["commit", "-q", "--allow-empty", "-m", "Faster uploads"]);
    let source = git_source(
        dir.path().to_path_buf(),
        Some("example/app"),
        NaiveDate::from_ymd_opt(2015, 9, 10),
    );
    let before = source.snapshot().unwrap();
    assert!(!before.iter().any(|l| l.contains("ships")), "{before:?}");
    run(&["tag", "2015.09.10"]);
    let tagged = source.snapshot().unwrap();
    let at = |lines: &[String], s: &str| {
        lines
            .iter()
            .position(|l| l.contains(s))
            .unwrap_or_else(|| panic!("`{s}` not in {lines:?}"))
    };
    at(&tagged, "2015.09.10 ships 4 commits since 2015.09.03:");
    // Topological: the merge before what it merged, a side commit before the merge's parent.
    assert!(at(&tagged, "Faster uploads") < at(&tagged, "Merge side"));
    assert!(at(&tagged, "Merge side") < at(&tagged, "Side work"));
    let mut a = app(Mode::Run);
    a.on_source(pushduty::tui::pane::SourceUpdate {
        pane: "git",
        result: Ok(("12:00:00".into(), tagged)),
    });
    key(&mut a, KeyCode::Tab);
    for (w, h) in [(80, 24), (120, 40)] {
        let buf = draw(&mut a, w, h);
        insta::assert_snapshot!(format!("git_pane_tagged_{w}x{h}"), text(&buf));
    }

    // A blocker: a fix picked onto this push's tag, tagged -1: the pane lists the pick.
    run(&["checkout", "-q", "--detach", "2015.09.10"]);
    run(&["commit", "-q", "--allow-empty", "-m", "Fix the blocker"]);
    run(&["tag", "2015.09.10-1"]);
    run(&["checkout", "-q", "main"]);
    let picked = source.snapshot().unwrap();
    let header = at(
        &picked,
        "2015.09.10-1 ships 1 cherry-pick(s) onto 2015.09.10:",
    );
    assert!(
        picked[header + 1].contains("Fix the blocker — Ana"),
        "{picked:?}"
    );
    assert_eq!(picked.len(), header + 2, "only the picks: {picked:?}");
}

/// With a real checkout, the cherry-pick's prompt lists the engine's candidates (the
/// previous release tag..master, oldest first) and Space picks them.
#[test]
fn the_cherry_pick_prompt_offers_the_engines_candidates_from_a_real_repo() {
    let repo = AnaRepo::released("master");
    let (dir, run) = (&repo.dir, |args: &[&str]| repo.git(args));
    run(&["commit", "-q", "--allow-empty", "-m", "Unfinished feature"]);
    let config: Config = toml::from_str(&format!(
        "[repos.olympia]\npath = {:?}\n",
        dir.path().to_str().unwrap()
    ))
    .unwrap();
    let loaded = pushduty::runbook::load(None, &[]).unwrap();
    let engine = engine_on(loaded, &config, (2015, 9, 8), &[], Arc::new(|_| {}));
    let specs = engine.inputs("cherry-pick").unwrap();
    let subjects: Vec<&str> = specs[0]
        .commits
        .iter()
        .map(|c| c.subject.as_str())
        .collect();
    assert_eq!(
        subjects,
        ["Fix the add-on search", "Unfinished feature"],
        "oldest first"
    );
    assert_eq!(specs[0].commits[0].author, "Ana");
    let first = specs[0].commits[0].sha.clone();

    let mut a = App::new(engine, Mode::Run, Theme::color());
    a.fixed_clock = Some("10:12".into());
    for done in ["check-rotation", "fetch", "strategy"] {
        set(
            &mut a,
            done,
            Status::Done {
                at: "2015-09-08T10:00:00Z".into(),
            },
        );
    }
    a.engine.session.state.steps["strategy"]
        .outputs
        .insert("strategy".into(), serde_json::json!("cherry_pick"));
    a.selected = index_of(&a, "cherry-pick");
    a.update(pushduty::tui::action::Action::Open);
    if let Modal::Confirm { .. } = a.modal {
        a.update(pushduty::tui::action::Action::Override);
        if let Modal::Prompt(_) = a.modal {
            // A failed check (no remote here): act anyway, with a reason.
            typed(&mut a, "testing the list");
            key(&mut a, KeyCode::Enter);
        } else {
            key(&mut a, KeyCode::Char('y'));
        }
    }
    let Modal::Prompt(p) = &a.modal else {
        panic!("{:?} {:?}", a.modal, a.log)
    };
    assert_eq!(p.picker.as_ref().map(|k| k.items.len()), Some(2));
    key(&mut a, KeyCode::Char(' '));
    let Modal::Prompt(p) = &a.modal else {
        panic!("{:?}", a.modal)
    };
    assert_eq!(p.buffer, first);
    let screen = text(&draw(&mut a, 120, 40));
    assert!(
        screen.contains(&format!("› [x] {first}  Fix the add-on search — Ana")),
        "{screen}"
    );
}

/// Threads that read the repo or the services start only once the first frame is drawn, so
/// they never compete with it; work asked for later starts at once.
#[test]
fn background_work_waits_for_the_first_frame() {
    let (built, _) = app_with(None, Mode::Learn);
    let (tx, rx) = mpsc::channel();
    let mut a = App::with_previewer(built.engine, Mode::Learn, Theme::color(), tx);
    assert!(
        a.views.iter().all(|v| v.preview == "(reading…)"),
        "no preview is computed before the first frame"
    );
    assert!(rx.recv_timeout(Duration::from_millis(300)).is_err());
    a.first_frame_drawn();
    match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(pushduty::tui::Msg::Previews {
            generation,
            previews,
        }) => {
            a.on_previews(generation, previews);
            assert!(a.views.iter().all(|v| v.preview != "(reading…)"));
        }
        _ => panic!("the previews did not come after the first frame"),
    }
    let ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = ran.clone();
    a.after_first_frame(Box::new(move |_| {
        flag.store(true, std::sync::atomic::Ordering::SeqCst)
    }));
    assert!(ran.load(std::sync::atomic::Ordering::SeqCst));
}

#[test]
fn runbook_titles_with_control_and_bidi_characters_show_as_escapes() {
    let dir = tempfile::tempdir().unwrap();
    let rb = dir.path().join("hostile.toml");
    let text_of = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/runbooks/valid/shell-values.toml"),
    )
    .unwrap()
    .replace(
        "name = \"Shell values\"",
        r#"name = "Shell \u202Eseulav \u001b[2J""#,
    )
    .replace(
        "title = \"Only section\"",
        r#"title = "Only \u202Enoitces""#,
    )
    .replace(
        "title = \"Note the build\"",
        r#"title = "Note \u001b]0;owned\u0007the \u202Edliub""#,
    );
    std::fs::write(&rb, text_of).unwrap();
    let (mut a, _rx) = app_with(rb.to_str(), Mode::Run);
    for (w, h) in [(80, 24), (120, 40)] {
        let buf = draw(&mut a, w, h);
        let screen = text(&buf);
        let raw: Vec<char> = screen
            .chars()
            .filter(|c| (c.is_control() && *c != '\n') || ('\u{202a}'..='\u{202e}').contains(c))
            .collect();
        assert!(raw.is_empty(), "raw {raw:?} on screen:\n{screen}");
        for shown in ["Only \\u{202e}noitces", "Note \\u{1b}]0;owned"] {
            assert!(screen.contains(shown), "`{shown}` not on screen:\n{screen}");
        }
    }
    // The procedure's overview is titled with the runbook's name.
    key(&mut a, KeyCode::Char('i'));
    let screen = text(&draw(&mut a, 120, 40));
    assert!(
        screen.contains("Shell \\u{202e}seulav \\u{1b}[2J"),
        "{screen}"
    );
    assert!(!screen.contains(['\u{202e}', '\u{1b}']), "{screen}");
}

/// An approval given on the screen keeps what the panes showed then, with the push's facts.
#[test]
fn a_gate_approved_on_the_screen_keeps_what_the_panes_showed() {
    let (mut a, rx) = build_app(None, (2015, 9, 10), &["verify-stage"], Mode::Run);
    a.on_source(pushduty::tui::pane::SourceUpdate {
        pane: "blockers",
        result: Ok((
            "10:00".into(),
            vec!["#7 Search is down (olympia) https://github.com/mozilla/olympia/issues/7".into()],
        )),
    });
    a.selected = a
        .step_ids()
        .iter()
        .position(|s| s == "qa-approval")
        .unwrap();
    key(&mut a, KeyCode::Enter);
    key(&mut a, KeyCode::Char('y'));
    // Who approved, when (Enter: now), a note.
    typed(&mut a, "krupa");
    key(&mut a, KeyCode::Enter);
    key(&mut a, KeyCode::Enter);
    // No note.
    key(&mut a, KeyCode::Enter);
    wait_finished(&mut a, &rx);
    assert!(
        matches!(a.engine.status("qa-approval"), Status::Done { .. }),
        "{:?}",
        a.engine.status("qa-approval")
    );
    let seen = &a.engine.session.state.steps["qa-approval"].outputs["evidence"];
    let lines = pushduty::session::evidence::lines(seen);
    assert!(
        lines.contains(&"on screen: blockers: #7 Search is down (olympia) https://github.com/mozilla/olympia/issues/7".to_string()),
        "{lines:?}"
    );
    assert!(
        lines.contains(&"verify-stage: answered:".to_string()),
        "{lines:?}"
    );
    assert!(
        lines.contains(&"tag-master: not done yet".to_string()),
        "{lines:?}"
    );
}
