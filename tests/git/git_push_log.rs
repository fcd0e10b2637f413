//! The team's push log through the binary: two operators (two homes, two state dirs, two git
//! identities) on one bare repository on a plain path.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::cli::{root, stderr};
use crate::support::gitrepo::git;

/// One operator: a home with their git identity and a config naming the push log.
struct Operator {
    home: PathBuf,
}

impl Operator {
    fn new(dir: &Path, name: &str, log: &Path) -> Self {
        let home = dir.join(name);
        std::fs::create_dir_all(&home).unwrap();
        std::fs::write(
            home.join(".gitconfig"),
            format!("[user]\n\tname = {name}\n\temail = {name}@example.com\n"),
        )
        .unwrap();
        std::fs::write(
            home.join("config.toml"),
            format!(
                "operator = \"{name}\"\nnotify = \"off\"\n\n[log]\nrepo = \"{}\"\n",
                log.display()
            ),
        )
        .unwrap();
        Self { home }
    }

    fn cmd(&self, runbook: &Path, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_pushduty"));
        c.current_dir(root())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("PUSHDUTY_CONFIG", self.home.join("config.toml"))
            .env("PUSHDUTY_STATE_DIR", self.home.join("state"))
            .arg(format!("--runbook={}", runbook.display()))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    }

    fn run(&self, runbook: &Path, args: &[&str]) -> Output {
        self.cmd(runbook, args).output().unwrap()
    }

    fn log_lines(&self) -> Vec<String> {
        std::fs::read_dir(self.home.join("state/logs"))
            .unwrap()
            .flat_map(|f| {
                let text = std::fs::read_to_string(f.unwrap().path()).unwrap();
                text.lines().map(str::to_string).collect::<Vec<_>>()
            })
            .collect()
    }

    /// How long each side-effect step waited for the log, from the log file, in ms.
    fn waits(&self) -> Vec<u64> {
        self.log_lines()
            .iter()
            .filter_map(|l| {
                let at = l.find("waited_ms=")? + "waited_ms=".len();
                l[at..]
                    .split(|c: char| !c.is_ascii_digit())
                    .next()?
                    .parse::<u64>()
                    .ok()
            })
            .collect()
    }

    /// How many writes found the log moved and decided again.
    fn rejected(&self) -> usize {
        self.log_lines()
            .iter()
            .filter(|l| l.contains("deciding again"))
            .count()
    }
}

/// A runbook of one shell step that appends the push date to `count`: what it did is
/// counted by the lines there.
fn runbook(dir: &Path, count: &Path) -> PathBuf {
    let path = dir.join("log-race.toml");
    std::fs::write(
        &path,
        format!(
            r#"name = "Log race"

[schedule]
push_day = "thursday"
tag_day = "tuesday"
timezone = "UTC"

[rotation]
people = ["ann", "bob"]
start = "2015-09-10"

[[sections]]
id = "only"
title = "Only section"

[[steps]]
id = "deploy"
section = "only"
title = "Deploy"
kind = "shell"
command = "echo {{{{ push_date }}}} >> {}"
timeout_secs = 20
"#,
            count.display()
        ),
    )
    .unwrap();
    path
}

/// A bare repository on a plain path: the team's repository.
fn bare(dir: &Path) -> PathBuf {
    let log = dir.join("team.git");
    std::fs::create_dir_all(&log).unwrap();
    git(&log, &["init", "--bare", "-q"]);
    log
}

/// How long after the first the second operator starts, in ms, round after round.
const STAGGER_MS: [u64; 10] = [0, 0, 1, 3, 8, 20, 40, 70, 120, 400];

fn tuesday(week: i64) -> String {
    let first = chrono::NaiveDate::from_ymd_opt(2015, 9, 8).unwrap();
    (first + chrono::Duration::weeks(week)).to_string()
}

