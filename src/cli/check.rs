//! `pushduty check`: all problems of the runbook (and the config) in one run.

use std::process::ExitCode;

use serde::Serialize;

use super::{Global, report};
use crate::diag::Diagnostics;
use crate::sanitize::{clean, clean_line};

/// `check --json`.
#[derive(Serialize)]
struct Json {
    ok: bool,
    /// The runbook's name and file, when it loaded.
    runbook: Option<String>,
    path: Option<String>,
    problems: Vec<Problem>,
}

/// One problem; `line` and `column` are `null` for a problem with no place in a file (a
/// `--set` value, a file that cannot be read).
#[derive(Serialize)]
struct Problem {
    path: String,
    line: Option<usize>,
    column: Option<usize>,
    message: String,
}

pub fn run(g: &Global, json: bool) -> ExitCode {
    let mut problems = Diagnostics::default();
    let loaded = g.load_runbook().map_err(|d| problems.extend(d)).ok();
    let config_problems = match &loaded {
        Some(l) => match g.load_config_for(&l.runbook) {
            Ok((_, warnings)) => {
                for w in warnings {
                    eprintln!("{}", clean(&w));
                }
                None
            }
            Err(d) => Some(d),
        },
        None => g.load_config().err(),
    };
    problems.extend(config_problems.unwrap_or_default());
    if json {
        return print_json(loaded.as_ref(), &problems);
    }
    match loaded {
        Some(l) if problems.is_empty() => {
            let rb = &l.runbook;
            println!(
                "{}: ok: `{}`, {} steps in {} sections, {} repos, {} services",
                clean_line(l.display_path()),
                clean_line(&rb.name),
                rb.steps.len(),
                rb.sections.len(),
                rb.repos.len(),
                rb.services.len()
            );
            ExitCode::SUCCESS
        }
        _ => {
            let n = problems.len();
            report(&problems);
            eprintln!("{n} problem{} found", if n == 1 { "" } else { "s" });
            ExitCode::from(1)
        }
    }
}

/// Every problem as JSON on stdout; the exit code is the text form's (1 when any).
fn print_json(loaded: Option<&crate::runbook::Loaded>, problems: &Diagnostics) -> ExitCode {
    let out = Json {
        ok: loaded.is_some() && problems.is_empty(),
        runbook: loaded.map(|l| l.runbook.name.clone()),
        path: loaded.map(|l| l.display_path().to_string()),
        problems: problems
            .0
            .iter()
            .map(|d| Problem {
                path: d.file.clone(),
                line: (d.line > 0).then_some(d.line),
                column: (d.line > 0).then_some(d.col),
                message: d.message.clone(),
            })
            .collect(),
    };
    match super::json_text(&out) {
        Ok(s) => println!("{s}"),
        Err(e) => return super::fail(&e),
    }
    if out.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
