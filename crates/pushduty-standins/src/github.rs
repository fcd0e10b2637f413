//! A GitHub stand-in: the Actions workflow dispatch, the runs list, a run and its jobs, and a
//! repo's issues filtered by label and state (pull requests mixed in, as GitHub lists them,
//! and paged with `Link` headers), as SERVICES.md documents them, failures included. Stateful
//! and driven by the clock: a dispatched run shows in the list after `list_ms`, waits
//! `queued_ms`, then its jobs run one after another over `run_ms`.

use super::Server;
use std::io::Write;
use std::net::TcpStream;
use std::sync::atomic::AtomicBool;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::jenkins::{Request, hang, js, reason};

#[derive(Clone, Debug)]
pub struct Config {
    /// The loopback port to listen on; 0 (or a taken one): any free port.
    pub port: u16,
    /// `owner/name`.
    pub repo: String,
    /// The workflow file the stand-in knows; others answer 404.
    pub workflow: String,
    pub token: String,
    /// Whether the workflow has a `workflow_dispatch` trigger; without one a dispatch is 422.
    pub dispatchable: bool,
    pub list_ms: u64,
    pub queued_ms: u64,
    pub run_ms: u64,
    /// success, failure, cancelled, timed_out.
    pub conclusion: String,
    /// Jobs with their steps, run in order. When the run does not succeed, the last job's
    /// second step (or its only one) ends with the conclusion and the steps after are skipped.
    pub jobs: Vec<(String, Vec<String>)>,
    /// Issues and pull requests of any repo; a repo with none (other than `repo`) is 404.
    pub issues: Vec<Issue>,
    /// The most issues a page holds whatever `per_page` asks (GitHub's is 100): small, it
    /// makes the client follow several pages.
    pub max_per_page: usize,
}

/// An issue, or a pull request (GitHub's issues API lists both).
#[derive(Clone, Debug)]
pub struct Issue {
    /// `owner/name`.
    pub repo: String,
    pub number: u64,
    pub title: String,
    pub labels: Vec<String>,
    /// `open` or `closed`.
    pub state: String,
    pub pull_request: bool,
}

impl Issue {
    pub fn open(repo: &str, number: u64, title: &str, labels: &[&str]) -> Self {
        Self {
            repo: repo.into(),
            number,
            title: title.into(),
            labels: labels.iter().map(|l| l.to_string()).collect(),
            state: "open".into(),
            pull_request: false,
        }
    }

    pub fn closed(mut self) -> Self {
        self.state = "closed".into();
        self
    }

    pub fn pull(mut self) -> Self {
        self.pull_request = true;
        self
    }

    /// The page GitHub links to.
    pub fn html_url(&self) -> String {
        let kind = if self.pull_request { "pull" } else { "issues" };
        format!("https://github.com/{}/{kind}/{}", self.repo, self.number)
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            port: 0,
            repo: "mozilla/addons-server".into(),
            workflow: "deploy-stage.yml".into(),
            token: "ghp_s3cret".into(),
            dispatchable: true,
            list_ms: 300,
            queued_ms: 200,
            run_ms: 1500,
            conclusion: "success".into(),
            jobs: vec![
                (
                    "build".into(),
                    vec!["Set up job".into(), "Build image".into()],
                ),
                (
                    "deploy".into(),
                    vec!["Set up job".into(), "Migrate".into(), "Switch".into()],
                ),
            ],
            issues: Vec::new(),
            max_per_page: 100,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Fault {
    #[default]
    None,
    /// Dispatches answer this status and start nothing.
    DispatchStatus(u16),
    /// Every request answers 403 with a spent rate limit.
    RateLimit,
    /// Every request answers 429 with `retry-after` (GitHub's secondary limit).
    SecondaryRateLimit,
    /// Requests are read and never answered.
    Hang,
    /// JSON answers are cut in half.
    MalformedJson,
}

pub struct Github {
    server: Server<Shared>,
}

struct Shared {
    cfg: Config,
    url: String,
    /// The same moment on both clocks, to turn instants into wall-clock times.
    started: (Instant, u64),
    stop: AtomicBool,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    fault: Fault,
    requests: Vec<String>,
    dispatches: Vec<Dispatch>,
    releases: Vec<Release>,
}

/// One release of the repo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Release {
    pub id: u64,
    pub tag_name: String,
    pub name: String,
    pub body: String,
    pub draft: bool,
}

/// One accepted dispatch.
struct Dispatch {
    at: Instant,
    /// The JSON body as sent.
    body: String,
    headers: Vec<(String, String)>,
}

impl Github {
    /// On a free loopback port; for tests, where a stand-in that cannot start ends the test.
    #[cfg(any(test, feature = "testing"))]
    pub fn start(cfg: Config) -> Self {
        super::started("GitHub", Self::try_start(cfg))
    }

