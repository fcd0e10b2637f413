//! Services that never finish answering: a body that never ends (fast, or a trickle), an
//! error page that never ends, no answer at all. Through every client (each stops reading at
//! its cap, or at the time limit, and says which service, what and how much), and through
//! `status`, which reads every service at once and stays small.

use std::process::Command;
use std::time::{Duration, Instant};

use pushduty::secret::Secret;
use pushduty::services::http::{block_on, is_transient};
use pushduty::services::{ActionsConf, EtherpadConf, etherpad, github, graphite, jenkins};
use pushduty::services::{prometheus, sentry as client};
use pushduty::standins::http::WireFault;
use serde_json::Value;

use crate::support::cli::Env;
use crate::support::{etherpad as pad, github as gh, jenkins as jk, peak, sentry};

/// The time limit of the in-process client (see `sentry_client::setup`).
const LIMIT: Duration = Duration::from_secs(2);

/// The error a call ended with, and how long it took.
fn failure<T: std::fmt::Debug>(
    call: impl std::future::Future<Output = anyhow::Result<T>>,
) -> (anyhow::Error, Duration) {
    super::sentry_client::setup();
    let started = Instant::now();
    let e = block_on(call).unwrap().unwrap_err();
    (e, started.elapsed())
}

/// A call against a service playing `WireFault::Endless` fails fast, past its cap.
#[track_caller]
fn capped<T: std::fmt::Debug>(
    call: impl std::future::Future<Output = anyhow::Result<T>>,
    said: &str,
) {
    let (e, took) = failure(call);
    let e = format!("{e:#}");
    assert!(e.contains(said), "{e}");
    assert!(e.contains("pushduty stopped reading"), "{e}");
    assert!(took < LIMIT, "took {took:?}: {e}");
}

fn sentry_client(url: &str) -> client::Sentry {
    client::Sentry::new(url, "mozilla", "addons", None, Secret::new("t0k"))
}

fn actions(url: &str) -> github::Actions {
    let conf = ActionsConf {
        name: "deploy".into(),
        api_url: url.into(),
        repo: "mozilla/addons-server".into(),
        workflow: "deploy-stage.yml".into(),
        git_ref: "main".into(),
        tag_input: "tag".into(),
        token: Ok(Secret::new("t0k")),
    };
    github::Actions::new(&conf, Secret::new("t0k"))
}

fn notes(url: &str) -> etherpad::Etherpad {
    let conf = EtherpadConf {
        name: "etherpad".into(),
        url: url.into(),
        api_version: "1.2.13".into(),
        pad: "amo".into(),
        key: Ok(Secret::new("k3y")),
    };
    etherpad::Etherpad::new(&conf, Secret::new("k3y"))
}

#[test]
fn every_client_stops_reading_an_endless_answer_at_its_cap() {
    let s = sentry::Sentry::start(sentry::Config::default());
    s.set_wire_fault(WireFault::Endless);
    let c = sentry_client(s.url());
    capped(
        c.new_issues(chrono::Utc::now(), None, 25),
        "Sentry's answer to listing new Sentry issues of `addons` passed 8 MiB",
    );
    capped(
        c.event_counts(0, 60, false),
        "Sentry's answer to reading the event counts of `addons` passed 8 MiB",
    );

    let j = jk::Jenkins::start(jk::Config::default());
    j.set_wire_fault(WireFault::Endless);
    let c = jenkins::Jenkins::new(j.url(), "deploy", "andym".into(), Secret::new("t0k"));
    capped(
        c.builds(5, "TAG"),
        "Jenkins' answer to reading the job's builds passed 8 MiB",
    );
    capped(
        c.queue(&format!("{}/queue/item/7", j.url())),
        "Jenkins' answer to reading the queue item passed 8 MiB",
    );
    // A console read holds what a build logged since the last one: roomier, still bounded.
    capped(
        c.console(1, 0),
        "Jenkins' answer to reading the console of build #1 passed 16 MiB",
    );

    let g = gh::Github::start(gh::Config::default());
    g.set_wire_fault(WireFault::Endless);
    let issues = github::Issues::new("github", g.url(), Secret::new("t0k"));
    capped(
        issues.open_blockers("mozilla/olympia", "blocker"),
        "GitHub's answer to reading the blockers of mozilla/olympia passed 8 MiB",
    );
    capped(
        actions(g.url()).run(1),
        "GitHub's answer to reading run 1 passed 8 MiB",
    );

    let e = pad::Etherpad::start(pad::Config::default());
    e.set_wire_fault(WireFault::Endless);
    capped(
        notes(e.url()).get_text("amo"),
        "Etherpad's answer to `getText` passed 8 MiB",
    );

    // Any stand-in plays the fault on any path: Graphite's here answers Prometheus' too.
    let m = pushduty::standins::graphite::Graphite::start(Default::default());
    m.set_wire_fault(WireFault::Endless);
    capped(
        graphite::Graphite::new(m.url()).range("sumSeries(a.*)", 0, 600),
        "Graphite's answer to reading `sumSeries(a.*)` passed 8 MiB",
    );
    capped(
        prometheus::Prometheus::new(m.url(), 60).range("sum(up)", 0, 600),
        "Prometheus' answer to reading `sum(up)` passed 8 MiB",
    );
}

