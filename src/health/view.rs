//! What the Sentry and metrics panes and `status` show: a snapshot read off the UI thread,
//! drawn as lines (sparklines with the push marked) or as JSON. The push moment comes from
//! the journal; before the push the span is simply the last `baseline + soak` minutes.

use serde_json::{Value, json};

use super::sparkline::{self, Span};
use super::stats::{change_percent, median_of as median};
use super::window::within;
use crate::sanitize::clean_line;
use crate::services::http::all;
use crate::services::metrics::Point;
use crate::services::sentry::Issue;
use crate::services::{MetricsConf, SentryConf};

/// Columns of a sparkline in a pane.
pub const WIDTH: usize = 36;
/// After this long, the push is history: the span follows the clock again.
const RECENT: i64 = 6 * 3600;
/// Issues listed in the pane and in `status`.
const TOP: usize = 5;

/// The windows a pane looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Watch {
    pub now: i64,
    /// The production push, once the journal has it.
    pub push: Option<i64>,
    pub baseline_secs: i64,
    pub soak_secs: i64,
}

impl Watch {
    /// The push, when recent enough to be shown on the axis.
    fn recent_push(&self) -> Option<i64> {
        self.push
            .filter(|p| *p <= self.now && self.now - p < RECENT)
    }

    /// The span drawn: from the baseline before a recent push (or before `now - soak`) to now.
    pub fn span(&self) -> Span {
        let pivot = self.recent_push().unwrap_or(self.now - self.soak_secs);
        Span {
            from: pivot - self.baseline_secs,
            until: self.now.max(pivot + 60),
            width: WIDTH,
        }
    }

    /// The window the current value is compared with.
    fn baseline(&self) -> (i64, i64) {
        let pivot = self.recent_push().unwrap_or(self.now - self.soak_secs);
        (pivot - self.baseline_secs, pivot)
    }
}

/// One series as a pane row and a `status` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesView {
    pub name: String,
    pub points: Vec<Point>,
    pub error: Option<String>,
}

impl SeriesView {
    pub fn last(&self) -> Option<f64> {
        self.points.iter().rev().find_map(|(_, v)| *v)
    }

    pub fn baseline(&self, w: &Watch) -> Option<f64> {
        median(&within(&self.points, w.baseline()))
    }

    pub fn json(&self, w: &Watch) -> Value {
        let baseline = self.baseline(w);
        let last = self.last();
        let change = baseline.zip(last).and_then(|(b, l)| change_percent(b, l));
        json!({
            "name": self.name,
            "last": last,
            "baseline": baseline,
            "change_percent": change.map(|c| (c * 10.0).round() / 10.0),
            "points": self.points.iter().map(|(t, v)| json!([t, v])).collect::<Vec<_>>(),
            "error": self.error,
        })
    }
}

/// Reads every series of a metrics service over the watched span, all at once.
pub async fn read_metrics(conf: &MetricsConf, w: &Watch) -> Vec<SeriesView> {
    let span = w.span();
    let reads = all(conf
        .series
        .iter()
        .map(|s| conf.range(&s.query, span.from, span.until)))
    .await;
    let mut out = Vec::new();
    for (s, read) in conf.series.iter().zip(reads) {
        out.push(match read {
            Ok(points) => SeriesView {
                name: s.name.clone(),
                points,
                error: None,
            },
            Err(e) => SeriesView {
                name: s.name.clone(),
                points: Vec::new(),
                error: Some(format!("{e:#}")),
            },
        });
    }
    out
}

/// A number as a pane shows it: short, without noise digits.
pub fn num(v: f64) -> String {
    let a = v.abs();
    let s = if a >= 1000.0 || v.fract() == 0.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    };
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// "last 12 · before 3 · +300%", as far as the numbers are known.
fn figures(last: Option<f64>, baseline: Option<f64>, label: &str) -> String {
    let mut parts = Vec::new();
    if let Some(l) = last {
        parts.push(format!("now {}", num(l)));
    }
    if let Some(b) = baseline {
        parts.push(format!("{label} {}", num(b)));
    }
    match (baseline, last) {
        (Some(b), Some(l)) => match change_percent(b, l) {
            Some(c) => parts.push(format!("{c:+.0}%")),
            None => parts.push("new".into()),
        },
        _ => parts.push("no data".into()),
    }
    parts.join(" · ")
}

/// The metrics pane: each series' name and figures, its sparkline, then the time axis.
pub fn metrics_lines(series: &[SeriesView], w: &Watch, fmt: &dyn Fn(i64) -> String) -> Vec<String> {
    let span = w.span();
    let push = w.recent_push();
    let label = if push.is_some() { "before" } else { "usual" };
    let mut lines = Vec::new();
    for s in series {
        match &s.error {
            Some(e) => {
                lines.push(format!("{}: error", s.name));
                lines.push(format!("  {}", clean_line(e)));
            }
            None => {
                lines.push(format!(
                    "{}  {}",
                    s.name,
                    figures(s.last(), s.baseline(w), label)
                ));
                lines.push(format!("  {}", sparkline::line(&s.points, span, push)));
            }
        }
    }
    lines.push(format!("  {}", sparkline::axis(span, push, fmt)));
    lines
}

/// The Sentry pane's snapshot.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SentryView {
    /// Since when issues count as new (the push, or the session's start before it).
    pub since: i64,
    pub issues: Vec<Issue>,
    /// More new issues than were read.
    pub more: bool,
    /// Events per minute over the span.
    pub events: Vec<Point>,
    pub error: Option<String>,
    /// Requests left before Sentry's rate limit, as last answered.
    pub remaining: Option<u64>,
    /// Sentry's rate limit is spent: not to be asked again before this (unix seconds).
    pub retry_at: Option<i64>,
}

