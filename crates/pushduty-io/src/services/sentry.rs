//! Sentry's web API (sentry.io and self-hosted): the issues first seen since a moment, and a
//! project's event counts per minute. Bearer-token auth. Every failure says what to do, and
//! never holds the token; a spent rate limit is a typed error that says when to come back.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Result, anyhow};
use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::Deserialize;

use super::http::{API_ANSWER, client, read_body};
use super::jenkins::encode;
use crate::secret::{Secret, scrub};

/// Sentry answers at most this many issues a page.
const PAGE: usize = 100;
/// Pages followed at most in one call: a server whose cursors never end must not keep a
/// check busy forever.
const MAX_PAGES: usize = 50;
/// `remaining` holds this while no answer has said how many requests are left.
const UNKNOWN: u64 = u64::MAX;

pub struct Sentry {
    name: String,
    base: String,
    org: String,
    project: String,
    environment: Option<String>,
    token: Secret,
    remaining: AtomicU64,
}

/// One issue (a group of events), as the pane and `status` show it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Issue {
    pub id: String,
    pub short_id: String,
    pub title: String,
    pub level: String,
    pub status: String,
    pub count: u64,
    pub user_count: u64,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    pub permalink: Option<String>,
}

/// The issues found, newest first; `more` when the cap cut the list short.
#[derive(Debug, Clone, PartialEq)]
pub struct Issues {
    pub items: Vec<Issue>,
    pub more: bool,
}

/// A spent rate limit: HTTP 429. `retry_in` is how long until the window resets, when the
/// answer said.
#[derive(Debug)]
pub struct RateLimited {
    pub retry_in: Option<Duration>,
    pub text: String,
}

impl std::fmt::Display for RateLimited {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for RateLimited {}

/// The rate limit an error reports, if it is one.
pub fn rate_limited(e: &anyhow::Error) -> Option<&RateLimited> {
    e.downcast_ref::<RateLimited>()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawIssue {
    id: String,
    short_id: String,
    title: String,
    #[serde(default)]
    level: String,
    #[serde(default)]
    status: String,
    /// A string in the API; a number is taken too.
    count: serde_json::Value,
    #[serde(default)]
    user_count: Option<u64>,
    #[serde(default)]
    first_seen: Option<String>,
    #[serde(default)]
    last_seen: Option<String>,
    #[serde(default)]
    permalink: Option<String>,
}

impl RawIssue {
    fn cook(self) -> Result<Issue> {
        let count = match &self.count {
            serde_json::Value::String(s) => s.trim().parse().ok(),
            serde_json::Value::Number(n) => n.as_u64(),
            _ => None,
        };
        let count = count.ok_or_else(|| {
            anyhow!(
                "Sentry issue {} ({}) has an event count that is not a number: {}",
                self.short_id,
                self.id,
                excerpt(&self.count.to_string())
            )
        })?;
        Ok(Issue {
            id: self.id,
            short_id: self.short_id,
            title: self.title,
            level: self.level,
            status: self.status,
            count,
            user_count: self.user_count.unwrap_or(0),
            first_seen: self.first_seen,
            last_seen: self.last_seen,
            permalink: self.permalink,
        })
    }
}

/// One part of a `Link` header: `<url>; rel="next"; results="true"; cursor="0:100:0"`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Link {
    pub url: String,
    pub rel: Option<String>,
    /// Sentry's own parameter: whether that page holds anything.
    pub results: Option<bool>,
    pub cursor: Option<String>,
}

/// Parses a `Link` header (RFC 8288) into its parts. Commas and semicolons inside `<...>` or
/// quotes belong to the value, so the header is read character by character rather than
/// split.
pub fn parse_links(header: &str) -> Vec<Link> {
    let mut links = Vec::new();
    let mut rest = header;
    loop {
        rest = rest.trim_start_matches(|c: char| c == ',' || c.is_whitespace());
        let Some(after) = rest.strip_prefix('<') else {
            return links;
        };
        let Some(end) = after.find('>') else {
            return links;
        };
        let mut link = Link {
            url: after[..end].to_string(),
            ..Link::default()
        };
        rest = &after[end + 1..];
        // Parameters: `; name="value"` or `; name=value`, up to the next `,` outside quotes.
        loop {
            rest = rest.trim_start();
            let Some(after) = rest.strip_prefix(';') else {
                break;
            };
            let after = after.trim_start();
            let name_end = after.find(['=', ';', ',']).unwrap_or(after.len());
            let name = after[..name_end].trim().to_ascii_lowercase();
            rest = &after[name_end..];
            let value = match rest.strip_prefix('=') {
                Some(v) => {
                    let v = v.trim_start();
                    if let Some(q) = v.strip_prefix('"') {
                        let (value, tail) = quoted(q);
                        rest = tail;
                        value
                    } else {
                        let end = v.find([';', ',']).unwrap_or(v.len());
                        rest = &v[end..];
                        v[..end].trim().to_string()
                    }
                }
                None => String::new(),
            };
            match name.as_str() {
                "rel" => link.rel = Some(value),
                "results" => link.results = Some(value.eq_ignore_ascii_case("true")),
                "cursor" => link.cursor = Some(value),
                _ => {}
            }
        }
        links.push(link);
    }
}

/// A quoted string's value (after its opening quote) and what follows its closing one.
fn quoted(s: &str) -> (String, &str) {
    let mut value = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return (value, &s[i + 1..]),
            '\\' => {
                if let Some((_, escaped)) = chars.next() {
                    value.push(escaped);
                }
            }
            c => value.push(c),
        }
    }
    (value, "")
}

