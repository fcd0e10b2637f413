//! pushduty: a terminal runbook for a team's weekly push.
//!
//! The binary's own layers are here: the command line, the TUI, the live panes' sources and
//! views, rehearsals and the report's Markdown. The model is `pushduty-core`, the I/O and the
//! engine `pushduty-io`, the services' stand-ins `pushduty-standins`; they are re-exported
//! under the names the code has always used, so that `pushduty::runbook` and friends keep
//! their paths for tests and scripts.

pub mod cli;
pub mod health;
pub mod logfile;
pub mod rehearse;
pub mod render;
pub mod report;
pub mod sources;
pub mod tui;

pub use pushduty_core::{
    config, diag, overrides, runbook, sanitize, session, tags, templates, urls, words,
};
pub use pushduty_io::{doctor, engine, git, preview, secret, services, teamlog};
pub use pushduty_standins as standins;

/// The plan of a push: its context ([`pushduty_core::plan`]) and each step previewed by its
/// executor.
pub mod plan {
    pub use pushduty_core::plan::*;
    pub use pushduty_io::engine::plan;
}
