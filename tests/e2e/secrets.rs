//! A whole push of the bundled runbook through `do`, every step done against a real service
//! (git repos with a bare remote, Graphite, an SMTP server) or a stand-in that answers as the
//! documented API does (Jenkins, Sentry, GitHub, Etherpad); and no token leaves memory: with a
//! distinct token in every variable the runbook names (and a shell step that prints its
//! environment), none is in any output, screen, journal, session file or lock, and the
//! session files are private.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support;
use crate::support::cli::{Env, root, stderr, stdout};
use crate::support::etherpad::{Config as EtherpadConfig, Etherpad};
use crate::support::github::{Config as GithubConfig, Github, Issue};
use crate::support::gitrepo::{Fixture, git};
use crate::support::jenkins::{Config as JenkinsConfig, Jenkins};
use crate::support::sentry::{Config as SentryConfig, Sentry};
use crate::support::smtp_server::SmtpServer;

const TOKENS: &[(&str, &str)] = &[
    ("PUSHDUTY_JENKINS_TOKEN", "tok-jenkins-7f3a91"),
    ("PUSHDUTY_SENTRY_TOKEN", "tok-sentry-b2c4d8"),
    ("PUSHDUTY_ETHERPAD_KEY", "tok-etherpad-e5f6a7"),
    ("PUSHDUTY_SMTP_PASSWORD", "tok-smtp-c9d0e1"),
    ("GITHUB_TOKEN", "tok-github-f2a3b4"),
    ("PUSHDUTY_GITHUB_TOKEN", "tok-github-blockers-5d6e7f"),
];

/// The bundled runbook with a step that prints the environment, beside its templates.
fn runbook(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(root().join("runbooks/amo-push.toml")).unwrap();
    let extra = r#"
[[steps]]
id = "print-env"
section = "done"
title = "Print what a command sees"
kind = "shell"
command = "env; echo jenkins=${PUSHDUTY_JENKINS_TOKEN:-unset}"
timeout_secs = 10
"#;
    std::fs::create_dir_all(dir.join("runbooks")).unwrap();
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    for t in ["push-notes.md", "push-email.txt"] {
        std::fs::copy(
            root().join("templates").join(t),
            dir.join("templates").join(t),
        )
        .unwrap();
    }
    let path = dir.join("runbooks/amo.toml");
    std::fs::write(&path, format!("{text}{extra}")).unwrap();
    path
}

struct Scripted {
    env: Env,
    rb: PathBuf,
    repo: Fixture,
    /// Where the services are: the Jenkins stand-in, the stage's version page.
    services: Vec<String>,
    seen: String,
    /// `--now`: each step is done on the day the runbook plans it for, as a hero would.
    today: &'static str,
}

impl Scripted {
    fn cmd(&self) -> Command {
        let mut c = self.env.cmd();
        for (k, v) in TOKENS {
            c.env(k, v);
        }
        c.args([
            "--runbook",
            self.rb.to_str().unwrap(),
            "--now",
            self.today,
            "--set",
            &format!("repos.olympia.path={}", self.repo.work.display()),
        ]);
        c.args(&self.services);
        c
    }

