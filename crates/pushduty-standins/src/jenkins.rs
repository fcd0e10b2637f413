//! A Jenkins stand-in: the remote-access calls of SERVICES.md, answered as documented, failures
//! included. Stateful and driven by the clock: an accepted item waits `queue_ms` in the queue,
//! then its build runs `build_ms`, so nothing runs in the background between requests. A
//! trigger identical to a waiting item is merged with it, as Jenkins does: answered with that
//! item (current cores) or a redirect to the job page ([`Fault::TriggerRedirect`], older ones).

use crate::http::{Conn, Json, Response, form, object, reason};
use crate::{Clock, Server};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The HTTP library's reader, where the workspace's tests have long imported it from.
pub use crate::http::{Request, header, read_request};

/// The job, its credentials and how its builds go.
#[derive(Clone, Debug)]
pub struct Config {
    /// The loopback port to listen on; 0 (or a taken one): any free port.
    pub port: u16,
    /// Full name with folders: "deploy/addons-stage" is served at /job/deploy/job/addons-stage.
    pub job: String,
    pub user: String,
    pub token: String,
    /// Credentials that may read but not build: a trigger with them answers 403.
    pub viewer: Option<(String, String)>,
    /// The job's parameter; a trigger that omits it gets the default, an empty value.
    pub tag_param: String,
    /// Further parameters the job defines. Others sent are dropped from builds, as Jenkins does.
    pub more_params: Vec<String>,
    pub queue_ms: u64,
    pub build_ms: u64,
    /// Shown one by one over `build_ms`, after "Started by user USER" and before "Finished: RESULT".
    /// `${NAME}` in a line is the build's value of parameter NAME, as a shell step would
    /// expand it.
    pub console_lines: Vec<String>,
    pub result: String,
    /// The results of the first builds, in trigger order (a deploy that fails once, then
    /// succeeds); later builds end with `result`.
    pub results: Vec<String>,
    pub estimated_ms: u64,
    /// How long a queue item outlives its build (Jenkins: about five minutes).
    pub queue_forget_ms: u64,
    pub first_queue_id: u64,
    pub first_build: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            port: 0,
            job: "deploy/addons-stage".into(),
            user: "andym".into(),
            token: "t0k".into(),
            viewer: None,
            tag_param: "TAG".into(),
            more_params: Vec::new(),
            queue_ms: 300,
            build_ms: 1500,
            console_lines: Vec::new(),
            result: "SUCCESS".into(),
            results: Vec::new(),
            estimated_ms: 2000,
            queue_forget_ms: 0,
            first_queue_id: 7,
            first_build: 1,
        }
    }
}

/// A failure to play, set with [`Jenkins::set_fault`] and cleared with `Fault::None`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Fault {
    #[default]
    None,
    /// Triggers answer this status with a plain-text body and queue nothing.
    TriggerStatus(u16),
    /// Triggers answer 429 with `Retry-After` this many seconds, as a rate-limiting proxy
    /// before Jenkins does, and queue nothing.
    TriggerRateLimited(u64),
    /// Triggers are queued (or merged with an identical waiting item) as usual, but answered
    /// with a 302 to the job page that names no item, as older cores answer.
    TriggerRedirect,
    /// Every GET answers this status with a plain-text body (a restarting Jenkins: 503).
    ReadStatus(u16),
    /// Requests are read and never answered, until the client or the server goes away.
    Hang,
    /// JSON endpoints answer 200 with a truncated body.
    MalformedJson,
    /// Every request answers 401.
    Unauthorized,
    /// The next accepted item is cancelled in the queue and never builds; then back to `None`.
    /// A cancelled item stays readable (Jenkins keeps it a few minutes; tests need no expiry).
    QueueCancelled,
}

/// The running server; dropping it stops it.
pub struct Jenkins {
    server: Server<Shared>,
}

impl Jenkins {
    /// On a free loopback port; for tests, where a stand-in that cannot start ends the test.
    #[cfg(any(test, feature = "testing"))]
    pub fn start(cfg: Config) -> Self {
        super::started("Jenkins", Self::try_start(cfg))
    }

