//! What the stage deploy's tests share, through Jenkins (`deploy`) or a GitHub Actions
//! workflow (`actions_deploy`): the command against a stand-in, a kill -9 at a checkpoint,
//! and the reason a failed deploy journals.

use std::fmt::Display;
use std::process::{Command, Stdio};
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
pub fn kill_at_checkpoint(env: &Env, mut deploy: Command, key: &str, set: impl Fn(&Value) -> bool) {
    let mut child = deploy
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let end = Instant::now() + Duration::from_secs(15);
    while !journal(env)
        .iter()
        .any(|e| e["event"] == "checkpoint" && set(&e["values"][key]))
    {
        assert!(
            Instant::now() < end,
            "no {key} checkpoint: {:?}",
            journal(env)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
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
