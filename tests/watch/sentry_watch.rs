//! The bundled runbook's `watch-sentry` through the binary against the Sentry stand-in: a
//! quiet push passes, a new issue fails it with its link (at once, mid-soak), a spent rate
//! limit is waited out, and a refused token, a hang or a broken answer each end it with what
//! to fix.

use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support;
use crate::support::cli::{Env, stderr, stdout};
use crate::support::sentry::{Config, Fault, Issue, Sentry};

const WEEK: i64 = 7 * 24 * 3600;
const TOKEN: &str = "sntrys_watch_t0ken";

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A stand-in for the bundled runbook's project, with a steady 20 events a minute around the
/// push and a week earlier, and one old issue that must not count as new.
fn sentry(push: i64) -> Sentry {
    let mut events = Vec::new();
    for base in [push - WEEK, push] {
        let from = base - base % 60 - 70 * 60;
        for m in 0..120 {
            let t = from + m * 60;
            if t <= now() {
                events.push((t, 20 + (m % 3) as u64));
            }
        }
    }
    Sentry::start(Config {
        org: "mkt".into(),
        project: "addonsmozillaorg".into(),
        token: TOKEN.into(),
        issues: vec![Issue::new(
            1,
            "OldError: seen for months",
            push - 90 * 24 * 3600,
        )],
        events,
        window_secs: 2,
        ..Config::default()
    })
}

struct Push {
    env: Env,
    runbook: String,
    url: String,
}

impl Push {
    /// The production push happened at `push` (QA approved first).
    fn new(runbook: &str, url: &str, push: i64) -> Self {
        let p = Self {
            env: Env::new(),
            runbook: format!("--runbook={runbook}"),
            url: url.to_string(),
        };
        support::cli::approve_and_push(|args| p.run(args), push);
        p
    }

