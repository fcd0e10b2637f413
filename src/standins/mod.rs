//! Local stand-ins for the services a push talks to, speaking the APIs of SERVICES.md (failures
//! included) on loopback. The tests drive them, and `pushduty rehearse` runs a whole push
//! against them: one implementation for both. Std-only: each serves plain HTTP (or SMTP) from
//! its own threads.

pub mod etherpad;
pub mod github;
pub mod graphite;
pub mod jenkins;
pub mod sentry;
pub mod smtp;

pub mod stage;

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// A stand-in the tests start: one that cannot start ends the test, saying which.
pub(crate) fn started<T>(what: &str, started: std::io::Result<T>) -> T {
    match started {
        Ok(s) => s,
        Err(e) => panic!("the {what} stand-in cannot start: {e}"),
    }
}

/// Stops a stand-in's accept loop: sets its flag, wakes it with one last connection, and
/// joins it only if the wake-up got through.
pub(crate) fn stop(flag: &AtomicBool, addr: SocketAddr, accept: Option<JoinHandle<()>>) {
    flag.store(true, Ordering::SeqCst);
    if TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok()
        && let Some(accept) = accept
    {
        let _ = accept.join();
    }
}

/// Writes one whole HTTP/1.1 answer and closes.
pub(crate) fn answer(
    stream: &mut TcpStream,
    status: u16,
    reason: &str,
    content_type: &str,
    body: &str,
) {
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body.as_bytes());
    let _ = stream.flush();
}
