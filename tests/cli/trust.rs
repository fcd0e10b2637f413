//! A push state you can trust, through the real binary on real repositories: "done" is bound
//! to what was done, a stale or diverged branch is not tagged, the journal is the truth, and
//! one process acts at a time.

use std::io::Write;

use serde_json::Value;

use crate::support;
use crate::support::cli::{Env, stderr, stdout};
use crate::support::gitrepo::git;
use crate::support::push::Push;

/// A push whose previous release is `2015.09.03`, with a fix and unfinished work on main
/// (pushed, not fetched yet by pushduty).
fn with_release(p: &Push) -> (String, String) {
    git(&p.repo.work, &["tag", "2015.09.03", "HEAD"]);
    git(&p.repo.work, &["push", "-q", "origin", "2015.09.03"]);
    let fix = p.repo.commit("a.txt", "a\n", "Fix one");
    let wip = p.repo.commit("wip.txt", "wip\n", "Unfinished feature");
    git(&p.repo.work, &["push", "-q", "origin", "main"]);
    (fix, wip)
}

fn step<'a>(show: &'a Value, id: &str) -> &'a Value {
    show["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("no step {id} in {show}"))
}

#[test]
fn a_re_tag_makes_the_push_and_the_approval_of_the_old_tag_run_again() {
    let p = Push::new();
    let (fix, _) = with_release(&p);
    p.ok(&["fetch"]);
    p.ok(&["strategy", "--input", "strategy=cherry_pick"]);
    // Asked without the commits, it lists those it could pick, oldest first.
    let out = p.run(&["do", "pick", "--yes"]);
    assert_eq!(out.status.code(), Some(2));
    let said = stderr(&out);
    let want = format!(
        "on main since 2015.09.03 (the release production runs now), oldest first:\n    {}  Fix one — Fixture Author\n    {}  Unfinished feature — Fixture Author\n",
        &fix[..7],
        &p.repo.rev("main")[..7]
    );
    assert!(said.contains(&want), "{said}");
    let out = p.ok(&["pick", "--input", &format!("commits={}", &fix[..8])]);
    assert!(
        out.contains("starting from 2015.09.03 (the release production runs now)"),
        "{out}"
    );
    p.ok(&["tag-picks"]);
    p.ok(&["push"]);
    p.ok(&["qa", "--input", "approved_by=krupa"]);
    let first = p.repo.rev("2015.09.10");

    // A blocker: its fix lands; every pick is listed again, as people do.
    let fix2 = p.repo.commit("b.txt", "b\n", "Fix the blocker");
    let out = p.ok(&[
        "pick",
        "--reopen",
        "blocker on stage",
        "--input",
        &format!("commits={} {}", &fix[..8], &fix2[..8]),
    ]);
    assert!(
        out.contains("starting from 2015.09.10 (this push's newest tag)"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "left out {}: its change is there already",
            &fix[..7]
        )),
        "{out}"
    );
    // The tag of the old picks is not the tag of these: it must run again, and says why.
    let show = p.show();
    assert_eq!(step(&show, "tag-picks")["status"], "pending");
    assert!(
        step(&show, "tag-picks")["stale_reason"]
            .as_str()
            .unwrap()
            .starts_with("done as \"tag the cherry-picks ("),
        "{show}"
    );
    // The push still claims nothing new until the re-tag exists.
    assert_eq!(step(&show, "push")["status"], "done");

    let out = p.ok(&["tag-picks"]);
    assert!(out.contains("tagging 2015.09.10-1"), "{out}");
    assert_eq!(p.repo.rev("2015.09.10"), first, "never moved");
    let show = p.show();
    assert_eq!(show["tags"]["app"], "2015.09.10-1");
    for id in ["push", "qa"] {
        let s = step(&show, id);
        assert_eq!(s["status"], "pending", "{id}: {s}");
        assert_eq!(
            s["stale_reason"], "done for 2015.09.10; this push is now 2015.09.10-1",
            "{id}"
        );
    }
    assert_eq!(
        step(&show, "push")["action"],
        "push refs/tags/2015.09.10-1:refs/tags/2015.09.10-1 to origin"
    );
    assert_eq!(step(&show, "qa")["title"], "QA approves 2015.09.10-1");
    // `do` runs the push of the new tag: the remote gets it.
    let out = p.ok(&["push"]);
    assert!(out.contains("pushed 2015.09.10-1"), "{out}");
    assert_eq!(
        p.repo.remote_rev("refs/tags/2015.09.10-1"),
        Some(p.repo.rev("2015.09.10-1"))
    );
    // The journal says what each did, and why the push ran twice.
    let j = p.journal();
    let pushes: Vec<&str> = j
        .iter()
        .filter(|e| e["step"] == "push" && e["to"] == "done")
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        pushes,
        [
            "push refs/tags/2015.09.10:refs/tags/2015.09.10 to origin",
            "push refs/tags/2015.09.10-1:refs/tags/2015.09.10-1 to origin"
        ]
    );
    assert!(j.iter().any(|e| e["step"] == "push"
        && e["stale"] == true
        && e["reason"] == "done for 2015.09.10; this push is now 2015.09.10-1"));

    // Master after all: the next free revision, never a dead end, never a moved tag.
    git(&p.repo.work, &["push", "-q", "origin", "main"]);
    p.ok(&[
        "strategy",
        "--reopen",
        "the feature is finished after all",
        "--input",
        "strategy=master",
    ]);
    let out = p.ok(&["tag-main"]);
    assert!(out.contains("tagging 2015.09.10-2"), "{out}");
    assert_eq!(p.repo.rev("2015.09.10-2"), p.repo.rev("main"));
}

