//! The git kinds: `git.fetch`, `git.tag`, `git.push_tag`, `git.cherry_pick` and
//! `git.compare`. Each works on one runbook repo; with a checkout configured, the I/O layer
//! previews them as the exact git command lines.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Kind, KindInfo, Rules};
use crate::preview::{
    Filler, pick_result, placeholder, repo_dir, repo_text, shell_quote, short_sha,
};
use crate::runbook::model::{Runbook, Step, StepKind};

/// The fields of the kinds that name only their repo.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RepoStep {
    pub repo: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GitTagStep {
    pub repo: String,
    /// `branch` (the repo's branch tip) or `cherry_pick` (the result of this push's cherry-picks).
    #[serde(default = "tag_from_branch")]
    pub from: String,
    /// An annotated tag with this message (a template); without it, a lightweight tag. Either
    /// is signed when the operator's git says so (`tag.gpgSign`, or `tag.forceSignAnnotated`
    /// for an annotated one), and then made by their `git`.
    #[serde(default)]
    pub message: Option<String>,
}

fn tag_from_branch() -> String {
    "branch".into()
}

/// What `git.tag`'s `from` may say.
const TAG_FROM: &[&str] = &["branch", "cherry_pick"];

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GitPushTagStep {
    pub repo: String,
    /// Defaults to the repo's remote.
    #[serde(default)]
    pub remote: Option<String>,
}

pub struct Fetch;

impl Kind for Fetch {
    type Fields = RepoStep;
    const INFO: KindInfo = KindInfo {
        name: "git.fetch",
        side_effect: true,
        outputs: Some(&[]),
        summary: "fetch the branch and tags; fast-forward when safe",
    };

    fn check(_: &RepoStep, _: &mut Rules<'_, '_>) {}

    fn strings(_: &RepoStep) -> Vec<(&'static str, &str)> {
        Vec::new()
    }

    fn describe(s: &RepoStep, _: &Step, _: &Runbook, fl: &Filler<'_>) -> String {
        let (dir, remote, branch) = (
            repo_dir(fl.ctx, &s.repo),
            fl.repo(&s.repo, "remote"),
            fl.repo(&s.repo, "branch"),
        );
        format!(
            "git -C {dir} fetch {remote} {branch} --tags && git -C {dir} merge --ff-only {remote}/{branch}"
        )
    }

    fn action(s: &RepoStep, _: &Step, fl: &Filler<'_>) -> Option<String> {
        Some(format!(
            "fetch {}/{} and its tags into {}",
            fl.repo(&s.repo, "remote"),
            fl.repo(&s.repo, "branch"),
            s.repo
        ))
    }

    fn repo(s: &RepoStep) -> Option<&str> {
        Some(&s.repo)
    }
}

pub struct Tag;

impl Kind for Tag {
    type Fields = GitTagStep;
    const INFO: KindInfo = KindInfo {
        name: "git.tag",
        side_effect: true,
        outputs: Some(&["tag_commit"]),
        summary: "tag the branch (or the cherry-picks) with the push tag",
    };

    fn check(t: &GitTagStep, r: &mut Rules<'_, '_>) {
        if !TAG_FROM.contains(&t.from.as_str()) {
            r.err(
                "from",
                super::super::validate::unknown("tag source", &t.from, TAG_FROM),
            );
        } else if t.from == "cherry_pick" {
            let picker = r.runbook().steps[..r.index()]
                .iter()
                .find(|s| matches!(&s.kind, StepKind::GitCherryPick(c) if c.repo == t.repo));
            if picker.is_some_and(|p| !p.outputs.iter().any(|o| o == "cherry_picks")) {
                r.err(
                    "from",
                    "the `git.cherry_pick` step before this one must list `cherry_picks` in its outputs",
                );
            }
            if picker.is_none() {
                r.err(
                    "from",
                    format!(
                        "no `git.cherry_pick` step of repo `{}` comes before this one",
                        t.repo
                    ),
                );
            }
        }
    }

    fn strings(t: &GitTagStep) -> Vec<(&'static str, &str)> {
        t.message
            .as_deref()
            .map(|m| ("message", m))
            .into_iter()
            .collect()
    }

    fn describe(t: &GitTagStep, _: &Step, _: &Runbook, fl: &Filler<'_>) -> String {
        let tag = fl.repo(&t.repo, "tag");
        let target = if t.from == "cherry_pick" {
            placeholder("cherry-pick result")
        } else {
            fl.repo(&t.repo, "branch")
        };
        let annotated = match &t.message {
            Some(m) => format!("-a -m {} ", shell_quote(&fl.text(m))),
            None => String::new(),
        };
        format!(
            "git -C {} tag {annotated}{tag} {target}",
            repo_dir(fl.ctx, &t.repo)
        )
    }

    fn action(t: &GitTagStep, _: &Step, fl: &Filler<'_>) -> Option<String> {
        let what = if t.from == "cherry_pick" {
            match pick_result(fl.ctx, &t.repo) {
                Some(sha) => format!("the cherry-picks ({})", short_sha(sha)),
                None => fl.miss(
                    "the cherry-picks have not run yet".into(),
                    placeholder("cherry-pick result"),
                ),
            }
        } else {
            fl.repo(&t.repo, "branch")
        };
        Some(format!(
            "tag {what} of {} as {}",
            t.repo,
            fl.repo(&t.repo, "tag")
        ))
    }

