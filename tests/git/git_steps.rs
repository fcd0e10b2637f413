//! The git step kinds end to end: `pushduty do STEP --yes` on a real checkout with a bare
//! remote, recorded in the session, and safe to repeat.

use serde_json::Value;

use crate::support;
use crate::support::cli::{Env, stderr, stdout};
use crate::support::gitrepo::git;
use crate::support::push::{Push, RUNBOOK};

#[test]
fn tag_master_push_and_compare() {
    let p = Push::new();
    p.repo.commit("a.txt", "a\n", "Ship me");
    git(&p.repo.work, &["push", "-q", "origin", "main"]);
    let teammate = p.repo.remote_commit("b.txt", "b\n", "A teammate's fix");
    p.ok(&["fetch"]);
    assert_eq!(
        p.repo.rev("main"),
        teammate,
        "fetch fast-forwarded a clean checkout"
    );

    let early = p.run(&["do", "push", "--yes"]);
    assert_eq!(early.status.code(), Some(1));
    assert!(
        stderr(&early).contains("it comes after `tag-main`, `tag-picks`, not finished yet"),
        "{}",
        stderr(&early)
    );
    p.ok(&["strategy", "--input", "strategy=master"]);
    let out = p.ok(&["tag-main"]);
    assert!(out.contains("tagged 2015.09.10 at"), "{out}");
    assert_eq!(p.repo.rev("2015.09.10"), teammate);

    let out = p.ok(&["push"]);
    assert!(out.contains("pushed 2015.09.10"), "{out}");
    assert_eq!(
        p.repo.remote_rev("refs/tags/2015.09.10").as_deref(),
        Some(teammate.as_str())
    );

    p.ok(&["compare"]);
    let s = p.session();
    let commits = s["values"]["commits"].as_array().unwrap();
    assert_eq!(
        commits.len(),
        3,
        "no release before: everything ships: {commits:?}"
    );
    assert_eq!(commits[2]["subject"], "A teammate's fix", "oldest first");
    assert_eq!(
        s["steps"]["tag-main"]["outputs"]["tag_commit"],
        teammate.as_str()
    );
    assert_eq!(s["steps"]["pick"]["status"]["state"], "not_applicable");
    assert_eq!(s["repo_tags"]["app"], "2015.09.10");

    // A done step is not run again; git itself would find the tag in place.
    let again = p.run(&["do", "tag-main", "--yes"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("it is done"), "{}", stderr(&again));
}

#[test]
fn cherry_picks_after_tagging_get_the_next_revision() {
    let p = Push::new();
    let base = p.repo.commit("a.txt", "a\n", "In the push");
    git(&p.repo.work, &["push", "-q", "origin", "main"]);
    // The session starts (and fixes its tag name) before the tag exists.
    p.ok(&["fetch"]);
    git(&p.repo.work, &["tag", "2015.09.10", &base]);
    git(&p.repo.work, &["push", "-q", "origin", "2015.09.10"]);
    let unfinished = p.repo.commit("feature.txt", "wip\n", "Unfinished feature");
    let fix = p.repo.commit("a.txt", "a, fixed\n", "Fix a blocker");

    p.ok(&["strategy", "--input", "strategy=cherry_pick"]);
    let short = &fix[..10];
    let out = p.ok(&[
        "pick",
        "--input",
        &format!("commits=https://github.com/example/app/commit/{short}"),
    ]);
    assert!(
        out.contains("starting from 2015.09.10"),
        "the newest revision of this push: {out}"
    );
    let out = p.ok(&["tag-picks"]);
    assert!(out.contains("tagging 2015.09.10-1"), "{out}");
    let picked = p.repo.rev("2015.09.10-1");
    assert_eq!(p.repo.rev("2015.09.10"), base, "the first tag never moves");
    assert_eq!(
        git(&p.repo.work, &["rev-parse", &format!("{picked}^")]),
        base
    );
    let files = git(&p.repo.work, &["show", "--name-only", "--format=", &picked]);
    assert_eq!(files, "a.txt", "only the fix, not the unfinished feature");
    assert_eq!(
        p.repo.rev("main"),
        fix,
        "the checkout's branch is untouched"
    );
    let contains = support::gitrepo::git_command(&p.repo.work)
        .args(["merge-base", "--is-ancestor", &unfinished, &picked])
        .status()
        .unwrap();
    assert!(
        !contains.success(),
        "the unfinished feature is not in the re-tag"
    );

    let out = p.ok(&["push"]);
    assert!(
        out.contains("pushed 2015.09.10-1"),
        "push uses the new revision: {out}"
    );
    assert_eq!(
        p.repo.remote_rev("refs/tags/2015.09.10-1").as_deref(),
        Some(picked.as_str())
    );

    let s = p.session();
    assert_eq!(s["repo_tags"]["app"], "2015.09.10-1");
    let picks = &s["values"]["cherry_picks"];
    assert_eq!(picks["base"], "2015.09.10");
    assert_eq!(picks["applied"][0]["original"], fix.as_str());
    assert_eq!(picks["applied"][0]["subject"], "Fix a blocker");

    // A later plan of the same push still names the new revision (the session keeps it).
    let plan = p.run(&["plan", "--json"]);
    let plan: Value = serde_json::from_str(&stdout(&plan)).unwrap();
    assert_eq!(
        plan["vars"]["tag"], "2015.09.10-2",
        "plan shows the next free name for a new session"
    );
}

#[test]
fn a_conflicting_cherry_pick_changes_nothing() {
    let p = Push::new();
    p.repo.commit("a.txt", "one\n", "First");
    git(&p.repo.work, &["tag", "2015.09.03"]);
    p.repo.commit("a.txt", "two\n", "Second");
    let conflicting = p.repo.commit("a.txt", "three\n", "Third, on top of Second");
    let before = git(&p.repo.work, &["show-ref"]);
    p.ok(&["strategy", "--input", "strategy=cherry_pick"]);
    let out = p.run(&[
        "do",
        "pick",
        "--yes",
        "--input",
        &format!("commits={}", &conflicting[..8]),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("conflict"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("a.txt"),
        "names the path: {}",
        stderr(&out)
    );
    assert_eq!(
        git(&p.repo.work, &["show-ref"]),
        before,
        "no ref moved or made"
    );
    assert_eq!(p.session()["steps"]["pick"]["status"]["state"], "failed");
}

#[test]
fn a_rejected_push_fails_with_the_remotes_message() {
    let p = Push::new();
    p.repo.reject_pushes("tags are frozen until the release");
    let url = p.repo.serve_remote();
    git(&p.repo.work, &["remote", "set-url", "origin", &url]);
    p.ok(&["strategy", "--input", "strategy=master"]);
    p.ok(&["tag-main"]);
    let out = p.run(&["do", "push", "--yes"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("tags are frozen until the release"),
        "{}",
        stderr(&out)
    );
    assert_eq!(p.session()["steps"]["push"]["status"]["state"], "failed");
}

#[test]
fn a_dirty_checkout_is_not_fast_forwarded() {
    let p = Push::new();
    p.repo.remote_commit("b.txt", "b\n", "Upstream work");
    std::fs::write(p.repo.work.join("README"), "local edit\n").unwrap();
    let out = p.run(&["do", "fetch", "--yes"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("the work tree has 1 changed"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_step_without_a_checkout_says_how_to_configure_it() {
    let env = Env::new();
    let out = env.run(&[
        "--runbook",
        RUNBOOK,
        "--now",
        "2015-09-08",
        "do",
        "fetch",
        "--yes",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("set `repos.app.path` in your config"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_blocker_after_the_tag_reopens_the_choice_and_re_tags() {
    let p = Push::new();
    let tagged = p.repo.commit("a.txt", "a\n", "In the push");
    git(&p.repo.work, &["push", "-q", "origin", "main"]);
    p.ok(&["strategy", "--input", "strategy=master"]);
    p.ok(&["tag-main"]);
    p.ok(&["push"]);
    assert_eq!(
        p.repo.remote_rev("refs/tags/2015.09.10").as_deref(),
        Some(tagged.as_str())
    );

    // A blocker is found; its fix lands on main after other work.
    p.repo.commit("other.txt", "x\n", "Not for this push");
    let fix = p.repo.commit("a.txt", "a, fixed\n", "Fix the blocker");
    let out = p.run(&["do", "strategy", "--yes", "--input", "strategy=cherry_pick"]);
    assert_eq!(out.status.code(), Some(1), "a done step needs reopening");
    p.ok(&[
        "strategy",
        "--reopen",
        "blocker found on stage",
        "--input",
        "strategy=cherry_pick",
    ]);
    assert_eq!(p.session()["steps"]["pick"]["status"]["state"], "pending");
    p.ok(&["pick", "--input", &format!("commits={}", &fix[..8])]);
    let out = p.ok(&["tag-picks"]);
    assert!(out.contains("tagging 2015.09.10-1"), "{out}");
    // The push of 2015.09.10 is not the push of this tag any more: it runs again, no reopen.
    let s = p.session();
    assert_eq!(s["steps"]["push"]["status"]["state"], "pending");
    assert_eq!(
        s["steps"]["push"]["stale_reason"],
        "done for 2015.09.10; this push is now 2015.09.10-1"
    );
    p.ok(&["push"]);
    let picked = p.repo.rev("2015.09.10-1");
    assert_eq!(
        p.repo.remote_rev("refs/tags/2015.09.10-1").as_deref(),
        Some(picked.as_str())
    );
    assert_eq!(
        p.repo.remote_rev("refs/tags/2015.09.10").as_deref(),
        Some(tagged.as_str()),
        "never moved"
    );

    let journal = std::fs::read_to_string(
        p.env
            .path()
            .join("state/sessions/git-push/2015-09-10/journal.jsonl"),
    )
    .unwrap();
    assert!(
        journal.contains("reopened: blocker found on stage"),
        "{journal}"
    );
}

/// The cherry-pick offers what it can take: the previous release tag..the branch, oldest
/// first, each with its short sha, subject and author; merges are left out.
#[test]
fn the_cherry_pick_lists_its_candidates_oldest_first() {
    let p = Push::new();
    let base = p.repo.commit("a.txt", "a\n", "Released");
    git(&p.repo.work, &["tag", "2015.09.03", &base]);
    git(
        &p.repo.work,
        &["push", "-q", "origin", "main", "2015.09.03"],
    );
    let first = p.repo.commit("b.txt", "b\n", "First fix");
    git(&p.repo.work, &["checkout", "-q", "-b", "side", &base]);
    let side = p.repo.commit("c.txt", "c\n", "Side work");
    git(&p.repo.work, &["checkout", "-q", "main"]);
    git(
        &p.repo.work,
        &["merge", "-q", "--no-ff", "-m", "Merge side", "side"],
    );
    let last = p.repo.commit("d.txt", "d\n", "Last fix");
    git(&p.repo.work, &["push", "-q", "origin", "main"]);
    p.ok(&["fetch"]);
    p.ok(&["strategy", "--input", "strategy=cherry_pick"]);

    let asked = p.run(&["do", "pick", "--yes"]);
    let text = stderr(&asked);
    assert_eq!(asked.status.code(), Some(2), "no commits given: {text}");
    let at = |needle: String| {
        text.find(&needle)
            .unwrap_or_else(|| panic!("`{needle}` not in:\n{text}"))
    };
    let header =
        at("on main since 2015.09.03 (the release production runs now), oldest first:".into());
    let listed: Vec<usize> = [
        (&first, "First fix"),
        (&side, "Side work"),
        (&last, "Last fix"),
    ]
    .iter()
    .map(|(sha, subject)| at(format!("    {}  {subject} — Fixture Author\n", &sha[..7])))
    .collect();
    assert!(header < listed[0], "{text}");
    // Parents before children: the merged branch's commit before the commit after the merge.
    assert!(listed[1] < listed[2], "{text}");
    assert!(
        !text.contains("Merge side"),
        "merges cannot be picked: {text}"
    );
}
