//! After the production push: is the site healthy? Time windows around the push and the judge
//! that compares them (the panes' views are the binary's).

pub mod flips;
pub mod judge;
pub mod stats;
pub mod window;

use crate::runbook::model::{Runbook, StepKind};
use crate::session::{SessionState, Status, StepState};

/// One sample of a series: a Unix time and its value (`None` where the server has none).
pub type Point = (i64, Option<f64>);

/// When a finished step's event happened: a gate's `approved_at` (the operator may tick it
/// off after the fact), else when it was done. `None` while it is not done.
pub fn moment_of(st: &StepState) -> Option<&str> {
    match &st.status {
        Status::Done { at } => Some(
            st.outputs
                .get("approved_at")
                .and_then(serde_json::Value::as_str)
                .unwrap_or(at),
        ),
        _ => None,
    }
}

/// When the production push happened, as the journal has it: the completion of the step the
/// first watch (`sentry.check`, `metrics.check`) counts its soak from.
pub fn push_moment(rb: &Runbook, state: &SessionState) -> Option<i64> {
    rb.steps.iter().find_map(|s| {
        let since = match &s.kind {
            StepKind::SentryCheck(c) => c.since.as_deref(),
            StepKind::MetricsCheck(c) => c.since.as_deref(),
            _ => None,
        }?;
        let at = moment_of(state.steps.get(since)?)?;
        chrono::DateTime::parse_from_rfc3339(at)
            .ok()
            .map(|t| t.timestamp())
    })
}

/// The soak and baseline lengths (seconds) of the first watch on `service`; half an hour and
/// an hour when no step watches it.
pub fn watch_windows(rb: &Runbook, service: &str) -> (i64, i64) {
    let secs = |m: u64| i64::try_from(m.saturating_mul(60)).unwrap_or(i64::MAX / 4);
    let soak = window::minutes_secs;
    rb.steps
        .iter()
        .find_map(|s| match &s.kind {
            StepKind::SentryCheck(c) if c.service == service => {
                Some((c.soak_minutes, c.baseline_minutes))
            }
            StepKind::MetricsCheck(c) if c.service == service => {
                Some((c.soak_minutes, c.baseline_minutes))
            }
            _ => None,
        })
        .map_or((1800, 3600), |(s, b)| (soak(s), secs(b)))
}
