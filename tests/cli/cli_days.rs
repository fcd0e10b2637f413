//! The day rule through the binary: a step planned for a later day of the push week than
//! `--now` is refused by `do` unless overridden with a reason (journaled), `run --auto` stops
//! at it with exit 3, and a step whose day has passed (late) is never refused.

use crate::support::cli::{Env, journal, stderr, stdout};

const DAYS: &str = "--runbook=tests/fixtures/runbooks/valid/days.toml";
const SESSION: &str = "days/2015-09-10";

/// `do ship` before its day, overridden with a reason.
const SHIP_EARLY: [&str; 5] = [
    "do",
    "ship",
    "--yes",
    "--override",
    "ops asked for it today",
];

/// Asserts that `out` printed `text` on stdout, showing all it printed otherwise.
#[track_caller]
fn assert_printed(out: &std::process::Output, text: &str) {
    let printed = stdout(out);
    assert!(printed.contains(text), "{printed}");
}

/// Asserts that the journal has `ship` started (`expect` says what it shows otherwise) with
/// the override's reason.
#[track_caller]
fn assert_ship_started_overridden(env: &Env, expect: &str) {
    let started = journal(env, SESSION)
        .into_iter()
        .find(|e| e["step"] == "ship" && e["to"] == "running")
        .expect(expect);
    assert_eq!(
        started["reason"],
        "preconditions overridden: ops asked for it today"
    );
}

fn on(env: &Env, day: &str, args: &[&str]) -> std::process::Output {
    let mut all = vec![DAYS, "--now", day];
    all.extend_from_slice(args);
    env.run(&all)
}

#[test]
fn do_refuses_a_step_before_its_day_and_an_override_is_journaled() {
    let env = Env::new();
    let early = on(&env, "2015-09-08", &["do", "ship", "--yes"]);
    let err = stderr(&early);
    assert_eq!(early.status.code(), Some(1), "{err}");
    assert!(
        err.contains("FAIL: planned for Thu 2015-09-10 (today is Tue 2015-09-08)"),
        "{err}"
    );
    assert!(err.contains("--override REASON"), "{err}");
    assert!(
        journal(&env, SESSION).iter().all(|e| e["step"] != "ship"),
        "a refused step leaves no trace"
    );

    let forced = on(&env, "2015-09-08", &SHIP_EARLY);
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert!(stdout(&forced).contains("done: ship"));
    assert_ship_started_overridden(&env, "ship started");
}

#[test]
fn a_late_step_is_never_refused() {
    let env = Env::new();
    // Thursday: Tuesday's and Wednesday's steps are late, Thursday's is due.
    for id in ["tag-it", "look", "ship"] {
        let out = on(&env, "2015-09-10", &["do", id, "--yes"]);
        assert!(out.status.success(), "{id}: {}", stderr(&out));
        assert!(!stderr(&out).contains("FAIL"), "{}", stderr(&out));
    }
}

#[test]
fn run_auto_stops_at_a_step_before_its_day_with_exit_3() {
    let env = Env::new();
    let tue = on(&env, "2015-09-08", &["run", "--auto"]);
    let out = stdout(&tue);
    assert_eq!(tue.status.code(), Some(3), "{out}{}", stderr(&tue));
    assert!(out.contains("✓ tag-it done"), "{out}");
    assert!(
        out.contains(
            "needs a person: look (Look for blockers): planned for Wed 2015-09-09 (today is Tue 2015-09-08)"
        ),
        "{out}"
    );
    assert!(out.contains("pushduty do look --override REASON"), "{out}");
    // An answer is not a reason to go early.
    let answered = on(
        &env,
        "2015-09-08",
        &["run", "--auto", "--answer", "look=now"],
    );
    assert_eq!(answered.status.code(), Some(3), "{}", stdout(&answered));

    // A person decides to go on early; the run takes it from there, to the next day's step.
    let forced = on(
        &env,
        "2015-09-08",
        &["do", "look", "--yes", "--override", "no blockers can come"],
    );
    assert!(forced.status.success(), "{}", stderr(&forced));
    let again = on(&env, "2015-09-08", &["run", "--auto"]);
    assert_eq!(again.status.code(), Some(3), "{}", stdout(&again));
    assert_printed(
        &again,
        "needs a person: ship (Ship it): planned for Thu 2015-09-10",
    );

    // On the day it finishes.
    let thu = on(&env, "2015-09-10", &["run", "--auto"]);
    assert!(thu.status.success(), "{}{}", stdout(&thu), stderr(&thu));
    assert_printed(&thu, "all done: 1 run now");
}

#[test]
fn plan_and_show_print_dates_with_their_weekday() {
    let env = Env::new();
    let plan = on(&env, "2015-09-08", &["plan"]);
    let text = stdout(&plan);
    assert!(
        text.contains("push date     Thu 2015-09-10 (tag on Tue 2015-09-08)"),
        "{text}"
    );
    assert!(text.contains("[look] (Wed 2015-09-09)"), "{text}");
    let _ = on(&env, "2015-09-08", &["do", "tag-it", "--yes"]);
    let show = on(&env, "2015-09-08", &["show"]);
    assert_printed(&show, "push of Thu 2015-09-10");
}

/// The hostile way: pushduty killed (-9) while a step it started early runs. The override's
/// reason is in the journal before the step acts; the step shows as interrupted, and going
/// early again is a new decision that needs its own reason.
#[test]
fn an_early_step_killed_mid_run_keeps_its_reason_and_asks_again() {
    let env = Env::new();
    let text = std::fs::read_to_string("tests/fixtures/runbooks/valid/days.toml").unwrap();
    let slow = env.path().join("days.toml");
    let marker = env.path().join("acted");
    std::fs::write(
        &slow,
        text.replace(
            "command = \"true\"\nday = \"push_day\"",
            &format!(
                "command = \"touch '{}' && sleep 30\"\nday = \"push_day\"",
                marker.display()
            ),
        ),
    )
    .unwrap();
    let rb = format!("--runbook={}", slow.display());
    let mut child = env
        .cmd()
        .args([rb.as_str(), "--now", "2015-09-08"])
        .args(SHIP_EARLY)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !marker.exists() {
        assert!(std::time::Instant::now() < deadline, "the step never acted");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_ship_started_overridden(&env, "journaled before it acted");
    // kill -9 pushduty, then the command it left (its own process group, journaled).
    child.kill().unwrap();
    child.wait().unwrap();
    let left = env.run(&[&rb, "--now", "2015-09-08", "do", "ship", "--yes"]);
    let err = stderr(&left);
    assert!(err.contains("it is still running elsewhere"), "{err}");
    let pgid = journal(&env, SESSION)
        .into_iter()
        .find_map(|e| {
            let v = &e["values"]["pgid"];
            v.as_i64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        })
        .expect("the command's process group is journaled");
    assert_eq!(unsafe { libc::kill(-(pgid as i32), libc::SIGKILL) }, 0);
    std::thread::sleep(std::time::Duration::from_millis(300));

    let again = env.run(&[&rb, "--now", "2015-09-08", "do", "ship", "--yes"]);
    let err = stderr(&again);
    assert_eq!(again.status.code(), Some(1), "{err}");
    assert!(
        err.contains("FAIL: planned for Thu 2015-09-10 (today is Tue 2015-09-08)"),
        "refused again without a new reason: {err}"
    );
    let show = env.run(&[&rb, "--now", "2015-09-08", "show", "--json"]);
    assert_printed(&show, "\"interrupted\"");
}
