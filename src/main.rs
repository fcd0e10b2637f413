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
    // SAFETY: no other thread exists yet, so nothing uses libgit2 concurrently.
    unsafe {
        pushduty::git::setup::init();
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // glibc gives every thread that allocates an arena of its own, each keeping the memory it
    // freed; the TUI's dozen short-lived and polling threads need no more than two.
    // SAFETY: no other thread exists yet; a refused setting keeps glibc's default.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
    pushduty::cli::run(cli)
}
