//! The crash matrix: a whole push through `run --auto`, killed with SIGKILL at one of its side
//! effects (or at a moment seeded by the trial), then resumed until it finishes. The services
//! run in the test process and outlive each pushduty they serve, counting what was done to
//! them: tags the bare remote took (its `post-receive` hook), builds Jenkins was asked for,
//! lines on the notes pads, mails accepted, runs of a shell command (a line in a marker file).
//! Every effect must happen exactly once, and every push must finish.
//!
//! `PUSHDUTY_CRASH_TRIALS=N` runs N trials instead of the few CI runs.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use pushduty::standins::graphite::{Config as GraphiteConfig, Graphite, Series};
use pushduty::standins::smtp::{Config as SmtpConfig, Smtp};

use crate::support::cli::{stderr, stdout};
use crate::support::gitrepo::git;
use crate::whole_push::{Outside, WholePush};

/// Enough for each effect in both windows, and two seeded moments: about 40s here.
const CI_TRIALS: usize = 12;

/// The push day: every earlier step's day has passed, so `run --auto` does them all.
const TODAY: &str = "2015-09-10T14:00:00Z";

/// Forty minutes before [`TODAY`]: the watches' soak is over, they judge at once.
const PUSHED: &str = "2015-09-10T13:20:00Z";

/// What a push does to the world, each once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Effect {
    Tag,
    Build,
    Pad,
    Mail,
    Shell,
}

const EFFECTS: [Effect; 5] = [
    Effect::Tag,
    Effect::Build,
    Effect::Pad,
    Effect::Mail,
    Effect::Shell,
];

const HELD: Duration = Duration::from_millis(300);

/// How long the service holds its answer back after applying `e`: the deploy's trigger, the
/// remote's hook, the command's `sleep`. The pads and the mail answer at once.
fn hold(e: Effect) -> Duration {
    match e {
        Effect::Tag | Effect::Build | Effect::Shell => HELD,
        Effect::Pad | Effect::Mail => Duration::ZERO,
    }
}

/// When a trial kills pushduty.
#[derive(Clone, Copy, Debug)]
enum Moment {
    /// The instant a service counts the effect, before pushduty hears back (where the
    /// service is slow to answer after applying it: the deploy, the tag, the command).
    Applying(Effect),
    /// A few milliseconds after the service answered: pushduty has heard back, and may be
    /// journaling.
    Applied(Effect, Duration),
    /// This long after pushduty started.
    After(Duration),
}

impl Moment {
    /// Trial `i`'s: each effect in both windows in turn, then a seeded moment.
    fn of(i: usize) -> Self {
        let slot = i % (2 * EFFECTS.len() + 1);
        let mut seed = Seed(i as u64);
        match slot {
            s if s < EFFECTS.len() => Self::Applying(EFFECTS[s]),
            s if s < 2 * EFFECTS.len() => {
                let e = EFFECTS[s - EFFECTS.len()];
                Self::Applied(e, hold(e) + Duration::from_millis(1 + seed.below(40)))
            }
            // A push takes about two seconds here.
            _ => Self::After(Duration::from_millis(seed.below(2500))),
        }
    }
}

/// splitmix64: the same moments for the same trial, run after run.
struct Seed(u64);

impl Seed {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) % n
    }
}

/// One push and the services that count its effects.
struct Trial {
    push: WholePush,
    mail: Smtp,
    /// A line per run of the shell step.
    marks: PathBuf,
    /// A line per ref the remote took.
    refs: PathBuf,
    _dir: tempfile::TempDir,
}

