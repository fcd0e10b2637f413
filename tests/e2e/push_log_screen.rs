//! The screen while a step's start is written to the team's push log: the write runs off the
//! UI thread, so the screen says what it waits for while the log is slow, and a key pressed
//! meanwhile is handled after it, in order.

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use crate::e2e_tmux::{Tmux, need_tmux};
use crate::support::cli::Env;
use crate::support::gitrepo::git;
use crate::support::team::{ONLY_SECTION, operator_home, runbook_head};

/// The runbook's steps, after its head and section ([`runbook`]).
const STEPS: &str = r#"[[steps]]
id = "deploy"
section = "only"
title = "Deploy"
kind = "shell"
command = "echo deployed >> COUNT"
timeout_secs = 20

[[steps]]
id = "announce"
section = "only"
title = "Announce"
kind = "manual"
"#;

/// The test's runbook: the team's head, one section, [`STEPS`].
fn runbook() -> String {
    format!("{}{ONLY_SECTION}{STEPS}", runbook_head("Slow log"))
}

/// How long the operator's `git` takes to push: the log over a slow link.
const SLOW_SECS: u64 = 3;

/// ann's home in `env`: her git identity, a config naming the push log at `log`, and the
/// runbook, whose deploy appends to `acted`. The runbook's `--runbook=` argument.
fn ann(env: &Env, log: &std::path::Path) -> String {
    let count = env.path().join("acted");
    let rb = env.path().join("slow-log.toml");
    std::fs::write(
        &rb,
        runbook().replace("COUNT", &count.display().to_string()),
    )
    .unwrap();
    operator_home(env.path(), &env.config(), "ann", &log.display().to_string());
    format!("--runbook={}", rb.display())
}

#[test]
fn the_screen_draws_while_a_start_is_written_to_a_slow_push_log() {
    need_tmux();
    let env = Env::new();
    let log = env.path().join("team.git");
    std::fs::create_dir_all(&log).unwrap();
    git(&log, &["init", "--bare", "-q"]);
    let count = env.path().join("acted");
    let runbook = ann(&env, &log);
    let init = env.run(&[&runbook, "log", "init"]);
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );

    // The operator's git, slow to push.
    let bin = env.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let real = String::from_utf8(
        std::process::Command::new("sh")
            .args(["-c", "command -v git"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let wrapper = bin.join("git");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nfor a in \"$@\"; do [ \"$a\" = push ] && sleep {SLOW_SECS}; done\nexec {} \"$@\"\n",
            real.trim()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "PATH={}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );

    let t = Tmux::new("slowlog");
    t.start_with_path(
        &env,
        "push",
        &path,
        &[&runbook, "--now", "2015-09-08", "run"],
    );
    t.wait_for("push", "Checklist 0/2");
    t.keys("push", &["Enter"]);
    t.wait_for("push", "Run deploy?");
    let asked = Instant::now();
    t.keys("push", &["y"]);
    // Drawn while git is still pushing: the screen is not frozen by the write.
    t.wait_for("push", "writing deploy to the team's push log first");
    assert!(
        asked.elapsed() < Duration::from_secs(SLOW_SECS),
        "the screen waited for the push log"
    );
    assert!(!count.exists(), "nothing acts before the log has it");
    // A key pressed meanwhile waits, and is handled once the start is written.
    t.keys("push", &["j"]);
    let screen = t.wait_for("push", "Checklist 1/2");
    assert_eq!(
        std::fs::read_to_string(&count).unwrap(),
        "deployed\n",
        "{screen}"
    );
    assert!(
        asked.elapsed() >= Duration::from_secs(SLOW_SECS),
        "it acted only after the log had it"
    );
    // Done shows as soon as the step is: its result's write (another slow push) is not
    // waited for on the screen's thread.
    assert!(
        asked.elapsed() < Duration::from_millis(2 * SLOW_SECS * 1000 - 500),
        "the screen waited for the result's write: {:?}",
        asked.elapsed()
    );
    // The deploy's result goes to the log on a thread of its own: the screen answers while
    // git pushes it.
    let pressed = Instant::now();
    t.keys("push", &["Enter"]);
    t.wait_for("push", "Run announce?");
    assert!(
        pressed.elapsed() < Duration::from_secs(SLOW_SECS),
        "the screen waited for the result's write"
    );
    let logged = || {
        git(
            &log,
            &["show", "pushduty-log:slow-log/2015-09-10/journal.jsonl"],
        )
        .lines()
        .filter(|l| l.contains("\"step\":\"deploy\"") && l.contains("\"to\":\"done\""))
        .count()
    };
    let deadline = Instant::now() + Duration::from_secs(4 * SLOW_SECS);
    while logged() == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(logged(), 1, "the result reached the log once");
}

/// The log cannot be reached: the screen asks whether to go on without it, with a reason
/// journaled with the step; Esc leaves the step not run.
#[test]
fn an_unreachable_push_log_asks_before_the_step_runs_without_it() {
    need_tmux();
    let env = Env::new();
    let count = env.path().join("acted");
    let runbook = ann(&env, &env.path().join("unplugged.git"));
    let t = Tmux::new("offlinelog");
    t.start(&env, "push", &[&runbook, "--now", "2015-09-08", "run"]);
    t.wait_for("push", "Checklist 0/2");
    t.keys("push", &["Enter"]);
    t.wait_for("push", "Run deploy?");
    t.keys("push", &["y"]);
    t.wait_for("push", "Run deploy without the team's push log?");
    t.keys("push", &["Escape"]);
    t.wait_for(
        "push",
        "`deploy` was not run: the team's push log cannot be reached",
    );
    assert!(!count.exists(), "not run without the operator's word");
    // Asked again, and answered with why.
    t.keys("push", &["Enter"]);
    t.wait_for("push", "Run deploy?");
    t.keys("push", &["y"]);
    t.wait_for("push", "Run deploy without the team's push log?");
    t.keys("push", &["-l", "train wifi"]);
    t.keys("push", &["Enter"]);
    let screen = t.wait_for("push", "Checklist 1/2");
    assert_eq!(
        std::fs::read_to_string(&count).unwrap(),
        "deployed\n",
        "{screen}"
    );
    let journal = std::fs::read_to_string(
        env.path()
            .join("state/sessions/slow-log/2015-09-10/journal.jsonl"),
    )
    .unwrap();
    let running: Vec<serde_json::Value> = journal
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["step"] == "deploy" && v["to"] == "running")
        .collect();
    assert_eq!(running.len(), 1, "{journal}");
    assert!(
        running[0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("went on without the team's push log: train wifi"),
        "{journal}"
    );
}
