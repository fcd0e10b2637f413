//! `pushduty report`: a push as it happened, from its journal, read without the lock (like
//! `show`), for this push or a past one. `learn --replay` reads a past push the same way.

use std::process::ExitCode;
use std::sync::Arc;

use indexmap::IndexMap;

use super::session::prepare;
use super::{Global, ReportArgs, fail};
use crate::engine::{Engine, NoEdit, Notify};
use crate::report::Report;
use crate::runbook::vars::Now;
use crate::sanitize::clean;
use crate::session::{self, Session, SessionState, journal};

/// A push read back from its journal: the engine over its state (in memory, nothing written),
/// the report added up from it, and notices for the operator (journal lines passed over, a
/// config not used).
pub struct Past {
    pub engine: Engine,
    pub report: Report,
    pub notices: Vec<String>,
}

/// The pushes of the runbook `slug` that have a readable journal, newest first, with their
/// outcome.
pub fn pushes(state_dir: &std::path::Path, slug: &str) -> Vec<(String, String)> {
    session::history(state_dir)
        .unwrap_or_default()
        .into_iter()
        .filter(|s| s.error.is_none() && session::slug(&s.runbook) == slug)
        .map(|s| (s.push_date, s.outcome))
        .collect()
}

/// Reads the push of `push_date` (default: this push) of the runbook. A push without a
/// journal is an error exit that names the pushes there are.
pub fn read_past(g: &Global, push_date: Option<&str>, notify: Notify) -> Result<Past, ExitCode> {
    read_past_from(g, push_date, notify, Journal::Here)
}

/// Where a past push's journal is read.
pub enum Journal {
    /// This machine's state dir.
    Here,
    /// The team's push log, fetched now.
    Log,
    /// The team's push log, as read already.
    FromLog(Vec<journal::Entry>),
}

/// [`read_past`], from the team's push log as `from` says (any machine with read access
/// reads a push there, whoever drove it).
pub fn read_past_from(
    g: &Global,
    push_date: Option<&str>,
    notify: Notify,
    from: Journal,
) -> Result<Past, ExitCode> {
    // A past push's titles are filled in with that push's values: its date is `now`.
    let mut g = g.clone();
    if let Some(d) = push_date
        && let Ok(date) = chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
    {
        g.now = Some(Now::Date(date));
    }
    // Read-only: a broken config must not hide what happened.
    let (p, notice) = prepare(&g, "run", true)?;
    let state_dir = g.state_dir().map_err(|e| fail(&e))?;
    let slug = session::slug(&p.loaded.runbook.name);
    let push_date = push_date.map_or(p.vars.push_date.clone(), str::to_string);
    let dir = session::session_dir(&state_dir, &slug, &push_date);
    let jpath = dir.join("journal.jsonl");
    let in_log = "the team's push log".to_string();
    let (entries, warnings, whence) = if let Journal::FromLog(entries) = from {
        (entries, Vec::new(), in_log)
    } else if let Journal::Log = from {
        let entries = super::push_log::entries(&g, &p, &push_date)?;
        (entries, Vec::new(), in_log)
    } else if !jpath.exists() {
        let known: Vec<String> = pushes(&state_dir, &slug)
            .into_iter()
            .map(|(date, _)| date)
            .collect();
        eprintln!(
            "pushduty: no session of the push of {push_date} of {}; {}",
            clean(&p.loaded.runbook.name),
            if known.is_empty() {
                "there is none yet".to_string()
            } else {
                format!("pushes with a journal: {}", known.join(", "))
            }
        );
        return Err(ExitCode::from(1));
    } else {
        let read = journal::read(&jpath).map_err(|e| fail(&e))?;
        (read.entries, read.warnings, jpath.display().to_string())
    };
    let state = SessionState::rebuild(&entries)
        .map_err(|e| fail(&e.context(format!("reading the journal {whence}"))))?;
    // Only for the steps as `run` sees them (items among them) and their titles filled in;
    // the report itself is the journal's state, not what the engine would make of it now.
    let mut engine = Engine::new(
        p.loaded,
        p.vars,
        Session::in_memory(state.clone()),
        &p.operator,
        Arc::new(NoEdit),
        notify,
    )
    .map_err(|e| fail(&e))?;
    // As it was, not as it would be judged now: today's config or overrides (another pad,
    // another tag) must not put the past push's done steps back to pending on screen.
    engine.session.state = state.clone();
    let ctx = engine.context();
    let rb = &engine.loaded.runbook;
    let titles: IndexMap<String, String> = rb
        .steps
        .iter()
        .map(|s| (s.id.clone(), crate::preview::fill(&s.title, &ctx)))
        .collect();
    let mut notices: Vec<String> = notice.into_iter().collect();
    notices.extend(warnings.iter().cloned());
    let report = crate::report::build(&entries, &state, rb, &titles, warnings);
    Ok(Past {
        engine,
        report,
        notices,
    })
}

pub fn run(g: &Global, args: &ReportArgs) -> ExitCode {
    let past = match read_past_from(
        g,
        args.push_date.as_deref(),
        Arc::new(|_| {}),
        if args.from_log {
            Journal::Log
        } else {
            Journal::Here
        },
    ) {
        Ok(p) => p,
        Err(code) => return code,
    };
    for w in &past.report.warnings {
        eprintln!("pushduty: {}", clean(w));
    }
    if args.format == "json" || args.json {
        return match super::json_text(&past.report) {
            Ok(s) => {
                println!("{s}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e),
        };
    }
    super::print_block(&crate::report::markdown(
        &past.report,
        &past.engine.loaded.runbook,
    ));
    ExitCode::SUCCESS
}