impl Trial {
    fn start(graphite: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let marks = dir.path().join("marks");
        let refs = dir.path().join("refs");
        let mail = Smtp::start(SmtpConfig::default());
        // The command marks its run, then takes a while: a kill can land while it runs.
        let step = format!(
            r#"
[[steps]]
id = "mark"
section = "done"
title = "Leave a mark"
kind = "shell"
command = "echo ran >> '{}'; sleep 0.3"
timeout_secs = 10
"#,
            marks.display()
        );
        let push = WholePush::start(Outside {
            graphite,
            mail_port: mail.port(),
            issues: Vec::new(),
            extra_step: &step,
            pushed_at: chrono::DateTime::parse_from_rfc3339(PUSHED)
                .unwrap()
                .timestamp(),
        });
        // Pushed through git's own protocol, so that the remote runs its hook (a push to a
        // local path runs none); the hook holds the answer back a while after the ref moved.
        let hook = push.repo.remote.join("hooks/post-receive");
        std::fs::write(
            &hook,
            format!("#!/bin/sh\ncat >> '{}'\nsleep 0.3\n", refs.display()),
        )
        .unwrap();
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
        let url = push.repo.serve_remote();
        git(&push.repo.work, &["remote", "set-url", "upstream", &url]);
        // Jenkins queues the build, then answers a while later.
        push.jenkins.set_trigger_delay(HELD);
        Self {
            push,
            mail,
            marks,
            refs,
            _dir: dir,
        }
    }

    /// How many times `e` was done so far.
    fn count(&self, e: Effect) -> usize {
        let lines = |p: &PathBuf| {
            std::fs::read_to_string(p)
                .map(|t| t.lines().count())
                .unwrap_or(0)
        };
        match e {
            Effect::Tag => std::fs::read_to_string(&self.refs)
                .unwrap_or_default()
                .lines()
                .filter(|l| l.ends_with(" refs/tags/2015.09.10"))
                .count(),
            Effect::Build => self.push.jenkins.triggers(),
            // Writes: the two lines appended to this push's pad, the next push's pad made.
            Effect::Pad => {
                let this = self.push.pad.pad("amo-2015-09-10").unwrap_or_default();
                let next = self.push.pad.pad("amo-2015-09-17").is_some();
                this.matches("Pushing 2015.09.10: ").count()
                    + this.matches("Blockers for 2015.09.10").count()
                    + usize::from(next)
            }
            Effect::Mail => self.mail.messages().len(),
            Effect::Shell => lines(&self.marks),
        }
    }

    /// What each effect should have come to at the end.
    fn expected(e: Effect) -> usize {
        if e == Effect::Pad { 3 } else { 1 }
    }

    /// `run --auto` with every answer a hero would give, and `more`.
    fn run(&self, more: &[String]) -> std::process::Command {
        let mut c = self.push.cmd(TODAY);
        c.args(["run", "--auto"]);
        for a in [
            "check-rotation=my week",
            "strategy=master",
            "qa-approval=krupa",
            "production-push=jason",
            &format!("production-push.approved_at={PUSHED}"),
        ] {
            c.args(["--answer", a]);
        }
        for a in more {
            c.args(["--answer", a]);
        }
        c
    }

