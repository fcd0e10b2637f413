//! What the stage deploy's tests share, through Jenkins (`deploy`) or a GitHub Actions
//! workflow (`actions_deploy`): the command against a stand-in, a kill -9 at a checkpoint,
//! and the reason a failed deploy journals.

use std::fmt::Display;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support;
use crate::support::cli::Env;

/// The deploy's session: the push of 2015-09-10, run on 2015-09-08.
const SESSION: &str = "deploy/2015-09-10";

/// `pushduty RUNBOOK --now 2015-09-08 SETS… ARGS…` in `env`, the service's token in the
/// environment variable `token.0` and a 2s limit on its requests; each of `sets` follows a
/// `--set`.
pub fn cmd(
    env: &Env,
    runbook: &str,
    token: (&str, &str),
    sets: &[String],
    args: &[&str],
) -> Command {
    let mut c = env.cmd();
    c.env(token.0, token.1)
        .env("PUSHDUTY_HTTP_TIMEOUT", "2")
        .args([runbook, "--now", "2015-09-08"]);
    for set in sets {
        c.args(["--set", set]);
    }
    c.args(args);
    c
}

pub fn journal(env: &Env) -> Vec<Value> {
    support::cli::journal(env, SESSION)
}

/// Starts `deploy` (its output thrown away), waits at most 15s until the journal holds a
/// checkpoint whose `key` passes `set`, then kills it with SIGKILL.
pub fn kill_at_checkpoint(env: &Env, deploy: Command, key: &str, set: impl Fn(&Value) -> bool) {
    kill_when(deploy, &format!("a {key} checkpoint"), || {
        journal(env)
            .iter()
            .any(|e| e["event"] == "checkpoint" && set(&e["values"][key]))
    });
}

/// Starts `deploy` (its output thrown away), waits at most 15s until `now` holds (`what`
/// names it), then kills it with SIGKILL.
pub fn kill_when(mut deploy: Command, what: &str, now: impl Fn() -> bool) {
    let mut child = deploy
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for(what, now);
    child.kill().unwrap();
    child.wait().unwrap();
}

/// Waits at most 15s until `done` holds (`what` names it).
#[track_caller]
pub fn wait_for(what: &str, done: impl Fn() -> bool) {
    let end = Instant::now() + Duration::from_secs(15);
    while !done() {
        assert!(Instant::now() < end, "never came: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// How many of a stand-in's `requests` were POSTs: a trigger or a dispatch asked for.
pub fn posts(requests: &[String]) -> usize {
    requests.iter().filter(|q| q.starts_with("POST ")).count()
}

/// Checks a deploy run again after a kill in its trigger's window: it succeeded, said it
/// looked for what the stopped run may have started (`stopped`) and followed it (`followed`),
/// and the service was asked to start one (`requests` are the service's). Its stderr.
#[track_caller]
pub fn found_not_started_again(
    out: &Output,
    case: impl Display,
    stopped: &str,
    followed: &str,
    requests: &[String],
) -> String {
    let said = crate::support::cli::stderr(out);
    assert!(out.status.success(), "{case}: {said}");
    assert!(said.contains(stopped), "{case}: {said}");
    assert!(said.contains(followed), "{case}: {said}");
    // A second request could be merged with a waiting one: asked once, not twice.
    assert_eq!(posts(requests), 1, "{case}: asked again: {said}");
    said
}

/// Whether the journal holds a checkpoint with `key`.
pub fn checkpointed(env: &Env, key: &str) -> bool {
    journal(env)
        .iter()
        .any(|e| e["event"] == "checkpoint" && !e["values"][key].is_null())
}

/// The reason the deploy's last transition gives, asserting that it failed and gave one
/// (`case` names what the test tried).
#[track_caller]
pub fn failure(env: &Env, case: impl Display) -> String {
    let last = journal(env)
        .into_iter()
        .rev()
        .find(|e| e["event"] == "step")
        .unwrap();
    assert_eq!(last["to"], "failed", "{case}: {last}");
    last["reason"]
        .as_str()
        .unwrap_or_else(|| panic!("{case}: no reason: {last}"))
        .to_string()
}
