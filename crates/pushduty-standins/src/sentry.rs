//! A Sentry web-API stand-in, after the OpenAPI subset in the contracts: the organization's
//! issues list (search on `is:`, `firstSeen:`, `firstRelease:`, `level:`; sorts; `limit` and
//! `cursor` pages with Sentry's `Link` header) and a project's event counts, with the
//! rate-limit headers every answer carries, and failures to play.

use crate::Server;
use crate::http::{Conn, Json, Request, Response, form, object};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

/// One issue as the stand-in holds it; times are unix seconds.
#[derive(Clone, Debug)]
pub struct Issue {
    pub id: u64,
    pub title: String,
    pub level: String,
    /// unresolved, resolved, ignored.
    pub status: String,
    /// Sent as a JSON string, as Sentry does; anything may be put here to test parsing.
    pub count: String,
    pub user_count: u64,
    pub first_seen: Option<i64>,
    pub last_seen: Option<i64>,
    pub first_release: Option<String>,
    /// `None`: seen in every environment.
    pub environment: Option<String>,
}

impl Issue {
    /// An unresolved error first and last seen at `first_seen`, counted once.
    pub fn new(id: u64, title: &str, first_seen: i64) -> Self {
        Self {
            id,
            title: title.into(),
            level: "error".into(),
            status: "unresolved".into(),
            count: "1".into(),
            user_count: 1,
            first_seen: Some(first_seen),
            last_seen: Some(first_seen),
            first_release: None,
            environment: None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    /// The loopback port to listen on; 0 (or a taken one): any free port.
    pub port: u16,
    pub org: String,
    /// The project's slug; `project_id` is its number. Either names it in `project=`.
    pub project: String,
    pub project_id: u64,
    pub token: String,
    pub issues: Vec<Issue>,
    /// `(minute start, events)`: spread evenly over the minute's 10 s buckets when asked.
    pub events: Vec<(i64, u64)>,
    /// The most issues a page holds, whatever `limit` asks (Sentry: 100).
    pub page_max: usize,
    /// Requests allowed per window, and the window's length.
    pub rate_limit: u64,
    pub window_secs: u64,
    pub concurrent_limit: u64,
    /// The token's scopes: without `project:read` a project's details answer 403.
    pub scopes: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            port: 0,
            org: "mozilla".into(),
            project: "addons-server".into(),
            project_id: 42,
            token: "sntrys_s3cret".into(),
            issues: Vec::new(),
            events: Vec::new(),
            page_max: 100,
            rate_limit: 1000,
            window_secs: 60,
            concurrent_limit: 25,
            scopes: ["event:read", "project:read", "org:read"]
                .map(String::from)
                .to_vec(),
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Fault {
    #[default]
    None,
    /// The next n requests answer 429 with a spent limit; then back to `None`.
    RateLimited(u32),
    /// Requests are read and never answered.
    Hang,
    /// JSON answers are cut in half.
    Malformed,
    /// Every request answers 500 with an HTML page.
    ServerError,
}

/// One request as read.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    /// Decoded query pairs, in order.
    pub query: Vec<(String, String)>,
    pub authorization: Option<String>,
}

impl Seen {
    /// The first value of query parameter `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        let found = self.query.iter().find(|(k, _)| k == name);
        found.map(|(_, v)| v.as_str())
    }
}

pub struct Sentry {
    server: Server<Shared>,
}

struct Shared {
    cfg: Config,
    url: String,
    in_flight: AtomicU64,
    state: Mutex<State>,
}

struct State {
    fault: Fault,
    seen: Vec<Seen>,
    issues: Vec<Issue>,
    window_start: i64,
    used: u64,
}

/// Now, in unix seconds.
pub fn now_secs() -> i64 {
    Utc::now().timestamp()
}

impl Sentry {
    /// On a free loopback port; for tests, where a stand-in that cannot start ends the test.
    #[cfg(any(test, feature = "testing"))]
    pub fn start(cfg: Config) -> Self {
        super::started("Sentry", Self::try_start(cfg))
    }

