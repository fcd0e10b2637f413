//! The git pane's source: each configured repo's state, polled on an interval and right after
//! any git step, on its own thread.

use std::sync::mpsc::Sender;
use std::time::Duration;

use chrono::NaiveDate;

use super::Snapshot;
use crate::git::RepoSpec;
use crate::git::state::{RepoState, Shipping, repo_state, shipping};
use crate::git::tags::TagFormat;

/// How often the repos are read when nothing asks sooner.
pub const INTERVAL: Duration = Duration::from_secs(30);

pub struct GitSource {
    pub specs: Vec<RepoSpec>,
    pub format: TagFormat,
    /// This push's date: once it has a tag, the pane lists what that tag ships.
    pub push_date: Option<NaiveDate>,
}

impl GitSource {
    /// The pane's lines for every repo; an error only when no repo could be read.
    pub fn snapshot(&self) -> Result<Vec<String>, String> {
        let states: Vec<(&RepoSpec, RepoState)> = self
            .specs
            .iter()
            .map(|s| (s, repo_state(s, &self.format)))
            .collect();
        if !states.is_empty() && states.iter().all(|(_, s)| s.error.is_some()) {
            let errors: Vec<String> = states
                .iter()
                .map(|(spec, s)| format!("{}: {}", spec.name, s.error.as_deref().unwrap_or("")))
                .collect();
            return Err(errors.join("; "));
        }
        Ok(states
            .iter()
            .flat_map(|(spec, s)| {
                // A tag that cannot be read leaves the list of commits since the last one.
                let ship = self
                    .push_date
                    .filter(|_| s.error.is_none())
                    .and_then(|d| shipping(spec, &self.format, d).ok().flatten());
                lines(spec, s, ship.as_ref())
            })
            .collect())
    }

    /// Polls on its own thread (see [`super::spawn_poller`]).
    pub fn spawn(
        self,
        interval: Duration,
        send: impl Fn(Snapshot) -> bool + Send + 'static,
    ) -> Sender<()> {
        super::spawn_poller("git", interval, move || self.snapshot(), send)
    }
}

/// A repo's state as pane lines: a summary, then the commits shipping: what this push's tag
/// ships once it has one (the picks, after cherry-picks), else what is on the branch since
/// the last release.
pub fn lines(spec: &RepoSpec, s: &RepoState, ship: Option<&Shipping>) -> Vec<String> {
    if let Some(e) = &s.error {
        return vec![format!("{}: {e}", spec.name)];
    }
    let branch = s.branch.clone().unwrap_or_else(|| "(detached HEAD)".into());
    let dirty = match s.dirty {
        0 => "clean".to_string(),
        n => format!("{n} dirty"),
    };
    let mut out = vec![format!(
        "{} {branch} @ {} · {dirty} · ↑{} ↓{}",
        spec.name,
        s.head.as_deref().unwrap_or("?"),
        s.ahead,
        s.behind
    )];
    let since = s.commits_since_tag.map_or("?".into(), |n| n.to_string());
    out.push(match &s.last_tag {
        Some(t) => format!("  last tag {t} · {since} commits since"),
        None => format!("  no release tag yet · {since} commits"),
    });
    if let Some(url) = &s.compare_url {
        out.push(format!("  {url}"));
    }
    let commit =
        |c: &crate::git::state::CommitInfo| format!("  {} {} — {}", c.sha, c.subject, c.author);
    match ship {
        Some(ship) if !ship.picks.is_empty() => {
            let onto = ship
                .onto
                .as_deref()
                .map(|t| format!(" onto {t}"))
                .unwrap_or_default();
            out.push(format!(
                "  {} ships {} cherry-pick(s){onto}:",
                ship.tag,
                ship.picks.len()
            ));
            out.extend(ship.picks.iter().map(commit));
        }
        Some(ship) => {
            out.push(match &ship.since {
                Some(prev) => format!(
                    "  {} ships {} commit(s) since {prev}:",
                    ship.tag, ship.total
                ),
                None => format!(
                    "  {} ships {} commit(s), the first release:",
                    ship.tag, ship.total
                ),
            });
            out.extend(ship.commits.iter().map(commit));
        }
        None => out.extend(s.commits.iter().map(commit)),
    }
    out
}
