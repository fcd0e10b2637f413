//! The stand-ins of one rehearsal, running in this process while the push runs, and the
//! world's reactions to the hero's actions (read from the push's journal, as a colleague
//! would notice them): a blocker's fix lands on master once the tag is pushed; in `spike`,
//! errors jump once the production push is done. Their state is kept in the sandbox as it
//! changes ([`super::kept`]), so a resumed rehearsal finds them as it left them.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Context, Result};

use super::Scenario;
use super::kept::{Events, Kept};
use crate::standins::{etherpad, github, graphite, jenkins, matrix, sentry, slack, smtp, stage};

/// The blocker issue of the `blocker` scenario.
pub const BLOCKER_NUMBER: u64 = 1187;
pub const BLOCKER_TITLE: &str = "Search crashes for add-ons without a current version";
/// The Sentry organization of the rehearsal's project.
const SENTRY_ORG: &str = "mkt";
const SENTRY_PROJECT: &str = "addonsmozillaorg";
/// The Sentry issue of the `spike` scenario.
pub const SPIKE_ISSUE: u64 = 4187;
pub const SPIKE_TITLE: &str = "TypeError: 'NoneType' object is not subscriptable (search.views)";
/// The Graphite series the spike shows in (the runbook's "server errors").
pub const ERRORS_TARGET: &str = "sumSeries(stats.addons.response.5*)";
pub const TRAFFIC_TARGET: &str = "sumSeries(stats.addons.response.*)";
/// The 2026 runbook's third series.
pub const FRONTEND_ERRORS_TARGET: &str = "sumSeries(stats.addons-frontend.response.5*)";

/// Secrets of this rehearsal, made fresh each time; they live only in this process's
/// environment (under these names, which the sandbox's config names).
pub const TOKEN_VARS: [&str; 8] = [
    "PUSHDUTY_REHEARSAL_JENKINS_TOKEN",
    "PUSHDUTY_REHEARSAL_SENTRY_TOKEN",
    "PUSHDUTY_REHEARSAL_GITHUB_TOKEN",
    "PUSHDUTY_REHEARSAL_ETHERPAD_KEY",
    "PUSHDUTY_REHEARSAL_SMTP_PASSWORD",
    "PUSHDUTY_REHEARSAL_MATRIX_TOKEN",
    "PUSHDUTY_REHEARSAL_SLACK_TOKEN",
    // A Slack incoming webhook's URL is a secret as a token is: the stand-in's, here.
    "PUSHDUTY_REHEARSAL_SLACK_WEBHOOK",
];

/// The room every Matrix service of the runbook posts to in a rehearsal.
pub const ROOM: &str = "!push-rehearsal:rehearsal.example";
/// The channel every Slack service of the runbook posts to in a rehearsal.
pub const CHANNEL: &str = "C0REHEARSAL";

pub struct Rig {
    pub jenkins: Arc<jenkins::Jenkins>,
    pub sentry: Arc<sentry::Sentry>,
    pub graphite: Arc<graphite::Graphite>,
    pub github: Arc<github::Github>,
    pub etherpad: Arc<etherpad::Etherpad>,
    pub smtp: Arc<smtp::Smtp>,
    /// The team's channel: every Matrix service of the runbook.
    pub matrix: Arc<matrix::Matrix>,
    /// The team's channel: every Slack service of the runbook.
    pub slack: Arc<slack::Slack>,
    pub stage: stage::Stage,
    /// Set by the watcher once the blocker's fix is on the remote.
    pub fix_landed: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    /// Ends with what went wrong in the background, if anything did.
    watcher: Option<JoinHandle<Vec<String>>>,
}

