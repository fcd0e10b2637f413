//! `rehearse --auto`: the hero of each scenario, played through the same doors a person or a
//! pipeline uses: `run --auto` with `--answer`s, and `do STEP --reopen` where the hero changes
//! their mind. Each answer is printed with why the hero gives it.
//!
//! Exit codes: `normal` 0; `failed-deploy` 0 (the retried deploy succeeds and the push goes
//! on); `blocker` 0 (the fix is cherry-picked, `-1` is pushed and deployed, the push goes on);
//! `spike` 1 (the health check fails: the push is done but not healthy, someone must act);
//! `releases` 0 (the one-off items are done, the server's fix ships as `-1`, the push goes
//! on to the next hero's drafts).

use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::cli::{DoArgs, Global, auto, do_step, push_log};
use crate::rehearse::rig::{BLOCKER_NUMBER, Rig};
use crate::rehearse::{Sandbox, Scenario};

/// One answer and why the hero gives it.
struct Answer {
    key: String,
    value: String,
    why: String,
}

fn answer(key: &str, value: &str, why: &str) -> Answer {
    Answer {
        key: key.to_string(),
        value: value.to_string(),
        why: why.to_string(),
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
    auto::run(g, &given, None)
}

fn reopen(g: &Global, step: &str, why: &str, inputs: &[(&str, &str)]) -> ExitCode {
    do_as_hero(g, step, Some(why), inputs)
}

/// `pushduty do STEP [--reopen WHY] [--input K=V]... --yes`, said first.
fn do_as_hero(g: &Global, step: &str, reopen: Option<&str>, inputs: &[(&str, &str)]) -> ExitCode {
    let shown: Vec<String> = inputs
        .iter()
        .map(|(k, v)| format!(" --input {k}={v}"))
        .collect();
    let why = reopen
        .map(|w| format!(" --reopen \"{w}\""))
        .unwrap_or_default();
    say(&format!(
        "hero: pushduty do {step}{why}{} --yes",
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
            reopen: reopen.map(str::to_string),
            override_reason: None,
            by_hand: false,
            offline_log: None,
        },
    )
}

fn is(code: ExitCode, want: u8) -> bool {
    code == ExitCode::from(want)
}

/// Plays the scenario's hero; the rehearsal's exit code. `upstream` is the remote the
/// blocker's fix lands on, `session` the push's session folder.
pub fn play(
    g: &Global,
    scenario: Scenario,
    rig: &Rig,
    upstream: &std::path::Path,
    sb: &Sandbox,
    session: &std::path::Path,
) -> ExitCode {
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
            let graphs = do_as_hero(g, "watch-graphite", None, &[]);
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
        Scenario::Releases => releases(g, rig, upstream, session),
        Scenario::Handover => handover(g, sb),
    }
}

/// Who takes the push over in `handover`: the next name of the rehearsal's rotation.
const NEXT_HERO: &str = "kumar";
const TAKEOVER_REASON: &str = "the production push is on my shift: the first hero is off today";

/// The next hero: the same sandbox and push, on a machine of their own (their state dir).
fn next_hero(g: &Global, sb: &Sandbox) -> Global {
    let mut next = g.clone();
    next.operator = Some(NEXT_HERO.to_string());
    next.state_dir = Some(sb.next_state());
    next
}

/// You drive until the production push; the next hero follows from the log, takes over with
/// a reason, and drives to the end. Your step after that is refused.
fn handover(g: &Global, sb: &Sandbox) -> ExitCode {
    let mut answers = usual(true);
    answers.retain(|a| a.key != "production-push");
    say("hero: driving the push until the production push, which is on the next hero's shift");
    let first = auto_run(g, &answers);
    if !is(first, 3) {
        eprintln!("pushduty: the first hero's run did not stop at the production push");
        return if is(first, 0) {
            ExitCode::from(1)
        } else {
            first
        };
    }
    takes_over(g, sb)
}

/// The next hero, on another machine, follows the push from the log, takes it over with a
/// reason and drives to the end; the first hero's step after that is refused.
pub fn takes_over(g: &Global, sb: &Sandbox) -> ExitCode {
    let next = next_hero(g, sb);
    say(&format!(
        "{NEXT_HERO} (another machine): pushduty follow  (the push as the team's log has it)"
    ));
    let followed = push_log::follow(&next, false);
    if !is(followed, 0) {
        return followed;
    }
    say(&format!(
        "{NEXT_HERO}: pushduty takeover --reason \"{TAKEOVER_REASON}\""
    ));
    let took = push_log::takeover(&next, TAKEOVER_REASON);
    if !is(took, 0) {
        return took;
    }
    say("hero (later, on the first machine): approving the production push anyway:");
    let late = do_as_hero(g, "production-push", None, &[("approved_by", "Jason")]);
    if !is(late, 1) {
        eprintln!("pushduty: the first hero's step was not refused after the takeover");
        return ExitCode::from(1);
    }
    say(&format!(
        "{NEXT_HERO}: driving the rest of the push (run --auto), from the first hero's journal:"
    ));
    auto_run(&next, &usual(true))
}

/// `handover`'s last words: who drove (from the log), and that each act happened once.
pub fn handover_summary(g: &Global, rig: &Rig, upstream: &std::path::Path, tag: &str) -> String {
    let tags = git2::Repository::open_bare(upstream)
        .and_then(|r| r.tag_names(Some(&format!("{tag}*"))).map(|t| t.len()))
        .unwrap_or(0);
    let deploys = rig.jenkins.triggers();
    let mail = rig.smtp.messages().len();
    println!("\n## The push as the team's log has it\n");
    let _ = push_log::follow(g, false);
    format!(
        "\n## What happened once\n\n- tags of this push on the remote: {tags}\n- deploys triggered in Jenkins: {deploys}\n- announcements sent: {mail}"
    )
}

