//! Fetching and fast-forwarding only when no work can be lost.

use pushduty::git::fetch::{BranchUpdate, fetch, preview};

use crate::support::gitrepo::{Fixture, git, redact};

#[test]
fn fast_forwards_a_clean_checked_out_branch_and_fetches_new_tags() {
    let f = Fixture::new();
    let old = f.rev("HEAD");
    let new = f.remote_commit("r.txt", "r\n", "Remote fix");
    let other = f.other_clone();
    git(&other, &["tag", "2015.09.10"]);
    git(&other, &["tag", "-a", "-m", "annotated", "2015.09.10-1"]);
    git(&other, &["push", "-q", "origin", "--tags"]);
    let out = fetch(&f.spec()).unwrap();
    assert_eq!(out.new_tags, ["2015.09.10", "2015.09.10-1"]);
    assert!(out.tag_conflicts.is_empty());
    assert_eq!(
        out.branch,
        BranchUpdate::FastForwarded {
            from: git2::Oid::from_str(&old).unwrap(),
            to: git2::Oid::from_str(&new).unwrap(),
            checked_out: true
        }
    );
    assert!(out.problems().is_empty());
    assert_eq!(f.rev("HEAD"), new);
    assert_eq!(f.rev("2015.09.10-1^{commit}"), new);
    assert_eq!(
        std::fs::read_to_string(f.work.join("r.txt")).unwrap(),
        "r\n"
    );
    assert_eq!(f.git(&["status", "--porcelain"]), "");
    // Again: nothing left to do.
    let again = fetch(&f.spec()).unwrap();
    assert_eq!(again.branch, BranchUpdate::UpToDate);
    assert!(again.new_tags.is_empty());
}

#[test]
fn refuses_to_fast_forward_a_dirty_work_tree() {
    let f = Fixture::new();
    let old = f.rev("HEAD");
    f.remote_commit("r.txt", "r\n", "Remote fix");
    std::fs::write(f.work.join("README"), "local edit\n").unwrap();
    let out = fetch(&f.spec()).unwrap();
    assert_eq!(
        out.branch,
        BranchUpdate::Dirty {
            behind: 1,
            dirty: 1
        }
    );
    assert!(
        out.problems()[0].contains("work tree has 1 changed"),
        "{:?}",
        out.problems()
    );
    assert_eq!(f.rev("HEAD"), old);
    assert_eq!(
        std::fs::read_to_string(f.work.join("README")).unwrap(),
        "local edit\n"
    );
    // The remote-tracking branch is updated all the same.
    assert_ne!(f.rev("origin/main"), old);
}

#[test]
fn refuses_a_diverged_branch_and_leaves_an_ahead_one() {
    let f = Fixture::new();
    let local = f.commit("l.txt", "l\n", "Local work");
    let out = fetch(&f.spec()).unwrap();
    assert_eq!(out.branch, BranchUpdate::Ahead { ahead: 1 });
    f.remote_commit("r.txt", "r\n", "Remote fix");
    let out = fetch(&f.spec()).unwrap();
    assert_eq!(
        out.branch,
        BranchUpdate::Diverged {
            ahead: 1,
            behind: 1
        }
    );
    assert!(out.problems()[0].contains("diverged"));
    assert_eq!(f.rev("HEAD"), local);
}

#[test]
fn moves_a_branch_that_is_not_checked_out() {
    let f = Fixture::new();
    f.git(&["checkout", "-q", "-b", "other"]);
    std::fs::write(f.work.join("README"), "dirty on another branch\n").unwrap();
    let new = f.remote_commit("r.txt", "r\n", "Remote fix");
    let out = fetch(&f.spec()).unwrap();
    assert!(
        matches!(
            out.branch,
            BranchUpdate::FastForwarded {
                checked_out: false,
                ..
            }
        ),
        "{:?}",
        out.branch
    );
    assert_eq!(f.rev("main"), new);
    assert!(
        !f.work.join("r.txt").exists(),
        "the work tree is not touched"
    );
}

#[test]
fn never_overwrites_a_local_tag_that_differs() {
    let f = Fixture::new();
    let mine = f.rev("HEAD");
    f.git(&["tag", "2015.09.10"]);
    f.remote_commit("r.txt", "r\n", "Remote fix");
    let other = f.other_clone();
    git(&other, &["tag", "2015.09.10"]);
    git(&other, &["push", "-q", "origin", "2015.09.10"]);
    let out = fetch(&f.spec()).unwrap();
    assert_eq!(out.tag_conflicts.len(), 1);
    assert_eq!(out.tag_conflicts[0].name, "2015.09.10");
    assert!(out.problems()[0].contains("tag 2015.09.10 is at"));
    assert_eq!(f.rev("2015.09.10"), mine);
}

#[test]
fn preview_lists_the_commands() {
    let f = Fixture::new();
    let mut text = preview(&f.spec());
    f.git(&["checkout", "-q", "-b", "other"]);
    text.push('\n');
    text.push_str(&preview(&f.spec()));
    insta::assert_snapshot!(redact(&f, &text));
}
