//! One async runtime and one HTTP client for every service call, and one way to read an
//! answer's body: bounded in size (a cap per kind of answer) and in time (the request's time
//! limit covers the body too). Steps run on worker threads and wait on the runtime; the UI
//! thread never does.

use std::future::Future;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use anyhow::{Context, Result};

/// How long a connection may take to open, and a whole request to answer (its body read to
/// the end included).
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

/// Runs `futures` at once and answers their outputs in their order: reads of services that
/// must not wait on each other (one that hangs costs its own time limit, not the others').
pub async fn all<F: Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut pending: Vec<std::pin::Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut done: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut waiting = false;
        for (f, out) in pending.iter_mut().zip(done.iter_mut()) {
            if out.is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *out = Some(v),
                    std::task::Poll::Pending => waiting = true,
                }
            }
        }
        if waiting {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    done.into_iter().flatten().collect()
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
    } else if mid_answer(e) {
        "body"
    } else {
        "request"
    };
    tracing::warn!(host, path, kind, "service request failed");
    plain_why(e, limit)
}

fn plain_why(e: &reqwest::Error, limit: Option<Duration>) -> String {
    let secs = limit.unwrap_or_else(request_timeout).as_secs();
    if mid_answer(e) && e.is_timeout() {
        format!("its answer did not end within {secs}s")
    } else if e.is_timeout() {
        format!("no answer within {secs}s")
    } else if e.is_connect() {
        "cannot connect".to_string()
    } else {
        e.to_string()
    }
}

/// Whether the answer had come (its status and headers) when `e` happened: reading its body
/// broke off, or did not end in time.
fn mid_answer(e: &reqwest::Error) -> bool {
    e.is_body() || e.is_decode()
}

/// `SERVICE at BASE is unreachable (why)`, or, when the answer came but its body broke off or
/// never ended, `SERVICE at BASE answered, but why`.
pub fn unanswered_text(
    service: &str,
    base: &str,
    e: &reqwest::Error,
    limit: Option<Duration>,
) -> String {
    let why = why_unanswered(e, limit);
    if mid_answer(e) {
        format!("{service} at {base} answered, but {why}")
    } else {
        format!("{service} at {base} is unreachable ({why})")
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

/// A request that got no answer, or not all of it, as a [`Transient`] error naming what was
/// asked of which service where; `scrub` takes the service's secrets out of the text.
pub fn unanswered(
    what: &str,
    service: &str,
    base: &str,
    e: &reqwest::Error,
    scrub: impl Fn(&str) -> String,
) -> anyhow::Error {
    let text = unanswered_text(service, base, e, None);
    anyhow::Error::new(Transient(scrub(&format!("{what}: {text}"))))
}

/// The most of one answer pushduty reads, by what it reads: past it, a server is sending
/// something no answer of that kind holds (a runaway server, a proxy streaming a page), and
/// reading on would only fill memory.
#[derive(Debug, Clone, Copy)]
pub struct Cap {
    pub bytes: usize,
    /// What to check when an answer passes it.
    pub hint: &'static str,
}

/// A JSON API answer (a page of issues, builds, runs; a pad's text): real ones are tens or
/// hundreds of KiB, so 8 MiB is far past any and still small beside the process.
pub const API_ANSWER: Cap = Cap {
    bytes: 8 << 20,
    hint: "no answer of its API is that long: check that the service's `url` is its API's, \
           not a page or a proxy in front of it",
};

/// A metrics query's series over the watched span: a few hundred points, some KiB; 8 MiB
/// holds some 300,000, so only a query matching thousands of series, not combined, passes it
/// (and the hint says to combine them).
pub const SERIES: Cap = Cap {
    bytes: 8 << 20,
    hint: "a query matching very many series answers that much: combine them into one \
           (sumSeries, sum), and check that the service's `url` is the server's",
};

/// A Jenkins console read: what a build logged since the last read, a second or so; the
/// first read of a build already running for a while holds more.
pub const CONSOLE: Cap = Cap {
    bytes: 16 << 20,
    hint: "no build logs that much between two reads: check that the service's `url` is \
           Jenkins'",
};

/// What is kept of an error answer's body: only its start is quoted in the message.
pub const ERROR_HEAD: usize = 64 << 10;

/// `8 MiB`, `64 KiB`: a cap as a person reads it.
pub fn size(bytes: usize) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1 << 10 && bytes.is_multiple_of(1 << 10) {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} bytes")
    }
}

