//! Pushing one release tag to the spec's remote (never `--tags`: only the tag named).

use anyhow::{Context, Result, anyhow, bail};
use git2::Oid;

use super::net::{Net, ls_remote, push_refspec};
use super::spec::{RepoSpec, local_tag_commit, shell_quote};
use super::tag::check_name;

/// What [`push_tag`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushOutcome {
    Pushed {
        name: String,
        oid: Oid,
    },
    /// The remote already had the tag at the same commit; nothing was pushed.
    AlreadyThere {
        name: String,
        oid: Oid,
    },
}

/// Pushes `refs/tags/NAME` to the spec's remote, after checking what the remote has.
pub fn push_tag(spec: &RepoSpec, name: &str) -> Result<PushOutcome> {
    push_tag_with(spec, name, &mut Net::quiet())
}

/// [`push_tag`], with git's progress and a cancel: see [`Net`]. A refusal (a hook, a
/// protected tag) is an error carrying the remote's own words.
pub fn push_tag_with(spec: &RepoSpec, name: &str, net: &mut Net<'_>) -> Result<PushOutcome> {
    check_name(name)?;
    let repo = spec.open()?;
    let oid = local_tag_commit(&repo, name)?
        .ok_or_else(|| anyhow!("tag {name} does not exist in {}", spec.path.display()))?;
    let refname = format!("refs/tags/{name}");
    let on_remote = ls_remote(spec, &[&refname], net)?;
    match on_remote.get(&refname) {
        Some(theirs) if *theirs == oid => {
            return Ok(PushOutcome::AlreadyThere {
                name: name.to_string(),
                oid,
            });
        }
        Some(theirs) => bail!(
            "remote {} already has tag {name} at {theirs}, not at {oid}; nothing was pushed",
            spec.remote
        ),
        None => {}
    }
    push_refspec(spec, &format!("{refname}:{refname}"), net)
        .with_context(|| format!("pushing tag {name} to {}", spec.remote))?;
    Ok(PushOutcome::Pushed {
        name: name.to_string(),
        oid,
    })
}

/// The equivalent command line.
pub fn preview(spec: &RepoSpec, name: &str) -> String {
    let refname = format!("refs/tags/{name}");
    format!(
        "{} push {} {}",
        spec.git_c(),
        shell_quote(&spec.remote),
        shell_quote(&format!("{refname}:{refname}"))
    )
}
