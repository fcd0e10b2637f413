//! Cherry-picking fixes onto a release, in memory.
//!
//! The picks are applied one after another onto `base` with libgit2's in-memory cherry-pick:
//! the work tree, the index, HEAD and every ref stay as they are. No branch is created for the
//! result: the caller tags it (with the next `-N` name) and the tag is the ref. Until then the
//! new commits are unreferenced objects; a failed pick leaves only such objects behind, which
//! `git gc` removes.
//!
//! Each new commit keeps the original author and message, with the `(cherry picked from commit
//! ...)` line `git cherry-pick -x` adds; the committer is the repository's configured user.

use anyhow::{Context, Result, anyhow, bail};
use git2::{Commit, Oid, Repository, Signature};

use super::spec::{RepoSpec, shell_quote, subject, unambiguous_sha};

/// One commit applied: the original, the new commit, and its subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub original: Oid,
    pub new: Oid,
    pub subject: String,
}

/// The result of [`cherry_pick`]: the commit to tag, and what was applied to get there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CherryPickOutcome {
    pub base: Oid,
    pub result: Oid,
    pub applied: Vec<Applied>,
    /// Commits left out because the base has them already (listed again after a re-tag),
    /// with why.
    pub skipped: Vec<(Oid, String)>,
}

/// Applies `commits` (sha prefixes or GitHub commit URLs) in order onto `base` (a tag or any
/// revision). All of them are resolved before anything is written; on a conflict nothing
/// visible changes and the error names the commit and the conflicting paths.
pub fn cherry_pick(spec: &RepoSpec, base: &str, commits: &[String]) -> Result<CherryPickOutcome> {
    if commits.is_empty() {
        bail!("no commits to cherry-pick");
    }
    let repo = spec.open()?;
    let base_commit = resolve_base(&repo, base)?;
    let mut picks = Vec::new();
    let mut skipped = Vec::new();
    for c in commits {
        let pick = resolve_pick(&repo, c)?;
        let id = pick.id();
        if id == base_commit.id()
            || repo
                .graph_descendant_of(base_commit.id(), id)
                .context("checking the base's history")?
        {
            skipped.push((id, format!("already in {base}")));
        } else {
            picks.push(pick);
        }
    }
    let committer = repo
        .signature()
        .context("no committer identity: set user.name and user.email in git config")?;
    let mut tip = base_commit.clone();
    let mut applied = Vec::with_capacity(picks.len());
    for pick in &picks {
        match apply(&repo, pick, &tip, &committer)? {
            Some(new) => {
                applied.push(Applied {
                    original: pick.id(),
                    new: new.id(),
                    subject: subject(pick),
                });
                tip = new;
            }
            None => skipped.push((pick.id(), "its change is there already".to_string())),
        }
    }
    if applied.is_empty() {
        bail!("nothing to cherry-pick: every commit listed is in {base} already");
    }
    Ok(CherryPickOutcome {
        base: base_commit.id(),
        result: tip.id(),
        applied,
        skipped,
    })
}

/// The equivalent command lines (git itself needs a checkout to cherry-pick; pushduty does not
/// touch the work tree).
pub fn preview(spec: &RepoSpec, base: &str, commits: &[String]) -> String {
    let repo = spec.open().ok();
    let shas: Vec<String> = commits
        .iter()
        .map(|c| shell_quote(&pick_label(repo.as_ref(), c)))
        .collect();
    format!(
        "{git} checkout --detach {base}\n{git} cherry-pick -x {shas}",
        git = spec.git_c(),
        base = shell_quote(base),
        shas = shas.join(" ")
    )
}

/// A pick as an unambiguous sha when it can be found, else as given.
fn pick_label(repo: Option<&Repository>, input: &str) -> String {
    let sha = commit_sha_from(input).unwrap_or(input);
    repo.and_then(|r| {
        r.find_commit_by_prefix(sha)
            .ok()
            .map(|c| unambiguous_sha(r, c.id()))
    })
    .unwrap_or_else(|| sha.to_string())
}

fn resolve_base<'r>(repo: &'r Repository, base: &str) -> Result<Commit<'r>> {
    repo.revparse_single(base)
        .and_then(|o| o.peel_to_commit())
        .with_context(|| format!("base {base} is not a commit in this repository"))
}

