//! `chat.post` to a real Matrix homeserver (Synapse) through the binary: pushduty killed
//! (SIGKILL) on either side of the homeserver taking the message, then resumed, leaves exactly
//! one message in the room, read back through the client-server API; the topic is set and read
//! back.
//!
//! To kill at those moments, pushduty reaches the homeserver through a small relay in this
//! process, which forwards each request as it is and, when told, kills pushduty as the
//! message's `PUT .../send/...` comes in, or once the homeserver has answered it (before the
//! answer is relayed). The homeserver itself is the real one.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pushduty::standins::http::{Request, read_request};

use crate::support::cli::{Env, journal, stderr};
use crate::support::synapse::Synapse;

const FIXTURE: &str = "--runbook=tests/fixtures/runbooks/valid/chat.toml";
const TEXT: &str = "pushing 2015.09.10 on 2015-09-10, ana is the hero";
const SEND: &str = "/send/m.room.message/";

/// When the relay kills pushduty.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kill {
    /// As the message's request comes in: the homeserver never sees it.
    BeforeTheSend,
    /// Once the homeserver has stored it and answered: pushduty never hears.
    AfterTheSend,
}

/// The relay: forwards requests to `upstream`, killing `pid` at the moment `kill` names.
struct Relay {
    url: String,
    pid: Arc<Mutex<Option<u32>>>,
}

impl Relay {
    fn start(upstream: &str, kill: Kill) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let pid: Arc<Mutex<Option<u32>>> = Arc::default();
        let upstream = upstream.trim_start_matches("http://").to_string();
        let victim = Arc::clone(&pid);
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let (upstream, victim) = (upstream.clone(), Arc::clone(&victim));
                std::thread::spawn(move || relay(conn, &upstream, kill, &victim));
            }
        });
        Self { url, pid }
    }
}

/// SIGKILL to the pushduty the relay serves.
fn kill_now(victim: &Mutex<Option<u32>>) {
    if let Some(pid) = *victim.lock().unwrap() {
        unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    }
}

fn relay(mut conn: TcpStream, upstream: &str, kill: Kill, victim: &Mutex<Option<u32>>) {
    let Some(req) = read_request(&mut conn) else {
        return;
    };
    let sending = req.target.contains(SEND);
    if sending && kill == Kill::BeforeTheSend {
        return kill_now(victim);
    }
    let answer = forward(&req, upstream);
    if sending && kill == Kill::AfterTheSend {
        return kill_now(victim);
    }
    let _ = conn.write_all(&answer);
}

