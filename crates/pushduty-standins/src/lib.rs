//! Local stand-ins for the services a push talks to, speaking the APIs of SERVICES.md (failures
//! included) on loopback. The tests drive them, and `pushduty rehearse` runs a whole push
//! against them: one implementation for both. Each serves plain HTTP (see [`http`]) or SMTP
//! from its own threads.
//!
//! The `testing` feature adds what only tests want: `start` constructors and readers that
//! panic (ending the test, saying why) where the product's code gets an error to show.

pub mod http;

pub mod etherpad;
pub mod github;
pub mod graphite;
pub mod jenkins;
pub mod matrix;
pub mod sentry;
pub mod slack;
pub mod smtp;

pub mod stage;

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// What every stand-in is made of: a free loopback port, the state its connections share, and
/// an accept loop serving each connection on a thread of its own, stopped when this is
/// dropped.
pub(crate) struct Server<S: Send + Sync + 'static> {
    pub addr: SocketAddr,
    /// "http://127.0.0.1:PORT", no trailing slash.
    pub url: String,
    pub shared: Arc<S>,
    /// Set when this is dropped: the accept loop ends, and connections held open end too.
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
    /// What an HTTP stand-in plays on every connection instead of its API, while set.
    wire: Arc<Mutex<http::WireFault>>,
}

impl<S: Send + Sync + 'static> Server<S> {
    /// Binds loopback `port` (any free one for 0, or when that one is taken), makes the shared
    /// state (knowing its own URL), and serves: `serve` gets each connection and the flag set
    /// when the server stops.
    pub fn start(
        port: u16,
        make: impl FnOnce(&str) -> S,
        serve: impl Fn(&S, TcpStream, &AtomicBool) + Send + Sync + 'static,
    ) -> std::io::Result<Self> {
        let listener =
            TcpListener::bind(("127.0.0.1", port)).or_else(|_| TcpListener::bind("127.0.0.1:0"))?;
        let addr = listener.local_addr()?;
        let url = format!("http://{addr}");
        let shared = Arc::new(make(&url));
        let stop = Arc::new(AtomicBool::new(false));
        let accept = accept_loop(listener, Arc::clone(&shared), Arc::clone(&stop), serve);
        Ok(Self {
            addr,
            url,
            shared,
            stop,
            accept: Some(accept),
            wire: Arc::default(),
        })
    }

    /// [`Server::start`] for an HTTP stand-in: `serve` gets each connection's request, read
    /// with a time limit (a client that never finishes its request must not hold a thread
    /// forever); a connection that sends none is closed. While a [`http::WireFault`] is set,
    /// every request gets that instead of the stand-in's API.
    pub fn start_http(
        port: u16,
        make: impl FnOnce(&str) -> S,
        serve: fn(&S, http::Request, http::Conn),
    ) -> std::io::Result<Self> {
        let wire: Arc<Mutex<http::WireFault>> = Arc::default();
        let played = Arc::clone(&wire);
        let mut server = Self::start(port, make, move |sh, mut stream, stop| {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            if let Some(req) = http::read_request(&mut stream) {
                let conn = http::Conn { stream, stop };
                // Copied out: the lock must not be held while a connection is played.
                let fault = *lock(&played);
                match fault {
                    http::WireFault::None => serve(sh, req, conn),
                    fault => conn.play(fault),
                }
            }
        })?;
        server.wire = wire;
        Ok(server)
    }

    /// Plays `fault` on every request from now on (`WireFault::None`: the API again).
    pub fn set_wire_fault(&self, fault: http::WireFault) {
        *lock(&self.wire) = fault;
    }
}

impl<S: Send + Sync + 'static> Drop for Server<S> {
    fn drop(&mut self) {
        stop(&self.stop, self.addr, self.accept.take());
    }
}

/// Serves each connection on a thread of its own until `stop` says so (the server wakes it
/// with one last connection when dropped).
fn accept_loop<S: Send + Sync + 'static>(
    listener: TcpListener,
    shared: Arc<S>,
    stop: Arc<AtomicBool>,
    serve: impl Fn(&S, TcpStream, &AtomicBool) + Send + Sync + 'static,
) -> JoinHandle<()> {
    let serve = Arc::new(serve);
    thread::spawn(move || {
        for conn in listener.incoming() {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            if let Ok(stream) = conn {
                let (sh, stop, serve) =
                    (Arc::clone(&shared), Arc::clone(&stop), Arc::clone(&serve));
                thread::spawn(move || serve(&sh, stream, &stop));
            }
        }
    })
}

