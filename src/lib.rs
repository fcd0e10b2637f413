//! pushduty: a terminal runbook for a team's weekly push.

pub mod git;
