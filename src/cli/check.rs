//! `pushduty check`: all problems of the runbook (and the config) in one run.

use std::process::ExitCode;

use super::{Global, report};
use crate::sanitize::clean_line;

pub fn run(g: &Global) -> ExitCode {
    let mut problems = crate::diag::Diagnostics::default();
    let loaded = g.load_runbook().map_err(|d| problems.extend(d)).ok();
    let config_problems = match &loaded {
        Some(l) => g.load_config_for(&l.runbook).err(),
        None => g.load_config().err(),
    };
    problems.extend(config_problems.unwrap_or_default());
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