/// Sums `[ts, count]` points into one point per minute, the minute's start first.
pub fn per_minute(points: &[(i64, f64)]) -> Vec<(i64, f64)> {
    let mut minutes: BTreeMap<i64, f64> = BTreeMap::new();
    for &(ts, count) in points {
        *minutes.entry(ts.div_euclid(60) * 60).or_default() += count;
    }
    minutes.into_iter().collect()
}

/// How long until a spent rate limit lifts: `X-Sentry-Rate-Limit-Reset` (unix seconds), else
/// `Retry-After` (seconds).
fn retry_in(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let get = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).map(str::trim);
    if let Some(reset) = get("x-sentry-rate-limit-reset").and_then(|v| v.parse::<f64>().ok()) {
        let secs = (reset - now.timestamp() as f64).max(0.0);
        return Some(Duration::from_secs_f64(secs));
    }
    get("retry-after")
        .and_then(|v| v.parse::<u64>().ok())
        .map(Duration::from_secs)
}

/// The start of a body, on one line, short enough for an error.
fn excerpt(body: &str) -> String {
    let flat: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > 120 {
        format!("{}...", flat.chars().take(120).collect::<String>())
    } else {
        flat
    }
}

/// The `detail` of a Sentry error body, else its start.
fn detail(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["detail"].as_str().map(str::to_string))
        .map_or_else(|| excerpt(body), |d| excerpt(&d))
}

impl Sentry {
    pub fn new(
        url: &str,
        org: &str,
        project: &str,
        environment: Option<String>,
        token: Secret,
    ) -> Self {
        Self {
            name: "sentry".to_string(),
            base: url.trim_end_matches('/').to_string(),
            org: org.to_string(),
            project: project.to_string(),
            environment: environment.filter(|e| !e.is_empty()),
            token,
            remaining: AtomicU64::new(UNKNOWN),
        }
    }

    /// The runbook's name for this service, for errors that say which token to fix.
    pub fn named(mut self, name: &str) -> Self {
        self.name = name.to_string();
        self
    }

    /// Requests left in the current rate-limit window, as the last answer said.
    pub fn remaining(&self) -> Option<u64> {
        Some(self.remaining.load(Ordering::Relaxed)).filter(|&n| n != UNKNOWN)
    }

    fn scrub(&self, text: &str) -> String {
        scrub(text, &[&self.token])
    }

    fn issues_url(&self) -> String {
        format!(
            "{}/api/0/organizations/{}/issues/",
            self.base,
            encode(&self.org)
        )
    }