    /// On a free loopback port.
    pub fn try_start(cfg: Config) -> std::io::Result<Self> {
        let port = cfg.port;
        Server::start_http(
            port,
            |url| Shared {
                state: Mutex::new(State {
                    fault: Fault::None,
                    seen: Vec::new(),
                    issues: cfg.issues.clone(),
                    window_start: now_secs(),
                    used: 0,
                }),
                cfg,
                url: url.to_string(),
                in_flight: AtomicU64::new(0),
            },
            serve,
        )
        .map(|server| Self { server })
    }

    /// "http://127.0.0.1:PORT", no trailing slash.
    pub fn url(&self) -> &str {
        &self.server.url
    }

    /// Plays `fault` on every request instead of the API, whatever it is asked (see
    /// [`crate::http::WireFault`]); `WireFault::None` ends it.
    pub fn set_wire_fault(&self, fault: crate::http::WireFault) {
        self.server.set_wire_fault(fault);
    }

    pub fn set_fault(&self, fault: Fault) {
        self.server.shared.lock().fault = fault;
    }

    /// A new issue, seen from the next request on.
    pub fn add_issue(&self, issue: Issue) {
        self.server.shared.lock().issues.push(issue);
    }

    /// The issues as they stand now (added ones included), as JSON; a stand-in started later
    /// takes them up with [`Sentry::restore`].
    pub fn snapshot(&self) -> Value {
        let st = self.server.shared.lock();
        let issues: Vec<Value> = st
            .issues
            .iter()
            .map(|i| {
                json!({
                    "id": i.id,
                    "title": i.title,
                    "level": i.level,
                    "status": i.status,
                    "count": i.count,
                    "user_count": i.user_count,
                    "first_seen": i.first_seen,
                    "last_seen": i.last_seen,
                    "first_release": i.first_release,
                    "environment": i.environment,
                })
            })
            .collect();
        json!({ "issues": issues })
    }

    /// Takes up a [`Sentry::snapshot`]: its issues replace this stand-in's.
    pub fn restore(&self, saved: &Value) -> Result<(), String> {
        use crate::saved::{i64_of, list, opt, str_of, u64_of};
        let issues = list(saved, "issues")
            .and_then(|all| {
                all.iter()
                    .map(|v| {
                        Ok(Issue {
                            id: u64_of(v, "id")?,
                            title: str_of(v, "title")?,
                            level: str_of(v, "level")?,
                            status: str_of(v, "status")?,
                            count: str_of(v, "count")?,
                            user_count: u64_of(v, "user_count")?,
                            first_seen: opt(v, "first_seen", i64_of)?,
                            last_seen: opt(v, "last_seen", i64_of)?,
                            first_release: opt(v, "first_release", str_of)?,
                            environment: opt(v, "environment", str_of)?,
                        })
                    })
                    .collect::<Result<Vec<Issue>, String>>()
            })
            .map_err(|e| format!("the Sentry state: {e}"))?;
        self.server.shared.lock().issues = issues;
        Ok(())
    }

    /// Every request read, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.server.shared.lock().seen.clone()
    }

    /// "METHOD PATH" of every request read, in order.
    pub fn requests(&self) -> Vec<String> {
        let st = self.server.shared.lock();
        st.seen
            .iter()
            .map(|s| format!("{} {}", s.method, s.path))
            .collect()
    }

    /// When the current rate-limit window ends, in unix seconds.
    pub fn window_end(&self) -> i64 {
        self.server.shared.lock().window_start + self.server.shared.cfg.window_secs as i64
    }
}

/// A JSON answer.
fn answer(status: u16, body: impl Into<Vec<u8>>) -> Response {
    Response::new(status, "application/json", body)
}