/// A secret nobody can guess: 16 random bytes in hex.
pub fn fresh_secret() -> Result<String> {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| anyhow::anyhow!("no randomness for the rehearsal's tokens"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The loopback ports of the stand-ins, kept in a reused sandbox so that its services keep
/// their addresses: steps whose action names a URL are then found done, not run again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ports {
    pub jenkins: u16,
    pub sentry: u16,
    pub graphite: u16,
    pub github: u16,
    pub etherpad: u16,
    pub smtp: u16,
    pub stage: u16,
    pub matrix: u16,
    pub slack: u16,
}

impl Ports {
    const NAMES: [&'static str; 9] = [
        "jenkins", "sentry", "graphite", "github", "etherpad", "smtp", "stage", "matrix", "slack",
    ];

    fn slots(&mut self) -> [&mut u16; 9] {
        [
            &mut self.jenkins,
            &mut self.sentry,
            &mut self.graphite,
            &mut self.github,
            &mut self.etherpad,
            &mut self.smtp,
            &mut self.stage,
            &mut self.matrix,
            &mut self.slack,
        ]
    }

    /// The ports a sandbox kept (`name port` lines); any port not there, or not a number, is
    /// 0: any free one.
    pub fn read(path: &Path) -> Ports {
        let mut ports = Ports::default();
        let text = std::fs::read_to_string(path).unwrap_or_default();
        for line in text.lines() {
            let Some((name, port)) = line.split_once(' ') else {
                continue;
            };
            if let (Some(i), Ok(port)) = (
                Self::NAMES.iter().position(|n| *n == name),
                port.trim().parse(),
            ) {
                *ports.slots()[i] = port;
            }
        }
        ports
    }

    pub fn write(mut self, path: &Path) -> Result<()> {
        let text: String = Self::NAMES
            .iter()
            .zip(self.slots())
            .map(|(name, port)| format!("{name} {port}\n"))
            .collect();
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
    }
}

/// The port of a stand-in's `http://127.0.0.1:PORT` URL.
fn port_of(url: &str) -> u16 {
    url.rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or(0)
}

pub struct Setup<'a> {
    pub scenario: Scenario,
    pub operator: &'a str,
    /// The tokens, in the order of [`TOKEN_VARS`].
    /// The tokens, in the order of [`TOKEN_VARS`] (the webhook's is made by the stand-in).
    pub secrets: &'a [String; 7],
    pub push_date: &'a str,
    pub mail_dir: PathBuf,
    /// The remote the blocker's fix lands on.
    pub upstream: PathBuf,
    /// This push's tag: the `releases` scenario's drafts are of it.
    pub tag: String,
    /// The remotes GitHub follows in the `releases` scenario: (GitHub name, bare remote).
    pub remotes: Vec<(String, PathBuf)>,
    pub journal: PathBuf,
    /// Where to listen; 0s for any free ports.
    pub ports: Ports,
    /// Where the stand-ins' state is kept, and found when the sandbox is resumed.
    pub kept: PathBuf,
}