/// `Sentry's`, `Jenkins'`.
fn possessive(name: &str) -> String {
    if name.ends_with('s') {
        format!("{name}'")
    } else {
        format!("{name}'s")
    }
}

/// Reads `resp`'s body, chunk by chunk, until it ends or holds more than `most` bytes; the
/// bytes read (at most `most`) and whether more were coming. The request's time limit ends a
/// body that never does, at whatever pace it comes.
async fn read_up_to(
    resp: &mut reqwest::Response,
    most: usize,
) -> Result<(Vec<u8>, bool), reqwest::Error> {
    // Room for the whole of it at once: never grown by copying, so a body near the cap holds
    // its size in memory, not half as much again; pages never written cost nothing.
    let expected = resp
        .content_length()
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(most);
    let mut body = Vec::with_capacity(expected.min(most));
    while let Some(chunk) = resp.chunk().await? {
        if body.len() + chunk.len() > most {
            let room = most - body.len();
            body.extend_from_slice(&chunk[..room]);
            return Ok((body, true));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, false))
}

/// Bytes as text; a character cut at the end (by a cap) is dropped, other bad bytes replaced.
fn text(mut bytes: Vec<u8>) -> String {
    if let Err(e) = std::str::from_utf8(&bytes)
        && e.error_len().is_none()
    {
        bytes.truncate(e.valid_up_to());
    }
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// The body of `service`'s answer to `what`, read within `cap`. A success's body past the cap
/// is an error (a part of it is no answer to parse); an error answer's body is cut at
/// [`ERROR_HEAD`] instead, since only its start is quoted. `unanswered` says a transport
/// failure (the body broke off, or did not end within the time limit).
pub async fn read_body(
    mut resp: reqwest::Response,
    cap: Cap,
    service: &str,
    what: &str,
    unanswered: impl FnOnce(&reqwest::Error) -> anyhow::Error,
) -> anyhow::Result<String> {
    if !resp.status().is_success() {
        let (head, _) = read_up_to(&mut resp, ERROR_HEAD)
            .await
            .map_err(|e| unanswered(&e))?;
        return Ok(text(head));
    }
    let (body, cut) = read_up_to(&mut resp, cap.bytes)
        .await
        .map_err(|e| unanswered(&e))?;
    if cut {
        tracing::warn!(service, what, cap = cap.bytes, "answer past its cap");
        anyhow::bail!(
            "{} answer to {what} passed {}; pushduty stopped reading: {}",
            possessive(service),
            size(cap.bytes),
            cap.hint
        );
    }
    Ok(text(body))
}

/// The start of a body (at most `most` bytes), whatever the status, the rest left unread: for
/// a page searched or quoted rather than parsed ([`ERROR_HEAD`] for an error's).
pub async fn read_head(mut resp: reqwest::Response, most: usize) -> Result<String, reqwest::Error> {
    read_up_to(&mut resp, most)
        .await
        .map(|(body, _)| text(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_runs_its_futures_at_once_and_keeps_their_order() {
        let started = std::time::Instant::now();
        let sleeps = [300u64, 100, 200].map(|ms| async move {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            ms
        });
        assert_eq!(block_on(all(sleeps)).unwrap(), [300, 100, 200]);
        let took = started.elapsed();
        assert!(
            took < Duration::from_millis(550),
            "one after the other: {took:?}"
        );
        assert!(
            block_on(all(Vec::<std::future::Ready<()>>::new()))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn caps_read_as_people_write_sizes() {
        assert_eq!(size(API_ANSWER.bytes), "8 MiB");
        assert_eq!(size(ERROR_HEAD), "64 KiB");
        assert_eq!(size(1000), "1000 bytes");
        assert_eq!(possessive("Jenkins"), "Jenkins'");
        assert_eq!(possessive("GitHub"), "GitHub's");
    }

    #[test]
    fn a_character_cut_by_a_cap_is_dropped() {
        let mut bytes = "née".as_bytes().to_vec();
        bytes.truncate(2);
        assert_eq!(text(bytes), "n");
        assert_eq!(text(b"a\xffb".to_vec()), "a\u{fffd}b");
    }
}