    /// On a free loopback port.
    pub fn try_start(cfg: Config) -> std::io::Result<Self> {
        let port = cfg.port;
        let wall_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        Server::start_http(
            port,
            |url| Shared {
                cfg,
                url: url.to_string(),
                started: (Instant::now(), wall_ms),
                stop: AtomicBool::new(false),
                state: Mutex::new(State::default()),
            },
            |s| &s.stop,
            serve,
        )
        .map(|server| Self { server })
    }

    /// The API base, "http://127.0.0.1:PORT".
    pub fn url(&self) -> &str {
        &self.server.url
    }

    pub fn dispatches(&self) -> usize {
        self.server.shared.lock().dispatches.len()
    }

    /// The JSON body of accepted dispatch `n`, from 0.
    pub fn dispatch_body(&self, n: usize) -> String {
        self.server.shared.lock().dispatches[n].body.clone()
    }

    /// A header of accepted dispatch `n`.
    pub fn dispatch_header(&self, n: usize, name: &str) -> Option<String> {
        let st = self.server.shared.lock();
        super::jenkins::header(&st.dispatches[n].headers, name).map(str::to_string)
    }

    /// "METHOD TARGET" of every request read, in order.
    pub fn requests(&self) -> Vec<String> {
        self.server.shared.lock().requests.clone()
    }

    pub fn set_fault(&self, fault: Fault) {
        self.server.shared.lock().fault = fault;
    }

    /// The repo's releases, oldest first.
    pub fn releases(&self) -> Vec<Release> {
        self.server.shared.lock().releases.clone()
    }

    /// Adds a release, as someone using the web page would.
    pub fn add_release(&self, tag: &str, body: &str, draft: bool) {
        let mut st = self.server.shared.lock();
        let id = 500 + st.releases.len() as u64;
        st.releases.push(Release {
            id,
            tag_name: tag.into(),
            name: tag.into(),
            body: body.into(),
            draft,
        });
    }

    /// The web link of release `id`, as the API gives it.
    pub fn release_url(&self, r: &Release) -> String {
        self.server.shared.release_html(r)
    }

    /// The web link of run `n` (from 0), as the API gives it.
    pub fn run_url(&self, n: usize) -> String {
        self.server.shared.html_url(run_id(n))
    }
}

fn run_id(n: usize) -> u64 {
    9000 + n as u64
}

fn serve(sh: &Shared, req: Request, mut stream: TcpStream) {
    let fault = {
        let mut st = sh.lock();
        st.requests.push(format!("{} {}", req.method, req.target));
        st.fault
    };
    if fault == Fault::Hang {
        hang(&sh.stop, &mut stream);
        return;
    }
    let (status, headers, mut body) = sh.route(&req, fault);
    if fault == Fault::MalformedJson && status == 200 {
        body.truncate(body.len() / 2);
    }
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: application/json; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\nX-GitHub-Media-Type: github.v3\r\n",
        reason(status),
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body.as_bytes());
    let _ = stream.flush();
}

