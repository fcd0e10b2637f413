//! `github.blockers`: lists the open issues labelled as blocking the push and records what
//! happened to each (resolved, cherry-picked, deferred).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Kind, KindInfo, Rules};
use crate::preview::Filler;
use crate::runbook::model::{Runbook, Service, Step};

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GithubBlockersStep {
    /// A `github` service: where the issues are read, with whose token.
    pub service: String,
    /// The label that marks an issue as blocking the push.
    #[serde(default = "blocker_label")]
    pub label: String,
}

fn blocker_label() -> String {
    "blocker".into()
}

pub struct Blockers;

impl Kind for Blockers {
    type Fields = GithubBlockersStep;
    const INFO: KindInfo = KindInfo {
        name: "github.blockers",
        side_effect: false,
        outputs: Some(&["blockers", "blocker_commits", "blockers_summary"]),
        summary: "list the open blocker issues; record what happened to each",
    };

    fn check(b: &GithubBlockersStep, r: &mut Rules<'_, '_>) {
        // The label goes into a query string as it is: a comma would make it two.
        if b.label.trim().is_empty() || b.label.contains(',') {
            r.err("label", "`label` must name one GitHub label");
        }
        if r.runbook().repos.is_empty() {
            r.err(
                "kind",
                "a `github.blockers` step reads the issues of the runbook's repos, and it has none",
            );
        }
    }

    fn strings(_: &GithubBlockersStep) -> Vec<(&'static str, &str)> {
        Vec::new()
    }

    fn describe(b: &GithubBlockersStep, _: &Step, rb: &Runbook, _: &Filler<'_>) -> String {
        let api = match rb.services.get(&b.service) {
            Some(Service::Github(g)) => g.api_url.clone(),
            _ => return format!("read the blockers from GitHub service `{}`", b.service),
        };
        let urls: Vec<String> = rb
            .repos
            .values()
            .map(|r| {
                format!(
                    "GET {}",
                    crate::urls::github_issues_url(&api, &r.github, &b.label)
                )
            })
            .collect();
        format!(
            "{} (pull requests left out); ask what happened to each open blocker (resolved, \
             cherry-pick with the fix's commits, or deferred) and take any typed by hand; \
             changes nothing on GitHub",
            urls.join("; ")
        )
    }

    fn service(b: &GithubBlockersStep) -> Option<(&str, &'static [&'static str])> {
        Some((&b.service, &["github"]))
    }
}
