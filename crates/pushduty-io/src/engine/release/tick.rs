//! `github.release` `tick`: the outcomes of this push's one-off items written back into the
//! bodies of the releases that listed them, each bullet found by its text in the body as
//! GitHub has it now (see [`release_items::tick`]): edits made there meanwhile are kept, and
//! a bullet edited or removed there is a conflict, said and left for a person.

use anyhow::{Context, Result, bail};
use indexmap::IndexMap;
use pushduty_core::release_items::{self, Conflict, Tick};
use serde_json::{Value, json};

use super::Place;
use crate::engine::{ByHand, Check, Confirmation, Job};
use crate::runbook::model::Outputs;
use crate::services::github::Release;

/// One release's part: the ticks it gets now, and its body with them written.
struct Part {
    tag: String,
    release: Release,
    /// Done items still unticked there: what is written.
    fresh: Vec<Tick>,
    /// Done items ticked there already (by an earlier run, or by hand).
    there: usize,
    body: String,
    conflicts: Vec<Conflict>,
}

/// This push's items from `repo`'s releases: the done ones by their release's tag, and a
/// line for each not done (left unticked).
fn outcomes(ctx: &Value, repo: &str) -> (IndexMap<String, Vec<Tick>>, Vec<String>) {
    let mut done: IndexMap<String, Vec<Tick>> = IndexMap::new();
    let mut open = Vec::new();
    let items = ctx["release_items"].as_array().into_iter().flatten();
    for it in items.filter(|it| it["repo"] == repo) {
        let (Some(text), Some(tag)) = (it["text"].as_str(), it["tag"].as_str()) else {
            continue;
        };
        let status = it["status"].as_str().unwrap_or("pending");
        if status == "done" {
            done.entry(tag.to_string()).or_default().push(Tick {
                text: text.to_string(),
                by: it["by"].as_str().unwrap_or("?").to_string(),
                at: when(it["at"].as_str().unwrap_or_default()),
            });
        } else {
            open.push(format!(
                "{} (`{text}`, in {tag}) is {status}",
                it["id"].as_str().unwrap_or("?")
            ));
        }
    }
    (done, open)
}

/// A journal time as a tick note says it: `2026-12-08 10:02 UTC`.
fn when(at: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(at).map_or_else(
        |_| at.to_string(),
        |t| {
            t.with_timezone(&chrono::Utc)
                .format("%Y-%m-%d %H:%M UTC")
                .to_string()
        },
    )
}

async fn part(p: &Place, tag: &str, ticks: &[Tick]) -> Result<Part> {
    let release = p.client.by_tag(tag).await?.with_context(|| {
        format!(
            "{} has no release of {tag} any more: its items cannot be ticked there",
            p.repo
        )
    })?;
    let now = release_items::items(release.body_text());
    let has = |t: &Tick, done: bool| now.iter().any(|i| i.text == t.text && i.done == done);
    let fresh: Vec<Tick> = ticks.iter().filter(|t| has(t, false)).cloned().collect();
    let there = ticks.iter().filter(|t| has(t, true)).count();
    let (body, conflicts) = release_items::tick(release.body_text(), ticks);
    Ok(Part {
        tag: tag.to_string(),
        release,
        fresh,
        there,
        body,
        conflicts,
    })
}

async fn parts(p: &Place, done: &IndexMap<String, Vec<Tick>>) -> Result<Vec<Part>> {
    let mut out = Vec::new();
    for (tag, ticks) in done {
        out.push(part(p, tag, ticks).await?);
    }
    Ok(out)
}

/// A tick as its bullet will read.
fn line(t: &Tick) -> String {
    format!("- [x] {} (done by {}, {})", t.text, t.by, t.at)
}

/// What is pinned: the ticks to write, release by release.
fn pin_of(parts: &[Part]) -> Value {
    let ticks: Vec<Value> = parts
        .iter()
        .flat_map(|pt| pt.fresh.iter().map(|t| json!([pt.tag, t.text, t.by, t.at])))
        .collect();
    json!({ "ticks": ticks })
}

