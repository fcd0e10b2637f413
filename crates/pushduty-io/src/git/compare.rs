//! What ships: the commits between the previous release tag and the revision being pushed.

use anyhow::{Context, Result, anyhow};
use git2::{Oid, Sort};
use serde::Serialize;

use super::spec::{RepoSpec, shell_quote};
use super::state::{CommitInfo, TagIndex, newest_reachable_tag};
use super::tags::TagFormat;

/// The commits in `from..to`, oldest first like GitHub's compare page, and that page's URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Comparison {
    pub from: String,
    pub to: String,
    pub commits: Vec<CommitInfo>,
    pub url: Option<String>,
}

/// Compares `from_tag` (default: the newest release tag reachable from `to`, as `last_tag` in
/// `repo_state`) with `to` (a branch, tag or sha). Every commit in the range is listed.
pub fn compare(
    spec: &RepoSpec,
    format: &TagFormat,
    from_tag: Option<&str>,
    to: &str,
) -> Result<Comparison> {
    let repo = spec.open()?;
    let to_oid = commit_of(&repo, spec, to)?;
    let (from, from_oid) = match from_tag {
        Some(tag) => (tag.to_string(), resolve_tag(&repo, tag)?),
        None => {
            let tags = TagIndex::read(&repo, format)?;
            let (tag, oid) = newest_reachable_tag(&repo, &tags, to_oid)?
                .ok_or_else(|| anyhow!("no release tag is reachable from {to}"))?;
            (tag.name, oid)
        }
    };
    Ok(Comparison {
        url: spec.compare_url(&from, to),
        commits: walk(&repo, to_oid, Some(from_oid))?,
        from,
        to: to.to_string(),
    })
}

/// Everything reachable from `to`: what a project's first release ships.
pub fn since_start(spec: &RepoSpec, to: &str) -> Result<Comparison> {
    let repo = spec.open()?;
    let to_oid = commit_of(&repo, spec, to)?;
    Ok(Comparison {
        from: String::new(),
        to: to.to_string(),
        commits: walk(&repo, to_oid, None)?,
        url: None,
    })
}

fn commit_of(repo: &git2::Repository, spec: &RepoSpec, rev: &str) -> Result<Oid> {
    Ok(repo
        .revparse_single(rev)
        .and_then(|o| o.peel_to_commit())
        .with_context(|| format!("{rev} is not a commit in {}", spec.path.display()))?
        .id())
}

/// The commits of `hide..to`, oldest first.
fn walk(repo: &git2::Repository, to: Oid, hide: Option<Oid>) -> Result<Vec<CommitInfo>> {
    let mut walk = repo.revwalk().context("starting a history walk")?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME | Sort::REVERSE)?;
    walk.push(to)?;
    if let Some(h) = hide {
        walk.hide(h)?;
    }
    let mut commits = Vec::new();
    for oid in walk {
        let oid = oid.context("walking history")?;
        let commit = repo.find_commit(oid).context("reading a commit")?;
        commits.push(CommitInfo::of(&commit));
    }
    Ok(commits)
}

/// The equivalent command line for a known `from` tag.
pub fn preview(spec: &RepoSpec, from_tag: &str, to: &str) -> String {
    format!(
        "{} log --reverse --format='%h %an %s' {}",
        spec.git_c(),
        shell_quote(&format!("{from_tag}..{to}"))
    )
}

fn resolve_tag(repo: &git2::Repository, tag: &str) -> Result<Oid> {
    repo.find_reference(&format!("refs/tags/{tag}"))
        .and_then(|r| r.peel_to_commit())
        .map(|c| c.id())
        .with_context(|| format!("tag {tag} not found"))
}
