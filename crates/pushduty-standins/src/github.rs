//! A GitHub stand-in: the Actions workflow dispatch, the runs list, a run and its jobs, and a
//! repo's issues filtered by label and state (pull requests mixed in, as GitHub lists them,
//! and paged with `Link` headers), as SERVICES.md documents them, failures included. Stateful
//! and driven by the clock: a dispatched run shows in the list after `list_ms`, waits
//! `queued_ms`, then its jobs run one after another over `run_ms`. As on GitHub, a run carries
//! its ref and title but not the inputs it was dispatched with.

use crate::http::{Conn, Json, Request, Response, ToJson, form, object};
use crate::{Clock, Server};
use serde_json::json;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
pub struct Config {
    /// The loopback port to listen on; 0 (or a taken one): any free port.
    pub port: u16,
    /// `owner/name`.
    pub repo: String,
    /// More repos (`owner/name`) whose releases and commits it serves, as `repo`'s.
    pub also: Vec<String>,
    /// The workflow file the stand-in knows; others answer 404.
    pub workflow: String,
    pub token: String,
    /// Whether the workflow has a `workflow_dispatch` trigger; without one a dispatch is 422.
    pub dispatchable: bool,
    /// Whether the token may write to the repos (`permissions.push` of `GET /repos/{o}/{r}`).
    pub push: bool,
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
    /// The workflow's `run-name`, its runs' title: `${{ inputs.NAME }}` in it is the value
    /// dispatched for input NAME. `None`: runs are titled with the workflow's name.
    pub run_name: Option<String>,
}

/// The workflow's name, which titles its runs when it sets no `run-name`.
const WORKFLOW_NAME: &str = "Deploy stage";

/// The commit every run runs on.
const HEAD_SHA: &str = "6dcb09b5b57875f334f61aebed695e2e4193db5e";

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
            also: Vec::new(),
            workflow: "deploy-stage.yml".into(),
            token: "ghp_s3cret".into(),
            dispatchable: true,
            push: true,
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
            run_name: None,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Fault {
    #[default]
    None,
    /// Dispatches answer this status and start nothing (a 429 with `retry-after: 60`).
    DispatchStatus(u16),
    /// Dispatches answer 307 to the same call under the repo's new name, as GitHub answers
    /// for a renamed repo, and start nothing.
    DispatchMoved,
    /// Every GET answers this status (a GitHub having trouble: 502).
    ReadStatus(u16),
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
    clock: Clock,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    fault: Fault,
    /// How long a dispatch waits after starting its run before it answers.
    dispatch_delay: Duration,
    requests: Vec<String>,
    dispatches: Vec<Dispatch>,
    releases: Vec<Release>,
    /// Branches moved by the test, as (repo, name, sha); others are at [`HEAD_SHA`].
    branches: Vec<Ref>,
    /// The tags each repo has, as (repo, name, sha): told by the test, or made by publishing.
    tags: Vec<Ref>,
    /// Releases published so far: the next publish's place in that order.
    published: u64,
    /// Someone else drafts the release of the next create's tag just before it arrives.
    beaten_to_release: bool,
    /// Where the repos' refs are read from before each request, if anywhere.
    follow: Option<Arc<RefReader>>,
}

impl State {
    fn set_branch(&mut self, repo: &str, name: &str, sha: &str) {
        let other = |(r, n, _): &Ref| (r.as_str(), n.as_str()) != (repo, name);
        self.branches.retain(other);
        self.branches.push((repo.into(), name.into(), sha.into()));
    }

    /// The repo's git is the truth: a tag the stand-in had elsewhere (made by a publish that
    /// came first) moves there, with its release.
    fn set_tag(&mut self, repo: &str, name: &str, sha: &str) {
        let other = |(r, n, _): &Ref| (r.as_str(), n.as_str()) != (repo, name);
        self.tags.retain(other);
        self.tags.push((repo.into(), name.into(), sha.into()));
        for r in self.releases.iter_mut() {
            if let (true, Some((at, _))) = (r.repo == repo && r.tag_name == name, &mut r.published)
            {
                *at = sha.into();
            }
        }
    }
}

/// A branch or tag of a repo: (repo, name, commit).
type Ref = (String, String, String);

/// The refs of a repo (`owner/name`) as its git has them: (`refs/heads/NAME` or
/// `refs/tags/NAME`, commit).
pub type Follow = Box<RefReader>;
type RefReader = dyn Fn(&str) -> Vec<(String, String)> + Send + Sync;

/// One release of the repo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Release {
    /// `owner/name`.
    pub repo: String,
    pub id: u64,
    pub tag_name: String,
    pub name: String,
    pub body: String,
    pub draft: bool,
    /// The branch or commit its tag is made at when it is published.
    pub target_commitish: String,
    /// Each time it was asked to be published (`draft: false`), even when it already was.
    pub publishes: u32,
    /// The commit its tag names, once published; and its place among the publishes.
    pub published: Option<(String, u64)>,
}

