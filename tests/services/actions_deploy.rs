//! The stage deploy through a GitHub Actions workflow, through the real binary against the
//! GitHub stand-in: the whole flow, a kill -9 while following or in the dispatch's window (the
//! run is followed, never dispatched twice), a run lost track of and found again by its title,
//! every failure said with what to do and without the token, a failed run naming its failed
//! job and step.

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::stage;
use crate::support::cli::{Env, stderr, stdout};
use crate::support::github::{Config, Fault, Github};

const RB: &str = "--runbook=tests/fixtures/runbooks/valid/deploy-actions.toml";
const TOKEN: &str = "ghp_s3cret";

struct Rig {
    env: Env,
    github: Github,
}

impl Rig {
    fn new(config: Config) -> Self {
        Self {
            env: Env::new(),
            github: Github::start(config),
        }
    }

    fn cmd(&self, args: &[&str]) -> Command {
        stage::cmd(
            &self.env,
            RB,
            ("PUSHDUTY_GITHUB_TOKEN", TOKEN),
            &[format!("services.stage.api_url={}", self.github.url())],
            args,
        )
    }

    fn deploy(&self) -> Output {
        self.cmd(&["do", "deploy", "--yes"]).output().unwrap()
    }

    fn journal(&self) -> Vec<Value> {
        stage::journal(&self.env)
    }

    /// The reason the deploy's last transition gives, checking it failed.
    #[track_caller]
    fn failure(&self, case: impl std::fmt::Display) -> String {
        stage::failure(&self.env, case)
    }
}

#[test]
fn a_deploy_dispatches_once_follows_the_run_and_records_it() {
    let r = Rig::new(Config::default());
    let out = r.deploy();
    let said = stderr(&out);
    assert!(out.status.success(), "{said}");
    assert_eq!(r.github.dispatches(), 1);
    let body: Value = serde_json::from_str(&r.github.dispatch_body(0)).unwrap();
    assert_eq!(body["ref"], "main");
    assert_eq!(body["inputs"]["tag"], "2015.09.10");
    assert_eq!(body["inputs"]["environment"], "stage");
    assert_eq!(
        r.github.dispatch_header(0, "accept").as_deref(),
        Some("application/vnd.github+json")
    );
    assert_eq!(
        r.github
            .dispatch_header(0, "x-github-api-version")
            .as_deref(),
        Some("2022-11-28")
    );
    let link = r.github.run_url(0);
    for line in [
        "/repos/mozilla/addons-server/actions/workflows/deploy-stage.yml/dispatches",
        &format!("run #40: {link}"),
        "job `build`: started",
        "build › Build image: success",
        "job `deploy`: success",
        "job `deploy`: started",
        "deploy › Migrate: success",
        "run #40 succeeded",
    ] {
        assert!(said.contains(line), "{line}: {said}");
    }
    assert!(!said.contains("Switch: queued"), "{said}");
    let printed = stdout(&out);
    assert!(printed.contains("build_result = SUCCESS"), "{printed}");
    assert!(printed.contains("build_number = 40"), "{printed}");
    assert!(printed.contains(&link), "{printed}");
    let j = r.journal();
    let checkpoints: Vec<&Value> = j.iter().filter(|e| e["event"] == "checkpoint").collect();
    assert!(
        checkpoints[0]["values"]["dispatched_at"].is_string(),
        "{j:?}"
    );
    assert_eq!(checkpoints[1]["values"]["run_id"], 9000);
    assert_eq!(checkpoints[1]["values"]["run_url"], link.as_str());
}

#[test]
fn killed_while_following_it_resumes_the_same_run_without_a_second_dispatch() {
    // Killed once the run is known, and once between the dispatch and the run showing.
    for (key, list_ms) in [("run_id", 100), ("dispatched_at", 1500)] {
        let r = Rig::new(Config {
            list_ms,
            run_ms: 2500,
            ..Config::default()
        });
        stage::kill_at_checkpoint(&r.env, r.cmd(&["do", "deploy", "--yes"]), key, |v| {
            !v.is_null()
        });
        let out = r.deploy();
        let said = stderr(&out);
        assert!(out.status.success(), "{key}: {said}");
        assert!(said.contains("before pushduty stopped"), "{key}: {said}");
        assert!(said.contains("run #40 succeeded"), "{key}: {said}");
        assert_eq!(r.github.dispatches(), 1, "{key}: dispatched twice");
        assert!(stdout(&out).contains("build_result = SUCCESS"));
    }
}

#[test]
fn every_failure_says_what_to_do_and_never_the_token() {
    let cases: Vec<(Fault, &str)> = vec![
        (
            Fault::DispatchStatus(404),
            "GitHub has no workflow `deploy-stage.yml` in `mozilla/addons-server`",
        ),
        (
            Fault::DispatchStatus(403),
            "it needs the Actions write permission",
        ),
        (Fault::DispatchStatus(502), "GitHub failed; try again"),
        (
            Fault::RateLimit,
            "GitHub's rate limit for this token is spent: try again after",
        ),
        (Fault::Hang, "no answer within 2s"),
        (Fault::MalformedJson, "not the expected JSON"),
        (
            Fault::DispatchStatus(429),
            "HTTP 429 Too Many Requests: stand-in fault. GitHub's rate limit for this token is \
             spent: try again after 60s",
        ),
    ];
    for (fault, said) in cases {
        let r = Rig::new(Config::default());
        r.github.set_fault(fault);
        let out = r.deploy();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{fault:?}: {err}");
        assert!(err.contains(said), "{fault:?}: wanted `{said}` in {err}");
        assert!(!err.contains(TOKEN), "{fault:?}: the token was printed");
        assert!(
            r.failure(format_args!("{fault:?}")).contains(said),
            "{fault:?}"
        );
    }
    // No answer to the dispatch may still have started the workflow.
    let r = Rig::new(Config::default());
    r.github.set_dispatch_delay(Duration::from_secs(3));
    assert!(
        stderr(&r.deploy()).contains("may have started anyway: look at"),
        "hang"
    );

    let r = Rig::new(Config {
        dispatchable: false,
        ..Config::default()
    });
    let out = r.deploy();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("needs a `workflow_dispatch` trigger"), "{err}");
    assert!(
        err.contains("does not have 'workflow_dispatch' trigger"),
        "{err}"
    );

    let r = Rig::new(Config {
        token: "another".into(),
        ..Config::default()
    });
    let out = r.deploy();
    let err = stderr(&out);
    assert!(
        err.contains("GitHub refused the token of service `stage`"),
        "{err}"
    );
    assert!(!err.contains(TOKEN), "the token was printed");
}

