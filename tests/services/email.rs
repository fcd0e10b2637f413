//! The `announce` step of the bundled runbook through the real binary, sending to a real SMTP
//! server (aiosmtpd; with STARTTLS and TLS too): what arrives, what the journal keeps, and what
//! is refused. The SMTP stand-in plays the servers that misbehave: one that takes a message
//! and never says so (pushduty killed then: the next run asks before sending again), one slow
//! enough to take the journal away under it, one that echoes a login it refuses.

use std::process::Output;

use serde_json::Value;

use crate::support;
use crate::support::cli::{Env, stderr, stdout};
use crate::support::smtp::{Config as SmtpConfig, Fault as SmtpFault, Smtp};
use crate::support::smtp_server::{Mode, SmtpServer, free_port, header};

const SESSION: &str = "amo-weekly-push/2015-09-10";

/// `pushduty do announce --yes` on the push day, sending to `host:port` with `security`.
fn announce(env: &Env, host: &str, port: u16, security: &str, extra: &[&str]) -> Output {
    env.cmd()
        .env("PUSHDUTY_HTTP_TIMEOUT", "5")
        .args(["--now", "2015-09-10T14:00:00-07:00"])
        .args(["--set", &format!("services.list.host={host}")])
        .args(["--set", &format!("services.list.port={port}")])
        .args(["--set", &format!("services.list.security={security}")])
        .args(extra)
        .args(["do", "announce", "--yes"])
        .output()
        .expect("run pushduty")
}

fn journal(env: &Env) -> Vec<Value> {
    support::cli::journal(env, SESSION)
}

fn checkpoints(env: &Env) -> Vec<Value> {
    journal(env)
        .into_iter()
        .filter(|e| e["event"] == "checkpoint" && e["step"] == "announce")
        .map(|e| e["values"].clone())
        .collect()
}

