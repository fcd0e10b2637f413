//! The commits a `cherry-pick:` outcome of the blockers step may name: what upstream has that
//! this push's newest tag does not (read from each repo's checkout, as the git pane shows
//! them), and the check of a typed answer against them, so that a fix that does not exist or
//! ships already is asked again for, not found out when the step fails.

use git2::Oid;
use serde_json::Value;

use crate::git::cherry_pick::commit_sha_from;
use crate::git::state::CommitInfo;
use crate::git::tags::TagFormat;
use crate::git::unshipped::{self, refuse_fix};
use crate::git::{RepoSpec, spec::short_sha};
use crate::preview::{repo_spec, repo_text};

/// How many of upstream's commits the prompt offers to pick from.
const OFFERED: usize = 50;

/// One repo's fixes to offer: where they are looked for, and what was found.
#[derive(Debug, Clone)]
pub struct Fixable {
    pub spec: RepoSpec,
    /// This push's newest tag and its commit; `None` before the push is tagged.
    pub tag: Option<(String, Oid)>,
    /// Upstream's commits not in the tag, oldest first (as they are picked).
    pub commits: Vec<(Oid, CommitInfo)>,
    /// How many there are in all, and `REMOTE/BRANCH`.
    pub total: usize,
    pub upstream: String,
}

impl Fixable {
    /// Each runbook repo with a checkout, read now (local reads only).
    pub fn read_all(ctx: &Value, format: &TagFormat) -> Vec<Fixable> {
        let names: Vec<String> = ctx["repos"]
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        names
            .iter()
            .filter_map(|name| Self::read(ctx, format, name))
            .collect()
    }

    fn read(ctx: &Value, format: &TagFormat, name: &str) -> Option<Fixable> {
        let spec = repo_spec(ctx, name)?;
        let key = repo_text(ctx, name, "tag")
            .and_then(|t| format.parse(&t))
            .map(|t| t.key)?;
        let repo = spec.open().ok()?;
        let tag = unshipped::push_tag(&repo, format, &key).ok().flatten();
        let found = unshipped::unshipped(&spec, format, &key, OFFERED)
            .ok()
            .flatten();
        let (mut commits, total, upstream) = match found {
            Some(u) => (u.commits, u.total, u.upstream),
            None => (Vec::new(), 0, format!("{}/{}", spec.remote, spec.branch)),
        };
        commits.reverse();
        Some(Fixable {
            spec,
            tag,
            commits,
            total,
            upstream,
        })
    }

    /// What is offered, once the push has a tag: "olympia: upstream/master has 2 commit(s)
    /// not in 2026.12.10".
    pub fn header(&self) -> Option<String> {
        let (tag, _) = self.tag.as_ref()?;
        Some(format!(
            "{}: {} has {} not in {tag}",
            self.spec.name,
            self.upstream,
            crate::words::count(self.total as u64, "commit")
        ))
    }

    /// The offered commits as lines, newest first, at most `n`.
    pub fn lines(&self, n: usize) -> impl Iterator<Item = String> + '_ {
        self.commits
            .iter()
            .rev()
            .take(n)
            .map(|(_, c)| format!("+ {} {} — {}", c.sha, c.subject, c.author))
    }
}

/// Why the commits of a `cherry-pick:` answer cannot be a blocker's fix, if they cannot:
/// each must be a commit of a checkout, not a merge, and not in that repo's push tag yet.
/// `None` when every commit may be picked (or no checkout is known to check it against).
pub fn refuse(fixable: &[Fixable], commits: &[String]) -> Option<String> {
    if fixable.is_empty() {
        return None;
    }
    let mut problems = Vec::new();
    for given in commits {
        let Some(sha) = commit_sha_from(given) else {
            continue;
        };
        let offered = fixable.iter().any(|f| {
            f.commits
                .iter()
                .any(|(id, _)| id.to_string().starts_with(sha))
        });
        if offered {
            continue;
        }
        // Any repo that can take it will do; else the first one's reason.
        let mut reasons = Vec::new();
        for f in fixable {
            let Ok(repo) = f.spec.open() else {
                continue;
            };
            match refuse_fix(&repo, f.tag.as_ref(), sha) {
                None => {
                    reasons.clear();
                    break;
                }
                Some(why) => reasons.push(why),
            }
        }
        problems.extend(reasons.into_iter().next());
    }
    if problems.is_empty() {
        return None;
    }
    let offer: Vec<String> = fixable
        .iter()
        .flat_map(|f| f.commits.iter().rev().take(5).map(|(id, _)| short_sha(*id)))
        .collect();
    let hint = if offer.is_empty() {
        " (upstream has nothing the tag lacks: is the fix merged, and fetched?)".to_string()
    } else {
        format!(" (not in the tag yet: {})", offer.join(", "))
    };
    Some(format!("{}{hint}", problems.join("; ")))
}
