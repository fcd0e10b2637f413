//! `pushduty run` (the interactive push) and `pushduty learn` (the same screens, read-only).

use std::process::ExitCode;
use std::sync::{Arc, mpsc};

use super::session::{notices, open_engine, prepare};
use super::{Global, fail, signals};
use crate::engine::Engine;
use crate::tui::app::{App, Level, Mode};
use crate::tui::theme::Theme;
use crate::tui::{self, Editing, TuiConsole, notifier};
use std::sync::atomic::AtomicBool;

pub fn run(g: &Global) -> ExitCode {
    let (p, config_warnings) = match prepare(g, "run", false) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let editor = crate::engine::editor::editor(p.config.editor.as_deref());
    let desk = tui::desk::Desk::from_config(&p.config);
    let (tx, rx) = mpsc::channel();
    let git = start_git(&p, &tx, p.config.background_fetch());
    // The seat is watched on a log of its own: the engine's is busy with the steps.
    let seat = super::push_log::watcher(g, &p);
    let console = Arc::new(TuiConsole(tx.clone()));
    let (engine, opened) = match open_engine(g, p, console, notifier(tx.clone())) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let dir = engine
        .session
        .dir()
        .map_or_else(std::env::temp_dir, std::path::Path::to_path_buf);
    let mut app = App::with_previewer(engine, Mode::Run, Theme::from_env(), tx.clone());
    // The screen never waits for the team's push log: results go on a thread of their own.
    app.engine.background_log = true;
    app.long_step_secs = desk.long_step_secs;
    brief(g, &mut app);
    read_usual_durations(g, &mut app);
    let stopping = match watch_signals(&tx) {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    watch_git(&mut app, git);
    start_jenkins(&mut app, &tx);
    start_health(&mut app, &tx);
    start_blockers(&mut app, &tx);
    if let Some(log) = seat {
        let titles = super::push_log::titles(&app.engine);
        let every = crate::sources::follow::INTERVAL;
        super::follow::watch(&mut app, log, every, titles, &tx);
    }
    let resumed = opened
        .resumed
        .then(|| "resumed the session of this push".to_string());
    for n in resumed
        .into_iter()
        .chain(notices(&opened))
        .chain(config_warnings)
    {
        app.log(Level::Warn, n);
    }
    if app.log.is_empty() {
        app.log(
            Level::Info,
            "new session: Enter on a step shows what it will do",
        );
    }
    let ended = tui::run(
        app,
        tx,
        rx,
        Editing {
            editor,
            dir,
            stopping,
            desk,
        },
    );
    // A background fetch in flight does not outlive the screen it was for.
    crate::git::quiet_fetch::end_running();
    // The seat was taken from this screen, and `T` may take it back.
    super::follow::then(g, ended)
}

/// Who hears stopping signals: the open screen's channel and its stopping flag.
struct Hearer {
    watching: bool,
    screen: Option<(mpsc::Sender<tui::Msg>, Arc<AtomicBool>)>,
}

static HEARER: std::sync::Mutex<Hearer> = std::sync::Mutex::new(Hearer {
    watching: false,
    screen: None,
});

/// Stopping signals go to the TUI's loop, which restores the terminal before exiting. The
/// flag returned is set first: while the editor has the terminal the loop waits for it, so
/// the editor is ended on the flag.
///
/// One signal thread per process hears for the screen open now: `follow` hands over to
/// `run` in the same process, and a second thread would exit on the first screen's closed
/// channel. Between screens a signal finds that channel closed and exits at once.
pub fn watch_signals(tx: &mpsc::Sender<tui::Msg>) -> anyhow::Result<Arc<AtomicBool>> {
    let stopping = Arc::new(AtomicBool::new(false));
    let mut hearer = HEARER
        .lock()
        .map_err(|_| anyhow::anyhow!("the signal thread's state was poisoned"))?;
    hearer.screen = Some((tx.clone(), stopping.clone()));
    if !hearer.watching {
        signals::watch(Arc::new(AtomicBool::new(true)), |s| {
            let Ok(hearer) = HEARER.lock() else {
                return false;
            };
            let Some((tx, flag)) = hearer.screen.as_ref() else {
                return false;
            };
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
            tx.send(tui::Msg::Signal {
                name: s.name(),
                code: s.exit_code(),
            })
            .is_ok()
        })?;
        hearer.watching = true;
    }
    Ok(stopping)
}

/// Builds learn mode's app: a session in memory only, nothing opened on disk.
pub fn learn_app(p: super::session::Prepared, tx: mpsc::Sender<tui::Msg>) -> anyhow::Result<App> {
    let engine = Engine::in_memory(p.loaded, p.vars, &p.operator, notifier(tx.clone()))?;
    Ok(App::with_previewer(
        engine,
        Mode::Learn,
        Theme::from_env(),
        tx,
    ))
}

pub fn learn(g: &Global) -> ExitCode {
    let (p, notice) = match prepare(g, "learn", true) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let (tx, rx) = mpsc::channel();
    // Reading the repos is read-only, so learn mode shows them too when a checkout is set;
    // it never fetches: learn mode opens no connection.
    let git = start_git(&p, &tx, None);
    let desk = tui::desk::Desk::from_config(&p.config);
    let mut app = match learn_app(p, tx.clone()) {
        Ok(a) => a,
        Err(e) => return fail(&e),
    };
    app.engine.live_clock = g.now.is_none();
    read_usual_durations(g, &mut app);
    if let Some(n) = notice {
        app.log(Level::Warn, n);
    }
    if let Err(e) = watch_signals(&tx) {
        return fail(&e);
    }
    watch_git(&mut app, git);
    app.log(
        Level::Info,
        "learn mode: Enter shows what a step would do and why",
    );
    read_only(app, tx, rx, desk)
}

/// Runs a read-only screen (learn, a replay): no editor, nothing kept.
pub fn read_only(
    app: App,
    tx: mpsc::Sender<tui::Msg>,
    rx: mpsc::Receiver<tui::Msg>,
    desk: tui::desk::Desk,
) -> ExitCode {
    exit_code(read_only_until(app, tx, rx, desk))
}

/// A read-only screen, and how it ended (`follow`'s may end asking for the seat).
pub fn read_only_until(
    app: App,
    tx: mpsc::Sender<tui::Msg>,
    rx: mpsc::Receiver<tui::Msg>,
    desk: tui::desk::Desk,
) -> anyhow::Result<tui::Ended> {
    let editing = Editing {
        editor: String::new(),
        dir: std::env::temp_dir(),
        stopping: Arc::default(),
        desk,
    };
    tui::run(app, tx, rx, editing)
}

/// The process's exit code for how the screen ended: a signal's code, or a failure's.
pub fn exit_code(ended: anyhow::Result<tui::Ended>) -> ExitCode {
    match ended {
        Ok(tui::Ended {
            exit_code: Some(code),
            ..
        }) => ExitCode::from(code),
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

/// How long each step of the runbook usually takes, from the journals of its pushes (read
/// only; none yet, or no state dir, is simply no "usually takes" line). Read once the first
/// frame is on screen: a state dir holds a journal per past push, and reading them all must
/// not hold up the first frame.
fn read_usual_durations(g: &Global, app: &mut App) {
    let Ok(dir) = g.state_dir() else {
        return;
    };
    let slug = crate::session::slug(&app.engine.loaded.runbook.name);
    app.after_first_frame(Box::new(move |app: &mut App| {
        app.usual = crate::session::usual_durations(&dir, &slug);
    }));
}

/// Starts the git pane's source as soon as the repos are known, before the session is
/// opened and the first frame drawn: its first read (the longest on a big repository)
/// overlaps both, and its answer waits in the loop's channel. `None` without a checkout.
/// `fetch_every`: how often each branch is fetched in the background (`None`: never).
pub fn start_git(
    p: &super::session::Prepared,
    tx: &mpsc::Sender<tui::Msg>,
    fetch_every: Option<std::time::Duration>,
) -> Option<GitPoke> {
    let specs = git_specs(&p.vars);
    if specs.is_empty() {
        return None;
    }
    let source = crate::sources::git::GitSource {
        specs,
        format: p.loaded.calendar.tag_format.clone(),
        push_date: chrono::NaiveDate::parse_from_str(&p.vars.push_date, "%Y-%m-%d").ok(),
        fetch_every,
    };
    let tx = tx.clone();
    Some(GitPoke(source.spawn(
        crate::sources::git::INTERVAL,
        move |result| {
            tx.send(tui::Msg::Source(tui::pane::SourceUpdate {
                pane: "git",
                result,
            }))
            .is_ok()
        },
    )))
}

/// Asks the git source for a new read (after a git step).
pub struct GitPoke(mpsc::Sender<()>);

/// The repos with a checkout, as the git pane reads them.
fn git_specs(vars: &crate::runbook::vars::Vars) -> Vec<crate::git::RepoSpec> {
    vars.repos
        .values()
        .filter_map(|r| {
            Some(crate::git::RepoSpec {
                name: r.name.clone(),
                path: r.path.clone()?.into(),
                github: Some(r.github.clone()),
                remote: r.remote.clone(),
                branch: r.branch.clone(),
            })
        })
        .collect()
}

/// Marks the git pane as loading and lets git steps poke its source.
pub fn watch_git(app: &mut App, git: Option<GitPoke>) {
    let Some(GitPoke(poke)) = git else {
        return;
    };
    if let Some(p) = app.panes.iter_mut().find(|p| p.name == "git") {
        p.state = tui::pane::SourceState::Loading;
    }
    app.refresh.push(("git", poke));
}

/// Starts the Jenkins pane's source when the runbook has Jenkins services (run mode only:
/// learn mode opens no connection).
pub(super) fn start_jenkins(app: &mut App, tx: &mpsc::Sender<tui::Msg>) {
    let confs: Vec<_> = app
        .engine
        .services
        .0
        .values()
        .filter_map(|s| match s {
            crate::services::Resolved::Jenkins(c) => Some(c.clone()),
            _ => None,
        })
        .collect();
    if confs.is_empty() {
        return;
    }
    spawn_pane(
        app,
        tx,
        "jenkins",
        crate::sources::jenkins::pace,
        move || crate::sources::jenkins::snapshot(&confs),
    );
}

/// Starts the Sentry and metrics panes' sources (run mode only: learn mode opens no
/// connection). Their windows follow the first watch step of each service.
pub(super) fn start_health(app: &mut App, tx: &mpsc::Sender<tui::Msg>) {
    use crate::services::Resolved;
    use crate::sources::health::{self, Timing};
    app.push_moment.set(app.engine.push_moment());
    let began = chrono::DateTime::parse_from_rfc3339(&app.engine.session.state.started)
        .map_or_else(|_| chrono::Utc::now().timestamp(), |t| t.timestamp());
    let services: Vec<Resolved> = app.engine.services.0.values().cloned().collect();
    let timing = |app: &App, name: &str| {
        let (soak_secs, baseline_secs) = app.engine.watch_windows(name);
        Timing {
            push: app.push_moment.clone(),
            began,
            soak_secs,
            baseline_secs,
        }
    };
    let sentry: Vec<_> = services
        .iter()
        .filter_map(|s| match s {
            Resolved::Sentry(c) if c.client().is_ok() => Some(c.clone()),
            _ => None,
        })
        .collect();
    let metrics: Vec<_> = services
        .iter()
        .filter_map(|s| match s {
            Resolved::Metrics(c) => Some(c.clone()),
            _ => None,
        })
        .collect();
    if let Some(first) = sentry.first() {
        let t = timing(app, &first.name);
        let backoff = std::sync::Mutex::new(health::Backoff::default());
        spawn_pane(
            app,
            tx,
            "sentry",
            |_| health::INTERVAL,
            move || health::sentry_snapshot(&sentry, &t, &backoff),
        );
    }
    if let Some(first) = metrics.first() {
        let t = timing(app, &first.name);
        spawn_pane(
            app,
            tx,
            "metrics",
            |_| health::INTERVAL,
            move || health::metrics_snapshot(&metrics, &t),
        );
    }
}

/// Starts the blockers pane's source when a `github.blockers` step reads a configured GitHub
/// service (run mode only: learn mode opens no connection).
pub(super) fn start_blockers(app: &mut App, tx: &mpsc::Sender<tui::Msg>) {
    use crate::sources::blockers;
    let targets: Vec<_> = blockers::targets(&app.engine.loaded.runbook, &app.engine.services)
        .into_iter()
        .filter(|t| t.conf.client().is_ok())
        .collect();
    if targets.is_empty() {
        return;
    }
    let backoff = std::sync::Mutex::new(blockers::Backoff::default());
    spawn_pane(
        app,
        tx,
        "blockers",
        |_| blockers::INTERVAL,
        move || blockers::snapshot(&targets, &backoff),
    );
}

/// Polls `read` for pane `pane` on its own thread, marking the pane as loading first; `pace`
/// says how long to wait after each read.
fn spawn_pane(
    app: &mut App,
    tx: &mpsc::Sender<tui::Msg>,
    pane: &'static str,
    pace: impl Fn(&Result<Vec<String>, String>) -> std::time::Duration + Send + 'static,
    read: impl Fn() -> Result<Vec<String>, String> + Send + 'static,
) {
    if let Some(p) = app.panes.iter_mut().find(|p| p.name == pane) {
        p.state = tui::pane::SourceState::Loading;
    }
    let tx = tx.clone();
    // Services are slower than a frame anyway: their first poll waits for it.
    app.after_first_frame(Box::new(move |app: &mut App| {
        let poke = crate::sources::spawn_paced_poller(pane, pace, read, move |result| {
            tx.send(tui::Msg::Source(tui::pane::SourceUpdate { pane, result }))
                .is_ok()
        });
        app.refresh.push((pane, poke));
    }));
}

/// A hero back after other pushes sees first what changed since theirs, once per push. The
/// sessions are read once the first frame is on screen, as the usual durations are.
fn brief(g: &Global, app: &mut App) {
    if app.engine.session.state.briefed {
        return;
    }
    let Ok(state_dir) = g.state_dir() else {
        return;
    };
    app.after_first_frame(Box::new(move |app: &mut App| {
        let engine = &app.engine;
        let found = crate::session::briefing::brief(
            &state_dir,
            &engine.session.state.slug,
            &engine.session.state.push_date,
            &engine.operator,
            &engine.loaded.runbook,
        );
        // Not over a dialog the hero opened meanwhile.
        if let Some(b) = found.filter(|b| !b.is_empty())
            && app.modal == tui::app::Modal::None
        {
            app.modal = tui::app::Modal::Briefing {
                since: b.since.clone(),
                lines: b.lines(),
            };
        }
    }));
}
