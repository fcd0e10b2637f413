//! Tagging a release: a lightweight tag, like the runbook's `git tag NAME`.
//!
//! Lightweight because that is what the team's tags have always been and what GitHub's compare
//! pages and `git describe --tags` treat the same way; annotated tags would add a tagger and
//! date that nobody reads. A tag is never moved: an existing tag at another commit is an error.

use anyhow::{Context, Result, bail};
use git2::{Oid, Reference};

use super::spec::{RepoSpec, branch_tip, local_tag_commit, shell_quote, unambiguous_sha};

/// What [`tag`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagOutcome {
    Created {
        name: String,
        oid: Oid,
    },
    /// The tag already named this commit; nothing was done.
    AlreadyThere {
        name: String,
        oid: Oid,
    },
}

/// Tags `target` (default: the tip of the spec's branch) as `name`.
pub fn tag(spec: &RepoSpec, name: &str, target: Option<Oid>) -> Result<TagOutcome> {
    check_name(name)?;
    let repo = spec.open()?;
    let commit = match target {
        Some(oid) => repo
            .find_commit(oid)
            .with_context(|| format!("commit {oid} not found in {}", spec.path.display()))?,
        None => branch_tip(&repo, spec)?,
    };
    let oid = commit.id();
    if let Some(existing) = local_tag_commit(&repo, name)? {
        if existing == oid {
            return Ok(TagOutcome::AlreadyThere {
                name: name.to_string(),
                oid,
            });
        }
        bail!(
            "tag {name} already exists at {existing}, not at {oid}; it was left where it is \
             (pick the next free tag name instead)"
        );
    }
    // force=false: if someone creates the tag between the check and here, this fails instead
    // of moving it.
    repo.tag_lightweight(name, commit.as_object(), false)
        .with_context(|| format!("creating tag {name} at {oid}"))?;
    Ok(TagOutcome::Created {
        name: name.to_string(),
        oid,
    })
}

/// The equivalent command line, e.g. `git -C /src/olympia tag 2015.09.10 1a2b3c4`.
pub fn preview(spec: &RepoSpec, name: &str, target: Option<Oid>) -> String {
    let rev = match (target, spec.open()) {
        (Some(oid), Ok(repo)) => unambiguous_sha(&repo, oid),
        (Some(oid), Err(_)) => oid.to_string(),
        (None, Ok(repo)) => branch_tip(&repo, spec)
            .map(|c| unambiguous_sha(&repo, c.id()))
            .unwrap_or_else(|_| spec.branch.clone()),
        (None, Err(_)) => spec.branch.clone(),
    };
    format!(
        "{} tag {} {}",
        spec.git_c(),
        shell_quote(name),
        shell_quote(&rev)
    )
}

pub(crate) fn check_name(name: &str) -> Result<()> {
    if !Reference::is_valid_name(&format!("refs/tags/{name}")) {
        bail!("`{name}` is not a valid tag name");
    }
    Ok(())
}