    fn cmd(&self, args: &[&str]) -> std::process::Command {
        let mut c = self.env.cmd();
        c.env("PUSHDUTY_HTTP_TIMEOUT", "2")
            .env("PUSHDUTY_SENTRY_TOKEN", TOKEN)
            .args([self.runbook.as_str(), "--now", "2015-09-10", "--set"])
            .arg(format!("services.sentry.url={}", self.url))
            .args(args);
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    fn last(&self) -> Value {
        support::cli::journal(&self.env, "amo-weekly-push/2015-09-10")
            .into_iter()
            .rev()
            .find(|e| e["event"] == "step" && e["step"] == "watch-sentry")
            .unwrap_or(Value::Null)
    }
}

/// 40 minutes ago, on the minute: the soak is over.
fn past_push() -> i64 {
    let n = now();
    n - n % 60 - 40 * 60
}

fn bundled(stand_in: &Sentry, push: i64) -> Push {
    Push::new("runbooks/amo-push.toml", stand_in.url(), push)
}

#[test]
fn a_quiet_push_passes_and_old_issues_do_not_count() {
    let push = past_push();
    let s = sentry(push);
    let p = bundled(&s, push);
    let out = p.run(&["do", "watch-sentry", "--yes"]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let done = p.last();
    assert_eq!(done["to"], "done", "{done}");
    assert_eq!(done["outputs"]["new_issues"], 0, "{done}");
    assert_eq!(done["outputs"]["sentry_verdict"], "pass", "{done}");
    // It asked for issues first seen since the push, of this project, newest first.
    let asked = s
        .seen()
        .into_iter()
        .find(|r| r.path.ends_with("/issues/"))
        .unwrap();
    let q = asked.param("query").unwrap().to_string();
    let since = chrono::DateTime::from_timestamp(push, 0)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    assert!(q.contains(&format!("firstSeen:>={since}")), "{q}");
    assert_eq!(asked.param("project"), Some("addonsmozillaorg"));
    assert_eq!(
        asked.authorization.as_deref(),
        Some(&*format!("Bearer {TOKEN}"))
    );
}

/// The finding: with too few event counts the rate's verdict is unknown and the step passed
/// as if it had been judged. It still passes on its new issues, and says that is all it judged.
#[test]
fn a_pass_without_enough_event_counts_says_it_rests_on_new_issues_alone() {
    // A push that just happened, watched for three seconds (as a rehearsal does): the
    // minute-long buckets after it are too few to judge.
    let push = now() - 1;
    let s = sentry(push);
    let p = bundled(&s, push);
    let out = p.run(&[
        "--set",
        "steps.watch-sentry.soak_minutes=0.05",
        "do",
        "watch-sentry",
        "--yes",
    ]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let done = p.last();
    assert_eq!(done["to"], "done", "{done}");
    assert_eq!(done["outputs"]["sentry_verdict"], "unknown", "{done}");
    let summary = done["outputs"]["sentry_summary"].as_str().unwrap();
    assert!(
        summary.starts_with("0 new issues (at most 0); event rate not judged (too few points")
            && summary.ends_with("this pass rests on the new issues alone"),
        "{summary}"
    );
    assert!(
        stderr(&out).contains("this pass rests on the new issues alone")
            || stdout(&out).contains("this pass rests on the new issues alone"),
        "{}\n{}",
        stdout(&out),
        stderr(&out)
    );
}

#[test]
fn a_new_issue_fails_the_watch_with_its_link() {
    let push = past_push();
    let s = sentry(push);
    s.add_issue(Issue::new(7, "TypeError: addon.slug is None", push + 300));
    let p = bundled(&s, push);
    let out = p.run(&["do", "watch-sentry", "--yes"]);
    assert!(!out.status.success());
    let failed = p.last();
    assert_eq!(failed["to"], "failed", "{failed}");
    let reason = failed["reason"].as_str().unwrap();
    assert!(reason.contains("1 new issue since the push"), "{reason}");
    assert!(reason.contains("TypeError: addon.slug is None"), "{reason}");
    assert!(reason.contains("http"), "the permalink: {reason}");
    assert!(!stderr(&out).contains(TOKEN));
    // Shown and reported as lines: the issue on its own line, never a literal `\n`, and not
    // cut after the line that announces it.
    let shown = stdout(&p.run(&["show", "watch-sentry"]));
    assert!(!shown.contains("\\n"), "{shown}");
    assert!(
        shown.contains("      why: 1 new issue since the push (at most 0 allowed):\n        "),
        "{shown}"
    );
    let report = stdout(&p.run(&["report"]));
    assert!(
        report.contains("(at most 0 allowed):\n      - ")
            && report.contains("TypeError: addon.slug is None"),
        "{report}"
    );
}

#[test]
fn an_issue_that_appears_mid_soak_fails_it_at_once() {
    // A copy of the bundled runbook that asks every second; the soak has 40 s to go.
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string("runbooks/amo-push.toml").unwrap();
    let fast = text.replacen(
        "max_new_issues = 0\n",
        "max_new_issues = 0\npoll_seconds = 1\n",
        1,
    );
    assert_ne!(text, fast);
    std::fs::create_dir_all(dir.path().join("runbooks")).unwrap();
    std::fs::create_dir_all(dir.path().join("templates")).unwrap();
    for t in ["push-notes.md", "push-email.txt"] {
        std::fs::copy(
            format!("templates/{t}"),
            dir.path().join("templates").join(t),
        )
        .unwrap();
    }
    let rb = dir.path().join("runbooks/amo-push.toml");
    std::fs::write(&rb, fast).unwrap();
    let push = now() - 30 * 60 + 40;
    let s = sentry(push);
    let p = Push::new(rb.to_str().unwrap(), s.url(), push);
    let mut child = p
        .cmd(&["do", "watch-sentry", "--yes"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    assert!(child.try_wait().unwrap().is_none(), "still watching");
    let appeared = Instant::now();
    s.add_issue(Issue::new(9, "KeyError: 'guid'", now()));
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    assert!(
        appeared.elapsed() < Duration::from_secs(15),
        "failed as soon as it was seen, not at the end of the soak"
    );
    let reason = p.last()["reason"].as_str().unwrap().to_string();
    assert!(reason.contains("KeyError: 'guid'"), "{reason}");
}

#[test]
fn a_spent_rate_limit_is_waited_out() {
    let push = past_push();
    let s = sentry(push);
    s.set_fault(Fault::RateLimited(1));
    let p = bundled(&s, push);
    let out = p.run(&["do", "watch-sentry", "--yes"]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    assert!(stderr(&out).contains("waiting"), "{}", stderr(&out));
    assert_eq!(p.last()["outputs"]["new_issues"], 0);
}

#[test]
fn a_refused_token_ends_it_with_what_to_fix() {
    let push = past_push();
    let s = sentry(push);
    let p = bundled(&s, push);
    let out = p
        .cmd(&["do", "watch-sentry", "--yes"])
        .env("PUSHDUTY_SENTRY_TOKEN", "not-the-token")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let reason = p.last()["reason"].as_str().unwrap().to_string();
    assert!(reason.contains("refused the token"), "{reason}");
    assert!(reason.contains("services.sentry.token"), "{reason}");
    assert!(!reason.contains("not-the-token"), "{reason}");
}

#[test]
fn a_hanging_or_broken_sentry_fails_it_in_bounded_time() {
    let push = past_push();
    for (fault, says) in [
        (Fault::Hang, "no answer within 2s"),
        (Fault::Malformed, "not"),
    ] {
        let s = sentry(push);
        s.set_fault(fault);
        let p = bundled(&s, push);
        let started = Instant::now();
        let out = p.run(&["do", "watch-sentry", "--yes"]);
        assert!(!out.status.success(), "{fault:?}");
        assert!(started.elapsed() < Duration::from_secs(60), "{fault:?}");
        let reason = p.last()["reason"].as_str().unwrap().to_string();
        assert!(reason.contains(says), "{fault:?}: {reason}");
    }
}

#[test]
fn status_reports_new_issues_since_the_production_push() {
    let push = past_push();
    let s = sentry(push);
    s.add_issue(Issue::new(7, "TypeError: addon.slug is None", push + 300));
    let p = bundled(&s, push);
    let out = p.run(&["status", "--json"]);
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let sentry = &v["sentry"]["sentry"];
    assert_eq!(sentry["new_issues"], 1, "{sentry}");
    assert_eq!(sentry["top"][0]["title"], "TypeError: addon.slug is None");
    assert!(sentry["top"][0]["permalink"].is_string(), "{sentry}");
    assert!(sentry["error"].is_null(), "{sentry}");
    assert!(sentry["events"].as_array().unwrap().len() > 60, "{sentry}");
}

#[test]
fn the_pane_waits_out_a_spent_rate_limit_without_asking_again() {
    use pushduty::services::SentryConf;
    use pushduty::sources::health::{Backoff, Moment, Timing, sentry_snapshot};
    let push = past_push();
    // A minute-long rate-limit window, so the wait outlasts the test.
    let s = Sentry::start(Config {
        org: "mkt".into(),
        project: "addonsmozillaorg".into(),
        token: TOKEN.into(),
        window_secs: 60,
        ..Config::default()
    });
    let conf = SentryConf {
        name: "sentry".into(),
        url: s.url().to_string(),
        org: "mkt".into(),
        project: "addonsmozillaorg".into(),
        environment: None,
        token: Ok(pushduty::secret::Secret::new(TOKEN)),
    };
    let moment = Moment::default();
    moment.set(Some(push));
    let timing = Timing {
        push: moment,
        began: push - 3600,
        soak_secs: 1800,
        baseline_secs: 3600,
    };
    let backoff = std::sync::Mutex::new(Backoff::default());
    let first = sentry_snapshot(std::slice::from_ref(&conf), &timing, &backoff).unwrap();
    assert!(
        first[0].starts_with("0 new issues since the push"),
        "{first:?}"
    );
    s.set_fault(Fault::RateLimited(1));
    let limited = sentry_snapshot(std::slice::from_ref(&conf), &timing, &backoff).unwrap_err();
    assert!(
        limited.contains("429") || limited.contains("rate limit"),
        "{limited}"
    );
    let asked = s.seen().len();
    let waiting = sentry_snapshot(std::slice::from_ref(&conf), &timing, &backoff).unwrap();
    assert_eq!(
        s.seen().len(),
        asked,
        "not asked again while the limit is spent"
    );
    assert!(
        waiting[0].starts_with("0 new issues since the push"),
        "{waiting:?}"
    );
    assert!(
        waiting
            .last()
            .unwrap()
            .starts_with("Sentry's rate limit is spent: next look at"),
        "{waiting:?}"
    );
}
