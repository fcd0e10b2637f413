//! `pushduty report`: a push as it happened, from its journal, read without the lock (like
//! `show`), for this push or a past one.

use std::process::ExitCode;
use std::sync::Arc;

use indexmap::IndexMap;

use super::session::prepare;
use super::{Global, ReportArgs, fail};
use crate::engine::{Engine, NoEdit};
use crate::runbook::vars::Now;
use crate::sanitize::clean;
use crate::session::{self, Session, SessionState, journal};

pub fn run(g: &Global, args: &ReportArgs) -> ExitCode {
    // A past push's titles are filled in with that push's values: its date is `now`.
    let mut g = g.clone();
    if let Some(d) = &args.push_date
        && let Ok(date) = chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
    {
        g.now = Some(Now::Date(date));
    }
    // Read-only: a broken config must not hide what happened.
    let (p, _) = match prepare(&g, "run", true) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let state_dir = match g.state_dir() {
        Ok(d) => d,
        Err(e) => return fail(&e),
    };
    let slug = session::slug(&p.loaded.runbook.name);
    let push_date = args.push_date.clone().unwrap_or(p.vars.push_date.clone());
    let dir = session::session_dir(&state_dir, &slug, &push_date);
    let jpath = dir.join("journal.jsonl");
    if !jpath.exists() {
        let known: Vec<String> = session::history(&state_dir)
            .unwrap_or_default()
            .into_iter()
            .filter(|s| s.error.is_none() && session::slug(&s.runbook) == slug)
            .map(|s| s.push_date)
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
        return ExitCode::from(1);
    }
    let read = match journal::read(&jpath) {
        Ok(r) => r,
        Err(e) => return fail(&e),
    };
    let state = match SessionState::rebuild(&read.entries) {
        Ok(s) => s,
        Err(e) => return fail(&e.context(format!("reading the journal {}", jpath.display()))),
    };
    for w in &read.warnings {
        eprintln!("pushduty: {}", clean(w));
    }
    // Only for the steps as `run` sees them (items among them) and their titles filled in;
    // the report itself is the journal's state, not what the engine would make of it now.
    let engine = match Engine::new(
        p.loaded,
        p.vars,
        Session::in_memory(state.clone()),
        &p.operator,
        Arc::new(NoEdit),
        Arc::new(|_| {}),
    ) {
        Ok(e) => e,
        Err(e) => return fail(&e),
    };
    let ctx = engine.context();
    let rb = &engine.loaded.runbook;
    let titles: IndexMap<String, String> = rb
        .steps
        .iter()
        .map(|s| (s.id.clone(), crate::preview::fill(&s.title, &ctx)))
        .collect();
    let report = crate::report::build(&read.entries, &state, rb, &titles, read.warnings);
    if args.format == "json" {
        return match serde_json::to_string_pretty(&report) {
            Ok(s) => {
                println!("{s}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e.into()),
        };
    }
    super::print_block(&crate::report::markdown(&report, rb));
    ExitCode::SUCCESS
}
