//! The team's push log through the binary: two operators (two homes, two state dirs, two git
//! identities) on one bare repository on a plain path.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::cli::{root, stderr};
use crate::support::git_servers;
use crate::support::gitrepo::git;

/// One operator: a home with their git identity and a config naming the push log.
pub(crate) struct Operator {
    pub(crate) home: PathBuf,
    /// More environment: what ssh (or a service) needs.
    pub(crate) env: Vec<(String, String)>,
}

impl Operator {
    pub(crate) fn new(dir: &Path, name: &str, log: &Path) -> Self {
        Self::reaching(dir, name, &log.display().to_string())
    }

    /// An operator whose config names the log as `url`.
    fn reaching(dir: &Path, name: &str, url: &str) -> Self {
        let home = dir.join(name);
        crate::support::team::operator_home(&home, &home.join("config.toml"), name, url);
        Self {
            home,
            env: Vec::new(),
        }
    }

    pub(crate) fn cmd(&self, runbook: &Path, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_pushduty"));
        c.current_dir(root())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("PUSHDUTY_CONFIG", self.home.join("config.toml"))
            .env("PUSHDUTY_STATE_DIR", self.home.join("state"))
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .arg(format!("--runbook={}", runbook.display()))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    }

    /// Points this operator's config at a log that is not there (`dir`/unplugged.git) in
    /// place of `log`: the log cannot be reached. The config as it was, for [`Operator::plug`].
    pub(crate) fn unplug(&self, log: &Path, dir: &Path) -> String {
        let cfg = self.home.join("config.toml");
        let good = std::fs::read_to_string(&cfg).unwrap();
        let gone = dir.join("unplugged.git");
        let away = good.replace(&log.display().to_string(), &gone.display().to_string());
        std::fs::write(&cfg, away).unwrap();
        good
    }

    /// The config as [`Operator::unplug`] found it: the log is reached again.
    pub(crate) fn plug(&self, config: String) {
        std::fs::write(self.home.join("config.toml"), config).unwrap();
    }

    pub(crate) fn run(&self, runbook: &Path, args: &[&str]) -> Output {
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
            r#"{head}{only}[[steps]]
id = "deploy"
section = "only"
title = "Deploy"
kind = "shell"
command = "echo {{{{ push_date }}}} >> {count}"
timeout_secs = 20

[[steps]]
id = "promote"
section = "only"
title = "Approve the production push"
kind = "gate"
waits_for = "QA"
who = "krupa"
outputs = ["approved_by", "approved_at"]

[[steps]]
id = "announce"
section = "only"
title = "Announce"
kind = "shell"
command = "echo announced >> {count}"
timeout_secs = 20
"#,
            head = crate::support::team::runbook_head("Log race"),
            only = crate::support::team::ONLY_SECTION,
            count = count.display()
        ),
    )
    .unwrap();
    path
}

/// A bare repository on a plain path: the team's repository.
pub(crate) fn bare(dir: &Path) -> PathBuf {
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
    let rounds = races("PUSHDUTY_LOG_RACES", 100);
    race([&ann, &bob], &rb, &count, &log, rounds, "on a plain path");
}

#[test]
fn racing_over_ssh_through_a_host_alias_acts_once_too() {
    let tmp = tempfile::tempdir().unwrap();
    let log = bare(tmp.path());
    let count = tmp.path().join("acted");
    let rb = runbook(tmp.path(), &count);
    let server = git_servers::sshd();
    let ops = over_ssh(tmp.path(), &log, &server);
    let rounds = races("PUSHDUTY_LOG_RACES_SSH", 10);
    race([&ops[0], &ops[1]], &rb, &count, &log, rounds, "over ssh");
}

/// ann and bob, each reaching the log `log` through an ssh `Host` alias with a key of their
/// own, over `server`.
fn over_ssh(dir: &Path, log: &Path, server: &git_servers::Server) -> [Operator; 2] {
    let url = format!("olympia-upstream:{}", log.display());
    ["ann", "bob"].map(|name| {
        let mut op = Operator::reaching(dir, name, &url);
        let ssh = git_servers::Operator::new(&op.home);
        let key = ssh.keygen(&format!("id_{name}"));
        server.authorize(&key.with_extension("pub"));
        ssh.ssh_config(server, Some(&key));
        op.env = ssh.env();
        op
    })
}

