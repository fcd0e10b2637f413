//! `pushduty render`: the runbook as a Markdown document, or (`--json`) as the loaded model.

use std::process::ExitCode;

use super::{Global, fail, report};
use crate::sanitize::clean;

pub fn run(g: &Global, json: bool) -> ExitCode {
    match g.load_runbook() {
        // The runbook as loaded: the format's own keys, defaults filled in.
        Ok(l) if json => match super::json_text(&l.runbook) {
            Ok(s) => {
                println!("{s}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e),
        },
        Ok(l) => {
            super::print_block(&clean(&crate::render::markdown(&l)));
            ExitCode::SUCCESS
        }
        Err(d) => report(&d),
    }
}