    fn stats_url(&self) -> String {
        format!(
            "{}/api/0/projects/{}/{}/stats/",
            self.base,
            encode(&self.org),
            encode(&self.project)
        )
    }

    /// Builds an error that says what to do for a status, with the token cut out.
    fn refusal(
        &self,
        status: StatusCode,
        headers: &HeaderMap,
        what: &str,
        scope: &str,
        body: &str,
    ) -> anyhow::Error {
        // Scrubbed before `detail` cuts it: a token cut in half would no longer be found.
        let said = detail(&self.scrub(body));
        let said = if said.is_empty() {
            String::new()
        } else {
            format!(": {said}")
        };
        if status == StatusCode::TOO_MANY_REQUESTS {
            let retry_in = retry_in(headers, Utc::now());
            let when = retry_in.map_or_else(
                || "in a minute".to_string(),
                |d| format!("in {}s", d.as_secs_f64().ceil()),
            );
            return anyhow::Error::new(RateLimited {
                retry_in,
                text: self.scrub(&format!(
                    "{what}: HTTP {status}{said}. Sentry's rate limit for this token is spent: \
                     try again {when}"
                )),
            });
        }
        let hint = match status.as_u16() {
            401 => format!(
                "Sentry refused the token: check services.{}.token (valid, not revoked, with \
                 the {scope} scope)",
                self.name
            ),
            403 => format!(
                "Sentry refused the token: the token of services.{} lacks the {scope} scope, \
                 or its user is not a member of `{}`",
                self.name, self.org
            ),
            404 => format!(
                "no organization `{}` or project `{}` at {}: check the runbook",
                self.org, self.project, self.base
            ),
            s if s >= 500 => {
                "Sentry failed; try again, and check status.sentry.io (or ask whoever runs \
                 your Sentry) if it keeps failing"
                    .to_string()
            }
            _ => "Sentry answered something unexpected".to_string(),
        };
        super::http::answered(
            status,
            self.scrub(&format!("{what}: HTTP {status}{said}. {hint}")),
        )
    }

    /// A transport failure (no connection, a timeout), said plainly.
    fn unreachable(&self, what: &str, e: &reqwest::Error) -> anyhow::Error {
        super::http::unanswered(what, "Sentry", &self.base, e, |t| self.scrub(t))
    }

    /// GETs `url` and answers its headers and body when the status is a success.
    async fn get(&self, url: reqwest::Url, what: &str, scope: &str) -> Result<(HeaderMap, String)> {
        let resp = client()?
            .get(url)
            .bearer_auth(self.token.expose())
            .send()
            .await
            .map_err(|e| self.unreachable(what, &e))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        if let Some(n) = headers
            .get("x-sentry-rate-limit-remaining")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
        {
            self.remaining.store(n.min(UNKNOWN - 1), Ordering::Relaxed);
        }
        let body = read_body(resp, API_ANSWER, "Sentry", what, |e| {
            self.unreachable(what, e)
        })
        .await?;
        if !status.is_success() {
            return Err(self.refusal(status, &headers, what, scope, &body));
        }
        Ok((headers, body))
    }

    fn parse_url(&self, url: &str, what: &str) -> Result<reqwest::Url> {
        reqwest::Url::parse(url).map_err(|e| {
            anyhow!(self.scrub(&format!(
                "{what}: `{url}` is not a URL ({e}): check the service's `url`"
            )))
        })
    }

