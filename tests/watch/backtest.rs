//! `pushduty judge --backtest` against a real Graphite and a real Prometheus, seeded with two
//! weeks of traffic (a daily and a weekly cycle) and labelled past pushes: two clean, one with a
//! spike of server errors, one with traffic drifting slowly down, and the push in the history
//! (clean). The table must give each push its label; `--set` tries another threshold; nothing
//! is written. And while a soak runs, the watch says how much data it still needs.

use serde_json::Value;

use crate::support;
use crate::support::cli::{Env, stderr, stdout};
use crate::support::metrics_servers::{self, Server};

const AMO: &str = "--runbook=runbooks/amo-push.toml";
const DAY: i64 = 24 * 3600;
const WEEK: i64 = 7 * DAY;
const TAU: f64 = std::f64::consts::TAU;

fn now_minute() -> i64 {
    let now = chrono::Utc::now().timestamp();
    now - now % 60
}

/// The labelled pushes, relative to the minute the test starts.
struct Pushes {
    /// In the history (a session whose production push is then), clean; soak over.
    history: i64,
    spike: i64,
    drift: i64,
    clean: [i64; 2],
}

impl Pushes {
    fn new(now: i64) -> Self {
        Self {
            history: now - 40 * 60,
            spike: now - DAY - 3 * 3600,
            drift: now - 2 * DAY - 5 * 3600,
            clean: [now - 4 * DAY - 2 * 3600, now - 6 * DAY - 9 * 3600],
        }
    }
}

/// Requests a minute: a daily and a weekly cycle with a little jitter.
fn traffic(t: i64) -> f64 {
    let day = (t % DAY) as f64 / DAY as f64 * TAU;
    let week = (t % WEEK) as f64 / WEEK as f64 * TAU;
    let jitter = ((t / 60) * 7919 % 13) as f64;
    1000.0 + 400.0 * day.sin() + 150.0 * week.sin() + jitter
}

/// Minutes `t` is into the half hour after `push`, if it is.
fn into_soak(t: i64, push: i64) -> Option<f64> {
    (t >= push && t < push + 30 * 60).then(|| (t - push) as f64 / 60.0)
}

type Points = Vec<(i64, Option<f64>)>;

/// Two weeks of the 2xx and 5xx series (the oldest push's week-earlier window is in them),
/// with the spike and the drift at their pushes.
fn series(p: &Pushes) -> (Points, Points) {
    let now = now_minute();
    let from = now - 14 * DAY;
    let n = ((now - from) / 60) as usize;
    let ok = metrics_servers::minutes(from, n, |i| {
        let t = from + 60 * i as i64;
        // Traffic drifting down 1.5% a minute after the push.
        let drift = into_soak(t, p.drift).map_or(1.0, |m| 1.0 - 1.5 * m / 100.0);
        Some(traffic(t) * drift)
    });
    let err = metrics_servers::minutes(from, n, |i| {
        let t = from + 60 * i as i64;
        let spike = if into_soak(t, p.spike).is_some() {
            10.0
        } else {
            1.0
        };
        Some(traffic(t) / 100.0 * spike)
    });
    (ok, err)
}

fn graphite(p: &Pushes) -> Server {
    let (ok, err) = series(p);
    metrics_servers::graphite(&[
        ("stats.addons.response.200", ok),
        ("stats.addons.response.500", err),
    ])
}

fn prometheus(p: &Pushes) -> Server {
    let (ok, err) = series(p);
    metrics_servers::prometheus(&[
        ("amo_responses{code=\"200\"}", ok),
        ("amo_responses{code=\"500\"}", err),
    ])
}

fn rfc3339(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn run(env: &Env, server: &Server, args: &[&str]) -> std::process::Output {
    env.cmd()
        .env("PUSHDUTY_HTTP_TIMEOUT", "10")
        .args([AMO, "--now", "2015-09-10"])
        .args(["--set", &format!("services.graphite.url={}", server.url)])
        .args(args)
        .output()
        .unwrap()
}

/// The check's verdict at `push` from `--json`.
fn check_at(json: &Value, push: i64) -> &Value {
    json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["push"] == rfc3339(push))
        .unwrap_or_else(|| panic!("no check at {}: {json:#}", rfc3339(push)))
}

fn row_at<'a>(json: &'a Value, push: i64, series: &str) -> &'a Value {
    json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["push"] == rfc3339(push) && r["series"] == series)
        .unwrap_or_else(|| panic!("no row {series} at {}: {json:#}", rfc3339(push)))
}

