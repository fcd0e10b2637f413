//! The Sentry and metrics panes' views; the windows and the judge they draw are
//! [`pushduty_core::health`].

pub mod sparkline;
pub mod view;

pub use pushduty_core::health::*;
