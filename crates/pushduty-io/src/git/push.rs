//! Pushing one release tag to the spec's remote (never `--tags`: only the tag named).

use std::cell::RefCell;
use std::collections::HashMap;

use anyhow::{Context, Result, anyhow, bail};
use git2::{Direction, Oid, PushOptions, Remote, Repository};

use super::creds::Credentials;
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
pub fn push_tag(spec: &RepoSpec, name: &str, creds: &Credentials) -> Result<PushOutcome> {
    check_name(name)?;
    let repo = spec.open()?;
    let oid = local_tag_commit(&repo, name)?
        .ok_or_else(|| anyhow!("tag {name} does not exist in {}", spec.path.display()))?;
    let mut remote = find_remote(&repo, spec)?;
    let refname = format!("refs/tags/{name}");
    let on_remote = remote_refs(&repo, &mut remote, creds)?;
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
    send(&repo, &mut remote, &refname, creds)
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

pub(crate) fn find_remote<'r>(repo: &'r Repository, spec: &RepoSpec) -> Result<Remote<'r>> {
    // Every fetch and push finds its remote here first.
    super::setup::load_trust_store()?;
    repo.find_remote(&spec.remote).with_context(|| {
        format!(
            "remote {} not found in {}",
            spec.remote,
            spec.path.display()
        )
    })
}

/// The remote's refs by name, tags peeled to the commit they name (like `git ls-remote`).
pub(crate) fn remote_refs(
    repo: &Repository,
    remote: &mut Remote<'_>,
    creds: &Credentials,
) -> Result<HashMap<String, Oid>> {
    let config = repo.config().context("reading the repository's config")?;
    let name = remote.name().ok().flatten().unwrap_or("remote").to_string();
    let conn = remote
        .connect_auth(Direction::Fetch, Some(creds.callbacks(&config)), None)
        .with_context(|| format!("connecting to {name}"))?;
    let mut refs = HashMap::new();
    let mut peeled = Vec::new();
    for head in conn
        .list()
        .with_context(|| format!("listing refs of {name}"))?
    {
        match head.name().strip_suffix("^{}") {
            Some(tag) => peeled.push((tag.to_string(), head.oid())),
            None => {
                refs.insert(head.name().to_string(), head.oid());
            }
        }
    }
    // An annotated tag is advertised twice; the `^{}` line names its commit.
    refs.extend(peeled);
    Ok(refs)
}

/// Pushes one ref, turning a rejection (e.g. by a pre-receive hook) into an error that carries
/// what the remote said.
fn send(
    repo: &Repository,
    remote: &mut Remote<'_>,
    refname: &str,
    creds: &Credentials,
) -> Result<()> {
    let config = repo.config().context("reading the repository's config")?;
    let rejected = RefCell::new(None::<String>);
    let said = RefCell::new(String::new());
    let result = {
        let mut callbacks = creds.callbacks(&config);
        callbacks.push_update_reference(|_, status| {
            if let Some(status) = status {
                *rejected.borrow_mut() = Some(status.to_string());
            }
            Ok(())
        });
        callbacks.sideband_progress(|text| {
            said.borrow_mut().push_str(&String::from_utf8_lossy(text));
            true
        });
        let mut opts = PushOptions::new();
        opts.remote_callbacks(callbacks);
        remote.push(&[format!("{refname}:{refname}")], Some(&mut opts))
    };
    let said = remote_message(&said.into_inner());
    let with_said = |msg: String| match &said {
        Some(s) => format!("{msg}; the remote said: {s}"),
        None => msg,
    };
    if let Err(e) = result {
        bail!(with_said(e.message().to_string()));
    }
    if let Some(status) = rejected.into_inner() {
        bail!(with_said(format!(
            "the remote rejected {refname}: {status}"
        )));
    }
    Ok(())
}

/// The remote's side-band text as one line, without progress meters.
fn remote_message(text: &str) -> Option<String> {
    let lines: Vec<&str> = text
        .split(['\n', '\r'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .filter(|l| !l.contains("% (") && !l.starts_with("Resolving deltas"))
        .collect();
    (!lines.is_empty()).then(|| lines.join(" / "))
}
