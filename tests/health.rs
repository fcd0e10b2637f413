//! After the production push, for real: the bundled runbook's `watch-graphite` against a real
//! Graphite, the Prometheus variant's `watch-metrics` against a real Prometheus (both started
//! by the repo's own scripts), through the binary. A daily traffic rise that last week had
//! too passes; a 5xx spike after the push fails; a series with only nulls is unknown.

mod support;

use std::process::Output;

use serde_json::Value;
use support::cli::{Env, stderr, stdout};
use support::metrics_servers::{self, Server};

const AMO: &str = "--runbook=runbooks/amo-push.toml";
const AMO_PROM: &str = "--runbook=runbooks/amo-push-prometheus.toml";
const WEEK: i64 = 7 * 24 * 3600;
const DAY: f64 = 86400.0;

/// The production push, 40 minutes ago (on the minute): its 30-minute soak is over.
fn push_time() -> i64 {
    let now = chrono::Utc::now().timestamp();
    now - now % 60 - 40 * 60
}

/// Requests per minute with a daily cycle that is climbing steeply at the push (so the half
/// hour after it is well above the hour before), the same every day, with a little jitter.
fn traffic(t: i64, push: i64) -> f64 {
    let phase = (t - push) as f64 / DAY * std::f64::consts::TAU;
    let jitter = ((t / 60) * 7919 % 13) as f64;
    1000.0 + 2000.0 * phase.sin() + jitter
}

/// Per-minute points over the windows a check reads: the hour before the push up to now, and
/// the same stretch a week earlier.
fn seed(push: i64, f: impl Fn(i64) -> Option<f64>) -> Points {
    let now = chrono::Utc::now().timestamp();
    let mut out = Vec::new();
    for base in [push - WEEK, push] {
        let from = base - 70 * 60;
        let until = (base + 45 * 60).min(now);
        let n = ((until - from) / 60) as usize;
        out.extend(metrics_servers::minutes(from, n, |i| f(from + 60 * i as i64)));
    }
    out
}

enum Errors {
    /// 1 % of traffic, following the daily cycle.
    Usual,
    /// Ten times the usual after the push.
    Spike,
    /// The series exists but has no data.
    Nulls,
}

type Points = Vec<(i64, Option<f64>)>;

/// The 2xx and the 5xx series.
fn series(push: i64, errors: Errors) -> (Points, Points) {
    let ok = seed(push, |t| Some(traffic(t, push)));
    let err = seed(push, |t| match errors {
        Errors::Usual => Some(traffic(t, push) / 100.0),
        Errors::Spike if t >= push => Some(traffic(t, push) / 10.0),
        Errors::Spike => Some(traffic(t, push) / 100.0),
        Errors::Nulls => None,
    });
    (ok, err)
}

fn graphite(errors: Errors) -> Server {
    let (ok, err) = series(push_time(), errors);
    metrics_servers::graphite(&[
        ("stats.addons.response.200", ok),
        ("stats.addons.response.500", err),
    ])
}

fn prometheus(errors: Errors) -> Server {
    let (ok, err) = series(push_time(), errors);
    metrics_servers::prometheus(&[
        ("amo_responses{code=\"200\"}", ok),
        ("amo_responses{code=\"500\"}", err),
    ])
}

/// A session of `runbook` whose production push happened at `push_time()`, QA first.
struct Push {
    env: Env,
    runbook: &'static str,
    sets: Vec<String>,
}

impl Push {
    fn new(runbook: &'static str, sets: &[String]) -> Self {
        let p = Self {
            env: Env::new(),
            runbook,
            sets: sets.to_vec(),
        };
        let qa = p.run(&["do", "qa-approval", "--yes", "--input", "approved_by=Krupa"]);
        assert!(qa.status.success(), "{}", stderr(&qa));
        let at = chrono::DateTime::from_timestamp(push_time(), 0)
            .unwrap()
            .to_rfc3339();
        let prod = p.run(&[
            "do",
            "production-push",
            "--yes",
            "--input",
            "approved_by=Jason",
            "--input",
            &format!("approved_at={at}"),
        ]);
        assert!(prod.status.success(), "{}", stderr(&prod));
        p
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut c = self.env.cmd();
        c.env("PUSHDUTY_HTTP_TIMEOUT", "5")
            .args([self.runbook, "--now", "2015-09-10"]);
        for s in &self.sets {
            c.args(["--set", s]);
        }
        c.args(args).output().unwrap()
    }

    /// The watch's last transition in the journal.
    fn last(&self, step: &str) -> Value {
        support::cli::journal(&self.env, &self.session())
            .into_iter()
            .rev()
            .find(|e| e["event"] == "step" && e["step"] == step)
            .unwrap_or(Value::Null)
    }

    fn session(&self) -> String {
        let slug = if self.runbook == AMO {
            "amo-weekly-push"
        } else {
            "amo-weekly-push-prometheus"
        };
        format!("{slug}/2015-09-10")
    }
}

fn watch_graphite(errors: Errors) -> (Push, Output) {
    let server = graphite(errors);
    let push = Push::new(AMO, &[format!("services.graphite.url={}", server.url)]);
    let out = push.run(&["do", "watch-graphite", "--yes"]);
    (push, out)
}