    /// Unresolved issues of the project first seen at or after `since`, newest first,
    /// `extra_query` (Sentry search syntax, e.g. `firstRelease:1.2`) narrowing them further.
    /// Follows the pages while Sentry says the next one holds results, up to `cap` issues.
    pub async fn new_issues(
        &self,
        since: DateTime<Utc>,
        extra_query: Option<&str>,
        cap: usize,
    ) -> Result<Issues> {
        let what = format!("listing new Sentry issues of `{}`", self.project);
        let mut query = format!(
            "is:unresolved firstSeen:>={}",
            since.to_rfc3339_opts(SecondsFormat::Secs, true)
        );
        if let Some(extra) = extra_query.map(str::trim).filter(|q| !q.is_empty()) {
            query.push(' ');
            query.push_str(extra);
        }
        let mut first = self.parse_url(&self.issues_url(), &what)?;
        {
            let mut pairs = first.query_pairs_mut();
            pairs
                .append_pair("project", &self.project)
                .append_pair("query", &query)
                .append_pair("sort", "new")
                .append_pair("limit", &PAGE.to_string());
            if let Some(env) = &self.environment {
                pairs.append_pair("environment", env);
            }
        }
        let mut items = Vec::new();
        let mut url = first.clone();
        let mut seen_cursors = Vec::new();
        for _ in 0..MAX_PAGES {
            let (headers, body) = self.get(url, &what, "event:read").await?;
            let page: Vec<RawIssue> = serde_json::from_str(&body).map_err(|e| {
                anyhow!(self.scrub(&format!(
                    "{what}: Sentry answered something that is not the issues list ({e}): {}; \
                     is {} a Sentry server?",
                    excerpt(&body),
                    self.base
                )))
            })?;
            for raw in page {
                if items.len() == cap {
                    return Ok(Issues { items, more: true });
                }
                items.push(
                    raw.cook()
                        .map_err(|e| anyhow!(self.scrub(&format!("{what}: {e}"))))?,
                );
            }
            let next = headers
                .get_all(reqwest::header::LINK)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(parse_links)
                .find(|l| l.rel.as_deref() == Some("next"));
            let Some(next) = next.filter(|l| l.results == Some(true)) else {
                return Ok(Issues { items, more: false });
            };
            if items.len() == cap {
                return Ok(Issues { items, more: true });
            }
            // Our own URL with Sentry's cursor: behind a proxy Sentry may write links with
            // a host that does not answer from here. A link without a cursor is taken as is.
            url = match &next.cursor {
                Some(cursor) => {
                    if seen_cursors.contains(cursor) {
                        return Err(anyhow!(self.scrub(&format!(
                            "{what}: Sentry sent the same page cursor `{cursor}` twice; try again"
                        ))));
                    }
                    seen_cursors.push(cursor.clone());
                    let mut u = first.clone();
                    u.query_pairs_mut().append_pair("cursor", cursor);
                    u
                }
                None => self.parse_url(&next.url, &what)?,
            };
        }
        // So many pages is more than any check reads: say there may be more.
        Ok(Issues { items, more: true })
    }