/// One accepted dispatch.
struct Dispatch {
    at: Instant,
    /// The ref it runs on.
    git_ref: String,
    /// Its run's title.
    title: String,
    /// The request as sent, for the tests' readers.
    #[cfg_attr(not(any(test, feature = "testing")), allow(dead_code))]
    sent: Request,
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
        Server::start_http(
            port,
            |url| Shared {
                cfg,
                url: url.to_string(),
                clock: Clock::now(),
                state: Mutex::new(State::default()),
            },
            serve,
        )
        .map(|server| Self { server })
    }

    /// The API base, "http://127.0.0.1:PORT".
    pub fn url(&self) -> &str {
        &self.server.url
    }

    /// Plays `fault` on every request instead of the API, whatever it is asked (see
    /// [`crate::http::WireFault`]); `WireFault::None` ends it.
    pub fn set_wire_fault(&self, fault: crate::http::WireFault) {
        self.server.set_wire_fault(fault);
    }

    /// Runs started so far: one per accepted dispatch.
    pub fn dispatches(&self) -> usize {
        self.server.shared.lock().dispatches.len()
    }

    /// Makes each dispatch wait this long between starting its run and answering: the moment
    /// a client may die holding a run it has not heard of.
    pub fn set_dispatch_delay(&self, delay: Duration) {
        self.server.shared.lock().dispatch_delay = delay;
    }

    /// The JSON body of accepted dispatch `n`, from 0.
    #[cfg(any(test, feature = "testing"))]
    pub fn dispatch_body(&self, n: usize) -> String {
        self.with_dispatch(n, |d| String::from_utf8_lossy(&d.sent.body).into_owned())
    }

    /// A header of accepted dispatch `n`.
    #[cfg(any(test, feature = "testing"))]
    pub fn dispatch_header(&self, n: usize, name: &str) -> Option<String> {
        self.with_dispatch(n, |d| d.sent.header(name).map(str::to_string))
    }

    /// What `read` makes of accepted dispatch `n`; a test asking for one never made ends.
    #[cfg(any(test, feature = "testing"))]
    fn with_dispatch<T>(&self, n: usize, read: impl FnOnce(&Dispatch) -> T) -> T {
        let st = self.server.shared.lock();
        match st.dispatches.get(n) {
            Some(d) => read(d),
            None => panic!("dispatch {n} asked for, {} accepted", st.dispatches.len()),
        }
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

    /// Adds a release of the main repo, as someone using the web page would.
    pub fn add_release(&self, tag: &str, body: &str, draft: bool) {
        let repo = self.server.shared.cfg.repo.clone();
        self.add_release_of(&repo, tag, body, draft);
    }

    /// Adds a release of `repo` (one it serves) at master, as someone using the web page would.
    pub fn add_release_of(&self, repo: &str, tag: &str, body: &str, draft: bool) {
        let mut st = self.server.shared.lock();
        let id = 500 + st.releases.len() as u64;
        st.releases.push(Release::new(repo, id, tag, body, draft));
    }

    /// The tag last published of `repo`: what its CI deployed last.
    pub fn last_published(&self, repo: &str) -> Option<String> {
        let st = self.server.shared.lock();
        st.releases
            .iter()
            .filter(|r| r.repo == repo)
            .filter_map(|r| r.published.as_ref().map(|(_, n)| (n, &r.tag_name)))
            .max()
            .map(|(_, tag)| tag.clone())
    }

    /// Edits release `id`'s body, as someone on the web page would.
    pub fn edit_release(&self, id: u64, body: &str) {
        let mut st = self.server.shared.lock();
        if let Some(r) = st.releases.iter_mut().find(|r| r.id == id) {
            r.body = body.into();
        }
    }

    /// Makes tag `name` of the main repo at `sha`, as pushing the tag would.
    pub fn set_tag(&self, name: &str, sha: &str) {
        let repo = self.server.shared.cfg.repo.clone();
        self.set_tag_of(&repo, name, sha);
    }

    /// The commit tag `name` of the main repo names, if the repo has it.
    pub fn tag(&self, name: &str) -> Option<String> {
        let repo = self.server.shared.cfg.repo.clone();
        let tags = self.tags(&repo);
        tags.into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, sha)| sha)
    }

    /// Moves a branch of the main repo to `sha`, as a push would.
    pub fn set_branch(&self, name: &str, sha: &str) {
        let repo = self.server.shared.cfg.repo.clone();
        self.set_branch_of(&repo, name, sha);
    }

    /// Moves a branch of `repo` to `sha`, as a push would.
    pub fn set_branch_of(&self, repo: &str, name: &str, sha: &str) {
        self.server.shared.lock().set_branch(repo, name, sha);
    }

    /// Gives `repo` the tag `name` at `sha`, as a pushed tag would: the repo's git is the
    /// truth, so a tag the stand-in had elsewhere (a publish that came before this was
    /// told) moves there, with its release.
    pub fn set_tag_of(&self, repo: &str, name: &str, sha: &str) {
        self.server.shared.lock().set_tag(repo, name, sha);
    }

    /// Reads the branches and tags of each repo from `refs` (its git, where a test keeps it)
    /// before each request about that repo: what is pushed there is known at once.
    pub fn follow(&self, refs: Follow) {
        self.server.shared.lock().follow = Some(Arc::from(refs));
    }

    /// The tags of `repo` with their commits, as made or told, oldest first.
    pub fn tags(&self, repo: &str) -> Vec<(String, String)> {
        let st = self.server.shared.lock();
        st.tags
            .iter()
            .filter(|(r, _, _)| r == repo)
            .map(|(_, n, sha)| (n.clone(), sha.clone()))
            .collect()
    }

    /// Makes someone else draft the release of the next create's tag just before that
    /// create arrives: the create then meets GitHub's 422 `already_exists`.
    pub fn beat_to_next_release(&self) {
        self.server.shared.lock().beaten_to_release = true;
    }

    /// The releases and the tags they made or were told, for a rehearsal kept in a folder.
    pub fn snapshot(&self) -> serde_json::Value {
        let st = self.server.shared.lock();
        let releases: Vec<serde_json::Value> = st
            .releases
            .iter()
            .map(|r| {
                json!({
                    "repo": r.repo, "id": r.id, "tag_name": r.tag_name, "name": r.name,
                    "body": r.body, "draft": r.draft, "target_commitish": r.target_commitish,
                    "publishes": r.publishes,
                    "published": r.published.as_ref().map(|(sha, n)| json!([sha, n])),
                })
            })
            .collect();
        json!({ "releases": releases, "tags": st.tags, "published": st.published })
    }

    /// Takes up a [`Github::snapshot`]: its releases and tags replace this stand-in's.
    pub fn restore(&self, saved: &serde_json::Value) -> Result<(), String> {
        use crate::saved::{list, str_of, u64_of};
        let release = |r: &serde_json::Value| -> Result<Release, String> {
            let published = match &r["published"] {
                serde_json::Value::Null => None,
                p => match (p[0].as_str(), p[1].as_u64()) {
                    (Some(sha), Some(n)) => Some((sha.to_string(), n)),
                    _ => return Err("`published` is not [commit, number]".into()),
                },
            };
            Ok(Release {
                repo: str_of(r, "repo")?,
                id: u64_of(r, "id")?,
                tag_name: str_of(r, "tag_name")?,
                name: str_of(r, "name")?,
                body: str_of(r, "body")?,
                draft: r["draft"].as_bool().ok_or("`draft` is not true or false")?,
                target_commitish: str_of(r, "target_commitish")?,
                publishes: u64_of(r, "publishes")?
                    .try_into()
                    .map_err(|_| "`publishes` is too large")?,
                published,
            })
        };
        let tag = |t: &serde_json::Value| match t.as_array().map(Vec::as_slice) {
            Some([repo, name, sha]) => match (repo.as_str(), name.as_str(), sha.as_str()) {
                (Some(r), Some(n), Some(s)) => Ok((r.to_string(), n.to_string(), s.to_string())),
                _ => Err("a tag is not [repo, name, commit]".to_string()),
            },
            _ => Err("a tag is not [repo, name, commit]".to_string()),
        };
        let read = || -> Result<(Vec<Release>, Vec<Ref>, u64), String> {
            let releases = list(saved, "releases")?.iter().map(release);
            let tags = list(saved, "tags")?.iter().map(tag);
            Ok((
                releases.collect::<Result<_, _>>()?,
                tags.collect::<Result<_, _>>()?,
                u64_of(saved, "published")?,
            ))
        };
        let (releases, tags, published) = read().map_err(|e| format!("the GitHub state: {e}"))?;
        let mut st = self.server.shared.lock();
        st.releases = releases;
        st.tags = tags;
        st.published = published;
        Ok(())
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

impl Release {
    fn new(repo: &str, id: u64, tag: &str, body: &str, draft: bool) -> Self {
        Self {
            repo: repo.into(),
            id,
            tag_name: tag.into(),
            name: tag.into(),
            body: body.into(),
            draft,
            target_commitish: "master".into(),
            publishes: 0,
            published: None,
        }
    }
}

/// The commit `reference` names in `repo`: a branch (master and main are at [`HEAD_SHA`]
/// until moved), a tag, or a full commit id.
fn resolve(st: &State, repo: &str, reference: &str) -> Option<String> {
    let named = |refs: &[Ref]| {
        refs.iter()
            .find(|(r, n, _)| r == repo && n == reference)
            .map(|(_, _, sha)| sha.clone())
    };
    named(&st.branches)
        .or_else(|| named(&st.tags))
        .or_else(|| {
            ["master", "main"]
                .contains(&reference)
                .then(|| HEAD_SHA.into())
        })
        .or_else(|| {
            let full = reference.len() == 40 && reference.bytes().all(|b| b.is_ascii_hexdigit());
            full.then(|| reference.to_string())
        })
}

/// Publishes `r`: counted each time it is asked; the first time, its tag is made at its
/// target unless the repo has that tag already (a pushed `-N`), as GitHub does.
fn publish(st: &mut State, r: &mut Release) {
    r.publishes += 1;
    if !r.draft {
        return;
    }
    r.draft = false;
    let existing = st
        .tags
        .iter()
        .find(|(repo, n, _)| *repo == r.repo && *n == r.tag_name)
        .map(|(_, _, sha)| sha.clone());
    let sha = existing
        .or_else(|| resolve(st, &r.repo, &r.target_commitish))
        .unwrap_or_else(|| r.target_commitish.clone());
    if !st
        .tags
        .iter()
        .any(|(repo, n, _)| *repo == r.repo && *n == r.tag_name)
    {
        st.tags
            .push((r.repo.clone(), r.tag_name.clone(), sha.clone()));
    }
    st.published += 1;
    r.published = Some((sha, st.published));
}

fn run_id(n: usize) -> u64 {
    9000 + n as u64
}

fn serve(sh: &Shared, req: Request, mut conn: Conn) {
    let fault = {
        let mut st = sh.lock();
        st.requests.push(req.line());
        st.fault
    };
    if fault == Fault::Hang {
        return conn.hang();
    }
    let mut response = sh.route(&req, fault);
    if fault == Fault::MalformedJson && response.status == 200 {
        response = response.cut_in_half();
    }
    if req.method == "POST" && response.status == 204 {
        let delay = sh.lock().dispatch_delay;
        std::thread::sleep(delay);
    }
    conn.send(&response.headed("X-GitHub-Media-Type", "github.v3"));
}

/// A JSON answer: every GitHub answer says JSON, an empty 204 included.
fn answer(status: u16, body: impl Into<Vec<u8>>) -> Response {
    Response::new(status, "application/json; charset=utf-8", body)
}

/// GitHub's answer to a release for a tag that has one.
fn already_exists() -> Response {
    let body = object! {
        "message": "Validation Failed",
        "errors": Json::array([object! {
            "resource": "Release",
            "code": "already_exists",
            "field": "tag_name",
        }]),
        "documentation_url": "https://docs.github.com/rest/releases/releases#create-a-release",
        "status": "422",
    };
    answer(422, body)
}

fn error(status: u16, message: &str) -> Response {
    let body = object! {
        "message": message,
        "documentation_url": "https://docs.github.com/rest",
        "status": status.to_string(),
    };
    answer(status, body)
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

    /// Takes up the refs of `repo` from where it is followed, if it is.
    fn follow(&self, repo: &str) {
        let Some(read) = self.lock().follow.clone() else {
            return;
        };
        // Read outside the lock: it may take a moment.
        let refs = read(repo);
        let mut st = self.lock();
        for (name, sha) in refs {
            if let Some(branch) = name.strip_prefix("refs/heads/") {
                st.set_branch(repo, branch, &sha);
            } else if let Some(tag) = name.strip_prefix("refs/tags/") {
                st.set_tag(repo, tag, &sha);
            }
        }
    }

    /// The repos whose releases and commits it serves.
    fn served(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.cfg.repo.as_str()).chain(self.cfg.also.iter().map(String::as_str))
    }

    fn html_url(&self, id: u64) -> String {
        format!("{}/{}/actions/runs/{id}", self.url, self.cfg.repo)
    }

    fn route(&self, req: &Request, fault: Fault) -> Response {
        if fault == Fault::RateLimit {
            let reset = self.clock.wall.timestamp() + 600;
            return error(403, "API rate limit exceeded for user ID 1.")
                .with("x-ratelimit-limit", "5000")
                .with("x-ratelimit-remaining", "0")
                .with("x-ratelimit-reset", reset.to_string());
        }
        if fault == Fault::SecondaryRateLimit {
            return error(429, "You have exceeded a secondary rate limit.")
                .with("retry-after", "30");
        }
        if req.header("authorization") != Some(format!("Bearer {}", self.cfg.token).as_str()) {
            return error(401, "Bad credentials");
        }
        if let (Fault::ReadStatus(status), "GET") = (fault, req.method.as_str()) {
            return error(status, "stand-in fault");
        }
        let (path, query) = req.path_and_query();
        if let Some(repo) = path
            .strip_prefix("/repos/")
            .and_then(|p| p.strip_suffix("/issues"))
            && req.method == "GET"
        {
            return self.issues(repo, query);
        }
        if let Some(repo) = path.strip_prefix("/repos/")
            && repo.matches('/').count() == 1
            && req.method == "GET"
        {
            return self.repo(repo);
        }
        for repo in self.served() {
            if path.starts_with(&format!("/repos/{repo}/")) {
                self.follow(repo);
            }
            if let Some(rest) = path.strip_prefix(&format!("/repos/{repo}/releases")) {
                return self.releases(repo, req, rest);
            }
            if let Some(r) = path.strip_prefix(&format!("/repos/{repo}/commits/"))
                && req.method == "GET"
            {
                return self.commit(repo, r);
            }
            if let Some(tag) = path.strip_prefix(&format!("/repos/{repo}/git/ref/tags/"))
                && req.method == "GET"
            {
                return self.tag_ref(repo, tag);
            }
        }
        let Some(rest) = path.strip_prefix(&format!("/repos/{}/actions/", self.cfg.repo)) else {
            return error(404, "Not Found");
        };
        let parts: Vec<&str> = rest.split('/').collect();
        match (req.method.as_str(), parts.as_slice()) {
            ("POST", ["workflows", wf, "dispatches"]) if *wf == self.cfg.workflow => {
                self.dispatch(req, fault)
            }
            ("GET", ["workflows", wf]) if *wf == self.cfg.workflow => answer(
                200,
                object! {
                    "id": 161335,
                    "name": WORKFLOW_NAME,
                    "path": format!(".github/workflows/{wf}"),
                    "state": "active",
                },
            ),
            ("GET", ["workflows", wf, "runs"]) if *wf == self.cfg.workflow => self.runs(query),
            ("GET", ["runs", id]) => self.with_run(id, |n, now| self.run_json(n, now)),
            ("GET", ["runs", id, "jobs"]) => self.with_run(id, |n, now| {
                object! {"total_count": self.cfg.jobs.len(), "jobs": self.jobs_json(n, now)}
            }),
            _ => error(404, "Not Found"),
        }
    }

    /// `GET /repos/{o}/{r}`: the repo, with what the token may do in it; a repo the stand-in
    /// does not hold is 404, as GitHub answers a private one the token cannot see.
    fn repo(&self, repo: &str) -> Response {
        let known =
            self.served().any(|r| r == repo) || self.cfg.issues.iter().any(|i| i.repo == repo);
        if !known {
            return error(404, "Not Found");
        }
        let push = self.cfg.push;
        answer(
            200,
            object! {
                "full_name": repo,
                "private": false,
                "permissions": object! {
                    "admin": false,
                    "maintain": false,
                    "push": push,
                    "triage": push,
                    "pull": true,
                },
            },
        )
    }

    /// `GET /repos/{o}/{r}/issues`: `labels` (comma-separated, all required), `state`
    /// (open by default, closed, all), `per_page` (30 by default, at most 100) and `page`;
    /// newest first; a `Link` header names the next and last pages.
    fn issues(&self, repo: &str, query: &str) -> Response {
        let known =
            self.served().any(|r| r == repo) || self.cfg.issues.iter().any(|i| i.repo == repo);
        if !known {
            return error(404, "Not Found");
        }
        let params = form(query.as_bytes());
        let param = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v);
        let labels: Vec<&str> = param("labels")
            .map(|l| l.split(',').collect())
            .unwrap_or_default();
        let state = param("state").map_or("open", String::as_str);
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
            .filter(|i| labels.iter().all(|l| i.labels.iter().any(|have| have == l)))
            .collect();
        matching.sort_by_key(|i| std::cmp::Reverse(i.number));
        let last = matching.len().div_ceil(per_page).max(1);
        let items: Vec<Json> = matching
            .iter()
            .skip((page - 1) * per_page)
            .take(per_page)
            .map(|i| self.issue_json(i))
            .collect();
        let mut response = answer(200, Json::array(items));
        if page < last {
            let link = |p: usize| {
                format!(
                    "{}/repos/{repo}/issues?labels={}&state={state}&per_page={per_page}&page={p}",
                    self.url,
                    labels.join(",")
                )
            };
            response = response.with(
                "link",
                format!(
                    r#"<{}>; rel="next", <{}>; rel="last""#,
                    link(page + 1),
                    link(last)
                ),
            );
        }
        response
    }

    fn issue_json(&self, i: &Issue) -> Json {
        let labels: Vec<_> = i.labels.iter().map(|l| json!({"name": l})).collect();
        let api = format!("{}/repos/{}/issues/{}", self.url, i.repo, i.number);
        let mut fields = vec![
            ("url", api.to_json()),
            ("html_url", i.html_url().to_json()),
            ("number", i.number.to_json()),
            ("title", i.title.as_str().to_json()),
            ("state", i.state.as_str().to_json()),
            ("labels", json!(labels).to_json()),
            ("user", json!({"login": "qa"}).to_json()),
            ("comments", 0.to_json()),
        ];
        // Only a pull request has the field.
        if i.pull_request {
            let pull = object! {
                "url": format!("{}/repos/{}/pulls/{}", self.url, i.repo, i.number),
                "html_url": i.html_url(),
            };
            fields.push(("pull_request", pull));
        }
        Json::object(fields)
    }

    fn release_html(&self, r: &Release) -> String {
        if r.draft {
            format!("{}/{}/releases/tag/untagged-{}", self.url, r.repo, r.id)
        } else {
            format!("{}/{}/releases/tag/{}", self.url, r.repo, r.tag_name)
        }
    }

    fn release_json(&self, r: &Release) -> Json {
        object! {
            "id": r.id,
            "tag_name": &r.tag_name,
            "name": &r.name,
            "body": &r.body,
            "draft": r.draft,
            "prerelease": false,
            "html_url": self.release_html(r),
            "target_commitish": &r.target_commitish,
        }
    }

    /// `GET /repos/{o}/{r}/git/ref/tags/{tag}`: the tag's reference (a lightweight tag: its
    /// object is the commit), or 404.
    fn tag_ref(&self, repo: &str, tag: &str) -> Response {
        let st = self.lock();
        match st.tags.iter().find(|(r, n, _)| r == repo && n == tag) {
            Some((_, name, sha)) => answer(
                200,
                object! {
                    "ref": format!("refs/tags/{name}"),
                    "url": format!("{}/repos/{repo}/git/refs/tags/{name}", self.url),
                    "object": object! { "sha": sha.clone(), "type": "commit" },
                },
            ),
            None => error(404, "Not Found"),
        }
    }

    /// `GET /repos/{o}/{r}/commits/{ref}`: a branch's tip, a tag's commit or a full commit
    /// id; anything else 422, as GitHub answers.
    fn commit(&self, repo: &str, reference: &str) -> Response {
        match resolve(&self.lock(), repo, reference) {
            Some(sha) => answer(200, object! { "sha": sha }),
            None => error(422, &format!("No commit found for SHA: {reference}")),
        }
    }

    /// The releases endpoints: list (drafts only for a token that may push, as GitHub), by
    /// tag (published only, as GitHub: a draft's tag is not attached yet), one by id, create
    /// (422 `already_exists` for a tag that has a release), update and publish.
    fn releases(&self, repo: &str, req: &Request, rest: &str) -> Response {
        let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap_or_default();
        let text = |k: &str| body[k].as_str().map(str::to_string);
        let mut guard = self.lock();
        let st = &mut *guard;
        let mine = |r: &&Release| r.repo == repo;
        match (req.method.as_str(), rest) {
            ("GET", "") => {
                let seen = st.releases.iter().filter(mine).rev();
                let all = seen
                    .filter(|r| self.cfg.push || !r.draft)
                    .map(|r| self.release_json(r));
                answer(200, Json::array(all))
            }
            ("GET", tag) if tag.starts_with("/tags/") => {
                let tag = &tag["/tags/".len()..];
                match st
                    .releases
                    .iter()
                    .filter(mine)
                    .find(|r| r.tag_name == tag && !r.draft)
                {
                    Some(r) => answer(200, self.release_json(r)),
                    None => error(404, "Not Found"),
                }
            }
            ("POST", "") => {
                let Some(tag) = text("tag_name") else {
                    return error(422, "Validation Failed");
                };
                if std::mem::take(&mut st.beaten_to_release) {
                    let id = 500 + st.releases.len() as u64;
                    let theirs = Release::new(repo, id, &tag, "drafted by someone else", true);
                    st.releases.push(theirs);
                }
                if st.releases.iter().filter(mine).any(|r| r.tag_name == tag) {
                    return already_exists();
                }
                let id = 500 + st.releases.len() as u64;
                let draft = body["draft"].as_bool().unwrap_or(false);
                let mut r = Release::new(repo, id, &tag, &text("body").unwrap_or_default(), true);
                r.name = text("name").unwrap_or_else(|| tag.clone());
                if let Some(t) = text("target_commitish") {
                    r.target_commitish = t;
                }
                if !draft {
                    publish(st, &mut r);
                }
                let json = self.release_json(&r);
                st.releases.push(r);
                answer(201, json)
            }
            ("GET", id) => {
                let id: Option<u64> = id.trim_start_matches('/').parse().ok();
                match st.releases.iter().filter(mine).find(|r| Some(r.id) == id) {
                    Some(r) if self.cfg.push || !r.draft => answer(200, self.release_json(r)),
                    _ => error(404, "Not Found"),
                }
            }
            ("PATCH", id) => {
                let id: Option<u64> = id.trim_start_matches('/').parse().ok();
                let Some(at) = st
                    .releases
                    .iter()
                    .position(|r| r.repo == repo && Some(r.id) == id)
                else {
                    return error(404, "Not Found");
                };
                let mut r = st.releases[at].clone();
                if let Some(b) = text("body") {
                    r.body = b;
                }
                if let Some(n) = text("name") {
                    r.name = n;
                }
                if let Some(t) = text("target_commitish") {
                    r.target_commitish = t;
                }
                // Publishing a draft is one way: GitHub has made the tag by then, at the
                // draft's target unless the tag was there already.
                if body["draft"] == json!(false) {
                    publish(st, &mut r);
                }
                st.releases[at] = r.clone();
                answer(200, self.release_json(&r))
            }
            _ => error(404, "Not Found"),
        }
    }

    fn dispatch(&self, req: &Request, fault: Fault) -> Response {
        if let Fault::DispatchStatus(status) = fault {
            let refused = error(status, "stand-in fault");
            if status == 429 {
                return refused.with("retry-after", "60");
            }
            return refused;
        }
        if fault == Fault::DispatchMoved {
            let moved = format!(
                "{}/repos/{}-renamed/actions/workflows/{}/dispatches",
                self.url, self.cfg.repo, self.cfg.workflow
            );
            return error(307, "Temporary Redirect").with("location", moved);
        }
        if !self.cfg.dispatchable {
            return error(422, "Workflow does not have 'workflow_dispatch' trigger");
        }
        let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap_or_default();
        let Some(git_ref) = body["ref"].as_str() else {
            return error(422, "Invalid request.\n\n\"ref\" wasn't supplied.");
        };
        let title = match &self.cfg.run_name {
            Some(name) => expand_inputs(name, &body["inputs"]),
            None => WORKFLOW_NAME.to_string(),
        };
        self.lock().dispatches.push(Dispatch {
            at: Instant::now(),
            git_ref: git_ref.to_string(),
            title,
            sent: req.clone(),
        });
        answer(204, "")
    }

    /// `GET .../runs`: newest first, filtered by `event`, `branch`, `status` and `created`
    /// (`>=TIME` only), at most `per_page` (30 by default).
    fn runs(&self, query: &str) -> Response {
        let now = Instant::now();
        let params = form(query.as_bytes());
        let param = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let since = param("created")
            .and_then(|c| c.strip_prefix(">="))
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
        let per_page: usize = param("per_page").and_then(|p| p.parse().ok()).unwrap_or(30);
        let count = self.lock().dispatches.len();
        let branch_is = |n: usize, b: &str| self.lock().dispatches[n].git_ref == b;
        let matching: Vec<usize> = (0..count)
            .rev()
            .filter(|&n| self.dispatched(n) + ms(self.cfg.list_ms) <= now)
            .filter(|_| param("event").is_none_or(|e| e == "workflow_dispatch"))
            .filter(|&n| param("branch").is_none_or(|b| branch_is(n, b)))
            .filter(|&n| param("status").is_none_or(|s| s == self.status(n, now)))
            .filter(|&n| since.is_none_or(|t| self.created(n).timestamp() >= t.timestamp()))
            .collect();
        let listed: Vec<Json> = matching
            .iter()
            .take(per_page)
            .map(|&n| self.run_json(n, now))
            .collect();
        answer(
            200,
            object! {"total_count": matching.len(), "workflow_runs": listed},
        )
    }

    fn with_run(&self, id: &str, body: impl Fn(usize, Instant) -> Json) -> Response {
        let count = self.lock().dispatches.len();
        match (0..count).find(|&n| id.parse() == Ok(run_id(n))) {
            Some(n) => answer(200, body(n, Instant::now())),
            None => error(404, "Not Found"),
        }
    }

    fn dispatched(&self, n: usize) -> Instant {
        self.lock().dispatches[n].at
    }

    /// When run `n` was created, in whole seconds as GitHub writes it.
    fn created(&self, n: usize) -> chrono::DateTime<chrono::Utc> {
        let at = self.clock.wall(self.dispatched(n)).timestamp();
        chrono::DateTime::from_timestamp(at, 0).unwrap_or_default()
    }

    fn status(&self, n: usize, now: Instant) -> &'static str {
        let (start, end, _) = self.timeline(n);
        phase(now, start, end)
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

    fn run_json(&self, n: usize, now: Instant) -> Json {
        let status = self.status(n, now);
        let id = run_id(n);
        let (git_ref, title) = {
            let st = self.lock();
            let d = &st.dispatches[n];
            (d.git_ref.clone(), d.title.clone())
        };
        object! {
            "id": id,
            "name": WORKFLOW_NAME,
            "display_title": title,
            "run_number": 40 + n,
            "event": "workflow_dispatch",
            "head_branch": git_ref,
            "head_sha": HEAD_SHA,
            "path": format!(".github/workflows/{}", self.cfg.workflow),
            "status": status,
            "conclusion": (status == "completed").then_some(&self.cfg.conclusion),
            "created_at": crate::rfc3339(self.created(n).timestamp()),
            "html_url": self.html_url(id),
            "workflow_id": 161335,
        }
    }

    fn jobs_json(&self, n: usize, now: Instant) -> Vec<Json> {
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
                    ("completed", Some(b)) if i == b => Some(self.cfg.conclusion.as_str()),
                    ("completed", Some(b)) if i > b => Some("skipped"),
                    ("completed", _) => Some("success"),
                    _ => None,
                };
                out.push(object! {
                    "name": step,
                    "status": status,
                    "conclusion": conclusion,
                    "number": i + 1,
                });
            }
            let status = phase(now, start, end);
            let conclusion = match (status, bad_step) {
                ("completed", Some(_)) => Some(self.cfg.conclusion.as_str()),
                ("completed", None) => Some("success"),
                _ => None,
            };
            jobs.push(object! {
                "id": run_id(n) * 10 + j as u64,
                "run_id": run_id(n),
                "name": name,
                "status": status,
                "conclusion": conclusion,
                "html_url": format!("{}/job/{j}", self.html_url(run_id(n))),
                "steps": out,
            });
        }
        jobs
    }
}

