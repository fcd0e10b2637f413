//! Cherry-picking onto a release tag in memory, and tagging the result.

use pushduty::git::cherry_pick::{cherry_pick, preview};
use pushduty::git::tag::{TagOutcome, tag};

use crate::support::gitrepo::{Fixture, redact};

/// Everything a failed or in-memory pick must leave alone.
fn snapshot_of(f: &Fixture) -> (String, String, String) {
    (
        f.git(&["show-ref"]),
        f.git(&["status", "--porcelain"]),
        f.git(&["rev-parse", "HEAD"]),
    )
}

/// A release tag, then two fixes on main after it.
fn release_with_fixes(f: &Fixture) -> (String, String) {
    f.commit("app.txt", "one\ntwo\nthree\n", "App");
    f.git(&["tag", "2015.09.10"]);
    f.commit("feature.txt", "big\n", "Unreleased feature");
    let fix1 = f.commit("fix1.txt", "fix\n", "Fix crash");
    let fix2 = f.commit("app.txt", "one\ntwo\nthree fixed\n", "Fix three");
    (fix1, fix2)
}

#[test]
fn applies_in_order_on_the_base_without_touching_the_work_tree() {
    let f = Fixture::new();
    let (fix1, fix2) = release_with_fixes(&f);
    let before = snapshot_of(&f);
    let url = format!("https://github.com/owner/repo/pull/7/commits/{fix2}");
    let out = cherry_pick(&f.spec(), "2015.09.10", &[fix1[..8].to_string(), url]).unwrap();
    assert_eq!(
        snapshot_of(&f),
        before,
        "work tree, HEAD and refs unchanged"
    );
    assert_eq!(out.base.to_string(), f.rev("2015.09.10"));
    let subjects: Vec<_> = out.applied.iter().map(|a| a.subject.as_str()).collect();
    assert_eq!(subjects, ["Fix crash", "Fix three"]);
    assert_eq!(out.applied[0].original.to_string(), fix1);
    let result = out.result.to_string();
    assert_eq!(out.applied[1].new.to_string(), result);
    // The result has both fixes but not the unreleased feature, original author, our committer.
    let files = f.git(&["ls-tree", "--name-only", &result]);
    assert!(
        files.contains("fix1.txt") && !files.contains("feature.txt"),
        "{files}"
    );
    assert_eq!(
        f.git(&["show", &format!("{result}:app.txt")]),
        "one\ntwo\nthree fixed"
    );
    assert_eq!(
        f.git(&["log", "-1", "--format=%an|%cn", &result]),
        "Fixture Author|Release Engineer"
    );
    assert!(
        f.git(&["log", "-1", "--format=%B", &result])
            .contains(&format!("(cherry picked from commit {fix2})"))
    );
    assert_eq!(
        f.git(&["rev-parse", &format!("{result}~2")]),
        f.rev("2015.09.10")
    );
    // Tagging the result with the next revision.
    let tagged = tag(&f.spec(), "2015.09.10-1", Some(out.result)).unwrap();
    assert!(matches!(tagged, TagOutcome::Created { .. }));
    assert_eq!(f.rev("2015.09.10-1"), result);
}

#[test]
fn conflict_stops_cleanly_and_names_commit_and_paths() {
    let f = Fixture::new();
    f.commit("app.txt", "one\ntwo\nthree\n", "App");
    f.git(&["tag", "2015.09.10"]);
    f.commit("app.txt", "one\nTWO\nthree\n", "Rewrite two");
    let fix1 = f.commit("fix1.txt", "fix\n", "Fix crash");
    let clash = f.commit("app.txt", "one\nTWO!\nthree\n", "Shout two");
    let before = snapshot_of(&f);
    let err = cherry_pick(&f.spec(), "2015.09.10", &[fix1, clash.clone()])
        .unwrap_err()
        .to_string();
    assert!(err.contains(&clash) && err.contains("app.txt"), "{err}");
    assert!(err.contains("Shout two"), "{err}");
    assert_eq!(snapshot_of(&f), before);
}

#[test]
fn every_commit_is_validated_before_anything_is_applied() {
    let f = Fixture::new();
    let (fix1, _) = release_with_fixes(&f);
    let spec = f.spec();
    let before = snapshot_of(&f);
    let err = cherry_pick(&spec, "2015.09.10", &[fix1.clone(), "deadbeef".into()])
        .unwrap_err()
        .to_string();
    assert!(err.contains("deadbeef"), "{err}");
    let err = cherry_pick(&spec, "2015.09.10", &[fix1.clone(), "HEAD~1".into()])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("neither a commit sha nor a GitHub commit URL"),
        "{err}"
    );
    let old = f.rev("2015.09.10");
    let err = cherry_pick(&spec, "2015.09.10", &[old])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("every commit listed is in 2015.09.10 already"),
        "{err}"
    );
    let err = cherry_pick(&spec, "no-such-tag", &[fix1])
        .unwrap_err()
        .to_string();
    assert!(err.contains("base no-such-tag"), "{err}");
    assert_eq!(snapshot_of(&f), before);
}

#[test]
fn preview_lists_the_commands() {
    let f = Fixture::new();
    let (fix1, fix2) = release_with_fixes(&f);
    let url = format!("https://github.com/owner/repo/commit/{fix2}");
    let text = preview(&f.spec(), "2015.09.10", &[fix1, url]);
    insta::assert_snapshot!(redact(&f, &text));
}