#[test]
fn the_announcement_arrives_as_shown_and_is_journaled() {
    let server = SmtpServer::start();
    let env = Env::new();
    let out = announce(&env, "127.0.0.1", server.port, "none", &[]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let said = stderr(&out);
    assert!(
        said.contains(&format!(
            "send \"AMO push 2015.09.10 is done\" from push-hero@mozilla.org to \
             dev-addons@mozilla.org via 127.0.0.1:{} (none)",
            server.port
        )),
        "{said}"
    );

    let got = server.messages();
    assert_eq!(got.len(), 1, "{got:?}");
    let m = &got[0];
    assert_eq!(
        header(m, "Subject").as_deref(),
        Some("AMO push 2015.09.10 is done")
    );
    assert_eq!(header(m, "From").as_deref(), Some("push-hero@mozilla.org"));
    assert_eq!(header(m, "To").as_deref(), Some("dev-addons@mozilla.org"));
    assert_eq!(
        header(m, "X-RcptTo").as_deref(),
        Some("dev-addons@mozilla.org")
    );
    assert!(
        m.contains("The AMO push of 2015-09-10 (2015.09.10) is done."),
        "{m}"
    );
    assert!(
        m.contains("Next push: 2015-09-17, with kumar as push hero."),
        "{m}"
    );

    let id = header(m, "Message-ID").expect("a Message-ID");
    assert!(
        id.starts_with("<pushduty.") && id.ends_with("@mozilla.org>"),
        "{id}"
    );
    let j = journal(&env);
    let done = j
        .iter()
        .find(|e| e["step"] == "announce" && e["to"] == "done")
        .expect("the done transition");
    assert_eq!(done["outputs"]["message_id"], id.as_str());
    assert_eq!(done["outputs"]["to"], "dev-addons@mozilla.org");
    assert_eq!(done["outputs"]["subject"], "AMO push 2015.09.10 is done");
    // The text was journaled before connecting, with the same id; then, right before the
    // message went, that it was being sent.
    let c = checkpoints(&env);
    assert_eq!(c.len(), 2, "{c:?}");
    assert_eq!(c[0]["message_id"], id.as_str());
    assert_eq!(c[1]["sending"], id.as_str());
    assert!(
        c[0]["message"]
            .as_str()
            .unwrap()
            .contains("Subject: AMO push 2015.09.10 is done\n")
    );

    // What a reader gets, as stored by the server; what changes with every run is masked.
    let stable = m
        .lines()
        .filter(|l| !l.starts_with("X-Peer:"))
        .collect::<Vec<_>>()
        .join("\n");
    insta::with_settings!({filters => vec![
        (r"(?m)^Message-ID: <pushduty\.\d+\.[0-9a-f]+@", "Message-ID: <pushduty.[TIME].[RANDOM]@"),
    ]}, {
        insta::assert_snapshot!("announce_message", stable);
    });
}

#[test]
fn header_injection_through_a_value_is_refused_and_nothing_is_sent() {
    let server = SmtpServer::start();
    let env = Env::new();
    // The tag is in the subject; a tag format holding CR LF would add a Bcc header.
    let out = announce(
        &env,
        "127.0.0.1",
        server.port,
        "none",
        &[
            "--set",
            "schedule.tag_format=%Y.%m.%d\r\nBcc: x@evil.example",
        ],
    );
    assert!(!out.status.success());
    let said = stderr(&out);
    assert!(
        said.contains("the `Subject` header holds a control character (\\u{d})")
            && said.contains("header injection"),
        "{said}"
    );
    assert!(server.messages().is_empty(), "{:?}", server.messages());
    assert!(
        checkpoints(&env).is_empty(),
        "nothing to keep: {:?}",
        checkpoints(&env)
    );
}

#[test]
fn a_server_that_is_down_keeps_the_text_and_the_next_run_sends_it() {
    let env = Env::new();
    let port = free_port();
    let out = announce(&env, "127.0.0.1", port, "none", &[]);
    assert!(!out.status.success());
    let said = stderr(&out);
    assert!(
        said.contains(&format!(
            "cannot connect to 127.0.0.1:{port}: connection refused"
        )) && said.contains("the message is kept in the journal"),
        "{said}"
    );
    let kept = checkpoints(&env);
    assert_eq!(kept.len(), 1, "{kept:?}");
    let text = kept[0]["message"].as_str().expect("the text").to_string();
    let id = kept[0]["message_id"].as_str().expect("the id").to_string();
    let failed = journal(&env)
        .into_iter()
        .rfind(|e| e["step"] == "announce" && e["to"].is_string())
        .unwrap();
    assert_eq!(failed["to"], "failed");

    let server = SmtpServer::start_on(port);
    let out = announce(&env, "127.0.0.1", port, "none", &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let said = stderr(&out);
    assert!(
        said.contains(&format!("Message-ID {id}: the text journaled")),
        "{said}"
    );
    assert!(
        said.contains(&format!(
            "using the message journaled by the run that did not finish (Message-ID {id})"
        )),
        "{said}"
    );
    let got = server.messages();
    assert_eq!(got.len(), 1);
    assert_eq!(header(&got[0], "Message-ID"), Some(id.clone()));
    // The same moment (the server's copy is written in UTC).
    let date = |m: &str| {
        chrono::DateTime::parse_from_rfc2822(&header(m, "Date").expect("a Date")).expect("a date")
    };
    assert_eq!(date(&got[0]), date(&text));
    let body = |m: &str| m.split_once("\n\n").map(|(_, b)| b.trim_end().to_string());
    assert_eq!(body(&got[0]), body(&text));
}

#[test]
fn plain_text_to_another_machine_is_refused() {
    let server = SmtpServer::start();
    let env = Env::new();
    // `127.1` reaches this machine (the resolver reads it as 127.0.0.1, where the server
    // listens), but it is not a name pushduty knows for loopback: it counts as another machine,
    // so the server there shows whether anything was sent before the refusal.
    for (host, port) in [("smtp.example.org", 25), ("127.1", server.port)] {
        let out = announce(&env, host, port, "none", &[]);
        assert!(!out.status.success(), "{host}: {}", stdout(&out));
        let said = stderr(&out);
        assert!(
            said.contains("`security = \"none\"` sends the email (and any password) in plain text")
                && said.contains(&format!("not to {host}")),
            "{said}"
        );
    }
    assert!(server.messages().is_empty(), "{:?}", server.messages());
    assert!(checkpoints(&env).is_empty());
    // The same server by a loopback name gets the message: it was there to receive one.
    let out = announce(&env, "127.0.0.1", server.port, "none", &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(server.messages().len(), 1, "{:?}", server.messages());
}

/// The one-step runbook of the send-once tests, and its session.
const ONCE: &str = "--runbook=tests/fixtures/runbooks/valid/email.toml";
const ONCE_SESSION: &str = "announce/2015-09-10";

/// `pushduty ONCE --now (push day) --set (the list at 127.0.0.1:port) ARGS`.
fn once(env: &Env, port: u16, args: &[&str]) -> std::process::Command {
    let mut c = env.cmd();
    c.env("PUSHDUTY_HTTP_TIMEOUT", "30")
        .args([ONCE, "--now", "2015-09-10T14:00:00-07:00"])
        .args(["--set", &format!("services.list.port={port}")])
        .args(args);
    c
}

fn once_checkpoints(env: &Env) -> Vec<Value> {
    support::cli::journal(env, ONCE_SESSION)
        .into_iter()
        .filter(|e| e["event"] == "checkpoint" && e["step"] == "announce")
        .map(|e| e["values"].clone())
        .collect()
}

/// Waits (bounded) until `f` holds.
fn wait_until(what: &str, f: impl Fn() -> bool) {
    let end = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while !f() {
        assert!(std::time::Instant::now() < end, "{what} never happened");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// pushduty killed (SIGKILL) after the server took the message and before it could say so:
/// what the journal then holds is exactly what a crash in that window leaves. Returns the
/// Message-ID that was being sent.
fn crash_while_sending(env: &Env) -> String {
    let silent = Smtp::start(SmtpConfig {
        fault: SmtpFault::SilentAccept,
        ..SmtpConfig::default()
    });
    let mut child = once(env, silent.port(), &["do", "announce", "--yes"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start pushduty");
    wait_until("the message reaching the server", || {
        silent.messages().len() == 1
    });
    child.kill().expect("kill pushduty");
    let _ = child.wait();
    let sent = &silent.messages()[0].data;
    let id = header(&sent.replace("\r\n", "\n"), "Message-ID").expect("a Message-ID");
    let c = once_checkpoints(env);
    assert_eq!(
        c.last().map(|v| v["sending"].clone()),
        Some(Value::from(id.as_str())),
        "journaled as being sent before DATA: {c:?}"
    );
    id
}

#[test]
fn after_a_crash_while_sending_the_hero_is_asked_and_nothing_goes_by_itself() {
    let env = Env::new();
    let id = crash_while_sending(&env);
    let server = Smtp::start(SmtpConfig::default());
    let port = server.port();

    // `do` without a terminal: the question, the Message-ID to look for, nothing sent.
    let out = once(&env, port, &["do", "announce", "--yes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let said = stderr(&out);
    for want in [
        "`announce` needs `maybe_sent`",
        &format!("pushduty stopped while sending {id}: did it arrive?"),
        &format!("look for Message-ID {id} in the list's archive or your inbox"),
        "1. mark_sent: it arrived: mark the step done, send nothing",
        "2. send_again: it did not arrive: send the same message again",
    ] {
        assert!(said.contains(want), "{want}: {said}");
    }
    // `run --auto` stops there (exit 3: a person is needed) and says why.
    let out = once(&env, port, &["run", "--auto"]).output().unwrap();
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(3), "{all}");
    assert!(
        all.contains("needs `maybe_sent`") && all.contains(&id),
        "{all}"
    );
    assert!(server.messages().is_empty(), "{:?}", server.messages());

    // The hero found it: done, nothing sent.
    let out = once(
        &env,
        port,
        &["do", "announce", "--yes", "--input", "maybe_sent=mark_sent"],
    )
    .output()
    .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("not sent again: you found {id}")),
        "{}",
        stderr(&out)
    );
    assert!(server.messages().is_empty(), "{:?}", server.messages());
    let done = support::cli::journal(&env, ONCE_SESSION)
        .into_iter()
        .find(|e| e["step"] == "announce" && e["to"] == "done")
        .expect("done");
    assert_eq!(done["outputs"]["message_id"], id.as_str());
    assert!(done["outputs"]["marked_sent"].is_string(), "{done}");
}

#[test]
fn after_a_crash_while_sending_send_again_sends_the_same_message() {
    let env = Env::new();
    let id = crash_while_sending(&env);
    let server = Smtp::start(SmtpConfig::default());
    let out = once(
        &env,
        server.port(),
        &[
            "do",
            "announce",
            "--yes",
            "--input",
            "maybe_sent=send_again",
        ],
    )
    .output()
    .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let got = server.messages();
    assert_eq!(got.len(), 1);
    assert_eq!(
        header(&got[0].data.replace("\r\n", "\n"), "Message-ID"),
        Some(id)
    );
}

#[test]
fn the_email_is_not_sent_when_the_journal_cannot_take_its_message_id() {
    let env = Env::new();
    // Slow to take the recipients: time to take the journal away once the text is in it.
    let server = Smtp::start(SmtpConfig {
        fault: SmtpFault::SlowRecipients(std::time::Duration::from_millis(1500)),
        ..SmtpConfig::default()
    });
    let child = once(&env, server.port(), &["do", "announce", "--yes"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_until("the text journaled", || !once_checkpoints(&env).is_empty());
    // A session whose lock is gone writes nothing more: the journal refuses the next entry,
    // as it would a failed write or sync.
    std::fs::remove_file(
        env.path()
            .join("state/sessions")
            .join(ONCE_SESSION)
            .join("lock"),
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    let said = stderr(&out);
    assert!(
        said.contains("journaling that <pushduty.") && said.contains("so the message was not sent"),
        "{said}"
    );
    assert!(server.messages().is_empty(), "{:?}", server.messages());
}

#[test]
fn starttls_and_tls_reach_a_real_server_trusted_through_ca_file() {
    for (mode, security) in [(Mode::StartTls, "starttls"), (Mode::Tls, "tls")] {
        let server = SmtpServer::start_as(mode);
        let ca = server.ca_file();
        let env = Env::new();
        // Not trusted: the certificate is refused, nothing sent.
        let out = announce(&env, "127.0.0.1", server.port, security, &[]);
        assert!(!out.status.success(), "{security}: {}", stdout(&out));
        let said = stderr(&out);
        assert!(
            said.contains("TLS with 127.0.0.1") && said.contains("UnknownIssuer"),
            "{security}: {said}"
        );
        assert!(server.messages().is_empty(), "{security}");
        // Trusted through the service's `ca_file`: sent, and arrives.
        let trust = format!("services.list.ca_file={}", ca.display());
        let out = announce(&env, "127.0.0.1", server.port, security, &["--set", &trust]);
        assert!(out.status.success(), "{security}: {}", stderr(&out));
        let got = server.messages();
        assert_eq!(got.len(), 1, "{security}");
        assert_eq!(
            header(&got[0], "Subject").as_deref(),
            Some("AMO push 2015.09.10 is done"),
            "{security}"
        );
    }
    // A `ca_file` that holds no certificate is refused before anything is sent.
    let env = Env::new();
    let empty = env.path().join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    let out = announce(
        &env,
        "127.0.0.1",
        25,
        "tls",
        &[
            "--set",
            &format!("services.list.ca_file={}", empty.display()),
        ],
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("holds no PEM certificate"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_login_echoed_by_the_server_is_redacted_in_every_form() {
    const PASSWORD: &str = "pa55-word-of-the-list";
    // As each mechanism sends them: `\0user\0password` (PLAIN), and user and password on
    // lines of their own (LOGIN).
    let plain = "AGhlcm8AcGE1NS13b3JkLW9mLXRoZS1saXN0";
    let login = "cGE1NS13b3JkLW9mLXRoZS1saXN0";
    for mechanism in ["PLAIN", "LOGIN"] {
        let server = Smtp::start(SmtpConfig {
            login: Some(("hero".into(), PASSWORD.into())),
            mechanisms: mechanism.into(),
            fault: SmtpFault::EchoLogin,
            ..SmtpConfig::default()
        });
        let env = Env::new();
        let out = env
            .cmd()
            .env("PUSHDUTY_SMTP_PASSWORD", PASSWORD)
            .args(["--now", "2015-09-10T14:00:00-07:00"])
            .args(["--set", "services.list.host=127.0.0.1"])
            .args(["--set", &format!("services.list.port={}", server.port())])
            .args(["--set", "services.list.security=none"])
            .args(["--set", "services.list.user=hero"])
            .args(["do", "announce", "--yes"])
            .output()
            .unwrap();
        assert!(!out.status.success());
        let said = stderr(&out);
        // PLAIN's one line is cut whole; LOGIN's user line is no secret.
        let shown = match mechanism {
            "PLAIN" => "refused AUTH PLAIN [redacted]",
            _ => "refused AUTH LOGIN aGVybw== [redacted]",
        };
        assert!(said.contains(shown), "{mechanism}: {said}");
        let everywhere = format!("{said}{}{}", stdout(&out), support::cli::written(&env));
        assert!(everywhere.contains("[redacted]"), "{mechanism}");
        for leak in [PASSWORD, plain, login] {
            assert!(
                !everywhere.contains(leak),
                "{mechanism}: {leak} in {everywhere}"
            );
        }
    }
}