/// Sentry's error shape: `{"detail": "..."}`.
impl Shared {
    /// `GET /api/0/projects/{org}/{project}/`: the project, for a token with `project:read`.
    fn project(&self) -> Response {
        if !self.cfg.scopes.iter().any(|s| s == "project:read") {
            return detail(403, "You do not have permission to perform this action.");
        }
        let body = json!({
            "id": self.cfg.project_id.to_string(),
            "slug": self.cfg.project,
            "name": self.cfg.project,
            "organization": { "slug": self.cfg.org },
        });
        answer(200, body.to_string())
    }
}

fn detail(status: u16, detail: &str) -> Response {
    answer(status, json!({ "detail": detail }).to_string())
}

fn not_found() -> Response {
    detail(404, "The requested resource does not exist")
}

fn serve(sh: &Shared, req: Request, mut conn: Conn) {
    sh.in_flight.fetch_add(1, Ordering::SeqCst);
    let (path, query) = req.path_and_query();
    let (fault, limited, remaining, reset) = {
        let mut st = sh.lock();
        st.seen.push(Seen {
            method: req.method.clone(),
            path: path.to_string(),
            query: form(query.as_bytes()),
            authorization: req.header("authorization").map(str::to_string),
        });
        // A fixed window, as Sentry counts requests.
        let now = now_secs();
        if now >= st.window_start + sh.cfg.window_secs as i64 {
            st.window_start = now;
            st.used = 0;
        }
        st.used += 1;
        let fault = st.fault;
        let forced = match fault {
            Fault::RateLimited(n) => {
                st.fault = if n > 1 {
                    Fault::RateLimited(n - 1)
                } else {
                    Fault::None
                };
                true
            }
            _ => false,
        };
        let over = st.used > sh.cfg.rate_limit;
        let remaining = if forced {
            0
        } else {
            sh.cfg.rate_limit.saturating_sub(st.used)
        };
        let reset = st.window_start + sh.cfg.window_secs as i64;
        (fault, forced || over, remaining, reset)
    };
    if fault == Fault::Hang {
        conn.hang();
        sh.in_flight.fetch_sub(1, Ordering::SeqCst);
        return;
    }
    let answer = if limited {
        detail(
            429,
            &format!(
                "You are attempting to use this endpoint too frequently. Limit is {} requests in {} seconds",
                sh.cfg.rate_limit, sh.cfg.window_secs
            ),
        )
    } else if fault == Fault::ServerError {
        Response::new(500, "text/html", "<h1>Server Error (500)</h1>")
    } else {
        sh.route(&req, path, query, fault == Fault::Malformed)
    };
    let concurrent = sh
        .cfg
        .concurrent_limit
        .saturating_sub(sh.in_flight.load(Ordering::SeqCst));
    let answer = answer
        .with("X-Sentry-Rate-Limit-Limit", sh.cfg.rate_limit.to_string())
        .with("X-Sentry-Rate-Limit-Remaining", remaining.to_string())
        .with("X-Sentry-Rate-Limit-Reset", reset.to_string())
        .with(
            "X-Sentry-Rate-Limit-ConcurrentLimit",
            sh.cfg.concurrent_limit.to_string(),
        )
        .with(
            "X-Sentry-Rate-Limit-ConcurrentRemaining",
            concurrent.to_string(),
        );
    conn.send(&answer);
    sh.in_flight.fetch_sub(1, Ordering::SeqCst);
}

/// A JSON body, cut mid-document when `malformed`.
fn body(json: impl Into<Vec<u8>>, malformed: bool) -> Response {
    let response = answer(200, json);
    if malformed {
        return response.cut_in_half();
    }
    response
}

/// `2015-09-10T12:00:00Z` for unix seconds.
pub fn iso(secs: i64) -> String {
    crate::rfc3339(secs)
}

/// Unix seconds of what Sentry's search takes as a date: `YYYY-MM-DD`, optionally with
/// `THH:MM:SS`, fractional seconds, and `Z` or `±HH:MM`. Naive times are UTC.
pub fn parse_iso(s: &str) -> Option<i64> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp());
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(t.and_utc().timestamp());
    }
    let day = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    Some(day.and_time(chrono::NaiveTime::MIN).and_utc().timestamp())
}

