//! A repository's state for the status pane and `pushduty status --json`.
//!
//! The JSON field names of [`RepoState`] are a published contract; do not rename them.
//!
//! Decisions:
//! - `last_tag` is the newest release tag *by name ordering* ([`ReleaseTag`]'s `Ord`: date or
//!   version, then revision) among the tags whose commit is HEAD or an ancestor of HEAD. A tag on a commit that
//!   HEAD does not contain (e.g. a `-1` made on an in-memory cherry-pick) is not "last" for HEAD.
//! - With no reachable release tag, `last_tag` and `compare_url` are null, and
//!   `commits_since_tag`/`commits` cover all of HEAD's history: a first push ships everything.
//! - `ahead`/`behind` compare HEAD with the checked-out branch's upstream, or with
//!   `REMOTE/BRANCH` of the spec when there is no upstream (or HEAD is detached); 0/0 when
//!   neither exists.
//! - `compare_url` runs from `last_tag` to the spec's branch (what the push ships), even when
//!   another branch is checked out.
//! - A detached HEAD is not an error: `branch` is null and the rest is computed.

use std::collections::{BinaryHeap, HashMap, HashSet};

use anyhow::{Context, Result, bail};
use git2::{ErrorCode, Oid, Reference, Repository, Sort, StatusOptions};
use serde::Serialize;

use super::spec::{RepoSpec, author_name, local_tag_commit, short_sha, subject};
use super::tags::{ReleaseTag, TagFormat};

/// At most this many commits are listed; `commits_since_tag` still counts them all.
pub const COMMIT_LIST_CAP: usize = 500;

/// One commit in a list: short sha, author name and subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommitInfo {
    pub sha: String,
    pub author: String,
    pub subject: String,
}

impl CommitInfo {
    pub(crate) fn of(commit: &git2::Commit<'_>) -> Self {
        Self {
            sha: short_sha(commit.id()),
            author: author_name(commit),
            subject: subject(commit),
        }
    }
}

/// What the status pane shows for one repository. On error only `path` and `error` are set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RepoState {
    pub path: String,
    /// The checked-out branch, or null when HEAD is detached.
    pub branch: Option<String>,
    pub head: Option<String>,
    pub head_subject: Option<String>,
    /// Changed, staged and untracked entries, like the lines of `git status --porcelain`.
    pub dirty: usize,
    pub ahead: usize,
    pub behind: usize,
    pub last_tag: Option<String>,
    pub commits_since_tag: Option<usize>,
    /// Newest first, at most [`COMMIT_LIST_CAP`].
    pub commits: Vec<CommitInfo>,
    pub compare_url: Option<String>,
    pub error: Option<String>,
}

/// The state of `spec`'s repository. Never fails: problems are reported in `error`.
pub fn repo_state(spec: &RepoSpec, format: &TagFormat) -> RepoState {
    let path = spec.path.display().to_string();
    match compute(spec, format) {
        Ok(state) => state,
        Err(e) => RepoState {
            path,
            error: Some(plain_message(&e)),
            ..RepoState::default()
        },
    }
}

/// The error chain as one line, without git2's `; class=...; code=...` details.
pub(crate) fn plain_message(e: &anyhow::Error) -> String {
    e.chain()
        .map(|cause| match cause.downcast_ref::<git2::Error>() {
            Some(g) => g.message().to_string(),
            None => cause.to_string(),
        })
        .collect::<Vec<_>>()
        .join(": ")
}

fn compute(spec: &RepoSpec, format: &TagFormat) -> Result<RepoState> {
    let repo = spec.open()?;
    let head_ref = head_reference(&repo)?;
    let branch = head_ref
        .is_branch()
        .then(|| head_ref.shorthand().ok().map(str::to_string))
        .flatten();
    let head = head_ref
        .peel_to_commit()
        .context("HEAD does not point at a commit")?;
    let (ahead, behind) = ahead_behind(&repo, spec, &head_ref, head.id())?;
    let tags = TagIndex::read(&repo, format)?;
    let last = newest_reachable_tag(&repo, &tags, head.id())?;
    let (count, commits) = walk_topo(
        &repo,
        head.id(),
        last.as_ref().map(|(_, oid)| *oid).into_iter(),
    )?;
    let last_tag = last.map(|(tag, _)| tag.name);
    Ok(RepoState {
        path: spec.path.display().to_string(),
        branch,
        head: Some(short_sha(head.id())),
        head_subject: Some(subject(&head)),
        dirty: dirty_count(&repo)?,
        ahead,
        behind,
        compare_url: last_tag
            .as_deref()
            .and_then(|t| spec.compare_url(t, &spec.branch)),
        last_tag,
        commits_since_tag: Some(count),
        commits,
        error: None,
    })
}

fn head_reference(repo: &Repository) -> Result<Reference<'_>> {
    match repo.head() {
        Ok(head) => Ok(head),
        Err(e) if e.code() == ErrorCode::UnbornBranch => {
            let name = repo
                .find_reference("HEAD")
                .ok()
                .and_then(|h| h.symbolic_target().ok().flatten().map(str::to_string))
                .unwrap_or_default();
            let name = name
                .strip_prefix("refs/heads/")
                .unwrap_or(&name)
                .to_string();
            bail!("branch {name} has no commits yet")
        }
        Err(e) => Err(e).context("reading HEAD"),
    }
}