#[test]
fn a_trickling_answer_ends_at_the_time_limit() {
    let s = sentry::Sentry::start(sentry::Config::default());
    s.set_wire_fault(WireFault::Trickle);
    let (e, took) = failure(sentry_client(s.url()).new_issues(chrono::Utc::now(), None, 25));
    let said = format!("{e:#}");
    assert!(
        said.contains("answered, but its answer did not end within 2s"),
        "{said}"
    );
    assert!(is_transient(&e), "a slow network may pass: {said}");
    assert!(took >= LIMIT && took < LIMIT * 2, "took {took:?}");
}

#[test]
fn an_endless_error_page_is_quoted_not_read_to_its_end() {
    let s = sentry::Sentry::start(sentry::Config::default());
    s.set_wire_fault(WireFault::EndlessError(502));
    let (e, took) = failure(sentry_client(s.url()).new_issues(chrono::Utc::now(), None, 25));
    let said = format!("{e:#}");
    assert!(said.contains("HTTP 502 Bad Gateway: [{\"id\""), "{said}");
    assert!(said.len() < 1000, "{said}");
    assert!(took < LIMIT, "took {took:?}");

    // The calls that read an error's body only to quote it: a trigger, a dispatch.
    let j = jk::Jenkins::start(jk::Config::default());
    j.set_wire_fault(WireFault::EndlessError(500));
    let c = jenkins::Jenkins::new(j.url(), "deploy", "andym".into(), Secret::new("t0k"));
    let (e, took) = failure(c.trigger(&[("TAG".into(), "2015.09.10".into())]));
    assert!(format!("{e:#}").contains("HTTP 500"), "{e:#}");
    assert!(took < LIMIT, "took {took:?}");

    let g = gh::Github::start(gh::Config::default());
    g.set_wire_fault(WireFault::EndlessError(422));
    let (e, took) = failure(actions(g.url()).dispatch(&[]));
    assert!(format!("{e:#}").contains("HTTP 422"), "{e:#}");
    assert!(took < LIMIT, "took {took:?}");
}

/// Every service `status` reads in the AMO runbook, each a stand-in playing `fault`.
struct Rig {
    env: Env,
    jenkins: jk::Jenkins,
    sentry: sentry::Sentry,
    graphite: pushduty::standins::graphite::Graphite,
    github: gh::Github,
}

impl Rig {
    fn new(fault: WireFault) -> Self {
        let rig = Self {
            env: Env::new(),
            jenkins: jk::Jenkins::start(jk::Config::default()),
            sentry: sentry::Sentry::start(sentry::Config::default()),
            graphite: pushduty::standins::graphite::Graphite::start(Default::default()),
            github: gh::Github::start(gh::Config::default()),
        };
        rig.jenkins.set_wire_fault(fault);
        rig.sentry.set_wire_fault(fault);
        rig.graphite.set_wire_fault(fault);
        rig.github.set_wire_fault(fault);
        rig
    }

