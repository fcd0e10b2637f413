use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = pushduty::cli::Cli::parse();
    #[cfg(unix)]
    if cli.command.only_prints() {
        // Rust ignores SIGPIPE, so `pushduty plan | head -1` would panic on the closed pipe.
        // A command that only prints ends quietly instead, as `cat` does. Commands that run
        // steps keep it ignored: a step's pipe closing must not kill the session.
        // SAFETY: no other thread exists yet; restoring a default disposition is sound.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    if cli.command.is_offline() {
        // libgit2 loads the whole TLS trust store when it starts (about 20 ms, more than the
        // git work of `status` on a 100k-commit repo). Commands that open no git connection
        // point it at an empty store instead; the HTTP client (rustls) has roots of its own.
        // SAFETY: no other thread exists yet, so nothing reads the environment concurrently.
        unsafe {
            std::env::set_var("SSL_CERT_FILE", "/dev/null");
            std::env::set_var("SSL_CERT_DIR", "/nonexistent");
        }
    }
    pushduty::cli::run(cli)
}