/// A stand-in's state: a test thread that panicked holding it must not take the server down.
pub(crate) fn lock<T>(state: &Mutex<T>) -> MutexGuard<'_, T> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

/// A stand-in the tests start: one that cannot start ends the test, saying which.
#[cfg(any(test, feature = "testing"))]
pub(crate) fn started<T>(what: &str, started: std::io::Result<T>) -> T {
    match started {
        Ok(s) => s,
        Err(e) => panic!("the {what} stand-in cannot start: {e}"),
    }
}

/// Stops a stand-in's accept loop: sets its flag, wakes it with one last connection, and
/// joins it only if the wake-up got through.
fn stop(flag: &AtomicBool, addr: SocketAddr, accept: Option<JoinHandle<()>>) {
    flag.store(true, Ordering::SeqCst);
    if TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok()
        && let Some(accept) = accept
    {
        let _ = accept.join();
    }
}

/// The same moment on the monotonic clock and on the wall clock: the stand-ins time queues,
/// builds and runs with `Instant`s, and show those instants as the times a service gives.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clock {
    instant: Instant,
    pub wall: DateTime<Utc>,
}

impl Clock {
    pub fn now() -> Self {
        Self {
            instant: Instant::now(),
            wall: Utc::now(),
        }
    }

    /// The wall-clock time of `at`, before this clock's moment or after it (a build restored
    /// from a kept state began before this stand-in did).
    pub fn wall(&self, at: Instant) -> DateTime<Utc> {
        let delta = match at.checked_duration_since(self.instant) {
            Some(after) => TimeDelta::from_std(after).ok(),
            None => TimeDelta::from_std(self.instant.duration_since(at))
                .ok()
                .map(|before| -before),
        };
        delta
            .and_then(|d| self.wall.checked_add_signed(d))
            .unwrap_or(self.wall)
    }

    /// The instant of wall-clock time `wall_ms` (unix milliseconds); one before the monotonic
    /// clock began (before the machine booted) is its earliest: this clock's own moment.
    pub fn instant(&self, wall_ms: i64) -> Instant {
        let delta = wall_ms - self.wall.timestamp_millis();
        let span = Duration::from_millis(delta.unsigned_abs());
        let at = if delta >= 0 {
            self.instant.checked_add(span)
        } else {
            self.instant.checked_sub(span)
        };
        at.unwrap_or(self.instant)
    }
}

/// Reading a stand-in's kept state back (see each stand-in's `snapshot` and `restore`): a
/// field missing or of the wrong type says which, so a damaged file is named, not half-read.
pub(crate) mod saved {
    use serde_json::Value;

    pub fn field<'a>(v: &'a Value, key: &str) -> Result<&'a Value, String> {
        v.get(key).ok_or_else(|| format!("`{key}` is missing"))
    }

    pub fn u64_of(v: &Value, key: &str) -> Result<u64, String> {
        field(v, key)?
            .as_u64()
            .ok_or_else(|| format!("`{key}` is not a whole number"))
    }

    pub fn i64_of(v: &Value, key: &str) -> Result<i64, String> {
        field(v, key)?
            .as_i64()
            .ok_or_else(|| format!("`{key}` is not a whole number"))
    }

    pub fn str_of(v: &Value, key: &str) -> Result<String, String> {
        field(v, key)?
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("`{key}` is not text"))
    }

    pub fn f64_of(v: &Value, key: &str) -> Result<f64, String> {
        field(v, key)?
            .as_f64()
            .ok_or_else(|| format!("`{key}` is not a number"))
    }

    /// `null` or absent is `None`.
    pub fn opt<T>(
        v: &Value,
        key: &str,
        read: fn(&Value, &str) -> Result<T, String>,
    ) -> Result<Option<T>, String> {
        match v.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(_) => read(v, key).map(Some),
        }
    }

    pub fn list<'a>(v: &'a Value, key: &str) -> Result<&'a Vec<Value>, String> {
        field(v, key)?
            .as_array()
            .ok_or_else(|| format!("`{key}` is not a list"))
    }

    /// `[[name, value], ...]` pairs of text.
    pub fn pairs(v: &Value, key: &str) -> Result<Vec<(String, String)>, String> {
        list(v, key)?
            .iter()
            .map(|p| match p.as_array().map(Vec::as_slice) {
                Some([Value::String(k), Value::String(v)]) => Ok((k.clone(), v.clone())),
                _ => Err(format!(
                    "`{key}` holds something that is not a [name, value] pair"
                )),
            })
            .collect()
    }
}

