//! pushduty's I/O: git through libgit2, the services' HTTP and SMTP clients, secrets from the
//! environment and the keyring, the one async runtime, and the engine that runs each step
//! kind's executor and journals every transition.
//!
//! No ratatui: the front ends (the TUI, the headless commands) drive the engine and draw what
//! it reports.

pub mod doctor;
pub mod engine;
pub mod git;
pub mod group;
pub mod preview;
pub mod redact;
pub mod secret;
pub mod services;
pub mod teamlog;

// The model, under the names this crate's modules use for it.
pub use pushduty_core::{config, diag, health, plan, runbook, sanitize, session, templates, words};
