//! The git layer on real temporary repositories with a bare remote: state, compare, fetch,
//! tag and push, cherry-pick; and the git step kinds through `pushduty do`.

#[path = "../support/mod.rs"]
mod support;

mod git_cherry_pick;
mod git_compare;
mod git_fetch;
mod git_network;
mod git_pick_checks;
mod git_push_log;
mod git_state;
mod git_steps;
mod git_tag_push;
mod git_takeover;