impl Rig {
    pub fn start(s: &Setup) -> Result<Self> {
        let [jt, st, _, ek, _, mt, slt] = s.secrets;
        let jenkins = Arc::new(
            jenkins::Jenkins::try_start(jenkins::Config {
                port: s.ports.jenkins,
                job: "addons-stage-deploy".into(),
                user: s.operator.to_string(),
                token: jt.clone(),
                queue_ms: 400,
                build_ms: 2500,
                console_lines: vec![
                    "+ git fetch upstream --tags && git checkout ${TAG}".into(),
                    "Deploying ${TAG} to addons.allizom.org (3 web nodes)".into(),
                    "Running the database migrations of ${TAG}".into(),
                    "Warming the caches".into(),
                ],
                results: match s.scenario {
                    Scenario::FailedDeploy => vec!["FAILURE".into()],
                    _ => Vec::new(),
                },
                estimated_ms: 2500,
                queue_forget_ms: 300_000,
                ..jenkins::Config::default()
            })
            .context("starting the Jenkins stand-in")?,
        );
        let releases = s.scenario == Scenario::Releases;
        let github = Arc::new(start_github(s)?);
        if releases {
            super::releases::follow(&github, s.remotes.clone());
        }
        // What stage runs: the deploy job's last build; in `releases`, CI deploys the server
        // release last published.
        let deployed: stage::Deployed = if releases {
            let github = Arc::clone(&github);
            Box::new(move || github.last_published(super::releases::SERVER))
        } else {
            let jenkins = Arc::clone(&jenkins);
            Box::new(move || jenkins.deployed())
        };
        let stage = stage::Stage::try_start(deployed, s.ports.stage)
            .context("starting the stage stand-in")?;
        let now = chrono::Utc::now().timestamp();
        // A steady dozen events a minute, around now and around this time last week.
        let minute = now - now.rem_euclid(60);
        let week = 7 * 24 * 3600;
        let mut events: Vec<(i64, u64)> = Vec::new();
        for m in -180..=180 {
            events.push((minute - week + m * 60, 12));
        }
        for m in -180..=180 {
            events.push((minute + m * 60, 12));
        }
        let sentry = Arc::new(
            sentry::Sentry::try_start(sentry::Config {
                port: s.ports.sentry,
                org: SENTRY_ORG.into(),
                project: SENTRY_PROJECT.into(),
                token: st.clone(),
                issues: vec![sentry::Issue::new(
                    4101,
                    "OperationalError: database is locked (cron.update_counts)",
                    now - 3 * 24 * 3600,
                )],
                events,
                ..sentry::Config::default()
            })
            .context("starting the Sentry stand-in")?,
        );
        let graphite = Arc::new(
            graphite::Graphite::try_start(graphite::Config {
                port: s.ports.graphite,
                series: vec![
                    graphite::Series {
                        target: TRAFFIC_TARGET.into(),
                        level: 5400.0,
                        wobble: 0.04,
                    },
                    graphite::Series {
                        target: ERRORS_TARGET.into(),
                        level: 12.0,
                        wobble: 0.08,
                    },
                    graphite::Series {
                        target: FRONTEND_ERRORS_TARGET.into(),
                        level: 4.0,
                        wobble: 0.08,
                    },
                ],
                // Points a second apart: a rehearsal soaks seconds, not half an hour.
                step_secs: 1,
            })
            .context("starting the Graphite stand-in")?,
        );
        let etherpad = Arc::new(
            etherpad::Etherpad::try_start(etherpad::Config {
                port: s.ports.etherpad,
                key: ek.clone(),
                ..etherpad::Config::default()
            })
            .context("starting the Etherpad stand-in")?,
        );
        // This push's notes, as last week's hero left them.
        etherpad.set_pad(
            &format!("amo-{}", s.push_date),
            &format!(
                "AMO push {}\n\nHero: {}\nQA: Krupa\n\nWhat is going out:\n",
                s.push_date, s.operator
            ),
        );
        let smtp = Arc::new(
            smtp::Smtp::try_start(smtp::Config {
                port: s.ports.smtp,
                dir: Some(s.mail_dir.clone()),
                ..smtp::Config::default()
            })
            .context("starting the SMTP stand-in")?,
        );
        let matrix = Arc::new(
            matrix::Matrix::try_start(matrix::Config {
                port: s.ports.matrix,
                token: mt.clone(),
                user: format!("@{}:rehearsal.example", s.operator),
                room: ROOM.into(),
            })
            .context("starting the Matrix stand-in")?,
        );
        let slack = Arc::new(
            slack::Slack::try_start(slack::Config {
                port: s.ports.slack,
                token: slt.clone(),
                channel: CHANNEL.into(),
                ..slack::Config::default()
            })
            .context("starting the Slack stand-in")?,
        );
        // A resumed sandbox: the stand-ins take up the state they left (the pad above included).
        let mut kept = Kept {
            path: s.kept.clone(),
            jenkins: Arc::clone(&jenkins),
            sentry: Arc::clone(&sentry),
            graphite: Arc::clone(&graphite),
            github: Arc::clone(&github),
            etherpad: Arc::clone(&etherpad),
            smtp: Arc::clone(&smtp),
            matrix: Arc::clone(&matrix),
            slack: Arc::clone(&slack),
            last: String::new(),
        };
        let happened = kept.restore()?;
        // The previous hero's drafts, unless a resumed sandbox's GitHub has its releases.
        if releases && github.releases().is_empty() {
            super::releases::seed(&github, &s.tag, s.operator);
        }
        let stop = Arc::new(AtomicBool::new(false));
        let fix_landed = Arc::new(AtomicBool::new(happened.fix_landed));
        let watcher = {
            let (stop, fix_landed) = (Arc::clone(&stop), Arc::clone(&fix_landed));
            let (sentry, graphite) = (Arc::clone(&sentry), Arc::clone(&graphite));
            let (journal, upstream, scenario) = (s.journal.clone(), s.upstream.clone(), s.scenario);
            let (github, remotes) = (Arc::clone(&github), s.remotes.clone());
            std::thread::spawn(move || {
                let mut spiked = happened.spiked;
                let mut unfollowed = None;
                loop {
                    // Checked before the last look: what happened up to the stop is kept.
                    let stopping = stop.load(Ordering::SeqCst);
                    if releases {
                        unfollowed = super::releases::tag_published(&github, &remotes)
                            .err()
                            .map(|e| format!("the tags of the releases published could not be made on the sandbox's remotes ({e:#})"))
                            .or(unfollowed);
                    }
                    // The fix lands once this push's tag is out: pushed (`blocker`), or made
                    // by publishing the server's release (`releases`).
                    let tagged = match scenario {
                        Scenario::Blocker => done_at(&journal, "push-tag").is_some(),
                        Scenario::Releases => {
                            github.last_published(super::releases::SERVER).is_some()
                        }
                        _ => false,
                    };
                    if tagged
                        && !fix_landed.load(Ordering::SeqCst)
                        && super::sandbox::land_fix(&upstream).is_ok()
                    {
                        fix_landed.store(true, Ordering::SeqCst);
                    }
                    if scenario == Scenario::Spike
                        && !spiked
                        && let Some(at) = done_at(&journal, "production-push")
                    {
                        sentry.add_issue(sentry::Issue::new(SPIKE_ISSUE, SPIKE_TITLE, at + 1));
                        graphite.spike(ERRORS_TARGET, at, 6.0);
                        spiked = true;
                    }
                    let events = Events {
                        fix_landed: fix_landed.load(Ordering::SeqCst),
                        spiked,
                    };
                    let trouble = kept.keep(events).err().map(|e| format!("{e:#}"));
                    if stopping {
                        return unfollowed.into_iter().chain(trouble.map(|t| format!(
                            "the stand-ins' state could not be kept in {} ({t}): a rehearsal resumed from this sandbox starts them afresh",
                            kept.path.display()
                        ))).collect();
                    }
                    std::thread::sleep(Duration::from_millis(150));
                }
            })
        };
        Ok(Self {
            jenkins,
            sentry,
            graphite,
            github,
            etherpad,
            smtp,
            matrix,
            slack,
            stage,
            fix_landed,
            stop,
            watcher: Some(watcher),
        })
    }

