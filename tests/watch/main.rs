//! The watches after the production push: Graphite and Prometheus (real servers, started by
//! scripts/services/) through their clients and the binary, and Sentry through the stand-in.

#[path = "../support/mod.rs"]
mod support;

mod backtest;
mod health;
mod metrics_clients;
mod sentry_watch;
