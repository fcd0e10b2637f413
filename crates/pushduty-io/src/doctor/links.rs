//! The runbook's links and the URLs in its docs, as the push shows them: a malformed one is
//! named without a request; the others are asked with a GET.

use std::time::Duration;

use pushduty_core::doctor::{malformed, urls_in};
use pushduty_core::preview::fill;
use serde_json::Value;

use super::probe::{get, send};
use super::{Broken, Check, timed};
use crate::runbook::model::Runbook;

/// Every URL and where it is first written (`links.NAME`, `summary`, `step ID`), each once.
pub(crate) fn collect(rb: &Runbook, ctx: &Value) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = Vec::new();
    let mut add = |place: String, url: String| {
        if !found.iter().any(|(_, u)| *u == url) {
            found.push((place, url));
        }
    };
    for (name, raw) in &rb.links {
        let url = ctx["links"][name]
            .as_str()
            .map_or_else(|| fill(raw, ctx), str::to_string);
        add(format!("links.{name}"), url.trim().to_string());
    }
    for url in urls_in(&fill(&rb.summary, ctx)) {
        add("summary".into(), url);
    }
    for step in &rb.steps {
        for url in urls_in(&fill(&step.doc, ctx)) {
            add(format!("step {}", step.id), url);
        }
    }
    found
}

pub(super) fn checks<'a>(rb: &Runbook, ctx: &Value, limit: Duration) -> Vec<Check<'a>> {
    collect(rb, ctx)
        .into_iter()
        .map(|(place, url)| {
            let item = format!("link {place} {url}");
            timed(item, "link", limit, async move {
                if let Some(why) = malformed(&url) {
                    return Err(Broken::new(
                        format!("malformed: {why}"),
                        format!("correct it in the runbook ({place})"),
                    ));
                }
                // A value not known before the push (a placeholder) has no address yet.
                if url.contains('\u{27e8}') {
                    return Ok("not known before the push: not asked".to_string());
                }
                let fix = format!(
                    "check the address; if the page moved, update it in the runbook ({place})"
                );
                let a = send(get(&url)?, "the link", host(&url), limit, &fix).await?;
                match a.status {
                    200..=399 => Ok(format!("answers (HTTP {})", a.status)),
                    // Behind a login: it is there.
                    401 | 403 => Ok(format!("answers (HTTP {}: it needs a login)", a.status)),
                    s => Err(Broken::new(format!("answered HTTP {s}"), fix)),
                }
            })
        })
        .collect()
}

/// The scheme and host of a URL: what an error about it names (never a path or a query,
/// which may carry a token).
fn host(url: &str) -> &str {
    let after = url.find("://").map_or(0, |i| i + 3);
    let end = url[after..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| after + i);
    &url[..end]
}
