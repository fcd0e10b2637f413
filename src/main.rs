use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    pushduty::cli::run(pushduty::cli::Cli::parse())
}