/// Unix seconds as GitHub and Sentry write times: `2015-09-10T14:03:07Z` (whole seconds, UTC
/// as `Z`). A time chrono cannot hold, hundreds of millennia away, is written as the epoch.
pub(crate) fn rfc3339(secs: i64) -> String {
    DateTime::from_timestamp(secs, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::graphite::{Config, Graphite};

    #[test]
    fn a_stand_in_takes_the_port_it_asks_for_or_any_free_one() {
        let first = Graphite::try_start(Config::default()).unwrap();
        let port: u16 = first.url().rsplit(':').next().unwrap().parse().unwrap();
        // That port is taken now: the next one asking for it gets another, and serves.
        let second = Graphite::try_start(Config {
            port,
            ..Config::default()
        })
        .unwrap();
        assert_ne!(second.url(), first.url());
        drop(first);
        // Free again: asked for, it is the one taken.
        let third = Graphite::try_start(Config {
            port,
            ..Config::default()
        })
        .unwrap();
        assert_eq!(third.url(), format!("http://127.0.0.1:{port}"));
    }

    /// A kept rehearsal stops its stand-ins and starts new ones later: the new Jenkins has the
    /// same builds (finished, with their consoles and results) and numbers the next after them.
    #[test]
    fn a_restored_jenkins_has_the_builds_it_had_and_numbers_on() {
        use super::jenkins::{Config, Jenkins};
        use crate::http::{call, get};
        let cfg = Config {
            queue_ms: 0,
            build_ms: 0,
            results: vec!["FAILURE".into()],
            console_lines: vec!["Deploying ${TAG}".into()],
            ..Config::default()
        };
        let first = Jenkins::start(cfg.clone());
        let auth = first.auth_header();
        let headers = [("Authorization", auth.as_str())];
        let trigger = |j: &Jenkins, tag: &str| {
            let url = format!("{}buildWithParameters?TAG={tag}", j.job_url());
            call("POST", &url, &headers, "").0
        };
        assert_eq!(trigger(&first, "2015.09.10"), 201);
        assert_eq!(trigger(&first, "2015.09.10-1"), 201);
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert_eq!(first.deployed().as_deref(), Some("2015.09.10-1"));
        let saved = first.snapshot();
        let text = serde_json::to_string(&saved).unwrap();
        drop(first);

        let second = Jenkins::start(cfg);
        second
            .restore(&serde_json::from_str(&text).unwrap())
            .unwrap();
        assert_eq!(second.deployed().as_deref(), Some("2015.09.10-1"));
        assert_eq!(second.last_build_number(), Some(2));
        let (status, console) = get(
            &format!("{}1/logText/progressiveText", second.job_url()),
            &headers,
        );
        assert_eq!(status, 200, "{console}");
        assert!(
            console.contains("Deploying 2015.09.10\nFinished: FAILURE"),
            "{console}"
        );
        // The failure the scenario planned for the first build is not played again.
        assert_eq!(trigger(&second, "2015.09.10-2"), 201);
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert_eq!(second.last_build_number(), Some(3));
        assert_eq!(second.deployed().as_deref(), Some("2015.09.10-2"));
        // A damaged state is named, and nothing of it is taken.
        let err = second
            .restore(&serde_json::json!({"items": [{"id": 1}]}))
            .unwrap_err();
        assert!(
            err.starts_with("the Jenkins state: `values` is missing"),
            "{err}"
        );
        assert_eq!(second.last_build_number(), Some(3));
    }

    #[test]
    fn times_are_written_as_the_services_write_them() {
        assert_eq!(super::rfc3339(1_441_893_787), "2015-09-10T14:03:07Z");
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(super::rfc3339(253_402_300_799), "9999-12-31T23:59:59Z");
        assert_eq!(super::rfc3339(i64::MAX), "1970-01-01T00:00:00Z");
    }
}
