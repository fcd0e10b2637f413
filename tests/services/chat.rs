//! `chat.post` to Slack through the real binary, against the Slack stand-in: a post arrives
//! once, carrying its id; each way the Web API refuses (`invalid_auth`, `channel_not_found`,
//! `not_in_channel`, `missing_scope`, 429 with `Retry-After`, a 500) is said with what to do,
//! and nothing is posted twice: a post whose answer never came is looked for in the channel
//! before it goes again, and where the channel cannot be read the operator is asked. The
//! token and the webhook's URL are never printed or journaled.

use std::process::Output;
use std::time::{Duration, Instant};

use pushduty::standins::slack::{Config, Fault, Slack};

use crate::support::cli::{Env, journal, stderr, stdout};

const FIXTURE: &str = "--runbook=tests/fixtures/runbooks/valid/chat.toml";
const TEXT: &str = "pushing 2015.09.10 on 2015-09-10, ana is the hero";

struct Rig {
    env: Env,
    slack: Slack,
}

impl Rig {
    fn new() -> Self {
        Self::with(Config::default())
    }

    fn with(cfg: Config) -> Self {
        Self {
            env: Env::new(),
            slack: Slack::start(cfg),
        }
    }

    fn run_with_token(&self, token: &str, args: &[&str]) -> Output {
        self.env
            .cmd()
            .env("PUSHDUTY_SLACK_TOKEN", token)
            .env("PUSHDUTY_SLACK_WEBHOOK", self.slack.webhook_url())
            .env("PUSHDUTY_HTTP_TIMEOUT", "2")
            .args([
                FIXTURE,
                "--now",
                "2015-09-08",
                "--set",
                &format!("services.slack.api_url={}", self.slack.api_url()),
            ])
            .args(args)
            .output()
            .unwrap()
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_with_token(self.slack.token(), args)
    }

    fn texts(&self) -> Vec<String> {
        self.slack.messages().into_iter().map(|m| m.text).collect()
    }

    /// Everything the binary printed, the journal and the log files: where a secret must
    /// never be.
    fn said(&self, outs: &[&Output]) -> String {
        let mut all: String = outs
            .iter()
            .map(|o| format!("{}{}", stdout(o), stderr(o)))
            .collect();
        for e in journal(&self.env, "chat/2015-09-10") {
            all.push_str(&e.to_string());
        }
        let logs = self.env.path().join("state/logs");
        for f in std::fs::read_dir(logs).into_iter().flatten().flatten() {
            all.push_str(&std::fs::read_to_string(f.path()).unwrap_or_default());
        }
        all
    }

    /// The part of the webhook's URL that makes it a secret.
    fn hook_secret(&self) -> String {
        let url = self.slack.webhook_url();
        url.rsplit('/').next().unwrap_or_default().to_string()
    }

    fn posts(&self) -> usize {
        self.slack
            .requests()
            .iter()
            .filter(|r| r.ends_with("chat.postMessage"))
            .count()
    }
}

#[track_caller]
fn failed_saying(out: &Output, words: &[&str]) {
    assert!(!out.status.success(), "it should fail: {}", stdout(out));
    let err = stderr(out);
    for w in words {
        assert!(err.contains(w), "`{w}` not in: {err}");
    }
}

#[test]
fn a_post_reaches_the_channel_once_carrying_its_id_and_the_token_stays_secret() {
    let r = Rig::new();
    let out = r.run(&["do", "tell-slack", "--yes"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let messages = r.slack.messages();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0].text, TEXT);
    let printed = stdout(&out);
    let id = printed
        .lines()
        .find_map(|l| l.trim().strip_prefix("post_id = "))
        .expect("a post_id output");
    assert_eq!(messages[0].metadata["event_type"], "pushduty_post");
    assert_eq!(messages[0].metadata["event_payload"]["post_id"], id);
    assert!(
        printed.contains(&format!("message = {}", messages[0].ts)),
        "{printed}"
    );
    // The confirmation showed the exact message.
    assert!(stderr(&out).contains(TEXT), "{}", stderr(&out));
    let said = r.said(&[&out]);
    assert!(!said.contains(r.slack.token()), "the token leaked: {said}");
}

