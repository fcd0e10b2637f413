//! The stage deploy through the real binary against the Jenkins stand-in: the whole flow, a
//! kill -9 in the middle or in the trigger's window (the build is followed, never triggered
//! twice), a trigger Jenkins redirects or does not answer, a build lost track of or gone,
//! every failure said with what to do, and the stage check.

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::stage;
use crate::support;
use crate::support::cli::{Env, stderr, stdout};
use crate::support::jenkins::{Config, Fault, Jenkins};

const RB: &str = "--runbook=tests/fixtures/runbooks/valid/deploy.toml";

struct Rig {
    env: Env,
    jenkins: Jenkins,
}

impl Rig {
    fn new(config: Config) -> Self {
        Self {
            env: Env::new(),
            jenkins: Jenkins::start(config),
        }
    }

    fn cmd(&self, args: &[&str]) -> Command {
        cmd(&self.env, &self.jenkins, args)
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    fn journal(&self) -> Vec<Value> {
        stage::journal(&self.env)
    }
}

/// `pushduty ARGS` against `jenkins`.
fn cmd(env: &Env, jenkins: &Jenkins, args: &[&str]) -> Command {
    stage::cmd(
        env,
        RB,
        ("PUSHDUTY_JENKINS_TOKEN", "t0k"),
        &[
            format!("services.stage.url={}", jenkins.url()),
            "services.stage.user=andym".into(),
        ],
        args,
    )
}

fn console(lines: &[&str]) -> Vec<String> {
    lines.iter().map(|s| s.to_string()).collect()
}

#[test]
fn a_deploy_triggers_once_follows_the_build_and_records_it() {
    let r = Rig::new(Config {
        console_lines: console(&["Deploying 2015.09.10", "Migrating", "Done"]),
        build_ms: 3000,
        ..Config::default()
    });
    let out = r.run(&["do", "deploy", "--yes"]);
    let said = stderr(&out);
    assert!(out.status.success(), "{said}");
    assert_eq!(r.jenkins.triggers(), 1);
    assert_eq!(
        r.jenkins.params(0),
        [("TAG".to_string(), "2015.09.10".to_string())]
    );
    for line in [
        "queued: ",
        "build #1 started",
        "  Deploying 2015.09.10",
        "  Migrating",
        "  Finished: SUCCESS",
        "build #1 succeeded",
    ] {
        assert!(said.contains(line), "{line}: {said}");
    }
    let printed = stdout(&out);
    assert!(printed.contains("build_result = SUCCESS"), "{printed}");
    assert!(printed.contains("build_number = 1"), "{printed}");
    let j = r.journal();
    let checkpoints: Vec<&Value> = j.iter().filter(|e| e["event"] == "checkpoint").collect();
    assert!(checkpoints[0]["values"]["queue_item"].is_string(), "{j:?}");
    assert_eq!(checkpoints[1]["values"]["build_number"], 1);
    // The action names the tag: a re-tag would make this deploy run again.
    let done = j.iter().find(|e| e["to"] == "done").unwrap();
    assert!(
        done["action"].as_str().unwrap().contains("TAG=2015.09.10"),
        "{done}"
    );
    // status reports the job's last build.
    let st = r.run(&["status", "--json"]);
    let v: Value = serde_json::from_slice(&st.stdout).unwrap();
    let last = &v["jenkins"]["stage"]["last_build"];
    assert_eq!(last["number"], 1, "{v}");
    assert_eq!(last["result"], "SUCCESS");
    assert_eq!(last["tag"], "2015.09.10");
    assert_eq!(last["building"], false);
    assert_eq!(v["jenkins"]["stage"]["error"], Value::Null);
}

#[test]
fn killed_while_following_the_build_it_resumes_without_a_second_trigger() {
    for (phase, key) in [("build", "build_number"), ("queue", "queue_item")] {
        let r = Rig::new(Config {
            queue_ms: if phase == "queue" { 1500 } else { 100 },
            build_ms: 2500,
            console_lines: console(&["Deploying", "Done"]),
            ..Config::default()
        });
        stage::kill_at_checkpoint(&r.env, r.cmd(&["do", "deploy", "--yes"]), key, |v| {
            v.is_string() | v.is_u64()
        });
        let out = r.run(&["do", "deploy", "--yes"]);
        let said = stderr(&out);
        assert!(out.status.success(), "{phase}: {said}");
        assert!(
            said.contains("which this step's earlier run"),
            "{phase}: {said}"
        );
        assert!(said.contains("not triggering another"), "{phase}: {said}");
        assert!(said.contains("Finished: SUCCESS"), "{phase}: {said}");
        assert_eq!(r.jenkins.triggers(), 1, "{phase}: triggered twice");
        assert!(stdout(&out).contains("build_result = SUCCESS"));
    }
}

#[test]
fn every_failure_says_what_to_do() {
    let cases: Vec<(Fault, &str)> = vec![
        (Fault::TriggerStatus(409), "cannot be built now"),
        (
            Fault::TriggerStatus(404),
            "Jenkins has no job `deploy/addons-stage`",
        ),
        (
            Fault::TriggerStatus(400),
            "is job `deploy/addons-stage` parameterized",
        ),
        (
            Fault::TriggerRateLimited(30),
            "HTTP 429 Too Many Requests: Too Many Requests (stand-in fault). Jenkins (or a proxy \
             before it) is limiting pushduty's requests: wait 30s, as its Retry-After says, then \
             try again (a refused request changed nothing)",
        ),
        (Fault::TriggerStatus(500), "Jenkins failed; try again"),
        (
            Fault::Unauthorized,
            "Jenkins refused the credentials of `andym`",
        ),
        (Fault::MalformedJson, "not the expected JSON"),
        (Fault::Hang, "no answer within 2s"),
        (
            Fault::QueueCancelled,
            "cancelled in Jenkins before it started",
        ),
    ];
    for (fault, said) in cases {
        let r = Rig::new(Config::default());
        r.jenkins.set_fault(fault);
        let out = r.run(&["do", "deploy", "--yes"]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{fault:?}: {err}");
        assert!(err.contains(said), "{fault:?}: wanted `{said}` in {err}");
        assert!(!err.contains("t0k"), "{fault:?}: the token was printed");
        let reason = stage::failure(&r.env, format_args!("{fault:?}"));
        assert!(reason.contains(said), "{fault:?}: {reason}");
    }
}

#[test]
fn a_failed_build_shows_its_console_tail_and_an_unstable_one_warns() {
    let r = Rig::new(Config {
        result: "FAILURE".into(),
        build_ms: 300,
        console_lines: console(&["Deploying", "ERROR: migration 0042 failed"]),
        ..Config::default()
    });
    let out = r.run(&["do", "deploy", "--yes"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("build #1 ended FAILURE"), "{err}");
    assert!(err.contains("ERROR: migration 0042 failed"), "{err}");

    let r = Rig::new(Config {
        result: "UNSTABLE".into(),
        build_ms: 300,
        ..Config::default()
    });
    let out = r.run(&["do", "deploy", "--yes"]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("warning: build #1 is UNSTABLE"), "{err}");
}

#[test]
fn without_credentials_the_deploy_says_what_to_configure() {
    let r = Rig::new(Config::default());
    let out = r
        .env
        .cmd()
        .args([RB, "--now", "2015-09-08", "do", "deploy", "--yes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("service `stage` has no user: set `services.stage.user`"),
        "{}",
        stderr(&out)
    );
    assert_eq!(r.jenkins.triggers(), 0);
}

#[test]
fn the_stage_check_waits_for_the_tag() {
    let r = Rig::new(Config::default());
    let stage = support::cli::serve_text("{\"version\": \"2015.09.10\"}");
    let out = r.run(&[
        "--set",
        &format!("links.stage={stage}"),
        "do",
        "verify",
        "--yes",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("shows 2015.09.10"),
        "{}",
        stderr(&out)
    );

    let r = Rig::new(Config::default());
    let old = support::cli::serve_text("{\"version\": \"2015.09.03\"}");
    let out = r.run(&[
        "--set",
        &format!("links.stage={old}"),
        "do",
        "verify",
        "--yes",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("did not show `2015.09.10` within 3s"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_queue_item_jenkins_forgot_is_traced_to_its_build() {
    // The build starts and ends between two reads of the queue item, which Jenkins then
    // forgets: the build that names the item is the one.
    let r = Rig::new(Config {
        queue_ms: 50,
        build_ms: 50,
        ..Config::default()
    });
    let out = r.run(&["do", "deploy", "--yes"]);
    let said = stderr(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("build #1 came from it"), "{said}");
    assert_eq!(r.jenkins.triggers(), 1);
}

#[test]
fn the_operators_config_points_the_deploy_and_its_preview_elsewhere() {
    let r = Rig::new(Config::default());
    std::fs::write(
        r.env.config(),
        format!(
            "operator = \"tester\"\n[services.stage]\nurl = \"{}\"\nuser = \"andym\"\n",
            r.jenkins.url()
        ),
    )
    .unwrap();
    let out = r
        .env
        .cmd()
        .env("PUSHDUTY_JENKINS_TOKEN", "t0k")
        .args([RB, "--now", "2015-09-08", "do", "deploy", "--yes"])
        .output()
        .unwrap();
    let said = stderr(&out);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains(&format!(
            "deploy: POST {}/job/deploy/job/addons-stage/buildWithParameters TAG=2015.09.10",
            r.jenkins.url()
        )),
        "the confirmation names where it goes: {said}"
    );
    assert_eq!(r.jenkins.triggers(), 1);
}

#[test]
fn killed_in_the_trigger_window_it_finds_the_build_and_never_triggers_another() {
    // Jenkins has queued the build but pushduty dies before hearing of it: nothing of it is
    // journaled. Resumed while the build waits, runs, or has ended; and with an older Jenkins
    // that answers the trigger with a redirect.
    for phase in ["waiting", "running", "ended", "redirected"] {
        let r = Rig::new(Config {
            queue_ms: if phase == "waiting" { 3000 } else { 100 },
            build_ms: if phase == "ended" { 200 } else { 2000 },
            console_lines: console(&["Deploying", "Done"]),
            ..Config::default()
        });
        if phase == "redirected" {
            r.jenkins.set_fault(Fault::TriggerRedirect);
        }
        r.jenkins.set_trigger_delay(Duration::from_millis(1500));
        stage::kill_when(r.cmd(&["do", "deploy", "--yes"]), "the trigger", || {
            r.jenkins.triggers() == 1
        });
        assert!(!stage::checkpointed(&r.env, "queue_item"), "{phase}");
        r.jenkins.set_trigger_delay(Duration::ZERO);
        if phase == "ended" {
            stage::wait_for("the build to end", || r.jenkins.deployed().is_some());
        }
        let out = r.run(&["do", "deploy", "--yes"]);
        stage::found_not_started_again(
            &out,
            phase,
            "pushduty stopped before Jenkins named a build",
            "following it, not triggering another",
            &r.jenkins.requests(),
        );
        assert_eq!(r.jenkins.triggers(), 1, "{phase}: triggered twice");
        assert!(stdout(&out).contains("build_result = SUCCESS"), "{phase}");
        assert!(stdout(&out).contains("build_number = 1"), "{phase}");
    }
}

#[test]
fn a_trigger_redirected_to_the_job_page_is_looked_for_not_followed() {
    let r = Rig::new(Config::default());
    r.jenkins.set_fault(Fault::TriggerRedirect);
    let out = r.run(&["do", "deploy", "--yes"]);
    let said = stderr(&out);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("Jenkins took the trigger but answered HTTP 302 Found without a queue item"),
        "{said}"
    );
    assert!(
        said.contains("following it, not triggering another"),
        "{said}"
    );
    assert_eq!(r.jenkins.triggers(), 1);
    let requests = r.jenkins.requests();
    let job_page = "GET /job/deploy/job/addons-stage/";
    assert!(
        !requests.iter().any(|q| q == job_page),
        "the redirect was followed: {requests:?}"
    );
    assert_eq!(stage::posts(&requests), 1, "{requests:?}");
}

#[test]
fn a_trigger_jenkins_took_without_answering_is_found_and_followed() {
    let r = Rig::new(Config::default());
    // Longer than the 2s the requests may take: the trigger gets no answer.
    r.jenkins.set_trigger_delay(Duration::from_secs(3));
    let out = r.run(&["do", "deploy", "--yes"]);
    let said = stderr(&out);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("no answer within 2s); Jenkins may have queued it anyway: looking for it"),
        "{said}"
    );
    assert!(
        said.contains("following it, not triggering another"),
        "{said}"
    );
    assert_eq!(r.jenkins.triggers(), 1);
}

#[test]
fn after_losing_track_of_a_running_build_the_next_run_follows_it() {
    let r = Rig::new(Config {
        queue_ms: 100,
        build_ms: 9000,
        console_lines: console(&["Deploying", "Done"]),
        ..Config::default()
    });
    let mut first = r
        .cmd(&["do", "deploy", "--yes"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    stage::wait_for("the build to start", || {
        stage::checkpointed(&r.env, "build_number")
    });
    // Jenkins fails every read for a while: pushduty gives up on following the build.
    r.jenkins.set_fault(Fault::ReadStatus(503));
    assert_eq!(first.wait().unwrap().code(), Some(1));
    let reason = stage::failure(&r.env, "503s");
    assert!(reason.contains("lost track of build #1"), "{reason}");
    assert!(
        reason.contains("running this step again follows it while it runs"),
        "{reason}"
    );
    r.jenkins.set_fault(Fault::None);

    let version = support::cli::serve_text("{\"version\": \"2015.09.10\"}");
    let out = r.run(&["--set", &format!("links.stage={version}"), "run", "--auto"]);
    let said = format!("{}{}", stdout(&out), stderr(&out));
    assert!(
        said.contains("build #1 of these parameters is running"),
        "{said}"
    );
    assert!(
        said.contains("following it, not triggering another"),
        "{said}"
    );
    assert!(said.contains("build #1 succeeded"), "{said}");
    assert_eq!(r.jenkins.triggers(), 1, "a second deploy while #1 ran");
}

#[test]
fn a_build_jenkins_no_longer_has_is_said_to_be_missing_not_the_job() {
    let env = Env::new();
    let jenkins = Jenkins::start(Config {
        build_ms: 5000,
        ..Config::default()
    });
    let port = jenkins.addr().port();
    stage::kill_at_checkpoint(
        &env,
        cmd(&env, &jenkins, &["do", "deploy", "--yes"]),
        "build_number",
        |v| v.is_u64(),
    );
    // Jenkins comes back without its builds (a rehearsal's stand-ins restarted).
    drop(jenkins);
    let jenkins = Jenkins::start(Config {
        port,
        ..Config::default()
    });
    assert_eq!(jenkins.addr().port(), port);
    let out = cmd(&env, &jenkins, &["do", "deploy", "--yes"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(
            "Jenkins has no build #1 of `deploy/addons-stage` (not started yet, or deleted)"
        ),
        "{err}"
    );
    assert!(
        err.contains("if build #1 was deleted, running this step again triggers a new one"),
        "{err}"
    );
    assert!(!err.contains("has no job"), "{err}");
    assert_eq!(jenkins.triggers(), 0);

    let out = cmd(&env, &jenkins, &["do", "deploy", "--yes"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(jenkins.triggers(), 1);
}