#[test]
fn the_backtest_gives_each_labelled_push_its_label() {
    let p = Pushes::new(now_minute());
    let server = graphite(&p);
    let env = Env::new();
    support::cli::approve_and_push(|args| run(&env, &server, args), p.history);
    let before = support::cli::written(&env);

    let ats: Vec<String> = [p.spike, p.drift, p.clean[0], p.clean[1]]
        .iter()
        .map(|&t| format!("--at={}", rfc3339(t)))
        .collect();
    let mut args = vec!["judge", "--backtest", "--json"];
    args.extend(ats.iter().map(String::as_str));
    let out = run(&env, &server, &args);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();

    assert_eq!(check_at(&json, p.history)["source"], "history", "{json:#}");
    assert_eq!(check_at(&json, p.history)["verdict"], "pass", "{json:#}");
    assert_labels(&json, &p);

    // The spike (errors 10x) would be marginal from an allowed change the size of its rise
    // over the nearer baseline on: about 900%, moved by the daily cycle between the windows.
    let errors = row_at(&json, p.spike, "server errors");
    assert_eq!(errors["allowed_percent"], 20.0);
    let flip = &errors["flips"][0];
    assert_eq!(flip["side"], "from", "{errors}");
    assert_eq!(flip["verdict"], "marginal", "{errors}");
    let at = flip["allowed_percent"].as_f64().unwrap();
    let rise = spike_rise(p.spike);
    assert!((at - rise).abs() < 0.01, "expected {rise}: {errors}");
    assert!((750.0..1050.0).contains(&at), "{errors}");
    // Thirty points after, sixty before, thirty a week earlier.
    assert_eq!(
        errors["points"],
        serde_json::json!({"soak": 30, "before": 60, "week": 30})
    );

    // The same as one table.
    let mut text_args = vec!["judge", "--backtest"];
    text_args.extend(ats.iter().map(String::as_str));
    let out = run(&env, &server, &text_args);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("push (UTC)        from     step            series         verdict"),
        "{text}"
    );
    assert!(
        lines[0].ends_with("points    flips at (allowed change)"),
        "{text}"
    );
    let spike_day = chrono::DateTime::from_timestamp(p.spike, 0)
        .unwrap()
        .format("%Y-%m-%d %H:%M")
        .to_string();
    let spike_errors = lines
        .iter()
        .find(|l| l.starts_with(&spike_day) && l.contains("server errors"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        spike_errors.contains("--at     watch-graphite  server errors  fail")
            && spike_errors.contains("30/60/30")
            && spike_errors.contains("marginal from "),
        "{spike_errors}"
    );
    assert!(
        text.contains("not judged: watch-sentry (sentry.check: its event rate is not back-tested)"),
        "{text}"
    );
    // One block per push and step, newest first: 5 pushes, 2 series and the check's row each.
    assert_eq!(lines.len(), 1 + 5 * 3 + 1, "{text}");

    // A team tries a looser limit for server errors: the spike would then have passed.
    let mut loose = vec![
        "--set",
        "services.graphite.series.server errors.max_rise_percent=2000",
        "judge",
        "--json",
    ];
    let at_spike = format!("--at={}", rfc3339(p.spike));
    loose.push(&at_spike);
    let out = run(&env, &server, &loose);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["checks"].as_array().unwrap().len(), 1, "{json:#}");
    assert_eq!(check_at(&json, p.spike)["verdict"], "pass", "{json:#}");
    assert_eq!(
        row_at(&json, p.spike, "server errors")["allowed_percent"],
        2000.0
    );

    // Read only: no journal line, no lock, no log.
    assert_eq!(support::cli::written(&env), before);
}

/// The seeded server errors' rise at the spike, in percent: the smaller of its median's rise
/// over the hour before and over the same half hour a week earlier (the judge's step from
/// "both baselines fail" to "one passes").
fn spike_rise(spike: i64) -> f64 {
    let errors = |from: i64, minutes: i64, times: f64| -> Vec<f64> {
        (0..minutes)
            .map(|m| traffic(from + 60 * m) / 100.0 * times)
            .collect()
    };
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        let n = v.len();
        (v[(n - 1) / 2] + v[n / 2]) / 2.0
    };
    let soak = median(errors(spike, 30, 10.0));
    [errors(spike - 3600, 60, 1.0), errors(spike - WEEK, 30, 1.0)]
        .into_iter()
        .map(|base| (soak / median(base) - 1.0) * 100.0)
        .fold(f64::INFINITY, f64::min)
}

