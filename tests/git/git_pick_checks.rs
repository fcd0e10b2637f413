//! Cherry-picks checked before they are tagged, through `pushduty do` on real repositories:
//! picks listed out of history order, a merge commit, a commit that adds a database migration
//! (`repos.app.migrations` in the runbook), a commit whose file an earlier commit left out
//! changed, and the next free `-N` when `-1` exists.

use crate::support::gitrepo::git;
use crate::support::push::Push;

fn short(sha: &str) -> &str {
    &sha[..7]
}

/// Two commits as the operator lists them, by short sha.
fn two(first: &str, second: &str) -> String {
    format!("{} {}", short(first), short(second))
}

/// Whether the checkout has the tag `name`.
fn tagged(p: &Push, name: &str) -> bool {
    p.repo.git(&["tag", "-l", name]).contains(name)
}

/// A view of ten lines, so that two commits changing its first and last lines apply apart.
fn view(first: &str, last: &str) -> String {
    let mut lines = vec![first.to_string()];
    lines.extend((2..10).map(|n| format!("line {n}")));
    lines.push(last.to_string());
    lines.join("\n") + "\n"
}

/// The commits a push of 2015-09-10 could pick, after it was tagged `2015.09.10` and
/// cherry-picked once as `2015.09.10-1`.
struct Picks {
    p: Push,
    refactor: String,
    fix: String,
    migration: String,
    feature: String,
    merge: String,
}

fn after_a_first_cherry_pick() -> Picks {
    let p = Push::new();
    let w = &p.repo.work;
    p.repo
        .commit("view.py", &view("first", "last"), "Add the view");
    git(w, &["tag", "2015.09.03", "HEAD"]);
    git(w, &["tag", "2015.09.10", "HEAD"]);
    p.repo.commit("notes.txt", "one\n", "A first blocker's fix");
    git(w, &["tag", "2015.09.10-1", "HEAD"]);
    let refactor = p
        .repo
        .commit("view.py", &view("FIRST", "last"), "Refactor the view");
    let fix = p
        .repo
        .commit("view.py", &view("FIRST", "LAST"), "Fix the view's end");
    let migration = p.repo.commit(
        "src/addons/migrations/0042_column.sql",
        "ALTER TABLE addons ADD COLUMN x int;\n",
        "Add the column",
    );
    git(w, &["checkout", "-q", "-b", "feature", "HEAD~3"]);
    let feature = p.repo.commit("feature.txt", "f\n", "Feature part one");
    git(w, &["checkout", "-q", "main"]);
    git(
        w,
        &[
            "merge",
            "-q",
            "--no-ff",
            "-m",
            "Merge the feature",
            "feature",
        ],
    );
    let merge = p.repo.rev("HEAD");
    git(w, &["push", "-q", "--tags", "origin", "main"]);
    p.ok(&["fetch"]);
    p.ok(&["strategy", "--input", "strategy=cherry_pick"]);
    Picks {
        p,
        refactor,
        fix,
        migration,
        feature,
        merge,
    }
}

#[test]
fn a_merge_commit_is_refused_with_the_commits_it_merged() {
    let k = after_a_first_cherry_pick();
    let said = k.p.refused(&[
        "pick",
        "--input",
        &format!("commits={}", two(&k.fix, &k.merge)),
    ]);
    assert!(
        said.contains(&format!(
            "FAIL: {} (Merge the feature) is a merge commit: it cannot be picked as it is; \
             list the commits it merged instead: {}",
            short(&k.merge),
            short(&k.feature)
        )),
        "{said}"
    );
    assert!(said.contains("`pick` was not run"), "{said}");
    let picked = k.p.journal().iter().any(|e| e["step"] == "pick");
    assert!(!picked, "nothing was picked");
}

