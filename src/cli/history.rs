//! `pushduty history`: past and current sessions from the state dir, and how long each step of
//! the runbook usually takes.

use std::collections::BTreeMap;
use std::process::ExitCode;

use serde::Serialize;

use super::{Global, fail};
use crate::report::Usual;
use crate::sanitize::{clean, clean_line};
use crate::session::Summary;

/// `history --json`.
#[derive(Serialize)]
struct Json<'a> {
    /// The runbook the durations are of (`null` when it could not be read).
    runbook: Option<String>,
    sessions: &'a [Summary],
    /// Per step of that runbook: the median of its finished runs over every readable push.
    durations: BTreeMap<String, Usual>,
}

pub fn run(g: &Global, json: bool, from_log: bool) -> ExitCode {
    if from_log {
        return in_the_log(g, json);
    }
    let state_dir = match g.state_dir() {
        Ok(d) => d,
        Err(e) => return fail(&e),
    };
    let list = match crate::session::history(&state_dir) {
        Ok(l) => l,
        Err(e) => return fail(&e),
    };
    if json {
        // The sessions are listed whatever the runbook's state; only the durations need it.
        let runbook = match g.load_runbook() {
            Ok(l) => Some(l.runbook.name),
            Err(d) => {
                eprintln!(
                    "pushduty: warning: no durations, the runbook does not load:\n{}",
                    clean(&d.shown())
                );
                None
            }
        };
        let durations = runbook.as_deref().map_or_else(BTreeMap::new, |name| {
            crate::session::usual_durations(&state_dir, &crate::session::slug(name))
        });
        return print(&list, json, runbook, durations);
    }
    print(&list, json, None, BTreeMap::new())
}

/// The pushes in the team's push log (every runbook's), newest first; the durations are how
/// long the runbook's steps usually took over the log's pushes of it.
fn in_the_log(g: &Global, json: bool) -> ExitCode {
    let read = super::session::prepare(g, "run", true).and_then(|(p, _)| {
        let store = super::push_log::store(g, &p)?;
        let held = crate::teamlog::past::pushes(&store).map_err(|e| fail(&e))?;
        Ok((p, store, held))
    });
    let (p, store, held) = match read {
        Ok(x) => x,
        Err(code) => return code,
    };
    let slug = crate::session::slug(&p.loaded.runbook.name);
    let durations = crate::teamlog::past::usual(&held, &slug);
    let mut list: Vec<Summary> = held.iter().map(|h| h.summary(&store)).collect();
    crate::session::newest_first(&mut list);
    print(&list, json, Some(p.loaded.runbook.name), durations)
}

/// The sessions as a table, or as JSON with the runbook's usual durations.
fn print(
    list: &[Summary],
    json: bool,
    runbook: Option<String>,
    durations: BTreeMap<String, Usual>,
) -> ExitCode {
    if json {
        let out = Json {
            runbook,
            sessions: list,
            durations,
        };
        return match super::json_text(&out) {
            Ok(s) => {
                println!("{s}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e),
        };
    }
    if list.is_empty() {
        println!("no sessions yet");
        return ExitCode::SUCCESS;
    }
    println!(
        "{:<10}  {:<24}  {:<12}  {:>7}  {:<12}  STARTED",
        "PUSH DATE", "RUNBOOK", "OPERATOR", "DONE", "OUTCOME"
    );
    for s in list {
        // Journals are data: a name or a runbook title must not steer the terminal.
        println!(
            "{:<10}  {:<24}  {:<12}  {:>7}  {:<12}  {}",
            clean_line(&s.push_date),
            clean_line(&s.runbook),
            clean_line(&s.operator),
            format!("{}/{}", s.done, s.total),
            clean_line(&s.outcome),
            clean_line(&crate::words::when_here(&s.started))
        );
    }
    ExitCode::SUCCESS
}
