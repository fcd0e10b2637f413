//! Which repository a step works on, and small helpers shared by the steps.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use git2::{Commit, Oid, Repository};
use serde::{Deserialize, Serialize};

/// One repository of a push: where it lives, its GitHub name, and the remote/branch it ships.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepoSpec {
    pub name: String,
    pub path: PathBuf,
    /// `owner/repo` on GitHub, for compare links.
    pub github: Option<String>,
    pub remote: String,
    pub branch: String,
}

impl RepoSpec {
    /// The git view of a runbook repo, when the operator's config says where its checkout is.
    pub fn from_config(
        config: &crate::config::Config,
        name: &str,
        repo: &crate::runbook::model::Repo,
    ) -> Option<Self> {
        Some(RepoSpec {
            name: name.to_string(),
            path: config.repo_path(name)?.to_path_buf(),
            github: Some(repo.github.clone()),
            remote: repo.remote.clone(),
            branch: repo.branch.clone(),
        })
    }

    /// Opens the repository at exactly `path` (no search upwards: a typo must not silently
    /// pick up an enclosing repository).
    pub fn open(&self) -> Result<Repository> {
        open_path(&self.path)
    }

    pub(crate) fn branch_ref(&self) -> String {
        format!("refs/heads/{}", self.branch)
    }

    pub(crate) fn tracking_ref(&self) -> String {
        format!("refs/remotes/{}/{}", self.remote, self.branch)
    }

    /// `git -C <path>`, quoted for a shell, as the start of preview command lines.
    pub(crate) fn git_c(&self) -> String {
        format!("git -C {}", shell_quote(&self.path.to_string_lossy()))
    }

    /// The GitHub compare page between two revisions, when the repository is on GitHub.
    pub fn compare_url(&self, from: &str, to: &str) -> Option<String> {
        self.github
            .as_ref()
            .map(|gh| github_compare_url(gh, from, to))
    }
}

/// Opens the repository at exactly `path` (no search upwards), saying what is wrong if not.
pub fn open_path(path: &std::path::Path) -> Result<Repository> {
    if !path.exists() {
        bail!("repository path {} does not exist", path.display());
    }
    Repository::open(path).with_context(|| format!("{} is not a git repository", path.display()))
}

pub use pushduty_core::urls::github_compare_url;

/// The tip commit of the spec's local branch.
pub(crate) fn branch_tip<'r>(repo: &'r Repository, spec: &RepoSpec) -> Result<Commit<'r>> {
    let name = spec.branch_ref();
    repo.find_reference(&name)
        .and_then(|r| r.peel_to_commit())
        .with_context(|| {
            format!(
                "branch {} not found in {}",
                spec.branch,
                spec.path.display()
            )
        })
}

/// The commit a local tag points at (peeling annotated tags), or `None` if there is no such tag.
pub fn local_tag_commit(repo: &Repository, name: &str) -> Result<Option<Oid>> {
    let refname = format!("refs/tags/{name}");
    match repo.find_reference(&refname) {
        Ok(r) => {
            let commit = r
                .peel_to_commit()
                .with_context(|| format!("tag {name} does not point at a commit"))?;
            Ok(Some(commit.id()))
        }
        Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading tag {name}")),
    }
}

/// The first seven hex digits of an object id, as shown in lists and JSON.
pub fn short_sha(oid: Oid) -> String {
    let mut s = oid.to_string();
    s.truncate(7);
    s
}

/// An unambiguous abbreviation of a commit for command lines (at least seven digits).
pub(crate) fn unambiguous_sha(repo: &Repository, oid: Oid) -> String {
    repo.find_object(oid, None)
        .and_then(|o| o.short_id())
        .ok()
        .and_then(|b| b.as_str().ok().map(str::to_string))
        .unwrap_or_else(|| oid.to_string())
}

/// The first line of a commit message, lossily decoded.
pub(crate) fn subject(commit: &Commit<'_>) -> String {
    let raw = commit.summary_bytes().unwrap_or_default();
    String::from_utf8_lossy(raw).into_owned()
}

/// The author's name, lossily decoded.
pub(crate) fn author_name(commit: &Commit<'_>) -> String {
    String::from_utf8_lossy(commit.author().name_bytes()).into_owned()
}

pub use pushduty_core::preview::shell_quote;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_when_needed() {
        assert_eq!(shell_quote("/src/olympia"), "/src/olympia");
        assert_eq!(shell_quote("/my repo"), "'/my repo'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(
            shell_quote("+refs/tags/*:refs/tags/*"),
            "'+refs/tags/*:refs/tags/*'"
        );
        assert_eq!(shell_quote(""), "''");
    }
}
