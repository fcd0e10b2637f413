//! `github.release`: the release of this push's tag on GitHub. Every action looks for the
//! release of the tag first (drafts included), so a draft is made once and a release is
//! published once. The confirmation shows exactly what will be sent (the tag, the commit it
//! will be made at, the title, the body whole) and pins it; the run acts on that or refuses.

mod tick;

use std::sync::Arc;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use super::notes::sha256;
use super::{ByHand, Check, Confirmation, Executor, Job};
use crate::runbook::model::{Outputs, Runbook, Step, StepKind};
use crate::services::Services;
use crate::services::github::{Release, Releases};
use crate::templates::Base;
use pushduty_core::runbook::kinds::release::{ReleaseAction, ReleaseStep};

/// A step's release, resolved for this push: the client of its repo and the tag.
struct Place {
    fields: ReleaseStep,
    client: Releases,
    repo: String,
    tag: String,
}

/// What a draft is made of, rendered now.
struct Draft {
    title: String,
    /// The branch or commit as the runbook names it.
    target: String,
    body: String,
}

fn render(text: &str, ctx: &Value, what: &str) -> Result<String> {
    let out = crate::templates::render(text, ctx).with_context(|| format!("rendering {what}"))?;
    Ok(out.trim().to_string())
}

fn place(services: &Services, step: &Step, ctx: &Value) -> Result<Place> {
    let StepKind::GithubRelease(s) = &step.kind else {
        bail!("not a github.release step");
    };
    let repo = ctx["repos"][&s.repo]["github"]
        .as_str()
        .with_context(|| format!("the runbook has no repo `{}` on GitHub", s.repo))?
        .to_string();
    let client = match services.0.get(&s.service) {
        Some(crate::services::Resolved::Github(conf)) => {
            conf.releases(&repo).map_err(anyhow::Error::msg)?
        }
        Some(other) => bail!(
            "service `{}` is a {} service: releases are made through a github service",
            s.service,
            other.kind()
        ),
        None => bail!("the runbook has no service `{}`", s.service),
    };
    let tag = render(&s.tag_template(), ctx, "the release's tag")?;
    if tag.is_empty() {
        bail!(
            "the release's tag is empty: this push has no tag for `{}` yet",
            s.repo
        );
    }
    Ok(Place {
        fields: s.clone(),
        client,
        repo,
        tag,
    })
}

fn draft(base: &Base, p: &Place, ctx: &Value) -> Result<Draft> {
    let template = p
        .fields
        .template
        .as_deref()
        .context("`create_draft` needs `template`")?;
    let (name, text) = base.read(template)?;
    let body = crate::templates::render(&text, ctx).with_context(|| format!("rendering {name}"))?;
    Ok(Draft {
        title: render(&p.fields.title_template(), ctx, "the release's title")?,
        target: render(&p.fields.target_template(), ctx, "the release's target")?,
        body: format!("{}\n", body.trim_end()),
    })
}

/// What the draft names as its target: the commit resolved, or the branch it follows.
fn sent_target(p: &Place, d: &Draft, commit: &str) -> String {
    if p.fields.follow_branch {
        d.target.clone()
    } else {
        commit.to_string()
    }
}

/// The commit a draft's target names now: itself when it is one, else the branch's tip.
async fn commit_now(p: &Place, target: &str) -> Result<String> {
    if is_commit(target) {
        Ok(target.to_string())
    } else {
        p.client.commit_of(target).await
    }
}

/// Where a release's tag will be: at a commit already (the tag is on GitHub: publishing
/// makes no tag, and GitHub ignores a draft's target), or made at the commit its target
/// names when the draft is published.
enum TagAt {
    Exists(String),
    Made(String),
}

impl TagAt {
    fn commit(&self) -> &str {
        match self {
            TagAt::Exists(c) | TagAt::Made(c) => c,
        }
    }
}

async fn tag_at(p: &Place, target: &str) -> Result<TagAt> {
    if let Some(c) = p.client.tag_commit(&p.tag).await? {
        return Ok(TagAt::Exists(c));
    }
    Ok(TagAt::Made(commit_now(p, target).await?))
}

/// What a draft names as its target: the tag's commit when the tag exists, else as
/// [`sent_target`].
fn draft_target(p: &Place, d: &Draft, at: &TagAt) -> String {
    match at {
        TagAt::Exists(c) => c.clone(),
        TagAt::Made(c) => sent_target(p, d, c),
    }
}

/// Whether a reference is a full commit id already (nothing to resolve).
fn is_commit(r: &str) -> bool {
    r.len() == 40 && r.bytes().all(|b| b.is_ascii_hexdigit())
}

