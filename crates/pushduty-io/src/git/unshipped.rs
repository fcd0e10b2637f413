//! What upstream has that this push's tag does not: the commits on the remote-tracking branch
//! that the newest tag of the push neither contains nor has a cherry-pick of. After tagging,
//! these are where a blocker's fix shows up, and what a `cherry-pick:` answer may name.
//! Reading only.

use anyhow::{Context, Result};
use git2::{Oid, Repository, Sort};

use super::spec::{RepoSpec, local_tag_commit};
use super::state::CommitInfo;
use super::tags::{self, TagFormat, TagKey};

/// At most this many of them are listed (newest first); the count covers them all.
pub const SHOWN: usize = 10;

/// How far back the tag's own commits are read for the cherry-picks it made already.
const PICKS_READ: usize = 500;

/// The commits upstream has that this push's tag does not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unshipped {
    /// This push's newest tag.
    pub tag: String,
    /// `REMOTE/BRANCH`.
    pub upstream: String,
    /// How many there are (merges left out: they cannot be picked).
    pub total: usize,
    /// Newest first, at most the limit asked for, with their full ids.
    pub commits: Vec<(Oid, CommitInfo)>,
}

/// The newest tag of the push whose tags have `key`, and its commit.
pub fn push_tag(
    repo: &Repository,
    format: &TagFormat,
    key: &TagKey,
) -> Result<Option<(String, Oid)>> {
    let all = tags::repo_release_tags(repo, format)?;
    let Some(newest) = all.iter().filter(|t| &t.key == key).max() else {
        return Ok(None);
    };
    Ok(local_tag_commit(repo, &newest.name)?.map(|oid| (newest.name.clone(), oid)))
}

/// The commits `spec`'s remote-tracking branch has that the push's newest tag lacks; `None`
/// until the push has a tag or while the remote-tracking branch is unknown.
pub fn unshipped(
    spec: &RepoSpec,
    format: &TagFormat,
    key: &TagKey,
    limit: usize,
) -> Result<Option<Unshipped>> {
    let repo = spec.open()?;
    let Some((tag, at)) = push_tag(&repo, format, key)? else {
        return Ok(None);
    };
    let Ok(upstream) = repo.refname_to_id(&spec.tracking_ref()) else {
        return Ok(None);
    };
    let picked = picked_into(&repo, at, upstream)?;
    let mut walk = repo.revwalk().context("starting a history walk")?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME)?;
    walk.push(upstream)?;
    walk.hide(at)?;
    let mut total = 0;
    let mut commits = Vec::new();
    for oid in walk {
        let oid = oid.context("walking history")?;
        if picked.contains(&oid) {
            continue;
        }
        let c = repo.find_commit(oid).context("reading a commit")?;
        if c.parent_count() != 1 {
            continue;
        }
        total += 1;
        if commits.len() < limit {
            commits.push((oid, CommitInfo::of(&c)));
        }
    }
    Ok(Some(Unshipped {
        tag,
        upstream: format!("{}/{}", spec.remote, spec.branch),
        total,
        commits,
    }))
}

/// The commits whose cherry-picks `tag` holds (named by the `(cherry picked from commit X)`
/// line every pick gets), among its commits the branch does not have.
fn picked_into(repo: &Repository, tag: Oid, branch: Oid) -> Result<Vec<Oid>> {
    let mut walk = repo.revwalk().context("starting a history walk")?;
    walk.push(tag)?;
    walk.hide(branch)?;
    let mut out = Vec::new();
    for oid in walk.take(PICKS_READ) {
        let c = repo
            .find_commit(oid.context("walking history")?)
            .context("reading a commit")?;
        let message = String::from_utf8_lossy(c.message_bytes()).into_owned();
        out.extend(message.lines().filter_map(|l| {
            let sha = l.trim().strip_prefix("(cherry picked from commit ")?;
            Oid::from_str(sha.trim_end_matches(')')).ok()
        }));
    }
    Ok(out)
}

