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
            let item = format!("link {place} {}", named(&url));
            timed(item, "link", limit, async move {
                if let Some(why) = malformed(&url) {
                    return Err(Broken::new(
                        format!("malformed: {why}"),
                        format!("correct it in the runbook ({place})"),
                    ));
                }
                // Asking would use the credential, and may act: a GET of Jenkins's
                // `build?token=` starts a build.
                if let Some(what) = credential_in(&url) {
                    return Err(Broken::new(
                        format!("carries a credential in its address ({what}): not asked"),
                        credential_fix(&place),
                    ));
                }
                // A value not known before the push (a placeholder) has no address yet.
                if url.contains('\u{27e8}') {
                    return Ok("not known before the push: not asked".to_string());
                }
                let fix = format!(
                    "check the address; if the page moved, update it in the runbook ({place})"
                );
                let a = send(get(&url)?, "the link", &host(&url), limit, &fix).await?;
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

/// The scheme and host of a URL: what an error about it names (never a user, a path or a
/// query, which may carry a credential).
fn host(url: &str) -> String {
    let (after, end) = authority(url);
    let authority = &url[after..end];
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    format!("{}{host}", &url[..after])
}

pub(super) fn credential_fix(place: &str) -> String {
    format!(
        "take it out of the runbook ({place}): a runbook is shared, and secrets come from the \
         environment or the keyring"
    )
}

/// Query keys that name a credential, as parts of a lowercase key.
const SECRET_KEYS: [&str; 6] = ["token", "key", "secret", "pass", "auth", "sig"];

fn is_secret_key(key: &str) -> bool {
    let key = key.to_lowercase();
    SECRET_KEYS.iter().any(|k| key.contains(k))
}

/// The query of a URL, without its fragment.
fn query(url: &str) -> Option<&str> {
    let q = &url[url.find('?')? + 1..];
    Some(q.split('#').next().unwrap_or_default())
}

/// What credential a URL carries, if any: a user (and password) before its host, or a
/// query parameter whose name says it is one.
pub(super) fn credential_in(url: &str) -> Option<&'static str> {
    let (after, end) = authority(url);
    if url[after..end].contains('@') {
        return Some("a user and password before the host");
    }
    let secret = query(url)?
        .split('&')
        .any(|kv| is_secret_key(kv.split('=').next().unwrap_or_default()));
    secret.then_some("a token in its query")
}

/// Where a URL's authority (`user@host:port`) begins and ends.
fn authority(url: &str) -> (usize, usize) {
    let after = url.find("://").map_or(0, |i| i + 3);
    let end = url[after..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| after + i);
    (after, end)
}

/// A URL as doctor names it: without a user or password, and with the values of credential
/// parameters of its query left out.
pub(super) fn named(url: &str) -> String {
    let (_, end) = authority(url);
    let mut out = host(url);
    let rest = &url[end..];
    let (path, q) = rest.split_once('?').unwrap_or((rest, ""));
    out.push_str(path);
    if rest.contains('?') {
        let (q, fragment) = q.split_once('#').map_or((q, None), |(a, b)| (a, Some(b)));
        let parts: Vec<String> = q
            .split('&')
            .map(|kv| match kv.split_once('=') {
                Some((k, _)) if is_secret_key(k) => format!("{k}=…"),
                _ => kv.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&parts.join("&"));
        if let Some(f) = fragment {
            out.push('#');
            out.push_str(f);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_credential_in_an_address_is_found_and_never_named() {
        let trigger = "https://ci.example/job/amo/build?token=s3cret&cause=push";
        assert_eq!(credential_in(trigger), Some("a token in its query"));
        assert_eq!(
            named(trigger),
            "https://ci.example/job/amo/build?token=…&cause=push"
        );
        let user = "https://hero:pa55@grafana.example/d/amo?orgId=1#panel";
        assert_eq!(
            credential_in(user),
            Some("a user and password before the host")
        );
        assert_eq!(named(user), "https://grafana.example/d/amo?orgId=1#panel");
        assert_eq!(host(user), "https://grafana.example");
        for plain in [
            "https://grafana.example/d/amo?orgId=1&from=now-1h",
            "https://addons.allizom.org/__version__",
            "https://example.org/a@b",
        ] {
            assert_eq!(credential_in(plain), None, "{plain}");
            assert_eq!(named(plain), plain);
        }
    }
}
