use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = pushduty::cli::Cli::parse();
    #[cfg(unix)]
    if cli.command.only_prints() {
        // Rust ignores SIGPIPE, so `pushduty plan | head -1` would panic on the closed pipe.
        // A command that only prints ends quietly instead, as `cat` does. Commands that run
        // steps keep it ignored: a step's pipe closing must not kill the session.
        // SAFETY: no other thread exists yet.
        unsafe {
            pushduty_platform::signals::default_sigpipe();
        }
    }
    // SAFETY: no other thread exists yet, so nothing uses libgit2 concurrently.
    unsafe {
        pushduty::git::setup::init();
    }
    // The TUI's dozen short-lived and polling threads need no more than two glibc arenas.
    // SAFETY: no other thread exists yet.
    unsafe {
        pushduty_platform::memory::few_malloc_arenas();
    }
    pushduty::cli::run(cli)
}
