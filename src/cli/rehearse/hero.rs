//! `rehearse --auto`: the hero of each scenario, played through the same doors a person or a
//! pipeline uses: `run --auto` with `--answer`s, and `do STEP --reopen` where the hero changes
//! their mind. Each answer is printed with why the hero gives it.
//!
//! Exit codes: `normal` 0; `failed-deploy` 0 (the retried deploy succeeds and the push goes
//! on); `blocker` 0 (the fix is cherry-picked, `-1` is pushed and deployed, the push goes on);
//! `spike` 1 (the health check fails: the push is done but not healthy, someone must act).

use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::cli::{DoArgs, Global, auto, do_step};
use crate::rehearse::Scenario;
use crate::rehearse::rig::{BLOCKER_NUMBER, Rig};

/// One answer and why the hero gives it.
struct Answer {
    key: String,
    value: String,
    why: &'static str,
}

fn answer(key: &str, value: &str, why: &'static str) -> Answer {
    Answer {
        key: key.to_string(),
        value: value.to_string(),
        why,
    }
}

/// What every hero answers: who they are, tag master, QA's and ops's word.
fn usual(strategy: bool) -> Vec<Answer> {
    let mut out = vec![answer(
        "check-rotation",
        "rehearsal: the rotation names me",
        "the rotation names this operator as the hero",
    )];
    if strategy {
        out.push(answer(
            "strategy",
            "master",
            "master holds nothing unfinished this week",
        ));
    }
    out.push(answer(
        "qa-approval",
        "Krupa",
        "QA (Krupa) signed off the tag on stage",
    ));
    out.push(answer(
        "production-push",
        "Jason",
        "ops (Jason) pushed the tag to production",
    ));
    out
}

fn say(line: &str) {
    crate::cli::print_block(line);
}

/// Runs `run --auto` with `answers`, saying each first.
fn auto_run(g: &Global, answers: &[Answer]) -> ExitCode {
    for a in answers {
        say(&format!(
            "hero: --answer {}={}  ({})",
            a.key, a.value, a.why
        ));
    }
    let given: Vec<(String, String)> = answers
        .iter()
        .map(|a| (a.key.clone(), a.value.clone()))
        .collect();
    auto::run(g, &given)
}

fn reopen(g: &Global, step: &str, why: &str, inputs: &[(&str, &str)]) -> ExitCode {
    let shown: Vec<String> = inputs
        .iter()
        .map(|(k, v)| format!(" --input {k}={v}"))
        .collect();
    say(&format!(
        "hero: pushduty do {step} --reopen \"{why}\"{} --yes",
        shown.join("")
    ));
    do_step::run(
        g,
        &DoArgs {
            step: step.to_string(),
            yes: true,
            note: None,
            inputs: inputs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            reopen: Some(why.to_string()),
            override_reason: None,
            by_hand: false,
            offline_log: None,
        },
    )
}

fn is(code: ExitCode, want: u8) -> bool {
    code == ExitCode::from(want)
}

/// Plays the scenario's hero; the rehearsal's exit code.
pub fn play(g: &Global, scenario: Scenario, rig: &Rig, upstream: &std::path::Path) -> ExitCode {
    match scenario {
        Scenario::Normal => auto_run(g, &usual(true)),
        Scenario::Spike => {
            let first = auto_run(g, &usual(true));
            if !is(first, 1) {
                return first;
            }
            // Sentry saw a new error; the graphs tell how bad it is. Both go to ops.
            say(
                "hero: Sentry shows a new error since the push; checking the graphs too, then telling ops:",
            );
            say("hero: pushduty do watch-graphite --yes");
            let graphs = do_step::run(
                g,
                &DoArgs {
                    step: "watch-graphite".into(),
                    yes: true,
                    note: None,
                    inputs: Vec::new(),
                    reopen: None,
                    override_reason: None,
                    by_hand: false,
                    offline_log: None,
                },
            );
            if is(graphs, 0) { first } else { graphs }
        }
        Scenario::FailedDeploy => {
            let first = auto_run(g, &usual(true));
            if !is(first, 1) {
                return first;
            }
            say(
                "hero: the stage deploy failed; Jenkins's console shows why. Retrying it, as `r` would:",
            );
            auto_run(g, &usual(false))
        }
        Scenario::Blocker => blocker(g, rig, upstream),
    }
}

/// Tag master, deploy; the blocker stops the run; its fix lands; fetch, cherry-pick, `-1`.
fn blocker(g: &Global, rig: &Rig, upstream: &std::path::Path) -> ExitCode {
    let first = auto_run(g, &usual(true));
    if !is(first, 3) {
        return first;
    }
    // The fix lands once the tag is out; give the world a moment.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !rig.fix_landed.load(Ordering::SeqCst) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let fix = match git2::Repository::open_bare(upstream)
        .and_then(|r| r.refname_to_id("refs/heads/master"))
    {
        Ok(id) if rig.fix_landed.load(Ordering::SeqCst) => id.to_string(),
        _ => {
            eprintln!("pushduty: the blocker's fix did not land on the sandbox's remote");
            return ExitCode::from(1);
        }
    };
    let short = &fix[..10.min(fix.len())];
    say(&format!(
        "hero: blocker #{BLOCKER_NUMBER} must not ship; its fix {short} is on master now, after the tag"
    ));
    let code = reopen(g, "fetch", "the fix of the blocker landed on master", &[]);
    if !is(code, 0) {
        return code;
    }
    let code = reopen(
        g,
        "strategy",
        "a blocker: cherry-pick its fix onto the tag",
        &[("strategy", "cherry_pick")],
    );
    if !is(code, 0) {
        return code;
    }
    let outcome = format!("cherry-pick:{short}");
    let key = format!("blockers.blocker.{BLOCKER_NUMBER}");
    let mut answers = vec![
        answer("cherry-pick", short, "the blocker's fix, nothing else"),
        answer(&key, &outcome, "fixed by the cherry-picked commit"),
    ];
    answers.extend(usual(false).into_iter().skip(1));
    auto_run(g, &answers)
}