/// Entries `git status --porcelain` would list: ignored files excluded, an untracked directory
/// counted once (so it is not walked).
pub fn dirty_count(repo: &Repository) -> Result<usize> {
    if repo.is_bare() {
        return Ok(0);
    }
    let mut opts = StatusOptions::new();
    opts.include_untracked(true)
        .include_ignored(false)
        .recurse_untracked_dirs(false)
        .renames_head_to_index(true);
    let statuses = repo
        .statuses(Some(&mut opts))
        .context("reading work tree status")?;
    Ok(statuses.len())
}

/// The ref HEAD is compared with: the branch's upstream, else the spec's `REMOTE/BRANCH`.
fn upstream_oid(repo: &Repository, spec: &RepoSpec, head_ref: &Reference<'_>) -> Option<Oid> {
    let configured = head_ref
        .is_branch()
        .then(|| head_ref.name().ok())
        .flatten()
        .and_then(|name| repo.branch_upstream_name(name).ok())
        .and_then(|buf| buf.as_str().ok().map(str::to_string));
    configured
        .and_then(|name| repo.refname_to_id(&name).ok())
        .or_else(|| repo.refname_to_id(&spec.tracking_ref()).ok())
}

fn ahead_behind(
    repo: &Repository,
    spec: &RepoSpec,
    head_ref: &Reference<'_>,
    head: Oid,
) -> Result<(usize, usize)> {
    match upstream_oid(repo, spec, head_ref) {
        Some(up) => repo
            .graph_ahead_behind(head, up)
            .context("counting commits ahead of and behind the upstream"),
        None => Ok((0, 0)),
    }
}

/// The repository's release tags, indexed without reading any object.
///
/// Reading the object behind each of hundreds of tags (to tell lightweight from annotated)
/// costs more than everything else `repo_state` does, so the index keys each tag by what its
/// ref says: the peeled commit when packed-refs records one, else the ref's target, which is
/// the commit itself for a lightweight tag (and a tag object for a loose annotated tag, which
/// [`newest_reachable_tag`] peels only when it has to).
pub(crate) struct TagIndex {
    by_target: HashMap<Oid, Vec<ReleaseTag>>,
    all: Vec<ReleaseTag>,
}

impl TagIndex {
    pub(crate) fn read(repo: &Repository, format: &TagFormat) -> Result<Self> {
        let mut index = TagIndex {
            by_target: HashMap::new(),
            all: Vec::new(),
        };
        let refs = repo
            .references_glob("refs/tags/*")
            .context("listing tags")?;
        for r in refs {
            let r = r.context("reading a tag")?;
            let Some(tag) = r
                .name()
                .ok()
                .and_then(|n| n.strip_prefix("refs/tags/"))
                .and_then(|n| format.parse(n))
            else {
                continue;
            };
            if let Some(target) = r.target_peel().or_else(|| r.target()) {
                index.by_target.entry(target).or_default().push(tag.clone());
            }
            index.all.push(tag);
        }
        Ok(index)
    }
}

/// The newest-named release tag whose commit is `head` or one of its ancestors.
///
/// Walking back from HEAD newest commit first finds the nearest tagged commit after reading
/// only the commits since it. A tag newer by name can still be reachable elsewhere (a `-1` on
/// an older commit, clock skew, an annotated tag the index could not key by its commit), so
/// the tags newer than the one found are peeled and checked together with one more walk.
pub(crate) fn newest_reachable_tag(
    repo: &Repository,
    tags: &TagIndex,
    head: Oid,
) -> Result<Option<(ReleaseTag, Oid)>> {
    let nearest = nearest_tag(repo, &tags.by_target, head)?;
    let mut newer: Vec<&ReleaseTag> = tags
        .all
        .iter()
        .filter(|t| nearest.as_ref().is_none_or(|(n, _)| *t > n))
        .collect();
    if newer.is_empty() {
        return Ok(nearest);
    }
    newer.sort_by(|a, b| b.cmp(a));
    let mut peeled = Vec::with_capacity(newer.len());
    for tag in newer {
        // Tags of trees or blobs cannot be a release; they are skipped.
        if let Ok(Some(commit)) = local_tag_commit(repo, &tag.name) {
            peeled.push((tag, commit));
        }
    }
    let unreachable = not_reachable_from(repo, peeled.iter().map(|(_, oid)| *oid), head)?;
    Ok(peeled
        .into_iter()
        .find(|(_, oid)| !unreachable.contains(oid))
        .map(|(t, oid)| (t.clone(), oid))
        .or(nearest))
}

