//! Following a push from the team's push log on the screen: two operators, two homes and
//! state dirs, one bare repository. bob's `follow` shows each step ann does within a few
//! seconds and who drives; ann's `run` turns read-only when bob takes the seat; a log that
//! cannot be reached is said on the screen, which keeps reading it.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::e2e_tmux::{Tmux, need_tmux};
use crate::support::cli::{Env, stderr};
use crate::support::gitrepo::git;
use crate::support::team::{ONLY_SECTION, operator_home, runbook_head};

/// The runbook's steps, after its head and section ([`runbook`]).
const STEPS: &str = r#"[[steps]]
id = "deploy"
section = "only"
title = "Deploy"
kind = "shell"
command = "sleep 2; echo deployed >> COUNT"
timeout_secs = 20

[[steps]]
id = "announce"
section = "only"
title = "Announce"
kind = "shell"
command = "echo announced >> COUNT"
timeout_secs = 20
"#;

/// The test's runbook: the team's head, one section, [`STEPS`].
fn runbook() -> String {
    format!("{}{ONLY_SECTION}{STEPS}", runbook_head("Follow me"))
}

/// How long a follower may take to show a step: its read every second, plus a fetch.
const SHOWN_WITHIN: Duration = Duration::from_secs(5);

/// An operator's home: their git identity and a config naming the push log `log`.
fn operator(name: &str, log: &Path) -> Env {
    let env = Env::new();
    operator_home(env.path(), &env.config(), name, &log.display().to_string());
    env
}

/// The team: ann and bob on one log (not made yet), and the runbook counting what acts.
struct Team {
    /// Holds the log, the runbook and the count until the test ends.
    _tmp: tempfile::TempDir,
    log: PathBuf,
    count: PathBuf,
    runbook: String,
    ann: Env,
    bob: Env,
}

impl Team {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let log = tmp.path().join("team.git");
        let count = tmp.path().join("acted");
        let rb = tmp.path().join("follow-me.toml");
        std::fs::write(
            &rb,
            runbook().replace("COUNT", &count.display().to_string()),
        )
        .unwrap();
        Self {
            ann: operator("ann", &log),
            bob: operator("bob", &log),
            runbook: format!("--runbook={}", rb.display()),
            _tmp: tmp,
            log,
            count,
        }
    }

    /// The bare repository and the log's branch in it.
    fn make_log(&self) {
        std::fs::create_dir_all(&self.log).unwrap();
        git(&self.log, &["init", "--bare", "-q"]);
        let o = self.ann.run(&[&self.runbook, "log", "init"]);
        assert!(o.status.success(), "{}", stderr(&o));
    }

    /// `do STEP --yes` for the push of 2015-09-10, as `who`.
    fn step(&self, who: &Env, step: &str) {
        let o = who.run(&[&self.runbook, "--now", "2015-09-08", "do", step, "--yes"]);
        assert!(o.status.success(), "{}", stderr(&o));
    }

    /// `do STEP --yes` as `who`, refused: what it said.
    fn refused(&self, who: &Env, step: &str) -> String {
        let o = who.run(&[&self.runbook, "--now", "2015-09-08", "do", step, "--yes"]);
        assert!(!o.status.success(), "{step} ran after the seat moved");
        stderr(&o)
    }

    /// bob's `follow --interval 1` in `t`'s window `bob`.
    fn follow(&self, t: &Tmux) {
        let args = [
            &self.runbook,
            "--now",
            "2015-09-08",
            "follow",
            "--interval",
            "1",
        ];
        t.start(&self.bob, "bob", &args);
    }

    fn acted(&self) -> usize {
        std::fs::read_to_string(&self.count)
            .map(|t| t.lines().count())
            .unwrap_or(0)
    }
}

/// `T` on `win`'s read-only screen, the seat taken from `from` with `reason`: the push opens
/// in `run` there, one step of two done.
fn take_seat(t: &Tmux, win: &str, from: &str, reason: &str) {
    t.keys(win, &["T"]);
    t.wait_for(win, &format!("Take over the push from {from} on "));
    t.keys(win, &["-l", reason]);
    t.keys(win, &["Enter"]);
    t.wait_without(win, "READ-ONLY");
    let screen = t.wait_for(win, "Checklist 1/2");
    let header = screen.lines().next().unwrap_or("");
    assert!(header.trim_end().ends_with(" RUN"), "{screen}");
}

/// Waits for `text` on `win`, and says how long it took.
fn shown_in(t: &Tmux, win: &str, text: &str) -> (String, Duration) {
    let from = Instant::now();
    let screen = t.wait_for(win, text);
    (screen, from.elapsed())
}