pub(super) fn confirm(p: &Place, ctx: &Value) -> Result<Confirmation> {
    let (done, open) = outcomes(ctx, &p.fields.repo);
    let parts = crate::services::http::block_on(parts(p, &done))??;
    let mut checks = Vec::new();
    let mut text = format!("tick the one-off items of {} in their releases", p.repo);
    for pt in &parts {
        text.push_str(&format!("\nrelease {} ({}):", pt.tag, pt.release.html_url));
        for t in &pt.fresh {
            text.push_str(&format!("\n  | {}", line(t)));
        }
        if pt.there > 0 {
            text.push_str(&format!("\n  ticked there already: {}", pt.there));
        }
        for c in &pt.conflicts {
            checks.push(Check::warn(format!(
                "release {}: `{}`: {}",
                pt.tag, c.text, c.why
            )));
        }
    }
    for o in &open {
        checks.push(Check::warn(format!("not done, so left unticked: {o}")));
    }
    let n: usize = parts.iter().map(|pt| pt.fresh.len()).sum();
    checks.insert(
        0,
        Check::ok(if n == 0 {
            "nothing to tick: no done item is unticked in its release".to_string()
        } else {
            format!(
                "{} to tick in {}",
                pushduty_core::words::count(n as u64, "item"),
                pushduty_core::words::count(
                    parts.iter().filter(|pt| !pt.fresh.is_empty()).count() as u64,
                    "release"
                )
            )
        }),
    );
    Ok(Confirmation {
        checks,
        shown: Some(text),
        pin: pin_of(&parts),
    })
}

pub(super) fn run(job: &Job, p: &Place) -> Result<Outputs> {
    let (done, _) = outcomes(&job.ctx, &p.fields.repo);
    let parts = job.call(parts(p, &done))?;
    if let Some(pinned) = &job.pinned
        && pinned.pin != pin_of(&parts)
    {
        bail!(
            "the items to tick changed after you confirmed (one was done, or ticked or edited \
             on GitHub): nothing was written; look again"
        );
    }
    let mut written = 0;
    let mut conflicts = Vec::new();
    for pt in &parts {
        conflicts.extend(
            pt.conflicts
                .iter()
                .map(|c| format!("`{}` in {}", c.text, pt.tag)),
        );
        if pt.fresh.is_empty() {
            continue;
        }
        let name = pt.release.name.clone().unwrap_or_else(|| pt.tag.clone());
        let r = job.call(p.client.update(pt.release.id, &name, &pt.body))?;
        for t in &pt.fresh {
            job.progress(format!("ticked in {}: {}", pt.tag, line(t)));
        }
        job.progress(format!("release {} updated: {}", pt.tag, r.html_url));
        written += pt.fresh.len();
    }
    if !conflicts.is_empty() {
        bail!(
            "{} ticked; not ticked, since the release body no longer has the item as it was \
             read (edited or removed on GitHub): {}. Tick them there by hand, then mark this \
             step done by hand",
            pushduty_core::words::count(written as u64, "item"),
            conflicts.join(", ")
        );
    }
    Ok(Outputs::from([
        ("release_ticks".to_string(), json!(written)),
        ("release_url".to_string(), json!(p.client.releases_page())),
    ]))
}

pub(super) fn by_hand(p: &Place, ctx: &Value) -> Result<ByHand> {
    let (done, _) = outcomes(ctx, &p.fields.repo);
    let mut steps = Vec::new();
    let mut copy = Vec::new();
    for (tag, ticks) in &done {
        steps.push(format!(
            "open the release {tag} of {}, \"Edit\", and tick these bullets:",
            p.repo
        ));
        copy.extend(ticks.iter().map(line));
    }
    if steps.is_empty() {
        steps.push("nothing to tick: no item of this push's releases is done".into());
    }
    Ok(ByHand {
        steps,
        link: Some(p.client.releases_page()),
        copy: (!copy.is_empty()).then(|| copy.join("\n")),
        outputs: Outputs::new(),
    })
}
