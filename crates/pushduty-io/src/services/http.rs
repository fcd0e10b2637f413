//! One async runtime and one HTTP client for every service call. Steps run on worker threads
//! and wait on the runtime; the UI thread never does.

use std::future::Future;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use anyhow::{Context, Result};

/// How long a connection may take to open, and a whole request to answer.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// The request time limit: `PUSHDUTY_HTTP_TIMEOUT` seconds when set (a slow network, a
/// test of a service that hangs), else [`REQUEST_TIMEOUT`].
pub fn request_timeout() -> Duration {
    std::env::var("PUSHDUTY_HTTP_TIMEOUT")
        .ok()
        .and_then(|s| s.parse().ok())
        .map_or(REQUEST_TIMEOUT, Duration::from_secs)
}

static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
static ACTING: OnceLock<reqwest::Client> = OnceLock::new();
/// Held while the runtime or the client is built: the service panes start together, and each
/// racing to build its own (TLS roots parsed, worker threads spawned) only to drop all but one
/// took the first frame's CPU on a small machine.
static BUILDING: Mutex<()> = Mutex::new(());

/// `cell`'s value, built by one thread at most (the others wait for it).
fn once<T>(cell: &'static OnceLock<T>, build: impl FnOnce() -> Result<T>) -> Result<&'static T> {
    if let Some(v) = cell.get() {
        return Ok(v);
    }
    let _one = BUILDING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(v) = cell.get() {
        return Ok(v);
    }
    let built = build()?;
    Ok(cell.get_or_init(|| built))
}

fn runtime() -> Result<&'static tokio::runtime::Runtime> {
    once(&RUNTIME, || {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("pushduty-io")
            .enable_all()
            .build()
            .context("starting the I/O runtime")
    })
}

/// Runs `f` on the runtime and waits for it: for worker threads and one-shot commands (never
/// from inside the runtime).
pub fn block_on<F: Future>(f: F) -> Result<F::Output> {
    Ok(runtime()?.block_on(f))
}

pub fn client() -> Result<&'static reqwest::Client> {
    once(&CLIENT, || built(reqwest::redirect::Policy::default()))
}

/// The client for a request that starts something (a build, a workflow run). It follows no
/// redirect: that would send the request again (as a GET) where the service did not mean it,
/// and read that answer as the trigger's. The caller says what a 3xx means.
pub fn acting_client() -> Result<&'static reqwest::Client> {
    once(&ACTING, || built(reqwest::redirect::Policy::none()))
}

fn built(redirects: reqwest::redirect::Policy) -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(redirects)
        .connect_timeout(CONNECT_TIMEOUT.min(request_timeout()))
        .timeout(request_timeout())
        .user_agent(concat!("pushduty/", env!("CARGO_PKG_VERSION")))
        .build()
        .context("building the HTTP client")
}

/// A failure that may pass by itself (no answer, a 5xx): worth another try while following.
#[derive(Debug)]
pub struct Transient(pub String);

impl std::fmt::Display for Transient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Transient {}

/// Whether an error is worth another try.
pub fn is_transient(e: &anyhow::Error) -> bool {
    e.downcast_ref::<Transient>().is_some()
}

/// Why a request got no answer, in plain words (the time limit `limit`, else the default).
pub fn why_unanswered(e: &reqwest::Error, limit: Option<Duration>) -> String {
    // Host and path only, and no error text (reqwest's quotes the whole URL): a URL's user
    // info and query may hold a token.
    let (host, path) = e
        .url()
        .map_or(("", ""), |u| (u.host_str().unwrap_or(""), u.path()));
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else if e.is_decode() || e.is_body() {
        "body"
    } else {
        "request"
    };
    tracing::warn!(host, path, kind, "service request failed");
    plain_why(e, limit)
}

fn plain_why(e: &reqwest::Error, limit: Option<Duration>) -> String {
    if e.is_timeout() {
        format!(
            "no answer within {}s",
            limit.unwrap_or_else(request_timeout).as_secs()
        )
    } else if e.is_connect() {
        "cannot connect".to_string()
    } else {
        e.to_string()
    }
}

/// An error answer as an error: one that may pass by itself (a 5xx) is [`Transient`].
pub fn answered(status: reqwest::StatusCode, text: String) -> anyhow::Error {
    if status.is_server_error() {
        anyhow::Error::new(Transient(text))
    } else {
        anyhow::anyhow!(text)
    }
}

/// A request that got no answer, as a [`Transient`] error naming what was asked of which
/// service where; `scrub` takes the service's secrets out of the text.
pub fn unanswered(
    what: &str,
    service: &str,
    base: &str,
    e: &reqwest::Error,
    scrub: impl Fn(&str) -> String,
) -> anyhow::Error {
    let why = why_unanswered(e, None);
    anyhow::Error::new(Transient(scrub(&format!(
        "{what}: {service} at {base} is unreachable ({why})"
    ))))
}
