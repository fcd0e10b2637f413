//! Tagging and pushing release tags.

use chrono::NaiveDate;
use git2::Oid;
use pushduty::git::push::{PushOutcome, preview as push_preview, push_tag};
use pushduty::git::tag::{TagOutcome, preview as tag_preview, tag};
use pushduty::git::tags::{next_free, release_tags, repo_tag_names};

use crate::support::gitrepo::{Fixture, format, redact};

fn oid(sha: &str) -> Oid {
    Oid::from_str(sha).unwrap()
}

#[test]
fn tags_the_branch_tip_and_pushes_it() {
    let f = Fixture::new();
    let tip = f.commit("a.txt", "a\n", "Add a");
    let spec = f.spec();
    let out = tag(&spec, "2015.09.10", None).unwrap();
    assert_eq!(
        out,
        TagOutcome::Created {
            name: "2015.09.10".into(),
            oid: oid(&tip)
        }
    );
    assert_eq!(f.rev("2015.09.10"), tip);
    let pushed = push_tag(&spec, "2015.09.10").unwrap();
    assert!(matches!(pushed, PushOutcome::Pushed { .. }), "{pushed:?}");
    assert_eq!(
        f.remote_rev("refs/tags/2015.09.10").as_deref(),
        Some(tip.as_str())
    );
    // Only the tag named is pushed, and the branch is left alone.
    f.git(&["tag", "2015.09.03", "HEAD~1"]);
    push_tag(&spec, "2015.09.10").unwrap();
    assert_eq!(f.remote_rev("refs/tags/2015.09.03"), None);
    assert_ne!(
        f.remote_rev("refs/heads/main").as_deref(),
        Some(tip.as_str())
    );
}

#[test]
fn retags_get_the_next_suffix() {
    let f = Fixture::new();
    let spec = f.spec();
    let push_date = NaiveDate::from_ymd_opt(2015, 9, 10).unwrap();
    let mut made = Vec::new();
    for i in 0..3 {
        f.commit(&format!("fix{i}.txt"), "x\n", &format!("Fix {i}"));
        let repo = git2::Repository::open(&f.work).unwrap();
        let tags = release_tags(
            &format(),
            repo_tag_names(&repo).unwrap().iter().map(String::as_str),
        );
        let name = next_free(&format(), &tags, push_date);
        tag(&spec, &name, None).unwrap();
        push_tag(&spec, &name).unwrap();
        made.push(name);
    }
    assert_eq!(made, ["2015.09.10", "2015.09.10-1", "2015.09.10-2"]);
    assert!(f.remote_rev("refs/tags/2015.09.10-2").is_some());
}

#[test]
fn existing_tag_same_commit_is_done_other_commit_is_an_error() {
    let f = Fixture::new();
    let first = f.rev("HEAD");
    f.git(&["tag", "2015.09.10"]);
    let spec = f.spec();
    assert_eq!(
        tag(&spec, "2015.09.10", None).unwrap(),
        TagOutcome::AlreadyThere {
            name: "2015.09.10".into(),
            oid: oid(&first)
        }
    );
    let second = f.commit("a.txt", "a\n", "Add a");
    let err = tag(&spec, "2015.09.10", None).unwrap_err().to_string();
    assert!(err.contains(&first) && err.contains(&second), "{err}");
    assert_eq!(f.rev("2015.09.10"), first, "the tag must not move");
    // An explicit target is honoured.
    let out = tag(&spec, "2015.09.10-1", Some(oid(&first))).unwrap();
    assert!(matches!(out, TagOutcome::Created { .. }));
    assert_eq!(f.rev("2015.09.10-1"), first);
    assert!(tag(&spec, "bad..name", None).is_err());
}

#[test]
fn push_of_a_tag_already_on_the_remote() {
    let f = Fixture::new();
    let spec = f.spec();
    let first = f.rev("HEAD");
    f.git(&["tag", "2015.09.10"]);
    f.git(&["push", "-q", "origin", "2015.09.10"]);
    assert_eq!(
        push_tag(&spec, "2015.09.10").unwrap(),
        PushOutcome::AlreadyThere {
            name: "2015.09.10".into(),
            oid: oid(&first)
        }
    );
    // Someone else's tag of the same name at another commit: error, remote untouched.
    f.commit("a.txt", "a\n", "Add a");
    f.git(&["tag", "-f", "2015.09.10"]);
    let err = push_tag(&spec, "2015.09.10").unwrap_err().to_string();
    assert!(err.contains("already has tag 2015.09.10"), "{err}");
    assert_eq!(
        f.remote_rev("refs/tags/2015.09.10").as_deref(),
        Some(first.as_str())
    );
}

#[test]
fn push_of_a_missing_tag_is_an_error() {
    let f = Fixture::new();
    let err = push_tag(&f.spec(), "2015.09.10").unwrap_err().to_string();
    assert!(err.contains("tag 2015.09.10 does not exist"), "{err}");
}

#[test]
fn push_rejected_by_a_pre_receive_hook_carries_its_message() {
    let f = Fixture::new();
    f.reject_pushes("pushes are frozen until 5pm");
    let url = f.serve_remote();
    f.git(&["remote", "set-url", "origin", &url]);
    f.git(&["tag", "2015.09.10"]);
    let err = push_tag(&f.spec(), "2015.09.10").unwrap_err();
    let msg = format!("{err:#}");
    assert!(msg.contains("pushes are frozen until 5pm"), "{msg}");
    assert!(msg.contains("pre-receive hook declined"), "{msg}");
    assert_eq!(f.remote_rev("refs/tags/2015.09.10"), None);
}

#[test]
fn push_over_the_git_protocol_works() {
    let f = Fixture::new();
    let url = f.serve_remote();
    f.git(&["remote", "set-url", "origin", &url]);
    f.git(&["tag", "2015.09.10"]);
    let out = push_tag(&f.spec(), "2015.09.10").unwrap();
    assert!(matches!(out, PushOutcome::Pushed { .. }));
    assert!(f.remote_rev("refs/tags/2015.09.10").is_some());
}

#[test]
fn previews() {
    let f = Fixture::new();
    let tip = f.rev("HEAD");
    let spec = f.spec();
    let mut spaced = spec.clone();
    spaced.path = "/src/my repo".into();
    let text = [
        tag_preview(&spec, "2015.09.10", None, &Default::default()),
        tag_preview(&spec, "2015.09.10-1", Some(oid(&tip)), &Default::default()),
        tag_preview(&spaced, "2015.09.10", None, &Default::default()),
        push_preview(&spec, "2015.09.10"),
    ]
    .join("\n");
    insta::assert_snapshot!(redact(&f, &text));
}
