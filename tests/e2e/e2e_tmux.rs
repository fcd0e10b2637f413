//! The real binary in a real terminal (tmux): learn mode walks every step and writes
//! nothing; run mode ticks two steps, is killed with SIGKILL, and a new run shows them done.
//! Each test has its own tmux server (`-L`), and waits by polling the screen with a deadline.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support;
use crate::support::cli::Env;

const DEADLINE: Duration = Duration::from_secs(15);

pub(crate) struct Tmux {
    socket: String,
}

/// These tests need tmux (scripts/deps.sh installs it); without it they fail, not pass.
pub(crate) fn need_tmux() {
    let ok = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(ok, "tmux is not installed: run scripts/deps.sh");
}

impl Tmux {
    pub(crate) fn new(name: &str) -> Self {
        Tmux {
            socket: format!("pushduty-{name}-{}", std::process::id()),
        }
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.arg("-L").arg(&self.socket).arg("-f").arg("/dev/null");
        c
    }

    /// Starts `args` in a 120x40 window named `win`.
    pub(crate) fn start(&self, env: &Env, win: &str, args: &[&str]) {
        self.start_with(env, win, &[], args);
    }

    /// The same, with more environment variables (`NAME=value`).
    pub(crate) fn start_with(&self, env: &Env, win: &str, vars: &[&str], args: &[&str]) {
        self.start_in(env, win, vars, "PATH=\"$PATH\"", args);
    }

    /// The same with `path` (`PATH=...`) for the program's PATH.
    pub(crate) fn start_with_path(&self, env: &Env, win: &str, path: &str, args: &[&str]) {
        self.start_in(env, win, &[], path, args);
    }

    fn start_in(&self, env: &Env, win: &str, vars: &[&str], path: &str, args: &[&str]) {
        let mut line = format!(
            "cd {} && env -i {} {path} HOME={} TERM=xterm-256color PUSHDUTY_CONFIG={} PUSHDUTY_STATE_DIR={} {}",
            support::cli::root().display(),
            vars.join(" "),
            env.path().display(),
            env.config().display(),
            env.path().join("state").display(),
            env!("CARGO_BIN_EXE_pushduty"),
        );
        for a in args {
            line.push(' ');
            line.push_str(a);
        }
        // Keep the window after the exit so the test sees the code and any message.
        line.push_str("; echo \"EXIT=$?\"; sleep 60");
        let st = self
            .cmd()
            .args([
                "new-session",
                "-d",
                "-s",
                win,
                "-x",
                "120",
                "-y",
                "40",
                &line,
            ])
            .status()
            .unwrap();
        assert!(st.success());
    }

