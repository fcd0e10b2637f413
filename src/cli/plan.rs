//! `pushduty plan`: the session as it would start now.

use std::process::ExitCode;

use super::{Global, fail};
use crate::git::tags::checkout_release_tags;
use crate::runbook::vars::Vars;
use crate::sanitize::clean;

pub fn run(g: &Global, json: bool) -> ExitCode {
    let (loaded, config) = match g.load_both() {
        Ok(x) => x,
        Err(code) => return code,
    };
    let operator = config.operator(g.operator.as_deref());
    let vars = match Vars::compute(
        &loaded,
        &config,
        g.now(),
        &operator,
        "plan",
        &checkout_release_tags,
    ) {
        Ok(v) => v,
        Err(e) => return fail(&e),
    };
    let plan = crate::plan::plan(&loaded, &vars);
    if json {
        match super::json_text(&plan) {
            Ok(s) => println!("{s}"),
            Err(e) => return fail(&e),
        }
    } else {
        super::print_block(&clean(&plan.to_text()));
    }
    ExitCode::SUCCESS
}
