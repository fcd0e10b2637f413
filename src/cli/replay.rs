//! `pushduty learn --replay [PUSH_DATE]`: a past push stepped through from its journal, on the
//! learn screens (read-only: nothing runs, nothing is written, no credentials, no network), or
//! as JSON.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::mpsc;

use serde::Serialize;

use super::report::{Journal, pushes, read_past_from};
use super::{Global, fail};
use crate::report::{Report, Usual};
use crate::sanitize::clean;
use crate::tui::app::{App, Level, Mode};
use crate::tui::notifier;
use crate::tui::theme::Theme;

/// What `--replay` without a date means: the latest finished push.
pub const LATEST: &str = "latest";

/// `learn --replay --json`: the push as `report --json` has it, and how long each step
/// usually takes.
#[derive(Serialize)]
struct Json<'a> {
    #[serde(flatten)]
    report: &'a Report,
    durations: &'a BTreeMap<String, Usual>,
}

/// The push to replay: the date given, or the latest complete push (else the latest push, with
/// a notice saying it did not finish). `None` when there is no push at all (said on stderr).
fn pick(g: &Global, which: &str, from: &From) -> Result<(String, Option<String>), ExitCode> {
    if which != LATEST {
        return Ok((which.to_string(), None));
    }
    let loaded = g.load_runbook().map_err(|d| super::report(&d))?;
    let slug = crate::session::slug(&loaded.runbook.name);
    let all = match from {
        From::Here(state_dir) => pushes(state_dir, &slug),
        From::Log(held, store, _) => {
            let mut list: Vec<_> = held
                .iter()
                .filter(|h| h.slug == slug)
                .map(|h| h.summary(store))
                .filter(|s| s.error.is_none())
                .collect();
            crate::session::newest_first(&mut list);
            list.into_iter().map(|s| (s.push_date, s.outcome)).collect()
        }
    };
    if let Some((date, _)) = all.iter().find(|(_, outcome)| outcome == "complete") {
        return Ok((date.clone(), None));
    }
    match all.first() {
        Some((date, outcome)) => Ok((
            date.clone(),
            Some(format!(
                "no push of this runbook has finished: replaying the latest, {date} ({outcome})"
            )),
        )),
        None => {
            eprintln!(
                "pushduty: no push of {} to replay: none has a journal yet",
                clean(&loaded.runbook.name)
            );
            Err(ExitCode::from(1))
        }
    }
}

/// Where the pushes are read: this machine's state dir, or the team's push log (read once).
enum From {
    Here(std::path::PathBuf),
    /// The log's pushes, the log, and the slug of this runbook's.
    Log(
        Vec<crate::teamlog::past::Held>,
        crate::teamlog::Store,
        String,
    ),
}

impl From {
    fn open(g: &Global, from_log: bool) -> Result<Self, ExitCode> {
        if !from_log {
            return g.state_dir().map(From::Here).map_err(|e| fail(&e));
        }
        let (p, _) = super::session::prepare(g, "run", true)?;
        let store = super::push_log::store(g, &p)?;
        let held = crate::teamlog::past::pushes(&store).map_err(|e| fail(&e))?;
        let slug = crate::session::slug(&p.loaded.runbook.name);
        Ok(From::Log(held, store, slug))
    }

    /// Where the push of `date` is read: the log's journal as read already, not fetched again.
    fn journal(&self, date: &str) -> Journal {
        let From::Log(held, _, slug) = self else {
            return Journal::Here;
        };
        held.iter()
            .find(|h| h.push_date == date && &h.slug == slug)
            .and_then(|h| h.entries.as_ref().ok())
            .map_or(Journal::Log, |e| Journal::FromLog(e.clone()))
    }

    /// How long each step of the runbook `slug` usually takes, over the same pushes.
    fn usual(&self, slug: &str) -> BTreeMap<String, Usual> {
        match self {
            From::Here(d) => crate::session::usual_durations(d, slug),
            From::Log(held, ..) => crate::teamlog::past::usual(held, slug),
        }
    }
}

pub fn run(g: &Global, which: &str, json: bool, from_log: bool) -> ExitCode {
    let from = match From::open(g, from_log) {
        Ok(f) => f,
        Err(code) => return code,
    };
    let (date, picked) = match pick(g, which, &from) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let (tx, rx) = mpsc::channel();
    let past = match read_past_from(g, Some(&date), notifier(tx.clone()), from.journal(&date)) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let durations = from.usual(&crate::session::slug(&past.engine.loaded.runbook.name));
    if json {
        for n in picked.iter().chain(&past.notices) {
            eprintln!("pushduty: {}", clean(n));
        }
        let out = Json {
            report: &past.report,
            durations: &durations,
        };
        return match super::json_text(&out) {
            Ok(s) => {
                println!("{s}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e),
        };
    }
    let app = App::with_previewer(past.engine, Mode::Learn, Theme::from_env(), tx.clone());
    let mut app = replaying(app, past.report, durations);
    for n in picked.iter().chain(&past.notices) {
        app.log(Level::Warn, n.clone());
    }
    if let Err(e) = super::run::watch_signals(&tx) {
        return fail(&e);
    }
    // The desk (opener, links) as configured; a config that cannot be read leaves the defaults.
    let desk = g
        .load_config()
        .map(|c| crate::tui::desk::Desk::from_config(&c))
        .unwrap_or_else(|_| crate::tui::desk::Desk::from_config(&crate::config::Config::default()));
    super::run::read_only(app, tx, rx, desk)
}

/// Learn mode's app over a past push: its checklist as the push left it, and each step's runs,
/// skips and reopens in its details.
pub fn replaying(mut app: App, report: Report, usual: BTreeMap<String, Usual>) -> App {
    app.log(
        Level::Info,
        format!(
            "replaying the push of {}: {} ({} of {} steps finished); each step's details say what it did",
            report.push_date, report.outcome, report.done, report.total
        ),
    );
    app.usual = usual;
    app.replay = Some(report);
    app
}
