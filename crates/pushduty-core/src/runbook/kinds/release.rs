//! `github.release`: a repo's GitHub release for this push's tag: drafted from a template,
//! published (which creates the tag on GitHub, and with it whatever CI runs on tags), or
//! read. Each finds the release of the tag first, so a draft is never made twice and a
//! published release never published again.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Kind, KindInfo, Rules};
use crate::preview::Filler;
use crate::runbook::model::{Runbook, Service, Step};

/// What the step does with the release of the tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReleaseAction {
    /// Draft the release from `template`, unless a release of the tag exists.
    CreateDraft,
    /// Publish the draft of the tag: GitHub then creates the tag at the draft's target.
    Publish,
    /// Read the release of the tag into the session (its address, state and body's hash).
    Read,
    /// Write the outcomes of this push's one-off items back into the bodies of the repo's
    /// releases that listed them: each done item's bullet ticked, with who and when.
    Tick,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseStep {
    pub action: ReleaseAction,
    /// A `github` service: its token must be able to write the repo's contents.
    pub service: String,
    /// The runbook repo whose release it is (its `github` names the repo on GitHub).
    pub repo: String,
    /// The release's tag; by default this push's tag of the repo.
    #[serde(default)]
    pub tag: Option<String>,
    /// `create_draft`: the branch (or commit) the tag will be made at; by default the repo's
    /// branch. It is resolved to a commit when the step is confirmed, and the draft names
    /// that commit.
    #[serde(default)]
    pub target: Option<String>,
    /// `create_draft`: the draft names the branch itself, so its tag is made at the branch's
    /// tip when it is published (a draft for a later push). By default it names the commit
    /// the branch is at when the step is confirmed.
    #[serde(default)]
    pub follow_branch: bool,
    /// `create_draft`: the release's title; by default the tag.
    #[serde(default)]
    pub title: Option<String>,
    /// `create_draft`: the body's template, relative to the runbook.
    #[serde(default)]
    pub template: Option<String>,
}

impl ReleaseStep {
    /// The tag as written, or this push's tag of the repo.
    pub fn tag_template(&self) -> String {
        self.tag
            .clone()
            .unwrap_or_else(|| format!("{{{{ repos.{}.tag }}}}", self.repo))
    }

    /// The target as written, or the repo's branch.
    pub fn target_template(&self) -> String {
        self.target
            .clone()
            .unwrap_or_else(|| format!("{{{{ repos.{}.branch }}}}", self.repo))
    }

    /// The title as written, or the tag.
    pub fn title_template(&self) -> String {
        self.title.clone().unwrap_or_else(|| self.tag_template())
    }
}

pub struct Release;

/// Whether `step` writes the one-off items' outcomes back (they are listed before it).
pub fn writes_items_back(step: &Step) -> bool {
    matches!(&step.kind, crate::runbook::model::StepKind::GithubRelease(s) if s.action == ReleaseAction::Tick)
}

impl Kind for Release {
    type Fields = ReleaseStep;
    const INFO: KindInfo = KindInfo {
        name: "github.release",
        side_effect: true,
        outputs: Some(&[
            "release_id",
            "release_url",
            "release_state",
            "release_target",
            "release_body_sha256",
            "release_items",
            "release_tag",
            "release_ticks",
        ]),
        summary: "draft, publish or read a repo's GitHub release of this push's tag, once",
    };

    fn check(s: &ReleaseStep, r: &mut Rules<'_, '_>) {
        let creates = s.action == ReleaseAction::CreateDraft;
        if creates && s.template.is_none() {
            r.err(
                "template",
                "`create_draft` needs `template`: the file the release's body is made from",
            );
        }
        if s.action == ReleaseAction::Tick && s.tag.is_some() {
            r.err(
                "tag",
                "`tag` is not for `tick`: it writes to each release an item was listed in",
            );
        }
        if !creates {
            let only = "is for `create_draft`: publishing or reading takes the release as it is";
            if s.template.is_some() {
                r.err("template", format!("`template` {only}"));
            }
            if s.target.is_some() {
                r.err("target", format!("`target` {only}"));
            }
            if s.title.is_some() {
                r.err("title", format!("`title` {only}"));
            }
            if s.follow_branch {
                r.err("follow_branch", format!("`follow_branch` {only}"));
            }
        }
    }

    fn strings(s: &ReleaseStep) -> Vec<(&'static str, &str)> {
        let mut out = Vec::new();
        out.extend(s.tag.as_deref().map(|t| ("tag", t)));
        out.extend(s.target.as_deref().map(|t| ("target", t)));
        out.extend(s.title.as_deref().map(|t| ("title", t)));
        out
    }

    fn describe(s: &ReleaseStep, _: &Step, rb: &Runbook, fl: &Filler<'_>) -> String {
        let tag = fl.text(&s.tag_template());
        let repo = fl.repo(&s.repo, "github");
        let api = match rb.services.get(&s.service) {
            Some(Service::Github(g)) => g.api_url.trim_end_matches('/').to_string(),
            _ => format!("service `{}`", s.service),
        };
        match s.action {
            ReleaseAction::CreateDraft => format!(
                "draft release {tag} of {repo} titled \"{}\" at {}{} with the body from {} \
                 (POST {api}/repos/{repo}/releases draft=true; not again if a release of {tag} exists)",
                fl.text(&s.title_template()),
                fl.text(&s.target_template()),
                if s.follow_branch {
                    " (its tip when published)"
                } else {
                    ""
                },
                s.template.as_deref().unwrap_or("?"),
            ),
            ReleaseAction::Publish => format!(
                "publish the draft release {tag} of {repo}: GitHub creates tag {tag} at the \
                 draft's target (PATCH {api}/repos/{repo}/releases/ID draft=false; nothing to do \
                 if it is published)"
            ),
            ReleaseAction::Read => {
                format!("read the release {tag} of {repo} (GET {api}/repos/{repo}/releases)")
            }
            ReleaseAction::Tick => format!(
                "tick this push's done one-off items in the bodies of the releases of {repo} \
                 that listed them, with who and when (PATCH {api}/repos/{repo}/releases/ID; \
                 each item found by its text, so edits made on GitHub are kept)"
            ),
        }
    }

    fn repo(s: &ReleaseStep) -> Option<&str> {
        Some(&s.repo)
    }

    fn service(s: &ReleaseStep) -> Option<(&str, &'static [&'static str])> {
        Some((&s.service, &["github"]))
    }

    fn template_file(s: &ReleaseStep) -> Option<&str> {
        s.template.as_deref()
    }
}
