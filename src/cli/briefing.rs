//! `pushduty briefing`: what changed since your last push of this runbook (steps added,
//! removed or changed; services that moved) and the one-off items of the pushes since. It
//! reads only; `run` shows the same once per push and journals it as seen.

use std::process::ExitCode;

use super::session::prepare_to_read;
use super::{Global, fail};
use crate::sanitize::clean_line;
use crate::session::{self, briefing};

pub fn run(g: &Global, json: bool) -> ExitCode {
    let (p, state_dir) = match prepare_to_read(g) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let found = briefing::brief(
        &state_dir,
        &session::slug(&p.loaded.runbook.name),
        &p.vars.push_date,
        &p.operator,
        &p.loaded.runbook,
    );
    if json {
        return match super::json_text(&serde_json::json!({ "briefing": found })) {
            Ok(s) => {
                println!("{s}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e),
        };
    }
    match found {
        Some(b) => {
            for l in b.lines() {
                println!("{}", clean_line(&l));
            }
        }
        None => println!(
            "{} has not pushed `{}` before the push of {}: nothing to compare with",
            clean_line(&p.operator),
            clean_line(&p.loaded.runbook.name),
            p.vars.push_date
        ),
    }
    ExitCode::SUCCESS
}