/// Why `sha` cannot be a fix to cherry-pick onto `tag` (its name and commit), if it cannot:
/// it must be a commit of the checkout, not a merge, and not shipped by the tag as it stands
/// (a cherry-pick of it in the tag is fine: that is the fix recorded after it was picked).
pub fn refuse_fix(repo: &Repository, tag: Option<&(String, Oid)>, sha: &str) -> Option<String> {
    let Ok(commit) = repo.find_commit_by_prefix(sha) else {
        return Some(format!(
            "{sha} is not a commit of this checkout (or names several): take one from the list, \
             or fetch first"
        ));
    };
    if let Some((name, at)) = tag {
        let inside =
            commit.id() == *at || repo.graph_descendant_of(*at, commit.id()).unwrap_or(false);
        if inside {
            return Some(format!(
                "{sha} is in {name} already: it ships without a pick (the outcome is `resolved`)"
            ));
        }
    }
    (commit.parent_count() != 1)
        .then(|| format!("{sha} is a merge: give the commits it merged instead"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use git2::Signature;

    fn commit(repo: &Repository, parent: Option<Oid>, msg: &str) -> Oid {
        let sig = Signature::now("T", "t@example.org").unwrap();
        let tree = repo
            .find_tree(repo.treebuilder(None).unwrap().write().unwrap())
            .unwrap();
        let parents: Vec<_> = parent
            .map(|p| repo.find_commit(p).unwrap())
            .into_iter()
            .collect();
        let refs: Vec<_> = parents.iter().collect();
        repo.commit(None, &sig, &sig, msg, &tree, &refs).unwrap()
    }

    #[test]
    fn upstream_after_the_tag_is_listed_newest_first_and_picks_count_as_shipped() {
        let d = tempfile::tempdir().unwrap();
        let repo = Repository::init(d.path()).unwrap();
        let base = commit(&repo, None, "base");
        let obj = repo.find_object(base, None).unwrap();
        repo.tag_lightweight("2026.12.10", &obj, false).unwrap();
        let fix = commit(&repo, Some(base), "guard the search");
        let later = commit(&repo, Some(fix), "more work");
        repo.reference("refs/remotes/upstream/master", later, true, "")
            .unwrap();
        let spec = RepoSpec {
            name: "olympia".into(),
            path: d.path().to_path_buf(),
            github: None,
            remote: "upstream".into(),
            branch: "master".into(),
        };
        let format = TagFormat::new("%Y.%m.%d").unwrap();
        let key = TagKey::from(NaiveDate::from_ymd_opt(2026, 12, 10).unwrap());
        let u = unshipped(&spec, &format, &key, SHOWN).unwrap().unwrap();
        assert_eq!((u.tag.as_str(), u.total), ("2026.12.10", 2));
        let subjects: Vec<&str> = u.commits.iter().map(|(_, c)| c.subject.as_str()).collect();
        assert_eq!(subjects, ["more work", "guard the search"]);
        assert_eq!(
            unshipped(&spec, &format, &key, 1).unwrap().unwrap().total,
            2
        );
        let tag = push_tag(&repo, &format, &key).unwrap();
        assert_eq!(refuse_fix(&repo, tag.as_ref(), &fix.to_string()[..8]), None);
        let said = refuse_fix(&repo, tag.as_ref(), &base.to_string()[..8]).unwrap();
        assert!(said.contains("in 2026.12.10 already"), "{said}");
        let said = refuse_fix(&repo, tag.as_ref(), "deadbeef").unwrap();
        assert!(said.contains("not a commit of this checkout"), "{said}");

        // The fix picked onto the tag as `-1`: only the rest is left.
        let picked = commit(
            &repo,
            Some(base),
            &format!("guard the search\n\n(cherry picked from commit {fix})\n"),
        );
        let obj = repo.find_object(picked, None).unwrap();
        repo.tag_lightweight("2026.12.10-1", &obj, false).unwrap();
        let u = unshipped(&spec, &format, &key, SHOWN).unwrap().unwrap();
        assert_eq!((u.tag.as_str(), u.total), ("2026.12.10-1", 1));
        // Recorded after it was picked, the fix is still a fix; the base is still shipped.
        let tag = push_tag(&repo, &format, &key).unwrap();
        assert_eq!(refuse_fix(&repo, tag.as_ref(), &fix.to_string()), None);
        let said = refuse_fix(&repo, tag.as_ref(), &base.to_string()).unwrap();
        assert!(said.contains("in 2026.12.10-1 already"), "{said}");
    }
}