/// The fix of the blocker on the sandbox's remote, once it has landed (waiting a moment for
/// it: it lands once the tag is out); said when it did not.
fn landed_fix(rig: &Rig, upstream: &std::path::Path) -> Option<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !rig.fix_landed.load(Ordering::SeqCst) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    match git2::Repository::open_bare(upstream).and_then(|r| r.refname_to_id("refs/heads/master")) {
        Ok(id) if rig.fix_landed.load(Ordering::SeqCst) => Some(id.to_string()),
        _ => {
            eprintln!("pushduty: the blocker's fix did not land on the sandbox's remote");
            None
        }
    }
}

/// The 2026 runbook's answers that do not change: who pushes, QA's and ops's word.
fn usual_2026() -> Vec<Answer> {
    vec![
        answer(
            "check-rotation",
            "rehearsal: the rotation names me",
            "the rotation names this operator as the hero",
        ),
        answer(
            "strategy-frontend",
            "master",
            "addons-frontend has no blocker: its draft is published as it is",
        ),
        answer(
            "qa-stage",
            "Krupa",
            "QA (Krupa) signed off both releases on stage",
        ),
        answer(
            "approve-promotion",
            "Krupa",
            "the hero and QA approved the promotion in the channel",
        ),
        answer(
            "promote",
            "Jason",
            "ops (Jason) promoted both releases with ArgoCD",
        ),
    ]
}

/// The push's one-off items (from the release bodies) not done yet: (id, text). None when
/// the session cannot be read: said, and the hero answers no item.
fn open_items(session: &std::path::Path) -> Vec<(String, String)> {
    if !session.exists() {
        return Vec::new(); // the push has not begun
    }
    let read = match crate::session::load(session) {
        Ok(read) => read,
        Err(e) => {
            eprintln!("pushduty: the hero could not read the push's items: {e:#}");
            return Vec::new();
        }
    };
    let st = read.state;
    st.items
        .iter()
        .filter(|(id, _)| {
            st.steps
                .get(*id)
                .is_some_and(|s| matches!(s.status, crate::session::Status::Pending))
        })
        .map(|(id, item)| (id.clone(), item.text.clone()))
        .collect()
}

/// Publish the drafts the previous hero left, doing their one-off items as they come up;
/// the server's blocker stops the run; its fix lands; reopen the server's choice, pick it,
/// tag, push and publish `-1`; then QA, the promotion, the watches and the next drafts.
fn releases(
    g: &Global,
    rig: &Rig,
    upstream: &std::path::Path,
    session: &std::path::Path,
) -> ExitCode {
    let mut fixed: Option<Vec<Answer>> = None;
    // Each round ends at a step that needs the hero: an item newly read from a release, or
    // the blocker. Bounded: the releases hold three items and there is one blocker.
    for _ in 0..8 {
        let mut answers = usual_2026();
        answers.push(match fixed {
            None => answer(
                "strategy-server",
                "master",
                "the previous hero's draft is what ships: publish it on master",
            ),
            Some(_) => answer(
                "strategy-server",
                "cherry_pick",
                "the blocker's fix ships alone, as -1",
            ),
        });
        answers.extend(
            fixed
                .iter()
                .flatten()
                .map(|a| answer(&a.key, &a.value, &a.why)),
        );
        let items = open_items(session);
        for (id, text) in &items {
            // A command is run by pushduty once answered; anything else the hero does.
            let (value, why) = match text.contains('`') {
                true => (
                    "ran as the release says",
                    format!("the release's one-off command, read: \"{text}\"; run it"),
                ),
                false => (
                    "done as the release asked",
                    format!("the release's one-off item \"{text}\": done as it says"),
                ),
            };
            answers.push(answer(id, value, &why));
        }
        let code = auto_run(g, &answers);
        if !is(code, 3) {
            return code;
        }
        // Stopped for a person: a new item to do, or the blocker.
        if open_items(session).len() > items.len() {
            continue;
        }
        if fixed.is_some() {
            return code; // stopped by something this hero does not know how to answer
        }
        let Some(fix) = landed_fix(rig, upstream) else {
            return ExitCode::from(1);
        };
        let short = fix[..10.min(fix.len())].to_string();
        say(&format!(
            "hero: blocker #{BLOCKER_NUMBER} of addons-server must not ship; its fix {short} is on master now, after the tag"
        ));
        let code = reopen(
            g,
            "strategy-server",
            "a blocker: cherry-pick its fix onto this push's tag",
            &[("strategy_server", "cherry_pick")],
        );
        if !is(code, 0) {
            return code;
        }
        // The fix must be in the checkout before it is named.
        let code = do_as_hero(g, "fetch-server", None, &[]);
        if !is(code, 0) {
            return code;
        }
        fixed = Some(vec![
            answer(
                "cherry-pick-server",
                &short,
                "the blocker's fix, nothing else",
            ),
            answer(
                &format!("blockers.blocker.server.{BLOCKER_NUMBER}"),
                &format!("cherry-pick:{short}"),
                "fixed by the cherry-picked commit",
            ),
        ]);
    }
    eprintln!("pushduty: the releases hero gave up: the push kept stopping for a person");
    ExitCode::from(3)
}

/// Tag master, deploy; the blocker stops the run; its fix lands; fetch, cherry-pick, `-1`.
fn blocker(g: &Global, rig: &Rig, upstream: &std::path::Path) -> ExitCode {
    let first = auto_run(g, &usual(true));
    if !is(first, 3) {
        return first;
    }
    let Some(fix) = landed_fix(rig, upstream) else {
        return ExitCode::from(1);
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
