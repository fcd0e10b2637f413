//! The repos' remotes: reached through the operator's own `git` as a tag push would reach
//! them, with `git push --dry-run` of a tag name nobody uses (nothing is sent).

use std::time::Duration;

use super::{Broken, Check, Outcome, timed};
use crate::config::Config;
use crate::git::RepoSpec;
use crate::git::net::{Net, push_dry_run};
use crate::runbook::model::Runbook;

/// One check per repo of the runbook.
pub(super) fn checks<'a>(rb: &'a Runbook, config: &'a Config, limit: Duration) -> Vec<Check<'a>> {
    rb.repos
        .iter()
        .map(|(name, repo)| {
            let spec = RepoSpec::from_config(config, name, repo);
            let item = format!("git {name} remote {}", repo.remote);
            let name = name.clone();
            timed(item, "git", limit, async move {
                let Some(spec) = spec else {
                    return Err(Broken::new(
                        "no checkout configured",
                        format!("set `repos.{name}.path` in your config to your checkout of it"),
                    ));
                };
                // Its own limit, a little inside the check's: git and its ssh are ended, not
                // left running after the answer.
                let own = limit.saturating_sub(Duration::from_millis(300));
                tokio::task::spawn_blocking(move || dry_run(&spec, own))
                    .await
                    .unwrap_or_else(|e| {
                        Err(Broken::new(
                            format!("the check stopped: {e}"),
                            "this is a fault of pushduty's own: please report it",
                        ))
                    })
            })
        })
        .collect()
}

fn dry_run(spec: &RepoSpec, limit: Duration) -> Outcome {
    let tag = format!("refs/tags/pushduty-doctor-{}", unused_suffix());
    let mut net = Net::quiet().with_limit(limit);
    push_dry_run(spec, &format!("HEAD:{tag}"), &mut net).map_err(|e| {
        Broken::new(
            format!("{e:#}"),
            format!(
                "check that `git -C {} push --dry-run --no-verify {} HEAD:refs/tags/NAME` works \
                 from a shell (the remote's URL, your ssh key or credentials, and write access; \
                 a dry run sends nothing)",
                shell_quote(&spec.path.display().to_string()),
                shell_quote(&spec.remote)
            ),
        )
    })?;
    Ok(format!(
        "`{}` answers, and would take a new tag (dry run: nothing sent)",
        spec.remote
    ))
}

/// A tag name suffix that no real tag has: the time and this process.
fn unused_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{:x}{:x}", nanos, std::process::id())
}

/// `s` as one shell word, for a command the operator may paste.
fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-~+:@".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}
