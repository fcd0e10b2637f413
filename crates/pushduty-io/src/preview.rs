//! A step's preview as the operator sees it: with a checkout known, the git steps show the
//! exact command lines git would be asked to run; every other kind, and the action text, is
//! [`pushduty_core::preview`].

use git2::Oid;
use serde_json::Value;

use crate::git::{self, RepoSpec};
use crate::runbook::model::*;
pub use pushduty_core::preview::*;

/// The commit the cherry-picks of this push made, as a git object id.
pub fn pick_oid(ctx: &Value, repo: &str) -> Option<Oid> {
    pick_result(ctx, repo).and_then(|s| Oid::from_str(s).ok())
}

/// How a `git.tag` step makes its tag: its `message` rendered by `render` (a preview's fill,
/// or a run's strict render), and the operator's signing settings from the checkout.
pub fn tag_how(
    spec: &RepoSpec,
    message: Option<&str>,
    ctx: &Value,
    render: impl Fn(&str, &Value) -> String,
) -> git::tag::TagHow {
    let message = message.map(|m| render(m, ctx));
    match spec.open() {
        Ok(repo) => git::tag::TagHow::read(&repo, message),
        Err(_) => git::tag::TagHow {
            message,
            signed_by: None,
        },
    }
}

/// With a checkout known, the git steps preview as exactly what git would be asked to do.
fn checkout_preview(kind: &StepKind, ctx: &Value) -> Option<String> {
    let mut spec = repo_spec(ctx, kind.repo()?)?;
    let tag = repo_field(ctx, &spec.name, "tag");
    match kind {
        StepKind::GitFetch(_) => Some(git::fetch::preview(&spec)),
        StepKind::GitTag(t) => {
            let how = tag_how(&spec, t.message.as_deref(), ctx, fill);
            if t.from == "branch" {
                Some(git::tag::preview(&spec, &tag, None, &how))
            } else {
                pick_oid(ctx, &spec.name).map(|oid| git::tag::preview(&spec, &tag, Some(oid), &how))
            }
        }
        StepKind::GitPushTag(p) => {
            if let Some(remote) = &p.remote {
                spec.remote = remote.clone();
            }
            Some(git::push::preview(&spec, &tag))
        }
        _ => None,
    }
}

/// The git view of a runbook repo, from the session context, when the operator's config
/// says where the checkout is.
pub fn repo_spec(ctx: &Value, repo: &str) -> Option<RepoSpec> {
    let r = &ctx["repos"][repo];
    let text = |k: &str| r[k].as_str().map(str::to_string);
    Some(RepoSpec {
        name: repo.to_string(),
        path: text("path")?.into(),
        github: text("github"),
        remote: text("remote")?,
        branch: text("branch")?,
    })
}

pub fn preview(step: &Step, rb: &Runbook, ctx: &Value) -> String {
    if let Some(exact) = checkout_preview(&step.kind, ctx) {
        return exact;
    }
    describe_step(step, rb, ctx)
}
