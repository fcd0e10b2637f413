//! `pushduty rehearse --auto` through the binary: each scenario's whole push against the
//! in-process stand-ins, in a kept sandbox (`--dir`) so the git remote, the mail and the
//! journal can be looked at afterwards.

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use crate::support;
use crate::support::cli::{Env, stderr, stdout};

fn rehearse(env: &Env, scenario: &str) -> (Output, tempfile::TempDir, Duration) {
    let sandbox = tempfile::tempdir().unwrap();
    let dir = sandbox.path().join("sandbox");
    let began = Instant::now();
    let out = env.run(&[
        "rehearse",
        "--auto",
        "--scenario",
        scenario,
        "--dir",
        dir.to_str().unwrap(),
    ]);
    (out, sandbox, began.elapsed())
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
    support::gitrepo::isolate_libgit2();
    let bare = git2::Repository::open_bare(sandbox.join("sandbox/upstream.git")).unwrap();
    let names = bare.tag_names(None).unwrap();
    names
        .iter()
        .flatten()
        .flatten()
        .map(str::to_string)
        .collect()
}

fn said(out: &Output) -> String {
    format!("--- stdout\n{}\n--- stderr\n{}", stdout(out), stderr(out))
}

#[test]
fn a_normal_rehearsal_does_every_step_and_mails_the_sandbox() {
    let env = Env::new();
    let (out, sandbox, took) = rehearse(&env, "normal");
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    assert!(took < Duration::from_secs(60), "took {took:?}");
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
    // Secrets are named in the config, never written.
    let config = std::fs::read_to_string(sandbox.path().join("sandbox/config.toml")).unwrap();
    assert!(config.contains(r#"token = { env = "PUSHDUTY_REHEARSAL_JENKINS_TOKEN" }"#));
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

    // The same sandbox again: its stand-ins come back on the ports they had, so the steps
    // whose actions name their URLs are found done, and nothing runs a second time.
    let dir = sandbox.path().join("sandbox");
    let again = env.run(&[
        "rehearse",
        "--auto",
        "--scenario",
        "normal",
        "--dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(again.status.code(), Some(0), "{}", said(&again));
    let loopback = |t: &str| {
        t.lines()
            .find(|l| l.starts_with("Stand-ins on loopback:"))
            .map(str::to_string)
            .unwrap_or_default()
    };
    assert_eq!(loopback(&stdout(&again)), loopback(&text));
    let journal = std::fs::read_dir(dir.join("state/sessions/amo-weekly-push"))
        .unwrap()
        .flatten()
        .map(|d| d.path().join("journal.jsonl"))
        .next()
        .unwrap();
    let starts = std::fs::read_to_string(journal)
        .unwrap()
        .lines()
        .filter(|l| l.contains(r#""step":"deploy-stage""#) && l.contains(r#""to":"running""#))
        .count();
    assert_eq!(starts, 1, "the deploy ran once: {}", stdout(&again));
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
    let again = env.run(&[
        "rehearse",
        "--auto",
        "--scenario",
        "blocker",
        "--dir",
        dir.to_str().unwrap(),
    ]);
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
    let (out, _sandbox, took) = rehearse(&env, "spike");
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

/// A sandbox named by a relative `--dir` keeps working from another folder: its config names
/// its paths in full.
#[test]
fn a_relative_sandbox_resumes_from_another_folder() {
    let env = Env::new();
    let base = tempfile::tempdir().unwrap();
    let out = env
        .cmd()
        .current_dir(base.path())
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
    let again = env.run(&["rehearse", "--auto", "--dir", full.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(0), "{}", said(&again));
}
