//! `schema`: the runbook's JSON Schema on stdout.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;

use super::fail;

pub fn run() -> ExitCode {
    let schema = crate::runbook::schema::runbook_schema();
    let written = super::json_text(&schema)
        .context("encoding the schema")
        .and_then(|text| {
            writeln!(std::io::stdout(), "{text}").context("writing the schema to stdout")
        });
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}
