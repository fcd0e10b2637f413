//! A whole push of the bundled runbook through `do`, every step done against a real service
//! (git repos with a bare remote, Graphite, an SMTP server) or a stand-in that answers as the
//! documented API does (Jenkins, Sentry, GitHub, Etherpad); and no token leaves memory: with a
//! distinct token in every variable the runbook names (and a shell step that prints its
//! environment), none is in any output, screen, journal, session file or lock, and the
//! session files are private.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::support::cli::{stderr, stdout};
use crate::support::github::Issue;
use crate::support::smtp_server::SmtpServer;
use crate::whole_push::{Outside, TOKENS, WholePush, forty_minutes_ago, steady_graphite};

/// A step that prints the environment.
const PRINT_ENV: &str = r#"
[[steps]]
id = "print-env"
section = "done"
title = "Print what a command sees"
kind = "shell"
command = "env; echo jenkins=${PUSHDUTY_JENKINS_TOKEN:-unset}"
timeout_secs = 10
"#;

struct Scripted {
    push: WholePush,
    seen: String,
    /// `--now`: each step is done on the day the runbook plans it for, as a hero would.
    today: &'static str,
}

impl Scripted {
    fn run(&mut self, args: &[&str]) -> Output {
        let out = self.push.cmd(self.today).args(args).output().unwrap();
        self.seen.push_str(&stdout(&out));
        self.seen.push_str(&stderr(&out));
        out
    }
}

fn files_under(p: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(p).unwrap().flatten() {
        if e.path().is_dir() {
            files_under(&e.path(), out);
        } else {
            out.push(e.path());
        }
    }
}

