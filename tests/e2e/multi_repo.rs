//! The bundled two-repo runbook (`runbooks/amo-2019.toml`) end to end through `pushduty do`,
//! on two real repositories with bare remotes whose release tags differ: the server is tagged
//! from master, the frontend from cherry-picks and re-tagged after a blocker, so each repo ends
//! with its own revision; one stage deploy takes both tags.

use serde_json::Value;

use crate::support;
use crate::support::cli::{Env, stderr};
use crate::support::etherpad::{Config as EtherpadConfig, Etherpad};
use crate::support::gitrepo::{Fixture, git};
use crate::support::jenkins::{Config as JenkinsConfig, Jenkins};

const RB: &str = "--runbook=runbooks/amo-2019.toml";

/// A repo shaped like the real ones: `upstream` remote, `master` branch, and these release
/// tags on successive commits, pushed.
fn repo(tags: &[&str]) -> Fixture {
    let f = Fixture::new();
    git(&f.work, &["remote", "rename", "origin", "upstream"]);
    git(&f.work, &["branch", "-q", "-m", "main", "master"]);
    git(&f.work, &["push", "-q", "upstream", "master"]);
    git(&f.work, &["branch", "-q", "-u", "upstream/master"]);
    for (i, t) in tags.iter().enumerate() {
        f.commit(
            &format!("release-{i}.txt"),
            "r\n",
            &format!("Release work {i}"),
        );
        git(&f.work, &["tag", t]);
        git(&f.work, &["push", "-q", "upstream", "master", t]);
    }
    f
}

/// An Etherpad with this push's notes page, made by the previous hero.
fn pad() -> Etherpad {
    let pad = Etherpad::start(EtherpadConfig {
        key: "pad-key".into(),
        ..Default::default()
    });
    pad.set_pad("amo-2019-01-10", "Notes of the push of 2019-01-10");
    pad
}

struct Push {
    env: Env,
    server: Fixture,
    frontend: Fixture,
    jenkins: Jenkins,
    pad: Etherpad,
}

impl Push {
    fn run(&self, args: &[&str]) -> std::process::Output {
        self.env
            .cmd()
            .env("PUSHDUTY_JENKINS_TOKEN", "t0k")
            .env("PUSHDUTY_ETHERPAD_KEY", "pad-key")
            .arg(format!("--set=services.etherpad.url={}", self.pad.url()))
            .args([RB, "--now", "2019-01-08"])
            .arg(format!(
                "--set=repos.server.path={}",
                self.server.work.display()
            ))
            .arg(format!(
                "--set=repos.frontend.path={}",
                self.frontend.work.display()
            ))
            .arg(format!(
                "--set=services.stage-deploy.url={}",
                self.jenkins.url()
            ))
            .arg("--set=services.stage-deploy.user=andym")
            .args(args)
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        support::push::step_ok(|a| self.run(a), args)
    }