    fn repo(t: &GitTagStep) -> Option<&str> {
        Some(&t.repo)
    }
}

pub struct PushTag;

impl PushTag {
    fn remote(p: &GitPushTagStep, fl: &Filler<'_>) -> String {
        p.remote
            .clone()
            .unwrap_or_else(|| fl.repo(&p.repo, "remote"))
    }
}

impl Kind for PushTag {
    type Fields = GitPushTagStep;
    const INFO: KindInfo = KindInfo {
        name: "git.push_tag",
        side_effect: true,
        outputs: Some(&[]),
        summary: "push exactly that tag to the remote",
    };

    fn check(p: &GitPushTagStep, r: &mut Rules<'_, '_>) {
        if p.remote.as_deref().is_some_and(|r| r.trim().is_empty()) {
            r.err("remote", "`remote` must name a remote");
        }
    }

    fn strings(_: &GitPushTagStep) -> Vec<(&'static str, &str)> {
        Vec::new()
    }

    fn describe(p: &GitPushTagStep, _: &Step, _: &Runbook, fl: &Filler<'_>) -> String {
        let remote = Self::remote(p, fl);
        let tag = fl.repo(&p.repo, "tag");
        format!(
            "git -C {} push {remote} refs/tags/{tag}:refs/tags/{tag}",
            repo_dir(fl.ctx, &p.repo)
        )
    }

    fn action(p: &GitPushTagStep, _: &Step, fl: &Filler<'_>) -> Option<String> {
        let tag = fl.repo(&p.repo, "tag");
        let remote = Self::remote(p, fl);
        Some(format!("push refs/tags/{tag}:refs/tags/{tag} to {remote}"))
    }

    fn repo(p: &GitPushTagStep) -> Option<&str> {
        Some(&p.repo)
    }
}

pub struct CherryPick;

impl Kind for CherryPick {
    type Fields = RepoStep;
    const INFO: KindInfo = KindInfo {
        name: "git.cherry_pick",
        side_effect: true,
        outputs: Some(&["cherry_picks"]),
        summary: "apply listed commits onto the previous release tag",
    };

    fn check(_: &RepoStep, _: &mut Rules<'_, '_>) {}

    fn strings(_: &RepoStep) -> Vec<(&'static str, &str)> {
        Vec::new()
    }

    fn describe(s: &RepoStep, _: &Step, _: &Runbook, fl: &Filler<'_>) -> String {
        format!(
            "git -C {} checkout {} && git cherry-pick -x {} (onto the release production runs \
             now, or onto this push's newest tag once it has one; done in memory: your checkout \
             is not touched)",
            repo_dir(fl.ctx, &s.repo),
            fl.repo(&s.repo, "previous_tag"),
            placeholder("the commits you list")
        )
    }

    // Not the tag: picking again is the operator's decision (reopen), not a consequence of a
    // re-tag.
    fn action(s: &RepoStep, _: &Step, _: &Filler<'_>) -> Option<String> {
        Some(format!("cherry-pick commits of {} for this push", s.repo))
    }

    fn repo(s: &RepoStep) -> Option<&str> {
        Some(&s.repo)
    }
}

pub struct Compare;

impl Kind for Compare {
    type Fields = RepoStep;
    const INFO: KindInfo = KindInfo {
        name: "git.compare",
        side_effect: false,
        outputs: Some(&["commits", "shipping_compare_url"]),
        summary: "list the commits shipping and the compare link",
    };

    fn check(_: &RepoStep, _: &mut Rules<'_, '_>) {}

    fn strings(_: &RepoStep) -> Vec<(&'static str, &str)> {
        Vec::new()
    }

    fn describe(s: &RepoStep, _: &Step, _: &Runbook, fl: &Filler<'_>) -> String {
        let (prev, tag, branch) = (
            fl.repo(&s.repo, "previous_tag"),
            fl.repo(&s.repo, "tag"),
            fl.repo(&s.repo, "branch"),
        );
        let url = match &fl.ctx["repos"][&s.repo]["compare_url"] {
            Value::String(u) => u.clone(),
            _ => format!(
                "https://github.com/{}/compare/{prev}...{tag}",
                fl.repo(&s.repo, "github")
            ),
        };
        format!(
            "git -C {} log --oneline {prev}..{branch}; link {url}",
            repo_dir(fl.ctx, &s.repo)
        )
    }

    fn action(s: &RepoStep, _: &Step, fl: &Filler<'_>) -> Option<String> {
        Some(format!(
            "list what ships in {} from {} to {}",
            s.repo,
            repo_text(fl.ctx, &s.repo, "previous_tag").unwrap_or_else(|| "the first commit".into()),
            fl.repo(&s.repo, "tag")
        ))
    }

    fn repo(s: &RepoStep) -> Option<&str> {
        Some(&s.repo)
    }
}
