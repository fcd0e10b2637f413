//! `pushduty run --auto` through the binary: automated steps run in order, the first step
//! that needs a person stops it (exit 3), answers take it further, failures and signals end
//! it with their codes, and the session's lock keeps a second pushduty out.

use std::io::{BufRead, BufReader};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::cli::{Env, journal, stderr, stdout};

const AUTO: &str = "--runbook=tests/fixtures/runbooks/valid/auto.toml";
const FAILS: &str = "--runbook=tests/fixtures/runbooks/valid/auto-fails.toml";
const SLEEPY: &str = "--runbook=tests/fixtures/runbooks/valid/sleepy.toml";

fn auto(env: &Env, runbook: &str, extra: &[&str]) -> Output {
    let mut args = vec![runbook, "--now", "2015-09-08", "run", "--auto"];
    args.extend_from_slice(extra);
    env.run(&args)
}

/// The last status the journal gave each step.
fn statuses(env: &Env, session: &str) -> std::collections::BTreeMap<String, String> {
    journal(env, session)
        .into_iter()
        .filter(|e| e["event"] == "step")
        .map(|e| {
            (
                e["step"].as_str().unwrap_or_default().to_string(),
                e["to"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Every stdout line is one of the shapes `--auto` prints, whole: nothing ran together.
fn assert_whole_lines(out: &str) {
    assert!(
        out.is_empty() || out.ends_with('\n'),
        "unterminated: {out:?}"
    );
    for line in out.lines() {
        assert!(
            ["▶ ", "  ", "✓ ", "✗ ", "needs a person: ", "all done: "]
                .iter()
                .any(|p| line.starts_with(p)),
            "unexpected line {line:?} in:\n{out}"
        );
    }
}

#[test]
fn runs_shell_steps_stops_at_the_gate_and_goes_on_with_answers() {
    let env = Env::new();
    let first = auto(&env, AUTO, &[]);
    let out = stdout(&first);
    assert_eq!(first.status.code(), Some(3), "{out}{}", stderr(&first));
    assert_whole_lines(&out);
    for want in [
        "▶ prepare Prepare the build\n",
        "  preparing\n  second line\n",
        "✓ prepare done (",
        "▶ report Report what was prepared\n",
        "needs a person: qa (QA signs off): a gate needs `approved_by`",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
    assert!(!out.contains("▶ qa"), "{out}");
    let st = statuses(&env, "auto/2015-09-10");
    assert_eq!(st["prepare"], "done");
    assert_eq!(st["report"], "done");
    assert!(!st.contains_key("qa"), "{st:?}");

    // The gate answered, the choice is next.
    let second = auto(&env, AUTO, &["--answer", "qa=QA"]);
    let out = stdout(&second);
    assert_eq!(second.status.code(), Some(3), "{out}{}", stderr(&second));
    assert!(!out.contains("▶ prepare"), "done steps run again:\n{out}");
    assert!(out.contains("✓ qa done ("), "{out}");
    assert!(
        out.contains("needs a person: strategy (How to ship): a choice needs `strategy`"),
        "{out}"
    );
    assert!(out.contains("one of fast, slow"), "{out}");

    let third = auto(&env, AUTO, &["--answer", "strategy=fast"]);
    let out = stdout(&third);
    assert_eq!(third.status.code(), Some(0), "{out}{}", stderr(&third));
    assert_whole_lines(&out);
    assert!(out.contains("  shipping\n"), "{out}");
    assert!(
        !out.contains("▶ wait"),
        "a step that does not apply ran:\n{out}"
    );
    assert!(out.contains("all done: 2 run now"), "{out}");
    let st = statuses(&env, "auto/2015-09-10");
    assert_eq!(st["qa"], "done");
    assert_eq!(st["ship"], "done");
    assert_eq!(st["wait"], "not_applicable");
    let qa = journal(&env, "auto/2015-09-10")
        .into_iter()
        .rev()
        .find(|e| e["step"] == "qa" && e["to"] == "done")
        .unwrap();
    assert_eq!(qa["outputs"]["approved_by"], "QA", "{qa}");

    // Once everything is done, another run does nothing.
    let again = auto(&env, AUTO, &[]);
    let out = stdout(&again);
    assert_eq!(again.status.code(), Some(0), "{out}{}", stderr(&again));
    assert!(!out.contains('▶'), "{out}");
    assert!(out.contains("all done: 0 run now"), "{out}");
}

#[test]
fn answers_for_several_steps_at_once_finish_the_push_in_one_run() {
    let env = Env::new();
    let out = auto(
        &env,
        AUTO,
        &[
            "--answer",
            "qa=QA",
            "--answer",
            "strategy=2",
            "--answer",
            "qa.note=by phone",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stdout(&out).contains("  waiting\n"), "{}", stdout(&out));
    let st = statuses(&env, "auto/2015-09-10");
    assert_eq!(st["wait"], "done");
    assert_eq!(st["ship"], "not_applicable");
}

#[test]
fn a_wrong_answer_is_a_usage_error_before_anything_runs() {
    let env = Env::new();
    let out = auto(&env, AUTO, &["--answer", "nope=1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(
            "--answer nope: no such step; the steps: prepare, report, qa, strategy, ship, wait"
        ),
        "{}",
        stderr(&out)
    );
    let out = auto(&env, AUTO, &["--answer", "strategy=sideways"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("choose one of: fast, slow"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    assert!(!statuses(&env, "auto/2015-09-10").contains_key("prepare"));
    // Answers belong to --auto.
    let out = env.run(&[AUTO, "run", "--answer", "qa=QA"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_failing_step_stops_the_run_with_exit_1_and_is_journaled_failed() {
    let env = Env::new();
    let out = auto(&env, FAILS, &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert_whole_lines(&text);
    assert!(text.contains("✓ fine done ("), "{text}");
    assert!(text.contains("  about to break\n"), "{text}");
    assert!(text.contains("✗ broken failed: "), "{text}");
    assert!(!text.contains("▶ never"), "{text}");
    let st = statuses(&env, "auto-fails/2015-09-10");
    assert_eq!(st["fine"], "done");
    assert_eq!(st["broken"], "failed");
    assert!(!st.contains_key("never"), "{st:?}");
}

/// Reads the child's stdout until a line is `want`; panics after a deadline.
fn wait_for_line(lines: &mut impl Iterator<Item = std::io::Result<String>>, want: &str) {
    let end = Instant::now() + Duration::from_secs(30);
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line == want {
            return;
        }
        assert!(Instant::now() < end, "no {want:?} in time");
    }
    panic!("stdout ended before {want:?}");
}

#[test]
fn sigterm_interrupts_the_running_step_and_the_lock_keeps_others_out() {
    let env = Env::new();
    let mut child = env
        .cmd()
        .args([SLEEPY, "--now", "2015-09-08", "run", "--auto"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    wait_for_line(&mut lines, "  started");

    // The session is held: a second pushduty says so and runs nothing.
    let second = auto(&env, SLEEPY, &[]);
    assert_eq!(second.status.code(), Some(1), "{}", stdout(&second));
    assert!(
        stderr(&second).contains("wait for them to finish"),
        "{}",
        stderr(&second)
    );
    assert!(stdout(&second).is_empty(), "{}", stdout(&second));

    let began = Instant::now();
    let pid = i32::try_from(child.id()).unwrap();
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(143));
    assert!(
        began.elapsed() < Duration::from_secs(20),
        "the sleep was not cut short"
    );
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(
        rest.iter().any(|l| l == "✗ nap interrupted by SIGTERM"),
        "{rest:?}"
    );
    let last = journal(&env, "sleepy/2015-09-10")
        .into_iter()
        .rev()
        .find(|e| e["event"] == "step")
        .unwrap();
    assert_eq!(last["to"], "interrupted", "{last}");
    assert!(
        last["reason"]
            .as_str()
            .unwrap()
            .starts_with("stopped by SIGTERM"),
        "{last}"
    );
}

#[test]
fn an_answered_manual_step_is_ticked_off_with_the_answer_as_its_note() {
    let env = Env::new();
    let two = "--runbook=tests/fixtures/runbooks/valid/two-manual.toml";
    let out = auto(&env, two, &["--answer", "first=did it by hand"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(3), "{text}{}", stderr(&out));
    assert!(text.contains("✓ first done ("), "{text}");
    assert!(
        text.contains("needs a person: second (Second manual step): a manual step"),
        "{text}"
    );
    let first = journal(&env, "two-steps/2015-09-10")
        .into_iter()
        .rev()
        .find(|e| e["step"] == "first" && e["to"] == "done")
        .unwrap();
    assert_eq!(first["note"], "did it by hand", "{first}");
}

/// Two `do` in a row with stdout and stderr in one pane (one file, as a terminal shows them):
/// the gate's outputs and the next step's preview each start a line of their own (they once
/// read `build_id = 5pick: choose one of: …`).
#[test]
fn do_outputs_and_the_next_commands_lines_never_run_together() {
    let env = Env::new();
    let pane = env.path().join("pane.txt");
    let file = std::fs::File::create(&pane).unwrap();
    let run = |args: &[&str]| {
        env.cmd()
            .args(args)
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file.try_clone().unwrap())
            .status()
            .unwrap()
    };
    let qa = run(&[
        AUTO,
        "--now",
        "2015-09-08",
        "do",
        "qa",
        "--yes",
        "--input",
        "approved_by=krupa",
        "--input",
        "approved_at=10:00",
    ]);
    assert!(qa.success());
    // No answer and no terminal: it says what to pass and stops (exit 2).
    let strategy = run(&[AUTO, "--now", "2015-09-08", "do", "strategy"]);
    assert_eq!(strategy.code(), Some(2));
    let text = std::fs::read_to_string(&pane).unwrap();
    assert!(text.ends_with('\n'), "{text:?}");
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.contains(&"  approved_by = krupa"), "{text}");
    assert!(lines.contains(&"done: qa"), "{text}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("strategy: choose one of")),
        "{text}"
    );
    assert!(
        lines.contains(&"  1. fast: Ship now") && lines.contains(&"  2. slow: Wait a day"),
        "{text}"
    );
}

/// How many times the command of [`killed_after_its_command_ran`]'s runbook ran.
fn ran(env: &Env) -> usize {
    std::fs::read_to_string(env.path().join("marks"))
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

/// `run --auto` on a runbook whose command marks its run and takes half a second, killed
/// with SIGKILL once the command has run; returns once the command, left on its own, has
/// ended. The `--runbook` argument.
fn killed_after_its_command_ran(env: &Env) -> String {
    let text = std::fs::read_to_string("tests/fixtures/runbooks/valid/sleepy.toml").unwrap();
    let rb = env.path().join("marks.toml");
    let marks = env.path().join("marks");
    let command = format!("echo ran >> '{}'; sleep 0.5", marks.display());
    std::fs::write(
        &rb,
        text.replace("echo started; sleep 300; echo woke", &command),
    )
    .unwrap();
    let rb = format!("--runbook={}", rb.display());
    let mut child = env
        .cmd()
        .args([rb.as_str(), "--now", "2015-09-08", "run", "--auto"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let end = Instant::now() + Duration::from_secs(15);
    while ran(env) == 0 {
        assert!(Instant::now() < end, "the command never ran");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    std::thread::sleep(Duration::from_millis(800));
    rb
}

#[test]
fn a_command_that_outlived_a_killed_pushduty_is_not_run_again_unasked() {
    // Its exit status died with pushduty: the next run asks whether it did its work.
    let env = Env::new();
    let rb = killed_after_its_command_ran(&env);
    let asked = auto(&env, &rb, &[]);
    let said = format!("{}{}", stdout(&asked), stderr(&asked));
    assert_eq!(asked.status.code(), Some(3), "{said}");
    assert!(said.contains("needs `maybe_ran`"), "{said}");
    assert!(said.contains("one of mark_done, run_again"), "{said}");
    assert_eq!(ran(&env), 1, "run again unasked: {said}");

    let marked = auto(&env, &rb, &["--answer", "nap.maybe_ran=mark_done"]);
    let said = format!("{}{}", stdout(&marked), stderr(&marked));
    assert_eq!(marked.status.code(), Some(0), "{said}");
    assert!(said.contains("not run again"), "{said}");
    assert_eq!(ran(&env), 1, "{said}");
    assert_eq!(statuses(&env, "sleepy/2015-09-10")["nap"], "done");
}

#[test]
fn a_command_that_outlived_a_killed_pushduty_runs_again_when_it_did_not_do_its_work() {
    let env = Env::new();
    let rb = killed_after_its_command_ran(&env);
    let again = auto(&env, &rb, &["--answer", "nap.maybe_ran=run_again"]);
    let said = format!("{}{}", stdout(&again), stderr(&again));
    assert_eq!(again.status.code(), Some(0), "{said}");
    assert!(
        said.contains("running the command again, as you chose"),
        "{said}"
    );
    assert_eq!(ran(&env), 2, "{said}");
}
