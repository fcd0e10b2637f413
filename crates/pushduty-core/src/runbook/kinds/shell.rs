//! `shell`: runs a command, shown in full before it does. Values reach it in environment
//! variables, never inside its text (see [`crate::shell`]).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Kind, KindInfo, Rules};
use crate::preview::{Filler, repo_dir};
use crate::runbook::model::{Runbook, Step};

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShellStep {
    pub command: String,
    /// Run inside this repo's local checkout.
    #[serde(default)]
    pub repo: Option<String>,
    #[serde(default = "ten_minutes")]
    pub timeout_secs: u64,
    /// Environment variables passed to the command besides the minimal set (PATH, HOME,
    /// locale...): nothing else of pushduty's environment reaches it.
    #[serde(default)]
    pub env: Vec<String>,
}

fn ten_minutes() -> u64 {
    600
}

pub struct Shell;

impl Kind for Shell {
    type Fields = ShellStep;
    const INFO: KindInfo = KindInfo {
        name: "shell",
        side_effect: true,
        outputs: Some(&["exit_code"]),
        summary: "run a command, shown in full first",
    };

    fn check(s: &ShellStep, r: &mut Rules<'_, '_>) {
        if s.command.trim().is_empty() {
            r.err("command", "`command` is empty");
        }
        for e in crate::shell::check(&s.command) {
            r.err_in("command", &e);
        }
    }

    fn strings(s: &ShellStep) -> Vec<(&'static str, &str)> {
        vec![("command", &s.command)]
    }

    fn describe(s: &ShellStep, _: &Step, _: &Runbook, fl: &Filler<'_>) -> String {
        let dir = s
            .repo
            .as_deref()
            .map(|r| format!(" in {}", repo_dir(fl.ctx, r)))
            .unwrap_or_default();
        // As it will run: the values in variables before `sh -c`; a value not set yet shows
        // as a placeholder and the filler says why.
        let command = crate::shell::preview(&s.command, fl, &s.env);
        format!("{command}{dir} (timeout {}s)", s.timeout_secs)
    }

    fn repo(s: &ShellStep) -> Option<&str> {
        s.repo.as_deref()
    }
}