    /// On a free loopback port.
    pub fn try_start(cfg: Config) -> std::io::Result<Self> {
        let port = cfg.port;
        let job_path = cfg
            .job
            .split('/')
            .map(|part| format!("/job/{part}"))
            .collect();
        Server::start_http(
            port,
            |url| Shared {
                state: Mutex::new(State {
                    fault: Fault::None,
                    trigger_delay: Duration::ZERO,
                    requests: Vec::new(),
                    items: Vec::new(),
                    next_queue_id: cfg.first_queue_id,
                    next_build: cfg.first_build,
                }),
                cfg,
                url: url.to_string(),
                job_path,
                clock: Clock::now(),
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

    pub fn addr(&self) -> SocketAddr {
        self.server.addr
    }

    /// The job's URL with its trailing slash, as Jenkins writes it.
    pub fn job_url(&self) -> String {
        self.server.shared.job_url()
    }

    /// The `Authorization` header value for the configured user and token.
    pub fn auth_header(&self) -> String {
        basic_auth(&self.server.shared.cfg.user, &self.server.shared.cfg.token)
    }

    /// Queue items made so far: the builds triggered (a trigger merged with an identical
    /// waiting item makes none).
    pub fn triggers(&self) -> usize {
        self.server.shared.lock().items.len()
    }

    /// Makes each trigger wait this long between queueing its item and answering: the moment
    /// a client may die holding a build it has not heard of.
    pub fn set_trigger_delay(&self, delay: Duration) {
        self.server.shared.lock().trigger_delay = delay;
    }

    /// "METHOD TARGET" of every request read, in order; the target keeps its query string.
    pub fn requests(&self) -> Vec<String> {
        self.server.shared.lock().requests.clone()
    }

    /// The decoded parameters (query and form body) of accepted trigger `n`, from 0.
    #[cfg(any(test, feature = "testing"))]
    pub fn params(&self, n: usize) -> Vec<(String, String)> {
        let st = self.server.shared.lock();
        match st.items.get(n) {
            Some(item) => item.sent.clone(),
            None => panic!("trigger {n} asked for, {} accepted", st.items.len()),
        }
    }

    pub fn set_fault(&self, fault: Fault) {
        self.server.shared.lock().fault = fault;
    }

    pub fn fault(&self) -> Fault {
        self.server.shared.lock().fault
    }

    /// The value of the tag parameter of the newest build that finished with SUCCESS: what
    /// the job has deployed.
    pub fn deployed(&self) -> Option<String> {
        let st = self.server.shared.lock();
        let builds = self.server.shared.builds(&st, Instant::now());
        let tag = &self.server.shared.cfg.tag_param;
        builds
            .iter()
            .find(|b| b.done && b.item.result == "SUCCESS")
            .and_then(|b| b.item.values.iter().find(|(k, _)| k == tag))
            .map(|(_, v)| v.clone())
    }

    /// What the job has done, as JSON: every item triggered (its parameters, when it was
    /// queued, its build number and how it ends) and the next numbers to hand out. A stand-in
    /// started later carries on from it with [`Jenkins::restore`]: the same builds, the same
    /// consoles, and the next build numbered after them.
    pub fn snapshot(&self) -> Value {
        let sh = &self.server.shared;
        let st = sh.lock();
        let items: Vec<Value> = st
            .items
            .iter()
            .map(|i| {
                json!({
                    "id": i.id,
                    "values": i.values,
                    "queued_ms": sh.epoch_ms(i.queued),
                    "build": i.build,
                    "result": i.result,
                })
            })
            .collect();
        json!({
            "next_queue_id": st.next_queue_id,
            "next_build": st.next_build,
            "items": items,
        })
    }

    /// Takes up a [`Jenkins::snapshot`]: its items replace this stand-in's; a build finished
    /// then is finished now, one that was running goes on at the wall-clock time it began.
    pub fn restore(&self, saved: &Value) -> Result<(), String> {
        use crate::saved::{i64_of, list, opt, pairs, str_of, u64_of};
        let sh = &self.server.shared;
        let read = || -> Result<(u64, u64, Vec<Item>), String> {
            let items = list(saved, "items")?
                .iter()
                .map(|v| {
                    let values = pairs(v, "values")?;
                    Ok(Item {
                        id: u64_of(v, "id")?,
                        #[cfg(any(test, feature = "testing"))]
                        sent: values.clone(),
                        values,
                        queued: sh.clock.instant(i64_of(v, "queued_ms")?),
                        build: opt(v, "build", u64_of)?,
                        result: str_of(v, "result")?,
                    })
                })
                .collect::<Result<_, String>>()?;
            Ok((
                u64_of(saved, "next_queue_id")?,
                u64_of(saved, "next_build")?,
                items,
            ))
        };
        let (next_queue_id, next_build, items) =
            read().map_err(|e| format!("the Jenkins state: {e}"))?;
        let mut st = sh.lock();
        st.next_queue_id = next_queue_id;
        st.next_build = next_build;
        st.items = items;
        Ok(())
    }

    /// The number of the newest build that has started.
    pub fn last_build_number(&self) -> Option<u64> {
        let st = self.server.shared.lock();
        self.server
            .shared
            .builds(&st, Instant::now())
            .first()
            .map(|b| b.number)
    }
}

/// "Basic base64(user:token)".
pub fn basic_auth(user: &str, token: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::from("Basic ");
    for chunk in format!("{user}:{token}").as_bytes().chunks(3) {
        let byte = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (byte(0) << 16) | (byte(1) << 8) | byte(2);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

struct Shared {
    cfg: Config,
    url: String,
    /// "/job/A/job/B".
    job_path: String,
    clock: Clock,
    state: Mutex<State>,
}

struct State {
    fault: Fault,
    /// How long a trigger waits after queueing before it answers.
    trigger_delay: Duration,
    requests: Vec<String>,
    /// Every accepted trigger, oldest first.
    items: Vec<Item>,
    next_queue_id: u64,
    next_build: u64,
}

struct Item {
    id: u64,
    /// What the client sent (read only by tests, through [`Jenkins::params`]).
    #[cfg(any(test, feature = "testing"))]
    sent: Vec<(String, String)>,
    /// The job's parameters with their values: what Jenkins compares and shows.
    values: Vec<(String, String)>,
    queued: Instant,
    /// None: cancelled in the queue.
    build: Option<u64>,
    /// How its build ends.
    result: String,
}

/// A build that has started.
struct Build<'a> {
    number: u64,
    item: &'a Item,
    start: Instant,
    done: bool,
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
    let response = sh.route(&req, fault).headed("X-Jenkins", "2.462.3");
    if req.method == "POST" {
        let delay = sh.lock().trigger_delay;
        std::thread::sleep(delay);
    }
    conn.send(&response);
}

fn text(status: u16, body: &str) -> Response {
    Response::new(status, "text/plain;charset=utf-8", body)
}

fn not_found() -> Response {
    text(404, "Not Found")
}

/// A JSON answer; cut short with [`Fault::MalformedJson`].
fn json_answer(body: impl ToString, malformed: bool) -> Response {
    let response = Response::new(200, "application/json;charset=utf-8", body.to_string());
    if malformed {
        return response.cut_in_half();
    }
    response
}

fn ms(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

/// An item's parameters as Jenkins writes them in its `params`: "\nNAME=value" each.
fn params_text(item: &Item) -> String {
    item.values
        .iter()
        .map(|(k, v)| format!("\n{k}={v}"))
        .collect()
}

/// `line` with each `${NAME}` replaced by parameter NAME's value (unknown names are left).
fn expand(line: &str, values: &[(String, String)]) -> String {
    let mut out = line.to_string();
    for (k, v) in values {
        out = out.replace(&format!("${{{k}}}"), v);
    }
    out
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        super::lock(&self.state)
    }

    fn job_url(&self) -> String {
        format!("{}{}/", self.url, self.job_path)
    }

    /// The job's own name, without its folders.
    fn job_name(&self) -> &str {
        self.cfg.job.rsplit('/').next().unwrap_or_default()
    }

    fn epoch_ms(&self, at: Instant) -> i64 {
        self.clock.wall(at).timestamp_millis()
    }

    fn build_url(&self, number: u64) -> String {
        format!("{}{}/{number}/", self.url, self.job_path)
    }

    fn waiting(&self, item: &Item, now: Instant) -> bool {
        item.build.is_some() && now < item.queued + ms(self.cfg.queue_ms)
    }

    /// Started builds, newest first: numbers are handed out in trigger order.
    fn builds<'a>(&self, st: &'a State, now: Instant) -> Vec<Build<'a>> {
        st.items
            .iter()
            .rev()
            .filter_map(|item| {
                let start = item.queued + ms(self.cfg.queue_ms);
                let number = item.build.filter(|_| now >= start)?;
                let done = now >= start + ms(self.cfg.build_ms);
                Some(Build {
                    number,
                    item,
                    start,
                    done,
                })
            })
            .collect()
    }

    fn authorised(&self, req: &Request) -> Option<bool> {
        let given = req.header("authorization")?;
        if given == basic_auth(&self.cfg.user, &self.cfg.token) {
            return Some(true);
        }
        let viewer = self.cfg.viewer.as_ref()?;
        (given == basic_auth(&viewer.0, &viewer.1)).then_some(false)
    }

    fn route(&self, req: &Request, fault: Fault) -> Response {
        let may_build = match self.authorised(req) {
            Some(may_build) if fault != Fault::Unauthorized => may_build,
            _ => {
                return text(401, "Unauthorized")
                    .with("WWW-Authenticate", "Basic realm=\"Jenkins\"");
            }
        };
        let (path, query) = req.path_and_query();
        let malformed = fault == Fault::MalformedJson;
        if let (Fault::ReadStatus(status), "GET") = (fault, req.method.as_str()) {
            return text(status, &format!("{} (stand-in fault)", reason(status)));
        }
        if path.trim_end_matches('/') == "/queue/api/json" {
            return json_answer(self.queue_json(), malformed);
        }
        if let Some(rest) = path.strip_prefix("/queue/item/") {
            return match rest.trim_end_matches('/').split_once('/') {
                Some((id, "api/json")) => match id.parse() {
                    Ok(id) => self.queue_item(id, malformed),
                    Err(_) => not_found(),
                },
                _ => not_found(),
            };
        }
        let rest = match path.strip_prefix(self.job_path.as_str()) {
            Some(rest) if rest.is_empty() || rest.starts_with('/') => rest.trim_matches('/'),
            _ => return not_found(),
        };
        if rest == "buildWithParameters" {
            if req.method != "POST" {
                return text(405, "This URL requires POST");
            }
            if !may_build {
                return text(403, "missing the Job/Build permission");
            }
            if let Fault::TriggerStatus(status) = fault {
                return text(status, &format!("{} (stand-in fault)", reason(status)));
            }
            if let Fault::TriggerRateLimited(secs) = fault {
                return text(429, "Too Many Requests (stand-in fault)")
                    .with("Retry-After", secs.to_string());
            }
            let mut params = form(query.as_bytes());
            params.extend(form(&req.body));
            let answer = self.trigger(params);
            if fault == Fault::TriggerRedirect && answer.status == 201 {
                return text(302, "").with("Location", self.job_url());
            }
            return answer;
        }
        if req.method != "GET" {
            return text(405, "Method Not Allowed");
        }
        if rest == "api/json" {
            return json_answer(self.job_json(), malformed);
        }
        let (which, tail) = rest.split_once('/').unwrap_or((rest, ""));
        let st = self.lock();
        let now = Instant::now();
        let builds = self.builds(&st, now);
        let build = match which {
            "lastBuild" => builds.first(),
            "lastCompletedBuild" => builds.iter().find(|b| b.done),
            "lastSuccessfulBuild" => builds.iter().find(|b| b.done && b.item.result == "SUCCESS"),
            n => n
                .parse()
                .ok()
                .and_then(|n: u64| builds.iter().find(|b| b.number == n)),
        };
        let Some(build) = build else {
            return not_found();
        };
        match tail {
            "api/json" => json_answer(self.build_json(build), malformed),
            "logText/progressiveText" => {
                let start = form(query.as_bytes())
                    .into_iter()
                    .find(|(k, _)| k == "start")
                    .and_then(|(_, v)| v.parse().ok())
                    .unwrap_or(0);
                self.console(build, now, start)
            }
            _ => not_found(),
        }
    }

    fn trigger(&self, sent: Vec<(String, String)>) -> Response {
        if sent.is_empty() {
            return text(400, "This build is not parameterized!");
        }
        let defined = std::iter::once(&self.cfg.tag_param).chain(&self.cfg.more_params);
        let values: Vec<(String, String)> = defined
            .map(|name| {
                let value = sent.iter().rev().find(|(k, _)| k == name);
                (
                    name.clone(),
                    value.map(|(_, v)| v.clone()).unwrap_or_default(),
                )
            })
            .collect();
        let now = Instant::now();
        let mut st = self.lock();
        // Current cores answer an identical request with the item already waiting.
        let queued = st
            .items
            .iter()
            .find(|item| self.waiting(item, now) && item.values == values);
        if let Some(item) = queued {
            let location = format!("{}/queue/item/{}/", self.url, item.id);
            return text(201, "").with("Location", location);
        }
        let id = st.next_queue_id;
        st.next_queue_id += 1;
        let build = if st.fault == Fault::QueueCancelled {
            st.fault = Fault::None;
            None
        } else {
            st.next_build += 1;
            Some(st.next_build - 1)
        };
        let result = self
            .cfg
            .results
            .get(st.items.len())
            .unwrap_or(&self.cfg.result)
            .clone();
        st.items.push(Item {
            id,
            #[cfg(any(test, feature = "testing"))]
            sent,
            values,
            queued: now,
            build,
            result,
        });
        let location = format!("{}/queue/item/{id}/", self.url);
        text(201, "").with("Location", location)
    }

    fn queue_item(&self, id: u64, malformed: bool) -> Response {
        let now = Instant::now();
        let st = self.lock();
        let Some(item) = st.items.iter().find(|item| item.id == id) else {
            return not_found();
        };
        let cfg = &self.cfg;
        let (class, cancelled, executable, why) = match item.build {
            None => (
                "hudson.model.Queue$LeftItem",
                true,
                Value::Null,
                Value::Null,
            ),
            Some(_) if self.waiting(item, now) => (
                "hudson.model.Queue$WaitingItem",
                false,
                Value::Null,
                json!("Waiting for next available executor"),
            ),
            Some(number) => {
                let gone = cfg.queue_ms + cfg.build_ms + cfg.queue_forget_ms;
                if now >= item.queued + ms(gone) {
                    return not_found();
                }
                let executable = json!({
                    "_class": "hudson.model.FreeStyleBuild",
                    "number": number,
                    "url": self.build_url(number),
                });
                (
                    "hudson.model.Queue$LeftItem",
                    false,
                    executable,
                    Value::Null,
                )
            }
        };
        // The item's state first, as the stand-in has always written it.
        let body = object! {
            "_class": class,
            "actions": self.actions(item),
            "cancelled": cancelled,
            "executable": executable,
            "why": why,
            "id": id,
            "inQueueSince": self.epoch_ms(item.queued),
            "params": params_text(item),
            "task": self.task(),
            "url": format!("queue/item/{id}/"),
        };
        json_answer(body, malformed)
    }

    /// `GET /queue/api/json`: the items waiting, oldest first, each with its job and
    /// parameters (`tree` is not applied: every field is there).
    fn queue_json(&self) -> Json {
        let now = Instant::now();
        let st = self.lock();
        let items: Vec<Json> = st
            .items
            .iter()
            .filter(|item| self.waiting(item, now))
            .map(|item| {
                object! {
                    "_class": "hudson.model.Queue$WaitingItem",
                    "actions": self.actions(item),
                    "blocked": false,
                    "buildable": false,
                    "id": item.id,
                    "inQueueSince": self.epoch_ms(item.queued),
                    "params": params_text(item),
                    "stuck": false,
                    "task": self.task(),
                    "url": format!("queue/item/{}/", item.id),
                    "why": "Waiting for next available executor",
                }
            })
            .collect();
        object! {"_class": "hudson.model.Queue", "discoverableItems": Vec::<Json>::new(), "items": items}
    }

    /// The job, as a queue item names its task.
    fn task(&self) -> Value {
        json!({
            "_class": "hudson.model.FreeStyleProject",
            "name": self.job_name(),
            "url": self.job_url(),
        })
    }

    /// An item's or a build's `actions`: its parameters, then who started it.
    fn actions(&self, item: &Item) -> Value {
        let params: Vec<Value> = item
            .values
            .iter()
            .map(|(k, v)| {
                json!({"_class": "hudson.model.StringParameterValue", "name": k, "value": v})
            })
            .collect();
        json!([
            {"_class": "hudson.model.ParametersAction", "parameters": params},
            {
                "_class": "hudson.model.CauseAction",
                "causes": [{
                    "_class": "hudson.model.Cause$UserIdCause",
                    "shortDescription": format!("Started by user {}", self.cfg.user),
                    "userId": self.cfg.user,
                }],
            },
        ])
    }

    fn build_json(&self, b: &Build) -> Value {
        let cfg = &self.cfg;
        let (result, duration) = match b.done {
            true => (json!(b.item.result), cfg.build_ms),
            false => (Value::Null, 0),
        };
        let number = b.number;
        json!({
            "_class": "hudson.model.FreeStyleBuild",
            "actions": self.actions(b.item),
            "building": !b.done,
            "displayName": format!("#{number}"),
            "duration": duration,
            "estimatedDuration": cfg.estimated_ms,
            "fullDisplayName": format!("{} #{number}", cfg.job.replace('/', " » ")),
            "id": number.to_string(),
            "number": number,
            "queueId": b.item.id,
            "result": result,
            "timestamp": self.epoch_ms(b.start),
            "url": self.build_url(number),
        })
    }

    fn job_json(&self) -> Value {
        let now = Instant::now();
        let st = self.lock();
        let builds = self.builds(&st, now);
        let listed: Vec<Value> = builds.iter().map(|b| self.build_json(b)).collect();
        let last = match builds.first() {
            Some(b) => json!({"number": b.number, "url": self.build_url(b.number)}),
            None => Value::Null,
        };
        json!({
            "_class": "hudson.model.FreeStyleProject",
            "buildable": true,
            "builds": listed,
            "fullName": self.cfg.job,
            "inQueue": st.items.iter().any(|item| self.waiting(item, now)),
            "lastBuild": last,
            "name": self.job_name(),
            "nextBuildNumber": st.next_build,
            "url": self.job_url(),
        })
    }

    /// The text so far: the configured lines appear evenly over the build, the verdict at its end.
    fn console(&self, b: &Build, now: Instant, start: usize) -> Response {
        let cfg = &self.cfg;
        let elapsed = now.saturating_duration_since(b.start).as_millis() as u64;
        let mut text = format!("Started by user {}\n", cfg.user);
        let slots = cfg.console_lines.len() as u64 + 1;
        for (i, line) in cfg.console_lines.iter().enumerate() {
            if elapsed >= cfg.build_ms * (i as u64 + 1) / slots {
                text.push_str(&expand(line, &b.item.values));
                text.push('\n');
            }
        }
        if b.done {
            text.push_str(&format!("Finished: {}\n", b.item.result));
        }
        let bytes = text.as_bytes();
        let mut response = Response::new(
            200,
            "text/plain;charset=utf-8",
            &bytes[start.min(bytes.len())..],
        );
        response = response.with("X-Text-Size", bytes.len().to_string());
        if !b.done {
            response = response.with("X-More-Data", "true");
        }
        response
    }
}
