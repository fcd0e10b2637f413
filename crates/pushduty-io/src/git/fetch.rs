//! Fetching the spec's branch and the remote's tags, then fast-forwarding only when no work
//! can be lost.
//!
//! Tags are fetched one by one, only those missing locally: a local tag that differs from the
//! remote's is never overwritten but reported in [`FetchOutcome::tag_conflicts`]. The local
//! branch is fast-forwarded only when it is strictly behind, and, when it is checked out, only
//! with a clean work tree (the same "dirty" as `repo_state`, untracked files included).
//! Refusals are outcomes, not errors: the fetch itself succeeded, and the caller shows
//! [`FetchOutcome::problems`].

use std::collections::HashMap;

use anyhow::{Context, Result, anyhow};
use git2::build::CheckoutBuilder;
use git2::{Oid, Repository};

use super::net::{Net, fetch_refspecs, ls_remote};
use super::spec::{RepoSpec, local_tag_commit, shell_quote};
use super::state::dirty_count;

/// A tag that exists locally and on the remote at different commits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagConflict {
    pub name: String,
    pub local: Oid,
    pub remote: Oid,
}

/// What happened to the local branch after the fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BranchUpdate {
    UpToDate,
    FastForwarded {
        from: Oid,
        to: Oid,
        /// The branch was checked out, so the work tree was updated too.
        checked_out: bool,
    },
    /// The local branch has commits the remote lacks (and none missing); left as it is.
    Ahead {
        ahead: usize,
    },
    /// Refused: both sides have commits the other lacks.
    Diverged {
        ahead: usize,
        behind: usize,
    },
    /// Refused: the branch is checked out and the work tree has changes.
    Dirty {
        behind: usize,
        dirty: usize,
    },
    /// There is no local branch of that name; nothing to fast-forward.
    NoLocalBranch,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchOutcome {
    /// Tags that were new here and have been fetched.
    pub new_tags: Vec<String>,
    pub tag_conflicts: Vec<TagConflict>,
    pub branch: BranchUpdate,
}

impl FetchOutcome {
    /// Why the fetch did not leave everything up to date, one message per problem.
    pub fn problems(&self) -> Vec<String> {
        let mut problems: Vec<String> = self
            .tag_conflicts
            .iter()
            .map(|c| {
                format!(
                    "tag {} is at {} here but at {} on the remote; left as it is",
                    c.name, c.local, c.remote
                )
            })
            .collect();
        match &self.branch {
            BranchUpdate::Diverged { ahead, behind } => problems.push(format!(
                "not fast-forwarded: the branch has diverged ({ahead} local commits not on the \
                 remote, {behind} remote commits not here)"
            )),
            BranchUpdate::Dirty { behind, dirty } => problems.push(format!(
                "not fast-forwarded ({behind} commits behind): the work tree has {dirty} \
                 changed or untracked files"
            )),
            BranchUpdate::NoLocalBranch => {
                problems.push("there is no local branch to fast-forward".to_string())
            }
            _ => {}
        }
        problems
    }
}

/// Fetches the spec's branch and the remote's new tags, then fast-forwards if safe.
pub fn fetch(spec: &RepoSpec) -> Result<FetchOutcome> {
    fetch_with(spec, &mut Net::quiet())
}

/// [`fetch`], with git's progress and a cancel: see [`Net`].
pub fn fetch_with(spec: &RepoSpec, net: &mut Net<'_>) -> Result<FetchOutcome> {
    let repo = spec.open()?;
    let head_ref = spec.branch_ref();
    let theirs = ls_remote(spec, &[&head_ref, "refs/tags/*"], net)?;
    if !theirs.contains_key(&head_ref) {
        return Err(anyhow!(
            "remote {} has no branch {}",
            spec.remote,
            spec.branch
        ));
    }
    let (new_tags, tag_conflicts) = classify_tags(&repo, &theirs)?;
    let mut refspecs = vec![format!("+{head_ref}:{}", spec.tracking_ref())];
    refspecs.extend(
        new_tags
            .iter()
            .map(|t| format!("refs/tags/{t}:refs/tags/{t}")),
    );
    fetch_refspecs(spec, &refspecs, net)
        .with_context(|| format!("fetching from {}", spec.remote))?;
    let branch = fast_forward(&repo, spec)?;
    Ok(FetchOutcome {
        new_tags,
        tag_conflicts,
        branch,
    })
}

