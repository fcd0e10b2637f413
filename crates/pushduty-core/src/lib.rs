//! pushduty's model: what a runbook says, what a push session holds, and the pure functions
//! over them (validation, templates, previews, plans, reports, health statistics).
//!
//! This crate does no network, git or terminal work: it has no git2, reqwest, tokio or
//! ratatui, so its tests build and link in seconds and nothing here can block a screen. The
//! I/O layer (`pushduty-io`) hands in what it reads (a checkout's tags, an executor's preview)
//! where the model needs it.

pub mod bounded;
pub mod config;
pub mod diag;
pub mod doctor;
pub mod health;
pub mod migrations;
pub mod overrides;
pub mod plan;
pub mod preview;
pub mod release_items;
pub mod report;
pub mod runbook;
pub mod sanitize;
pub mod session;
pub mod shell;
pub mod tags;
pub mod templates;
pub mod urls;
pub mod words;