/// The newest-named tag on the first tagged commit met walking back from `head` newest commit
/// first (like `git describe`). The walk is done here because libgit2's date-sorted revwalk
/// reads the whole history before returning its first commit.
fn nearest_tag(
    repo: &Repository,
    tags: &HashMap<Oid, Vec<ReleaseTag>>,
    head: Oid,
) -> Result<Option<(ReleaseTag, Oid)>> {
    if tags.is_empty() {
        return Ok(None);
    }
    let mut queue = BinaryHeap::new();
    let mut seen = HashSet::new();
    let head_commit = repo.find_commit(head).context("reading HEAD's commit")?;
    queue.push((head_commit.time().seconds(), head));
    seen.insert(head);
    while let Some((_, oid)) = queue.pop() {
        if let Some(best) = tags.get(&oid).and_then(|ts| ts.iter().max()) {
            return Ok(Some((best.clone(), oid)));
        }
        let commit = repo.find_commit(oid).context("reading a commit")?;
        for parent in commit.parents() {
            if seen.insert(parent.id()) {
                queue.push((parent.time().seconds(), parent.id()));
            }
        }
    }
    Ok(None)
}

/// Which of `commits` are not reachable from `head` (one walk: `commits ^head`).
fn not_reachable_from(
    repo: &Repository,
    commits: impl Iterator<Item = Oid>,
    head: Oid,
) -> Result<HashSet<Oid>> {
    let wanted: HashSet<Oid> = commits.collect();
    let mut walk = repo.revwalk().context("starting a history walk")?;
    for oid in &wanted {
        walk.push(*oid)?;
    }
    walk.hide(head)?;
    let mut found = HashSet::new();
    for oid in walk {
        let oid = oid.context("walking history")?;
        if wanted.contains(&oid) {
            found.insert(oid);
            if found.len() == wanted.len() {
                break;
            }
        }
    }
    Ok(found)
}

/// What this push's newest tag ships, for the git pane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shipping {
    pub tag: String,
    /// The release before this push's; `None` for a first release.
    pub since: Option<String>,
    /// `since..tag`, newest first in topological order (children before parents), at most
    /// [`COMMIT_LIST_CAP`].
    pub commits: Vec<CommitInfo>,
    /// How many there are in all.
    pub total: usize,
    /// The commits made by cherry-picking (in the tag, not on the branch), newest first.
    pub picks: Vec<CommitInfo>,
    /// The release tag the picks went onto, when one names the commit they start from.
    pub onto: Option<String>,
}

/// What the newest tag of the push on `push_date` ships; `None` until the push has a tag.
pub fn shipping(
    spec: &RepoSpec,
    format: &TagFormat,
    push_date: chrono::NaiveDate,
) -> Result<Option<Shipping>> {
    let repo = spec.open()?;
    let all = super::tags::repo_release_tags(&repo, format)?;
    let Some(this) = all
        .iter()
        .filter(|t| t.key == super::tags::TagKey::from(push_date))
        .max()
    else {
        return Ok(None);
    };
    let Some(tip) = local_tag_commit(&repo, &this.name)? else {
        return Ok(None);
    };
    let prev = match super::tags::previous(&all, push_date) {
        Some(p) => local_tag_commit(&repo, &p.name)?.map(|oid| (p.name.clone(), oid)),
        None => None,
    };
    let (total, commits) = walk_topo(&repo, tip, prev.iter().map(|(_, o)| *o))?;
    // Commits the branch does not have were made by cherry-picking onto an older commit.
    let branch = repo
        .refname_to_id(&spec.tracking_ref())
        .or_else(|_| repo.refname_to_id(&spec.branch_ref()))
        .ok();
    let (picks, onto) = match branch {
        Some(b) => {
            let hide = prev.iter().map(|(_, o)| *o).chain([b]);
            let (_, picks) = walk_topo(&repo, tip, hide)?;
            let onto = picks
                .last()
                .and_then(|oldest| repo.revparse_single(&oldest.sha).ok())
                .and_then(|o| o.peel_to_commit().ok())
                .and_then(|c| c.parent_id(0).ok())
                .and_then(|base| {
                    all.iter()
                        .filter(|t| t.name != this.name)
                        .find(|t| local_tag_commit(&repo, &t.name).ok().flatten() == Some(base))
                        .map(|t| t.name.clone())
                });
            (picks, onto)
        }
        None => (Vec::new(), None),
    };
    Ok(Some(Shipping {
        tag: this.name.clone(),
        since: prev.map(|(name, _)| name),
        commits,
        total,
        picks,
        onto,
    }))
}

/// Commits reachable from `tip` and none of `hide` (all of its history when `hide` is empty):
/// how many, and the first [`COMMIT_LIST_CAP`], children before parents and newest first among
/// those free to go, so merged work reads in the order it was built on.
fn walk_topo(
    repo: &Repository,
    tip: Oid,
    hide: impl Iterator<Item = Oid>,
) -> Result<(usize, Vec<CommitInfo>)> {
    let mut walk = repo.revwalk().context("starting a history walk")?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME)?;
    walk.push(tip)?;
    for h in hide {
        walk.hide(h)?;
    }
    let mut count = 0;
    let mut list = Vec::new();
    for oid in walk {
        let oid = oid.context("walking history")?;
        count += 1;
        if list.len() < COMMIT_LIST_CAP {
            let commit = repo.find_commit(oid).context("reading a commit")?;
            list.push(CommitInfo::of(&commit));
        }
    }
    Ok((count, list))
}