/// The sha in a sha prefix or a GitHub commit URL
/// (`.../commit/<sha>`, `.../pull/N/commits/<sha>`), if it looks like one.
pub fn commit_sha_from(input: &str) -> Option<&str> {
    let input = input.trim();
    let sha = if input.contains("://") {
        let path = input.split(['?', '#']).next().unwrap_or(input);
        let mut parts = path.trim_end_matches('/').rsplit('/');
        let sha = parts.next()?;
        match parts.next()? {
            "commit" | "commits" => sha,
            _ => return None,
        }
    } else {
        input
    };
    let hex = sha.len() >= 4 && sha.len() <= 40 && sha.bytes().all(|b| b.is_ascii_hexdigit());
    hex.then_some(sha)
}

/// The commit a pick names (a sha prefix or a GitHub commit URL), whatever it is.
pub fn find_pick<'r>(repo: &'r Repository, input: &str) -> Result<Commit<'r>> {
    let sha = commit_sha_from(input)
        .ok_or_else(|| anyhow!("`{input}` is neither a commit sha nor a GitHub commit URL"))?;
    repo.find_commit_by_prefix(sha).with_context(|| {
        format!("commit {sha} not found (or ambiguous) in this repository; fetch first?")
    })
}

/// A commit that can be picked: not a merge.
fn resolve_pick<'r>(repo: &'r Repository, input: &str) -> Result<Commit<'r>> {
    let commit = find_pick(repo, input)?;
    if commit.parent_count() != 1 {
        bail!(
            "{} is a merge commit (or has no parent); pick the commits it merged instead",
            commit.id()
        );
    }
    Ok(commit)
}

fn apply<'r>(
    repo: &'r Repository,
    pick: &Commit<'_>,
    onto: &Commit<'r>,
    committer: &Signature<'_>,
) -> Result<Option<Commit<'r>>> {
    let mut index = repo
        .cherrypick_commit(pick, onto, 0, None)
        .with_context(|| format!("cherry-picking {}", pick.id()))?;
    if index.has_conflicts() {
        let paths = conflict_paths(&index)?;
        bail!(
            "cherry-picking {} ({}) conflicts in {}; nothing was changed",
            pick.id(),
            subject(pick),
            paths.join(", ")
        );
    }
    let tree_id = index
        .write_tree_to(repo)
        .context("writing the cherry-picked tree")?;
    if tree_id == onto.tree_id() {
        return Ok(None);
    }
    let tree = repo.find_tree(tree_id).context("reading the new tree")?;
    let message = format!(
        "{}\n\n(cherry picked from commit {})\n",
        String::from_utf8_lossy(pick.message_bytes()).trim_end(),
        pick.id()
    );
    let new = repo
        .commit(None, &pick.author(), committer, &message, &tree, &[onto])
        .with_context(|| format!("committing the cherry-pick of {}", pick.id()))?;
    repo.find_commit(new)
        .map(Some)
        .context("reading the new commit")
}

fn conflict_paths(index: &git2::Index) -> Result<Vec<String>> {
    let mut paths = Vec::new();
    for conflict in index.conflicts().context("reading conflicts")? {
        let conflict = conflict.context("reading a conflict")?;
        let entry = conflict.our.or(conflict.their).or(conflict.ancestor);
        if let Some(e) = entry {
            paths.push(String::from_utf8_lossy(&e.path).into_owned());
        }
    }
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_shas_and_github_urls() {
        assert_eq!(commit_sha_from("1a2b3c4"), Some("1a2b3c4"));
        assert_eq!(
            commit_sha_from("https://github.com/o/r/commit/1a2b3c4d"),
            Some("1a2b3c4d")
        );
        assert_eq!(
            commit_sha_from("https://github.com/o/r/pull/12/commits/abcdef0/"),
            Some("abcdef0")
        );
        assert_eq!(
            commit_sha_from("https://github.com/o/r/commit/abcdef0#diff-1"),
            Some("abcdef0")
        );
        assert_eq!(commit_sha_from("https://github.com/o/r/pull/12"), None);
        assert_eq!(commit_sha_from("HEAD~1"), None);
        assert_eq!(commit_sha_from("abc"), None);
    }
}