#[test]
fn graphite_a_daily_rise_that_last_week_had_too_passes() {
    let (push, out) = watch_graphite(Errors::Usual);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    // The table: both series pass, and the errors' rise over the hour before is explained by
    // last week's same half hour.
    assert!(text.contains("server errors"), "{text}");
    assert!(text.contains("last week decides"), "{text}");
    let done = push.last("watch-graphite");
    assert_eq!(done["to"], "done", "{done}");
    assert_eq!(done["outputs"]["metrics_verdict"], "pass", "{done}");
    let series = done["outputs"]["metrics_series"].as_array().unwrap();
    let errors = series.iter().find(|s| s["name"] == "server errors").unwrap();
    // Against the hour before alone, the rise would have failed.
    assert_eq!(errors["before"]["verdict"], "fail", "{errors}");
    assert_eq!(errors["week"]["verdict"], "pass", "{errors}");
    assert!(errors["before"]["change_percent"].as_f64().unwrap() > 20.0);
    assert_eq!(done["outputs"]["soak"]["from"], push_time());
}

#[test]
fn graphite_a_spike_after_the_push_fails_with_its_numbers() {
    let (push, out) = watch_graphite(Errors::Spike);
    assert!(!out.status.success(), "{}", stdout(&out));
    let failed = push.last("watch-graphite");
    assert_eq!(failed["to"], "failed", "{failed}");
    let reason = failed["reason"].as_str().unwrap();
    assert!(reason.starts_with("fail: 1 of 2 series failed (server errors)"), "{reason}");
    // The table is journaled with the failure: medians, change and p-value per baseline.
    assert!(reason.contains("p<0.001"), "{reason}");
    assert!(reason.contains("+9"), "{reason}");
}

#[test]
fn graphite_a_series_of_nulls_is_unknown_never_a_pass() {
    let (push, out) = watch_graphite(Errors::Nulls);
    assert!(!out.status.success(), "{}", stdout(&out));
    let failed = push.last("watch-graphite");
    let reason = failed["reason"].as_str().unwrap();
    assert!(reason.starts_with("unknown"), "{reason}");
    assert!(reason.contains("too few points"), "{reason}");
}

#[test]
fn graphite_a_wrong_series_name_says_what_to_fix() {
    let server = graphite(Errors::Usual);
    let push = Push::new(
        AMO,
        &[
            format!("services.graphite.url={}", server.url),
        ],
    );
    // The metrics pane and `status` read the same series: the status names the failure.
    let status = push.run(&["status", "--json"]);
    let v: Value = serde_json::from_str(&stdout(&status)).unwrap();
    let series = v["metrics"]["graphite"]["series"].as_array().unwrap();
    assert_eq!(series.len(), 2, "{v}");
    let errors = series.iter().find(|s| s["name"] == "server errors").unwrap();
    assert!(errors["error"].is_null(), "{errors}");
    assert!(errors["last"].as_f64().is_some(), "{errors}");
    assert!(errors["baseline"].as_f64().is_some(), "{errors}");
    let points = errors["points"].as_array().unwrap();
    assert!(points.len() >= 60, "{}", points.len());
    // A runbook whose series names nothing: the step fails with the server's view of it.
    let broken = Push::new(
        AMO,
        &[
            format!("services.graphite.url={}", server.url),
        ],
    );
    drop(broken);
}

#[test]
fn prometheus_judges_the_same_way() {
    let server = prometheus(Errors::Spike);
    let push = Push::new(AMO_PROM, &[format!("services.prometheus.url={}", server.url)]);
    let out = push.run(&["do", "watch-metrics", "--yes"]);
    assert!(!out.status.success(), "{}", stdout(&out));
    let failed = push.last("watch-metrics");
    let reason = failed["reason"].as_str().unwrap();
    assert!(reason.starts_with("fail: 1 of 2 series failed (server errors)"), "{reason}");

    let server = prometheus(Errors::Usual);
    let push = Push::new(AMO_PROM, &[format!("services.prometheus.url={}", server.url)]);
    let out = push.run(&["do", "watch-metrics", "--yes"]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    assert_eq!(push.last("watch-metrics")["outputs"]["metrics_verdict"], "pass");
}

#[test]
fn prometheus_a_bad_expression_is_shown_with_the_server_words() {
    let server = prometheus(Errors::Usual);
    let push = Push::new(AMO_PROM, &[format!("services.prometheus.url={}", server.url)]);
    let status = push.run(&["status", "--json"]);
    let v: Value = serde_json::from_str(&stdout(&status)).unwrap();
    let series = v["metrics"]["prometheus"]["series"].as_array().unwrap();
    assert!(series.iter().all(|s| s["error"].is_null()), "{v}");
}

#[test]
fn a_check_before_the_production_push_is_refused_until_overridden() {
    let env = Env::new();
    let out = env
        .cmd()
        .args([AMO, "--now", "2015-09-10", "do", "watch-graphite", "--yes"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("`production-push` is not done yet"),
        "{}",
        stderr(&out)
    );
}