    /// Where the stand-ins listen.
    pub fn ports(&self) -> Ports {
        Ports {
            jenkins: port_of(self.jenkins.url()),
            sentry: port_of(self.sentry.url()),
            graphite: port_of(self.graphite.url()),
            github: port_of(self.github.url()),
            etherpad: port_of(self.etherpad.url()),
            smtp: self.smtp.port(),
            stage: port_of(&self.stage.url()),
            matrix: port_of(self.matrix.url()),
            slack: port_of(&self.slack.api_url().replace("/api", "")),
        }
    }

    /// The page of the `spike` scenario's new error, as the Sentry stand-in links it.
    pub fn spike_issue_url(&self) -> String {
        format!(
            "{}/organizations/{SENTRY_ORG}/issues/{SPIKE_ISSUE}/",
            self.sentry.url()
        )
    }

    /// The `--set`s that point the runbook's services at the stand-ins: those of the
    /// services it has (`services`, by name); `rooms` are its Matrix services, `channels` its
    /// Slack ones.
    pub fn sets(&self, services: &[String], rooms: &[String], channels: &[String]) -> Vec<String> {
        let all = [
            format!("services.stage-deploy.url={}", self.jenkins.url()),
            format!("services.sentry.url={}", self.sentry.url()),
            // The stand-in's project, wherever the runbook's is.
            format!("services.sentry.org={SENTRY_ORG}"),
            format!("services.sentry.project={SENTRY_PROJECT}"),
            format!("services.graphite.url={}", self.graphite.url()),
            format!("services.github.api_url={}", self.github.url()),
            format!("services.etherpad.url={}", self.etherpad.url()),
            "services.list.host=127.0.0.1".to_string(),
            format!("services.list.port={}", self.smtp.port()),
            "services.list.security=none".to_string(),
        ];
        let mut sets: Vec<String> = all
            .into_iter()
            .filter(|set| {
                services
                    .iter()
                    .any(|s| set.starts_with(&format!("services.{s}.")))
            })
            .collect();
        sets.push(format!("links.stage={}", self.stage.url()));
        for name in rooms {
            sets.push(format!("services.{name}.url={}", self.matrix.url()));
            sets.push(format!("services.{name}.room={ROOM}"));
        }
        for name in channels {
            sets.push(format!("services.{name}.api_url={}", self.slack.api_url()));
            sets.push(format!("services.{name}.channel={CHANNEL}"));
        }
        sets
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(w) = self.watcher.take()
            && let Ok(troubles) = w.join()
        {
            // After the screen is gone: said where the operator sees it.
            for trouble in troubles {
                eprintln!("pushduty: {trouble}");
            }
        }
    }
}

