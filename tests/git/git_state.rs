//! `repo_state` on real repositories.

use pushduty::git::RepoSpec;
use pushduty::git::state::repo_state;

use crate::support::gitrepo::{Fixture, format, git};

#[test]
fn missing_path_is_reported_not_panicked() {
    let mut spec = Fixture::new().spec();
    spec.path = "/nonexistent/pushduty/x".into();
    let state = repo_state(&spec, &format());
    assert_eq!(
        state.error.as_deref(),
        Some("repository path /nonexistent/pushduty/x does not exist")
    );
    assert_eq!(state.path, "/nonexistent/pushduty/x");
    assert_eq!(state.head, None);
    assert_eq!(state.dirty, 0);
    assert!(state.commits.is_empty());
}

#[test]
fn non_repo_path_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let spec = RepoSpec {
        name: "x".into(),
        path: dir.path().to_path_buf(),
        github: None,
        remote: "origin".into(),
        branch: "main".into(),
    };
    let state = repo_state(&spec, &format());
    let error = state.error.unwrap();
    assert!(
        error.starts_with(&format!("{} is not a git repository", dir.path().display())),
        "{error}"
    );
    assert_eq!(state.branch, None);
}

#[test]
fn unborn_branch_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "trunk", "."]);
    let spec = RepoSpec {
        name: "x".into(),
        path: dir.path().to_path_buf(),
        github: None,
        remote: "origin".into(),
        branch: "trunk".into(),
    };
    let state = repo_state(&spec, &format());
    assert_eq!(
        state.error.as_deref(),
        Some("branch trunk has no commits yet")
    );
    assert_eq!(state.head, None);
}

#[test]
fn clean_repo_without_tags_counts_all_history() {
    let f = Fixture::new();
    f.commit("a.txt", "a\n", "Add a");
    let state = repo_state(&f.spec(), &format());
    assert_eq!(state.error, None);
    assert_eq!(state.branch.as_deref(), Some("main"));
    assert_eq!(state.head.as_deref(), Some(&f.rev("HEAD")[..7]));
    assert_eq!(state.head_subject.as_deref(), Some("Add a"));
    assert_eq!(state.last_tag, None);
    assert_eq!(state.commits_since_tag, Some(2));
    assert_eq!(state.compare_url, None);
    assert_eq!((state.ahead, state.behind, state.dirty), (1, 0, 0));
}

#[test]
fn last_tag_orders_suffixes_and_counts_commits_since() {
    let f = Fixture::new();
    f.git(&["tag", "2015.09.03"]);
    f.commit("a.txt", "a\n", "Add a");
    f.git(&["tag", "2015.09.10-1"]);
    // The plain date tag on a newer commit is still older than its `-1`/`-2` by name.
    f.commit("b.txt", "b\n", "Add b");
    f.git(&["tag", "2015.09.10"]);
    f.commit("c.txt", "c\n", "Add c");
    f.git(&["tag", "-a", "-m", "annotated", "2015.09.10-2", "HEAD~1"]);
    f.commit("d.txt", "d\n", "Add d");
    f.git(&["tag", "not-a-release"]);
    let state = repo_state(&f.spec(), &format());
    assert_eq!(state.last_tag.as_deref(), Some("2015.09.10-2"));
    assert_eq!(state.commits_since_tag, Some(2));
    let subjects: Vec<_> = state.commits.iter().map(|c| c.subject.as_str()).collect();
    assert_eq!(subjects, ["Add d", "Add c"]);
    assert_eq!(state.commits[0].author, "Fixture Author");
    assert_eq!(state.commits[0].sha.len(), 7);
    assert_eq!(
        state.compare_url.as_deref(),
        Some("https://github.com/owner/repo/compare/2015.09.10-2...main")
    );
}

#[test]
fn tags_off_head_history_are_ignored() {
    let f = Fixture::new();
    f.git(&["tag", "2015.09.03"]);
    f.git(&["checkout", "-q", "-b", "side"]);
    f.commit("s.txt", "s\n", "Side fix");
    f.git(&["tag", "2015.09.03-1"]);
    f.git(&["checkout", "-q", "main"]);
    f.commit("a.txt", "a\n", "Add a");
    let state = repo_state(&f.spec(), &format());
    assert_eq!(state.last_tag.as_deref(), Some("2015.09.03"));
    assert_eq!(state.commits_since_tag, Some(1));
}

#[test]
fn detached_head_still_reports_the_rest() {
    let f = Fixture::new();
    f.git(&["tag", "2015.09.03"]);
    f.commit("a.txt", "a\n", "Add a");
    f.git(&["checkout", "-q", "--detach", "HEAD"]);
    let state = repo_state(&f.spec(), &format());
    assert_eq!(state.error, None);
    assert_eq!(state.branch, None);
    assert_eq!(state.head_subject.as_deref(), Some("Add a"));
    assert_eq!(state.last_tag.as_deref(), Some("2015.09.03"));
    assert_eq!(state.commits_since_tag, Some(1));
    // Detached: compared with the spec's origin/main.
    assert_eq!((state.ahead, state.behind), (1, 0));
}

