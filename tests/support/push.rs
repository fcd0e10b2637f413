//! A push of `git-push.toml` through `pushduty do` on a real checkout with a bare remote.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Output;

use serde_json::Value;

use super::cli::{Env, stderr, stdout};
use super::gitrepo::Fixture;

pub const RUNBOOK: &str = "tests/fixtures/runbooks/valid/git-push.toml";

pub struct Push {
    pub env: Env,
    pub repo: Fixture,
}

impl Push {
    pub fn new() -> Self {
        Self {
            env: Env::new(),
            repo: Fixture::new(),
        }
    }

    /// A push whose previous release is `2015.09.03`, with a fix since (pushed), fetched,
    /// and main chosen to be tagged: ready for `tag-main`.
    pub fn ready_to_tag() -> Self {
        let p = Self::new();
        super::gitrepo::git(&p.repo.work, &["tag", "2015.09.03", "HEAD"]);
        super::gitrepo::git(&p.repo.work, &["push", "-q", "origin", "2015.09.03"]);
        p.repo.commit("a.txt", "a\n", "Fix one");
        super::gitrepo::git(&p.repo.work, &["push", "-q", "origin", "main"]);
        p.ok(&["fetch"]);
        p.ok(&["strategy", "--input", "strategy=master"]);
        p
    }

    pub fn args(&self) -> Vec<String> {
        [
            "--runbook",
            RUNBOOK,
            "--now",
            "2015-09-08",
            "--set",
            &format!("repos.app.path={}", self.repo.work.display()),
        ]
        .map(str::to_string)
        .to_vec()
    }

    pub fn run(&self, args: &[&str]) -> Output {
        let mut all = self.args();
        all.extend(args.iter().map(|s| s.to_string()));
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        self.env.run(&all)
    }

    /// Runs a step; panics with its output unless it succeeds.
    pub fn ok(&self, args: &[&str]) -> String {
        step_ok(|a| self.run(a), args)
    }

    /// Runs a step that must be refused; returns what it said.
    pub fn refused(&self, args: &[&str]) -> String {
        step_refused(|a| self.run(a), args)
    }

    pub fn dir(&self) -> PathBuf {
        self.env.path().join("state/sessions/git-push/2015-09-10")
    }

    pub fn session(&self) -> Value {
        serde_json::from_str(&std::fs::read_to_string(self.dir().join("session.json")).unwrap())
            .unwrap()
    }

    /// Every journal line, each parsed (a line that does not parse fails the test).
    pub fn journal(&self) -> Vec<Value> {
        std::fs::read_to_string(self.dir().join("journal.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }

    /// `show --json`.
    pub fn show(&self) -> Value {
        let out = self.run(&["show", "--json"]);
        assert!(out.status.success(), "{}", stderr(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

/// `do ARGS --yes` through `run`: its output, and its stdout then stderr as one text.
fn step(run: impl Fn(&[&str]) -> Output, args: &[&str]) -> (Output, String) {
    let mut all = vec!["do"];
    all.extend_from_slice(args);
    all.push("--yes");
    let out = run(&all);
    let said = format!("{}{}", stdout(&out), stderr(&out));
    (out, said)
}

/// Runs a step through `run`; panics with its output unless it succeeds, else returns it.
pub fn step_ok(run: impl Fn(&[&str]) -> Output, args: &[&str]) -> String {
    let (out, said) = step(run, args);
    assert!(out.status.success(), "do {args:?}: {said}");
    said
}

/// Runs a step through `run` that must be refused (exit 1); returns what it said.
pub fn step_refused(run: impl Fn(&[&str]) -> Output, args: &[&str]) -> String {
    let (out, said) = step(run, args);
    assert_eq!(
        out.status.code(),
        Some(1),
        "do {args:?} should be refused: {said}"
    );
    said
}
