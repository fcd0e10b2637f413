//! The `github.release` steps through the real binary against the GitHub stand-in: a draft
//! made once at the commit shown, with the body shown whole; published once; read back. A
//! draft someone made meanwhile (GitHub's 422 `already_exists`) is found on the next run; a
//! spent rate limit says when to try again; a repo GitHub does not have is said plainly. The
//! token is never printed or journaled.

use std::process::Output;

use crate::support::cli::{Env, journal, stderr, stdout};
use crate::support::github::{self, Fault, Github};

const FIXTURE: &str = "--runbook=tests/fixtures/runbooks/valid/releases.toml";
const GH_TOKEN: &str = "ghp_rel3ase_s3cret";
/// Where the stand-in's `main` is.
const MAIN: &str = "6dcb09b5b57875f334f61aebed695e2e4193db5e";
const BODY: &str =
    "This week's push hero is @ana.\n\n## Before we start\n- [ ] check the blockers\n";

struct Rig {
    env: Env,
    gh: Github,
}

impl Rig {
    fn new() -> Self {
        Self {
            env: Env::new(),
            gh: Github::start(github::Config {
                repo: "mozilla/addons-server".into(),
                token: GH_TOKEN.into(),
                ..github::Config::default()
            }),
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        self.env
            .cmd()
            .env("PUSHDUTY_GITHUB_TOKEN", GH_TOKEN)
            .env("PUSHDUTY_HTTP_TIMEOUT", "2")
            .args([
                FIXTURE,
                "--now",
                "2015-09-08",
                "--set",
                &format!("services.gh.api_url={}", self.gh.url()),
            ])
            .args(args)
            .output()
            .unwrap()
    }

    fn patches(&self) -> usize {
        self.gh
            .requests()
            .iter()
            .filter(|r| r.starts_with("PATCH "))
            .count()
    }

    /// Everything printed plus the journal: where the token must never be.
    fn assert_no_token(&self, outs: &[&Output]) {
        let mut all: String = outs
            .iter()
            .map(|o| format!("{}{}", stdout(o), stderr(o)))
            .collect();
        for e in journal(&self.env, "releases/2015-09-10") {
            all.push_str(&e.to_string());
        }
        assert!(!all.contains(GH_TOKEN), "the token leaked: {all}");
    }
}

#[test]
fn a_draft_is_made_once_at_the_commit_shown_then_published_once() {
    let r = Rig::new();
    let first = r.run(&["do", "draft", "--yes"]);
    assert!(first.status.success(), "{}", stderr(&first));
    let shown = stderr(&first);
    for line in [
        "draft release 2015.09.10 of mozilla/addons-server",
        &format!("target: main at {MAIN}"),
        "title: 2015.09.10",
        "| This week's push hero is @ana.",
        "| - [ ] check the blockers",
    ] {
        assert!(shown.contains(line), "`{line}` not shown: {shown}");
    }
    let rel = r.gh.releases();
    assert_eq!(rel.len(), 1);
    assert!(rel[0].draft);
    assert_eq!(rel[0].tag_name, "2015.09.10");
    assert_eq!(rel[0].body, BODY);
    assert_eq!(
        rel[0].target_commitish, MAIN,
        "the commit shown, not the branch"
    );
    assert!(
        stdout(&first).contains("release_state = draft"),
        "{}",
        stdout(&first)
    );

    // GitHub's by-tag lookup does not see a draft: the list does, and nothing is made twice.
    let again = r.run(&["do", "draft", "--yes", "--reopen", "again"]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("nothing to do"),
        "{}",
        stderr(&again)
    );
    assert_eq!(r.gh.releases().len(), 1, "no second draft");

    let publish = r.run(&["do", "publish", "--yes"]);
    assert!(publish.status.success(), "{}", stderr(&publish));
    assert!(
        stderr(&publish).contains(&format!(
            "publish draft release 2015.09.10 of mozilla/addons-server: GitHub creates tag 2015.09.10 at {MAIN}"
        )),
        "{}",
        stderr(&publish)
    );
    assert!(!r.gh.releases()[0].draft, "published");
    assert_eq!(r.patches(), 1);

    let twice = r.run(&["do", "publish", "--yes", "--reopen", "again"]);
    assert!(twice.status.success(), "{}", stderr(&twice));
    assert!(
        stderr(&twice).contains("is published already"),
        "{}",
        stderr(&twice)
    );
    assert_eq!(r.patches(), 1, "a published release is not published again");

    // An item added on GitHub is read with the release.
    let id = r.gh.releases()[0].id;
    r.gh.edit_release(
        id,
        &format!("{BODY}- [ ] run `./manage.py addnewversion firefox '109.0'`\n"),
    );
    let read = r.run(&["do", "read", "--yes"]);
    assert!(read.status.success(), "{}", stderr(&read));
    let journaled = journal(&r.env, "releases/2015-09-10");
    let items = journaled
        .iter()
        .rev()
        .find_map(|e| e["outputs"].get("release_items").cloned())
        .unwrap_or_else(|| panic!("no release_items journaled: {journaled:?}"));
    assert_eq!(items[0]["text"], "check the blockers");
    assert_eq!(items[0]["phase"], "before_we_start");
    assert_eq!(
        items[1]["command"], "./manage.py addnewversion firefox '109.0'",
        "{items}"
    );
    assert!(
        stdout(&read).contains("release_state = published"),
        "{}",
        stdout(&read)
    );
    // They are items of this push now, each once, the command among them shown as written.
    let items = |r: &Rig| -> Vec<String> {
        let shown = r.run(&["show", "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["text"].as_str().unwrap().to_string())
            .collect()
    };
    let taken = items(&r);
    assert!(
        taken.contains(&"check the blockers".to_string()),
        "{taken:?}"
    );
    assert!(
        taken.contains(&"run `./manage.py addnewversion firefox '109.0'`".to_string()),
        "{taken:?}"
    );
    let again = r.run(&["do", "read", "--yes", "--reopen", "look again"]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(items(&r), taken, "each once");
    r.assert_no_token(&[&first, &again, &publish, &twice, &read]);
}

#[test]
fn a_draft_made_meanwhile_is_refused_by_github_then_found() {
    let r = Rig::new();
    r.gh.beat_to_next_release();
    let out = r.run(&["do", "draft", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let said = stderr(&out);
    assert!(said.contains("HTTP 422"), "{said}");
    assert!(
        said.contains("a release of this tag exists already")
            && said.contains("run the step again"),
        "{said}"
    );
    let next = r.run(&["do", "draft", "--yes"]);
    assert!(next.status.success(), "{}", stderr(&next));
    assert!(stderr(&next).contains("nothing to do"), "{}", stderr(&next));
    let rel = r.gh.releases();
    assert_eq!(rel.len(), 1, "{rel:?}");
    assert_eq!(rel[0].body, "drafted by someone else", "theirs is kept");
}

#[test]
fn a_spent_rate_limit_says_when_to_try_again() {
    let r = Rig::new();
    r.gh.set_fault(Fault::RateLimit);
    let out = r.run(&["do", "draft", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let said = stderr(&out);
    assert!(said.contains("HTTP 403"), "{said}");
    assert!(
        said.contains("rate limit for this token is spent: try again after ")
            && said.contains(" UTC"),
        "{said}"
    );
    assert!(r.gh.releases().is_empty());
    r.assert_no_token(&[&out]);
}

#[test]
fn a_repo_github_does_not_have_is_said_plainly() {
    let r = Rig::new();
    let out = r.run(&[
        "--set",
        "repos.server.github=mozilla/addons-nowhere",
        "do",
        "publish",
        "--yes",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let said = stderr(&out);
    assert!(said.contains("HTTP 404"), "{said}");
    assert!(
        said.contains("GitHub has no repo `mozilla/addons-nowhere`"),
        "{said}"
    );
}

#[test]
fn publishing_without_a_draft_says_to_draft_first() {
    let r = Rig::new();
    let out = r.run(&["do", "publish", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("mozilla/addons-server has no release of 2015.09.10: draft it first"),
        "{}",
        stderr(&out)
    );
}
