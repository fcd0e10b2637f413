//! `shell`: runs a command, shown in full (every value quoted as it will run) before it does.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Kind, KindInfo, Rules};
use crate::preview::{Filler, command_line, repo_dir, shell_quote};
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
        // Quoted as it will run; where it cannot be (a value not set yet), the filler says
        // why and shows the placeholders.
        let command = command_line(&s.command, fl.ctx).unwrap_or_else(|_| fl.text(&s.command));
        format!(
            "sh -c {}{dir} (timeout {}s)",
            shell_quote(&command),
            s.timeout_secs
        )
    }

    fn repo(s: &ShellStep) -> Option<&str> {
        s.repo.as_deref()
    }
}