/// The equivalent command lines.
pub fn preview(spec: &RepoSpec) -> String {
    let git = spec.git_c();
    let fetch = format!(
        "{git} fetch {} {} {}",
        shell_quote(&spec.remote),
        shell_quote(&format!("+{}:{}", spec.branch_ref(), spec.tracking_ref())),
        shell_quote("refs/tags/*:refs/tags/*")
    );
    let checked_out = spec
        .open()
        .ok()
        .is_some_and(|repo| is_checked_out(&repo, spec));
    let update = if checked_out {
        format!(
            "{git} merge --ff-only {}",
            shell_quote(&format!("{}/{}", spec.remote, spec.branch))
        )
    } else {
        format!(
            "{git} fetch . {}",
            shell_quote(&format!("{}:{}", spec.tracking_ref(), spec.branch_ref()))
        )
    };
    format!("{fetch}\n{update}")
}

/// Remote tags missing here (to fetch) and those that differ (to report), by name.
fn classify_tags(
    repo: &Repository,
    theirs: &HashMap<String, Oid>,
) -> Result<(Vec<String>, Vec<TagConflict>)> {
    let mut new_tags = Vec::new();
    let mut conflicts = Vec::new();
    for (refname, remote) in theirs {
        let Some(name) = refname.strip_prefix("refs/tags/") else {
            continue;
        };
        match local_tag_commit(repo, name)? {
            None => new_tags.push(name.to_string()),
            Some(local) if local != *remote => conflicts.push(TagConflict {
                name: name.to_string(),
                local,
                remote: *remote,
            }),
            Some(_) => {}
        }
    }
    new_tags.sort();
    conflicts.sort_by(|a, b| a.name.cmp(&b.name));
    Ok((new_tags, conflicts))
}

fn is_checked_out(repo: &Repository, spec: &RepoSpec) -> bool {
    !repo.is_bare()
        && repo
            .head()
            .ok()
            .is_some_and(|h| h.is_branch() && h.name().ok() == Some(spec.branch_ref().as_str()))
}

fn fast_forward(repo: &Repository, spec: &RepoSpec) -> Result<BranchUpdate> {
    let target = repo
        .refname_to_id(&spec.tracking_ref())
        .with_context(|| format!("reading {}", spec.tracking_ref()))?;
    let mut local = match repo.find_reference(&spec.branch_ref()) {
        Ok(r) => r,
        Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(BranchUpdate::NoLocalBranch),
        Err(e) => return Err(e).context("reading the local branch"),
    };
    let from = local
        .target()
        .ok_or_else(|| anyhow!("branch {} is a symbolic ref", spec.branch))?;
    let (ahead, behind) = repo
        .graph_ahead_behind(from, target)
        .context("comparing the branch with the remote")?;
    match (ahead, behind) {
        (0, 0) => return Ok(BranchUpdate::UpToDate),
        (ahead, 0) => return Ok(BranchUpdate::Ahead { ahead }),
        (ahead, behind) if ahead > 0 => return Ok(BranchUpdate::Diverged { ahead, behind }),
        _ => {}
    }
    let checked_out = is_checked_out(repo, spec);
    if checked_out {
        let dirty = dirty_count(repo)?;
        if dirty > 0 {
            return Ok(BranchUpdate::Dirty { behind, dirty });
        }
        let commit = repo.find_commit(target).context("reading the remote tip")?;
        // Safe mode never overwrites changes; the tree moves before the ref so a failed
        // checkout leaves the branch where it was.
        repo.checkout_tree(commit.as_object(), Some(CheckoutBuilder::new().safe()))
            .context("updating the work tree")?;
    }
    let message = format!("pushduty: fast-forward to {}/{}", spec.remote, spec.branch);
    local
        .set_target(target, &message)
        .context("moving the branch")?;
    Ok(BranchUpdate::FastForwarded {
        from,
        to: target,
        checked_out,
    })
}