#[test]
fn two_operators_racing_a_side_effect_step_act_once_whatever_the_timing() {
    let tmp = tempfile::tempdir().unwrap();
    let log = bare(tmp.path());
    let count = tmp.path().join("acted");
    let rb = runbook(tmp.path(), &count);
    let ann = Operator::new(tmp.path(), "ann", &log);
    let bob = Operator::new(tmp.path(), "bob", &log);
    let o = ann.run(&rb, &["log", "init"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rounds: usize = std::env::var("PUSHDUTY_LOG_RACES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let began = Instant::now();
    let mut wins = [0usize; 2];
    // Refused because the other had it running (not yet done): the race was close.
    let mut while_running = 0;
    for round in 0..rounds {
        let now = tuesday(round as i64);
        let args = ["--now", now.as_str(), "do", "deploy", "--yes"];
        // Either may start first, at once or up to well after the other has acted.
        let (first, delay) = (round % 2, STAGGER_MS[(round / 2) % STAGGER_MS.len()]);
        let ops = [&ann, &bob];
        let a = ops[first].cmd(&rb, &args).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        let b = ops[1 - first].cmd(&rb, &args).spawn().unwrap();
        let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
        let outs = if first == 0 { vec![a, b] } else { vec![b, a] };
        let acted: Vec<usize> = (0..2).filter(|&i| outs[i].status.success()).collect();
        assert_eq!(
            acted.len(),
            1,
            "round {round}: {} acted\nann: {}\nbob: {}",
            acted.len(),
            stderr(&outs[0]),
            stderr(&outs[1])
        );
        let loser = &outs[1 - acted[0]];
        let said = stderr(loser);
        if said.contains("it is running there") {
            while_running += 1;
        }
        assert_eq!(loser.status.code(), Some(1), "round {round}: {said}");
        assert!(
            said.contains("the team's push log says") && said.contains("was not run"),
            "round {round}: {said}"
        );
        wins[acted[0]] += 1;
    }
    let elapsed = began.elapsed();
    // Each push's command ran exactly once.
    let lines = std::fs::read_to_string(&count).unwrap();
    let mut dates: Vec<&str> = lines.lines().collect();
    assert_eq!(dates.len(), rounds, "{lines}");
    dates.dedup();
    assert_eq!(dates.len(), rounds, "{lines}");
    // The log holds each push's journal: one `running` and one `done`, by whoever acted.
    let last = tuesday(rounds as i64 - 1);
    let push_date =
        chrono::NaiveDate::parse_from_str(&last, "%Y-%m-%d").unwrap() + chrono::Duration::days(2);
    let journal = git(
        &log,
        &[
            "show",
            &format!("pushduty-log:log-race/{push_date}/journal.jsonl"),
        ],
    );
    let steps: Vec<serde_json::Value> = journal
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|v: &serde_json::Value| v["event"] == "step")
        .collect();
    let tos: Vec<&str> = steps.iter().map(|v| v["to"].as_str().unwrap()).collect();
    assert_eq!(tos, ["running", "done"], "{journal}");
    assert!(steps.iter().all(|v| v["host"].is_string()), "{journal}");
    let report = git(
        &log,
        &[
            "show",
            &format!("pushduty-log:log-race/{push_date}/report.md"),
        ],
    );
    assert!(report.contains("Deploy"), "{report}");
    // The branch is linear and made by the two identities alone; nothing else was written.
    let authors = git(&log, &["log", "--format=%an", "pushduty-log"]);
    assert!(
        authors.lines().all(|a| a == "ann" || a == "bob"),
        "{authors}"
    );
    let merges = git(&log, &["rev-list", "--merges", "pushduty-log"]);
    assert!(merges.is_empty(), "{merges}");
    assert_eq!(
        git(&log, &["for-each-ref", "--format=%(refname)"]),
        "refs/heads/pushduty-log"
    );
    let mut waits: Vec<u64> = ann.waits().into_iter().chain(bob.waits()).collect();
    waits.sort_unstable();
    assert_eq!(waits.len(), rounds, "one wait per step acted: {waits:?}");
    println!(
        "push log race: {rounds} rounds in {:.1} s (ann acted {}, bob {}; refused while the \
         other ran: {while_running}; pushes rejected and decided again: {}); a side-effect \
         step waited for the log {} ms median, {} ms worst",
        elapsed.as_secs_f64(),
        wins[0],
        wins[1],
        ann.rejected() + bob.rejected(),
        waits[waits.len() / 2],
        waits[waits.len() - 1]
    );
}
