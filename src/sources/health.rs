//! The Sentry and metrics panes' sources: new issues and the event rate, each metric series,
//! read over the span around the production push. The push moment is shared with the TUI,
//! which sets it from the journal when the production push is done.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use crate::health::view::{self, Watch};
use crate::services::http::block_on;
use crate::services::{MetricsConf, SentryConf};

/// How often the panes read their services when nothing asks sooner.
pub const INTERVAL: Duration = Duration::from_secs(30);

/// A unix time shared between threads; 0 is "not yet".
#[derive(Debug, Clone, Default)]
pub struct Moment(Arc<AtomicI64>);

impl Moment {
    pub fn set(&self, t: Option<i64>) {
        self.0.store(t.unwrap_or(0), Ordering::SeqCst);
    }
    pub fn get(&self) -> Option<i64> {
        Some(self.0.load(Ordering::SeqCst)).filter(|t| *t != 0)
    }
}

/// What a health pane needs to place its windows.
#[derive(Debug, Clone)]
pub struct Timing {
    pub push: Moment,
    /// When the push (the session) began: issues first seen since then are new.
    pub began: i64,
    pub soak_secs: i64,
    pub baseline_secs: i64,
}

impl Timing {
    fn watch(&self) -> Watch {
        Watch {
            now: chrono::Utc::now().timestamp(),
            push: self.push.get(),
            baseline_secs: self.baseline_secs,
            soak_secs: self.soak_secs,
        }
    }
}

/// Local wall-clock time for the panes' axes.
pub fn clock(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.with_timezone(&chrono::Local).format("%H:%M").to_string())
        .unwrap_or_default()
}

/// The metrics pane's lines for every metrics service; an error only when none answered.
pub fn metrics_snapshot(confs: &[MetricsConf], timing: &Timing) -> Result<Vec<String>, String> {
    let w = timing.watch();
    let mut lines = Vec::new();
    let mut failed = 0;
    let mut total = 0;
    for conf in confs {
        let series = block_on(view::read_metrics(conf, &w)).map_err(|e| format!("{e:#}"))?;
        total += series.len();
        failed += series.iter().filter(|s| s.error.is_some()).count();
        if confs.len() > 1 {
            lines.push(format!("{} ({}):", conf.name, conf.kind));
        }
        lines.extend(view::metrics_lines(&series, &w, &clock));
    }
    if total > 0 && failed == total {
        return Err(format!("no series could be read: {}", lines.join(" ")));
    }
    Ok(lines)
}

/// The Sentry pane's lines.
pub fn sentry_snapshot(confs: &[SentryConf], timing: &Timing) -> Result<Vec<String>, String> {
    let w = timing.watch();
    let since = timing.push.get().unwrap_or(timing.began);
    let mut lines = Vec::new();
    let mut errors = Vec::new();
    for conf in confs {
        let v = block_on(view::read_sentry(conf, &w, since)).map_err(|e| format!("{e:#}"))?;
        if confs.len() > 1 {
            lines.push(format!("{}:", conf.name));
        }
        if let Some(e) = &v.error {
            errors.push(e.clone());
        }
        lines.extend(view::sentry_lines(&v, &w, &clock));
    }
    if !confs.is_empty() && errors.len() == confs.len() {
        return Err(errors.join("; "));
    }
    Ok(lines)
}
