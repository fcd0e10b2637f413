//! A whole push of the bundled runbook, set up once for the tests that drive one: a checkout
//! with a bare remote, the Jenkins, GitHub, Etherpad, Sentry and Matrix stand-ins and stage's version
//! page in the test process, a distinct token for every variable the runbook names, and the
//! production push forty minutes ago (so the watches judge at once). Graphite and the mail
//! server are the caller's: a real one or a stand-in.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support;
use crate::support::cli::{Env, root};
use crate::support::etherpad::{Config as EtherpadConfig, Etherpad};
use crate::support::github::{Config as GithubConfig, Github, Issue};
use crate::support::gitrepo::{Fixture, git};
use crate::support::jenkins::{Config as JenkinsConfig, Jenkins};
use crate::support::matrix::{Config as MatrixConfig, Matrix};
use crate::support::sentry::{Config as SentryConfig, Sentry};

pub const TOKENS: &[(&str, &str)] = &[
    ("PUSHDUTY_JENKINS_TOKEN", "tok-jenkins-7f3a91"),
    ("PUSHDUTY_SENTRY_TOKEN", "tok-sentry-b2c4d8"),
    ("PUSHDUTY_ETHERPAD_KEY", "tok-etherpad-e5f6a7"),
    ("PUSHDUTY_SMTP_PASSWORD", "tok-smtp-c9d0e1"),
    ("GITHUB_TOKEN", "tok-github-f2a3b4"),
    ("PUSHDUTY_GITHUB_TOKEN", "tok-github-blockers-5d6e7f"),
    ("PUSHDUTY_MATRIX_TOKEN", "tok-matrix-8a9b0c"),
];

/// What a push's services are, where the caller puts its own.
pub struct Outside<'a> {
    pub graphite: &'a str,
    pub mail_port: u16,
    /// GitHub's open issues of mozilla/olympia.
    pub issues: Vec<Issue>,
    /// A step (TOML) appended to the runbook, in its last section.
    pub extra_step: &'a str,
    /// Unix seconds: when ops pushed to production ([`forty_minutes_ago`]).
    pub pushed_at: i64,
}

/// A real Graphite with steady traffic and a few errors a minute around `pushed_at` and a
/// week before: the health watch passes on it.
pub fn steady_graphite(pushed_at: i64) -> support::metrics_servers::Server {
    let now = chrono::Utc::now().timestamp();
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
    support::metrics_servers::graphite(&[
        ("stats.addons.response.200", steady),
        ("stats.addons.response.500", errors),
    ])
}

/// The start of the minute forty minutes ago: a production push whose watches' soak is over.
pub fn forty_minutes_ago() -> i64 {
    let now = chrono::Utc::now().timestamp();
    now - now % 60 - 40 * 60
}

pub struct WholePush {
    pub env: Env,
    pub rb: PathBuf,
    pub repo: Fixture,
    pub jenkins: Jenkins,
    _github: Github,
    pub pad: Etherpad,
    _sentry: Sentry,
    /// The team's channel.
    pub room: Matrix,
    /// Unix seconds: when ops pushed to production.
    pub pushed_at: i64,
    /// `--set` and its value, for every service.
    sets: Vec<String>,
}

impl WholePush {
    pub fn start(outside: Outside) -> Self {
        let env = Env::new();
        let rb = runbook(env.path(), outside.extra_step);
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
            issues: outside.issues,
            ..Default::default()
        });
        // The notes steps send the Etherpad key with every call.
        let pad = Etherpad::start(EtherpadConfig {
            key: "tok-etherpad-e5f6a7".into(),
            ..Default::default()
        });
        pad.set_pad("amo-2015-09-10", "Notes of this push");
        let sentry = Sentry::start(SentryConfig {
            org: "mkt".into(),
            project: "addonsmozillaorg".into(),
            token: "tok-sentry-b2c4d8".into(),
            ..Default::default()
        });
        let room = Matrix::start(MatrixConfig {
            token: "tok-matrix-8a9b0c".into(),
            ..Default::default()
        });
        let sets = [
            format!("services.channel.url={}", room.url()),
            format!("services.channel.room={}", room.room()),
            format!("services.stage-deploy.url={}", jenkins.url()),
            format!("services.github.api_url={}", github.url()),
            format!("services.etherpad.url={}", pad.url()),
            format!("services.sentry.url={}", sentry.url()),
            format!("services.graphite.url={}", outside.graphite),
            "services.list.host=127.0.0.1".to_string(),
            format!("services.list.port={}", outside.mail_port),
            "services.list.security=none".to_string(),
            "services.stage-deploy.user=andym".to_string(),
            format!("links.stage={stage}"),
        ]
        .into_iter()
        .flat_map(|s| ["--set".to_string(), s])
        .collect();
        Self {
            env,
            rb,
            repo,
            jenkins,
            _github: github,
            pad,
            _sentry: sentry,
            room,
            pushed_at: outside.pushed_at,
            sets,
        }
    }

    /// pushduty on this push's runbook, checkout and services, with every token in its
    /// environment, on `today`.
    pub fn cmd(&self, today: &str) -> Command {
        let mut c = self.env.cmd();
        for (k, v) in TOKENS {
            c.env(k, v);
        }
        c.args([
            "--runbook",
            self.rb.to_str().unwrap(),
            "--now",
            today,
            "--set",
            &format!("repos.olympia.path={}", self.repo.work.display()),
        ]);
        c.args(&self.sets);
        c
    }

    /// The production push as the gate records it: RFC 3339.
    pub fn pushed(&self) -> String {
        chrono::DateTime::from_timestamp(self.pushed_at, 0)
            .unwrap()
            .to_rfc3339()
    }
}

/// The bundled runbook with `extra` appended, beside its templates.
fn runbook(dir: &Path, extra: &str) -> PathBuf {
    let text = std::fs::read_to_string(root().join("runbooks/amo-push.toml")).unwrap();
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
