//! pushduty: a terminal runbook for a team's weekly push.

pub mod cli;
pub mod config;
pub mod diag;
pub mod engine;
pub mod git;
pub mod health;
pub mod logfile;
pub mod overrides;
pub mod plan;
pub mod preview;
pub mod progress;
pub mod rehearse;
pub mod report;
pub mod runbook;
pub mod sanitize;
pub mod secret;
pub mod services;
pub mod session;
pub mod sources;
pub mod standins;
pub mod templates;
pub mod tui;