#[test]
fn ahead_behind_and_dirty() {
    let f = Fixture::new();
    f.remote_commit("r1.txt", "r1\n", "Remote 1");
    f.remote_commit("r2.txt", "r2\n", "Remote 2");
    f.git(&["fetch", "-q", "origin"]);
    f.commit("l.txt", "l\n", "Local");
    // Modified, staged, untracked file, untracked directory (one entry), ignored file.
    std::fs::write(f.work.join("README"), "changed\n").unwrap();
    std::fs::write(f.work.join("l.txt"), "staged\n").unwrap();
    f.git(&["add", "l.txt"]);
    std::fs::write(f.work.join("new.txt"), "n\n").unwrap();
    std::fs::create_dir_all(f.work.join("newdir/deep")).unwrap();
    std::fs::write(f.work.join("newdir/deep/x"), "x\n").unwrap();
    std::fs::write(f.work.join("newdir/y"), "y\n").unwrap();
    std::fs::write(f.work.join(".gitignore"), "*.log\n").unwrap();
    std::fs::write(f.work.join("build.log"), "ignored\n").unwrap();
    let porcelain = f.git(&["status", "--porcelain"]);
    let state = repo_state(&f.spec(), &format());
    assert_eq!(state.dirty, porcelain.lines().count());
    assert_eq!(state.dirty, 5);
    assert_eq!((state.ahead, state.behind), (1, 2));
}

#[test]
fn json_field_names_are_the_contract() {
    let f = Fixture::new();
    f.git(&["tag", "2015.09.03"]);
    f.commit("a.txt", "a\n", "Add a");
    let json = serde_json::to_value(repo_state(&f.spec(), &format())).unwrap();
    let mut keys: Vec<_> = json.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "ahead",
            "behind",
            "branch",
            "commits",
            "commits_since_tag",
            "compare_url",
            "dirty",
            "error",
            "head",
            "head_subject",
            "last_tag",
            "path"
        ]
    );
    let commit = &json["commits"][0];
    assert_eq!(commit["subject"], "Add a");
    assert!(commit["sha"].is_string() && commit["author"].is_string());
}

#[test]
fn a_suffix_tag_on_an_older_commit_beats_the_nearer_plain_tag() {
    let f = Fixture::new();
    f.git(&["tag", "2015.09.10-1"]);
    f.commit("a.txt", "a\n", "Add a");
    f.git(&["tag", "2015.09.10"]);
    f.commit("b.txt", "b\n", "Add b");
    let state = repo_state(&f.spec(), &format());
    assert_eq!(state.last_tag.as_deref(), Some("2015.09.10-1"));
    assert_eq!(state.commits_since_tag, Some(2));
}

/// The git pane's poll walks history again only when a ref, HEAD, the index or the config
/// changed; a changed work tree alone is seen through its dirty count.
#[test]
fn the_git_pane_reads_history_again_only_when_the_repo_changed() {
    use pushduty::sources::git::{GitSource, Memo};
    let f = Fixture::new();
    f.git(&["tag", "2015.09.03"]);
    f.commit("a.txt", "a\n", "Faster uploads");
    f.git(&["push", "-q", "origin", "main"]);
    let source = GitSource {
        specs: vec![f.spec()],
        format: format(),
        push_date: chrono::NaiveDate::from_ymd_opt(2015, 9, 10),
        fetch_every: None,
    };
    let mut memo = Memo::with_racy_window(std::time::Duration::ZERO);
    let first = source.read(&mut memo).unwrap();
    assert_eq!(memo.full_reads, 1);
    assert_eq!(first[1], "  last tag 2015.09.03 · 1 commit since");
    assert_eq!(source.read(&mut memo).unwrap(), first);
    assert_eq!(memo.full_reads, 1, "an unchanged repo is not walked again");

    // A work tree change: no walk, but the summary says so.
    std::fs::write(f.work.join("new.txt"), "x\n").unwrap();
    let dirty = source.read(&mut memo).unwrap();
    assert_eq!(memo.full_reads, 1);
    assert!(dirty[0].contains(" · 1 dirty · "), "{dirty:?}");
    assert_eq!(dirty[1..], first[1..]);
    std::fs::remove_file(f.work.join("new.txt")).unwrap();

    // Each kind of change git records is a new walk, and what it shows is current.
    f.git(&["tag", "2015.09.10"]);
    let tagged = source.read(&mut memo).unwrap();
    assert_eq!(memo.full_reads, 2);
    assert!(
        tagged.contains(&"  2015.09.10 ships 1 commit since 2015.09.03:".to_string()),
        "{tagged:?}"
    );
    f.commit("b.txt", "b\n", "Smaller pages");
    let committed = source.read(&mut memo).unwrap();
    assert_eq!(memo.full_reads, 3);
    assert_eq!(committed[1], "  last tag 2015.09.10 · 1 commit since");
    std::fs::write(f.work.join("b.txt"), "staged\n").unwrap();
    f.git(&["add", "b.txt"]);
    let staged = source.read(&mut memo).unwrap();
    assert_eq!(memo.full_reads, 4, "the index changed");
    assert!(staged[0].contains(" · 1 dirty · "), "{staged:?}");
    f.git(&["push", "-q", "origin", "main"]);
    let pushed = source.read(&mut memo).unwrap();
    assert_eq!(memo.full_reads, 5, "the remote-tracking ref moved");
    assert!(pushed[0].ends_with("↑0 ↓0"), "{pushed:?}");
    assert!(staged[0].ends_with("↑1 ↓0"), "{staged:?}");
    f.git(&["checkout", "-q", "-b", "side"]);
    let switched = source.read(&mut memo).unwrap();
    assert_eq!(memo.full_reads, 6, "HEAD names another branch");
    assert!(switched[0].starts_with("fixture side @ "), "{switched:?}");
    source.read(&mut memo).unwrap();
    assert_eq!(memo.full_reads, 6);

    // A repo changed a moment ago may change again within the same tick of the file clock:
    // the default memo does not trust a read taken that close to a change.
    let mut careful = Memo::default();
    f.git(&["tag", "2015.09.17"]);
    source.read(&mut careful).unwrap();
    source.read(&mut careful).unwrap();
    assert_eq!(careful.full_reads, 2);
}