fn state(r: &Release) -> &'static str {
    if r.draft { "draft" } else { "published" }
}

/// What the session keeps of a release.
fn outputs(r: &Release) -> Outputs {
    Outputs::from([
        ("release_id".to_string(), json!(r.id)),
        ("release_tag".to_string(), json!(r.tag_name)),
        ("release_url".to_string(), json!(r.html_url)),
        ("release_state".to_string(), json!(state(r))),
        (
            "release_target".to_string(),
            json!(r.target_commitish.clone().unwrap_or_default()),
        ),
        (
            "release_body_sha256".to_string(),
            json!(sha256(r.body_text())),
        ),
        (
            "release_items".to_string(),
            json!(pushduty_core::release_items::items(r.body_text())),
        ),
    ])
}

/// A release's facts and its body, whole, as a confirmation shows them.
fn shown(head: &str, fields: &[(&str, String)], body: &str) -> String {
    let mut out = format!("{head}\n");
    for (k, v) in fields {
        out.push_str(&format!("  {k}: {v}\n"));
    }
    out.push_str(&format!(
        "  body ({} lines, sha256 {}):\n",
        body.lines().count(),
        &sha256(body)[..12]
    ));
    for line in body.trim_end().lines() {
        out.push_str(&format!("  | {line}\n"));
    }
    out.trim_end().to_string()
}

/// Refuses unless `now` is what the confirmation pinned under `key`.
fn held(pin: &Value, key: &str, now: &Value, what: &str, done: &str) -> Result<()> {
    if &pin[key] != now {
        bail!(
            "{what} changed after you confirmed (it was {}, it is {} now): nothing was \
             {done}; look again",
            brief(&pin[key]),
            brief(now)
        );
    }
    Ok(())
}

/// A pinned value as a person reads it: a commit or a hash by its first twelve digits.
fn brief(v: &Value) -> String {
    match v.as_str() {
        Some(s) if s.len() > 16 && s.bytes().all(|b| b.is_ascii_hexdigit()) => s[..12].to_string(),
        Some(s) => s.to_string(),
        None => v.to_string(),
    }
}

pub struct GithubRelease {
    services: Arc<Services>,
    base: Base,
}

impl GithubRelease {
    /// The draft's confirmation: the release found (nothing to do), or the draft resolved.
    fn confirm_draft(&self, p: &Place, ctx: &Value) -> Result<Confirmation> {
        let d = draft(&self.base, p, ctx)?;
        if let Some(r) = crate::services::http::block_on(p.client.by_tag(&p.tag))?? {
            return Ok(found(p, &r));
        }
        let at = crate::services::http::block_on(tag_at(p, &d.target))??;
        let (tag, target) = match &at {
            TagAt::Exists(c) => (
                format!(
                    "{} (on GitHub already, at {c}: publishing makes no tag)",
                    p.tag
                ),
                format!("{c} (the tag's commit; {} is not used)", d.target),
            ),
            TagAt::Made(c) if p.fields.follow_branch => (
                format!("{} (made when the draft is published)", p.tag),
                format!("{} (its tip when published; now {c})", d.target),
            ),
            TagAt::Made(c) => (
                format!("{} (made when the draft is published)", p.tag),
                format!("{} at {c}", d.target),
            ),
        };
        let text = shown(
            &format!("draft release {} of {}", p.tag, p.repo),
            &[("tag", tag), ("target", target), ("title", d.title.clone())],
            &d.body,
        );
        Ok(Confirmation {
            checks: vec![Check::ok(format!(
                "{} has no release of {} yet: the draft will be made",
                p.repo, p.tag
            ))],
            shown: Some(text),
            pin: json!({
                "tag": p.tag,
                "target": draft_target(p, &d, &at),
                "title": d.title,
                "body_sha256": sha256(&d.body),
            }),
        })
    }