/// One term of an issue search, as the stand-in understands it.
enum Term {
    Is(String),
    FirstSeen(String, i64),
    FirstRelease(String),
    Level(String),
}

fn parse_query(q: &str, now: i64) -> Result<Vec<Term>, String> {
    q.split_whitespace()
        .map(|token| {
            let (key, value) = token
                .split_once(':')
                .ok_or_else(|| format!("free-text search (`{token}`) is not supported here"))?;
            match key {
                "is" => Ok(Term::Is(value.to_string())),
                "firstRelease" | "first-release" => Ok(Term::FirstRelease(value.to_string())),
                "level" => Ok(Term::Level(value.to_string())),
                "firstSeen" | "age" => {
                    let op_len = value
                        .find(|c: char| !matches!(c, '<' | '>' | '='))
                        .unwrap_or(value.len());
                    let (op, date) = value.split_at(op_len);
                    // `-1h`: within the last hour, Sentry's relative form.
                    let relative = date
                        .strip_prefix('-')
                        .and_then(|d| {
                            let unit = match d.chars().last()? {
                                'm' => 60,
                                'h' => 3600,
                                'd' => 86400,
                                'w' => 604800,
                                _ => return None,
                            };
                            d[..d.len() - 1].parse::<i64>().ok().map(|n| n * unit)
                        })
                        .filter(|_| op.is_empty());
                    if let Some(ago) = relative {
                        return Ok(Term::FirstSeen(">=".into(), now - ago));
                    }
                    let at = parse_iso(date)
                        .ok_or_else(|| format!("`{date}` is not a date Sentry takes"))?;
                    match op {
                        ">" | ">=" | "<" | "<=" | "" => Ok(Term::FirstSeen(op.to_string(), at)),
                        _ => Err(format!("`{op}` is not an operator")),
                    }
                }
                other => Err(format!("the stand-in does not search on `{other}`")),
            }
        })
        .collect()
}