/// Waits for the git pane's source to send lines containing `want`; the last lines seen on
/// a timeout.
fn pane_showing(
    got: &std::sync::mpsc::Receiver<pushduty::sources::Snapshot>,
    want: &str,
) -> Result<Vec<String>, String> {
    let end = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut last = String::new();
    while let Some(left) = end.checked_duration_since(std::time::Instant::now()) {
        match got.recv_timeout(left) {
            Ok(Ok((_, lines))) if lines.iter().any(|l| l.contains(want)) => return Ok(lines),
            Ok(other) => last = format!("{other:?}"),
            Err(_) => break,
        }
    }
    Err(last)
}

/// The pane fetches the branch in the background: what lands upstream after this push's
/// tag shows with its subject, and no local branch moves.
#[test]
fn the_git_pane_shows_what_upstream_has_that_the_tag_does_not() {
    use pushduty::sources::git::GitSource;
    use std::time::Duration;
    let f = Fixture::new();
    f.git(&["tag", "2015.09.10"]);
    let fix = f.remote_commit("b.txt", "fix\n", "Fix uploads");
    let main = f.rev("main");
    let tracking = f.rev("origin/main");
    let source = GitSource {
        specs: vec![f.spec()],
        format: format(),
        push_date: chrono::NaiveDate::from_ymd_opt(2015, 9, 10),
        fetch_every: Some(Duration::from_secs(3600)),
    };
    let (tx, got) = std::sync::mpsc::channel();
    let _poke = source.spawn(Duration::from_secs(3600), move |s| tx.send(s).is_ok());
    let lines = pane_showing(&got, "origin/main has 1 commit not in 2015.09.10:")
        .unwrap_or_else(|last| panic!("the fix never showed; last: {last}"));
    let at = lines
        .iter()
        .position(|l| l.contains("not in 2015.09.10"))
        .unwrap();
    assert_eq!(at, 2, "under the summary: {lines:?}");
    assert_eq!(
        lines[at + 1],
        format!("  + {} Fix uploads — Fixture Author", &fix[..7])
    );
    assert_eq!(f.rev("main"), main, "the local branch is left alone");
    assert_ne!(f.rev("origin/main"), tracking);
    assert!(!f.work.join(".git/FETCH_HEAD").exists());
}

/// A background fetch that fails says why in the pane, under what was read; the pane goes on.
#[test]
fn a_failed_background_fetch_is_a_line_in_the_pane() {
    use pushduty::sources::git::GitSource;
    use std::time::Duration;
    let f = Fixture::new();
    f.git(&[
        "remote",
        "set-url",
        "origin",
        "/nonexistent/pushduty/remote.git",
    ]);
    let source = GitSource {
        specs: vec![f.spec()],
        format: format(),
        push_date: None,
        fetch_every: Some(Duration::from_secs(3600)),
    };
    let (tx, got) = std::sync::mpsc::channel();
    let _poke = source.spawn(Duration::from_secs(3600), move |s| tx.send(s).is_ok());
    let lines = pane_showing(&got, "the background fetch failed")
        .unwrap_or_else(|last| panic!("no failure shown; last: {last}"));
    let said = lines.last().unwrap();
    assert!(
        said.starts_with("fixture: the background fetch failed"),
        "{said}"
    );
    assert!(said.contains("`git fetch` exited with code 128"), "{said}");
    assert!(said.contains("/nonexistent/pushduty/remote.git"), "{said}");
    assert!(lines[0].starts_with("fixture main @ "), "{lines:?}");
}
