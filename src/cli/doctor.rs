//! `pushduty doctor`: every remote, service, series and link the runbook names, read with the
//! operator's config, per item ok or what to fix. Reads only: no session, no journal, no log
//! file, no token printed.

use std::process::ExitCode;
use std::time::Duration;

use super::session::prepare;
use super::{Global, fail};
use crate::sanitize::clean;
use crate::services::Services;
use crate::services::http::block_on;

/// How long each check may take by default: all run at once, so `doctor` ends within about
/// this even when every service hangs.
pub const DEFAULT_TIMEOUT_SECS: f64 = 8.0;

pub fn run(g: &Global, as_json: bool, timeout_secs: f64) -> ExitCode {
    let (p, _) = match prepare(g, "doctor", false) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let rb = &p.loaded.runbook;
    let services = Services::resolve(rb, &p.config);
    let ctx = crate::plan::context(&p.loaded, &p.vars, &serde_json::Map::new());
    let limit = Duration::from_secs_f64(timeout_secs);
    let report = match block_on(crate::doctor::examine(
        rb, &p.config, &services, &ctx, limit,
    )) {
        Ok(r) => r,
        Err(e) => return fail(&e),
    };
    if as_json {
        match super::json_text(&report) {
            Ok(s) => println!("{s}"),
            Err(e) => return fail(&e),
        }
    } else {
        super::print_block(&clean(&report.text()));
    }
    if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// `--timeout`: seconds, above 0 and at most a minute.
pub fn parse_timeout(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 60.0 => Ok(v),
        _ => Err(format!("`{s}` is not a number of seconds between 0 and 60")),
    }
}
