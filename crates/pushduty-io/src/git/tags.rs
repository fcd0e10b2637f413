//! Release tags as a repository has them; what they name and how they order is
//! [`pushduty_core::tags`].

use anyhow::{Context, Result};

pub use pushduty_core::tags::*;

/// The release tags of a repository, newest first.
pub fn repo_release_tags(repo: &git2::Repository, format: &TagFormat) -> Result<Vec<ReleaseTag>> {
    let names = repo_tag_names(repo)?;
    Ok(release_tags(format, names.iter().map(String::as_str)))
}

/// Tag names of a repository (lightweight and annotated alike).
///
/// Read from the ref names alone: libgit2's `git_tag_list` resolves every tag (a `stat` for a
/// loose file, then a packed-refs lookup, each), which on a repository with hundreds of tags
/// costs more than the rest of the git pane's first read.
pub fn repo_tag_names(repo: &git2::Repository) -> Result<Vec<String>> {
    let mut refs = repo
        .references_glob("refs/tags/*")
        .context("listing tags")?;
    let mut names = Vec::new();
    for name in refs.names() {
        // Names that are not UTF-8 cannot be release tags; they are left out.
        if let Some(tag) = name.ok().and_then(|n| n.strip_prefix("refs/tags/")) {
            names.push(tag.to_string());
        }
    }
    Ok(names)
}

/// The release tags of the checkout at `path`, for [`pushduty_core::runbook::vars::Vars::compute`].
pub fn checkout_release_tags(
    path: &std::path::Path,
    format: &TagFormat,
) -> Result<Vec<ReleaseTag>> {
    repo_release_tags(&super::spec::open_path(path)?, format)
}