    fn show(&self) -> Value {
        let out = self.run(&["show", "--json"]);
        assert!(out.status.success(), "{}", stderr(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

#[test]
fn two_repos_each_with_its_own_revision_then_one_deploy() {
    let p = Push {
        env: Env::new(),
        // Last week the server shipped 2019.01.03; the frontend was re-tagged twice.
        server: repo(&["2019.01.03"]),
        frontend: repo(&["2019.01.03", "2019.01.03-1", "2019.01.03-2"]),
        jenkins: Jenkins::start(JenkinsConfig {
            job: "addons-stage-deploy".into(),
            build_ms: 200,
            ..Default::default()
        }),
        pad: pad(),
    };
    let server_work = p.server.commit("api.py", "v2\n", "Add the v4 API");
    git(&p.server.work, &["push", "-q", "upstream", "master"]);
    p.frontend
        .commit("feature.js", "wip\n", "Start the new header (not ready)");
    let fix = p
        .frontend
        .commit("search.js", "fixed\n", "Fix search suggestions");
    git(&p.frontend.work, &["push", "-q", "upstream", "master"]);

    p.ok(&["check-rotation"]);
    p.ok(&["fetch-server"]);
    p.ok(&["fetch-frontend"]);
    // Both repos cherry-pick, interleaved: each tag must take its own repo's picks (the
    // frontend's, made last, must not stand in for the server's).
    p.ok(&["strategy-server", "--input", "strategy_server=cherry_pick"]);
    p.ok(&[
        "strategy-frontend",
        "--input",
        "strategy_frontend=cherry_pick",
    ]);
    let out = p.ok(&[
        "cherry-pick-server",
        "--input",
        &format!("commits={}", &server_work[..10]),
    ]);
    assert!(out.contains("starting from 2019.01.03"), "{out}");
    let out = p.ok(&[
        "cherry-pick-frontend",
        "--input",
        &format!("commits={}", &fix[..10]),
    ]);
    assert!(out.contains("starting from 2019.01.03-2"), "{out}");
    assert!(p.ok(&["tag-server-picks"]).contains("2019.01.10"));
    assert!(p.ok(&["tag-frontend-picks"]).contains("2019.01.10"));
    p.ok(&["push-server"]);
    let out = p.ok(&["compare-server"]);
    assert!(
        out.contains("https://github.com/mozilla/addons-server/compare/2019.01.03...2019.01.10"),
        "{out}"
    );
    p.ok(&["notes-compare-server"]);
    p.ok(&["push-frontend"]);

    // A blocker in the frontend: a second fix, picked onto this push's tag: 2019.01.10-1 for
    // the frontend only.
    let second = p
        .frontend
        .commit("header.js", "fixed\n", "Fix the header crash");
    git(&p.frontend.work, &["push", "-q", "upstream", "master"]);
    p.ok(&["fetch-frontend", "--reopen", "blocker: header crash"]);
    p.ok(&[
        "cherry-pick-frontend",
        "--reopen",
        "blocker: header crash",
        "--input",
        &format!("commits={}", &second[..10]),
    ]);
    // The tag step went back to pending by itself: what it would tag changed.
    let out = p.ok(&["tag-frontend-picks"]);
    assert!(out.contains("2019.01.10-1"), "{out}");
    // The push of 2019.01.10 no longer is this push's: it runs again without a reopen.
    p.ok(&["push-frontend"]);
    let out = p.ok(&["compare-frontend"]);
    assert!(
        out.contains(
            "https://github.com/mozilla/addons-frontend/compare/2019.01.03-2...2019.01.10-1"
        ),
        "{out}"
    );
    p.ok(&["notes-compare-frontend"]);
    // This push's page has each repo's own link (the frontend's for its `-1`).
    let page = p.pad.pad("amo-2019-01-10").unwrap();
    assert!(
        page.contains("Pushing addons-server 2019.01.10: https://github.com/mozilla/addons-server/compare/2019.01.03...2019.01.10"),
        "{page}"
    );
    assert!(
        page.contains("Pushing addons-frontend 2019.01.10-1: https://github.com/mozilla/addons-frontend/compare/2019.01.03-2...2019.01.10-1"),
        "{page}"
    );

    // Each repo's remote has exactly its own tags; none moved.
    let server_tag = p.server.remote_rev("refs/tags/2019.01.10").unwrap();
    assert_eq!(
        git(&p.server.work, &["rev-parse", &format!("{server_tag}^")]),
        p.server.rev("2019.01.03"),
        "the server's pick, onto the server's release"
    );
    let files = git(
        &p.server.work,
        &["show", "--name-only", "--format=", &server_tag],
    );
    assert_eq!(files, "api.py");
    assert_eq!(p.server.remote_rev("refs/tags/2019.01.10-1"), None);
    let first = p.frontend.remote_rev("refs/tags/2019.01.10").unwrap();
    let picked = p.frontend.remote_rev("refs/tags/2019.01.10-1").unwrap();
    assert_eq!(
        git(&p.frontend.work, &["rev-parse", &format!("{picked}^")]),
        first
    );
    assert_eq!(
        git(&p.frontend.work, &["rev-parse", &format!("{first}^")]),
        p.frontend.rev("2019.01.03-2")
    );
    let show = p.show();
    assert_eq!(show["tags"]["server"], "2019.01.10");
    assert_eq!(show["tags"]["frontend"], "2019.01.10-1");
    // The server's steps were not made stale by the frontend's re-tag.
    for s in show["steps"].as_array().unwrap() {
        let id = s["id"].as_str().unwrap();
        if id.ends_with("-server") && id != "tag-server-master" {
            assert_eq!(s["status"], "done", "{id}: {}", s["stale_reason"]);
        }
    }

    // One deploy with both revisions.
    let out = p.ok(&["deploy-stage"]);
    assert!(out.contains("build_result = SUCCESS"), "{out}");
    let params = p.jenkins.params(0);
    assert!(
        params.contains(&("SERVER_TAG".into(), "2019.01.10".into())),
        "{params:?}"
    );
    assert!(
        params.contains(&("FRONTEND_TAG".into(), "2019.01.10-1".into())),
        "{params:?}"
    );
}

#[test]
fn the_plan_names_each_repos_own_tag_and_previous_release() {
    let p = Push {
        env: Env::new(),
        server: repo(&["2019.01.03"]),
        frontend: repo(&["2019.01.03", "2019.01.03-1", "2019.01.03-2"]),
        jenkins: Jenkins::start(JenkinsConfig::default()),
        pad: pad(),
    };
    let out = p.run(&["plan", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    let repos = &plan["vars"]["repos"];
    assert_eq!(repos["server"]["previous_tag"], "2019.01.03");
    assert_eq!(repos["frontend"]["previous_tag"], "2019.01.03-2");
    assert_eq!(repos["server"]["tag"], "2019.01.10");
    assert_eq!(
        repos["frontend"]["compare_url"],
        "https://github.com/mozilla/addons-frontend/compare/2019.01.03-2...2019.01.10"
    );
}