#[test]
fn a_follower_sees_each_step_the_driver_does_within_the_poll_interval() {
    need_tmux();
    let team = Team::new();
    team.make_log();
    let t = Tmux::new("follow");
    team.follow(&t);
    t.wait_for("bob", "nobody drives yet");
    t.wait_for("bob", "FOLLOW · READ-ONLY");

    // ann's first step runs for two seconds: bob sees it running, then done.
    let driving = std::thread::scope(|s| {
        let deploy = s.spawn(|| team.step(&team.ann, "deploy"));
        let (screen, took) = shown_in(&t, "bob", "[>] Deploy");
        assert!(took < SHOWN_WITHIN, "{took:?}; screen:\n{screen}");
        deploy.join().unwrap();
        screen
    });
    assert!(driving.contains("ann on "), "{driving}");
    assert!(driving.contains("drives since"), "{driving}");
    let (screen, took) = shown_in(&t, "bob", "[x] Deploy");
    assert!(took < SHOWN_WITHIN, "{took:?}; screen:\n{screen}");
    assert!(screen.contains("Checklist 1/2"), "{screen}");
    assert!(screen.contains(": deploy done at"), "{screen}");

    team.step(&team.ann, "announce");
    let (screen, took) = shown_in(&t, "bob", "Checklist 2/2");
    assert!(took < SHOWN_WITHIN, "{took:?}; screen:\n{screen}");
    assert!(screen.contains("[x] Announce"), "{screen}");
    assert!(screen.contains("ann on "), "{screen}");
    // Following acts on nothing, and bob's state dir holds no session of the push.
    assert_eq!(team.acted(), 2);
    assert!(!team.bob.path().join("state/sessions").exists());
    t.keys("bob", &["q"]);
    t.wait_exit("bob", "0");
}