#[test]
fn a_whole_push_runs_every_step_and_leaves_no_token_anywhere() {
    // The production push forty minutes ago: the watches' soak is over, so they judge at once
    // on a quiet Sentry and a Graphite whose traffic is steady.
    let pushed_at = forty_minutes_ago();
    let graphite = steady_graphite(pushed_at);
    let mail = SmtpServer::start();
    let push = WholePush::start(Outside {
        graphite: &graphite.url,
        mail_port: mail.port,
        issues: vec![Issue::open(
            "mozilla/olympia",
            12,
            "Stage is slow",
            &["blocker"],
        )],
        extra_step: PRINT_ENV,
        pushed_at,
    });
    let pushed = format!("approved_at={}", push.pushed());
    let mut s = Scripted {
        push,
        seen: String::new(),
        today: "2015-09-08",
    };
    let steps: &[&[&str]] = &[
        &["check-rotation", "--note", "my week"],
        &["fetch"],
        &["strategy", "--input", "strategy=master"],
        &["tag-master"],
        &["push-tag"],
        &["compare"],
        &["compare-tell"],
        &["notes-compare"],
        &["deploy-stage"],
        &["verify-stage"],
        &["verify-stage-tell"],
        &["blockers", "--input", "blocker.12=deferred"],
        &["notes-blockers"],
        &["qa-approval", "--input", "approved_by=krupa"],
        // Forty minutes ago: the watches' soak is over, so they judge at once.
        &[
            "production-push",
            "--input",
            "approved_by=jason",
            "--input",
            &pushed,
        ],
        &["production-push-tell"],
        &["watch-sentry"],
        &["watch-graphite"],
        &["next-notes"],
        &["next-notes-tell"],
        &["announce"],
        &["announce-tell"],
        &["print-env"],
    ];
    for step in steps {
        // Tuesday's steps on Tuesday, the blockers on Wednesday, the push on Thursday.
        s.today = match step[0] {
            "blockers" | "notes-blockers" => "2015-09-09",
            "qa-approval"
            | "production-push"
            | "production-push-tell"
            | "watch-sentry"
            | "watch-graphite"
            | "next-notes"
            | "next-notes-tell"
            | "announce"
            | "announce-tell"
            | "print-env" => "2015-09-10",
            _ => s.today,
        };
        let mut args = vec!["do"];
        args.extend_from_slice(step);
        args.push("--yes");
        let out = s.run(&args);
        assert!(out.status.success(), "do {step:?} failed:\n{}", s.seen);
    }
    assert_eq!(s.push.jenkins.triggers(), 1);
    // Every step of the runbook is done: the push is complete.
    let shown = s.run(&["show", "--json"]);
    let shown: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    for st in shown["steps"].as_array().unwrap() {
        let ok = st["status"] == "done" || st["status"] == "not_applicable";
        assert!(ok, "{}: {}", st["id"], st["status"]);
    }
    // Each approval kept what it was given on: the tag and its commit, the deploy, what
    // stage answered, the blockers; ops' approval also QA's.
    let step = |id: &str| {
        shown["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == id)
            .unwrap()
            .clone()
    };
    let facts = |id: &str| -> Vec<String> {
        step(id)["outputs"]["evidence"]["facts"]
            .as_array()
            .unwrap_or_else(|| panic!("{id}: {}", step(id)))
            .iter()
            .map(|f| {
                format!(
                    "{}: {}",
                    f["step"].as_str().unwrap(),
                    f["fact"].as_str().unwrap()
                )
            })
            .collect()
    };
    let qa = facts("qa-approval");
    let has = |facts: &[String], start: &str| facts.iter().any(|f| f.starts_with(start));
    assert!(has(&qa, "tag-master: tagged 2015.09.10 at "), "{qa:?}");
    assert!(has(&qa, "deploy-stage: build #1 SUCCESS "), "{qa:?}");
    assert!(
        has(&qa, "verify-stage: answered: {\"version\": \"2015.09.10\"}"),
        "{qa:?}"
    );
    assert!(
        has(&qa, "blockers: Stage is slow (#12): deferred"),
        "{qa:?}"
    );
    assert!(
        !has(&qa, "production-push"),
        "only what came before: {qa:?}"
    );
    let ops = facts("production-push");
    assert!(has(&ops, "qa-approval: approved by krupa at "), "{ops:?}");
    let report = String::from_utf8_lossy(&s.run(&["report"]).stdout).into_owned();
    assert!(report.contains("  - what the approver saw:"), "{report}");
    assert!(
        report.contains("    - qa-approval: approved by krupa at "),
        "{report}"
    );
    let sent = mail.messages();
    assert_eq!(sent.len(), 1, "the announcement arrived");
    assert!(sent[0].contains("2015.09.10"), "{}", sent[0]);
    // "with any issues seen", as the step's doc promises.
    assert!(
        sent[0].contains("Monitoring after the push: 0 new Sentry issues; Graphite pass."),
        "{}",
        sent[0]
    );
    let this = s.push.pad.pad("amo-2015-09-10").unwrap_or_default();
    assert!(this.contains("Pushing 2015.09.10: "), "{this}");
    assert!(
        this.contains("Blockers for 2015.09.10: Stage is slow (#12): deferred"),
        "{this}"
    );
    let next = s.push.pad.pad("amo-2015-09-17").unwrap_or_default();
    assert!(next.contains("- ") && next.contains("Ship me"), "{next}");
    // The channel was told four times, each once, and its topic names the next hero.
    let told: Vec<String> = s.push.room.messages().into_iter().map(|m| m.body).collect();
    assert_eq!(told.len(), 4, "{told:?}");
    assert!(
        told[0].starts_with("pushing 2015.09.10 on 2015-09-10: "),
        "{told:?}"
    );
    assert_eq!(
        told[3],
        "push 2015.09.10 done; kumar pushes next, on 2015-09-17"
    );
    let topic = s.push.room.topic().unwrap_or_default();
    assert!(
        topic.starts_with("next push 2015-09-17: kumar is the push hero; notes: "),
        "{topic}"
    );
    for done in [
        "done: tag-master",
        "done: push-tag",
        "done: deploy-stage",
        "done: verify-stage",
        "done: blockers",
        "done: notes-compare",
        "done: notes-blockers",
        "done: next-notes",
        "done: watch-sentry",
        "done: watch-graphite",
        "done: announce",
        "done: print-env",
    ] {
        assert!(s.seen.contains(done), "{done}: {}", s.seen);
    }
    assert!(
        s.seen.contains("jenkins=unset"),
        "the command saw a token: {}",
        s.seen
    );
    for args in [
        &["show"][..],
        &["show", "--json"],
        &["history"],
        &["history", "--json"],
        &["plan"],
        &["plan", "--json"],
        &["status", "--json"],
        &["check"],
        &["report"],
        &["report", "--format", "json"],
    ] {
        s.run(args);
    }
    for (name, value) in TOKENS {
        assert!(!s.seen.contains(value), "{name} was printed:\n{}", s.seen);
    }
    let state = s.push.env.path().join("state");
    let mut files = Vec::new();
    files_under(&state, &mut files);
    assert!(files.len() >= 3, "{files:?}");
    for f in &files {
        let text = String::from_utf8_lossy(&std::fs::read(f).unwrap()).into_owned();
        for (name, value) in TOKENS {
            assert!(!text.contains(value), "{name} is in {}", f.display());
        }
        let mode = std::fs::metadata(f).unwrap().permissions().mode() & 0o777;
        if f.starts_with(state.join("sessions")) {
            assert_eq!(mode, 0o600, "{}", f.display());
        }
    }
}
