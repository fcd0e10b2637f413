//! The screen after a takeover: a command the old driver left running on their machine is
//! refused there as running elsewhere, as `do` refuses it (the same engine path).

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::e2e_tmux::{Tmux, need_tmux};
use crate::support::cli::Env;
use crate::support::gitrepo::git;
use crate::support::team::{ONLY_SECTION, operator_home, runbook_head};

/// The runbook's steps, after its head and section ([`runbook`]).
const STEPS: &str = r#"[[steps]]
id = "migrate"
section = "only"
title = "Migrate"
kind = "shell"
command = "i=0; while [ ! -e RELEASE ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done"
timeout_secs = 60

[[steps]]
id = "announce"
section = "only"
title = "Announce"
kind = "manual"
"#;

/// The test's runbook: the team's head, one section, [`STEPS`].
fn runbook() -> String {
    format!("{}{ONLY_SECTION}{STEPS}", runbook_head("Taken over"))
}

/// An operator's home whose config names the push log `log`.
fn operator(name: &str, log: &std::path::Path) -> Env {
    let env = Env::new();
    operator_home(env.path(), &env.config(), name, &log.display().to_string());
    env
}

#[test]
fn the_screen_refuses_a_command_left_running_on_the_old_drivers_machine() {
    need_tmux();
    let team = tempfile::tempdir().unwrap();
    let log = team.path().join("team.git");
    std::fs::create_dir_all(&log).unwrap();
    git(&log, &["init", "--bare", "-q"]);
    let ann = operator("ann", &log);
    let bob = operator("bob", &log);
    let release = bob.path().join("release");
    let rb = bob.path().join("taken-over.toml");
    std::fs::write(
        &rb,
        runbook().replace("RELEASE", &release.display().to_string()),
    )
    .unwrap();
    let runbook = format!("--runbook={}", rb.display());
    let args = |more: &[&'static str]| {
        let mut all = vec![runbook.clone(), "--now".into(), "2015-09-08".into()];
        all.extend(more.iter().map(|s| s.to_string()));
        all
    };
    let o = ann.cmd().args(args(&["log", "init"])).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // ann's pushduty is killed with -9 while her command runs.
    let mut child = ann
        .cmd()
        .args(args(&["do", "migrate", "--yes"]))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let end = Instant::now() + Duration::from_secs(20);
    let logged = || {
        std::process::Command::new("git")
            .arg(format!("--git-dir={}", log.display()))
            .args(["show", "pushduty-log:taken-over/2015-09-10/journal.jsonl"])
            .output()
            .map(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                    .find_map(|e| e["values"]["pgid"].as_i64())
            })
            .ok()
            .flatten()
    };
    let pgid = loop {
        if let Some(g) = logged() {
            break g as i32;
        }
        assert!(
            Instant::now() < end,
            "the log never had the command's group"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    child.kill().unwrap();
    child.wait().unwrap();
    let o = bob
        .cmd()
        .args(args(&["takeover", "--reason", "ann is offline"]))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let t = Tmux::new("takenover");
    t.start(&bob, "push", &[&runbook, "--now", "2015-09-08", "run"]);
    t.wait_for("push", "Checklist 0/2");
    t.keys("push", &["Enter"]);
    // Not the local "still running" of a group this machine can see: the old driver's.
    // The log pane's line: one line, however the dialog wraps it.
    let screen = t.wait_for(
        "push",
        "`migrate` cannot run: it may still be running elsewhere (on ",
    );
    assert!(screen.contains("--reopen"), "{screen}");
    // ann's command ends: nothing of it is left behind.
    std::fs::write(&release, "").unwrap();
    wait_group_gone(pgid);
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
