//! A takeover through the binary: the old driver is killed with -9 mid-step, the new one takes
//! the push over from the team's push log and goes on from the old one's checkpoints (a
//! Jenkins build followed, not triggered again; a command's process group on the old
//! driver's machine said to be running there until the new driver decides).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::git_push_log::{Operator, bare};
use crate::support::cli::{stderr, stdout};
use crate::support::jenkins::{Config, Jenkins};

/// The push's folder in the log, and in each operator's state dir.
const PUSH: &str = "take-over/2015-09-10";

/// Two operators on one log, a runbook with a Jenkins deploy and a command that runs until
/// `release` exists, the Jenkins stand-in.
struct Team {
    tmp: tempfile::TempDir,
    log: PathBuf,
    rb: PathBuf,
    count: PathBuf,
    release: PathBuf,
    jenkins: Jenkins,
    ann: Operator,
    bob: Operator,
}

impl Team {
    fn new(build_ms: u64) -> Self {
        Self::queued(Config::default().queue_ms, build_ms)
    }

    /// A team whose Jenkins keeps a build in its queue `queue_ms`, then builds `build_ms`.
    fn queued(queue_ms: u64, build_ms: u64) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let log = bare(tmp.path());
        let count = tmp.path().join("ran");
        let release = tmp.path().join("release");
        let jenkins = Jenkins::start(Config {
            queue_ms,
            build_ms,
            console_lines: vec!["Deploying".into(), "Done".into()],
            ..Config::default()
        });
        let rb = runbook(tmp.path(), jenkins.url(), &count, &release);
        let [ann, bob] = ["ann", "bob"].map(|name| {
            let mut op = Operator::new(tmp.path(), name, &log);
            op.env.push(("PUSHDUTY_JENKINS_TOKEN".into(), "t0k".into()));
            op
        });
        let team = Self {
            tmp,
            log,
            rb,
            count,
            release,
            jenkins,
            ann,
            bob,
        };
        let o = team.run(&team.ann, &["log", "init"]);
        assert!(o.status.success(), "{}", stderr(&o));
        team
    }

    /// `pushduty ARGS` for the push of 2015-09-10, as `who`.
    fn cmd(&self, who: &Operator, args: &[&str]) -> Command {
        let mut all = vec!["--now", "2015-09-08", "--set", "services.stage.user=andym"];
        all.extend_from_slice(args);
        who.cmd(&self.rb, &all)
    }

    fn run(&self, who: &Operator, args: &[&str]) -> Output {
        self.cmd(who, args).output().unwrap()
    }

    /// Starts `args` as `who` and kills it with -9 once the push log has a checkpoint of
    /// `step` with `key`: the old driver's machine dies mid-step.
    fn kill_at_logged_checkpoint(&self, who: &Operator, args: &[&str], step: &str, key: &str) {
        let mut child = self
            .cmd(who, args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let end = Instant::now() + Duration::from_secs(20);
        while !self
            .logged()
            .iter()
            .any(|e| e["event"] == "checkpoint" && e["step"] == step && !e["values"][key].is_null())
        {
            if Instant::now() > end {
                let _ = child.kill();
                panic!("the log never had {step}'s {key}: {:?}", self.logged());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // SIGKILL: nothing of pushduty runs after it.
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// ann's machine dies (kill -9) while Jenkins builds the deploy she triggered.
    fn ann_dies_mid_deploy(&self) {
        self.kill_at_logged_checkpoint(
            &self.ann,
            &["do", "deploy", "--yes"],
            "deploy",
            "build_number",
        );
    }

    /// The push's journal in the log (empty before it has one).
    fn logged(&self) -> Vec<Value> {
        let out = Command::new("git")
            .arg(format!("--git-dir={}", self.log.display()))
            .args(["show", &format!("pushduty-log:{PUSH}/journal.jsonl")])
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn tip(&self) -> String {
        crate::support::gitrepo::git(&self.log, &["rev-parse", "pushduty-log"])
    }

    /// How many times the command ran.
    fn ran(&self) -> usize {
        std::fs::read_to_string(&self.count)
            .map(|t| t.lines().count())
            .unwrap_or(0)
    }
}

/// Waits until the process group `pgid` (ann's command, let go when she was killed) ends.
fn wait_group_gone(pgid: i32) {
    let end = Instant::now() + Duration::from_secs(20);
    // SAFETY: signal 0 only asks whether the group exists.
    while unsafe { libc::kill(-pgid, 0) } == 0 {
        assert!(Instant::now() < end, "process group {pgid} never ended");
        std::thread::sleep(Duration::from_millis(30));
    }
}

/// `who`'s local journal of the push.
fn journal(who: &Operator) -> Vec<Value> {
    std::fs::read_to_string(
        who.home
            .join("state/sessions")
            .join(PUSH)
            .join("journal.jsonl"),
    )
    .unwrap_or_default()
    .lines()
    .map(|l| serde_json::from_str(l).unwrap())
    .collect()
}

/// The last status line of `step` in `journal`: (`to`, operator).
fn last_move(journal: &[Value], step: &str) -> (String, String) {
    let e = journal
        .iter()
        .rev()
        .find(|e| e["event"] == "step" && e["step"] == step)
        .unwrap_or_else(|| panic!("no line of {step}: {journal:?}"));
    (
        e["to"].as_str().unwrap().to_string(),
        e["operator"].as_str().unwrap().to_string(),
    )
}

fn runbook(dir: &Path, jenkins: &str, count: &Path, release: &Path) -> PathBuf {
    let path = dir.join("take-over.toml");
    std::fs::write(
        &path,
        format!(
            r#"{head}[services.stage]
kind = "jenkins"
url = "{jenkins}"
job = "deploy/addons-stage"
tag_param = "TAG"
token = {{ env = "PUSHDUTY_JENKINS_TOKEN" }}

{only}[[steps]]
id = "deploy"
section = "only"
title = "Deploy {{{{ tag }}}} to stage"
kind = "jenkins.build"
service = "stage"
outputs = ["build_number", "build_url", "build_result"]

[[steps]]
id = "migrate"
section = "only"
title = "Migrate"
kind = "shell"
command = "echo ran >> {count} && i=0 && while [ ! -e {release} ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done"
timeout_secs = 60
"#,
            head = crate::support::team::runbook_head("Take over"),
            only = crate::support::team::ONLY_SECTION,
            count = count.display(),
            release = release.display()
        ),
    )
    .unwrap();
    path
}

#[test]
fn a_driver_killed_mid_deploy_is_taken_over_and_the_build_is_followed_not_triggered_again() {
    let team = Team::new(4000);
    // ann's machine dies while Jenkins builds the deploy she triggered.
    team.ann_dies_mid_deploy();
    assert_eq!(team.jenkins.triggers(), 1);
    let o = team.run(&team.bob, &["takeover", "--reason", "ann's laptop died"]);
    let said = stdout(&o);
    assert!(o.status.success(), "{}{said}", stderr(&o));
    assert!(
        said.contains("you drive the push of 2015-09-10 now (from ann on "),
        "{said}"
    );
    assert!(
        said.contains("line(s) of the team's push log") && said.contains("(by ann on "),
        "{said}"
    );
    assert!(
        said.contains("`deploy` was left running by ann on "),
        "{said}"
    );
    assert!(
        said.contains("follows Jenkins build #1, which it started, and triggers none"),
        "{said}"
    );
    // bob's journal has ann's lines, after a line saying where they came from.
    let j = journal(&team.bob);
    let at = j
        .iter()
        .position(|e| e["event"] == "imported")
        .unwrap_or_else(|| panic!("{j:?}"));
    let lines = j[at]["lines"].as_u64().unwrap() as usize;
    assert!(lines >= 3, "running and two checkpoints: {j:?}");
    assert!(
        j[at + 1..=at + lines]
            .iter()
            .all(|e| e["operator"] == "ann"),
        "{j:?}"
    );
    assert_eq!(
        last_move(&j, "deploy"),
        ("interrupted".into(), "bob".into())
    );
    // Run again, the step follows ann's build to its end.
    let o = team.run(&team.bob, &["do", "deploy", "--yes"]);
    let said = stderr(&o);
    assert!(o.status.success(), "{said}");
    assert!(said.contains("following build #1"), "{said}");
    assert!(said.contains("Finished: SUCCESS"), "{said}");
    assert_eq!(team.jenkins.triggers(), 1, "triggered twice: {said}");
    assert_eq!(
        last_move(&journal(&team.bob), "deploy"),
        ("done".into(), "bob".into())
    );
    assert_eq!(
        last_move(&team.logged(), "deploy"),
        ("done".into(), "bob".into())
    );
    // ann, back, is refused with who took over and why, and triggers nothing.
    let o = team.run(&team.ann, &["do", "deploy", "--yes"]);
    let said = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{said}");
    assert!(
        said.contains("bob on ") && said.contains("took over: ann's laptop died"),
        "{said}"
    );
    assert_eq!(team.jenkins.triggers(), 1);
}

#[test]
fn a_command_left_running_on_the_old_drivers_machine_waits_for_the_new_driver_to_decide() {
    let team = Team::new(500);
    team.kill_at_logged_checkpoint(&team.ann, &["do", "migrate", "--yes"], "migrate", "pgid");
    assert_eq!(team.ran(), 1);
    let logged = team.logged();
    let checkpoint = logged.iter().find(|e| e["event"] == "checkpoint").unwrap();
    let host = checkpoint["host"].as_str().unwrap().to_string();
    let pgid = checkpoint["values"]["pgid"].as_i64().unwrap() as i32;
    let o = team.run(&team.bob, &["takeover", "--reason", "ann is unreachable"]);
    let said = stdout(&o);
    assert!(o.status.success(), "{}{said}", stderr(&o));
    assert!(
        said.contains("`migrate` was left running by ann on "),
        "{said}"
    );
    assert!(said.contains("may still be running elsewhere"), "{said}");
    // Refused, naming ann's machine, however often bob asks.
    let elsewhere = format!("may still be running elsewhere (on {host}: process group ");
    for _ in 0..2 {
        let o = team.run(&team.bob, &["do", "migrate", "--yes"]);
        let said = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{said}");
        assert!(said.contains(&elsewhere), "{said}");
        assert!(said.contains("--reopen"), "{said}");
    }
    assert_eq!(team.ran(), 1);
    // bob checks ann's machine (her command ends), then decides to run it again.
    std::fs::write(&team.release, "").unwrap();
    wait_group_gone(pgid);
    let o = team.run(
        &team.bob,
        &[
            "do",
            "migrate",
            "--yes",
            "--reopen",
            "ann's run hung; checked on her machine",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(team.ran(), 2);
    assert_eq!(
        last_move(&team.logged(), "migrate"),
        ("done".into(), "bob".into())
    );
}

#[test]
fn a_takeover_over_journals_that_disagree_is_refused_and_loses_nothing() {
    let team = Team::new(500);
    std::fs::write(&team.release, "").unwrap();
    let o = team.run(&team.ann, &["do", "migrate", "--yes"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // bob, cut off from the log, runs the same step on his own.
    let plugged = team.bob.unplug(&team.log, team.tmp.path());
    let o = team.run(
        &team.bob,
        &["do", "migrate", "--yes", "--offline-log", "train wifi"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(team.ran(), 2);
    team.bob.plug(plugged);
    let before = (team.tip(), journal(&team.bob));
    let o = team.run(&team.bob, &["takeover", "--reason", "ann went home"]);
    let said = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{said}");
    assert!(
        said.contains("`migrate`") && said.contains("ann on "),
        "{said}"
    );
    assert!(said.contains("both histories are kept"), "{said}");
    assert_eq!(
        (team.tip(), journal(&team.bob)),
        before,
        "nothing was written"
    );
    let o = team.run(&team.bob, &["follow", "--json"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["driver"]["operator"], "ann", "{v}");
}

#[test]
fn a_deploy_killed_while_jenkins_queues_it_is_followed_from_its_queue_item_after_a_takeover() {
    let team = Team::queued(2500, 1500);
    team.kill_at_logged_checkpoint(
        &team.ann,
        &["do", "deploy", "--yes"],
        "deploy",
        "queue_item",
    );
    let o = team.run(&team.bob, &["takeover", "--reason", "ann's laptop died"]);
    let said = stdout(&o);
    assert!(o.status.success(), "{}{said}", stderr(&o));
    assert!(
        said.contains("follows the Jenkins queue item it left"),
        "{said}"
    );
    let o = team.run(&team.bob, &["do", "deploy", "--yes"]);
    let said = stderr(&o);
    assert!(o.status.success(), "{said}");
    assert!(said.contains("following the queue item"), "{said}");
    assert!(said.contains("Finished: SUCCESS"), "{said}");
    assert_eq!(team.jenkins.triggers(), 1, "triggered twice: {said}");
    assert_eq!(
        last_move(&team.logged(), "deploy"),
        ("done".into(), "bob".into())
    );
}

/// ann's state dir is lost (a new disk; the machine keeps its name) while she drives: the log
/// has her lines, her new journal has none. `takeover` takes her own lines back in, so her
/// deploy is done on her machine again, and a Jenkins build she had running is followed, not
/// triggered a second time.
#[test]
fn a_driver_whose_state_dir_was_lost_takes_her_own_lines_back_from_the_log() {
    let team = Team::new(4000);
    team.ann_dies_mid_deploy();
    std::fs::remove_dir_all(team.ann.home.join("state")).unwrap();
    let o = team.run(&team.ann, &["takeover", "--reason", "new disk"]);
    let said = stdout(&o);
    assert!(o.status.success(), "{}{said}", stderr(&o));
    assert!(said.contains("(by ann on "), "{said}");
    assert!(
        said.contains("follows Jenkins build #1, which it started, and triggers none"),
        "{said}"
    );
    let j = journal(&team.ann);
    assert!(j.iter().any(|e| e["event"] == "imported"), "{j:?}");
    assert_eq!(last_move(&j, "deploy").0, "interrupted");
    let o = team.run(&team.ann, &["do", "deploy", "--yes"]);
    let said = stderr(&o);
    assert!(o.status.success(), "{said}");
    assert!(said.contains("following build #1"), "{said}");
    assert_eq!(team.jenkins.triggers(), 1, "triggered twice: {said}");
    // Taken in once: a second takeover finds nothing more to take.
    let o = team.run(&team.ann, &["takeover", "--reason", "again"]);
    assert!(!o.status.success(), "{}", stdout(&o));
    assert!(
        stderr(&o).contains("you drive this push already"),
        "{}",
        stderr(&o)
    );
}
