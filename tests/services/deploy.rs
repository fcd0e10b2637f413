//! The stage deploy through the real binary against the Jenkins stand-in: the whole flow, a
//! kill -9 in the middle (the build is followed, never triggered twice), every failure said
//! with what to do, and the stage check.

use std::process::{Command, Output};

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
        stage::cmd(
            &self.env,
            RB,
            ("PUSHDUTY_JENKINS_TOKEN", "t0k"),
            &[
                format!("services.stage.url={}", self.jenkins.url()),
                "services.stage.user=andym".into(),
            ],
            args,
        )
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    fn journal(&self) -> Vec<Value> {
        stage::journal(&self.env)
    }
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
        assert!(said.contains("before pushduty stopped"), "{phase}: {said}");
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