    pub(crate) fn screen(&self, win: &str) -> String {
        let o = self
            .cmd()
            .args(["capture-pane", "-p", "-t", win])
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// Polls the screen until it shows `text`.
    pub(crate) fn wait_for(&self, win: &str, text: &str) -> String {
        let end = Instant::now() + DEADLINE;
        loop {
            let s = self.screen(win);
            if s.contains(text) {
                return s;
            }
            assert!(
                Instant::now() < end,
                "`{text}` never appeared; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(30));
        }
    }

    pub(crate) fn keys(&self, win: &str, keys: &[&str]) {
        let st = self
            .cmd()
            .args(["send-keys", "-t", win])
            .args(keys)
            .status()
            .unwrap();
        assert!(st.success());
    }

    /// Polls the screen until `text` is gone.
    pub(crate) fn wait_without(&self, win: &str, text: &str) {
        let end = Instant::now() + DEADLINE;
        loop {
            let s = self.screen(win);
            if !s.contains(text) {
                return;
            }
            assert!(Instant::now() < end, "`{text}` stayed; screen:\n{s}");
            std::thread::sleep(Duration::from_millis(30));
        }
    }

    /// Whether the window's terminal is on its alternate screen (the TUI's, until restored).
    fn alternate_on(&self, win: &str) -> bool {
        let alt = self
            .cmd()
            .args(["display-message", "-p", "-t", win, "#{alternate_on}"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&alt.stdout).trim() == "1"
    }

    /// The terminal modes of the window's tty, as `stty -a` says them, one per item: after
    /// pushduty exits, `icanon` and `echo` (not `-icanon`, `-echo`) unless it left it raw.
    fn tty_modes(&self, win: &str) -> Vec<String> {
        let tty = self
            .cmd()
            .args(["display-message", "-p", "-t", win, "#{pane_tty}"])
            .output()
            .unwrap();
        let tty = String::from_utf8_lossy(&tty.stdout).trim().to_string();
        let modes = Command::new("stty")
            .args(["-a", "-F", &tty])
            .output()
            .unwrap();
        assert!(modes.status.success(), "stty -a -F {tty} failed");
        String::from_utf8_lossy(&modes.stdout)
            .split(|c: char| c.is_whitespace() || c == ';')
            .filter(|m| !m.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// Whether the program in the window has asked for the mouse.
    pub(crate) fn mouse_on(&self, win: &str) -> bool {
        let o = self
            .cmd()
            .args(["display-message", "-p", "-t", win, "#{mouse_any_flag}"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).trim() == "1"
    }

    /// Records everything the program writes to the window from now on, escapes and all,
    /// into `file` (what `capture-pane` would have rendered away).
    pub(crate) fn record(&self, win: &str, file: &Path) {
        let st = self
            .cmd()
            .args(["pipe-pane", "-o", "-t", win])
            .arg(format!("cat >> '{}'", file.display()))
            .status()
            .unwrap();
        assert!(st.success());
    }

    /// Waits for pushduty to exit; returns what the window shows then.
    pub(crate) fn wait_exit(&self, win: &str, code: &str) -> String {
        self.wait_for(win, &format!("EXIT={code}"))
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").output();
    }
}

fn files_under(p: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(p) {
        for e in rd.flatten() {
            if e.path().is_dir() {
                out.extend(files_under(&e.path()));
            } else {
                out.push(e.path());
            }
        }
    }
    out
}

#[test]
fn learn_mode_walks_every_step_and_writes_nothing() {
    need_tmux();
    let env = Env::new();
    let t = Tmux::new("learn");
    t.start(&env, "learn", &["--now", "2015-09-08", "learn"]);
    t.wait_for("learn", "READ-ONLY");
    let plan = env.run(&["--now", "2015-09-08", "plan", "--json"]);
    let plan: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    let ids: Vec<String> = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 24);
    for id in &ids {
        t.keys("learn", &["Enter"]);
        t.wait_for("learn", &format!("What `{id}` does"));
        // y, s and r do nothing in learn mode.
        t.keys("learn", &["y", "Escape"]);
        // Alone: an Escape followed at once by a key reads as Alt+key.
        t.wait_without("learn", &format!("What `{id}` does"));
        t.keys("learn", &["s", "r"]);
        t.wait_for("learn", "learn mode is read-only: nothing is retried");
        t.keys("learn", &["j"]);
    }
    t.keys("learn", &["q"]);
    t.wait_exit("learn", "0");
    let written = files_under(&env.path().join("state"));
    assert!(written.is_empty(), "learn mode wrote {written:?}");
}

#[test]
fn run_ticks_two_steps_survives_sigkill_and_resumes() {
    need_tmux();
    let env = Env::new();
    let t = Tmux::new("run");
    let rb = "--runbook=tests/fixtures/runbooks/valid/two-manual.toml";
    let args = [rb, "--now", "2015-09-08", "run"];
    t.start(&env, "one", &args);
    t.wait_for("one", "Checklist 0/2");
    t.keys("one", &["Enter"]);
    t.wait_for("one", "Run first?");
    t.keys("one", &["y"]);
    t.wait_for("one", "note (optional)");
    t.keys("one", &["-l", "all good"]);
    t.keys("one", &["Enter"]);
    t.wait_for("one", "Checklist 1/2");
    // The cursor moved on to the next step by itself.
    t.keys("one", &["Enter"]);
    t.wait_for("one", "Run second?");
    t.keys("one", &["y"]);
    t.wait_for("one", "note (optional)");
    t.keys("one", &["Enter"]);
    let s = t.wait_for("one", "Checklist 2/2");
    assert!(
        s.contains("[x] First manual step") && s.contains("[x] Second manual step"),
        "{s}"
    );

    // A second run of the same push is refused and names the holder.
    let dir = env.path().join("state/sessions/two-steps/2015-09-10");
    let o = env.run(&[rb, "--now", "2015-09-08", "run"]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    let lock: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("lock")).unwrap()).unwrap();
    let pid = lock["pid"].as_u64().unwrap();
    assert!(err.contains("already being run by tester on "), "{err}");
    assert!(err.contains(&format!("(pid {pid}) since ")), "{err}");

    // SIGKILL: no chance to clean up; the journal and state are already on disk.
    let st = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    t.wait_exit("one", "137");
    assert!(
        !std::fs::read_to_string(dir.join("lock"))
            .unwrap()
            .is_empty(),
        "a killed process leaves its details in the lock file (the kernel dropped the lock)"
    );

    t.start(&env, "two", &args);
    let s = t.wait_for("two", "Checklist 2/2");
    assert!(
        s.contains("[x] First manual step") && s.contains("[x] Second manual step"),
        "{s}"
    );
    t.wait_for("two", "ended without closing: resuming it");
    t.wait_for("two", "resumed the session");
    t.keys("two", &["q"]);
    t.wait_exit("two", "0");
    assert_eq!(
        std::fs::read_to_string(dir.join("lock")).unwrap(),
        "",
        "a clean exit empties the holder's details"
    );

    let journal = std::fs::read_to_string(dir.join("journal.jsonl")).unwrap();
    let steps: Vec<String> = journal
        .lines()
        .filter(|l| l.contains("\"event\":\"step\""))
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            format!(
                "{} {}>{}",
                v["step"].as_str().unwrap(),
                v["from"].as_str().unwrap(),
                v["to"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            "first pending>running",
            "first running>done",
            "second pending>running",
            "second running>done"
        ]
    );
    assert!(journal.contains("\"note\":\"all good\""));

    let h = env.run(&["history", "--json"]);
    let h: serde_json::Value = serde_json::from_slice(&h.stdout).unwrap();
    let h = &h["sessions"];
    assert_eq!(h[0]["outcome"], "complete");
    assert_eq!(
        (h[0]["done"].as_u64(), h[0]["total"].as_u64()),
        (Some(2), Some(2))
    );
}

/// Makes `script` (sh) the env's editor, through its config.
fn use_editor(env: &Env, script: &str) {
    let editor = env.path().join("edit.sh");
    std::fs::write(&editor, script).unwrap();
    std::fs::write(
        env.config(),
        format!(
            "operator = \"tester\"\neditor = \"sh {}\"\n",
            editor.display()
        ),
    )
    .unwrap();
}

#[test]
fn the_editor_gets_the_terminal_and_the_tui_comes_back() {
    need_tmux();
    let env = Env::new();
    // An "editor" that reads a line from the terminal: it only gets the keys if the TUI's
    // input reader is paused.
    use_editor(
        &env,
        "printf 'EDITOR READY\\n'; read line; printf '%s\\n' \"$line\" >> \"$1\"\n",
    );
    let t = Tmux::new("edit");
    let rb = "--runbook=tests/fixtures/runbooks/valid/template-edit.toml";
    t.start(&env, "ed", &[rb, "--now", "2015-09-08", "run"]);
    t.wait_for("ed", "Checklist 0/1");
    t.keys("ed", &["Enter"]);
    t.wait_for("ed", "Run write?");
    t.keys("ed", &["y"]);
    t.wait_for("ed", "EDITOR READY");
    t.keys("ed", &["-l", "typed in the editor"]);
    t.keys("ed", &["Enter"]);
    t.wait_for("ed", "Checklist 1/1");
    t.keys("ed", &["q"]);
    t.wait_exit("ed", "0");
    let out = env
        .path()
        .join("state/sessions/template-edit/2015-09-10/notes-2015.09.10.md");
    assert_eq!(
        std::fs::read_to_string(out).unwrap(),
        "Push 2015.09.10 by ana.\ntyped in the editor\n"
    );
}

/// The journal of the sleepy runbook's session.
fn sleepy_journal(env: &Env) -> Vec<serde_json::Value> {
    support::cli::journal(env, "sleepy/2015-09-10")
}

/// Waits until the running `nap` has journaled its process group; returns it.
fn nap_group(env: &Env) -> i32 {
    let end = Instant::now() + DEADLINE;
    loop {
        let pgid = sleepy_journal(env)
            .iter()
            .rev()
            .find(|e| e["event"] == "checkpoint" && e["step"] == "nap")
            .and_then(|e| e["values"]["pgid"].as_i64());
        if let Some(p) = pgid {
            return i32::try_from(p).unwrap();
        }
        assert!(Instant::now() < end, "no process group journaled");
        std::thread::sleep(Duration::from_millis(30));
    }
}

fn group_alive(pgid: i32) -> bool {
    // SAFETY: signal 0 only asks whether the group exists.
    unsafe { libc::kill(-pgid, 0) == 0 }
}

fn wait_group_gone(pgid: i32) {
    let end = Instant::now() + DEADLINE;
    while group_alive(pgid) {
        assert!(Instant::now() < end, "process group {pgid} was orphaned");
        std::thread::sleep(Duration::from_millis(30));
    }
}

fn holder_pid(env: &Env) -> String {
    let lock = env.path().join("state/sessions/sleepy/2015-09-10/lock");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(lock).unwrap()).unwrap();
    v["pid"].as_u64().unwrap().to_string()
}

/// The journal's last transition is `nap` interrupted by `signal`.
fn assert_interrupted_by(env: &Env, signal: &str) {
    let last = sleepy_journal(env)
        .into_iter()
        .rev()
        .find(|e| e["event"] == "step")
        .unwrap();
    assert_eq!(last["to"], "interrupted", "{signal}: {last}");
    let reason = last["reason"].as_str().unwrap();
    assert!(
        reason.starts_with(&format!("stopped by {signal}")),
        "{reason}"
    );
}

const SLEEPY: &str = "--runbook=tests/fixtures/runbooks/valid/sleepy.toml";

#[test]
fn run_stopped_by_a_signal_interrupts_the_step_kills_its_group_and_restores_the_terminal() {
    need_tmux();
    for (signal, code) in [
        ("TERM", "143"),
        ("HUP", "129"),
        ("INT", "130"),
        ("KILL", "137"),
    ] {
        let env = Env::new();
        let t = Tmux::new(&format!("sig{signal}"));
        let args = [SLEEPY, "--now", "2015-09-08", "run"];
        t.start(&env, "w", &args);
        t.wait_for("w", "Checklist 0/1");
        t.keys("w", &["Enter"]);
        t.wait_for("w", "Run nap?");
        t.keys("w", &["y"]);
        t.wait_for("w", "nap: started");
        let pgid = nap_group(&env);
        let st = Command::new("kill")
            .args([&format!("-{signal}"), &holder_pid(&env)])
            .status()
            .unwrap();
        assert!(st.success());
        let screen = t.wait_exit("w", code);
        let alt = t.alternate_on("w");
        if signal == "KILL" {
            // Nothing can clean up after SIGKILL: the command lives on, and the next run
            // must not start a second copy of it.
            assert!(group_alive(pgid), "the orphan should still be there");
            t.start(&env, "again", &args);
            t.wait_for("again", "[?] A long command");
            t.keys("again", &["r"]);
            t.wait_for("again", "it is still running elsewhere");
            let starts = sleepy_journal(&env)
                .iter()
                .filter(|e| e["step"] == "nap" && e["to"] == "running")
                .count();
            assert_eq!(starts, 1, "started a second copy");
            // The refusal is a dialog: what is typed next lands there until it is closed.
            t.wait_for("again", "nap cannot run yet");
            t.keys("again", &["q"]);
            t.wait_for("again", "nap cannot run yet");
            t.keys("again", &["Escape"]);
            t.wait_without("again", "nap cannot run yet");
            t.keys("again", &["q"]);
            t.wait_exit("again", "0");
            // SAFETY: ends the orphaned group this test made.
            unsafe { libc::kill(-pgid, libc::SIGKILL) };
            wait_group_gone(pgid);
            // Its group gone, the step can be retried.
            t.start(&env, "third", &args);
            t.wait_for("third", "[?] A long command");
            t.keys("third", &["r"]);
            t.wait_for("third", "Run nap?");
            continue;
        }
        assert!(
            !alt,
            "SIG{signal}: the alternate screen is left on:\n{screen}"
        );
        wait_group_gone(pgid);
        assert_interrupted_by(&env, &format!("SIG{signal}"));
        // The next run shows it interrupted, and may run it again once confirmed.
        t.start(&env, "again", &args);
        t.wait_for("again", "[?] A long command");
        t.wait_for("again", "resumed the session");
        t.keys("again", &["r"]);
        t.wait_for("again", "Run nap?");
        t.keys("again", &["Escape"]);
        t.wait_without("again", "Run nap?");
        t.keys("again", &["q"]);
        t.wait_exit("again", "0");
    }
}

#[test]
fn do_stopped_by_sigterm_interrupts_the_step_and_kills_its_group() {
    let env = Env::new();
    let mut child = env
        .cmd()
        .args([SLEEPY, "--now", "2015-09-08", "do", "nap", "--yes"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pgid = nap_group(&env);
    let st = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(143));
    wait_group_gone(pgid);
    assert_interrupted_by(&env, "SIGTERM");
}

#[test]
fn a_command_run_from_the_tui_shows_no_token_on_screen() {
    need_tmux();
    let env = Env::new();
    let t = Tmux::new("secrets");
    let rb = "--runbook=tests/fixtures/runbooks/valid/shell-values.toml";
    t.start_with(
        &env,
        "w",
        &[
            "PUSHDUTY_JENKINS_TOKEN=tok-jenkins-4411",
            "PUSHDUTY_PASSED_ON=shown",
        ],
        &[rb, "--now", "2015-09-08", "run"],
    );
    t.wait_for("w", "Checklist 0/3");
    t.keys("w", &["j", "j", "Enter"]);
    t.wait_for("w", "Run environment?");
    t.keys("w", &["y"]);
    let screen = t.wait_for("w", "done: environment");
    assert!(screen.contains("PUSHDUTY_PASSED_ON=shown"), "{screen}");
    assert!(!screen.contains("tok-jenkins"), "{screen}");
    t.keys("w", &["q"]);
    t.wait_exit("w", "0");
}

#[test]
fn the_tui_answers_while_jenkins_hangs_and_the_pane_shows_the_build() {
    need_tmux();
    let env = Env::new();
    let jenkins = support::jenkins::Jenkins::start(support::jenkins::Config {
        build_ms: 300,
        ..Default::default()
    });
    let t = Tmux::new("jenkins");
    let set_url = format!("--set=services.stage.url={}", jenkins.url());
    let args = [
        "--runbook=tests/fixtures/runbooks/valid/deploy.toml",
        "--now",
        "2015-09-08",
        &set_url,
        "--set=services.stage.user=andym",
        "run",
    ];
    let vars = ["PUSHDUTY_JENKINS_TOKEN=t0k", "PUSHDUTY_HTTP_TIMEOUT=30"];
    t.start_with(&env, "w", &vars, &args);
    t.wait_for("w", "Checklist 0/3");
    jenkins.set_fault(support::jenkins::Fault::Hang);
    t.keys("w", &["Enter"]);
    t.wait_for("w", "Run deploy?");
    t.keys("w", &["y"]);
    t.wait_for("w", "before triggering");
    // Jenkins does not answer; the screen does: move, open help, run another step.
    t.keys("w", &["?"]);
    t.wait_for("w", "act although a check failed");
    t.keys("w", &["Escape"]);
    t.wait_without("w", "act although a check failed");
    t.keys("w", &["j", "j", "Enter"]);
    t.wait_for("w", "Run note?");
    t.keys("w", &["y"]);
    t.wait_for("w", "note (optional)");
    t.keys("w", &["Enter"]);
    let s = t.wait_for("w", "done: note");
    assert!(s.contains("[>] Deploy 2015.09.10 to stage"), "{s}");
    // Quitting cancels the hung call at once.
    t.keys("w", &["q"]);
    t.wait_for("w", "Quit?");
    t.keys("w", &["y"]);
    t.wait_exit("w", "0");
    assert_eq!(jenkins.triggers(), 0);

    // Jenkins answers again: the deploy runs, and the pane lists the build.
    jenkins.set_fault(support::jenkins::Fault::None);
    t.start_with(&env, "again", &vars, &args);
    t.wait_for("again", "[!] Deploy 2015.09.10 to stage");
    t.keys("again", &["r"]);
    t.wait_for("again", "Run deploy?");
    t.keys("again", &["y"]);
    t.wait_for("again", "done: deploy");
    t.wait_for("again", "#1 2015.09.10 SUCCESS");
    t.keys("again", &["q"]);
    t.wait_exit("again", "0");
    assert_eq!(jenkins.triggers(), 1);
}

#[test]
fn a_watch_runs_beside_a_hanging_sentry_and_ends_early_with_a_note() {
    need_tmux();
    let env = Env::new();
    // The production push seven minutes ago: the soak has 23 minutes to go.
    let now = chrono::Utc::now().timestamp();
    let push = now - now % 60 - 7 * 60;
    let mut seed = Vec::new();
    for base in [push - 7 * 24 * 3600, push] {
        let from = base - 70 * 60;
        let n = ((base + 30 * 60).min(now) - from) / 60;
        seed.extend(support::metrics_servers::minutes(from, n as usize, |i| {
            Some(100.0 + (i % 7) as f64)
        }));
    }
    let graphite = support::metrics_servers::graphite(&[("stats.addons.response.500", seed)]);
    let sentry = support::sentry::Sentry::start(support::sentry::Config {
        org: "mkt".into(),
        project: "addonsmozillaorg".into(),
        token: "t0k".into(),
        ..Default::default()
    });
    sentry.set_fault(support::sentry::Fault::Hang);
    let sets = [
        format!("--set=services.graphite.url={}", graphite.url),
        format!("--set=services.sentry.url={}", sentry.url()),
    ];
    support::cli::approve_and_push(
        |args| {
            env.cmd()
                .args(["--runbook=runbooks/amo-push.toml", "--now", "2015-09-10"])
                .args(&sets)
                .args(args)
                .output()
                .unwrap()
        },
        push,
    );
    let t = Tmux::new("watch");
    let vars = ["PUSHDUTY_SENTRY_TOKEN=t0k", "PUSHDUTY_HTTP_TIMEOUT=30"];
    let mut args = vec!["--runbook=runbooks/amo-push.toml", "--now", "2015-09-10"];
    args.extend(sets.iter().map(String::as_str));
    args.push("run");
    t.start_with(&env, "w", &vars, &args);
    t.wait_for("w", "Checklist 2/24");
    t.wait_for("w", "sentry (loading)");
    // The metrics pane fills while Sentry hangs.
    t.wait_for("w", "server errors  now");
    t.keys("w", &["G", "k", "k", "k", "k", "Enter"]);
    t.wait_for("w", "Run watch-graphite?");
    t.keys("w", &["y"]);
    // The first look reads Graphite (a Django server): roomy on a loaded machine.
    let end = Instant::now() + Duration::from_secs(60);
    // (Any look: on a slow machine the screen may already show a later one.)
    while !t.screen("w").contains(" of 30 min: ") {
        assert!(Instant::now() < end, "no first look: {}", t.screen("w"));
        std::thread::sleep(Duration::from_millis(100));
    }
    // Watching takes nothing from the screen: help opens and closes.
    t.keys("w", &["?"]);
    t.wait_for("w", "end a running watch now");
    t.keys("w", &["Escape"]);
    // Sent at once, Escape and `e` read as Alt-e: the help closes first.
    t.wait_without("w", "end a running watch now");
    t.keys("w", &["e"]);
    t.wait_for("w", "why it has watched enough");
    t.keys("w", &["-l", "ops confirmed the error rate is flat"]);
    t.keys("w", &["Enter"]);
    t.wait_for("w", "done: watch-graphite");
    t.keys("w", &["q"]);
    t.wait_exit("w", "0");
    let done = support::cli::journal(&env, "amo-weekly-push/2015-09-10")
        .into_iter()
        .rev()
        .find(|e| e["event"] == "step" && e["step"] == "watch-graphite")
        .unwrap();
    assert_eq!(done["to"], "done", "{done}");
    assert_eq!(done["outputs"]["soak"]["ended_early"], true, "{done}");
    assert_eq!(
        done["note"], "ended early: ops confirmed the error rate is flat",
        "{done}"
    );
    assert!(
        done["outputs"]["metrics_summary"]
            .as_str()
            .unwrap()
            .contains("ended early after "),
        "{done}"
    );
}

#[test]
fn the_first_frame_does_not_wait_for_the_git_panes_read() {
    need_tmux();
    let env = Env::new();
    let work = support::cli::repo_with_tags(env.path(), &["2015.09.03"]);
    // Only the git pane's status reads the index, and nothing before the first frame does: as
    // a FIFO without a writer, that read blocks until the test opens the other end.
    let index = work.join(".git/index");
    let _ = std::fs::remove_file(&index);
    let made = Command::new("mkfifo").arg(&index).status().unwrap();
    assert!(made.success());
    std::fs::write(
        env.config(),
        format!(
            "operator = \"tester\"\n[repos.olympia]\npath = \"{}\"\n",
            work.display()
        ),
    )
    .unwrap();
    let t = Tmux::new("firstframe");
    t.start(&env, "ff", &["--now", "2015-09-08", "learn"]);
    let first = t.wait_for("ff", "READ-ONLY");
    assert!(first.contains("Checklist"), "{first}");
    assert!(first.contains("git (loading)"), "{first}");
    std::thread::sleep(Duration::from_millis(300));
    assert!(t.screen("ff").contains("git (loading)"));
    // The keys are answered while the read still waits.
    t.keys("ff", &["?"]);
    t.wait_for("ff", "Keys (Esc closes)");
    t.keys("ff", &["Escape"]);
    // An empty index ends the read: the pane leaves "loading" (for an error or the state).
    std::fs::write(&index, "").unwrap();
    t.wait_without("ff", "git (loading)");
    t.keys("ff", &["q"]);
    t.wait_exit("ff", "0");
}

#[test]
fn panes_whose_services_never_stop_answering_show_errors_and_the_tui_stays() {
    use pushduty::standins::http::WireFault;
    need_tmux();
    let env = Env::new();
    let jenkins = support::jenkins::Jenkins::start(Default::default());
    let sentry = support::sentry::Sentry::start(Default::default());
    let graphite = pushduty::standins::graphite::Graphite::start(Default::default());
    let github = support::github::Github::start(Default::default());
    jenkins.set_wire_fault(WireFault::Endless);
    sentry.set_wire_fault(WireFault::Endless);
    graphite.set_wire_fault(WireFault::Endless);
    github.set_wire_fault(WireFault::Endless);
    let sets = [
        format!("--set=services.stage-deploy.url={}", jenkins.url()),
        "--set=services.stage-deploy.user=andym".to_string(),
        format!("--set=services.sentry.url={}", sentry.url()),
        format!("--set=services.graphite.url={}", graphite.url()),
        format!("--set=services.github.api_url={}", github.url()),
    ];
    let mut args = vec!["--runbook=runbooks/amo-push.toml", "--now", "2015-09-08"];
    args.extend(sets.iter().map(String::as_str));
    args.push("run");
    let vars = [
        "PUSHDUTY_JENKINS_TOKEN=t0k",
        "PUSHDUTY_SENTRY_TOKEN=t0k",
        "PUSHDUTY_GITHUB_TOKEN=t0k",
    ];
    let t = Tmux::new("endless");
    t.start_with(&env, "w", &vars, &args);
    t.wait_for("w", "Checklist 0/");
    // Watched from the first frame: reading without limit would be killed here, failing the
    // test rather than filling the machine's memory.
    let lock = env
        .path()
        .join("state/sessions/amo-weekly-push/2015-09-10/lock");
    let lock: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(lock).unwrap()).unwrap();
    let pid = i32::try_from(lock["pid"].as_i64().unwrap()).unwrap();
    let memory = support::peak::Watch::start(pid, 512);
    // Each pane says what failed (cut to its width); the blockers pane's title is too narrow
    // for its state.
    for pane in ["jenkins", "sentry", "metrics"] {
        t.wait_for("w", &format!("{pane} (error)"));
    }
    let mut screen = String::new();
    for said in [
        "stage-deploy: Jenkins'",
        "Sentry's answer to",
        "no series could be rea",
        "GitHub's answer to",
    ] {
        screen = t.wait_for("w", said);
    }
    assert!(!memory.killed(), "killed past 512 MiB:\n{screen}");
    // The screen still answers: help opens and closes.
    t.keys("w", &["?"]);
    t.wait_for("w", "Keys (Esc closes)");
    t.keys("w", &["Escape"]);
    t.wait_without("w", "Keys (Esc closes)");
    t.keys("w", &["q"]);
    t.wait_exit("w", "0");
    let peak = memory.peak_mib();
    eprintln!("the TUI with endless answers: peak RSS {peak} MiB (sampled)");
    assert!(peak < 100, "peak RSS {peak} MiB");
    let modes = t.tty_modes("w");
    for mode in ["icanon", "echo", "isig"] {
        assert!(
            modes.iter().any(|m| m == mode),
            "the terminal is left raw: {modes:?}"
        );
    }
    assert!(!t.alternate_on("w"), "the alternate screen is left on");
}

/// Whether process `pid` is still there (not reaped).
fn process_alive(pid: i32) -> bool {
    // SAFETY: signal 0 only asks whether the process exists.
    unsafe { libc::kill(pid, 0) == 0 }
}

#[test]
fn sigterm_while_the_email_is_in_the_editor_ends_the_editor_and_sends_nothing() {
    need_tmux();
    // The TUI (`run`) and `do` on a terminal: both lend the terminal to the editor.
    for (win, keys) in [("tui", &["G", "k", "Enter"][..]), ("do", &[][..])] {
        let env = Env::new();
        let mail = support::smtp::Smtp::start(support::smtp::Config::default());
        // An editor that says where it is, then waits for its operator (who never comes).
        let pidfile = env.path().join("editor.pid");
        use_editor(
            &env,
            &format!(
                "echo $$ > {}; printf 'EDITOR READY\\n'; exec sleep 60\n",
                pidfile.display()
            ),
        );
        let port = format!("--set=services.list.port={}", mail.port());
        let mut args = vec![
            "--now",
            "2015-09-10T14:00:00-07:00",
            "--set=services.list.host=127.0.0.1",
            "--set=services.list.security=none",
            &port,
        ];
        if win == "tui" {
            args.push("run");
        } else {
            args.extend(["do", "announce", "--yes"]);
        }
        let t = Tmux::new(&format!("editor-{win}"));
        t.start(&env, win, &args);
        if !keys.is_empty() {
            t.wait_for(win, "Checklist 0/");
            t.keys(win, keys);
            t.wait_for(win, "Run announce?");
            t.keys(win, &["y"]);
        }
        t.wait_for(win, "EDITOR READY");
        let editor_pid: i32 = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let lock = env
            .path()
            .join("state/sessions/amo-weekly-push/2015-09-10/lock");
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(lock).unwrap()).unwrap();
        let holder = v["pid"].as_u64().unwrap().to_string();
        let st = Command::new("kill")
            .args(["-TERM", &holder])
            .status()
            .unwrap();
        assert!(st.success());
        // Ended with the signal's code while the editor was still open: it was not waited for.
        t.wait_exit(win, "143");
        assert!(
            !process_alive(editor_pid),
            "{win}: the editor outlived pushduty"
        );
        assert!(mail.messages().is_empty(), "{win}: {:?}", mail.messages());
        let last = support::cli::journal(&env, "amo-weekly-push/2015-09-10")
            .into_iter()
            .rev()
            .find(|e| e["event"] == "step" && e["step"] == "announce")
            .unwrap();
        assert_eq!(last["to"], "interrupted", "{win}: {last}");
        let reason = last["reason"].as_str().unwrap();
        assert!(
            reason.starts_with("stopped by SIGTERM") && reason.contains("the editor was ended"),
            "{win}: {reason}"
        );
    }
}

/// The status line's "next: ..." part.
fn next_of(screen: &str) -> String {
    let first = screen.lines().next().unwrap_or_default();
    first
        .split(" │ ")
        .find_map(|part| part.trim().strip_prefix("next: "))
        .map(|n| n.trim_end_matches("RUN").trim().to_string())
        .unwrap_or_default()
}

/// `rehearse --scenario blocker` walked from the screen alone: the fix of the blocker shows in
/// the git pane once it lands upstream, the blockers prompt refuses a cherry-pick without a
/// commit and offers the fix to pick, the status line then leads to reopening the choice and
/// the cherry-pick with the fix filled in, and the push becomes `-1` with the fix in it. The
/// fix's sha is known only from the screen.
#[test]
fn the_blocker_rehearsal_can_be_followed_from_the_screen() {
    need_tmux();
    let env = Env::new();
    let sandbox = tempfile::tempdir().unwrap();
    let dir = sandbox.path().join("sandbox");
    let t = Tmux::new("blocker");
    let w = "blocker";
    t.start(
        &env,
        w,
        &[
            "rehearse",
            "--scenario",
            "blocker",
            "--dir",
            dir.to_str().unwrap(),
        ],
    );
    t.wait_for(w, "next: check-rotation");
    // Runs the step under the cursor, the one the status line names: Enter, `y`, then each
    // prompt as `answers` says (Enter alone takes what is offered).
    let run = |step: &str, answers: &[&[&str]]| {
        let s = t.wait_for(w, "next: ");
        assert!(next_of(&s).starts_with(step), "next is not {step}: {s}");
        t.keys(w, &["Enter"]);
        t.wait_for(w, &format!("Run {step}?"));
        t.keys(w, &["y"]);
        for keys in answers {
            t.wait_for(w, &format!("{step} ("));
            t.keys(w, keys);
        }
        t.wait_for(w, &format!("done: {step}"));
    };
    run("check-rotation", &[&["Enter"]]);
    run("fetch", &[]);
    run("strategy", &[&["Enter"]]);
    run("tag-master", &[]);
    run("push-tag", &[]);
    run("compare", &[]);
    run("compare-tell", &[]);
    run("notes-compare", &[]);
    run("deploy-stage", &[]);
    run("verify-stage", &[]);
    run("verify-stage-tell", &[]);

    // The fix lands upstream after the tag; the background fetch brings it into the git
    // pane, with its subject, without the fetch step.
    let s = t.wait_for(w, "next: blockers");
    let tag = s
        .lines()
        .find_map(|l| l.split("Tag master as ").nth(1))
        .map(|rest| {
            rest.split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string()
        })
        .unwrap_or_else(|| panic!("no tag on screen: {s}"));
    t.keys(w, &["Tab"]);
    let s = t.wait_for(w, &format!("upstream/master has 1 commit not in {tag}:"));
    let fix = s
        .lines()
        .find_map(|l| l.split("  + ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no fix listed: {s}"))
        .to_string();
    assert!(s.contains(&format!("+ {fix} Fix the search crash")), "{s}");
    t.keys(w, &["Escape"]);

    // The blockers step: the confirmation names the fix; a cherry-pick without a commit is
    // asked again with why; Space picks the offered fix.
    t.keys(w, &["Enter"]);
    t.wait_for(w, "Run blockers?");
    t.wait_for(w, &format!("+ {fix} Fix the search crash"));
    t.keys(w, &["y"]);
    t.wait_for(w, "blockers (1/2)");
    t.keys(w, &["-l", "cherry-pick"]);
    t.keys(w, &["Enter"]);
    t.wait_for(w, "cherry-pick needs the commits that fix it");
    t.keys(w, &["C-u", "Space"]);
    t.wait_for(w, &format!("> {fix}"));
    t.keys(w, &["Enter"]);
    t.wait_for(w, "blockers (2/2)");
    t.keys(w, &["Enter"]);
    t.wait_for(w, "done: blockers");

    // What comes next is the cherry-pick, not the notes: reopen the choice, which offers the
    // cherry-pick onto this push's tag first.
    let s = t.wait_for(w, "next: reopen strategy (O)");
    assert_eq!(
        next_of(&s),
        format!("reopen strategy (O), choose cherry_pick: the blockers' fixes {fix}"),
        "{s}"
    );
    t.keys(w, &["O"]);
    t.wait_for(w, "Reopen strategy");
    t.keys(w, &["-l", "a blocker's fix must ship"]);
    t.keys(w, &["Enter"]);
    t.wait_for(w, "next: strategy, choose cherry_pick");
    t.keys(w, &["Enter"]);
    t.wait_for(w, "Run strategy?");
    t.keys(w, &["y"]);
    t.wait_for(w, "strategy (1/1)");
    // (The label wraps after "this".) Read once the dialog is drawn whole: a capture may
    // catch the frame half written.
    let s = t.wait_for(w, "push's newest tag)");
    assert!(
        s.contains(&format!("must ship onto {tag} (this")) && s.contains("push's newest tag)"),
        "{s}"
    );
    assert!(
        s.contains("> cherry_pick"),
        "the cherry-pick is offered: {s}"
    );
    t.keys(w, &["Enter"]);
    t.wait_for(w, "done: strategy");
    run("cherry-pick", &[&["Enter"]]);
    let s = t.wait_for(w, &format!("applied {fix} as "));
    assert!(s.contains(&format!("starting from {tag}")), "{s}");
    run("tag-cherry-picks", &[]);
    t.wait_for(w, &format!("tagged {tag}-1 at "));
    run("push-tag", &[]);
    t.wait_for(w, &format!("pushed {tag}-1 "));

    // The remote has the `-1`, and it holds the fix the screen showed.
    let upstream = dir.join("upstream.git");
    let message = crate::support::gitrepo::git(
        &upstream,
        &["log", "-1", "--format=%B", &format!("{tag}-1")],
    );
    let full = crate::support::gitrepo::git(&upstream, &["rev-parse", &fix]);
    assert!(
        message.contains(&format!("(cherry picked from commit {full})")),
        "{message}"
    );
    t.keys(w, &["q"]);
}

/// The terminal goes away as the screen quits (its window closed, the ssh link cut right
/// after `q`): the process still ends, whatever its input reader was doing when the terminal
/// went (a read on a terminal that hung up may never come back).
#[test]
fn a_screen_whose_terminal_goes_away_as_it_quits_still_exits() {
    need_tmux();
    let env = Env::new();
    let sandbox = tempfile::tempdir().unwrap();
    let dir = sandbox.path().join("sandbox");
    let dir = dir.to_str().unwrap();
    let t = Tmux::new("gone");
    t.start(&env, "w", &["rehearse", "--dir", dir]);
    t.wait_for("w", "next: check-rotation");
    let ours = || {
        let o = Command::new("pgrep").args(["-f", dir]).output().unwrap();
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    assert!(!ours().is_empty(), "no rehearsal running");
    t.keys("w", &["q"]);
    // The tmux server, its terminals with it.
    drop(t);
    let end = Instant::now() + Duration::from_secs(10);
    while !ours().is_empty() {
        if Instant::now() > end {
            let left = ours();
            let _ = Command::new("kill")
                .args(["-9"])
                .args(left.split_whitespace())
                .status();
            panic!("still running 10 s after its terminal went: {left}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
