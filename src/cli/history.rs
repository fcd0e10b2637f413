//! `pushduty history`: past and current sessions from the state dir.

use std::process::ExitCode;

use super::{Global, fail};
use crate::sanitize::clean_line;

pub fn run(g: &Global, json: bool) -> ExitCode {
    let list = match g.state_dir().and_then(|d| crate::session::history(&d)) {
        Ok(l) => l,
        Err(e) => return fail(&e),
    };
    if json {
        match serde_json::to_string_pretty(&list) {
            Ok(s) => println!("{s}"),
            Err(e) => return fail(&e.into()),
        }
        return ExitCode::SUCCESS;
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
            clean_line(&s.started)
        );
    }
    ExitCode::SUCCESS
}
