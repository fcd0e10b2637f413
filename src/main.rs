use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = pushduty::cli::Cli::parse();
    if cli.command.is_offline() {
        // libgit2 loads the whole TLS trust store when it starts (about 20 ms, more than the
        // git work of `status` on a 100k-commit repo). Commands that open no connection point
        // it at an empty store instead.
        // SAFETY: no other thread exists yet, so nothing reads the environment concurrently.
        unsafe {
            std::env::set_var("SSL_CERT_FILE", "/dev/null");
            std::env::set_var("SSL_CERT_DIR", "/nonexistent");
        }
    }
    pushduty::cli::run(cli)
}
