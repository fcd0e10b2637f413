//! The push notes: `notes.publish` creates the next push's page (an Etherpad pad, a Markdown
//! file, or a GitHub release draft); `notes.append` adds a line to this push's, once.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Kind, KindInfo, Rules};
use crate::preview::Filler;
use crate::runbook::model::{Runbook, Service, Step};

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NotesPublishStep {
    pub service: String,
    pub template: String,
    /// For a `github` service: the runbook repo whose release (for this push's tag) gets the
    /// notes as a draft.
    #[serde(default)]
    pub repo: Option<String>,
}

/// Adds a line (or a few) to this push's notes page.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NotesAppendStep {
    pub service: String,
    /// The text appended (a template), e.g. `Pushing {{ tag }}: {{ shipping_compare_url }}`.
    pub text: String,
    /// For an `etherpad` service: the pad, when not the service's (which names the *next*
    /// push's pad), e.g. `amo-{{ push_date }}`.
    #[serde(default)]
    pub pad: Option<String>,
    /// For a `markdown_notes` service: the file, when not the service's.
    #[serde(default)]
    pub path: Option<String>,
}

/// The kind of the service a step names, when the runbook defines it.
fn service_kind<'a>(r: &Rules<'a, '_>, name: &str) -> Option<&'a str> {
    r.runbook().services.get(name).map(Service::kind)
}

/// Whether a path as written could lead out of the folder it is relative to. Values filled
/// in later are checked again, resolved, where the file is written.
fn leaves_its_folder(path: &str) -> bool {
    let p = std::path::Path::new(path);
    p.is_absolute() || p.components().any(|c| c == std::path::Component::ParentDir)
}

pub struct Publish;

impl Kind for Publish {
    type Fields = NotesPublishStep;
    const INFO: KindInfo = KindInfo {
        name: "notes.publish",
        side_effect: true,
        outputs: Some(&["notes_url", "notes_sha256"]),
        summary: "create the next push's notes page (a pad, a file or a release draft)",
    };

    fn check(n: &NotesPublishStep, r: &mut Rules<'_, '_>) {
        match (service_kind(r, &n.service), &n.repo) {
            (Some("github"), None) => r.err(
                "service",
                "a release draft needs `repo`: the runbook repo whose release gets the notes",
            ),
            (Some(k), Some(_)) if k != "github" => r.err(
                "repo",
                format!(
                    "`repo` is for a github release draft; service `{}` ({k}) says where its notes go itself",
                    n.service
                ),
            ),
            _ => {}
        }
    }

    fn strings(_: &NotesPublishStep) -> Vec<(&'static str, &str)> {
        Vec::new()
    }

    fn describe(n: &NotesPublishStep, _: &Step, rb: &Runbook, fl: &Filler<'_>) -> String {
        match rb.services.get(&n.service) {
            Some(Service::Etherpad(e)) => format!(
                "create pad `{}` on {} from {} (createPad; an existing pad is replaced only if you choose `replace`)",
                fl.text(&e.pad),
                e.url,
                n.template
            ),
            Some(Service::MarkdownNotes(m)) => format!(
                "write {} from {} after you read and edit it (an existing file is replaced only if you choose `replace`)",
                fl.text(&m.path),
                n.template
            ),
            Some(Service::Github(g)) => {
                let repo = n.repo.as_deref().unwrap_or_default();
                format!(
                    "draft the GitHub release of {} in {} from {} ({}; an existing release is updated only if you choose `replace`)",
                    fl.repo(repo, "tag"),
                    fl.repo(repo, "github"),
                    n.template,
                    g.api_url
                )
            }
            _ => format!("publish notes through `{}`", n.service),
        }
    }

    fn repo(n: &NotesPublishStep) -> Option<&str> {
        n.repo.as_deref()
    }

    fn service(n: &NotesPublishStep) -> Option<(&str, &'static [&'static str])> {
        Some((&n.service, &["etherpad", "markdown_notes", "github"]))
    }

    fn template_file(n: &NotesPublishStep) -> Option<&str> {
        Some(&n.template)
    }
}

pub struct Append;

impl Kind for Append {
    type Fields = NotesAppendStep;
    const INFO: KindInfo = KindInfo {
        name: "notes.append",
        side_effect: true,
        outputs: Some(&["appended_to"]),
        summary: "add a line to this push's notes, once",
    };

    fn check(a: &NotesAppendStep, r: &mut Rules<'_, '_>) {
        let kind = service_kind(r, &a.service);
        if a.text.trim().is_empty() {
            r.err("text", "`text` is empty: say what to append");
        }
        if a.pad.is_some() && kind.is_some_and(|k| k != "etherpad") {
            r.err("pad", "`pad` is for an etherpad service");
        }
        if a.path.is_some() && kind.is_some_and(|k| k != "markdown_notes") {
            r.err("path", "`path` is for a markdown_notes service");
        }
        if a.path.as_deref().is_some_and(leaves_its_folder) {
            r.err(
                "path",
                "`path` is a file inside the checkout (or the runbook's folder): no absolute \
                 path, no `..`",
            );
        }
    }

    fn strings(a: &NotesAppendStep) -> Vec<(&'static str, &str)> {
        let mut out = vec![("text", a.text.as_str())];
        out.extend(a.pad.as_deref().map(|p| ("pad", p)));
        out.extend(a.path.as_deref().map(|p| ("path", p)));
        out
    }

    fn describe(a: &NotesAppendStep, _: &Step, rb: &Runbook, fl: &Filler<'_>) -> String {
        let page = match rb.services.get(&a.service) {
            Some(Service::Etherpad(e)) => format!(
                "pad `{}` on {}",
                fl.text(a.pad.as_deref().unwrap_or(&e.pad)),
                e.url
            ),
            Some(Service::MarkdownNotes(m)) => fl.text(a.path.as_deref().unwrap_or(&m.path)),
            _ => format!("the notes of `{}`", a.service),
        };
        format!(
            "append to {page}: {} (not again if it is there already)",
            fl.text(&a.text)
        )
    }

    fn service(a: &NotesAppendStep) -> Option<(&str, &'static [&'static str])> {
        Some((&a.service, &["etherpad", "markdown_notes"]))
    }
}