#[test]
fn a_failed_run_names_its_failed_job_and_step() {
    for conclusion in ["failure", "cancelled", "timed_out"] {
        let r = Rig::new(Config {
            conclusion: conclusion.into(),
            run_ms: 600,
            ..Config::default()
        });
        let out = r.deploy();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{err}");
        let want = format!(
            "run #40 ended {conclusion}: job `deploy` {conclusion} at step 2 `Migrate`; its log: {}",
            r.github.run_url(0)
        );
        assert!(err.contains(&want), "{want}: {err}");
        assert!(r.failure(conclusion).contains(&want));
    }
}

#[test]
fn without_a_token_the_deploy_says_what_to_configure() {
    let r = Rig::new(Config::default());
    let out = r
        .cmd(&["do", "deploy", "--yes"])
        .env_remove("PUSHDUTY_GITHUB_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("service `stage` has no GitHub token"),
        "{}",
        stderr(&out)
    );
    assert_eq!(r.github.dispatches(), 0);
}

#[test]
fn killed_in_the_dispatch_window_it_finds_the_run_and_never_dispatches_another() {
    // GitHub has started the run but pushduty dies before hearing of it: nothing of it is
    // journaled, and GitHub lists the run only a moment later.
    let r = Rig::new(Config {
        list_ms: 1000,
        run_ms: 1500,
        ..Config::default()
    });
    r.github.set_dispatch_delay(Duration::from_millis(1500));
    stage::kill_when(r.cmd(&["do", "deploy", "--yes"]), "the dispatch", || {
        r.github.dispatches() == 1
    });
    assert!(!stage::checkpointed(&r.env, "dispatched_at"));
    r.github.set_dispatch_delay(Duration::ZERO);
    let out = r.deploy();
    let said = stage::found_not_started_again(
        &out,
        "killed",
        "pushduty stopped before GitHub named a run",
        "following it, not dispatching another",
        &r.github.requests(),
    );
    assert_eq!(r.github.dispatches(), 1, "dispatched twice");
    assert!(said.contains("run #40 succeeded"), "{said}");
}

#[test]
fn a_dispatch_github_redirects_is_not_followed() {
    let r = Rig::new(Config::default());
    r.github.set_fault(Fault::DispatchMoved);
    let out = r.deploy();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "GitHub answered HTTP 307 Temporary Redirect, sending it to {}/repos/mozilla/addons-server-renamed/",
            r.github.url()
        )),
        "{err}"
    );
    assert!(
        err.contains("not followed, so nothing was dispatched"),
        "{err}"
    );
    assert_eq!(r.github.dispatches(), 0);
    let requests = r.github.requests();
    assert!(
        !requests.iter().any(|q| q.contains("-renamed")),
        "the redirect was followed: {requests:?}"
    );
}

#[test]
fn a_run_lost_track_of_is_found_again_by_its_title_not_dispatched_twice() {
    // A run carries no inputs: only a workflow that titles its runs with the tag (`run-name`)
    // tells this push's run from another's. Without one, the run still going is only named.
    for titled in [true, false] {
        let r = Rig::new(Config {
            run_name: titled
                .then(|| "Deploy ${{ inputs.tag }} to ${{ inputs.environment }}".into()),
            list_ms: 100,
            run_ms: 9000,
            ..Config::default()
        });
        let mut first = r
            .cmd(&["do", "deploy", "--yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        stage::wait_for("the run", || stage::checkpointed(&r.env, "run_id"));
        // GitHub fails every read for a while: pushduty gives up on following the run.
        r.github.set_fault(Fault::ReadStatus(502));
        assert_eq!(first.wait().unwrap().code(), Some(1));
        let reason = r.failure("502s");
        assert!(reason.contains("lost track of run 9000"), "{reason}");
        assert!(
            reason.contains("running this step again follows it if its title names the tag"),
            "{reason}"
        );
        r.github.set_fault(Fault::None);

        let out = r.deploy();
        let said = stderr(&out);
        assert!(out.status.success(), "{titled}: {said}");
        if titled {
            assert!(said.contains("run #40 may be this push's"), "{said}");
            assert!(said.contains("run #40 succeeded"), "{said}");
            assert_eq!(r.github.dispatches(), 1, "a second run while the first ran");
        } else {
            assert!(
                said.contains("note: run #40 of the workflow on main is still running (http://"),
                "{said}"
            );
            assert!(
                said.contains("so it is not taken for this push's"),
                "{said}"
            );
            assert!(said.contains("run #41 succeeded"), "{said}");
            assert_eq!(r.github.dispatches(), 2);
        }
    }
}