    fn confirm_publish(&self, p: &Place) -> Result<Confirmation> {
        let Some(r) = crate::services::http::block_on(p.client.by_tag(&p.tag))?? else {
            bail!("{} has no release of {}: draft it first", p.repo, p.tag);
        };
        if !r.draft {
            return Ok(found(p, &r));
        }
        let target = r.target_commitish.clone().unwrap_or_default();
        let at = crate::services::http::block_on(tag_at(p, &target))??;
        let commit = at.commit().to_string();
        let head = match &at {
            TagAt::Exists(c) => format!(
                "publish draft release {} of {}: tag {} is on GitHub already, at {c}; no tag is made",
                p.tag, p.repo, p.tag
            ),
            TagAt::Made(c) => {
                let now = if *c == target {
                    String::new()
                } else {
                    format!(" (now {c})")
                };
                format!(
                    "publish draft release {} of {}: GitHub creates tag {} at {target}{now}",
                    p.tag, p.repo, p.tag
                )
            }
        };
        let text = shown(
            &head,
            &[
                ("title", r.name.clone().unwrap_or_default()),
                ("draft", r.html_url.clone()),
            ],
            r.body_text(),
        );
        Ok(Confirmation {
            checks: vec![Check::ok(format!(
                "the release of {} is a draft: it will be published",
                p.tag
            ))],
            shown: Some(text),
            pin: json!({
                "tag": p.tag,
                "id": r.id,
                "target": target,
                "commit": commit,
                "body_sha256": sha256(r.body_text()),
            }),
        })
    }

    fn create_draft(&self, job: &Job, p: &Place) -> Result<Outputs> {
        let d = draft(&job.base, p, &job.ctx)?;
        let pin = job.pinned.as_ref().map(|x| &x.pin);
        if let Some(r) = job.call(p.client.by_tag(&p.tag))? {
            let same = sha256(r.body_text()) == sha256(&d.body);
            job.progress(format!(
                "{} has a release of {} already ({}, {}): nothing made{}",
                p.repo,
                p.tag,
                state(&r),
                r.html_url,
                if same {
                    ""
                } else {
                    "; its body differs from the template's and was left as it is"
                }
            ));
            return Ok(outputs(&r));
        }
        if pin.is_some_and(|pin| pin["exists"].is_u64()) {
            bail!(
                "the release of {} you were shown is gone from {}: nothing was made; look again",
                p.tag,
                p.repo
            );
        }
        let at = job.call(tag_at(p, &d.target))?;
        let commit = draft_target(p, &d, &at);
        if let Some(pin) = pin {
            let done = "drafted";
            held(pin, "tag", &json!(p.tag), "the tag", done)?;
            held(pin, "title", &json!(d.title), "the title", done)?;
            held(
                pin,
                "body_sha256",
                &json!(sha256(&d.body)),
                "the body",
                done,
            )?;
            held(
                pin,
                "target",
                &json!(commit),
                &format!("the commit {} names", d.target),
                done,
            )?;
        }
        job.progress(format!(
            "drafting release {} of {} at {commit} ({} lines)",
            p.tag,
            p.repo,
            d.body.lines().count()
        ));
        let r = job.call(
            p.client
                .create_draft(&p.tag, Some(&commit), &d.title, &d.body),
        )?;
        job.progress(format!("drafted: {}", r.html_url));
        Ok(outputs(&r))
    }

    fn publish(&self, job: &Job, p: &Place) -> Result<Outputs> {
        let Some(r) = job.call(p.client.by_tag(&p.tag))? else {
            bail!("{} has no release of {}: draft it first", p.repo, p.tag);
        };
        if !r.draft {
            job.progress(format!(
                "the release of {} is published already ({}): nothing to do",
                p.tag, r.html_url
            ));
            return Ok(outputs(&r));
        }
        if let Some(pin) = job.pinned.as_ref().map(|x| &x.pin) {
            let done = "published";
            if pin["exists"].is_u64() {
                bail!(
                    "the release of {} was published when you confirmed and is a draft now                      (unpublished on GitHub?): nothing was published; look again",
                    p.tag
                );
            }
            held(pin, "id", &json!(r.id), "the draft", done)?;
            held(
                pin,
                "target",
                &json!(r.target_commitish.clone().unwrap_or_default()),
                "the draft's target",
                done,
            )?;
            let target = r.target_commitish.clone().unwrap_or_default();
            let commit = job.call(tag_at(p, &target))?.commit().to_string();
            held(
                pin,
                "commit",
                &json!(commit),
                &format!("the commit {target} names"),
                done,
            )?;
            held(
                pin,
                "body_sha256",
                &json!(sha256(r.body_text())),
                "the draft's body (edited on GitHub?)",
                done,
            )?;
        }
        let published = job.call(p.client.publish(r.id))?;
        job.progress(format!(
            "published {}: GitHub made tag {}",
            published.html_url, p.tag
        ));
        Ok(outputs(&published))
    }
}

