//! `pushduty follow`: the push live from the team's push log on the learn screens (nothing
//! runs, nothing is written; the log is fetched, and the panes read the services with the
//! follower's own credentials), and the same source on a `run` screen, where it watches the
//! driver's seat.

use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Duration;

use indexmap::IndexMap;

use super::session::prepare;
use super::{Global, fail};
use crate::teamlog::PushLog;
use crate::tui::app::{App, Following, Level};
use crate::tui::{self, Msg};

/// Opens the follower's screen: the push as the log has it, read every `interval`.
pub fn screen(g: &Global, interval: Duration) -> ExitCode {
    let (p, notice) = match prepare(g, "learn", false) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let log = match super::push_log::open_for(g, &p) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let (tx, rx) = mpsc::channel();
    // The repos' pane as learn shows it: read from the follower's own checkouts, never fetched.
    let git = super::run::start_git(&p, &tx, None);
    let desk = tui::desk::Desk::from_config(&p.config);
    // The panes read the services with the follower's own credentials, only reading.
    let services = crate::services::Services::resolve(&p.loaded.runbook, &p.config);
    let mut app = match super::run::learn_app(p, tx.clone()) {
        Ok(a) => a,
        Err(e) => return fail(&e),
    };
    app.engine.use_services(services);
    app.engine.live_clock = g.now.is_none();
    if let Some(n) = notice {
        app.log(Level::Warn, n);
    }
    if let Err(e) = super::run::watch_signals(&tx) {
        return fail(&e);
    }
    super::run::watch_git(&mut app, git);
    super::run::start_jenkins(&mut app, &tx);
    super::run::start_health(&mut app, &tx);
    super::run::start_blockers(&mut app, &tx);
    app.log(
        Level::Info,
        format!(
            "following the push in the team's push log ({}), read every {}s: nothing is run \
             or written here; Enter shows what a step does",
            log.describe(),
            interval.as_secs()
        ),
    );
    let titles = super::push_log::titles(&app.engine);
    watch(&mut app, log, interval, titles, &tx);
    then(g, super::run::read_only_until(app, tx, rx, desk))
}

/// What follows a screen: the seat taken and `run` opened when `T` ended it, else its exit.
pub(super) fn then(g: &Global, ended: anyhow::Result<tui::Ended>) -> ExitCode {
    match ended {
        Ok(tui::Ended {
            exit_code: None,
            take_over: Some(reason),
        }) => drive(g, &reason),
        ended => super::run::exit_code(ended),
    }
}

/// `T` on the follower's screen, or on a `run` screen whose seat was taken: the seat is
/// taken as `pushduty takeover` takes it (what it took in is said on the terminal, where it
/// stays after the screen), then the push opens in `run` here. A refused takeover ends with
/// its error, and nothing was written.
fn drive(g: &Global, reason: &str) -> ExitCode {
    eprintln!("pushduty: taking the driver's seat in the team's push log…");
    let taken = super::push_log::takeover(g, reason);
    if taken != ExitCode::SUCCESS {
        return taken;
    }
    super::run::run(g)
}

/// Reads `log` for `app` every `interval` off the UI thread: the screen hears only of a
/// change. The source ends with the screen.
pub fn watch(
    app: &mut App,
    log: PushLog,
    interval: Duration,
    titles: IndexMap<String, String>,
    tx: &mpsc::Sender<Msg>,
) {
    app.following = Some(Following::new(
        log.describe(),
        interval.as_secs(),
        log.me().clone(),
    ));
    let rb = app.engine.loaded.runbook.clone();
    let tx = tx.clone();
    let poke = crate::sources::follow::spawn(log, interval, rb, titles, move |u| {
        tx.send(Msg::Followed(Box::new(u))).is_ok()
    });
    // The source lives as long as the app holds this: dropped, it would read once and end.
    app.refresh.push((crate::tui::app::PUSH_LOG, poke));
}
