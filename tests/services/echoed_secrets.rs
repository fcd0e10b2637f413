//! A server that repeats what it received in its error (a debugging proxy, a misconfigured
//! endpoint) hands the secret back in the form it travelled in: base64 in the Jenkins basic
//! authentication header, percent-encoded in the Etherpad form body. Through the real binary,
//! none of those forms reaches stderr, the journal, `session.json` or the log.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;

use crate::stage;
use crate::support;
use crate::support::cli::{Env, stderr, stdout};

/// A server on loopback that answers every request with HTTP 400 and an Etherpad-shaped JSON
/// error whose message is the request itself (head lines, then body), on one line. Returns
/// its URL; it serves until the test process ends.
fn echo_server() -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(5)));
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut head = Vec::new();
            let mut length = 0;
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                    break;
                }
                let line = line.trim_end().to_string();
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                head.push(line);
            }
            let mut body = vec![0; length];
            let _ = r.read_exact(&mut body);
            // The credentials first: a client may show only the start of an answer.
            head.sort_by_key(|l| !l.to_ascii_lowercase().starts_with("authorization"));
            let echoed = format!(
                "you sent: {} | {}",
                head.join(" | "),
                String::from_utf8_lossy(&body)
            );
            let answer =
                serde_json::json!({"message": echoed, "code": 3, "data": null}).to_string();
            let mut w = s;
            let _ = write!(
                w,
                "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    url
}

/// What a run printed and left on disk.
fn everywhere(env: &Env, out: &std::process::Output) -> String {
    format!(
        "{}{}{}",
        stderr(out),
        stdout(out),
        support::cli::written(env)
    )
}

#[test]
fn jenkins_basic_auth_echoed_back_is_redacted() {
    const TOKEN: &str = "tok-jenkins-e4c0d1";
    // `andym:tok-jenkins-e4c0d1`, as the Authorization header carries it.
    const BASIC: &str = "YW5keW06dG9rLWplbmtpbnMtZTRjMGQx";
    let url = echo_server();
    let env = Env::new();
    let out = stage::cmd(
        &env,
        "--runbook=tests/fixtures/runbooks/valid/deploy.toml",
        ("PUSHDUTY_JENKINS_TOKEN", TOKEN),
        &[
            format!("services.stage.url={url}"),
            "services.stage.user=andym".into(),
        ],
        &["do", "deploy", "--yes"],
    )
    .output()
    .unwrap();
    assert!(!out.status.success());
    let all = everywhere(&env, &out);
    assert!(
        stderr(&out).contains("Basic [redacted]"),
        "the echo reached the error: {}",
        stderr(&out)
    );
    for leak in [TOKEN, BASIC] {
        assert!(!all.contains(leak), "{leak} in:\n{all}");
    }
}

#[test]
fn an_etherpad_key_echoed_back_percent_encoded_is_redacted() {
    // Characters a form body encodes: `/`, `+`, `=`, `&`, a space.
    const KEY: &str = "k3y/with+form=chars&a space";
    const ENCODED: &str = "k3y%2Fwith%2Bform%3Dchars%26a+space";
    let url = echo_server();
    let env = Env::new();
    let out = env
        .cmd()
        .env("PUSHDUTY_ETHERPAD_KEY", KEY)
        .env("PUSHDUTY_HTTP_TIMEOUT", "2")
        .args([
            "--runbook=tests/fixtures/runbooks/valid/notes.toml",
            "--now",
            "2015-09-08",
            "--set",
            &format!("services.pad.url={url}"),
            "do",
            "notes-pad",
            "--yes",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let all = everywhere(&env, &out);
    assert!(
        stderr(&out).contains("apikey=[redacted]"),
        "the echo reached the error: {}",
        stderr(&out)
    );
    for leak in [KEY, ENCODED, "k3y%2F", "k3y%2f"] {
        assert!(!all.contains(leak), "{leak} in:\n{all}");
    }
}
