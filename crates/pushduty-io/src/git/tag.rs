//! Tagging a release the way the operator's git would: a lightweight tag, like the runbook's
//! `git tag NAME`, or an annotated one when the runbook gives a message; signed when the
//! operator's git config says tags are signed (`tag.gpgSign`, or `tag.forceSignAnnotated` for
//! an annotated tag), and then made by their `git` itself, since only it has their signing
//! setup (gpg, an ssh key, a smartcard). A tag is never moved: an existing tag at another
//! commit is an error.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::group::Ended;

use anyhow::{Context, Result, bail};
use git2::{Oid, Reference, Repository};

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

/// How a tag is made: its message (annotated) and why it is signed, if it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagHow {
    /// The annotated tag's message; `None`: a lightweight tag (unless signed).
    pub message: Option<String>,
    /// The operator's setting that makes it signed, as said in the preview.
    pub signed_by: Option<&'static str>,
}

impl TagHow {
    /// The runbook's `message`, with the operator's signing settings read from `repo`'s
    /// config (its own, then global and system, as git reads them).
    pub fn read(repo: &Repository, message: Option<String>) -> Self {
        let flag = |key: &str| repo.config().and_then(|c| c.get_bool(key)).unwrap_or(false);
        let signed_by = if flag("tag.gpgSign") {
            Some("tag.gpgSign")
        } else if message.is_some() && flag("tag.forceSignAnnotated") {
            Some("tag.forceSignAnnotated")
        } else {
            None
        };
        TagHow { message, signed_by }
    }
}

/// The longest a signing `git tag` may take: gpg may wait for an agent, never for a person.
const SIGNING_LIMIT: Duration = Duration::from_secs(60);

/// Tags `target` (default: the tip of the spec's branch) as `name`: a lightweight tag.
pub fn tag(spec: &RepoSpec, name: &str, target: Option<Oid>) -> Result<TagOutcome> {
    tag_as(spec, name, target, &TagHow::default(), &|| false)
}

/// [`tag`], made as `how` says (annotated, signed by the operator's git).
pub fn tag_as(
    spec: &RepoSpec,
    name: &str,
    target: Option<Oid>,
    how: &TagHow,
    cancelled: &dyn Fn() -> bool,
) -> Result<TagOutcome> {
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
    // force=false (git: no -f): if someone creates the tag between the check and here, this
    // fails instead of moving it.
    match (&how.message, how.signed_by) {
        (_, Some(_)) => signed(
            spec,
            name,
            oid,
            how.message.as_deref().unwrap_or(name),
            cancelled,
        )?,
        (Some(message), None) => {
            let tagger = repo.signature().context(
                "an annotated tag needs a tagger: set user.name and user.email in your git config",
            )?;
            repo.tag(name, commit.as_object(), &tagger, message, false)
                .with_context(|| format!("creating tag {name} at {oid}"))?;
        }
        (None, None) => {
            repo.tag_lightweight(name, commit.as_object(), false)
                .with_context(|| format!("creating tag {name} at {oid}"))?;
        }
    }
    Ok(TagOutcome::Created {
        name: name.to_string(),
        oid,
    })
}

/// A signed tag, by the operator's `git` with their config: never prompting (no terminal,
/// no stdin), within [`SIGNING_LIMIT`], its own words on failure.
fn signed(
    spec: &RepoSpec,
    name: &str,
    oid: Oid,
    message: &str,
    cancelled: &dyn Fn() -> bool,
) -> Result<()> {
    let mut cmd = Command::new("git");
    cmd.arg("-C")
        .arg(&spec.path)
        .args(["tag", "-s", "-m", message, "--", name, &oid.to_string()]);
    // As for network git: the operator's config, never another repository's.
    for v in super::net::REPO_VARS {
        cmd.env_remove(v);
    }
    let mut child = cmd
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        // A group of its own: a cancel or the limit ends git and the signer it started.
        .process_group(0)
        .spawn()
        .context("running `git tag -s` (is git installed?)")?;
    // Read as it comes, so that a signer saying much never blocks on a full pipe.
    let said = child.stderr.take().map(|mut e| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = (&mut e).take(16 * 1024).read_to_string(&mut text);
            let _ = std::io::copy(&mut e, &mut std::io::sink());
            text
        })
    });
    let ended = crate::group::supervise(
        &mut child,
        cancelled,
        Some(Instant::now() + SIGNING_LIMIT),
        &mut || {},
    )?;
    let said = said.and_then(|r| r.join().ok()).unwrap_or_default();
    match ended {
        Ended::Exited(st) if st.success() => Ok(()),
        Ended::Exited(_) => bail!(
            "your git could not sign tag {name}: {}",
            said.trim().lines().collect::<Vec<_>>().join("; ")
        ),
        Ended::Cancelled => bail!(
            "cancelled while your git signed tag {name}; run the step again to see whether it \
             was made (a tag made meanwhile is found, not made twice)"
        ),
        Ended::TimedOut => bail!(
            "`git tag -s` did not finish within {} s (is the signing key's agent asking for a \
             passphrase?); nothing was tagged",
            SIGNING_LIMIT.as_secs()
        ),
    }
}

/// The equivalent command line, e.g. `git -C /src/olympia tag 2015.09.10 1a2b3c4`, with
/// `-a -m MESSAGE` for an annotated tag and `-s` (and the setting that asks for it) for a
/// signed one.
pub fn preview(spec: &RepoSpec, name: &str, target: Option<Oid>, how: &TagHow) -> String {
    let rev = match (target, spec.open()) {
        (Some(oid), Ok(repo)) => unambiguous_sha(&repo, oid),
        (Some(oid), Err(_)) => oid.to_string(),
        (None, Ok(repo)) => branch_tip(&repo, spec)
            .map(|c| unambiguous_sha(&repo, c.id()))
            .unwrap_or_else(|_| spec.branch.clone()),
        (None, Err(_)) => spec.branch.clone(),
    };
    let flags = match (&how.message, how.signed_by) {
        (message, Some(_)) => format!("-s -m {} ", shell_quote(message.as_deref().unwrap_or(name))),
        (Some(message), None) => format!("-a -m {} ", shell_quote(message)),
        (None, None) => String::new(),
    };
    let signed = how
        .signed_by
        .map(|why| format!("\n(signed by your git: your config sets {why})"))
        .unwrap_or_default();
    format!(
        "{} tag {flags}{} {}{signed}",
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