#[test]
fn the_old_drivers_screen_turns_read_only_when_someone_takes_the_seat() {
    need_tmux();
    let team = Team::new();
    team.make_log();
    let t = Tmux::new("takenover");
    t.start(
        &team.ann,
        "ann",
        &[&team.runbook, "--now", "2015-09-08", "run"],
    );
    t.wait_for("ann", "Checklist 0/2");
    t.keys("ann", &["Enter"]);
    t.wait_for("ann", "Run deploy?");
    t.keys("ann", &["y"]);
    t.wait_for("ann", "Checklist 1/2");

    let o = team.bob.run(&[
        &team.runbook,
        "--now",
        "2015-09-08",
        "takeover",
        "--reason",
        "ann is ill",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // The run screen reads the seat every 5 s.
    let screen = t.wait_for("ann", "TAKEN OVER · READ-ONLY");
    assert!(screen.contains("bob on "), "{screen}");
    assert!(screen.contains("took over from you"), "{screen}");
    assert!(screen.contains("ann is ill"), "{screen}");

    // Nothing starts from it any more, and the keys that would say why.
    t.keys("ann", &["Enter"]);
    t.wait_for("ann", "Deploy");
    t.keys("ann", &["Escape", "j", "Enter"]);
    t.wait_for("ann", "Announce ─");
    std::thread::sleep(Duration::from_millis(500));
    let screen = t.screen("ann");
    assert!(!screen.contains("Run announce?"), "{screen}");
    t.keys("ann", &["Escape", "s"]);
    t.wait_for(
        "ann",
        "this screen is read-only, nothing is started or recorded here",
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(team.acted(), 1, "{}", t.screen("ann"));

    // ann takes the seat back from her screen: it opens in `run` again, hers to drive.
    take_seat(&t, "ann", "bob", "I am back");
    let said = team.refused(&team.bob, "announce");
    assert!(said.contains("I am back"), "{said}");
    t.keys("ann", &["q"]);
    t.wait_exit("ann", "0");
}

#[test]
fn a_log_that_cannot_be_reached_is_said_on_the_follow_screen_which_reads_it_again() {
    need_tmux();
    let team = Team::new();
    let t = Tmux::new("followaway");
    team.follow(&t);
    let screen = t.wait_for("bob", "the team's push log cannot be read");
    assert!(screen.contains("trying again every 1s"), "{screen}");
    assert!(screen.contains("could not be reached"), "{screen}");
    assert!(screen.contains("FOLLOW · READ-ONLY"), "{screen}");
    // The screen still answers keys meanwhile.
    t.keys("bob", &["j"]);
    t.wait_for("bob", "Announce ─");

    // The log is made: the next read finds it.
    team.make_log();
    let screen = t.wait_for("bob", "nobody drives yet");
    assert!(screen.contains("answers again"), "{screen}");
}

/// The follower's panes read the services with the follower's own credentials: the Jenkins
/// build the driver triggered shows on bob's screen, and nothing is triggered by following.
#[test]
fn the_followers_jenkins_pane_shows_the_build_the_driver_triggered() {
    need_tmux();
    let jenkins = crate::support::jenkins::Jenkins::start(crate::support::jenkins::Config {
        build_ms: 300,
        ..Default::default()
    });
    let team = Team::new();
    team.make_log();
    let runbook = "--runbook=tests/fixtures/runbooks/valid/deploy.toml";
    let url = format!("--set=services.stage.url={}", jenkins.url());
    let args = |more: &[&'static str]| -> Vec<String> {
        let mut all: Vec<String> = [runbook, "--now", "2015-09-08", url.as_str()]
            .iter()
            .map(|s| s.to_string())
            .collect();
        all.push("--set=services.stage.user=andym".into());
        all.extend(more.iter().map(|s| s.to_string()));
        all
    };
    let t = Tmux::new("followpanes");
    let follow = args(&["follow", "--interval", "1"]);
    let follow: Vec<&str> = follow.iter().map(String::as_str).collect();
    t.start_with(&team.bob, "bob", &["PUSHDUTY_JENKINS_TOKEN=t0k"], &follow);
    t.wait_for("bob", "FOLLOW · READ-ONLY");
    let deploy = args(&["do", "deploy", "--yes"]);
    let deploy: Vec<&str> = deploy.iter().map(String::as_str).collect();
    let o = team
        .ann
        .cmd()
        .env("PUSHDUTY_JENKINS_TOKEN", "t0k")
        .args(&deploy)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let screen = t.wait_for("bob", "#1 2015.09.10 SUCCESS");
    assert!(
        screen.contains("[x] Deploy 2015.09.10 to stage"),
        "{screen}"
    );
    assert_eq!(jenkins.triggers(), 1, "following triggers nothing");
    t.keys("bob", &["q"]);
    t.wait_exit("bob", "0");
}

/// bob takes the seat from his follow screen: `T` asks why (Esc keeps following), the
/// answer takes the seat in the log and opens the push in `run` on his machine, where he
/// does the next step once. ann's steps are refused from then on, and a signal on bob's
/// `run` screen is heard by that screen (one signal thread across the two screens).
#[test]
fn a_follower_takes_the_seat_from_the_follow_screen_and_drives_on() {
    need_tmux();
    let team = Team::new();
    team.make_log();
    team.step(&team.ann, "deploy");
    let t = Tmux::new("takeseat");
    team.follow(&t);
    t.wait_for("bob", "[x] Deploy");
    t.keys("bob", &["T"]);
    let asked = t.wait_for("bob", "Take over the push from ann on ");
    assert!(asked.contains("why (the team reads it"), "{asked}");
    t.keys("bob", &["Escape"]);
    t.wait_without("bob", "Take over the push from");
    t.wait_for("bob", "FOLLOW · READ-ONLY");

    // A reason with a shell metacharacter and an escape sequence is the team's to read,
    // never a command or a control sequence.
    take_seat(&t, "bob", "ann", "ann is ill $(touch PWNED) \x1b]0;x\x07");
    assert!(!team.bob.path().join("PWNED").exists());

    // ann is refused; bob announces, once.
    let said = team.refused(&team.ann, "announce");
    assert!(said.contains("bob on "), "{said}");
    t.keys("bob", &["G", "Enter"]);
    t.wait_for("bob", "Run announce?");
    t.keys("bob", &["y"]);
    t.wait_for("bob", "Checklist 2/2");
    assert_eq!(team.acted(), 2);
    let o = team
        .ann
        .run(&[&team.runbook, "--now", "2015-09-08", "follow", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let seen: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(seen["driver"]["operator"], "bob", "{seen:#}");
    assert_eq!(
        seen["driver"]["from"]
            .as_str()
            .map(|f| f.starts_with("ann on ")),
        Some(true)
    );
    let reason = seen["driver"]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("ann is ill $(touch PWNED)"),
        "{reason:?}"
    );

    // SIGTERM reaches the run screen, which gives the terminal back and exits 143.
    let lock = team
        .bob
        .path()
        .join("state/sessions/follow-me/2015-09-10/lock");
    let holder: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(lock).unwrap()).unwrap();
    let pid = holder["pid"].as_u64().unwrap().to_string();
    let st = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(st.success());
    t.wait_exit("bob", "143");
}