/// The request, as it came, to `upstream` on a connection of its own; the whole answer.
fn forward(req: &Request, upstream: &str) -> Vec<u8> {
    let mut up = TcpStream::connect(upstream).unwrap();
    up.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut head = format!(
        "{} {} HTTP/1.1\r\nHost: {upstream}\r\n",
        req.method, req.target
    );
    for (k, v) in &req.headers {
        if !k.eq_ignore_ascii_case("host") && !k.eq_ignore_ascii_case("connection") {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    head.push_str("Connection: close\r\n\r\n");
    up.write_all(head.as_bytes()).unwrap();
    up.write_all(&req.body).unwrap();
    let mut answer = Vec::new();
    let _ = up.read_to_end(&mut answer);
    answer
}

fn base<'a>(hs: &'a Synapse, url: &'a str) -> Vec<String> {
    vec![
        FIXTURE.into(),
        "--now".into(),
        "2015-09-08".into(),
        "--set".into(),
        format!("services.room.url={url}"),
        "--set".into(),
        format!("services.room.room={}", hs.room),
    ]
}

/// Posts through the relay, killed at `kill`; resumes straight to the homeserver.
fn killed_then_resumed(kill: Kill) {
    let Some(hs) = Synapse::start() else {
        return;
    };
    let env = Env::new();
    let relay = Relay::start(&hs.url, kill);
    let mut child = env
        .cmd()
        .env("PUSHDUTY_MATRIX_TOKEN", &hs.token)
        .args(base(&hs, &relay.url))
        .args(["do", "tell-room", "--yes"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    *relay.pid.lock().unwrap() = Some(child.id());
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGKILL), "not killed: {status}");
    let stored = hs.messages();
    match kill {
        Kill::BeforeTheSend => assert!(stored.is_empty(), "{stored:?}"),
        Kill::AfterTheSend => assert_eq!(stored, [TEXT]),
    }
    // The post id was journaled before the send, and the step did not end.
    let lines = journal(&env, "chat/2015-09-10");
    let txn = lines
        .iter()
        .find_map(|e| (e["event"] == "checkpoint").then(|| e["values"]["post_id"].clone()))
        .unwrap_or_else(|| panic!("no post id journaled: {lines:?}"));
    assert!(txn.is_string(), "{lines:?}");
    assert_eq!(lines.last().unwrap()["event"], "checkpoint", "{lines:?}");

    let again = env
        .cmd()
        .env("PUSHDUTY_MATRIX_TOKEN", &hs.token)
        .args(base(&hs, &hs.url))
        .args(["do", "tell-room", "--yes"])
        .output()
        .unwrap();
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(hs.messages(), [TEXT], "the room must hold it once");
    assert!(
        stderr(&again).contains(&format!(
            "posting {}, journaled by the run that did not finish",
            txn.as_str().unwrap()
        )),
        "{}",
        stderr(&again)
    );
    let said = format!(
        "{}{}",
        stderr(&again),
        String::from_utf8_lossy(&again.stdout)
    );
    assert!(!said.contains(&hs.token), "the token leaked: {said}");
}

#[test]
fn killed_after_the_homeserver_took_the_message_a_resumed_post_leaves_one() {
    killed_then_resumed(Kill::AfterTheSend);
}

#[test]
fn killed_before_the_message_went_a_resumed_post_leaves_one() {
    killed_then_resumed(Kill::BeforeTheSend);
}

#[test]
fn the_topic_is_set_and_read_back_and_refusals_name_their_errcode() {
    let Some(hs) = Synapse::start() else {
        return;
    };
    let env = Env::new();
    let out = env
        .cmd()
        .env("PUSHDUTY_MATRIX_TOKEN", &hs.token)
        .args(base(&hs, &hs.url))
        .args(["do", "topic-room", "--yes"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(hs.topic().as_deref(), Some("next push 2015-09-17: bo"));
    // A wrong token is said with what to do, and changes nothing.
    let refused = env
        .cmd()
        .env("PUSHDUTY_MATRIX_TOKEN", "syt_not_a_token")
        .args(base(&hs, &hs.url))
        .args(["do", "tell-room", "--yes"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let err = stderr(&refused);
    assert!(err.contains("M_UNKNOWN_TOKEN"), "{err}");
    assert!(err.contains("services.room.token"), "{err}");
    // A room the account has not joined: refused, said with what to do.
    let outside = env
        .cmd()
        .env("PUSHDUTY_MATRIX_TOKEN", &hs.token)
        .args(base(&hs, &hs.url))
        .args(["--set", "services.room.room=!elsewhere:localhost"])
        .args(["do", "tell-room", "--yes"])
        .output()
        .unwrap();
    assert!(!outside.status.success());
    let err = stderr(&outside);
    assert!(err.contains("M_FORBIDDEN"), "{err}");
    assert!(err.contains("must have joined the room"), "{err}");
    assert!(!err.contains(&hs.token), "{err}");
    assert!(hs.messages().is_empty());
}

/// `do tell-room` against the Matrix stand-in `room`.
fn tell_room(env: &Env, room: &pushduty::standins::matrix::Matrix) -> std::process::Output {
    env.cmd()
        .env("PUSHDUTY_MATRIX_TOKEN", room.token())
        .args([
            FIXTURE,
            "--now",
            "2015-09-08",
            "--set",
            &format!("services.room.url={}", room.url()),
            "--set",
            &format!("services.room.room={}", room.room()),
            "do",
            "tell-room",
            "--yes",
        ])
        .output()
        .unwrap()
}

/// The homeserver stand-in (the one rehearsals use) behind a proxy that answers 502 while the
/// homeserver restarts: the post is tried again at once and stored once; a proxy that stays
/// down ends the step saying so, and how a second run stays safe.
#[test]
fn a_502_is_tried_again_and_the_message_is_stored_once() {
    use pushduty::standins::matrix::{Config, Fault, Matrix};
    let room = Matrix::start(Config::default());
    room.set_fault(Fault::BadGateway { times: 2 });
    let out = tell_room(&Env::new(), &room);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("502"), "{}", stderr(&out));
    let bodies: Vec<String> = room.messages().into_iter().map(|m| m.body).collect();
    assert_eq!(bodies, [TEXT]);
    let sends = room.requests().iter().filter(|r| r.contains(SEND)).count();
    assert_eq!(sends, 3, "{:?}", room.requests());

    let down = Matrix::start(Config::default());
    down.set_fault(Fault::BadGateway { times: 100 });
    let out = tell_room(&Env::new(), &down);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("tried 5 times"), "{err}");
    assert!(err.contains("same transaction id"), "{err}");
    assert!(down.messages().is_empty());
}
