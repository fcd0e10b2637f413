//! `pushduty rehearse --auto` through the binary: each scenario's whole push against the
//! in-process stand-ins, in a kept sandbox (`--dir`) so the git remote, the mail and the
//! journal can be looked at afterwards.

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use crate::support;
use crate::support::cli::{Env, stderr, stdout};

/// The operator's own `--set` that shortens the Sentry soak to seconds: the tests that do not
/// look at its verdict need not wait the minute its judge needs.
const QUICK_SENTRY: [&str; 2] = ["--set", "steps.watch-sentry.soak_minutes=0.1"];

/// A rehearsal with a quick Sentry soak.
fn rehearse(env: &Env, scenario: &str) -> (Output, tempfile::TempDir, Duration) {
    rehearse_with(env, scenario, &QUICK_SENTRY)
}

fn rehearse_with(
    env: &Env,
    scenario: &str,
    sets: &[&str],
) -> (Output, tempfile::TempDir, Duration) {
    let sandbox = tempfile::tempdir().unwrap();
    let began = Instant::now();
    let out = rehearse_in(env, scenario, &sandbox.path().join("sandbox"), sets);
    (out, sandbox, began.elapsed())
}

/// `rehearse --auto` of `scenario` in the sandbox `dir`, made or resumed, after `sets`.
fn rehearse_in(env: &Env, scenario: &str, dir: &Path, sets: &[&str]) -> Output {
    let mut args = sets.to_vec();
    args.extend([
        "rehearse",
        "--auto",
        "--scenario",
        scenario,
        "--dir",
        dir.to_str().unwrap(),
    ]);
    env.run(&args)
}

/// This push's tag: the push is today, in the bundled runbook's timezone.
fn todays_tag() -> String {
    let tz: chrono_tz::Tz = "America/Los_Angeles".parse().unwrap();
    chrono::Utc::now()
        .with_timezone(&tz)
        .format("%Y.%m.%d")
        .to_string()
}

fn remote_tags(sandbox: &Path) -> Vec<String> {
    tags_of(&sandbox.join("sandbox/upstream.git"))
}

fn said(out: &Output) -> String {
    format!("--- stdout\n{}\n--- stderr\n{}", stdout(out), stderr(out))
}

