//! A repository's state for the status pane and `pushduty status --json`.
//!
//! The JSON field names of [`RepoState`] are a published contract; do not rename them.
//!
//! Decisions:
//! - `last_tag` is the newest release tag *by name ordering* ([`ReleaseTag`]'s `Ord`: date, then
//!   revision) among the tags whose commit is HEAD or an ancestor of HEAD. A tag on a commit that
//!   HEAD does not contain (e.g. a `-1` made on an in-memory cherry-pick) is not "last" for HEAD.
//! - With no reachable release tag, `last_tag` and `compare_url` are null, and
//!   `commits_since_tag`/`commits` cover all of HEAD's history: a first push ships everything.
//! - `ahead`/`behind` compare HEAD with the checked-out branch's upstream, or with
//!   `REMOTE/BRANCH` of the spec when there is no upstream (or HEAD is detached); 0/0 when
//!   neither exists.
//! - `compare_url` runs from `last_tag` to the spec's branch (what the push ships), even when
//!   another branch is checked out.
//! - A detached HEAD is not an error: `branch` is null and the rest is computed.

use std::collections::HashMap;

use anyhow::{Context, Result, bail};
use git2::{ErrorCode, ObjectType, Oid, Reference, Repository, Sort, StatusOptions};
use serde::Serialize;

use super::spec::{RepoSpec, author_name, short_sha, subject};
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
    let tags = release_tag_commits(&repo, format)?;
    let last = newest_reachable_tag(&repo, &tags, head.id())?;
    let (count, commits) = commits_since(&repo, head.id(), last.as_ref().map(|(_, oid)| *oid))?;
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
pub(crate) fn dirty_count(repo: &Repository) -> Result<usize> {
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

/// Release tags by the commit they name (annotated tags peeled).
pub(crate) fn release_tag_commits(
    repo: &Repository,
    format: &TagFormat,
) -> Result<HashMap<Oid, Vec<ReleaseTag>>> {
    let mut by_commit: HashMap<Oid, Vec<ReleaseTag>> = HashMap::new();
    let odb = repo.odb().context("opening the object database")?;
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
        if let Some(commit) = tag_commit(&odb, &r) {
            by_commit.entry(commit).or_default().push(tag);
        }
    }
    Ok(by_commit)
}

/// The commit a tag ref names, reading only object headers for lightweight tags; tags of
/// trees or blobs yield `None`.
fn tag_commit(odb: &git2::Odb<'_>, r: &Reference<'_>) -> Option<Oid> {
    if let Some(peeled) = r.target_peel() {
        return Some(peeled);
    }
    let target = r.target()?;
    match odb.read_header(target).ok()?.1 {
        ObjectType::Commit => Some(target),
        ObjectType::Tag => r.peel_to_commit().ok().map(|c| c.id()),
        _ => None,
    }
}

/// The newest-named release tag whose commit is `head` or one of its ancestors.
///
/// Walking from HEAD by date finds the nearest tagged commit with one walk of the commits
/// since it; a tag newer by name can still hide elsewhere (a `-1` on an older commit, clock
/// skew), so the tags newer than the one found are checked together with one more walk.
pub(crate) fn newest_reachable_tag(
    repo: &Repository,
    tags: &HashMap<Oid, Vec<ReleaseTag>>,
    head: Oid,
) -> Result<Option<(ReleaseTag, Oid)>> {
    let Some(nearest) = nearest_tag(repo, tags, head)? else {
        return Ok(None);
    };
    let mut newer: Vec<(&ReleaseTag, Oid)> = tags
        .iter()
        .flat_map(|(oid, ts)| ts.iter().map(move |t| (t, *oid)))
        .filter(|(t, _)| **t > nearest.0)
        .collect();
    if newer.is_empty() {
        return Ok(Some(nearest));
    }
    newer.sort_by(|a, b| b.0.cmp(a.0));
    let unreachable = not_reachable_from(repo, newer.iter().map(|(_, oid)| *oid), head)?;
    Ok(newer
        .into_iter()
        .find(|(_, oid)| !unreachable.contains_key(oid))
        .map(|(t, oid)| (t.clone(), oid))
        .or(Some(nearest)))
}

/// The newest-named tag on the first tagged commit met walking back from `head` by date.
fn nearest_tag(
    repo: &Repository,
    tags: &HashMap<Oid, Vec<ReleaseTag>>,
    head: Oid,
) -> Result<Option<(ReleaseTag, Oid)>> {
    if tags.is_empty() {
        return Ok(None);
    }
    let mut walk = repo.revwalk().context("starting a history walk")?;
    walk.set_sorting(Sort::TIME)?;
    walk.push(head)?;
    for oid in walk {
        let oid = oid.context("walking history")?;
        if let Some(best) = tags.get(&oid).and_then(|ts| ts.iter().max()) {
            return Ok(Some((best.clone(), oid)));
        }
    }
    Ok(None)
}

/// Which of `commits` are not reachable from `head` (one walk: `commits ^head`).
fn not_reachable_from(
    repo: &Repository,
    commits: impl Iterator<Item = Oid>,
    head: Oid,
) -> Result<HashMap<Oid, ()>> {
    let wanted: HashMap<Oid, ()> = commits.map(|c| (c, ())).collect();
    let mut walk = repo.revwalk().context("starting a history walk")?;
    for oid in wanted.keys() {
        walk.push(*oid)?;
    }
    walk.hide(head)?;
    let mut found = HashMap::new();
    for oid in walk {
        let oid = oid.context("walking history")?;
        if wanted.contains_key(&oid) {
            found.insert(oid, ());
            if found.len() == wanted.len() {
                break;
            }
        }
    }
    Ok(found)
}

/// The count of `since..head` (all of head's history when `since` is `None`) and the newest
/// [`COMMIT_LIST_CAP`] of them.
fn commits_since(
    repo: &Repository,
    head: Oid,
    since: Option<Oid>,
) -> Result<(usize, Vec<CommitInfo>)> {
    let mut walk = repo.revwalk().context("starting a history walk")?;
    walk.set_sorting(Sort::TIME)?;
    walk.push(head)?;
    if let Some(since) = since {
        walk.hide(since)?;
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