impl Term {
    fn matches(&self, i: &Issue) -> bool {
        match self {
            Term::Is(s) => i.status == *s,
            Term::FirstRelease(r) => i.first_release.as_deref() == Some(r.as_str()),
            Term::Level(l) => i.level == *l,
            Term::FirstSeen(op, at) => i.first_seen.is_some_and(|f| match op.as_str() {
                ">" => f > *at,
                ">=" => f >= *at,
                "<" => f < *at,
                "<=" => f <= *at,
                _ => f == *at,
            }),
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        super::lock(&self.state)
    }

    fn route(&self, req: &Request, path: &str, query: &str, malformed: bool) -> Response {
        let expected = format!("Bearer {}", self.cfg.token);
        match req.header("authorization") {
            None => return detail(401, "Authentication credentials were not provided."),
            // Says back what it got, as some proxies and old servers do: the client must
            // keep the token out of its errors all the same.
            Some(given) if given != expected => {
                return detail(401, &format!("Invalid token: {given}"));
            }
            Some(_) => {}
        }
        if req.method != "GET" {
            return detail(405, &format!("Method \"{}\" not allowed.", req.method));
        }
        let params = form(query.as_bytes());
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        match segments.as_slice() {
            ["api", "0", "organizations", org, "issues"] if *org == self.cfg.org => {
                self.issues(path, query, &params, malformed)
            }
            ["api", "0", "projects", org, project]
                if *org == self.cfg.org && *project == self.cfg.project =>
            {
                self.project()
            }
            ["api", "0", "projects", org, project, "stats"]
                if *org == self.cfg.org && *project == self.cfg.project =>
            {
                self.stats(&params, malformed)
            }
            _ => not_found(),
        }
    }

    fn issue_json(&self, i: &Issue) -> Json {
        let time = |t: Option<i64>| t.map(iso);
        let project = object! {
            "id": self.cfg.project_id.to_string(),
            "name": &self.cfg.project,
            "slug": &self.cfg.project,
            "platform": "python",
        };
        object! {
            "id": i.id.to_string(),
            "shareId": Value::Null,
            "shortId": format!("{}-{}", self.cfg.project.to_uppercase(), i.id),
            "title": &i.title,
            "culprit": Value::Null,
            "permalink": format!("{}/organizations/{}/issues/{}/", self.url, self.cfg.org, i.id),
            "logger": Value::Null,
            "level": &i.level,
            "status": &i.status,
            "statusDetails": json!({}),
            "isPublic": false,
            "platform": "python",
            "project": project,
            "type": "error",
            "metadata": json!({ "title": i.title }),
            "numComments": 0,
            "assignedTo": Value::Null,
            "isBookmarked": false,
            "isSubscribed": false,
            "hasSeen": false,
            "annotations": json!([]),
            "isUnhandled": false,
            "count": &i.count,
            "userCount": i.user_count,
            "firstSeen": time(i.first_seen),
            "lastSeen": time(i.last_seen),
        }
    }

    fn issues(
        &self,
        path: &str,
        raw_query: &str,
        params: &[(String, String)],
        malformed: bool,
    ) -> Response {
        let all = |name: &str| -> Vec<&str> {
            params
                .iter()
                .filter(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
                .collect()
        };
        let one = |name: &str| all(name).first().copied();
        let ours = [self.cfg.project.clone(), self.cfg.project_id.to_string()];
        if all("project")
            .iter()
            .any(|p| *p != "-1" && !ours.iter().any(|o| o == p))
        {
            return not_found();
        }
        let envs = all("environment");
        // No `query` at all means Sentry's default; an empty one means everything.
        let terms = match parse_query(one("query").unwrap_or("is:unresolved"), now_secs()) {
            Ok(t) => t,
            Err(e) => return detail(400, &format!("Error parsing search query: {e}")),
        };
        let limit = match one("limit").map(str::parse::<usize>) {
            None => 100,
            Some(Ok(n)) if n >= 1 => n.min(100),
            Some(_) => return detail(400, "Invalid limit"),
        };
        let limit = limit.min(self.cfg.page_max.max(1));
        // Cursors are `value:offset:is_prev`; this stand-in pages by offset alone.
        let offset = match one("cursor") {
            None => 0,
            Some(c) => match c.split(':').collect::<Vec<_>>().as_slice() {
                [_, offset, "0" | "1"] => match offset.parse::<usize>() {
                    Ok(o) => o,
                    Err(_) => return detail(400, "Invalid cursor parameter."),
                },
                _ => return detail(400, "Invalid cursor parameter."),
            },
        };
        let mut found: Vec<Issue> = self
            .lock()
            .issues
            .iter()
            .filter(|i| terms.iter().all(|t| t.matches(i)))
            .filter(|i| {
                envs.is_empty() || i.environment.as_deref().is_none_or(|e| envs.contains(&e))
            })
            .cloned()
            .collect();
        match one("sort").unwrap_or("date") {
            "new" => found.sort_by_key(|i| std::cmp::Reverse((i.first_seen, i.id))),
            "date" => found.sort_by_key(|i| std::cmp::Reverse((i.last_seen, i.id))),
            "freq" => found.sort_by_key(|i| std::cmp::Reverse((i.count.parse::<u64>().ok(), i.id))),
            "user" => found.sort_by_key(|i| std::cmp::Reverse((i.user_count, i.id))),
            other => return detail(400, &format!("Invalid sort: {other}")),
        }
        let page: Vec<Json> = found
            .iter()
            .skip(offset)
            .take(limit)
            .map(|i| self.issue_json(i))
            .collect();
        // As Sentry writes it: the request's own query without its cursor, then the cursor.
        let kept: Vec<&str> = raw_query
            .split('&')
            .filter(|p| !p.is_empty() && !p.starts_with("cursor="))
            .collect();
        let link = |rel: &str, results: bool, cursor: String| {
            format!(
                r#"<{}{path}?{}&cursor={cursor}>; rel="{rel}"; results="{results}"; cursor="{cursor}""#,
                self.url,
                kept.join("&")
            )
        };
        let link = format!(
            "{}, {}",
            link(
                "previous",
                offset > 0,
                format!("0:{}:1", offset.saturating_sub(limit))
            ),
            link(
                "next",
                offset + limit < found.len(),
                format!("0:{}:0", offset + limit)
            ),
        );
        body(Json::array(page), malformed).with("Link", link)
    }

    fn stats(&self, params: &[(String, String)], malformed: bool) -> Response {
        let one = |name: &str| {
            let found = params.iter().find(|(k, _)| k == name);
            found.map(|(_, v)| v.as_str())
        };
        let stat = one("stat").unwrap_or("received");
        if !["received", "rejected", "blacklisted", "generated"].contains(&stat) {
            return detail(400, "Invalid stat");
        }
        let step: i64 = match one("resolution").unwrap_or("1h") {
            "10s" => 10,
            "1h" => 3600,
            "1d" => 86400,
            _ => return detail(400, "Invalid resolution"),
        };
        let secs = |name: &str| one(name).map(|v| v.parse::<f64>().map(|f| f as i64));
        let now = now_secs();
        let until = match secs("until") {
            None => now,
            Some(Ok(t)) => t,
            Some(Err(_)) => return detail(400, "Invalid until"),
        };
        let since = match secs("since") {
            None => until - 86400,
            Some(Ok(t)) => t,
            Some(Err(_)) => return detail(400, "Invalid since"),
        };
        if since > until || (until - since) / step > 10_000 {
            return detail(400, "Query range too large for this resolution");
        }
        let start = since.div_euclid(step) * step;
        let mut buckets: Vec<(i64, u64)> = (0..)
            .map(|n| start + n * step)
            .take_while(|t| *t <= until)
            .map(|t| (t, 0))
            .collect();
        let mut add = |t: i64, n: u64| {
            let b = t.div_euclid(step) * step;
            if let Some(slot) = buckets.iter_mut().find(|(ts, _)| *ts == b) {
                slot.1 += n;
            }
        };
        if stat == "received" {
            for &(minute, n) in &self.cfg.events {
                if step == 10 {
                    // Six buckets a minute, the remainder in the first ones.
                    for k in 0..6u64 {
                        add(minute + 10 * k as i64, n / 6 + u64::from(k < n % 6));
                    }
                } else {
                    add(minute, n);
                }
            }
        }
        body(json!(buckets).to_string(), malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_dates_are_read_in_the_forms_sentry_takes() {
        let noon = Some(1_441_886_400);
        assert_eq!(parse_iso("2015-09-10"), Some(1_441_843_200));
        assert_eq!(parse_iso("2015-09-10T12:00:00Z"), noon);
        assert_eq!(parse_iso("2015-09-10T12:00:00.250Z"), noon);
        assert_eq!(parse_iso("2015-09-10T14:00:00+02:00"), noon);
        assert_eq!(parse_iso("2015-09-10T10:30:00-01:30"), noon);
        // Naive: UTC.
        assert_eq!(parse_iso("2015-09-10T12:00:00"), noon);
        assert_eq!(parse_iso("2015-09-10T12:00:00.5"), noon);
        for bad in ["2015-09-10T12:00", "2015-13-01", "2015-09-10T", "today", ""] {
            assert_eq!(parse_iso(bad), None, "{bad}");
        }
    }

    #[test]
    fn times_are_written_in_utc_to_the_second() {
        assert_eq!(iso(1_441_893_787), "2015-09-10T14:03:07Z");
        assert_eq!(iso(-5), "1969-12-31T23:59:55Z");
        assert_eq!(parse_iso(&iso(1_441_893_787)), Some(1_441_893_787));
    }
}