    fn run(&mut self, args: &[&str]) -> Output {
        let out = self.cmd().args(args).output().unwrap();
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
    let env = Env::new();
    let rb = runbook(env.path());
    let repo = Fixture::new();
    git(&repo.work, &["remote", "rename", "origin", "upstream"]);
    git(&repo.work, &["branch", "-q", "-m", "main", "master"]);
    git(&repo.work, &["tag", "2015.09.03", "HEAD"]);
    repo.commit("a.txt", "a\n", "Ship me");
    git(
        &repo.work,
        &["push", "-q", "upstream", "master", "2015.09.03"],
    );
    git(&repo.work, &["branch", "-q", "-u", "upstream/master"]);
    let jenkins = Jenkins::start(JenkinsConfig {
        job: "addons-stage-deploy".into(),
        token: "tok-jenkins-7f3a91".into(),
        build_ms: 200,
        ..Default::default()
    });
    let stage = support::cli::serve_text("{\"version\": \"2015.09.10\"}");
    let github = Github::start(GithubConfig {
        repo: "mozilla/olympia".into(),
        token: "tok-github-blockers-5d6e7f".into(),
        issues: vec![Issue::open(
            "mozilla/olympia",
            12,
            "Stage is slow",
            &["blocker"],
        )],
        ..Default::default()
    });
    // The notes steps send the Etherpad key with every call.
    let pad = Etherpad::start(EtherpadConfig {
        key: "tok-etherpad-e5f6a7".into(),
        ..Default::default()
    });
    pad.set_pad("amo-2015-09-10", "Notes of this push");
    // The production push forty minutes ago: the watches' soak is over, so they judge at once
    // on a quiet Sentry and a Graphite whose traffic is steady.
    let now = chrono::Utc::now().timestamp();
    let pushed_at = now - now % 60 - 40 * 60;
    let sentry = Sentry::start(SentryConfig {
        org: "mkt".into(),
        project: "addonsmozillaorg".into(),
        token: "tok-sentry-b2c4d8".into(),
        ..Default::default()
    });
    let mut steady = Vec::new();
    for base in [pushed_at - 7 * 24 * 3600, pushed_at] {
        let from = base - 70 * 60;
        let n = ((base + 35 * 60).min(now) - from) / 60;
        steady.extend(support::metrics_servers::minutes(from, n as usize, |i| {
            Some(100.0 + (i % 5) as f64)
        }));
    }
    let errors: Vec<_> = steady
        .iter()
        .map(|(t, v)| (*t, v.map(|v| v / 50.0)))
        .collect();
    let graphite = support::metrics_servers::graphite(&[
        ("stats.addons.response.200", steady),
        ("stats.addons.response.500", errors),
    ]);
    let mail = SmtpServer::start();
    let services = [
        format!("services.stage-deploy.url={}", jenkins.url()),
        format!("services.github.api_url={}", github.url()),
        format!("services.etherpad.url={}", pad.url()),
        format!("services.sentry.url={}", sentry.url()),
        format!("services.graphite.url={}", graphite.url),
        "services.list.host=127.0.0.1".to_string(),
        format!("services.list.port={}", mail.port),
        "services.list.security=none".to_string(),
        "services.stage-deploy.user=andym".to_string(),
        format!("links.stage={stage}"),
    ]
    .into_iter()
    .flat_map(|s| ["--set".to_string(), s])
    .collect();
    let mut s = Scripted {
        env,
        rb,
        repo,
        services,
        seen: String::new(),
        today: "2015-09-08",
    };
    let pushed = format!(
        "approved_at={}",
        chrono::DateTime::from_timestamp(pushed_at, 0)
            .unwrap()
            .to_rfc3339()
    );
    let steps: &[&[&str]] = &[
        &["check-rotation", "--note", "my week"],
        &["fetch"],
        &["strategy", "--input", "strategy=master"],
        &["tag-master"],
        &["push-tag"],
        &["compare"],
        &["notes-compare"],
        &["deploy-stage"],
        &["verify-stage"],
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
        &["watch-sentry"],
        &["watch-graphite"],
        &["next-notes"],
        &["announce"],
        &["print-env"],
    ];
    for step in steps {
        // Tuesday's steps on Tuesday, the blockers on Wednesday, the push on Thursday.
        s.today = match step[0] {
            "blockers" | "notes-blockers" => "2015-09-09",
            "qa-approval" | "production-push" | "watch-sentry" | "watch-graphite"
            | "next-notes" | "announce" | "print-env" => "2015-09-10",
            _ => s.today,
        };
        let mut args = vec!["do"];
        args.extend_from_slice(step);
        args.push("--yes");
        let out = s.run(&args);
        assert!(out.status.success(), "do {step:?} failed:\n{}", s.seen);
    }
    assert_eq!(jenkins.triggers(), 1);
    // Every step of the runbook is done: the push is complete.
    let shown = s.run(&["show", "--json"]);
    let shown: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    for st in shown["steps"].as_array().unwrap() {
        let ok = st["status"] == "done" || st["status"] == "not_applicable";
        assert!(ok, "{}: {}", st["id"], st["status"]);
    }
    let sent = mail.messages();
    assert_eq!(sent.len(), 1, "the announcement arrived");
    assert!(sent[0].contains("2015.09.10"), "{}", sent[0]);
    let this = pad.pad("amo-2015-09-10").unwrap_or_default();
    assert!(this.contains("Pushing 2015.09.10: "), "{this}");
    assert!(
        this.contains("Blockers for 2015.09.10: Stage is slow (#12): deferred"),
        "{this}"
    );
    let next = pad.pad("amo-2015-09-17").unwrap_or_default();
    assert!(next.contains("- ") && next.contains("Ship me"), "{next}");
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
    let state = s.env.path().join("state");
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