#[test]
fn a_diverged_branch_is_not_tagged_unless_overridden_with_a_reason() {
    let p = Push::new();
    with_release(&p);
    p.repo.commit("local.txt", "mine\n", "Only on my machine");
    p.repo
        .remote_commit("theirs.txt", "theirs\n", "A teammate's change");
    let out = p.run(&["do", "fetch", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    p.ok(&["strategy", "--input", "strategy=master"]);
    let out = p.refused(&["tag-main"]);
    assert!(
        out.contains("main and origin/main have diverged (1 local commit, 1 remote commit)"),
        "{out}"
    );
    assert!(out.contains("pass --override REASON"), "{out}");
    assert!(
        p.repo.remote_rev("refs/tags/2015.09.10").is_none()
            && git(&p.repo.work, &["tag", "-l", "2015.09.10"]).is_empty(),
        "nothing tagged"
    );
    let out = p.ok(&["tag-main", "--override", "the local commit is the hotfix"]);
    assert!(out.contains("tagged 2015.09.10"), "{out}");
    let j = p.journal();
    assert!(
        j.iter().any(|e| e["step"] == "tag-main"
            && e["to"] == "running"
            && e["reason"] == "preconditions overridden: the local commit is the hotfix"),
        "{j:?}"
    );
    // The failed fetch said why, in the journal.
    assert!(
        j.iter().any(|e| e["step"] == "fetch"
            && e["to"] == "failed"
            && e["reason"].as_str().unwrap().contains("diverged")),
        "{j:?}"
    );
}

#[test]
fn a_stale_dirty_branch_is_not_tagged() {
    let p = Push::new();
    with_release(&p);
    p.repo
        .remote_commit("theirs.txt", "theirs\n", "A teammate's change");
    std::fs::write(p.repo.work.join("README"), "edited\n").unwrap();
    let out = p.run(&["do", "fetch", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    p.ok(&["strategy", "--input", "strategy=master"]);
    let out = p.refused(&["tag-main"]);
    assert!(
        out.contains("main is 1 commit behind origin/main: tagging it would ship a stale main"),
        "{out}"
    );
    assert!(
        out.contains("1 uncommitted file(s) in the checkout: they are not part of the tag"),
        "{out}"
    );
}

#[test]
fn a_push_that_ships_nothing_says_so_and_is_not_made() {
    let p = Push::new();
    // Tagged last week at the tip: nothing new since.
    git(&p.repo.work, &["tag", "2015.09.03", "HEAD"]);
    p.ok(&["fetch"]);
    p.ok(&["strategy", "--input", "strategy=master"]);
    let out = p.refused(&["tag-main"]);
    assert!(
        out.contains("it ships nothing") && out.contains("the commit of 2015.09.03"),
        "{out}"
    );
    // Tagged by hand anyway: the push refuses the same way.
    git(&p.repo.work, &["tag", "2015.09.10", "HEAD"]);
    p.ok(&["tag-main", "--override", "a rebuild of last week's release"]);
    let out = p.refused(&["push"]);
    assert!(out.contains("it ships nothing"), "{out}");
    assert!(p.repo.remote_rev("refs/tags/2015.09.10").is_none());
}

#[test]
fn a_lost_or_corrupt_session_file_is_rebuilt_from_the_journal() {
    let p = Push::new();
    with_release(&p);
    p.ok(&["fetch"]);
    p.ok(&["strategy", "--input", "strategy=master"]);
    p.ok(&["tag-main"]);
    let tagged = p.repo.rev("2015.09.10");
    for (damage, said) in [
        (None, "was missing"),
        (Some("{ not json"), "was unreadable"),
    ] {
        let cache = p.dir().join("session.json");
        match damage {
            None => std::fs::remove_file(&cache).unwrap(),
            Some(text) => std::fs::write(&cache, text).unwrap(),
        }
        let out = p.refused(&["tag-main"]);
        assert!(out.contains(&format!("session.json {said}")), "{out}");
        assert!(out.contains("it is done"), "{out}");
        assert_eq!(p.repo.rev("2015.09.10"), tagged);
        assert!(git(&p.repo.work, &["tag", "-l", "2015.09.10-*"]).is_empty());
        assert_eq!(p.session()["steps"]["tag-main"]["status"]["state"], "done");
    }
}

#[test]
fn a_torn_last_line_is_skipped_and_never_glued_to_the_next() {
    let p = Push::new();
    with_release(&p);
    p.ok(&["fetch"]);
    let path = p.dir().join("journal.jsonl");
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    f.write_all(br#"{"time":"2015-09-08T10:00:00Z","operator":"te"#)
        .unwrap();
    drop(f);
    let out = p.ok(&["strategy", "--input", "strategy=master"]);
    assert!(out.contains("its last line was cut short"), "{out}");
    let text = std::fs::read_to_string(&path).unwrap();
    let bad: Vec<&str> = text
        .lines()
        .filter(|l| serde_json::from_str::<Value>(l).is_err())
        .collect();
    assert_eq!(bad.len(), 1, "only the torn line: {bad:?}");
    let out = p.run(&["show"]);
    assert!(stderr(&out).contains("skipped a line that is not a journal entry"));
    assert!(stdout(&out).contains("[x] strategy"), "{}", stdout(&out));
}

#[test]
fn history_names_an_unreadable_session_and_lists_the_others() {
    let p = Push::new();
    with_release(&p);
    p.ok(&["fetch"]);
    let broken = p.env.path().join("state/sessions/git-push/2015-09-03");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(broken.join("journal.jsonl"), "garbage\n").unwrap();
    let out = p.run(&["history"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("2015-09-10  Git push"), "{text}");
    assert!(text.contains("unreadable"), "{text}");
    let out = p.run(&["history", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let v = &v["sessions"];
    assert_eq!(v[0]["error"], Value::Null);
    assert!(
        v[1]["error"]
            .as_str()
            .unwrap()
            .contains("2015-09-03/journal.jsonl: the journal has no readable entry"),
        "{v}"
    );
}

#[test]
fn show_lists_every_step_with_what_it_did_or_will_do() {
    let p = Push::new();
    with_release(&p);
    p.ok(&["fetch"]);
    p.ok(&[
        "strategy",
        "--input",
        "strategy=master",
        "--note",
        "a quiet week",
    ]);
    let show = p.show();
    assert_eq!(show["runbook"], "Git push");
    assert_eq!(show["push_date"], "2015-09-10");
    assert_eq!(show["operator"], "tester");
    assert_eq!(show["tags"]["app"], "2015.09.10");
    let s = step(&show, "strategy");
    assert_eq!(s["status"], "done");
    assert_eq!(s["by"], "tester");
    assert!(s["at"].is_string());
    assert_eq!(s["note"], "a quiet week");
    assert_eq!(s["outputs"]["strategy"], "master");
    assert_eq!(s["stale_reason"], Value::Null);
    let t = step(&show, "tag-main");
    assert_eq!(t["status"], "pending");
    assert_eq!(t["action"], "tag main of app as 2015.09.10");
    assert_eq!(t["by"], Value::Null);
    assert_eq!(step(&show, "pick")["status"], "not_applicable");
    let text = stdout(&p.run(&["show"]));
    assert!(
        text.contains("[x] strategy  Master or cherry-picks?"),
        "{text}"
    );
    assert!(text.contains("note: a quiet week"), "{text}");
    assert!(
        text.contains("[ ] tag-main  Tag main as 2015.09.10"),
        "{text}"
    );
    // Who did what is the operator's business: owner-only folders and files.
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: std::path::PathBuf| std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
    for d in ["", "..", "../.."] {
        assert_eq!(mode(p.dir().join(d)), 0o700, "{d}");
    }
    for f in ["journal.jsonl", "session.json", "lock"] {
        assert_eq!(mode(p.dir().join(f)), 0o600, "{f}");
    }
    // No session yet for another push: said plainly.
    let env = Env::new();
    let out = env.run(&["--runbook", support::push::RUNBOOK, "show"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no session of the push of"),
        "{}",
        stderr(&out)
    );
}

/// Starts `n` copies of a command at once; returns how many succeeded.
fn race(n: usize, mut cmd: impl FnMut() -> std::process::Command) -> usize {
    let children: Vec<_> = (0..n).map(|_| cmd().spawn().unwrap()).collect();
    children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .filter(|o| o.status.success())
        .count()
}

const ROUNDS: usize = 200;
const RACERS: usize = 8;

#[test]
fn eight_processes_racing_one_manual_step_act_once() {
    let env = Env::new();
    for round in 0..ROUNDS {
        let state = env.path().join(format!("state-{round}"));
        let won = race(RACERS, || {
            let mut c = env.cmd();
            c.env("PUSHDUTY_STATE_DIR", &state)
                .args([
                    "--runbook",
                    "tests/fixtures/runbooks/valid/two-manual.toml",
                    "--now",
                    "2015-09-08",
                    "do",
                    "first",
                    "--yes",
                ])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null());
            c
        });
        let journal =
            std::fs::read_to_string(state.join("sessions/two-steps/2015-09-10/journal.jsonl"))
                .unwrap();
        let starts = journal
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .filter(|e| e["step"] == "first" && e["to"] == "running")
            .count();
        assert_eq!((won, starts), (1, 1), "round {round}:\n{journal}");
    }
}

#[test]
fn eight_processes_racing_one_tag_step_tag_once() {
    let p = Push::new();
    with_release(&p);
    p.ok(&["fetch"]);
    p.ok(&["strategy", "--input", "strategy=master"]);
    let prepared = p.dir();
    for round in 0..ROUNDS {
        let state = p.env.path().join(format!("race-{round}"));
        let dir = state.join("sessions/git-push/2015-09-10");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(prepared.join("journal.jsonl"), dir.join("journal.jsonl")).unwrap();
        git_delete_tag(&p);
        let won = race(RACERS, || {
            let mut c = p.env.cmd();
            c.env("PUSHDUTY_STATE_DIR", &state)
                .args(p.args())
                .args(["do", "tag-main", "--yes"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null());
            c
        });
        let journal = std::fs::read_to_string(dir.join("journal.jsonl")).unwrap();
        let events: Vec<Value> = journal
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect();
        let starts = events
            .iter()
            .filter(|e| e["step"] == "tag-main" && e["to"] == "running")
            .count();
        assert_eq!((won, starts), (1, 1), "round {round}:\n{journal}");
        assert_eq!(p.repo.rev("2015.09.10"), p.repo.rev("main"));
    }
}

/// Removes the tag a round made, so the next round has to make it again.
fn git_delete_tag(p: &Push) {
    let _ = support::gitrepo::git_command(&p.repo.work)
        .args(["tag", "-d", "2015.09.10"])
        .output();
}