    /// Events the project received from `since` to `until` (unix seconds), as events a
    /// minute: one point per minute, or with `fine` one per 10 seconds (Sentry's finest
    /// resolution, scaled to a minute's rate), so that a soak of a minute or two still has
    /// enough points for a verdict.
    pub async fn event_counts(
        &self,
        since: i64,
        until: i64,
        fine: bool,
    ) -> Result<Vec<(i64, f64)>> {
        let what = format!("reading the event counts of `{}`", self.project);
        let mut url = self.parse_url(&self.stats_url(), &what)?;
        url.query_pairs_mut()
            .append_pair("stat", "received")
            .append_pair("since", &since.to_string())
            .append_pair("until", &until.to_string())
            .append_pair("resolution", "10s");
        let (_, body) = self.get(url, &what, "project:read").await?;
        let points: Vec<(f64, f64)> = serde_json::from_str(&body).map_err(|e| {
            anyhow!(self.scrub(&format!(
                "{what}: Sentry answered something that is not a list of [time, count] points \
                 ({e}): {}; is {} a Sentry server?",
                excerpt(&body),
                self.base
            )))
        })?;
        let points: Vec<(i64, f64)> = points
            .into_iter()
            .map(|(ts, n)| (ts.floor() as i64, n))
            .collect();
        if fine {
            return Ok(points.into_iter().map(|(ts, n)| (ts, n * 6.0)).collect());
        }
        Ok(per_minute(&points))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_headers_are_parsed_whole() {
        let h = r#"<https://sentry.io/api/0/organizations/acme/issues/?&cursor=0:0:1>; rel="previous"; results="false"; cursor="0:0:1", <https://sentry.io/api/0/organizations/acme/issues/?query=a,b;c&cursor=0:100:0>; rel="next"; results="true"; cursor="0:100:0""#;
        let links = parse_links(h);
        assert_eq!(links.len(), 2);
        assert_eq!(links[0].rel.as_deref(), Some("previous"));
        assert_eq!(links[0].results, Some(false));
        assert_eq!(links[0].cursor.as_deref(), Some("0:0:1"));
        assert_eq!(
            links[1].url,
            "https://sentry.io/api/0/organizations/acme/issues/?query=a,b;c&cursor=0:100:0"
        );
        assert_eq!(links[1].rel.as_deref(), Some("next"));
        assert_eq!(links[1].results, Some(true));
        assert_eq!(links[1].cursor.as_deref(), Some("0:100:0"));
        // Unquoted values, odd spacing, a quoted comma, an unknown parameter.
        let links =
            parse_links(r#" <a>;rel=next ; results = "false";title="x, y" , <b>; rel="previous""#);
        assert_eq!(links.len(), 2);
        assert_eq!(links[0].rel.as_deref(), Some("next"));
        assert_eq!(links[0].results, Some(false));
        assert_eq!(links[1].url, "b");
        assert!(parse_links("").is_empty());
        assert!(parse_links("garbage").is_empty());
    }

    #[test]
    fn points_sum_into_minutes() {
        let points = [(120, 1.0), (130, 2.0), (179, 3.0), (180, 4.0), (-5, 1.0)];
        assert_eq!(
            per_minute(&points),
            vec![(-60, 1.0), (120, 6.0), (180, 4.0)]
        );
    }

    #[test]
    fn a_spent_rate_limit_says_how_long() {
        let now = Utc::now();
        let mut h = HeaderMap::new();
        assert_eq!(retry_in(&h, now), None);
        h.insert("retry-after", "7".parse().unwrap());
        assert_eq!(retry_in(&h, now), Some(Duration::from_secs(7)));
        let reset = (now.timestamp() + 30).to_string();
        h.insert("x-sentry-rate-limit-reset", reset.parse().unwrap());
        assert_eq!(retry_in(&h, now), Some(Duration::from_secs(30)));
        // A reset already past: come back now, not never.
        h.insert("x-sentry-rate-limit-reset", "0".parse().unwrap());
        assert_eq!(retry_in(&h, now), Some(Duration::ZERO));
    }

    #[test]
    fn counts_are_numbers_or_an_error_naming_the_issue() {
        let raw = |count: &str| -> RawIssue {
            serde_json::from_str(&format!(
                r#"{{"id":"9","shortId":"APP-9","title":"t","count":{count}}}"#
            ))
            .unwrap()
        };
        assert_eq!(raw(r#""1234""#).cook().unwrap().count, 1234);
        assert_eq!(raw("12").cook().unwrap().count, 12);
        let issue = raw(r#""5""#).cook().unwrap();
        assert_eq!((issue.user_count, issue.first_seen), (0, None));
        let e = raw(r#""lots""#).cook().unwrap_err().to_string();
        assert!(e.contains("APP-9") && e.contains("lots"), "{e}");
        assert!(raw(r#""-1""#).cook().is_err());
    }

    #[test]
    fn error_bodies_give_their_detail() {
        assert_eq!(detail(r#"{"detail":"Invalid token"}"#), "Invalid token");
        assert_eq!(detail("<html>\n  oops </html>"), "<html> oops </html>");
        assert!(excerpt(&"x".repeat(500)).len() < 130);
    }

    #[test]
    fn a_token_at_the_cut_of_an_echoed_body_is_scrubbed_whole() {
        let token = "tok-0123456789abcdef";
        let s = Sentry::new("http://s/", "mkt", "amo", None, Secret::new(token));
        // The token straddles the 120th character: cut first, its first half would stay.
        let body = format!(r#"{{"detail":"{}{token} more"}}"#, "x".repeat(110));
        let said = s
            .refusal(
                StatusCode::BAD_REQUEST,
                &HeaderMap::new(),
                "reading",
                "",
                &body,
            )
            .to_string();
        assert!(!said.contains(&token[..8]), "{said}");
        assert!(said.contains("[redacted]"), "{said}");
    }
}
