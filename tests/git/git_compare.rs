//! What ships between two releases.

use pushduty::git::compare::{compare, preview};

use crate::support::gitrepo::{Fixture, format, redact};

#[test]
fn lists_commits_oldest_first_with_the_compare_url() {
    let f = Fixture::new();
    f.git(&["tag", "2015.09.03"]);
    f.commit("a.txt", "a\n", "Add a");
    f.commit("b.txt", "b\n", "Add b");
    let spec = f.spec();
    let out = compare(&spec, &format(), Some("2015.09.03"), "main").unwrap();
    let subjects: Vec<_> = out.commits.iter().map(|c| c.subject.as_str()).collect();
    assert_eq!(subjects, ["Add a", "Add b"]);
    assert_eq!(out.commits[1].sha, f.rev("HEAD")[..7]);
    assert_eq!(
        out.url.as_deref(),
        Some("https://github.com/owner/repo/compare/2015.09.03...main")
    );
    // Without a from tag: the newest release tag reachable from `to`.
    f.git(&["tag", "2015.09.03-1", "HEAD~1"]);
    let out = compare(&spec, &format(), None, "main").unwrap();
    assert_eq!(out.from, "2015.09.03-1");
    assert_eq!(out.commits.len(), 1);
    let mut no_github = spec.clone();
    no_github.github = None;
    assert_eq!(
        compare(&no_github, &format(), None, "main").unwrap().url,
        None
    );
}

#[test]
fn errors_name_what_is_missing() {
    let f = Fixture::new();
    let spec = f.spec();
    let err = compare(&spec, &format(), None, "main")
        .unwrap_err()
        .to_string();
    assert!(err.contains("no release tag"), "{err}");
    let err = compare(&spec, &format(), Some("2015.09.03"), "main")
        .unwrap_err()
        .to_string();
    assert!(err.contains("tag 2015.09.03 not found"), "{err}");
    let err = compare(&spec, &format(), None, "nope")
        .unwrap_err()
        .to_string();
    assert!(err.contains("nope"), "{err}");
    insta::assert_snapshot!(redact(&f, &preview(&spec, "2015.09.03", "main")));
}