/// The one rehearsal here with the Sentry soak the rehearsal sets (a minute, judged on 10-second
/// counts): every check reaches a verdict. Resumed, the stand-ins have what they had. The
/// channel hears the push as it goes, once per post.
#[test]
fn a_normal_rehearsal_does_every_step_judges_every_check_and_mails_the_sandbox() {
    let env = Env::new();
    let (out, sandbox, took) = rehearse_with(&env, "normal", &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    assert!(took < Duration::from_secs(60 * 3), "took {took:?}");
    // The hero's answers are documented.
    assert!(text.contains("hero: --answer strategy=master"), "{text}");
    assert!(text.contains("all done:"), "{text}");
    // The report: every step done or not applicable.
    assert!(text.contains("# The push as it happened"), "{text}");
    let report = text
        .split("# The push as it happened")
        .nth(1)
        .unwrap_or_default();
    assert!(report.contains("finished"), "{report}");
    assert!(!report.contains("failed"), "{report}");
    // The operator has a name, not a role.
    assert!(!text.contains("hero hero"), "{text}");
    // The deploy built this push's tag and stage followed it.
    let tag = todays_tag();
    assert!(
        text.contains(&format!("Deploying {tag} to addons.allizom.org")),
        "{text}"
    );
    assert!(remote_tags(sandbox.path()).contains(&tag));
    // The announcement arrived in the sandbox, and the real push's differences are named.
    let mail = std::fs::read_to_string(sandbox.path().join("sandbox/mail/0001.eml")).unwrap();
    assert!(mail.contains(&format!("AMO push {tag} is done")), "{mail}");
    assert!(
        text.contains("# What a real push would have done differently"),
        "{text}"
    );
    assert!(text.contains("ci.addons.allizom.org"), "{text}");
    assert!(text.contains("dev-addons@mozilla.org"), "{text}");
    // The channel heard the tag, stage, production and the end, and its topic names the next
    // hero; the team's real room is named as what a real push would reach.
    let channel = text
        .split("## What the channel read")
        .nth(1)
        .unwrap_or_else(|| panic!("no channel: {text}"));
    for heard in [
        format!("pushing {tag} on "),
        format!("{tag} is on stage"),
        format!("{tag} is in production"),
        format!("push {tag} done; kumar pushes next"),
        "topic: next push ".to_string(),
    ] {
        assert!(channel.contains(&heard), "{heard}: {channel}");
    }
    assert!(text.contains("!amo-push-channel:mozilla.org"), "{text}");
    // Secrets are named in the config, never written.
    let config = std::fs::read_to_string(sandbox.path().join("sandbox/config.toml")).unwrap();
    assert!(config.contains(r#"token = { env = "PUSHDUTY_REHEARSAL_JENKINS_TOKEN" }"#));
    // Sentry's watch judged the event rate (its judge had points enough), as Graphite's did.
    let dir = sandbox.path().join("sandbox");
    let journal = journal_of(&dir);
    for (step, output) in [
        ("watch-sentry", "sentry_verdict"),
        ("watch-graphite", "metrics_verdict"),
    ] {
        let verdicts = step_outputs(&journal, step, output);
        assert_eq!(verdicts.len(), 1, "{step}: {verdicts:?}\n{text}");
        assert_ne!(verdicts[0], "unknown", "{step}: {text}");
    }
    assert!(!text.contains("event rate not judged"), "{text}");

    // The kept sandbox can be stepped through again: the printed command replays it as done.
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("Step through it again: pushduty "))
        .unwrap_or_else(|| panic!("no replay line: {text}"));
    let mut args = shell_words(line);
    args.push("--json".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let replay = env.run(&args);
    assert_eq!(replay.status.code(), Some(0), "{}", said(&replay));
    let json: serde_json::Value = serde_json::from_str(&stdout(&replay)).unwrap();
    assert_eq!(json["outcome"], "complete", "{json}");
    // The rehearsal's week is the runbook's, moved to push today: the steps planned on
    // Wednesday come after the tag and before the push, whatever today is.
    let mut plan = shell_words(line);
    plan.truncate(plan.len() - 2); // `learn --replay`
    plan.extend(["plan".to_string(), "--json".to_string()]);
    let plan = env.run(&plan.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(plan.status.code(), Some(0), "{}", said(&plan));
    let plan: serde_json::Value = serde_json::from_str(&stdout(&plan)).unwrap();
    let date = |id: &str| {
        plan["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == id)
            .and_then(|s| s["date"].as_str())
            .unwrap_or_else(|| panic!("no date for {id}: {plan}"))
            .to_string()
    };
    let (tagged, blockers, pushed) = (date("tag-master"), date("blockers"), date("qa-approval"));
    assert!(
        tagged < blockers && blockers < pushed,
        "tag {tagged}, blockers {blockers}, push {pushed}"
    );
    assert_eq!(pushed, today());

    // The same sandbox again: its stand-ins come back on the ports they had, so the steps
    // whose actions name their URLs are found done, and nothing runs a second time.
    let again = rehearse_in(&env, "normal", &dir, &[]);
    assert_eq!(again.status.code(), Some(0), "{}", said(&again));
    let loopback = |t: &str| {
        t.lines()
            .find(|l| l.starts_with("Stand-ins on loopback:"))
            .map(str::to_string)
            .unwrap_or_default()
    };
    let again_text = stdout(&again);
    assert_eq!(loopback(&again_text), loopback(&text));
    let starts = std::fs::read_to_string(&journal)
        .unwrap()
        .lines()
        .filter(|l| l.contains(r#""step":"deploy-stage""#) && l.contains(r#""to":"running""#))
        .count();
    assert_eq!(starts, 1, "the deploy ran once: {again_text}");
    // And they have what they had: the mail sent (shown again, not sent again), the build.
    assert!(
        again_text.contains("## The announcement that would have gone out"),
        "{again_text}"
    );
    assert!(
        !again_text.contains("No announcement was sent"),
        "{again_text}"
    );
    let mails: Vec<_> = std::fs::read_dir(dir.join("mail")).unwrap().collect();
    assert_eq!(mails.len(), 1, "{mails:?}");
    // The room kept its messages, each once.
    let read = |t: &str| {
        t.split("## What the channel read")
            .nth(1)
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(read(&again_text), read(&text), "{again_text}");
    let kept: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("standins.json")).unwrap()).unwrap();
    let builds = kept["jenkins"]["items"].as_array().unwrap();
    assert_eq!(builds.len(), 1, "{kept}");
    assert_eq!(builds[0]["build"], 1, "{kept}");
    assert_eq!(builds[0]["values"][0][1], tag.as_str(), "{kept}");
    let pad = kept["etherpad"]["pads"][format!("amo-{}", today())]
        .as_str()
        .unwrap_or_else(|| panic!("{kept}"));
    assert!(pad.contains(&tag), "{pad}");
}

/// Today in the bundled runbook's timezone, as `YYYY-MM-DD`.
fn today() -> String {
    let tz: chrono_tz::Tz = "America/Los_Angeles".parse().unwrap();
    chrono::Utc::now()
        .with_timezone(&tz)
        .format("%Y-%m-%d")
        .to_string()
}

/// The sandbox's one journal.
fn journal_of(dir: &Path) -> std::path::PathBuf {
    journal_in(dir, "amo-weekly-push")
}

/// The sandbox's one journal of the runbook whose slug is `slug`.
fn journal_in(dir: &Path, slug: &str) -> std::path::PathBuf {
    journal_under(&dir.join("state"), slug)
}

/// The journal of the push of runbook `slug` in the state dir `state`.
fn journal_under(state: &Path, slug: &str) -> std::path::PathBuf {
    std::fs::read_dir(state.join("sessions").join(slug))
        .unwrap()
        .flatten()
        .map(|d| d.path().join("journal.jsonl"))
        .next()
        .unwrap()
}

/// Output `key` of each time `step` was done, from the journal, as text.
fn step_outputs(journal: &Path, step: &str, key: &str) -> Vec<String> {
    std::fs::read_to_string(journal)
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["step"] == step && v["to"] == "done")
        .filter_map(|v| v["outputs"][key].as_str().map(str::to_string))
        .collect()
}

/// The words of a line quoted as the rehearsal quotes (single quotes, `'\''` for a quote).
fn shell_words(line: &str) -> Vec<String> {
    let (mut words, mut word, mut quoted, mut any) = (Vec::new(), String::new(), false, false);
    for c in line.chars() {
        match c {
            '\'' => (quoted, any) = (!quoted, true),
            '\\' if !quoted => {}
            ' ' if !quoted => {
                if any {
                    words.push(std::mem::take(&mut word));
                }
                any = false;
            }
            c => {
                word.push(c);
                any = true;
            }
        }
    }
    if any {
        words.push(word);
    }
    words
}

#[test]
fn a_blocker_is_cherry_picked_and_the_push_retagged_minus_one() {
    let env = Env::new();
    let (out, sandbox, took) = rehearse(&env, "blocker");
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    assert!(took < Duration::from_secs(60), "took {took:?}");
    let tag = todays_tag();
    let tags = remote_tags(sandbox.path());
    assert!(tags.contains(&tag), "{tags:?}");
    assert!(tags.contains(&format!("{tag}-1")), "{tags:?}");
    assert!(
        text.contains("hero: pushduty do strategy --reopen"),
        "{text}"
    );
    let report = text
        .split("# The push as it happened")
        .nth(1)
        .unwrap_or_default();
    assert!(
        report.contains("Search crashes for add-ons without a current version"),
        "{report}"
    );
    assert!(report.contains(&format!("{tag}-1")), "{report}");
    // Stage runs the re-tag: the deploy built it.
    assert!(text.contains(&format!("Deploying {tag}-1 to")), "{text}");
    // The finding: resumed from its folder, the rehearsal landed the fix on upstream again
    // at each resume. It lands once; the resumed push is already done.
    let dir = sandbox.path().join("sandbox");
    let again = rehearse_in(&env, "blocker", &dir, &QUICK_SENTRY);
    assert_eq!(again.status.code(), Some(0), "{}", said(&again));
    assert_eq!(fixes_on_master(sandbox.path()), 1);
}

/// How many commits on the sandbox remote's master are the blocker's fix.
fn fixes_on_master(sandbox: &Path) -> usize {
    support::gitrepo::isolate_libgit2();
    let bare = git2::Repository::open_bare(sandbox.join("sandbox/upstream.git")).unwrap();
    let mut walk = bare.revwalk().unwrap();
    walk.push(bare.refname_to_id("refs/heads/master").unwrap())
        .unwrap();
    walk.filter(|oid| {
        let c = bare.find_commit(*oid.as_ref().unwrap()).unwrap();
        c.summary().unwrap() == Some(pushduty::rehearse::sandbox::FIX_SUBJECT)
    })
    .count()
}

#[test]
fn a_failed_deploy_is_retried_and_the_push_goes_on() {
    let env = Env::new();
    let (out, _sandbox, took) = rehearse(&env, "failed-deploy");
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    assert!(took < Duration::from_secs(60), "took {took:?}");
    let failed = text
        .find("✗ deploy-stage failed")
        .unwrap_or_else(|| panic!("{text}"));
    let retried = text
        .find("✓ deploy-stage done")
        .unwrap_or_else(|| panic!("{text}"));
    assert!(failed < retried, "{text}");
    assert!(text.contains("Finished: FAILURE"), "{text}");
    assert!(text.contains("Finished: SUCCESS"), "{text}");
    let report = text
        .split("# The push as it happened")
        .nth(1)
        .unwrap_or_default();
    assert!(report.contains("failed"), "{report}");
}

#[test]
fn an_error_spike_after_the_push_fails_the_health_check() {
    let env = Env::new();
    let (out, sandbox, took) = rehearse(&env, "spike");
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    assert!(took < Duration::from_secs(60), "took {took:?}");
    assert!(text.contains("✗ watch-sentry failed"), "{text}");
    assert!(
        text.contains("TypeError: 'NoneType' object is not subscriptable"),
        "{text}"
    );
    // The hero looks at the graphs too: the server errors rose.
    assert!(text.contains("hero: pushduty do watch-graphite"), "{text}");
    let all = said(&out);
    assert!(
        all.contains("fail: 1 of 2 series failed (server errors)"),
        "{all}"
    );
    // It ends with what the hero does next: who to tell, with the issue, and how to roll back
    // (to last week's tag, which production ran before).
    let next = text
        .split("# What the hero does next")
        .nth(1)
        .unwrap_or_else(|| panic!("no next steps at the end: {text}"));
    assert!(next.contains("1. Tell Jason (ops) now"), "{next}");
    assert!(next.contains("/organizations/mkt/issues/4187/"), "{next}");
    let tz: chrono_tz::Tz = "America/Los_Angeles".parse().unwrap();
    let last_week = (chrono::Utc::now().with_timezone(&tz) - chrono::Duration::days(7))
        .format("%Y.%m.%d")
        .to_string();
    assert!(
        next.contains(&format!(
            "puts last week's tag {last_week} back in production"
        )),
        "{next}"
    );
    // Resumed, the spike is not played again: the kept Sentry has its issue once, Graphite
    // its one jump.
    let dir = sandbox.path().join("sandbox");
    let again = rehearse_in(&env, "spike", &dir, &QUICK_SENTRY);
    assert!(
        stdout(&again).contains("reused; the rehearsal goes on"),
        "{}",
        said(&again)
    );
    let kept: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("standins.json")).unwrap()).unwrap();
    let spiked = kept["sentry"]["issues"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["id"] == 4187)
        .count();
    assert_eq!(spiked, 1, "{kept}");
    assert_eq!(
        kept["graphite"]["spikes"].as_array().unwrap().len(),
        1,
        "{kept}"
    );
    assert_eq!(kept["events"]["spiked"], true, "{kept}");
}

#[test]
fn a_folder_that_is_not_a_sandbox_is_refused() {
    let env = Env::new();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "mine").unwrap();
    let out = env.run(&["rehearse", "--auto", "--dir", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    assert!(stderr(&out).contains("is not empty and is not a rehearsal sandbox"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("notes.txt")).unwrap(),
        "mine"
    );
}

/// `releases` rehearses the 2026 runbook's two repos: a runbook without them is refused
/// before any sandbox is made.
#[test]
fn a_releases_rehearsal_of_a_runbook_without_its_two_repos_is_refused() {
    let env = Env::new();
    let dir = tempfile::tempdir().unwrap();
    let sandbox = dir.path().join("sandbox");
    let runbook = support::cli::root().join("runbooks/amo-push.toml");
    let out = env.run(&[
        "--runbook",
        runbook.to_str().unwrap(),
        "rehearse",
        "--auto",
        "--scenario",
        "releases",
        "--dir",
        sandbox.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    assert!(
        stderr(&out).contains("with the repos `server` and `frontend`"),
        "{}",
        said(&out)
    );
    assert!(!sandbox.exists(), "no sandbox made");
}

/// A sandbox named by a relative `--dir` keeps working from another folder: its config names
/// its paths in full.
#[test]
fn a_relative_sandbox_resumes_from_another_folder() {
    let env = Env::new();
    let base = tempfile::tempdir().unwrap();
    let out = env
        .cmd()
        .current_dir(base.path())
        .args(QUICK_SENTRY)
        .args(["rehearse", "--auto", "--dir", "rel"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    let config = std::fs::read_to_string(base.path().join("rel/config.toml")).unwrap();
    assert!(
        config.contains(&base.path().join("rel").display().to_string()),
        "{config}"
    );
    // Again, from elsewhere, by its full path: the same sandbox, the push already done.
    let full = base.path().join("rel");
    let again = rehearse_in(&env, "normal", &full, &QUICK_SENTRY);
    assert_eq!(again.status.code(), Some(0), "{}", said(&again));
}

/// The finding: a kept rehearsal quit after the deploy and started again had stand-ins that
/// had forgotten the build, so `verify-stage` polled "nothing deployed yet" until it failed.
/// Resumed now, stage runs the tag at once and the Jenkins pane lists the same build.
#[test]
fn a_kept_rehearsal_quit_after_the_deploy_resumes_with_its_build() {
    use crate::e2e_tmux::{Tmux, need_tmux};
    need_tmux();
    let env = Env::new();
    let sandbox = tempfile::tempdir().unwrap();
    let dir = sandbox.path().join("sandbox");
    let args = ["rehearse", "--dir", dir.to_str().unwrap()];
    let t = Tmux::new("resume");
    let first = "first";
    t.start(&env, first, &args);
    // Runs the step the status line names: Enter, `y`, Enter for any prompt.
    let run = |w: &str, step: &str, prompts: usize| {
        t.wait_for(w, &format!("next: {step}"));
        t.keys(w, &["Enter"]);
        t.wait_for(w, &format!("Run {step}?"));
        t.keys(w, &["y"]);
        for _ in 0..prompts {
            t.wait_for(w, &format!("{step} ("));
            t.keys(w, &["Enter"]);
        }
        t.wait_for(w, &format!("done: {step}"))
    };
    run(first, "check-rotation", 1);
    for step in [
        "fetch",
        "strategy",
        "tag-master",
        "push-tag",
        "compare",
        "compare-tell",
    ] {
        run(first, step, usize::from(step == "strategy"));
    }
    run(first, "notes-compare", 0);
    run(first, "deploy-stage", 0);
    let tag = todays_tag();
    let s = t.wait_for(first, &format!("#1 {tag} SUCCESS"));
    let build = s
        .lines()
        .find_map(|l| l.split(&format!("#1 {tag} SUCCESS")).nth(1))
        .map(|rest| format!("#1 {tag} SUCCESS{}", rest.split('│').next().unwrap_or("")))
        .unwrap_or_default();
    // The operator is named as a person is: the header never says "hero hero".
    assert!(!s.contains("hero hero"), "{s}");
    t.keys(first, &["q"]);
    t.wait_for(first, "EXIT=");

    let second = "second";
    t.start(&env, second, &args);
    t.wait_for(second, "next: verify-stage");
    // The Jenkins pane reads in the background: it shows the same build once it has read.
    assert!(
        !build.trim_end().is_empty(),
        "no build line on the first screen"
    );
    t.wait_for(second, build.trim_end());
    let began = Instant::now();
    run(second, "verify-stage", 0);
    assert!(
        began.elapsed() < Duration::from_secs(10),
        "stage ran {tag} at once: {:?}",
        began.elapsed()
    );
    let s = t.screen(second);
    assert!(
        s.contains(build.trim_end()),
        "the same build: `{build}`\n{s}"
    );
    assert!(!s.contains(&format!("#2 {tag}")), "no second build: {s}");
    t.keys(second, &["q"]);
}

/// A team whose channel is on Slack rehearses too: its posts go to the Slack stand-in's
/// channel (with a bot token made up for the rehearsal), never to the team's, and the
/// rehearsal ends with what that channel read. The token the environment holds is not used.
#[test]
fn a_runbook_telling_slack_rehearses_against_the_slack_stand_in() {
    let env = Env::new();
    let root = support::cli::root();
    for dir in ["runbooks", "templates"] {
        std::fs::create_dir_all(env.path().join(dir)).unwrap();
    }
    for t in ["push-notes.md", "push-email.txt"] {
        std::fs::copy(
            root.join("templates").join(t),
            env.path().join("templates").join(t),
        )
        .unwrap();
    }
    let text = std::fs::read_to_string(root.join("runbooks/amo-push.toml")).unwrap();
    let matrix = "[services.channel]\nkind = \"matrix\"\nurl = \"https://mozilla.modular.im\"\nroom = \"!amo-push-channel:mozilla.org\"\ntoken = { env = \"PUSHDUTY_MATRIX_TOKEN\" }";
    assert!(text.contains(matrix), "the bundled channel changed");
    let slack = "[services.channel]\nkind = \"slack\"\nchannel = \"C0AMOPUSH\"\ntoken = { env = \"PUSHDUTY_SLACK_TOKEN\" }";
    let rb = env.path().join("runbooks/amo-slack.toml");
    std::fs::write(&rb, text.replace(matrix, slack)).unwrap();
    let sandbox = env.path().join("sandbox");
    let out = env
        .cmd()
        .env("PUSHDUTY_SLACK_TOKEN", "xoxb-the-teams-real-token")
        .args([&format!("--runbook={}", rb.display())])
        .args(QUICK_SENTRY)
        .args(["rehearse", "--auto", "--dir", sandbox.to_str().unwrap()])
        .output()
        .unwrap();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    let read = text
        .split("## What the channel read")
        .nth(1)
        .unwrap_or_else(|| panic!("no channel: {text}"));
    let tag = todays_tag();
    assert!(
        read.contains(&format!("(Slack): pushing {tag} on ")),
        "{read}"
    );
    assert!(
        read.contains(&format!("(Slack): push {tag} done;")),
        "{read}"
    );
    assert!(read.contains("topic (Slack): next push "), "{read}");
    assert!(
        text.contains("`channel`: the team reads Slack channel C0AMOPUSH (here C0REHEARSAL"),
        "{text}"
    );
    assert!(!said(&out).contains("xoxb-the-teams-real-token"));
    let config = std::fs::read_to_string(sandbox.join("config.toml")).unwrap();
    assert!(
        config.contains("[services.channel]\ntoken = { env = \"PUSHDUTY_REHEARSAL_SLACK_TOKEN\" }"),
        "{config}"
    );
}

/// The tags of a bare remote of the sandbox.
fn tags_of(bare: &Path) -> Vec<String> {
    support::gitrepo::isolate_libgit2();
    let bare = git2::Repository::open_bare(bare).unwrap();
    let names = bare.tag_names(None).unwrap();
    names
        .iter()
        .flatten()
        .flatten()
        .map(str::to_string)
        .collect()
}

/// The journal's entries of one `event`.
fn events(journal: &Path, event: &str) -> Vec<serde_json::Value> {
    std::fs::read_to_string(journal)
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["event"] == event)
        .collect()
}

/// The 2026 runbook rehearsed by its hero: the previous hero's drafts are published once
/// each, their one-off items become items of the push and are done, the blocker's fix ships
/// as the server's `-1` (tagged on the cherry-pick, pushed, released once), the topic is set
/// once, and the closing summary says what each release became.
#[test]
fn a_releases_rehearsal_publishes_each_draft_once_and_ships_the_fix_as_minus_one() {
    let env = Env::new();
    let (out, sandbox, took) = rehearse(&env, "releases");
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    assert!(took < Duration::from_secs(60), "took {took:?}");
    let tag = todays_tag();
    let minus_one = format!("{tag}-1");
    let dir = sandbox.path().join("sandbox");

    // What the releases became: each published once, the next hero's drafts left as drafts.
    let summary = text
        .split("## What the releases became")
        .nth(1)
        .unwrap_or_default();
    let line = |repo: &str, t: &str| {
        let starts = format!("- mozilla/{repo} {t}: ");
        let lines: Vec<&str> = summary.lines().filter(|l| l.starts_with(&starts)).collect();
        assert_eq!(lines.len(), 1, "one release of {repo} {t}: {summary}");
        lines[0].to_string()
    };
    assert!(
        line("addons-server", &tag).contains("published once; its tag is at"),
        "{summary}"
    );
    assert!(
        line("addons-server", &tag).contains("2 of its 2 one-off items ticked"),
        "{summary}"
    );
    assert!(
        line("addons-frontend", &tag).contains("published once"),
        "{summary}"
    );
    assert!(
        line("addons-frontend", &tag).contains("1 of its 1 one-off items ticked"),
        "{summary}"
    );
    assert!(
        line("addons-server", &minus_one).contains("published once"),
        "{summary}"
    );
    let next: Vec<&str> = summary.lines().filter(|l| l.contains("a draft")).collect();
    assert_eq!(
        next.len(),
        2,
        "the next push's drafts, one per repo: {summary}"
    );

    // The tags: made by publishing, and the `-1` at the cherry-pick, on the remotes.
    let server = tags_of(&dir.join("addons-server.git"));
    assert!(
        server.contains(&tag) && server.contains(&minus_one),
        "{server:?}"
    );
    assert!(tags_of(&dir.join("addons-frontend.git")).contains(&tag));
    let journal = journal_in(&dir, "amo-push-releases-every-other-week");
    let done = |step: &str| {
        events(&journal, "step")
            .iter()
            .filter(|e| e["step"] == step && e["to"] == "done")
            .count()
    };
    assert_eq!(done("cherry-pick-server"), 1, "one cherry-pick");
    assert_eq!(
        step_outputs(&journal, "tag-server-picks", "tag_name"),
        std::slice::from_ref(&minus_one)
    );
    // The `-1` keeps the checks of its pick, as its confirmation showed them.
    let tagged = events(&journal, "step");
    let tagged = tagged
        .iter()
        .find(|e| e["step"] == "tag-server-picks" && e["to"] == "done")
        .unwrap();
    let checks = tagged["outputs"]["pick_checks"].as_array().unwrap();
    assert!(
        checks
            .iter()
            .any(|c| c["ok"] == true && c["text"].as_str().unwrap().contains("oldest first")),
        "{checks:?}"
    );
    // The pushed `-1` is GitHub's tag already when its release is drafted: none is made.
    assert!(
        text.contains(&format!("tag: {minus_one} (on GitHub already, at ")),
        "{text}"
    );
    assert!(
        text.contains("hero: pushduty do strategy-server --reopen"),
        "{text}"
    );
    // Stage ran the release last published: the `-1`.
    let stage = step_outputs(&journal, "verify-stage", "http_body");
    assert!(
        stage.last().is_some_and(|b| b.contains(&minus_one)),
        "{stage:?}"
    );

    // The one-off items: each added once, each done.
    let items = events(&journal, "item");
    let texts: Vec<&str> = items.iter().filter_map(|i| i["text"].as_str()).collect();
    assert_eq!(texts.len(), 3, "{texts:?}");
    assert!(
        texts
            .iter()
            .any(|t| t.contains("./manage.py addnewversion firefox '109.0'"))
    );
    // The command ran in the server's checkout.
    assert!(
        text.contains("manage.py addnewversion firefox 109.0: done (rehearsal)"),
        "{text}"
    );
    for item in &items {
        let id = item["id"].as_str().unwrap();
        assert_eq!(done(id), 1, "{id} ({}) is done once", item["text"]);
    }

    // The channel: each release told once, the promotion once, one topic.
    let channel = text
        .split("## What the channel read")
        .nth(1)
        .unwrap_or_default();
    let count = |needle: &str| channel.matches(needle).count();
    assert_eq!(
        count(&format!("published addons-server {minus_one}:")),
        1,
        "{channel}"
    );
    assert_eq!(count("promoting server"), 1, "{channel}");
    assert_eq!(count("topic: "), 1, "{channel}");
    assert!(
        channel.contains(&format!("topic: AMO: pushed {minus_one}")),
        "{channel}"
    );

    // The bodies as GitHub keeps them: each item ticked with who and when, once.
    let kept: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("standins.json")).unwrap()).unwrap();
    let bodies: Vec<&str> = kept["github"]["releases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["tag_name"] == tag.as_str())
        .filter_map(|r| r["body"].as_str())
        .collect();
    let ticked = |item: &str| {
        let line = format!("- [x] {item} (done by ");
        bodies
            .iter()
            .map(|b| b.matches(&line).count())
            .sum::<usize>()
    };
    assert_eq!(
        ticked("Run `./manage.py addnewversion firefox '109.0'` on the server"),
        1,
        "{bodies:?}"
    );
    assert_eq!(
        ticked("Tell the add-ons reviewers that Firefox 109 is listed"),
        1
    );
    assert_eq!(
        ticked("Check the new recommended themes on stage with the frontend's QA"),
        1
    );
    assert!(!bodies.iter().any(|b| b.contains("- [ ]")), "{bodies:?}");

    // Resumed from its folder: GitHub has its releases as they were, no draft is seeded again.
    let again = rehearse_in(&env, "releases", &dir, &QUICK_SENTRY);
    assert_eq!(again.status.code(), Some(0), "{}", said(&again));
    let releases = |text: &str| -> Vec<String> {
        let summary = text.split("## What the releases became").nth(1);
        let lines = summary.unwrap_or_default().lines();
        lines
            .filter(|l| l.starts_with("- mozilla/"))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(releases(&stdout(&again)), releases(&text));
}

/// The push is the team's: the first hero drives to the production push; the next hero, on a
/// state dir of their own, follows it from the sandbox's push log, takes it over with a
/// reason and drives to the end. One tag, one deploy, one announcement; the first hero's
/// step after the takeover is refused; the log says who drove what.
#[test]
fn a_handover_at_the_production_push_ends_with_one_tag_one_deploy_one_announcement() {
    let env = Env::new();
    let (out, sandbox, _) = rehearse(&env, "handover");
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    let once = text
        .split("## What happened once")
        .nth(1)
        .unwrap_or_default();
    for line in [
        "- tags of this push on the remote: 1",
        "- deploys triggered in Jenkins: 1",
        "- announcements sent: 1",
    ] {
        assert!(once.contains(line), "{line}: {once}");
    }
    let tag = todays_tag();
    assert_eq!(
        remote_tags(sandbox.path())
            .iter()
            .filter(|t| t.starts_with(&tag))
            .count(),
        1
    );
    // The follower saw the first hero driving, then took the seat with a reason.
    assert!(
        text.contains("kumar (another machine): pushduty follow"),
        "{text}"
    );
    assert!(
        text.contains("took in ") && text.contains("line(s) of the team's push log"),
        "{text}"
    );
    let refused = said(&out);
    assert!(
        refused.contains("`production-push` was not run: kumar on ")
            && refused.contains("took over: the production push is on my shift"),
        "{refused}"
    );
    // The log's view at the end: kumar drives, the production push is his, the tag the
    // first hero's, under the first hero's tag name (not a `-1` of kumar's own).
    let log = text
        .split("## The push as the team's log has it")
        .nth(1)
        .unwrap_or_default();
    assert!(log.contains("driver: kumar on "), "{log}");
    let line = |id: &str| {
        log.lines()
            .find(|l| l.split_whitespace().nth(1) == Some(id))
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        line("tag-master").contains(&format!("Tag master as {tag} ")),
        "{log}"
    );
    assert!(!line("tag-master").contains("kumar"), "{log}");
    assert!(line("production-push").contains("kumar on "), "{log}");
    assert!(line("announce").starts_with("  done"), "{log}");
    assert!(
        !text.contains("had to run again"),
        "nothing went stale: {text}"
    );
    // kumar's journal: the log's lines taken in after one marker, with the push's tags.
    let dir = sandbox.path().join("sandbox");
    let next = journal_under(&dir.join("state-next"), "amo-weekly-push");
    let imported = events(&next, "imported");
    assert_eq!(imported.len(), 1, "{imported:?}");
    assert_eq!(imported[0]["tags"]["olympia"], tag.as_str());
}
