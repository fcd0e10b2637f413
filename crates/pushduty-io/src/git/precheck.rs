//! Facts read before a tag or a push acts: is the branch the remote's, what would ship, which
//! commits could be picked. Reading only.

use anyhow::{Context, Result, anyhow};
use git2::{Oid, Repository, Sort};

use super::spec::{RepoSpec, local_tag_commit, short_sha};
use super::state::CommitInfo;
use super::tags::{self, TagFormat};

/// How the local branch stands against the remote's after the last fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BranchSync {
    pub local: Oid,
    pub remote: Oid,
    pub ahead: usize,
    pub behind: usize,
}

/// The local branch against its remote-tracking branch. An error when either is missing.
pub fn branch_sync(repo: &Repository, spec: &RepoSpec) -> Result<BranchSync> {
    let local = repo
        .refname_to_id(&spec.branch_ref())
        .with_context(|| format!("there is no local branch {}", spec.branch))?;
    let remote = repo.refname_to_id(&spec.tracking_ref()).map_err(|_| {
        anyhow!(
            "{}/{} is not known here: fetch it first",
            spec.remote,
            spec.branch
        )
    })?;
    let (ahead, behind) = repo
        .graph_ahead_behind(local, remote)
        .context("comparing the branch with the remote's")?;
    Ok(BranchSync {
        local,
        remote,
        ahead,
        behind,
    })
}

/// Commits reachable from `to` and not from `from`.
pub fn count_between(repo: &Repository, from: Oid, to: Oid) -> Result<usize> {
    let mut walk = repo.revwalk().context("walking history")?;
    walk.push(to).context("walking history")?;
    walk.hide(from).context("walking history")?;
    Ok(walk.count())
}

/// The release production runs now, for a push tagged `tag`: its name and commit.
pub fn previous_release(
    repo: &Repository,
    format: &TagFormat,
    tag: &str,
) -> Result<Option<(String, Oid)>> {
    let Some(key) = format.parse(tag).map(|t| t.key) else {
        return Ok(None);
    };
    let all = tags::repo_release_tags(repo, format)?;
    let Some(prev) = tags::previous(&all, key) else {
        return Ok(None);
    };
    Ok(local_tag_commit(repo, &prev.name)?.map(|oid| (prev.name.clone(), oid)))
}

/// What shipping `to` means against the previous release: "ships 12 commits since X", or
/// `Err` with why it ships nothing.
pub fn shipping(
    repo: &Repository,
    format: &TagFormat,
    tag: &str,
    to: Oid,
) -> Result<std::result::Result<String, String>> {
    Ok(match previous_release(repo, format, tag)? {
        None => Ok("no release before this one: everything ships".into()),
        Some((prev, at)) => match count_between(repo, at, to)? {
            0 => Err(format!(
                "it ships nothing: {} is the commit of {prev}, the release before",
                short_sha(to)
            )),
            n => Ok(format!(
                "ships {} since {prev}",
                crate::words::count(n as u64, "commit")
            )),
        },
    })
}

/// Commits that could be picked: on `to` and not on `from`, oldest first (parents before
/// children), merges left out, at most `limit` (the newest ones), with how many there are
/// in all (merges not counted).
pub fn candidates(
    repo: &Repository,
    from: Oid,
    to: Oid,
    limit: usize,
) -> Result<(Vec<CommitInfo>, usize)> {
    let mut walk = repo.revwalk().context("walking history")?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME)
        .context("walking history")?;
    walk.push(to).context("walking history")?;
    walk.hide(from).context("walking history")?;
    let mut newest_first = Vec::new();
    let mut total = 0;
    for oid in walk {
        let oid = oid.context("walking history")?;
        let c = repo.find_commit(oid).context("reading a commit")?;
        // Merges cannot be picked: neither listed nor counted.
        if c.parent_count() != 1 {
            continue;
        }
        total += 1;
        if newest_first.len() < limit {
            newest_first.push(CommitInfo::of(&c));
        }
    }
    newest_first.reverse();
    Ok((newest_first, total))
}
