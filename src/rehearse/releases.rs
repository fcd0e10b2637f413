//! The `releases` scenario's world: the 2026 runbook (bundled, written into the sandbox with
//! its templates), the draft releases the previous hero left with this push's one-off items,
//! and GitHub kept in step with the sandbox's remotes. Publishing a release makes its tag at
//! its target on the remote, as GitHub does; GitHub reads the remotes' branches and tags as
//! it answers, so a tag pushed there (a `-1`) is known before its release is drafted.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use git2::Repository;

use crate::standins::github::Github;

/// The repos of the 2026 runbook, as GitHub names them; the runbook's names for them.
pub const SERVER: &str = "mozilla/addons-server";
pub const FRONTEND: &str = "mozilla/addons-frontend";
pub const REPOS: [(&str, &str); 2] = [("server", SERVER), ("frontend", FRONTEND)];

/// The runbook and the templates it names, as the sandbox gets them.
const RUNBOOK: (&str, &str) = (
    "runbooks/amo-2026.toml",
    include_str!("../../runbooks/amo-2026.toml"),
);
const TEMPLATES: [(&str, &str); 2] = [
    (
        "templates/release-2026.md",
        include_str!("../../templates/release-2026.md"),
    ),
    (
        "templates/release-next-2026.md",
        include_str!("../../templates/release-next-2026.md"),
    ),
];

/// The one-off items the previous hero wrote into this push's drafts.
pub const SERVER_COMMAND: &str = "./manage.py addnewversion firefox '109.0'";
pub const SERVER_AFTER: &str = "Tell the add-ons reviewers that Firefox 109 is listed";
pub const FRONTEND_BEFORE_PROMOTE: &str =
    "Check the new recommended themes on stage with the frontend's QA";

/// Writes the bundled runbook and its templates under `dir`; the runbook's path.
pub fn write_runbook(dir: &Path) -> Result<PathBuf> {
    for (rel, text) in std::iter::once(RUNBOOK).chain(TEMPLATES) {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(dir.join(RUNBOOK.0))
}

/// A draft's body as the release template makes it, with the previous hero's items.
fn body(hero: &str, before_start: &[String], before_promote: &[&str], after: &[&str]) -> String {
    let list =
        |items: Vec<String>| -> String { items.iter().map(|i| format!("- [ ] {i}\n")).collect() };
    let own = |items: &[&str]| list(items.iter().map(|s| s.to_string()).collect());
    format!(
        "This week's push hero is @{hero}.\n\n## Blockers\n\nNone known yet.\n\n\
         ## Cherry-picks\n\nNone yet.\n\n## Before we start\n\n{}\n## Before we promote\n\n{}\n\
         ## After we're done\n\n{}",
        list(before_start.to_vec()),
        own(before_promote),
        own(after),
    )
}

/// The drafts of this push's `tag` for both repos, as the previous hero left them.
pub fn seed(github: &Github, tag: &str, hero: &str) {
    let command = format!("Run `{SERVER_COMMAND}` on the server");
    github.add_release_of(
        SERVER,
        tag,
        &body(hero, &[command], &[], &[SERVER_AFTER]),
        true,
    );
    let frontend = body(hero, &[], &[FRONTEND_BEFORE_PROMOTE], &[]);
    github.add_release_of(FRONTEND, tag, &frontend, true);
}

/// The branches and tags of a bare remote, each with the commit it names.
fn refs_of(path: &Path) -> Result<Vec<(String, String)>> {
    let bare = Repository::open_bare(path)
        .with_context(|| format!("opening the sandbox's remote {}", path.display()))?;
    let mut out = Vec::new();
    for r in bare.references()? {
        let r = r?;
        let (Ok(name), Ok(commit)) = (r.name(), r.peel_to_commit()) else {
            continue;
        };
        out.push((name.to_string(), commit.id().to_string()));
    }
    Ok(out)
}

/// GitHub reads each repo's branches and tags from its remote (`(GitHub name, bare
/// remote)`) before it answers about it: a tag pushed is known to the next request.
pub fn follow(github: &Github, remotes: Vec<(String, PathBuf)>) {
    github.follow(Box::new(move |repo| {
        let path = remotes
            .iter()
            .find(|(name, _)| name == repo)
            .map(|(_, p)| p);
        // A remote that cannot be read leaves GitHub with what it knew.
        path.and_then(|p| refs_of(p).ok()).unwrap_or_default()
    }));
}

/// Each release published without its tag on the remote gets it there, at the commit GitHub
/// made it at, as publishing on GitHub makes the tag in the repo.
pub fn tag_published(github: &Github, remotes: &[(String, PathBuf)]) -> Result<()> {
    for (name, path) in remotes {
        let published: Vec<_> = github
            .releases()
            .into_iter()
            .filter(|r| &r.repo == name)
            .filter_map(|r| r.published.map(|(sha, _)| (r.tag_name, sha)))
            .collect();
        if published.is_empty() {
            continue;
        }
        let bare = Repository::open_bare(path)
            .with_context(|| format!("opening the sandbox's remote {}", path.display()))?;
        for (tag, sha) in published {
            if bare.refname_to_id(&format!("refs/tags/{tag}")).is_ok() {
                continue;
            }
            let at = git2::Oid::from_str(&sha)
                .and_then(|oid| bare.find_object(oid, None))
                .with_context(|| format!("{sha} (the commit of {tag}) is not on {name}"))?;
            bare.tag_lightweight(&tag, &at, false)
                .with_context(|| format!("making the tag {tag} on {name}"))?;
        }
    }
    Ok(())
}

/// What the releases became, for the rehearsal's summary: one line each, with how many of
/// its one-off items are ticked in its body.
pub fn summary(github: &Github) -> String {
    let mut out = String::from("\n## What the releases became\n\n");
    for r in github.releases() {
        let times = match r.publishes {
            1 => "once".to_string(),
            n => format!("{n} times"),
        };
        let state = match &r.published {
            Some((sha, _)) => format!(
                "published {times}; its tag is at {}",
                &sha[..10.min(sha.len())]
            ),
            None => "a draft, left for the next hero".to_string(),
        };
        let items = pushduty_core::release_items::items(&r.body);
        let ticked = items.iter().filter(|i| i.done).count();
        let items = match items.len() {
            0 => String::new(),
            n => format!("; {ticked} of its {n} one-off items ticked"),
        };
        out.push_str(&format!("- {} {}: {state}{items}\n", r.repo, r.tag_name));
    }
    out
}