#[test]
fn a_refused_token_is_said_as_invalid_auth_and_the_fixed_run_posts_once() {
    let r = Rig::new();
    let out = r.run_with_token("xoxb-wrong", &["do", "tell-slack", "--yes"]);
    failed_saying(
        &out,
        &["invalid_auth", "services.slack.token", "nothing was posted"],
    );
    assert!(r.texts().is_empty());
    // Slack said no: the next run posts without asking whether the first arrived.
    let again = r.run(&["do", "tell-slack", "--yes"]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(r.texts(), [TEXT]);
    assert!(!r.said(&[&out, &again]).contains("xoxb-wrong"));
}

#[test]
fn an_unknown_channel_is_said_as_channel_not_found() {
    let r = Rig::new();
    let out = r.run(&[
        "--set",
        "services.slack.channel=C0UNKNOWN",
        "do",
        "tell-slack",
        "--yes",
    ]);
    failed_saying(&out, &["channel_not_found", "C0UNKNOWN", "`channel`"]);
    assert!(r.texts().is_empty());
}

#[test]
fn a_bot_outside_the_channel_is_told_to_invite_it() {
    let r = Rig::with(Config {
        member: false,
        ..Config::default()
    });
    let out = r.run(&["do", "tell-slack", "--yes"]);
    failed_saying(&out, &["not_in_channel", "/invite"]);
    assert!(r.texts().is_empty());
}

#[test]
fn a_rate_limit_is_waited_out_as_retry_after_says_then_posted_once() {
    let r = Rig::new();
    r.slack.set_fault(Fault::RateLimited { times: 1, secs: 1 });
    let started = Instant::now();
    let out = r.run(&["do", "tell-slack", "--yes"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(r.texts(), [TEXT]);
    assert_eq!(r.posts(), 2, "{:?}", r.slack.requests());
}

#[test]
fn a_rate_limit_longer_than_pushduty_waits_is_said_with_its_retry_after() {
    let r = Rig::new();
    r.slack.set_fault(Fault::RateLimited {
        times: 10,
        secs: 120,
    });
    let started = Instant::now();
    let out = r.run(&["do", "tell-slack", "--yes"]);
    failed_saying(&out, &["429", "Retry-After 120s", "nothing was posted"]);
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(r.texts().is_empty());
    assert_eq!(r.posts(), 1);
}

#[test]
fn a_post_whose_answer_never_came_is_found_in_the_channel_not_posted_again() {
    let r = Rig::new();
    r.slack.set_fault(Fault::TakeThenHang);
    let first = r.run(&["do", "tell-slack", "--yes"]);
    failed_saying(&first, &["may or may not have been posted", "looks for it"]);
    assert_eq!(r.texts(), [TEXT], "the stand-in took it");
    r.slack.set_fault(Fault::None);
    let again = r.run(&["do", "tell-slack", "--yes"]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("is in the channel already"),
        "{}",
        stderr(&again)
    );
    assert_eq!(r.texts(), [TEXT], "posted twice");
    assert_eq!(r.posts(), 1);
    let history = r.slack.requests();
    assert!(
        history.iter().any(|q| q.ends_with("conversations.history")),
        "{history:?}"
    );
}

#[test]
fn a_post_in_doubt_that_is_not_in_the_channel_goes_again_under_its_id() {
    let r = Rig::new();
    r.slack.set_fault(Fault::ServerError);
    let first = r.run(&["do", "tell-slack", "--yes"]);
    failed_saying(&first, &["HTTP 500", "may or may not have been posted"]);
    r.slack.set_fault(Fault::None);
    let again = r.run(&["do", "tell-slack", "--yes"]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("is not in the channel: posting it"),
        "{}",
        stderr(&again)
    );
    let messages = r.slack.messages();
    assert_eq!(messages.len(), 1);
    let id = stdout(&again)
        .lines()
        .find_map(|l| l.trim().strip_prefix("post_id = ").map(str::to_string))
        .expect("a post_id");
    assert_eq!(
        messages[0].metadata["event_payload"]["post_id"],
        id.as_str()
    );
}

#[test]
fn without_the_history_scope_the_operator_says_whether_it_arrived() {
    let r = Rig::with(Config {
        scopes: vec!["chat:write".into()],
        ..Config::default()
    });
    r.slack.set_fault(Fault::TakeThenHang);
    let first = r.run(&["do", "tell-slack", "--yes"]);
    assert!(!first.status.success());
    r.slack.set_fault(Fault::None);
    let looked = r.run(&["do", "tell-slack", "--yes"]);
    failed_saying(
        &looked,
        &[
            "missing_scope",
            "channels:history",
            "maybe_sent",
            "mark_sent",
        ],
    );
    let marked = r.run(&[
        "do",
        "tell-slack",
        "--yes",
        "--input",
        "maybe_sent=mark_sent",
    ]);
    assert!(marked.status.success(), "{}", stderr(&marked));
    assert!(
        stdout(&marked).contains("marked_sent"),
        "{}",
        stdout(&marked)
    );
    assert_eq!(r.texts(), [TEXT]);
}

#[test]
fn a_webhook_posts_and_after_a_failure_in_doubt_asks_before_posting_again() {
    let r = Rig::new();
    let out = r.run(&["do", "tell-hook", "--yes"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(r.texts(), ["push 2015.09.10 done"]);
    // The webhook's URL is its secret.
    assert!(!r.said(&[&out]).contains(&r.hook_secret()));

    let r = Rig::new();
    r.slack.set_fault(Fault::TakeThenHang);
    let first = r.run(&["do", "tell-hook", "--yes"]);
    assert!(!first.status.success());
    r.slack.set_fault(Fault::None);
    let asked = r.run(&["do", "tell-hook", "--yes"]);
    assert_eq!(asked.status.code(), Some(2), "{}", stderr(&asked));
    assert!(
        stderr(&asked).contains("--input maybe_sent=VALUE"),
        "{}",
        stderr(&asked)
    );
    let again = r.run(&[
        "do",
        "tell-hook",
        "--yes",
        "--input",
        "maybe_sent=send_again",
    ]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(r.texts().len(), 2, "sent again, as the operator chose");
    assert!(!r.said(&[&first, &asked, &again]).contains(&r.hook_secret()));
}

#[test]
fn the_topic_is_set_and_a_token_without_the_manage_scope_is_refused() {
    let r = Rig::new();
    let out = r.run(&["do", "topic-slack", "--yes"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(r.slack.topic(), "next push 2015-09-17: bo");
    let denied = Rig::with(Config {
        scopes: vec!["chat:write".into()],
        ..Config::default()
    });
    let out = denied.run(&["do", "topic-slack", "--yes"]);
    failed_saying(&out, &["missing_scope", "channels:manage"]);
    assert_eq!(denied.slack.topic(), "");
}
