//! The blockers pane's source: the open issues labelled as blocking the push in the runbook's
//! repos, for each GitHub service a `github.blockers` step reads. While GitHub's rate limit is
//! spent it is not asked again before the time it named: the pane keeps its last lines and
//! says when it looks next.

use std::sync::Mutex;
use std::time::Duration;

use crate::runbook::model::{Runbook, StepKind};
use crate::services::github::{Blocker, RateLimited};
use crate::services::http::{all, block_on};
use crate::services::{GithubConf, Services};

/// How often GitHub is read when nothing asks sooner: blockers come in over hours, and every
/// poll counts against the token's hourly rate limit.
pub const INTERVAL: Duration = Duration::from_secs(60);

/// One GitHub service and what the blockers step reads through it.
#[derive(Debug, Clone)]
pub struct Target {
    pub conf: GithubConf,
    pub label: String,
    /// `owner/name` of each runbook repo.
    pub repos: Vec<String>,
}

/// The services the runbook's `github.blockers` steps read, each once, with the first such
/// step's label.
pub fn targets(rb: &Runbook, services: &Services) -> Vec<Target> {
    let repos: Vec<String> = rb.repos.values().map(|r| r.github.clone()).collect();
    let mut out: Vec<Target> = Vec::new();
    for step in &rb.steps {
        let StepKind::GithubBlockers(b) = &step.kind else {
            continue;
        };
        if out.iter().any(|t| t.conf.name == b.service) {
            continue;
        }
        if let Ok(conf) = services.github(&b.service) {
            out.push(Target {
                conf: conf.clone(),
                label: b.label.clone(),
                repos: repos.clone(),
            });
        }
    }
    out
}

/// What one read of a target found: the open blockers, every repo's error, and until when
/// GitHub's rate limit is spent (unix seconds) if it said.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Read {
    pub open: Vec<Blocker>,
    pub errors: Vec<String>,
    pub retry_at: Option<i64>,
}

impl Target {
    /// Reads every repo, all at once; one that fails is reported and does not hide the others.
    pub async fn read(&self) -> Read {
        let mut r = Read::default();
        let client = match self.conf.client() {
            Ok(c) => c,
            Err(e) => {
                r.errors.push(e);
                return r;
            }
        };
        let reads = all(self
            .repos
            .iter()
            .map(|repo| client.open_blockers(repo, &self.label)))
        .await;
        for read in reads {
            match read {
                Ok(list) => r.open.extend(list),
                Err(e) => {
                    if let Some(limited) = e.downcast_ref::<RateLimited>() {
                        r.retry_at = r.retry_at.max(limited.until);
                    }
                    r.errors.push(format!("{e:#}"));
                }
            }
        }
        r
    }
}

/// The pane's lines for one target: each open blocker as `#N title (repo) link`, the
/// errors after them, and a line saying there are none when GitHub answered so.
pub fn pane_lines(t: &Target, r: &Read, several: bool) -> Vec<String> {
    let mut out = Vec::new();
    if several {
        out.push(format!("{}:", t.conf.name));
    }
    out.extend(r.open.iter().map(Blocker::line));
    if r.open.is_empty() && r.errors.is_empty() {
        out.push(format!(
            "no open issue labelled `{}` in {}",
            t.label,
            t.repos.join(", ")
        ));
    }
    out.extend(r.errors.iter().cloned());
    out
}

/// What the pane keeps between polls to respect a spent rate limit.
#[derive(Debug, Default)]
pub struct Backoff {
    until: Option<i64>,
    /// The last lines read without a rate limit.
    lines: Vec<String>,
}

/// The pane's lines for every target; an error only when nothing could be read at all.
pub fn snapshot(targets: &[Target], backoff: &Mutex<Backoff>) -> Result<Vec<String>, String> {
    let now = chrono::Utc::now().timestamp();
    if let Ok(b) = backoff.lock()
        && let Some(until) = b.until.filter(|u| *u > now)
    {
        let mut lines = b.lines.clone();
        lines.push(format!(
            "GitHub's rate limit is spent: next look at {}",
            super::health::clock(until)
        ));
        return Ok(lines);
    }
    let several = targets.len() > 1;
    let reads = block_on(all(targets.iter().map(Target::read))).map_err(|e| format!("{e:#}"))?;
    let mut lines = Vec::new();
    let mut until = None;
    let mut failed = 0;
    for (t, r) in targets.iter().zip(reads) {
        until = until.max(r.retry_at);
        if r.open.is_empty() && !r.errors.is_empty() {
            failed += 1;
        }
        lines.extend(pane_lines(t, &r, several));
    }
    if let Ok(mut b) = backoff.lock() {
        b.until = until;
        if until.is_none() {
            b.lines = lines.clone();
        }
    }
    if !targets.is_empty() && failed == targets.len() {
        return Err(lines.join("; "));
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target {
        Target {
            conf: GithubConf {
                name: "github".into(),
                api_url: "http://x".into(),
                token: Err("unset".into()),
            },
            label: "blocker".into(),
            repos: vec!["mozilla/olympia".into()],
        }
    }

    #[test]
    fn pane_lines_list_each_blocker_then_the_errors() {
        let b = |n: u64, title: &str| Blocker {
            number: n,
            title: title.into(),
            url: format!("https://github.com/mozilla/olympia/issues/{n}"),
            repo: "mozilla/olympia".into(),
        };
        let r = Read {
            open: vec![b(12, "Uploads fail on stage"), b(15, "Search is empty")],
            errors: vec!["reading the blockers of mozilla/addons: HTTP 404".into()],
            retry_at: None,
        };
        assert_eq!(
            pane_lines(&target(), &r, false),
            [
                "#12 Uploads fail on stage (mozilla/olympia) https://github.com/mozilla/olympia/issues/12",
                "#15 Search is empty (mozilla/olympia) https://github.com/mozilla/olympia/issues/15",
                "reading the blockers of mozilla/addons: HTTP 404",
            ]
        );
        assert_eq!(
            pane_lines(&target(), &Read::default(), true),
            [
                "github:",
                "no open issue labelled `blocker` in mozilla/olympia"
            ]
        );
    }

    #[test]
    fn an_unconfigured_service_is_an_error_not_an_empty_list() {
        let backoff = Mutex::new(Backoff::default());
        let err = snapshot(&[target()], &backoff).unwrap_err();
        assert!(err.contains("no GitHub token"), "{err}");
    }
}