/// The release of the tag exists: shown as it is, nothing to do.
fn found(p: &Place, r: &Release) -> Confirmation {
    let text = shown(
        &format!(
            "nothing to do: {} has a {} release of {} ({})",
            p.repo,
            state(r),
            p.tag,
            r.html_url
        ),
        &[],
        r.body_text(),
    );
    Confirmation {
        checks: vec![Check::ok(format!(
            "the release of {} exists ({}): it is not made or published again",
            p.tag,
            state(r)
        ))],
        shown: Some(text),
        pin: json!({ "tag": p.tag, "exists": r.id }),
    }
}

impl Executor for GithubRelease {
    fn pins(&self) -> bool {
        true
    }

    fn confirm(&self, step: &Step, rb: &Runbook, ctx: &Value) -> Confirmation {
        let read = place(&self.services, step, ctx).and_then(|p| match p.fields.action {
            ReleaseAction::CreateDraft => self.confirm_draft(&p, ctx),
            ReleaseAction::Publish => self.confirm_publish(&p),
            ReleaseAction::Read => Ok(Confirmation {
                checks: Vec::new(),
                shown: None,
                pin: Value::Null,
            }),
            ReleaseAction::Tick => tick::confirm(&p, ctx),
        });
        read.unwrap_or_else(|e| Confirmation {
            // Nothing is pinned: not even an override acts on what was not shown.
            shown: Some(crate::preview::preview(step, rb, ctx)),
            pin: Value::Null,
            checks: vec![Check::fail(format!("{e:#}"))],
        })
    }

    /// The release page, filled in, and the body to paste.
    fn by_hand(&self, step: &Step, _rb: &Runbook, ctx: &Value) -> Result<ByHand> {
        let p = place(&self.services, step, ctx)?;
        Ok(match p.fields.action {
            ReleaseAction::CreateDraft => {
                let d = draft(&self.base, &p, ctx)?;
                // The form names what the step would: the commit, unless the draft follows
                // its branch; the tag's commit when the tag is on GitHub already.
                let at = crate::services::http::block_on(tag_at(&p, &d.target))??;
                let target = draft_target(&p, &d, &at);
                ByHand {
                    steps: vec![
                        format!(
                            "open the new release form of {} (tag {}, target {target}, title filled in)",
                            p.repo, p.tag
                        ),
                        "paste this body, then \"Save draft\" (not \"Publish\")".into(),
                    ],
                    link: Some(p.client.new_release_page(&p.tag, &target, &d.title)),
                    copy: Some(d.body),
                    outputs: Outputs::new(),
                }
            }
            ReleaseAction::Publish => ByHand {
                steps: vec![
                    format!("open the draft release {} of {}", p.tag, p.repo),
                    "check its target and body, then \"Publish release\"".into(),
                ],
                link: Some(p.client.releases_page()),
                copy: None,
                outputs: Outputs::new(),
            },
            ReleaseAction::Read => ByHand {
                steps: vec![format!("open the release {} of {}", p.tag, p.repo)],
                link: Some(p.client.releases_page()),
                copy: None,
                outputs: Outputs::new(),
            },
            ReleaseAction::Tick => tick::by_hand(&p, ctx)?,
        })
    }

    fn run(&self, job: &Job) -> Result<Outputs> {
        let p = place(&self.services, &job.step, &job.ctx)?;
        match p.fields.action {
            ReleaseAction::CreateDraft => self.create_draft(job, &p),
            ReleaseAction::Publish => self.publish(job, &p),
            ReleaseAction::Tick => tick::run(job, &p),
            ReleaseAction::Read => {
                let r = job
                    .call(p.client.by_tag(&p.tag))?
                    .with_context(|| format!("{} has no release of {}", p.repo, p.tag))?;
                job.progress(format!(
                    "the release of {} is {}: {}",
                    p.tag,
                    state(&r),
                    r.html_url
                ));
                Ok(outputs(&r))
            }
        }
    }
}

impl super::Execute for pushduty_core::runbook::kinds::release::Release {
    fn executor(s: &super::Setup<'_>) -> Arc<dyn Executor> {
        s.with_services("github.release", |services| {
            Arc::new(GithubRelease {
                services,
                base: s.base.clone(),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_full_object_id_is_taken_as_a_commit() {
        assert!(is_commit(&"a".repeat(40)));
        assert!(!is_commit("master"));
        assert!(!is_commit("abc1234"));
    }

    #[test]
    fn a_confirmation_shows_the_body_whole() {
        let text = shown(
            "draft release 2026.01.06 of o/r",
            &[("title", "t".into())],
            "one\ntwo\n",
        );
        assert!(text.contains("  title: t\n"), "{text}");
        assert!(text.ends_with("  | one\n  | two"), "{text}");
    }
}