    /// `status --json` with the HTTP time limit `limit` (seconds).
    fn status(&self, limit: &str) -> Command {
        let mut c = self.env.cmd();
        c.env("PUSHDUTY_HTTP_TIMEOUT", limit)
            .env("PUSHDUTY_JENKINS_TOKEN", "t0k")
            .env("PUSHDUTY_SENTRY_TOKEN", "t0k")
            .env("PUSHDUTY_GITHUB_TOKEN", "t0k")
            .args(["--runbook=runbooks/amo-push.toml", "--now", "2015-09-08"])
            .args(["--set", "services.stage-deploy.user=andym"]);
        for (key, url) in [
            ("stage-deploy.url", self.jenkins.url()),
            ("sentry.url", self.sentry.url()),
            ("graphite.url", self.graphite.url()),
            ("github.api_url", self.github.url()),
        ] {
            c.arg("--set").arg(format!("services.{key}={url}"));
        }
        c.args(["status", "--json"]);
        c
    }
}

/// Each service's error in `status --json`.
fn errors(json: &Value) -> Vec<(String, String)> {
    let at = [
        ("jenkins", "stage-deploy"),
        ("sentry", "sentry"),
        ("metrics", "graphite"),
        ("blockers", "github"),
    ];
    at.iter()
        .map(|(kind, name)| {
            let e = json[kind][name]["error"].as_str().unwrap_or_default();
            (format!("{kind}.{name}"), e.to_string())
        })
        .collect()
}

#[test]
fn status_reads_every_service_at_once() {
    let rig = Rig::new(WireFault::Hang);
    let out = peak::run(&mut rig.status("3"), 512);
    let json: Value = serde_json::from_str(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", out.stderr);
    });
    assert_eq!(out.code, Some(1), "{json}");
    for (service, e) in errors(&json) {
        assert!(e.contains("no answer within 3s"), "{service}: {e}");
    }
    // One time limit for all (with room for a loaded machine), not one per service read.
    assert!(
        out.elapsed < Duration::from_secs(6),
        "took {:?}",
        out.elapsed
    );
}

#[test]
fn status_with_endless_answers_says_so_per_service_in_little_memory() {
    let rig = Rig::new(WireFault::Endless);
    let out = peak::run(&mut rig.status("20"), 512);
    assert!(
        !out.killed,
        "killed past 512 MiB after {:?}: {}",
        out.elapsed, out.stderr
    );
    let json: Value = serde_json::from_str(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", out.stderr);
    });
    assert_eq!(out.code, Some(1), "{json}");
    for (service, e) in errors(&json) {
        assert!(e.contains("pushduty stopped reading"), "{service}: {e}");
    }
    eprintln!(
        "status with endless answers: peak RSS {} MiB in {:?}",
        out.peak_mib, out.elapsed
    );
    // Every service is read at once, each answer cut at its 8 MiB cap: usually about 55 MiB,
    // once 118 MiB when all the reads reached their caps together. Unbounded, an endless
    // answer passes the 512 MiB kill above within a second.
    assert!(out.peak_mib < 160, "peak RSS {} MiB", out.peak_mib);
}

#[test]
fn status_with_trickling_answers_ends_at_the_time_limit() {
    let rig = Rig::new(WireFault::Trickle);
    let out = peak::run(&mut rig.status("3"), 512);
    let json: Value = serde_json::from_str(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", out.stderr);
    });
    for (service, e) in errors(&json) {
        assert!(e.contains("did not end within 3s"), "{service}: {e}");
    }
    assert!(
        out.elapsed < Duration::from_secs(6),
        "took {:?}",
        out.elapsed
    );
}

#[test]
fn a_stage_page_that_never_ends_is_searched_in_its_start_only() {
    let stage = pushduty::standins::stage::Stage::try_start(Box::new(|| None), 0).unwrap();
    stage.set_wire_fault(WireFault::Endless);
    let env = Env::new();
    let mut verify = super::stage::cmd(
        &env,
        "--runbook=tests/fixtures/runbooks/valid/deploy.toml",
        ("PUSHDUTY_JENKINS_TOKEN", "t0k"),
        &[format!("links.stage={}", stage.url())],
        &["do", "verify", "--yes"],
    );
    let out = peak::run(&mut verify, 512);
    assert!(!out.killed, "killed past 512 MiB: {}", out.stderr);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.stderr.contains("did not show `2015.09.10` within 3s"),
        "{}",
        out.stderr
    );
    // Every service is read at once, each answer cut at its 8 MiB cap: usually about 55 MiB,
    // once 118 MiB when all the reads reached their caps together. Unbounded, an endless
    // answer passes the 512 MiB kill above within a second.
    assert!(out.peak_mib < 160, "peak RSS {} MiB", out.peak_mib);
}
