//! The Sentry and metrics panes' sources: new issues and the event rate, each metric series,
//! read over the span around the production push. The push moment is shared with the TUI,
//! which sets it from the journal when the production push is done.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::health::view::{self, Watch};
use crate::services::http::{all, block_on};
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
    let reads = block_on(all(confs.iter().map(|c| view::read_metrics(c, &w))))
        .map_err(|e| format!("{e:#}"))?;
    let mut lines = Vec::new();
    let mut failed = 0;
    let mut total = 0;
    for (conf, series) in confs.iter().zip(reads) {
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

/// The Sentry pane's lines. While Sentry's rate limit is spent (a 429), it is not asked
/// again before the time it named: the pane keeps its last lines and says when.
pub fn sentry_snapshot(
    confs: &[SentryConf],
    timing: &Timing,
    backoff: &Mutex<Backoff>,
) -> Result<Vec<String>, String> {
    let w = timing.watch();
    if let Ok(b) = backoff.lock()
        && let Some(until) = b.until.filter(|u| *u > w.now)
    {
        let mut lines = b.lines.clone();
        lines.push(format!(
            "Sentry's rate limit is spent: next look at {}",
            clock(until)
        ));
        return Ok(lines);
    }
    let since = timing.push.get().unwrap_or(timing.began);
    let reads = block_on(all(confs.iter().map(|c| view::read_sentry(c, &w, since))))
        .map_err(|e| format!("{e:#}"))?;
    let mut lines = Vec::new();
    let mut errors = Vec::new();
    let mut until = None;
    for (conf, v) in confs.iter().zip(reads) {
        if confs.len() > 1 {
            lines.push(format!("{}:", conf.name));
        }
        if let Some(e) = &v.error {
            errors.push(e.clone());
        }
        until = until.max(v.retry_at);
        lines.extend(view::sentry_lines(&v, &w, &clock));
    }
    if let Ok(mut b) = backoff.lock() {
        b.until = until;
        if until.is_none() {
            b.lines = lines.clone();
        }
    }
    if !confs.is_empty() && errors.len() == confs.len() {
        return Err(errors.join("; "));
    }
    Ok(lines)
}

/// What the Sentry pane keeps between polls to respect a spent rate limit.
#[derive(Debug, Default)]
pub struct Backoff {
    until: Option<i64>,
    /// The last lines read without a rate limit.
    lines: Vec<String>,
}
