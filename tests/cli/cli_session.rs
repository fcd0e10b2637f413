//! `do` and `history` through the real binary, without a terminal.

use crate::support::cli::{Env, do_step, stderr, stdout};

const RB: &str = "--runbook=tests/fixtures/runbooks/valid/engine.toml";

#[test]
fn do_needs_yes_without_a_terminal_then_runs_in_the_session() {
    let env = Env::new();
    let o = env.run(&do_step(RB, "hello", &["--input", "blockers=none"]));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("pass --yes"));

    let o = env.run(&do_step(RB, "hello", &["--yes"]));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--input blockers=VALUE"));

    let o = env.run(&do_step(
        RB,
        "hello",
        &["--yes", "--note", "checked", "--input", "blockers=none"],
    ));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("done: hello\n  blockers = none"),
        "{}",
        stdout(&o)
    );

    // Done steps do not run twice.
    let o = env.run(&do_step(RB, "hello", &["--yes", "--input", "blockers=x"]));
    assert_eq!(o.status.code(), Some(1));
    // Every `do` of a push resumes its session: saying so each time was noise.
    assert!(
        !stderr(&o).contains("resumed the session"),
        "{}",
        stderr(&o)
    );

    // A service step without its credentials fails saying what to configure.
    let o = env.run(&do_step(RB, "deploy", &["--yes"]));
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("service `ci` has no user: set `services.ci.user` in your config"),
        "{}",
        stderr(&o)
    );

    let o = env.run(&["history"]);
    let text = stdout(&o);
    assert!(text.contains("2015-09-10  Engine kinds"), "{text}");
    assert!(text.contains("1/8"), "{text}");
    assert!(text.contains("failed"), "{text}");
    let o = env.run(&["history", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    // When it started reads in the operator's own time, not as the journal's RFC 3339.
    let o = env
        .cmd()
        .env("TZ", "Asia/Tokyo")
        .arg("history")
        .output()
        .unwrap();
    let text = stdout(&o);
    let started = v["sessions"][0]["started"].as_str().unwrap();
    assert!(!text.contains(started), "{text}");
    assert!(text.contains(" +09:00"), "{text}");
    let v = &v["sessions"];
    assert_eq!(v[0]["runbook"], "Engine kinds");
    assert_eq!(v[0]["operator"], "tester");
    assert_eq!(v[0]["outcome"], "failed");
    assert!(v[0]["started"].is_string());
}

#[test]
fn do_reports_runbook_changes_and_interrupted_steps_on_stderr() {
    let env = Env::new();
    let dir = env.path().join("state/sessions/engine-kinds/2015-09-10");
    let o = env.run(&do_step(
        RB,
        "strategy",
        &["--yes", "--input", "strategy=master"],
    ));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // What a kill -9 during `echo` leaves: its start journaled, nothing after. And the
    // team edited a step of the runbook since.
    let mut journal = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.join("journal.jsonl"))
        .unwrap();
    use std::io::Write;
    writeln!(
        journal,
        r#"{{"time":"2015-09-08T10:00:00Z","operator":"tester","event":"step","step":"echo","from":"pending","to":"running"}}"#
    )
    .unwrap();
    let edited = env.path().join("engine.toml");
    let text = std::fs::read_to_string("tests/fixtures/runbooks/valid/engine.toml").unwrap();
    std::fs::write(
        &edited,
        text.replace("title = \"QA approves\"", "title = \"QA signs off\""),
    )
    .unwrap();
    std::fs::create_dir_all(env.path().join("templates")).unwrap();
    std::fs::copy(
        "tests/fixtures/runbooks/valid/templates/notes.md",
        env.path().join("templates/notes.md"),
    )
    .unwrap();
    let rb = format!("--runbook={}", edited.display());
    let o = env.run(&[&rb, "--now", "2015-09-08", "do", "echo", "--yes"]);
    let err = stderr(&o);
    assert!(
        err.contains("`echo` was running when pushduty stopped"),
        "{err}"
    );
    assert!(
        err.contains("runbook changed since this session began: changed qa"),
        "{err}"
    );
    assert!(
        err.contains("session.json was older than the journal: the session was rebuilt"),
        "{err}"
    );
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("  one") && err.contains("  two"), "{err}");
}

#[test]
fn unknown_step_is_a_usage_error() {
    let env = Env::new();
    let o = env.run(&[RB, "do", "nope", "--yes"]);
    assert_eq!(o.status.code(), Some(2));
}

/// A chat post done by hand: the text to post, exactly, and where; no token needed.
#[test]
fn a_chat_post_done_by_hand_shows_the_text_and_where_to_post_it() {
    let env = Env::new();
    let rb = "--runbook=tests/fixtures/runbooks/valid/chat.toml";
    let out = env.run(&[
        rb,
        "--now",
        "2015-09-08",
        "do",
        "tell-room",
        "--by-hand",
        "--note",
        "posted from my phone",
        "--yes",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("post this in the Matrix room !push:example.org:"),
        "{}",
        stderr(&out)
    );
    assert!(
        stdout(&out).starts_with("pushing 2015.09.10 on 2015-09-10, "),
        "{}",
        stdout(&out)
    );
    let out = env.run(&[rb, "--now", "2015-09-08", "show", "--json"]);
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let step = shown["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "tell-room")
        .unwrap();
    assert_eq!(step["status"], "done", "{step}");
    assert_eq!(step["by_hand"], true, "{step}");
    // A Slack post by hand names the channel, not the runbook's name for the service.
    let out = env.run(&[
        rb,
        "--now",
        "2015-09-08",
        "do",
        "tell-slack",
        "--by-hand",
        "--note",
        "posted",
        "--yes",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("post this in the Slack channel C0PUSHDUTY:"),
        "{}",
        stderr(&out)
    );
}
