//! The `announce` step of the bundled runbook through the real binary, sending to a real SMTP
//! server (aiosmtpd): what arrives, what the journal keeps, and what is refused.

use std::process::Output;

use serde_json::Value;

use crate::support;
use crate::support::cli::{Env, stderr, stdout};
use crate::support::smtp_server::{SmtpServer, free_port, header};

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
    // The text was journaled before sending, with the same id.
    let c = checkpoints(&env);
    assert_eq!(c.len(), 1, "{c:?}");
    assert_eq!(c[0]["message_id"], id.as_str());
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
