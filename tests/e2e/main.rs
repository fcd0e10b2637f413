//! Whole pushes end to end: the real binary in tmux, `rehearse`, the bundled two-repo and
//! release runbooks, a push through every service with no token leaking, and the same
//! push killed at each side effect and resumed (the crash matrix).

#[path = "../support/mod.rs"]
mod support;

mod briefing;
mod by_hand;
mod confirm_is_action;
mod crash_matrix;
mod e2e_tmux;
mod follow_screen;
mod links;
mod multi_repo;
mod push_log_screen;
mod rehearse;
mod release_pins;
mod release_runbook;
mod secrets;
mod takeover_screen;
mod whole_push;