/// How many rounds: `var` when set, else `usual`.
fn races(var: &str, usual: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(usual)
}

/// Two operators race `deploy` of `rounds` pushes, each round a new push: exactly one acts,
/// the other is refused by the log, whatever the timing. Prints what the log cost.
fn race(ops: [&Operator; 2], rb: &Path, count: &Path, log: &Path, rounds: usize, how: &str) {
    let [ann, bob] = ops;
    let o = ann.run(rb, &["log", "init"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let began = Instant::now();
    let mut wins = [0usize; 2];
    // Refused because the other had it running (not yet done): the race was close.
    let mut while_running = 0;
    for round in 0..rounds {
        let now = tuesday(round as i64);
        let args = ["--now", now.as_str(), "do", "deploy", "--yes"];
        // Either may start first, at once or up to well after the other has acted.
        let (first, delay) = (round % 2, STAGGER_MS[(round / 2) % STAGGER_MS.len()]);
        let a = ops[first].cmd(rb, &args).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        let b = ops[1 - first].cmd(rb, &args).spawn().unwrap();
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
    let lines = std::fs::read_to_string(count).unwrap();
    let mut dates: Vec<&str> = lines.lines().collect();
    assert_eq!(dates.len(), rounds, "{lines}");
    dates.dedup();
    assert_eq!(dates.len(), rounds, "{lines}");
    // The log holds each push's journal: one `running` and one `done`, by whoever acted.
    let last = tuesday(rounds as i64 - 1);
    let push_date =
        chrono::NaiveDate::parse_from_str(&last, "%Y-%m-%d").unwrap() + chrono::Duration::days(2);
    let journal = git(
        log,
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
        log,
        &[
            "show",
            &format!("pushduty-log:log-race/{push_date}/report.md"),
        ],
    );
    assert!(report.contains("Deploy"), "{report}");
    // The branch is linear and made by the two identities alone; nothing else was written.
    let authors = git(log, &["log", "--format=%an", "pushduty-log"]);
    assert!(
        authors.lines().all(|a| a == "ann" || a == "bob"),
        "{authors}"
    );
    let merges = git(log, &["rev-list", "--merges", "pushduty-log"]);
    assert!(merges.is_empty(), "{merges}");
    assert_eq!(
        git(log, &["for-each-ref", "--format=%(refname)"]),
        "refs/heads/pushduty-log"
    );
    let mut waits: Vec<u64> = ann.waits().into_iter().chain(bob.waits()).collect();
    waits.sort_unstable();
    assert_eq!(waits.len(), rounds, "one wait per step acted: {waits:?}");
    println!(
        "push log race {how}: {rounds} rounds in {:.1} s (ann acted {}, bob {}; refused while the \
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

/// Two operators on one log, a runbook of one counted step, the log's branch made.
struct Team {
    tmp: tempfile::TempDir,
    log: PathBuf,
    count: PathBuf,
    rb: PathBuf,
    ann: Operator,
    bob: Operator,
}

impl Team {
    fn new(init: bool) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let log = tmp.path().join("team.git");
        let count = tmp.path().join("acted");
        let rb = runbook(tmp.path(), &count);
        let ann = Operator::new(tmp.path(), "ann", &log);
        let bob = Operator::new(tmp.path(), "bob", &log);
        let team = Self {
            tmp,
            log,
            count,
            rb,
            ann,
            bob,
        };
        if init {
            team.make_log();
        }
        team
    }

    fn make_log(&self) {
        bare(self.tmp.path());
        let o = self.ann.run(&self.rb, &["log", "init"]);
        assert!(o.status.success(), "{}", stderr(&o));
    }

    /// `args` as `who`, for the push of 2015-09-10.
    fn on(&self, who: &Operator, args: &[&str]) -> Output {
        let mut all = vec!["--now", "2015-09-08"];
        all.extend_from_slice(args);
        who.run(&self.rb, &all)
    }

    /// `do deploy --yes` for the push of 2015-09-10, and more args.
    fn deploy(&self, who: &Operator, more: &[&str]) -> Output {
        let mut args = vec!["do", "deploy", "--yes"];
        args.extend_from_slice(more);
        self.on(who, &args)
    }

    fn acted(&self) -> usize {
        std::fs::read_to_string(&self.count)
            .map(|t| t.lines().count())
            .unwrap_or(0)
    }

    fn tip(&self) -> String {
        git(&self.log, &["rev-parse", "pushduty-log"])
    }

    /// The step lines (`to`, operator) of the push's journal in the log.
    fn logged(&self) -> Vec<(String, String)> {
        logged_in(&self.log)
    }
}

/// The step lines (`to`, operator) of the push's journal in the log `log`.
fn logged_in(log: &Path) -> Vec<(String, String)> {
    git(
        log,
        &["show", "pushduty-log:log-race/2015-09-10/journal.jsonl"],
    )
    .lines()
    .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
    .filter(|v| v["event"] == "step")
    .map(|v| pair(v["to"].as_str().unwrap(), v["operator"].as_str().unwrap()))
    .collect()
}

/// The operator's local journal says they went on without the log, and why.
fn assert_went_on_without_the_log(who: &Operator, why: &str) {
    let journal = std::fs::read_to_string(
        who.home
            .join("state/sessions/log-race/2015-09-10/journal.jsonl"),
    )
    .unwrap();
    assert!(
        journal.contains(&format!("went on without the team's push log: {why}")),
        "{journal}"
    );
}

/// The step lines of an operator's local journal of the push, as `to` values.
fn local_steps(who: &Operator) -> Vec<String> {
    std::fs::read_to_string(
        who.home
            .join("state/sessions/log-race/2015-09-10/journal.jsonl"),
    )
    .unwrap_or_default()
    .lines()
    .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
    .filter(|v| v["event"] == "step")
    .map(|v| v["to"].as_str().unwrap().to_string())
    .collect()
}

fn pair(to: &str, who: &str) -> (String, String) {
    (to.to_string(), who.to_string())
}

#[test]
fn an_unreachable_log_stops_the_step_until_the_operator_goes_on_locally_and_syncs_later() {
    let team = Team::new(false);
    // No repository there yet: the log cannot be reached.
    let o = team.deploy(&team.ann, &[]);
    let said = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{said}");
    assert!(said.contains("could not be reached"), "{said}");
    assert!(said.contains("--offline-log"), "{said}");
    assert_eq!(team.acted(), 0);
    assert!(
        local_steps(&team.ann).is_empty(),
        "{:?}",
        local_steps(&team.ann)
    );
    // The operator's explicit choice: journaled with the step's start.
    let o = team.deploy(&team.ann, &["--offline-log", "the VPN is down; ops agreed"]);
    let said = stderr(&o);
    assert!(o.status.success(), "{said}");
    assert!(said.contains("log sync"), "{said}");
    assert_eq!(team.acted(), 1);
    assert_went_on_without_the_log(&team.ann, "the VPN is down; ops agreed");
    // The log comes back: sync sends the push, and bob is refused the step it holds.
    team.make_log();
    let o = team
        .ann
        .run(&team.rb, &["--now", "2015-09-08", "log", "sync"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(team.logged(), [pair("running", "ann"), pair("done", "ann")]);
    let o = team.deploy(&team.bob, &[]);
    assert!(stderr(&o).contains("done by ann"), "{}", stderr(&o));
    assert_eq!(team.acted(), 1);
}

#[test]
fn a_step_done_offline_that_someone_did_meanwhile_is_never_merged_until_a_person_settles_it() {
    let team = Team::new(true);
    // ann cannot reach the log (her config points elsewhere for now) and goes on locally.
    let plugged = team.ann.unplug(&team.log, team.tmp.path());
    let o = team.deploy(&team.ann, &["--offline-log", "train wifi"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // bob, online, does the same step: the log has only his.
    let o = team.deploy(&team.bob, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(team.acted(), 2);
    let before = team.tip();
    team.ann.plug(plugged);
    let o = team
        .ann
        .run(&team.rb, &["--now", "2015-09-08", "log", "sync"]);
    let said = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{said}");
    assert!(said.contains("moved on differently"), "{said}");
    assert!(
        said.contains("`deploy`") && said.contains("bob on"),
        "{said}"
    );
    assert_eq!(team.tip(), before, "nothing was written to the log");
    assert_eq!(team.logged(), [pair("running", "bob"), pair("done", "bob")]);
    assert_eq!(local_steps(&team.ann), ["running", "done"]);
    assert!(said.contains("log sync --settled"), "{said}");

    // Settled with the team by a person: both histories go to the log, ann's after bob's,
    // with who settled and why.
    let sync = |more: &[&str]| {
        let mut args = vec!["--now", "2015-09-08", "log", "sync"];
        args.extend_from_slice(more);
        team.ann.run(&team.rb, &args)
    };
    let o = sync(&["--settled", "we both deployed the same build; harmless"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let shown = crate::support::cli::stdout(&o);
    assert!(shown.contains("settled `deploy`"), "{shown}");
    assert_eq!(
        team.logged(),
        [
            pair("running", "bob"),
            pair("done", "bob"),
            pair("running", "ann"),
            pair("done", "ann")
        ]
    );
    let logged = git(
        &team.log,
        &["show", "pushduty-log:log-race/2015-09-10/journal.jsonl"],
    );
    let settled: Vec<serde_json::Value> = logged
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["event"] == "settled")
        .collect();
    assert_eq!(settled.len(), 1, "{logged}");
    assert_eq!(settled[0]["operator"], "ann");
    assert_eq!(settled[0]["steps"], serde_json::json!(["deploy"]));
    assert_eq!(
        settled[0]["reason"],
        "we both deployed the same build; harmless"
    );
    // Settled once: nothing is left to settle, and a plain sync sends nothing more.
    let o = sync(&["--settled", "again"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("nothing to settle"), "{}", stderr(&o));
    let tip = team.tip();
    let o = sync(&[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(team.tip(), tip);
    // The log still reads as one push, both runs in it.
    let o = team.bob.run(
        &team.rb,
        &["--now", "2015-09-08", "report", "--from-log", "--json"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["operators"], serde_json::json!(["bob", "ann"]), "{v}");
    assert_eq!(team.acted(), 2);
}

#[test]
fn a_force_pushed_older_log_is_refused_and_nothing_runs() {
    let team = Team::new(true);
    let first = team.tip();
    let o = team.deploy(&team.ann, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let seen = team.tip();
    // Someone force-pushes the branch back to before the push.
    git(
        &team.log,
        &["update-ref", "refs/heads/pushduty-log", &first],
    );
    let o = team
        .ann
        .run(&team.rb, &["--now", "2015-09-15", "do", "deploy", "--yes"]);
    let said = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{said}");
    assert!(said.contains("rewound or force-pushed"), "{said}");
    assert!(said.contains(&seen), "{said}");
    assert_eq!(team.acted(), 1);
    assert_eq!(team.tip(), first, "the log was not written");
    // What this machine had is all still here.
    assert_eq!(local_steps(&team.ann), ["running", "done"]);
}

#[test]
fn a_log_journal_that_does_not_parse_is_refused_with_its_file_and_line() {
    let team = Team::new(true);
    let o = team.deploy(&team.ann, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Someone edits the push's journal in the log by hand.
    let work = team.tmp.path().join("edit");
    git(
        team.tmp.path(),
        &[
            "clone",
            "-q",
            "-b",
            "pushduty-log",
            &team.log.display().to_string(),
            "edit",
        ],
    );
    let path = work.join("log-race/2015-09-10/journal.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(1, "{\"time\": \"oops\"");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    git(&work, &["commit", "-qam", "hand edit"]);
    git(&work, &["push", "-q", "origin", "pushduty-log"]);
    let o = team.deploy(&team.bob, &[]);
    let said = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{said}");
    assert!(
        said.contains("log-race/2015-09-10/journal.jsonl:2:"),
        "{said}"
    );
    assert_eq!(team.acted(), 1);
}

#[test]
fn a_branch_that_is_not_a_push_log_is_refused() {
    let team = Team::new(false);
    bare(team.tmp.path());
    let work = team.tmp.path().join("code");
    std::fs::create_dir_all(&work).unwrap();
    git(&work, &["init", "-q", "-b", "pushduty-log"]);
    std::fs::write(work.join("main.rs"), "fn main() {}\n").unwrap();
    git(&work, &["add", "main.rs"]);
    git(&work, &["commit", "-qm", "code"]);
    git(
        &work,
        &[
            "push",
            "-q",
            &team.log.display().to_string(),
            "pushduty-log",
        ],
    );
    let o = team.deploy(&team.ann, &[]);
    let said = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{said}");
    assert!(said.contains("is not a push log"), "{said}");
    assert_eq!(team.acted(), 0);
    // Nor is it made one: init leaves a branch it did not make alone.
    let before = git(&team.log, &["rev-parse", "pushduty-log"]);
    let o = team.ann.run(&team.rb, &["log", "init"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("is not a push log"), "{}", stderr(&o));
    assert_eq!(git(&team.log, &["rev-parse", "pushduty-log"]), before);
}

#[test]
fn one_driver_acts_and_a_takeover_moves_the_seat_with_its_reason() {
    let team = Team::new(true);
    let run = |who: &Operator, args: &[&str]| team.on(who, args);
    let o = team.deploy(&team.ann, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    // ann acted first: she drives, and bob is refused another step, told by whom and how.
    let o = run(&team.bob, &["do", "announce", "--yes"]);
    let said = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{said}");
    assert!(
        said.contains("ann on ") && said.contains("drives this push"),
        "{said}"
    );
    assert!(said.contains("takeover --reason"), "{said}");
    let o = run(&team.bob, &["follow"]);
    let shown = crate::support::cli::stdout(&o);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(shown.contains("driver: ann on "), "{shown}");
    assert!(
        shown.contains("done        deploy  Deploy  ann on "),
        "{shown}"
    );
    assert!(shown.contains("pending     announce"), "{shown}");
    // Nor may he approve the production push: a gate is the driver's too.
    let approve = ["do", "promote", "--yes", "--input", "approved_by=krupa"];
    let o = run(&team.bob, &approve);
    let said = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{said}");
    assert!(said.contains("drives this push"), "{said}");
    let o = run(&team.bob, &["takeover", "--reason", "ann is ill"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        crate::support::cli::stdout(&o).contains("(from ann on "),
        "{}",
        stderr(&o)
    );
    // The old driver is refused now, told who took over and why.
    let o = run(&team.ann, &["do", "announce", "--yes"]);
    let said = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{said}");
    assert!(
        said.contains("bob on ") && said.contains("took over: ann is ill"),
        "{said}"
    );
    let o = run(&team.bob, &approve);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&team.bob, &["do", "announce", "--yes"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(team.acted(), 2);
    let o = run(&team.ann, &["follow", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["driver"]["operator"], "bob", "{v}");
    assert_eq!(v["driver"]["reason"], "ann is ill", "{v}");
    assert!(
        v["driver"]["from"].as_str().unwrap().starts_with("ann on "),
        "{v}"
    );
    let steps: Vec<(&str, &str, &str)> = v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap(),
                s["status"].as_str().unwrap(),
                s["by"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("deploy", "done", "ann"),
            ("promote", "done", "bob"),
            ("announce", "done", "bob")
        ]
    );
    let o = run(&team.bob, &["takeover", "--reason", "again"]);
    assert!(
        stderr(&o).contains("you drive this push already"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_log_that_goes_away_mid_step_gets_the_result_when_it_is_back_and_nothing_runs_twice() {
    let team = Team::new(true);
    let away = team.tmp.path().join("team.git.away");
    // The deploy takes the log's server down while it runs.
    let text = std::fs::read_to_string(&team.rb).unwrap().replace(
        "echo {{ push_date }} >>",
        &format!(
            "mv {} {} && echo {{{{ push_date }}}} >>",
            team.log.display(),
            away.display()
        ),
    );
    std::fs::write(&team.rb, text).unwrap();
    let o = team.deploy(&team.ann, &[]);
    let said = stderr(&o);
    assert!(o.status.success(), "{said}");
    assert!(
        said.contains("warning: `deploy` is journaled here but not yet in the team's push log"),
        "{said}"
    );
    assert_eq!(team.acted(), 1);
    std::fs::rename(&away, &team.log).unwrap();
    assert_eq!(team.logged(), [pair("running", "ann")]);
    // bob is kept off meanwhile: the log says ann has it running.
    let o = team.deploy(&team.bob, &[]);
    assert!(stderr(&o).contains("it is running there"), "{}", stderr(&o));
    let o = team
        .ann
        .run(&team.rb, &["--now", "2015-09-08", "log", "sync"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(team.logged(), [pair("running", "ann"), pair("done", "ann")]);
    let o = team
        .ann
        .run(&team.rb, &["--now", "2015-09-08", "log", "sync"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(team.logged().len(), 2, "nothing sent twice");
    assert_eq!(team.acted(), 1);
}

#[test]
fn a_push_someone_else_drove_is_reported_from_the_log() {
    let team = Team::new(true);
    let o = team.deploy(&team.ann, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    // bob has no journal of this push on his machine: the log has it.
    let report = |args: &[&str]| {
        let mut all = vec!["--now", "2015-09-08", "report"];
        all.extend_from_slice(args);
        team.bob.run(&team.rb, &all)
    };
    let o = report(&[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let o = report(&["--from-log", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["operators"], serde_json::json!(["ann"]), "{v}");
    assert_eq!(v["push_date"], "2015-09-10", "{v}");
    let deploy = v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "deploy")
        .unwrap();
    assert_eq!(deploy["status"], "done", "{deploy}");
    assert_eq!(deploy["by"], "ann", "{deploy}");
    let o = report(&["--from-log", "--push-date", "2015-09-17"]);
    let said = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{said}");
    assert!(said.contains("has no push of 2015-09-17"), "{said}");
}

#[test]
fn history_show_and_replay_read_a_push_someone_else_drove_from_the_log() {
    let team = Team::new(true);
    let o = team.deploy(&team.ann, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let bob = |args: &[&str]| {
        let mut all = vec!["--now", "2015-09-08"];
        all.extend_from_slice(args);
        team.bob.run(&team.rb, &all)
    };
    let json = |o: &Output| -> serde_json::Value {
        assert!(o.status.success(), "{}", stderr(o));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    // bob's machine has no session of it; the log has ann's push.
    let here = json(&bob(&["history", "--json"]));
    assert_eq!(here["sessions"], serde_json::json!([]), "{here}");
    let there = json(&bob(&["history", "--from-log", "--json"]));
    let sessions = there["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1, "{there}");
    assert_eq!(sessions[0]["operator"], "ann", "{there}");
    assert_eq!(sessions[0]["push_date"], "2015-09-10", "{there}");
    assert_eq!(sessions[0]["done"], 1, "{there}");
    assert!(
        sessions[0]["path"]
            .as_str()
            .unwrap()
            .starts_with("log-race/2015-09-10 in branch `pushduty-log` of "),
        "{there}"
    );
    assert!(
        there["durations"]["deploy"].is_object(),
        "the log's runs: {there}"
    );
    let table = crate::support::cli::stdout(&bob(&["history", "--from-log"]));
    assert!(
        table.contains("2015-09-10") && table.contains("ann"),
        "{table}"
    );

    // show: the push as the log has it, step by step.
    let o = bob(&["show", "deploy", "--json"]);
    assert_eq!(o.status.code(), Some(1), "none here: {}", stderr(&o));
    let shown = json(&bob(&["show", "deploy", "--from-log", "--json"]));
    assert_eq!(shown["steps"][0]["status"], "done", "{shown}");
    assert_eq!(shown["steps"][0]["by"], "ann", "{shown}");
    assert!(
        shown["journal"]
            .as_str()
            .unwrap()
            .starts_with("log-race/2015-09-10/journal.jsonl in branch"),
        "{shown}"
    );

    // learn --replay: the latest push in the log (unfinished, so said), or the one named.
    let o = bob(&["learn", "--replay", "--from-log", "--json"]);
    let said = stderr(&o);
    let replay = json(&o);
    assert!(
        said.contains("no push of this runbook has finished"),
        "{said}"
    );
    assert_eq!(replay["push_date"], "2015-09-10", "{replay}");
    assert_eq!(replay["operators"], serde_json::json!(["ann"]), "{replay}");
    let named = json(&bob(&[
        "learn",
        "--replay",
        "2015-09-10",
        "--from-log",
        "--json",
    ]));
    assert_eq!(named["steps"], replay["steps"]);
    // Nothing was written to bob's state dir by reading.
    assert!(!team.bob.home.join("state/sessions").exists());

    // A journal in the log that does not parse is listed, with why, beside the others.
    let work = team.tmp.path().join("edit");
    let url = team.log.display().to_string();
    git(
        team.tmp.path(),
        &["clone", "-q", "-b", "pushduty-log", &url, "edit"],
    );
    let bad = work.join("log-race/2015-09-17");
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::write(bad.join("journal.jsonl"), "not json\n").unwrap();
    git(&work, &["add", "."]);
    git(&work, &["commit", "-qm", "a broken push"]);
    git(&work, &["push", "-q", "origin", "pushduty-log"]);
    let there = json(&bob(&["history", "--from-log", "--json"]));
    let sessions = there["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2, "{there}");
    assert_eq!(sessions[0]["push_date"], "2015-09-17", "{there}");
    assert_eq!(sessions[0]["outcome"], "unreadable", "{there}");
    assert!(
        sessions[0]["error"]
            .as_str()
            .unwrap()
            .contains("log-race/2015-09-17/journal.jsonl:1"),
        "{there}"
    );
    assert_eq!(sessions[1]["operator"], "ann", "{there}");
    // learn --replay picks the latest push it can read.
    let replay = json(&bob(&["learn", "--replay", "--from-log", "--json"]));
    assert_eq!(replay["push_date"], "2015-09-10", "{replay}");
}

#[test]
fn run_auto_goes_on_without_an_unreachable_log_only_when_told_why() {
    let team = Team::new(false);
    let auto = |more: &[&str]| {
        let mut args = vec!["--now", "2015-09-08", "run", "--auto"];
        args.extend_from_slice(more);
        team.ann.run(&team.rb, &args)
    };
    let o = auto(&[]);
    let said = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{said}");
    assert!(said.contains("--offline-log"), "{said}");
    assert_eq!(team.acted(), 0);
    let o = auto(&["--offline-log", " "]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    // Told why: the deploy runs, and the run stops at the gate that needs a person.
    let o = auto(&["--offline-log", "the VPN is down; ops agreed"]);
    let said = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{said}");
    assert!(said.contains("log sync"), "{said}");
    assert_eq!(team.acted(), 1);
    assert_eq!(local_steps(&team.ann), ["running", "done"]);
    assert_went_on_without_the_log(&team.ann, "the VPN is down; ops agreed");
}

#[test]
fn the_logs_ssh_server_stopping_mid_step_loses_nothing_and_repeats_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let log = bare(tmp.path());
    let count = tmp.path().join("acted");
    let mut server = git_servers::sshd();
    // The deploy stops the log's server while it runs: its start reached the log, its
    // result cannot.
    let rb = runbook(tmp.path(), &count);
    let text = std::fs::read_to_string(&rb).unwrap().replace(
        "echo {{ push_date }} >>",
        &format!("kill {} && echo {{{{ push_date }}}} >>", server.pid()),
    );
    std::fs::write(&rb, text).unwrap();
    let [ann, bob] = over_ssh(tmp.path(), &log, &server);
    let o = ann.run(&rb, &["log", "init"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let deploy = |who: &Operator| who.run(&rb, &["--now", "2015-09-08", "do", "deploy", "--yes"]);
    let o = deploy(&ann);
    let said = stderr(&o);
    assert!(o.status.success(), "{said}");
    assert!(
        said.contains("is journaled here but not yet in the team's push log"),
        "{said}"
    );
    assert_eq!(std::fs::read_to_string(&count).unwrap().lines().count(), 1);
    // While the server is away, bob cannot act: the log cannot be reached.
    let o = deploy(&bob);
    let said = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{said}");
    assert!(said.contains("could not be reached"), "{said}");
    // The server comes back: ann's result reaches the log once, and bob is refused the step.
    server.restart_sshd();
    let sync = || ann.run(&rb, &["--now", "2015-09-08", "log", "sync"]);
    let o = sync();
    assert!(o.status.success(), "{}", stderr(&o));
    let logged = || logged_in(&log);
    assert_eq!(logged(), [pair("running", "ann"), pair("done", "ann")]);
    let o = sync();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(logged().len(), 2, "nothing sent twice");
    let o = deploy(&bob);
    assert!(stderr(&o).contains("done by ann"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&count).unwrap().lines().count(), 1);
    assert_eq!(local_steps(&ann), ["running", "done"]);
}

#[test]
fn lines_the_old_driver_journals_after_a_takeover_stay_in_their_journal() {
    let team = Team::new(true);
    let run = |who: &Operator, args: &[&str]| team.on(who, args);
    let o = team.deploy(&team.ann, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    // ann notes an item before she is taken over from; it waits for the next write.
    let o = run(&team.ann, &["add", "tell QA the deploy is out"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Journal times are to the second: a line in the takeover's second counts as before it.
    let next_second = || std::thread::sleep(Duration::from_millis(1100));
    next_second();
    let o = run(
        &team.bob,
        &["takeover", "--reason", "ann's laptop is off the network"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    next_second();
    // ann, cut off and unaware, adds another; then her machine syncs.
    let o = run(&team.ann, &["add", "check the graphs"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let tip = team.tip();
    let o = run(&team.ann, &["log", "sync"]);
    let said = stderr(&o);
    assert!(o.status.success(), "{said}");
    assert!(
        said.contains("1 line(s) journaled here after bob on ")
            && said.contains("are kept in this journal only"),
        "{said}"
    );
    let log = git(
        &team.log,
        &["show", "pushduty-log:log-race/2015-09-10/journal.jsonl"],
    );
    assert!(log.contains("tell QA the deploy is out"), "{log}");
    assert!(!log.contains("check the graphs"), "{log}");
    assert_ne!(
        team.tip(),
        tip,
        "the line from before the takeover was sent"
    );
    // Kept, not lost: her journal has both, and a second sync sends nothing.
    let mine = std::fs::read_to_string(
        team.ann
            .home
            .join("state/sessions/log-race/2015-09-10/journal.jsonl"),
    )
    .unwrap();
    assert!(mine.contains("check the graphs"), "{mine}");
    let tip = team.tip();
    let o = run(&team.ann, &["log", "sync"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(team.tip(), tip);
}

#[test]
fn a_takeover_reason_with_escape_sequences_reaches_no_terminal_raw() {
    let team = Team::new(true);
    let o = team.deploy(&team.ann, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    // A reason that would set the clipboard and retitle a terminal if printed as it is.
    let evil = "ann is ill\u{1b}]52;c;ZXZpbA==\u{7}\u{1b}]0;owned\u{7}; $(rm -rf ~)";
    let o = team.on(&team.bob, &["takeover", "--reason", evil]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Kept as given in the log (it is data), said without its control characters.
    let seats = git(
        &team.log,
        &["show", "pushduty-log:log-race/2015-09-10/seats.jsonl"],
    );
    assert!(seats.contains("$(rm -rf ~)"), "{seats}");
    let o = team.on(&team.ann, &["do", "announce", "--yes"]);
    let said = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{said}");
    assert!(said.contains("took over: ann is ill"), "{said}");
    assert!(
        !said.contains('\u{1b}') && !said.contains('\u{7}'),
        "{said:?}"
    );
    let o = team.on(&team.ann, &["follow", "--once"]);
    let shown = crate::support::cli::stdout(&o);
    assert!(shown.contains("ann is ill"), "{shown}");
    assert!(
        !shown.contains('\u{1b}') && !shown.contains('\u{7}'),
        "{shown:?}"
    );
    assert_eq!(team.acted(), 1);
}