type Answer = (u16, Vec<(&'static str, String)>, String);

fn error(status: u16, message: &str) -> Answer {
    (
        status,
        Vec::new(),
        format!(
            r#"{{"message":"{message}","documentation_url":"https://docs.github.com/rest","status":"{status}"}}"#
        ),
    )
}

/// Where a job or step is in its slot of the timeline.
fn phase(now: Instant, start: Instant, end: Instant) -> &'static str {
    if now < start {
        "queued"
    } else if now < end {
        "in_progress"
    } else {
        "completed"
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        super::lock(&self.state)
    }

    fn html_url(&self, id: u64) -> String {
        format!("{}/{}/actions/runs/{id}", self.url, self.cfg.repo)
    }

    fn route(&self, req: &Request, fault: Fault) -> Answer {
        if fault == Fault::RateLimit {
            let reset = self.started.1 / 1000 + 600;
            let (status, _, body) = error(403, "API rate limit exceeded for user ID 1.");
            let headers = vec![
                ("x-ratelimit-limit", "5000".to_string()),
                ("x-ratelimit-remaining", "0".to_string()),
                ("x-ratelimit-reset", reset.to_string()),
            ];
            return (status, headers, body);
        }
        if fault == Fault::SecondaryRateLimit {
            let (_, _, body) = error(429, "You have exceeded a secondary rate limit.");
            return (429, vec![("retry-after", "30".to_string())], body);
        }
        if req.header("authorization") != Some(format!("Bearer {}", self.cfg.token).as_str()) {
            return error(401, "Bad credentials");
        }
        let path = req.target.split('?').next().unwrap_or_default();
        if let Some(repo) = path
            .strip_prefix("/repos/")
            .and_then(|p| p.strip_suffix("/issues"))
            && req.method == "GET"
        {
            return self.issues(repo, req.target.split_once('?').map_or("", |(_, q)| q));
        }
        if let Some(rest) = path.strip_prefix(&format!("/repos/{}/releases", self.cfg.repo)) {
            return self.releases(req, rest);
        }
        let Some(rest) = path.strip_prefix(&format!("/repos/{}/actions/", self.cfg.repo)) else {
            return error(404, "Not Found");
        };
        let parts: Vec<&str> = rest.split('/').collect();
        match (req.method.as_str(), parts.as_slice()) {
            ("POST", ["workflows", wf, "dispatches"]) if *wf == self.cfg.workflow => {
                self.dispatch(req, fault)
            }
            ("GET", ["workflows", wf, "runs"]) if *wf == self.cfg.workflow => self.runs(),
            ("GET", ["runs", id]) => self.with_run(id, |n, now| self.run_json(n, now)),
            ("GET", ["runs", id, "jobs"]) => self.with_run(id, |n, now| {
                format!(
                    r#"{{"total_count":{},"jobs":[{}]}}"#,
                    self.cfg.jobs.len(),
                    self.jobs_json(n, now)
                )
            }),
            _ => error(404, "Not Found"),
        }
    }

    /// `GET /repos/{o}/{r}/issues`: `labels` (comma-separated, all required), `state`
    /// (open by default, closed, all), `per_page` (30 by default, at most 100) and `page`;
    /// newest first; a `Link` header names the next and last pages.
    fn issues(&self, repo: &str, query: &str) -> Answer {
        let known = repo == self.cfg.repo || self.cfg.issues.iter().any(|i| i.repo == repo);
        if !known {
            return error(404, "Not Found");
        }
        let param = |name: &str| {
            query
                .split('&')
                .filter_map(|kv| kv.split_once('='))
                .find(|(k, _)| *k == name)
                .map(|(_, v)| decode(v))
        };
        let labels: Vec<String> = param("labels")
            .map(|l| l.split(',').map(str::to_string).collect())
            .unwrap_or_default();
        let state = param("state").unwrap_or_else(|| "open".into());
        let per_page: usize = param("per_page")
            .and_then(|p| p.parse().ok())
            .unwrap_or(30)
            .clamp(1, self.cfg.max_per_page.max(1));
        let page: usize = param("page")
            .and_then(|p| p.parse().ok())
            .unwrap_or(1)
            .max(1);
        let mut matching: Vec<&Issue> = self
            .cfg
            .issues
            .iter()
            .filter(|i| i.repo == repo)
            .filter(|i| state == "all" || i.state == state)
            .filter(|i| labels.iter().all(|l| i.labels.contains(l)))
            .collect();
        matching.sort_by_key(|i| std::cmp::Reverse(i.number));
        let last = matching.len().div_ceil(per_page).max(1);
        let items: Vec<String> = matching
            .iter()
            .skip((page - 1) * per_page)
            .take(per_page)
            .map(|i| self.issue_json(i))
            .collect();
        let mut headers = Vec::new();
        if page < last {
            let link = |p: usize| {
                format!(
                    "{}/repos/{repo}/issues?labels={}&state={state}&per_page={per_page}&page={p}",
                    self.url,
                    labels.join(",")
                )
            };
            headers.push((
                "link",
                format!(
                    r#"<{}>; rel="next", <{}>; rel="last""#,
                    link(page + 1),
                    link(last)
                ),
            ));
        }
        (200, headers, format!("[{}]", items.join(",")))
    }

    fn issue_json(&self, i: &Issue) -> String {
        let labels: Vec<String> = i
            .labels
            .iter()
            .map(|l| format!(r#"{{"name":{}}}"#, json_string(l)))
            .collect();
        let api = format!("{}/repos/{}/issues/{}", self.url, i.repo, i.number);
        let pull = if i.pull_request {
            format!(
                r#","pull_request":{{"url":"{}/repos/{}/pulls/{}","html_url":"{}"}}"#,
                self.url,
                i.repo,
                i.number,
                i.html_url()
            )
        } else {
            String::new()
        };
        format!(
            r#"{{"url":"{api}","html_url":"{}","number":{},"title":{},"state":"{}","labels":[{}],"user":{{"login":"qa"}},"comments":0{pull}}}"#,
            i.html_url(),
            i.number,
            json_string(&i.title),
            i.state,
            labels.join(",")
        )
    }

    fn release_html(&self, r: &Release) -> String {
        if r.draft {
            format!(
                "{}/{}/releases/tag/untagged-{}",
                self.url, self.cfg.repo, r.id
            )
        } else {
            format!("{}/{}/releases/tag/{}", self.url, self.cfg.repo, r.tag_name)
        }
    }

    fn release_json(&self, r: &Release) -> String {
        format!(
            r#"{{"id":{},"tag_name":{},"name":{},"body":{},"draft":{},"prerelease":false,"html_url":{}}}"#,
            r.id,
            js(&r.tag_name),
            js(&r.name),
            js(&r.body),
            r.draft,
            js(&self.release_html(r))
        )
    }

    /// The releases endpoints: list, by tag (published only, as GitHub: a draft's tag is
    /// not attached yet), create, update.
    fn releases(&self, req: &Request, rest: &str) -> Answer {
        let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap_or_default();
        let text = |k: &str| body[k].as_str().map(str::to_string);
        let mut st = self.lock();
        match (req.method.as_str(), rest) {
            ("GET", "") => {
                let all: Vec<String> = st
                    .releases
                    .iter()
                    .rev()
                    .map(|r| self.release_json(r))
                    .collect();
                (200, Vec::new(), format!("[{}]", all.join(",")))
            }
            ("GET", tag) if tag.starts_with("/tags/") => {
                let tag = &tag["/tags/".len()..];
                match st.releases.iter().find(|r| r.tag_name == tag && !r.draft) {
                    Some(r) => (200, Vec::new(), self.release_json(r)),
                    None => error(404, "Not Found"),
                }
            }
            ("POST", "") => {
                let Some(tag) = text("tag_name") else {
                    return error(422, "Validation Failed");
                };
                if st.releases.iter().any(|r| r.tag_name == tag && !r.draft) {
                    return error(422, "Validation Failed: tag_name already_exists");
                }
                let r = Release {
                    id: 500 + st.releases.len() as u64,
                    name: text("name").unwrap_or_else(|| tag.clone()),
                    tag_name: tag,
                    body: text("body").unwrap_or_default(),
                    draft: body["draft"].as_bool().unwrap_or(false),
                };
                let json = self.release_json(&r);
                st.releases.push(r);
                (201, Vec::new(), json)
            }
            ("PATCH", id) => {
                let id: Option<u64> = id.trim_start_matches('/').parse().ok();
                let Some(r) = st.releases.iter_mut().find(|r| Some(r.id) == id) else {
                    return error(404, "Not Found");
                };
                if let Some(b) = text("body") {
                    r.body = b;
                }
                if let Some(n) = text("name") {
                    r.name = n;
                }
                let r = r.clone();
                (200, Vec::new(), self.release_json(&r))
            }
            _ => error(404, "Not Found"),
        }
    }

    fn dispatch(&self, req: &Request, fault: Fault) -> Answer {
        if let Fault::DispatchStatus(status) = fault {
            return error(status, "stand-in fault");
        }
        if !self.cfg.dispatchable {
            return error(422, "Workflow does not have 'workflow_dispatch' trigger");
        }
        let body = String::from_utf8_lossy(&req.body).into_owned();
        self.lock().dispatches.push(Dispatch {
            at: Instant::now(),
            body,
            headers: req.headers.clone(),
        });
        (204, Vec::new(), String::new())
    }

    fn runs(&self) -> Answer {
        let now = Instant::now();
        let count = self.lock().dispatches.len();
        let listed: Vec<String> = (0..count)
            .rev()
            .filter(|&n| self.dispatched(n) + ms(self.cfg.list_ms) <= now)
            .map(|n| self.run_json(n, now))
            .collect();
        (
            200,
            Vec::new(),
            format!(
                r#"{{"total_count":{},"workflow_runs":[{}]}}"#,
                listed.len(),
                listed.join(",")
            ),
        )
    }

    fn with_run(&self, id: &str, body: impl Fn(usize, Instant) -> String) -> Answer {
        let count = self.lock().dispatches.len();
        match (0..count).find(|&n| id.parse() == Ok(run_id(n))) {
            Some(n) => (200, Vec::new(), body(n, Instant::now())),
            None => error(404, "Not Found"),
        }
    }

    fn dispatched(&self, n: usize) -> Instant {
        self.lock().dispatches[n].at
    }

    /// The run's start and end, and each job's slot within it.
    fn timeline(&self, n: usize) -> (Instant, Instant, Vec<(Instant, Instant)>) {
        let start = self.dispatched(n) + ms(self.cfg.queued_ms);
        let slot = self.cfg.run_ms / self.cfg.jobs.len().max(1) as u64;
        let jobs = (0..self.cfg.jobs.len() as u64)
            .map(|i| (start + ms(slot * i), start + ms(slot * (i + 1))))
            .collect();
        (start, start + ms(self.cfg.run_ms), jobs)
    }

    fn run_json(&self, n: usize, now: Instant) -> String {
        let (start, end, _) = self.timeline(n);
        let status = phase(now, start, end);
        let conclusion = match status {
            "completed" => format!(r#""{}""#, self.cfg.conclusion),
            _ => "null".into(),
        };
        let id = run_id(n);
        format!(
            r#"{{"id":{id},"name":"Deploy stage","run_number":{},"event":"workflow_dispatch","head_branch":"main","status":"{status}","conclusion":{conclusion},"created_at":"{}","html_url":"{}","workflow_id":161335}}"#,
            40 + n,
            rfc3339(self.wall_secs(self.dispatched(n))),
            self.html_url(id),
        )
    }

    fn jobs_json(&self, n: usize, now: Instant) -> String {
        let (_, _, slots) = self.timeline(n);
        let failing = self.cfg.conclusion != "success";
        let last = self.cfg.jobs.len().saturating_sub(1);
        let mut jobs = Vec::new();
        for (j, ((name, steps), (start, end))) in self.cfg.jobs.iter().zip(slots).enumerate() {
            let bad_step = (failing && j == last).then(|| 1.min(steps.len().saturating_sub(1)));
            let each = (end - start) / steps.len().max(1) as u32;
            let mut out = Vec::new();
            for (i, step) in steps.iter().enumerate() {
                let from = start + each * i as u32;
                let status = phase(now, from, from + each);
                let conclusion = match (status, bad_step) {
                    ("completed", Some(b)) if i == b => self.cfg.conclusion.as_str(),
                    ("completed", Some(b)) if i > b => "skipped",
                    ("completed", _) => "success",
                    _ => "",
                };
                out.push(format!(
                    r#"{{"name":"{step}","status":"{status}","conclusion":{},"number":{}}}"#,
                    quoted(conclusion),
                    i + 1
                ));
            }
            let status = phase(now, start, end);
            let conclusion = match (status, bad_step) {
                ("completed", Some(_)) => self.cfg.conclusion.as_str(),
                ("completed", None) => "success",
                _ => "",
            };
            jobs.push(format!(
                r#"{{"id":{},"run_id":{},"name":"{name}","status":"{status}","conclusion":{},"html_url":"{}/job/{j}","steps":[{}]}}"#,
                run_id(n) * 10 + j as u64,
                run_id(n),
                quoted(conclusion),
                self.html_url(run_id(n)),
                out.join(",")
            ));
        }
        jobs.join(",")
    }

    fn wall_secs(&self, at: Instant) -> u64 {
        (self.started.1 + at.saturating_duration_since(self.started.0).as_millis() as u64) / 1000
    }
}

/// A query value with `%XX` escapes and `+` decoded.
fn decode(v: &str) -> String {
    let bytes = v.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => out.push(b),
                    Err(_) => out.extend_from_slice(&bytes[i..i + 3]),
                }
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn json_string(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

fn ms(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

fn quoted(s: &str) -> String {
    if s.is_empty() {
        "null".into()
    } else {
        format!(r#""{s}""#)
    }
}

/// Epoch seconds as GitHub writes times: `2015-09-10T14:03:07Z`.
pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