impl SentryView {
    pub fn new_issues(&self) -> usize {
        self.issues.len()
    }

    pub fn json(&self) -> Value {
        json!({
            "new_issues": self.issues.len(),
            "more": self.more,
            "top": self.issues.iter().take(TOP).collect::<Vec<_>>(),
            "events": self.events.iter().map(|(t, v)| json!([t, v])).collect::<Vec<_>>(),
            "error": self.error,
        })
    }
}

/// Reads the new issues since `since` and the event rate over the span.
pub async fn read_sentry(conf: &SentryConf, w: &Watch, since: i64) -> SentryView {
    let mut view = SentryView {
        since,
        ..SentryView::default()
    };
    let client = match conf.client() {
        Ok(c) => c,
        Err(e) => {
            view.error = Some(e);
            return view;
        }
    };
    let at = chrono::DateTime::from_timestamp(since, 0).unwrap_or_default();
    match client.new_issues(at, None, 25).await {
        Ok(found) => {
            view.issues = found.items;
            view.more = found.more;
        }
        Err(e) => {
            if let Some(r) = crate::services::sentry::rate_limited(&e) {
                let wait = r.retry_in.map_or(60, |d| d.as_secs());
                view.retry_at = Some(w.now + i64::try_from(wait).unwrap_or(60));
            }
            view.error = Some(format!("{e:#}"));
            return view;
        }
    }
    let span = w.span();
    match client.event_counts(span.from, span.until, false).await {
        Ok(counts) => view.events = counts.into_iter().map(|(t, v)| (t, Some(v))).collect(),
        Err(e) if view.error.is_none() => view.error = Some(format!("{e:#}")),
        Err(_) => {}
    }
    view.remaining = client.remaining();
    view
}

/// The Sentry pane: new issues (count and the top few), the event rate as a sparkline.
pub fn sentry_lines(v: &SentryView, w: &Watch, fmt: &dyn Fn(i64) -> String) -> Vec<String> {
    let mut lines = Vec::new();
    let what = if w.recent_push().is_some() {
        "the push"
    } else {
        "the push began"
    };
    let n = v.issues.len();
    lines.push(format!(
        "{}{} new issue{} since {what} ({})",
        n,
        if v.more { "+" } else { "" },
        if n == 1 { "" } else { "s" },
        fmt(v.since)
    ));
    for i in v.issues.iter().take(TOP) {
        // Its permalink last: `o` on the pane opens it, the screen links it.
        let page = i
            .permalink
            .as_deref()
            .map(|p| format!(" {}", clean_line(p)))
            .unwrap_or_default();
        lines.push(format!(
            "  {} {} ({}, {} events, {} users){page}",
            clean_line(&i.short_id),
            clean_line(&i.title),
            clean_line(&i.level),
            i.count,
            i.user_count
        ));
    }
    if let Some(e) = &v.error {
        lines.push(format!("error: {}", clean_line(e)));
    }
    if !v.events.is_empty() {
        let events = SeriesView {
            name: "events/min".into(),
            points: v.events.clone(),
            error: None,
        };
        lines.extend(metrics_lines(&[events], w, fmt));
    }
    if let Some(r) = v.remaining {
        lines.push(format!("{r} requests left before Sentry's rate limit"));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hm(t: i64) -> String {
        chrono::DateTime::from_timestamp(t, 0)
            .map(|d| d.format("%H:%M").to_string())
            .unwrap_or_default()
    }

    const PUSH: i64 = 1_442_000_000 - 1_442_000_000 % 60;

    fn watch() -> Watch {
        Watch {
            now: PUSH + 1800,
            push: Some(PUSH),
            baseline_secs: 3600,
            soak_secs: 1800,
        }
    }

    fn per_minute(from: i64, until: i64, f: impl Fn(i64) -> Option<f64>) -> Vec<Point> {
        (from / 60..until / 60)
            .map(|m| (m * 60, f(m * 60)))
            .collect()
    }

    #[test]
    fn a_spike_after_the_push_shows_against_before() {
        let w = watch();
        let pts = per_minute(PUSH - 3600, PUSH + 1800, |t| {
            Some(if t >= PUSH { 12.0 } else { 2.0 })
        });
        let s = SeriesView {
            name: "server errors".into(),
            points: pts,
            error: None,
        };
        let lines = metrics_lines(std::slice::from_ref(&s), &w, &hm);
        assert_eq!(lines[0], "server errors  now 12 · before 2 · +500%");
        assert_eq!(lines[1], format!("  {}│{}", "▁".repeat(24), "█".repeat(12)));
        assert!(lines[2].contains("↑push "), "{}", lines[2]);
        let j = s.json(&w);
        assert_eq!(j["change_percent"], 500.0);
        assert_eq!(j["points"].as_array().map(Vec::len), Some(90));
    }

    #[test]
    fn an_error_is_said_in_the_pane() {
        let s = SeriesView {
            name: "5xx".into(),
            points: vec![],
            error: Some("no series matches `x.y`\u{1b}[2J".into()),
        };
        let lines = metrics_lines(&[s], &watch(), &hm);
        assert_eq!(lines[0], "5xx: error");
        assert!(!lines[1].contains('\u{1b}'));
    }

    #[test]
    fn before_the_push_the_span_follows_the_clock() {
        let w = Watch {
            push: None,
            ..watch()
        };
        let span = w.span();
        assert_eq!(span.until, w.now);
        assert_eq!(span.from, w.now - 1800 - 3600);
    }

    #[test]
    fn numbers_are_short() {
        assert_eq!(num(12.0), "12");
        assert_eq!(num(0.126), "0.13");
        assert_eq!(num(12.34), "12.3");
        assert_eq!(num(12345.6), "12346");
    }
}
