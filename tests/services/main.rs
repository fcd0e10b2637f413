//! The services a push talks to, through the real binary and the client: the Jenkins,
//! GitHub Actions, GitHub (blockers), Etherpad and Sentry stand-ins, and a real SMTP server.
//!
//! The HTTP client of `pushduty::services::http` is built once per process with the time limit
//! read then: `sentry_client` sets `PUSHDUTY_HTTP_TIMEOUT` before its first request, so no other
//! module here may make a request with that client in this process.

#[path = "../support/mod.rs"]
mod support;

mod actions_deploy;
mod blockers;
mod chat;
mod chat_matrix;
mod deploy;
mod doctor;
mod echoed_secrets;
mod email;
mod endless;
mod jenkins_stub;
mod notes;
mod releases;
mod sentry_client;
mod stage;
