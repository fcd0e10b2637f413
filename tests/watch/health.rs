//! After the production push, for real: the bundled runbook's `watch-graphite` against a real
//! Graphite, the Prometheus variant's `watch-metrics` against a real Prometheus (both started
//! by the repo's own scripts), through the binary. A daily traffic rise that last week had
//! too passes; a 5xx spike after the push fails; a series with only nulls is unknown.

use std::process::Output;

use serde_json::Value;

use crate::support;
use crate::support::cli::{Env, stderr, stdout};
use crate::support::metrics_servers::{self, Server};

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
        out.extend(metrics_servers::minutes(from, n, |i| {
            f(from + 60 * i as i64)
        }));
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
        support::cli::approve_and_push(|args| p.run(args), push_time());
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
        // (a copy of a bundled runbook has the same name, so the same slug)
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
    // How sure: the points each series rested on, and the smallest change they could show.
    assert!(
        text.contains(
            "server errors: 30 after the push, 60 before, 30 last week (alpha 0.05): at these sizes a change under "
        ),
        "{text}"
    );
    let done = push.last("watch-graphite");
    assert_eq!(done["to"], "done", "{done}");
    assert_eq!(done["outputs"]["metrics_verdict"], "pass", "{done}");
    let series = done["outputs"]["metrics_series"].as_array().unwrap();
    let errors = series
        .iter()
        .find(|s| s["name"] == "server errors")
        .unwrap();
    // Against the hour before alone, the rise would have failed.
    assert_eq!(errors["before"]["verdict"], "fail", "{errors}");
    assert_eq!(errors["week"]["verdict"], "pass", "{errors}");
    assert_eq!(
        errors["sizes"],
        serde_json::json!({"soak": 30, "before": 60, "week": 30})
    );
    assert_eq!(errors["thin"], false, "{errors}");
    assert!(errors["mde_percent"].as_f64().unwrap() < 20.0, "{errors}");
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
    assert!(
        reason.starts_with("fail: 1 of 2 series failed (server errors)"),
        "{reason}"
    );
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
    // No 5xx series at all: `sumSeries(stats.addons.response.5*)` names nothing.
    let (ok, _) = series(push_time(), Errors::Usual);
    let server = metrics_servers::graphite(&[("stats.addons.response.200", ok)]);
    let push = Push::new(AMO, &[format!("services.graphite.url={}", server.url)]);
    // `status` reads what the pane reads: the good series with its numbers, the bad one with
    // what to fix.
    let status = push.run(&["status", "--json"]);
    let v: Value = serde_json::from_str(&stdout(&status)).unwrap();
    assert!(!status.status.success());
    let series = v["metrics"]["graphite"]["series"].as_array().unwrap();
    let all = series
        .iter()
        .find(|s| s["name"] == "all responses")
        .unwrap();
    assert!(all["error"].is_null(), "{all}");
    assert!(all["last"].as_f64().unwrap() > 0.0, "{all}");
    assert!(all["baseline"].as_f64().is_some(), "{all}");
    assert!(all["points"].as_array().unwrap().len() >= 60, "{all}");
    let errors = series
        .iter()
        .find(|s| s["name"] == "server errors")
        .unwrap();
    let e = errors["error"].as_str().unwrap();
    assert!(
        e.contains("no series matches") && e.contains("/metrics/find"),
        "{e}"
    );

    let out = push.run(&["do", "watch-graphite", "--yes"]);
    assert!(!out.status.success());
    let reason = push.last("watch-graphite")["reason"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(reason.starts_with("unknown"), "{reason}");
    assert!(reason.contains("no series matches"), "{reason}");
}

#[test]
fn graphite_that_hangs_fails_the_step_in_bounded_time_with_the_address() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    let push = Push::new(AMO, &[format!("services.graphite.url={url}")]);
    let started = std::time::Instant::now();
    let out = push.run(&["do", "watch-graphite", "--yes"]);
    assert!(!out.status.success());
    // Two series, two reads each, each bounded by PUSHDUTY_HTTP_TIMEOUT.
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
    let reason = push.last("watch-graphite")["reason"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        reason.contains("no answer within 5s") && reason.contains(&url),
        "{reason}"
    );
    drop(silent);
}

#[test]
fn prometheus_judges_the_same_way() {
    let server = prometheus(Errors::Spike);
    let push = Push::new(
        AMO_PROM,
        &[format!("services.prometheus.url={}", server.url)],
    );
    let out = push.run(&["do", "watch-metrics", "--yes"]);
    assert!(!out.status.success(), "{}", stdout(&out));
    let failed = push.last("watch-metrics");
    let reason = failed["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("fail: 1 of 2 series failed (server errors)"),
        "{reason}"
    );

    let server = prometheus(Errors::Usual);
    let push = Push::new(
        AMO_PROM,
        &[format!("services.prometheus.url={}", server.url)],
    );
    let out = push.run(&["do", "watch-metrics", "--yes"]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    assert_eq!(
        push.last("watch-metrics")["outputs"]["metrics_verdict"],
        "pass"
    );
}

#[test]
fn prometheus_a_bad_expression_is_shown_with_the_server_words() {
    let server = prometheus(Errors::Usual);
    // The Prometheus runbook with the errors' query missing its closing parenthesis.
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string("runbooks/amo-push-prometheus.toml").unwrap();
    let broken = text.replace(
        r#"sum(amo_responses{code=~"5.."})"#,
        r#"sum(amo_responses{code=~"5.."}"#,
    );
    assert_ne!(text, broken);
    std::fs::create_dir(dir.path().join("runbooks")).unwrap();
    let path = dir.path().join("runbooks/amo-push-prometheus.toml");
    std::fs::write(&path, broken).unwrap();
    for t in ["push-notes.md", "push-email.txt"] {
        std::fs::create_dir_all(dir.path().join("templates")).unwrap();
        std::fs::copy(
            format!("templates/{t}"),
            dir.path().join("templates").join(t),
        )
        .unwrap();
    }
    let arg: &'static str = Box::leak(format!("--runbook={}", path.display()).into_boxed_str());
    let push = Push::new(arg, &[format!("services.prometheus.url={}", server.url)]);
    let status = push.run(&["status", "--json"]);
    let v: Value = serde_json::from_str(&stdout(&status)).unwrap();
    let series = v["metrics"]["prometheus"]["series"].as_array().unwrap();
    let bad = series
        .iter()
        .find(|s| s["name"] == "server errors")
        .unwrap();
    let e = bad["error"].as_str().unwrap();
    assert!(e.contains("bad_data") && e.contains("parenthesis"), "{e}");
    let good = series
        .iter()
        .find(|s| s["name"] == "all responses")
        .unwrap();
    assert!(good["error"].is_null(), "{good}");

    let out = push.run(&["do", "watch-metrics", "--yes"]);
    assert!(!out.status.success());
    let reason = push.last("watch-metrics")["reason"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(reason.contains("parenthesis"), "{reason}");
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