#[test]
fn each_gotcha_is_said_before_picking_and_again_before_tagging() {
    let k = after_a_first_cherry_pick();
    let said = k.p.ok(&[
        "pick",
        "--input",
        &format!("commits={}", two(&k.migration, &k.fix)),
    ]);
    let order = format!(
        "warn: the commits are not listed oldest first: they are applied as listed, and \
         history has them as {} {} (list them so, unless you mean it)",
        short(&k.fix),
        short(&k.migration)
    );
    let migration = format!(
        "warn: {} (Add the column) adds a database migration \
         (src/addons/migrations/0042_column.sql): coordinate with ops before it ships",
        short(&k.migration)
    );
    let dependency = format!(
        "warn: {} (Fix the view's end) may depend on earlier commits that are not picked, \
         which changed the same files: {} (Refactor the view), in view.py",
        short(&k.fix),
        short(&k.refactor)
    );
    for want in [&order, &migration, &dependency] {
        assert!(said.contains(want.as_str()), "{want}\n---\n{said}");
    }
    assert!(
        said.contains(
            "ok:   the tag step then tags them 2015.09.10-2, the next free name for this push"
        ),
        "{said}"
    );
    // Shown as applied: the commits in the order given, onto the newest tag of this push.
    assert!(
        said.contains(&format!(
            "cherry-pick -x {} {}",
            short(&k.migration),
            short(&k.fix)
        )),
        "{said}"
    );
    assert!(
        said.contains("starting from 2015.09.10-1 (this push's newest tag)"),
        "{said}"
    );
    let running =
        k.p.journal()
            .into_iter()
            .find(|e| e["step"] == "pick" && e["to"] == "running")
            .unwrap();
    assert!(
        running["action"].as_str().unwrap().contains(short(&k.fix)),
        "{running}"
    );

    // The tag step reads them again from what was applied: seen before the tag is made.
    let said = k.p.ok(&["tag-picks"]);
    for want in [&order, &migration, &dependency] {
        assert!(said.contains(want.as_str()), "{want}\n---\n{said}");
    }
    assert!(said.contains("tagged 2015.09.10-2 at"), "{said}");
    assert!(tagged(&k.p, "2015.09.10-2"));
    // And they stay with the tag in the journal: what was known when it was made.
    let done =
        k.p.journal()
            .into_iter()
            .find(|e| e["step"] == "tag-picks" && e["to"] == "done")
            .unwrap();
    let kept = done["outputs"]["pick_checks"].as_array().unwrap().clone();
    let texts: Vec<&str> = kept.iter().filter_map(|c| c["text"].as_str()).collect();
    for want in [&order, &migration, &dependency] {
        let want = want.trim_start_matches("warn: ");
        assert!(texts.contains(&want), "{want}\n---\n{kept:?}");
    }
    assert!(kept.iter().all(|c| c["warn"] == true), "{kept:?}");
}

#[test]
fn picks_without_gotchas_say_what_was_looked_at() {
    let k = after_a_first_cherry_pick();
    let said = k.p.ok(&[
        "pick",
        "--input",
        &format!("commits={}", two(&k.refactor, &k.fix)),
    ]);
    assert!(
        said.contains(
            "ok:   the picks are oldest first, none is a merge commit or adds a database \
             migration, and no earlier commit left out changed their files"
        ),
        "{said}"
    );
    assert!(!said.contains("warn:"), "{said}");
}

/// Fixes of two branches merged apart have no order between them: listed either way, no
/// order is warned about; the merge that joined them is no dependency of either.
#[test]
fn picks_of_branches_merged_apart_are_in_no_wrong_order() {
    use pushduty::git::pick_review::{Finding, review};

    let f = crate::support::gitrepo::Fixture::new();
    f.git(&["tag", "2015.09.10"]);
    f.git(&["checkout", "-q", "-b", "one"]);
    let a = f.commit("a.txt", "a\n", "Fix a");
    f.git(&["checkout", "-q", "-b", "two", "2015.09.10"]);
    let b = f.commit("b.txt", "b\n", "Fix b");
    f.git(&["checkout", "-q", "main"]);
    f.git(&["merge", "-q", "--no-ff", "-m", "Merge one", "one"]);
    f.git(&["merge", "-q", "--no-ff", "-m", "Merge two", "two"]);
    let repo = git2::Repository::open(&f.work).unwrap();
    let base = repo.revparse_single("2015.09.10").unwrap().id();
    for picks in [[&a, &b], [&b, &a]] {
        let picks: Vec<String> = picks.iter().map(|s| s.to_string()).collect();
        let found = review(&repo, base, &picks, &[]).unwrap();
        assert!(found.is_empty(), "{picks:?}: {found:?}");
    }
    // A later fix listed first is out of order, and history's order is named.
    let c = f.commit("a.txt", "a2\n", "Fix a again");
    let found = review(&repo, base, &[c.clone(), a.clone()], &[]).unwrap();
    let oid = |s: &str| git2::Oid::from_str(s).unwrap();
    assert!(
        found.contains(&Finding::OutOfOrder {
            history: vec![oid(&a), oid(&c)]
        }),
        "{found:?}"
    );
}

/// `run --auto` says the warnings where its run is read, and goes on: they stop nothing.
#[test]
fn run_auto_says_the_warnings_and_goes_on() {
    let k = after_a_first_cherry_pick();
    let out = k.p.run(&[
        "run",
        "--auto",
        "--answer",
        &format!("pick={}", two(&k.fix, &k.migration)),
    ]);
    let said = crate::support::cli::stdout(&out);
    let migration = format!(
        "  warn: {} (Add the column) adds a database migration",
        short(&k.migration)
    );
    // Once for the picks, once more before their tag.
    assert_eq!(said.matches(&migration).count(), 2, "{said}");
    assert!(!said.contains("not listed oldest first"), "{said}");
    assert!(tagged(&k.p, "2015.09.10-2"), "{said}");
}
