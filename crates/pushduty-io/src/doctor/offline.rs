//! What `doctor` can say without asking anything, for `status`: a checkout for each repo, the
//! credentials each service needs, and links malformed as written. The services themselves
//! are asked only by `doctor`.

use pushduty_core::doctor::{Finding, Report, malformed};
use serde_json::Value;

use crate::config::Config;
use crate::git::RepoSpec;
use crate::runbook::model::Runbook;
use crate::services::{Resolved, Services};

const NOT_ASKED: &str = "configured (not asked: `pushduty doctor` asks it)";

pub fn offline(rb: &Runbook, config: &Config, services: &Services, ctx: &Value) -> Report {
    let mut items = Vec::new();
    for (name, repo) in &rb.repos {
        let item = format!("git {name} remote {}", repo.remote);
        items.push(match RepoSpec::from_config(config, name, repo) {
            Some(spec) => Finding::ok(&item, "git", format!("checkout {}", spec.path.display())),
            None => Finding::broken(
                &item,
                "git",
                "no checkout configured",
                format!("set `repos.{name}.path` in your config to your checkout of it"),
            ),
        });
    }
    for (name, svc) in &services.0 {
        let missing = match svc {
            Resolved::Jenkins(c) => c.client().err(),
            Resolved::GithubActions(c) => c.client().err(),
            Resolved::Github(c) => c.client().err(),
            Resolved::Sentry(c) => c.client().err(),
            Resolved::Etherpad(c) => c.client().err(),
            Resolved::Matrix(c) => c.client().err(),
            Resolved::Slack(c) => c.client().err(),
            // Security, sender, password (only with a login) and `ca_file`.
            Resolved::Smtp(c) => Some(c.setting_problems().join("; ")).filter(|p| !p.is_empty()),
            Resolved::Metrics(_) | Resolved::MarkdownNotes(_) => None,
        };
        let item = format!("{} {name}", svc.kind());
        items.push(match missing {
            Some(e) => Finding::broken(&item, svc.kind(), "not configured", e),
            None => Finding::ok(&item, svc.kind(), NOT_ASKED),
        });
    }
    for (place, url) in super::links::collect(rb, ctx) {
        let item = format!("link {place} {}", super::links::named(&url));
        if let Some(why) = malformed(&url) {
            items.push(Finding::broken(
                &item,
                "link",
                format!("malformed: {why}"),
                format!("correct it in the runbook ({place})"),
            ));
        } else if let Some(what) = super::links::credential_in(&url) {
            items.push(Finding::broken(
                &item,
                "link",
                format!("carries a credential in its address ({what})"),
                super::links::credential_fix(&place),
            ));
        }
    }
    super::scrub_all(&mut items, services);
    Report::new(items)
}
