//! `pushduty render`: the runbook as a Markdown document.

use std::process::ExitCode;

use super::{Global, report};
use crate::sanitize::clean;

pub fn run(g: &Global) -> ExitCode {
    match g.load_runbook() {
        Ok(l) => {
            super::print_block(&clean(&crate::runbook::render::markdown(&l)));
            ExitCode::SUCCESS
        }
        Err(d) => report(&d),
    }
}