fn ms(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

/// A `run-name` with each `${{ inputs.NAME }}` replaced by the input's value, as GitHub
/// writes a run's title.
fn expand_inputs(template: &str, inputs: &serde_json::Value) -> String {
    let mut out = template.to_string();
    if let Some(inputs) = inputs.as_object() {
        for (k, v) in inputs {
            let value = v.as_str().map_or_else(|| v.to_string(), str::to_string);
            out = out.replace(&format!("${{{{ inputs.{k} }}}}"), &value);
        }
    }
    out
}

/// Epoch seconds as GitHub writes times: `2015-09-10T14:03:07Z`.
pub fn rfc3339(secs: u64) -> String {
    crate::rfc3339(i64::try_from(secs).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{call, get};
    use serde_json::Value;

    const AUTH: (&str, &str) = ("Authorization", "Bearer ghp_s3cret");

    fn json(url: &str) -> Value {
        let (status, body) = get(url, &[AUTH]);
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: not JSON: {body}"))
    }

    #[test]
    fn an_issue_title_with_quotes_backslashes_and_control_characters_comes_back_whole() {
        let title = "Crash on \"Save\" in C:\\addons\\x\nsecond line\tand a bell \u{7} \u{1f}";
        let label = "needs \"qa\"\\";
        let github = Github::start(Config {
            issues: vec![Issue::open("mozilla/addons-server", 7, title, &[label])],
            ..Config::default()
        });
        let issues = json(&format!(
            "{}/repos/mozilla/addons-server/issues?state=all",
            github.url()
        ));
        assert_eq!(issues[0]["title"], title);
        assert_eq!(issues[0]["labels"][0]["name"], label);
        assert_eq!(issues[0]["number"], 7);
    }

    #[test]
    fn each_repo_has_its_releases_and_publishing_makes_the_tag_unless_it_was_pushed() {
        let github = Github::start(Config {
            also: vec!["mozilla/addons-frontend".into()],
            ..Config::default()
        });
        let (server, frontend) = ("mozilla/addons-server", "mozilla/addons-frontend");
        let tip = "1111111111111111111111111111111111111111";
        let picked = "2222222222222222222222222222222222222222";
        github.set_branch_of(server, "master", tip);
        github.add_release_of(server, "2026.12.06", "server's", true);
        github.add_release_of(frontend, "2026.12.06", "frontend's", true);
        let list = |repo: &str| json(&format!("{}/repos/{repo}/releases", github.url()));
        assert_eq!(list(server)[0]["body"], "server's");
        assert_eq!(list(frontend).as_array().map(Vec::len), Some(1));
        let patch = |repo: &str, id: u64| {
            let url = format!("{}/repos/{repo}/releases/{id}", github.url());
            call("PATCH", &url, &[AUTH], r#"{"draft":false}"#).0
        };
        // The server's draft is 500: the frontend's has no such id.
        assert_eq!(patch(frontend, 500), 404);
        assert_eq!(patch(server, 500), 200);
        assert_eq!(github.tags(server), vec![("2026.12.06".into(), tip.into())]);
        assert_eq!(github.last_published(server).as_deref(), Some("2026.12.06"));
        assert_eq!(github.last_published(frontend), None);
        // A `-1` pushed before its release is published keeps the commit it was pushed at.
        github.set_tag_of(server, "2026.12.06-1", picked);
        github.add_release_of(server, "2026.12.06-1", "the fix", true);
        assert_eq!(patch(server, 502), 200);
        assert_eq!(patch(server, 502), 200, "asked twice");
        let minus_one = &github.releases()[2];
        assert_eq!(
            minus_one.published.as_ref().map(|p| p.0.as_str()),
            Some(picked)
        );
        assert_eq!(minus_one.publishes, 2, "each publish is counted");
        assert_eq!(
            github.last_published(server).as_deref(),
            Some("2026.12.06-1")
        );
        let commit = json(&format!(
            "{}/repos/{server}/commits/2026.12.06-1",
            github.url()
        ));
        assert_eq!(commit["sha"], picked);
        // Kept and taken up by another stand-in, as a resumed rehearsal does.
        let again = Github::start(Config::default());
        again.restore(&github.snapshot()).unwrap();
        assert_eq!(again.releases(), github.releases());
        assert_eq!(again.tags(server), github.tags(server));
        assert!(again.restore(&json!({"releases": [{"id": 1}]})).is_err());
    }

    #[test]
    fn a_followed_repo_is_read_as_each_request_arrives() {
        let github = Github::start(Config::default());
        let pushed = std::sync::Arc::new(Mutex::new(Vec::<(String, String)>::new()));
        let seen = std::sync::Arc::clone(&pushed);
        github.follow(Box::new(move |repo| {
            assert_eq!(repo, "mozilla/addons-server");
            seen.lock().unwrap().clone()
        }));
        let commit = |r: &str| {
            let url = format!("{}/repos/mozilla/addons-server/commits/{r}", github.url());
            get(&url, &[AUTH])
        };
        assert_eq!(commit("2026.12.06-1").0, 422, "not pushed yet");
        let sha = "3333333333333333333333333333333333333333";
        pushed.lock().unwrap().extend([
            ("refs/heads/master".to_string(), sha.to_string()),
            ("refs/tags/2026.12.06-1".to_string(), sha.to_string()),
        ]);
        // Pushed a moment ago: known to the very next request, with no one telling it.
        assert!(commit("2026.12.06-1").1.contains(sha));
        assert!(commit("master").1.contains(sha));
        assert_eq!(github.tag("2026.12.06-1").as_deref(), Some(sha));
    }

    #[test]
    fn runs_carry_their_ref_and_title_and_are_listed_as_asked() {
        let github = Github::start(Config {
            list_ms: 0,
            run_name: Some("Deploy ${{ inputs.tag }}".into()),
            ..Config::default()
        });
        let workflow = format!(
            "{}/repos/mozilla/addons-server/actions/workflows/deploy-stage.yml",
            github.url()
        );
        let dispatch = format!("{workflow}/dispatches");
        let body = r#"{"ref":"main","inputs":{"tag":"2015.09.10"}}"#;
        assert_eq!(call("POST", &dispatch, &[AUTH], body).0, 204);
        let body = r#"{"ref":"release","inputs":{"tag":"2015.09.11"}}"#;
        assert_eq!(call("POST", &dispatch, &[AUTH], body).0, 204);
        assert_eq!(call("POST", &dispatch, &[AUTH], "{}").0, 422, "no ref");

        let all = json(&format!("{workflow}/runs"));
        let runs = all["workflow_runs"].as_array().unwrap();
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0]["display_title"], "Deploy 2015.09.11");
        assert_eq!(runs[0]["head_branch"], "release");
        assert_eq!(runs[1]["name"], "Deploy stage");
        assert!(runs[1].get("inputs").is_none(), "a run shows no inputs");
        let main = json(&format!(
            "{workflow}/runs?event=workflow_dispatch&branch=main"
        ));
        assert_eq!(
            main["workflow_runs"][0]["display_title"],
            "Deploy 2015.09.10"
        );
        assert_eq!(main["total_count"], 1);
        let later = json(&format!(
            "{workflow}/runs?created=%3E%3D2999-01-01T00%3A00%3A00Z"
        ));
        assert_eq!(later["total_count"], 0);
        let pushes = json(&format!("{workflow}/runs?event=push"));
        assert_eq!(pushes["total_count"], 0);
        let page = json(&format!("{workflow}/runs?per_page=1"));
        assert_eq!(page["total_count"], 2);
        assert_eq!(page["workflow_runs"].as_array().unwrap().len(), 1);
        assert_eq!(github.dispatches(), 2);

        github.set_fault(Fault::DispatchMoved);
        assert_eq!(call("POST", &dispatch, &[AUTH], body).0, 307);
        github.set_fault(Fault::DispatchStatus(429));
        assert_eq!(call("POST", &dispatch, &[AUTH], body).0, 429);
        github.set_fault(Fault::ReadStatus(502));
        assert_eq!(get(&format!("{workflow}/runs"), &[AUTH]).0, 502);
        assert_eq!(github.dispatches(), 2, "refused dispatches start nothing");
    }

    #[test]
    fn job_and_step_names_with_quotes_are_served_as_json() {
        let github = Github::start(Config {
            list_ms: 0,
            queued_ms: 0,
            run_ms: 0,
            jobs: vec![("deploy \"stage\"".into(), vec!["Run \\migrate\\".into()])],
            ..Config::default()
        });
        let dispatch = format!(
            "{}/repos/mozilla/addons-server/actions/workflows/deploy-stage.yml/dispatches",
            github.url()
        );
        assert_eq!(call("POST", &dispatch, &[AUTH], r#"{"ref":"main"}"#).0, 204);
        assert_eq!(github.dispatches(), 1);
        let jobs = json(&format!(
            "{}/repos/mozilla/addons-server/actions/runs/9000/jobs",
            github.url()
        ));
        assert_eq!(jobs["jobs"][0]["name"], "deploy \"stage\"");
        assert_eq!(jobs["jobs"][0]["steps"][0]["name"], "Run \\migrate\\");
        assert_eq!(jobs["jobs"][0]["conclusion"], "success");
    }
}