    /// Starts the push and kills it at `moment`; whether it was killed (it may finish first).
    fn crash(&self, moment: Moment) -> bool {
        let mut child = self
            .run(&[])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let start = Instant::now();
        let (effect, after) = match moment {
            Moment::Applying(e) => (Some(e), Duration::ZERO),
            Moment::Applied(e, d) => (Some(e), d),
            Moment::After(d) => (None, d),
        };
        loop {
            if exited(&mut child) {
                return false;
            }
            let now = match effect {
                Some(e) => self.count(e) > 0,
                None => start.elapsed() >= after,
            };
            if now {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        if effect.is_some() {
            std::thread::sleep(after);
        }
        let killed = child.kill().is_ok();
        child.wait().unwrap();
        killed
    }

    /// Runs `run --auto` again until the push finishes, as a hero would: answering whether
    /// the mail arrived or the command ran (the services know), waiting out a command left
    /// running. `Err`
    /// says why it could not finish.
    fn resume(&self) -> Result<(), String> {
        let mut more = Vec::new();
        let mut said = String::new();
        for _ in 0..8 {
            let out = self.run(&more).output().unwrap();
            said = format!("{}{}", stdout(&out), stderr(&out));
            match out.status.code() {
                Some(0) => return Ok(()),
                Some(3) => {
                    let Some(answer) = self.answer(&said) else {
                        return Err(said);
                    };
                    more.push(answer);
                }
                Some(1) if said.contains("still running elsewhere") => {
                    std::thread::sleep(Duration::from_millis(400));
                }
                _ => return Err(said),
            }
        }
        Err(format!("still not finished after 8 runs: {said}"))
    }

    /// What a hero who can see the services answers when asked whether an effect happened
    /// before pushduty stopped: the truth.
    fn answer(&self, said: &str) -> Option<String> {
        let (step, question, effect, yes, no) = [
            (
                "announce",
                "maybe_sent",
                Effect::Mail,
                "mark_sent",
                "send_again",
            ),
            ("mark", "maybe_ran", Effect::Shell, "mark_done", "run_again"),
        ]
        .into_iter()
        .find(|(_, q, ..)| said.contains(&format!("needs `{q}`")))?;
        let answer = if self.count(effect) > 0 { yes } else { no };
        Some(format!("{step}.{question}={answer}"))
    }

    /// The steps that are neither done nor skipped nor out of play.
    fn unfinished(&self) -> Vec<String> {
        let out = self
            .push
            .cmd(TODAY)
            .args(["show", "--json"])
            .output()
            .unwrap();
        let shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        shown["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|st| {
                !["done", "skipped", "not_applicable"].contains(&st["status"].as_str().unwrap())
            })
            .map(|st| format!("{}: {}", st["id"], st["status"]))
            .collect()
    }
}

fn exited(child: &mut Child) -> bool {
    child.try_wait().unwrap().is_some()
}

fn trials() -> usize {
    std::env::var("PUSHDUTY_CRASH_TRIALS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(CI_TRIALS)
}

#[test]
fn a_push_killed_at_any_side_effect_resumes_to_the_end_doing_each_once() {
    // Traffic and errors steady: the watches pass, whenever the push is resumed.
    let graphite = Graphite::start(GraphiteConfig {
        series: vec![
            Series {
                target: "sumSeries(stats.addons.response.*)".into(),
                level: 5400.0,
                wobble: 0.04,
            },
            Series {
                target: "sumSeries(stats.addons.response.5*)".into(),
                level: 12.0,
                wobble: 0.08,
            },
        ],
        ..GraphiteConfig::default()
    });
    let n = trials();
    let mut kills = vec![0usize; EFFECTS.len() + 1];
    let mut missed = 0;
    let mut duplicates = Vec::new();
    let mut unfinished = Vec::new();
    for i in 0..n {
        let moment = Moment::of(i);
        let t = Trial::start(graphite.url());
        if t.crash(moment) {
            let slot = match moment {
                Moment::Applying(e) | Moment::Applied(e, _) => {
                    EFFECTS.iter().position(|x| *x == e).unwrap()
                }
                Moment::After(_) => EFFECTS.len(),
            };
            kills[slot] += 1;
        } else {
            missed += 1;
        }
        if let Err(why) = t.resume() {
            unfinished.push(format!("trial {i} ({moment:?}): {why}"));
            continue;
        }
        let open = t.unfinished();
        if !open.is_empty() {
            unfinished.push(format!("trial {i} ({moment:?}): {open:?}"));
        }
        for e in EFFECTS {
            let (got, want) = (t.count(e), Trial::expected(e));
            if got != want {
                duplicates.push(format!(
                    "trial {i} ({moment:?}): {e:?} {got} times, not {want}"
                ));
            }
        }
    }
    let per: Vec<String> = EFFECTS
        .iter()
        .map(|e| format!("{e:?}").to_lowercase())
        .chain(["moment".to_string()])
        .zip(&kills)
        .map(|(e, k)| format!("{e}={k}"))
        .collect();
    eprintln!(
        "crash matrix: {n} trials; kills: {} (finished before the kill: {missed}); \
         wrong counts: {}; unfinished: {}",
        per.join(" "),
        duplicates.len(),
        unfinished.len()
    );
    assert!(duplicates.is_empty(), "{duplicates:#?}");
    assert!(unfinished.is_empty(), "{unfinished:#?}");
}