/// The GitHub stand-in: the issues of the scenario; in `releases`, both repos of the 2026
/// runbook, with the server's blocker open.
fn start_github(s: &Setup) -> Result<github::Github> {
    use super::releases::{FRONTEND, SERVER};
    let olympia = "mozilla/olympia";
    let (repo, also, issues) = match s.scenario {
        Scenario::Blocker => (
            olympia,
            Vec::new(),
            vec![github::Issue::open(
                olympia,
                BLOCKER_NUMBER,
                BLOCKER_TITLE,
                &["blocker"],
            )],
        ),
        Scenario::Releases => (
            SERVER,
            vec![FRONTEND.to_string()],
            vec![github::Issue::open(
                SERVER,
                BLOCKER_NUMBER,
                BLOCKER_TITLE,
                &["blocker"],
            )],
        ),
        _ => (
            olympia,
            Vec::new(),
            vec![github::Issue::open(
                olympia,
                1179,
                "Dark theme for the developer hub",
                &["enhancement"],
            )],
        ),
    };
    github::Github::try_start(github::Config {
        port: s.ports.github,
        repo: repo.into(),
        also,
        token: s.secrets[2].clone(),
        issues,
        ..github::Config::default()
    })
    .context("starting the GitHub stand-in")
}

/// When `step` last became done, from the journal (unix seconds).
pub fn done_at(journal: &Path, step: &str) -> Option<i64> {
    let text = std::fs::read_to_string(journal).ok()?;
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["event"] == "step" && v["step"] == step && v["to"] == "done")
        .filter_map(|v| {
            let t = v["time"].as_str()?;
            chrono::DateTime::parse_from_rfc3339(t)
                .ok()
                .map(|t| t.timestamp())
        })
        .next_back()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_ports_read_back_and_garbage_reads_as_any_port() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ports");
        let ports = Ports {
            jenkins: 41001,
            smtp: 41006,
            stage: 41007,
            ..Ports::default()
        };
        ports.write(&path).unwrap();
        assert_eq!(Ports::read(&path), ports);
        std::fs::write(&path, "jenkins nope\nsentry 41002\nwho 9\n\u{1b}[2J\n").unwrap();
        assert_eq!(
            Ports::read(&path),
            Ports {
                sentry: 41002,
                ..Ports::default()
            }
        );
        assert_eq!(Ports::read(&dir.path().join("missing")), Ports::default());
    }
}
