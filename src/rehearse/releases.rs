//! The `releases` scenario's world: the 2026 runbook (bundled, written into the sandbox with
//! its templates), the draft releases the previous hero left with this push's one-off items,
//! and GitHub kept in step with the sandbox's remotes. Publishing a release makes its tag at
//! its target on the remote, as GitHub does; a tag pushed to the remote (a `-1`) is known to
//! GitHub before its release is published.

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

/// One look at the remotes (`(GitHub name, bare remote)`): GitHub learns each master and
/// tag; a release published since has its tag made on the remote, at the commit GitHub made
/// it at.
pub fn mirror(github: &Github, remotes: &[(String, PathBuf)]) -> Result<()> {
    for (name, path) in remotes {
        let bare = Repository::open_bare(path)
            .with_context(|| format!("opening the sandbox's remote {}", path.display()))?;
        let tip = bare.refname_to_id("refs/heads/master")?;
        github.set_branch_of(name, "master", &tip.to_string());
        let mut tags = Vec::new();
        bare.tag_foreach(|oid, refname| {
            let tag = String::from_utf8_lossy(refname).replace("refs/tags/", "");
            tags.push((tag, oid));
            true
        })?;
        for (tag, oid) in &tags {
            let commit = bare.find_object(*oid, None)?.peel_to_commit()?.id();
            github.set_tag(name, tag, &commit.to_string());
        }
        for r in github.releases().iter().filter(|r| &r.repo == name) {
            let Some((sha, _)) = &r.published else {
                continue;
            };
            if tags.iter().any(|(t, _)| *t == r.tag_name) {
                continue;
            }
            let at = git2::Oid::from_str(sha)
                .and_then(|oid| bare.find_object(oid, None))
                .with_context(|| {
                    format!("{sha} (the target of {}) is not on {name}", r.tag_name)
                })?;
            bare.tag_lightweight(&r.tag_name, &at, false)
                .with_context(|| format!("making the tag {} on {name}", r.tag_name))?;
        }
    }
    Ok(())
}

/// What the releases became, for the rehearsal's summary: one line each.
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
        out.push_str(&format!("- {} {}: {state}\n", r.repo, r.tag_name));
    }
    out
}
