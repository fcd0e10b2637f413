//! The command line through the real binary, with no service behind it: `check`, `plan`,
//! `render`, `do`, `run --auto`, `status`, `add`/`report`, the day rule, trust, shell values,
//! hostile input, completions/man/schema/log; and loading any runbook text without a panic.

#[path = "../support/mod.rs"]
mod support;

mod cli_auto;
mod cli_check;
mod cli_days;
mod cli_hostile;
mod cli_items;
mod cli_man;
mod cli_plan;
mod cli_session;
mod cli_status;
mod config_per_runbook;
mod ecosystem;
mod fuzz_runbook;
mod robustness;
mod shell_values;
mod tags_made;
mod trust;
