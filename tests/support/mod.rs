//! Fixture code shared by the git tests.

pub mod cli;
pub mod daemon;
pub mod etherpad;
pub mod git_servers;
pub mod github;
pub mod gitrepo;
pub mod jenkins;
pub mod matrix;
pub mod metrics_servers;
pub mod peak;
pub mod push;
pub mod sentry;
pub mod smtp;
pub mod smtp_server;
pub mod synapse;
pub mod team;