/// The seeded labels: the clean pushes pass, the spike fails on server errors, the drift is
/// marginal on traffic.
fn assert_labels(json: &Value, p: &Pushes) {
    for clean in p.clean {
        assert_eq!(check_at(json, clean)["verdict"], "pass", "{json:#}");
    }
    let spike = check_at(json, p.spike);
    assert_eq!(spike["verdict"], "fail", "{spike}");
    assert_eq!(row_at(json, p.spike, "server errors")["verdict"], "fail");
    assert_eq!(row_at(json, p.spike, "all responses")["verdict"], "pass");
    let drift = check_at(json, p.drift);
    assert_eq!(drift["verdict"], "marginal", "{drift}");
    assert_eq!(
        row_at(json, p.drift, "all responses")["verdict"],
        "marginal"
    );
    assert_eq!(json["not_judged"], serde_json::json!(["watch-sentry"]));
}

#[test]
fn prometheus_backtests_the_same_pushes_the_same_way() {
    let p = Pushes::new(now_minute());
    let server = prometheus(&p);
    let env = Env::new();
    let mut cmd = env.cmd();
    cmd.env("PUSHDUTY_HTTP_TIMEOUT", "10").args([
        "--runbook=runbooks/amo-push-prometheus.toml",
        "--set",
        &format!("services.prometheus.url={}", server.url),
        "judge",
        "--json",
    ]);
    for t in [p.spike, p.drift, p.clean[0], p.clean[1]] {
        cmd.arg(format!("--at={}", rfc3339(t)));
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["checks"].as_array().unwrap().len(), 4, "{json:#}");
    assert_labels(&json, &p);
}

#[test]
fn the_backtest_needs_a_moment_and_says_where_to_find_one() {
    let env = Env::new();
    let out = env
        .cmd()
        .args([AMO, "judge", "--backtest"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("no production push of `AMO weekly push` in the history to judge: give a moment with --at TIME"),
        "{}",
        stderr(&out)
    );
    // A push whose journal does not load is said, not left out quietly.
    let broken = env.path().join("state/sessions/amo-weekly-push/2015-09-03");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(broken.join("journal.jsonl"), "{\"time\": 3}\n").unwrap();
    let out = env
        .cmd()
        .args([AMO, "judge", "--backtest"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stderr(&out)
            .contains("pushduty: the push of 2015-09-03 is left out: its journal does not load: "),
        "{}",
        stderr(&out)
    );
    let out = env.cmd().args([AMO, "judge"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = env
        .cmd()
        .args([AMO, "judge", "--at", "yesterday"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("is not an RFC 3339 moment"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn an_unreachable_graphite_is_unknown_with_why_and_exit_1() {
    let env = Env::new();
    let out = env
        .cmd()
        .env("PUSHDUTY_HTTP_TIMEOUT", "3")
        .args([AMO, "--set", "services.graphite.url=http://127.0.0.1:9"])
        .args(["judge", "--at", "2026-11-26T14:00:00Z"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(text.contains("all series     unknown"), "{text}");
    assert!(text.contains("graphite could not be read"), "{text}");
    assert!(
        stderr(&out).contains("the back-test is incomplete"),
        "{}",
        stderr(&out)
    );
}

/// A soak that has only begun: the watch says how many points it has of the few it needs, and
/// about how long until it has them, instead of a row of "unknown".
#[test]
fn a_soak_that_just_began_says_how_much_data_is_missing() {
    let server = graphite(&Pushes::new(now_minute()));
    let env = Env::new();
    // The push is now, once the server is up: seeding it takes a while.
    let now = chrono::Utc::now().timestamp();
    support::cli::approve_and_push(|args| run(&env, &server, args), now);
    let out = run(
        &env,
        &server,
        &[
            "--set",
            "steps.watch-graphite.soak_minutes=0.1",
            "--set",
            "steps.watch-graphite.poll_seconds=1",
            "do",
            "watch-graphite",
            "--yes",
        ],
    );
    let all = format!("{}\n{}", stdout(&out), stderr(&out));
    assert!(
        all.contains("too little data for a verdict yet: 0 of 5 points; about 5 min to go"),
        "{all}"
    );
}
