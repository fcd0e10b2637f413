//! Whole pushes end to end: the real binary in tmux, `rehearse`, the bundled two-repo and
//! release runbooks, and a push through every service with no token leaking.

#[path = "../support/mod.rs"]
mod support;

mod e2e_tmux;
mod multi_repo;
mod rehearse;
mod release_runbook;
mod secrets;
