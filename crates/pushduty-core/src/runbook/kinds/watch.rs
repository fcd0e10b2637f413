//! The watches after the production push: `sentry.check` (new issues and the error rate) and
//! `metrics.check` (series judged against before the push and last week).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Kind, KindInfo, Rules};
use crate::preview::Filler;
use crate::runbook::model::{Runbook, Service, Step};

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SentryCheckStep {
    pub service: String,
    /// The step whose completion starts the soak (the production push); without it the soak
    /// starts when this step does.
    #[serde(default)]
    pub since: Option<String>,
    /// How long to watch after `since`, in minutes; fractions allowed (0.25 is 15 s).
    #[serde(default = "thirty_minutes")]
    pub soak_minutes: f64,
    /// Length of the window before the push the event rate is compared with, in minutes.
    #[serde(default = "sixty")]
    pub baseline_minutes: u64,
    /// Extra Sentry search terms, e.g. `firstRelease:{{ tag }}`.
    #[serde(default)]
    pub query: Option<String>,
    /// New issues tolerated before the check fails.
    #[serde(default)]
    pub max_new_issues: u64,
    /// Largest acceptable rise of the event rate over a baseline, in percent (default 100).
    #[serde(default)]
    pub max_rise_percent: Option<f64>,
    /// How often Sentry is asked during the soak, in seconds.
    #[serde(default = "thirty")]
    pub poll_seconds: u64,
}

fn thirty() -> u64 {
    30
}

fn thirty_minutes() -> f64 {
    30.0
}

// `service`, `since`, `soak_minutes` and `baseline_minutes` repeat SentryCheckStep's on
// purpose: serde's `flatten` cannot be combined with `deny_unknown_fields`, and a misspelt
// field must stay an error.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MetricsCheckStep {
    pub service: String,
    /// The step whose completion starts the soak (the production push); without it the soak
    /// starts when this step does.
    #[serde(default)]
    pub since: Option<String>,
    /// How long to watch after `since`, in minutes; fractions allowed (0.25 is 15 s).
    #[serde(default = "thirty_minutes")]
    pub soak_minutes: f64,
    /// Length of the baseline before the push, in minutes.
    #[serde(default = "sixty")]
    pub baseline_minutes: u64,
    /// Points a window needs after nulls are dropped; fewer is "unknown", never a pass.
    #[serde(default = "five")]
    pub min_points: usize,
    /// Judge by score instead of "any failing series fails": the score (pass 1, marginal
    /// 0.5) in percent at or above which the step passes...
    #[serde(default)]
    pub pass_score: Option<f64>,
    /// ...and at or above which it is marginal (below: failed).
    #[serde(default)]
    pub marginal_score: Option<f64>,
    /// How often the interim verdict is read during the soak, in seconds.
    #[serde(default = "sixty")]
    pub poll_seconds: u64,
}

fn five() -> usize {
    5
}

fn sixty() -> u64 {
    60
}

/// Where a watch's soak starts, as a preview names it.
fn soak_start(since: Option<&str>) -> String {
    match since {
        Some(step) => format!("when `{step}` happened"),
        None => "when this step starts".to_string(),
    }
}

/// `since` must name an earlier step.
fn check_since(since: Option<&str>, r: &mut Rules<'_, '_>) {
    if let Some(dep) = since {
        r.earlier_step("since", dep);
    }
}

pub struct SentryCheck;

impl Kind for SentryCheck {
    type Fields = SentryCheckStep;
    const INFO: KindInfo = KindInfo {
        name: "sentry.check",
        side_effect: false,
        outputs: Some(&["new_issues", "sentry_verdict", "sentry_issues"]),
        summary: "watch Sentry for new issues and the error rate over a soak",
    };

    fn check(s: &SentryCheckStep, r: &mut Rules<'_, '_>) {
        check_since(s.since.as_deref(), r);
    }

    fn strings(s: &SentryCheckStep) -> Vec<(&'static str, &str)> {
        s.query
            .as_deref()
            .map(|q| ("query", q))
            .into_iter()
            .collect()
    }

    fn describe(s: &SentryCheckStep, _: &Step, rb: &Runbook, fl: &Filler<'_>) -> String {
        match rb.services.get(&s.service) {
            Some(Service::Sentry(svc)) => {
                let query = s
                    .query
                    .as_deref()
                    .map(|q| format!(" {}", fl.text(q)))
                    .unwrap_or_default();
                format!(
                    "GET {}/api/0/organizations/{}/issues/?project={}&query=is:unresolved firstSeen:>=<{}>{query} every {}s for {} min; fail above {}; then compare the event rate with the {} min before and with last week",
                    svc.url.trim_end_matches('/'),
                    svc.org,
                    svc.project,
                    soak_start(s.since.as_deref()),
                    s.poll_seconds,
                    s.soak_minutes,
                    crate::words::count(s.max_new_issues, "new issue"),
                    s.baseline_minutes
                )
            }
            _ => format!("check Sentry service `{}`", s.service),
        }
    }

    fn service(s: &SentryCheckStep) -> Option<(&str, &'static [&'static str])> {
        Some((&s.service, &["sentry"]))
    }
}

pub struct MetricsCheck;

impl Kind for MetricsCheck {
    type Fields = MetricsCheckStep;
    const INFO: KindInfo = KindInfo {
        name: "metrics.check",
        side_effect: false,
        outputs: Some(&["metrics_verdict", "metrics_score", "metrics_series"]),
        summary: "compare metrics after the push with before it and with last week",
    };

    fn check(m: &MetricsCheckStep, r: &mut Rules<'_, '_>) {
        check_since(m.since.as_deref(), r);
        match (m.pass_score, m.marginal_score) {
            (Some(pass), Some(marginal)) => {
                if !(0.0..=100.0).contains(&pass)
                    || !(0.0..=100.0).contains(&marginal)
                    || marginal > pass
                {
                    r.err(
                        "marginal_score",
                        "scores are percents with `marginal_score` at most `pass_score`",
                    );
                }
            }
            (None, None) => {}
            (Some(_), None) | (None, Some(_)) => r.err(
                if m.pass_score.is_some() {
                    "pass_score"
                } else {
                    "marginal_score"
                },
                "judging by score needs both `pass_score` and `marginal_score`",
            ),
        }
    }

    fn strings(_: &MetricsCheckStep) -> Vec<(&'static str, &str)> {
        Vec::new()
    }

    fn describe(m: &MetricsCheckStep, _: &Step, rb: &Runbook, _: &Filler<'_>) -> String {
        let (url, series) = match rb.services.get(&m.service) {
            Some(Service::Graphite(g)) => (
                format!("{}/render?format=json&target=", g.url.trim_end_matches('/')),
                &g.series,
            ),
            Some(Service::Prometheus(p)) => (
                format!("{}/api/v1/query_range?query=", p.url.trim_end_matches('/')),
                &p.series,
            ),
            _ => return format!("check metrics service `{}`", m.service),
        };
        let names: Vec<&str> = series.iter().map(|s| s.name.as_str()).collect();
        format!(
            "GET {url}<each of: {}>; compare the {} min from <{}> with the {} min before and with the same {} min a week earlier",
            names.join(", "),
            m.soak_minutes,
            soak_start(m.since.as_deref()),
            m.baseline_minutes,
            m.soak_minutes
        )
    }

    fn service(m: &MetricsCheckStep) -> Option<(&str, &'static [&'static str])> {
        Some((&m.service, &["graphite", "prometheus"]))
    }
}
