//! Tags the way the operator's git makes them, through the binary on a real checkout: an
//! annotated tag when the runbook gives a message, a signed one made by the operator's own
//! `git` when their config signs tags (an ssh signing key here: no gpg agent needed), and a
//! signing that fails leaves no tag and says git's words.

use crate::support::cli::stderr;
use crate::support::gitrepo::git;
use crate::support::push::Push;

const MESSAGE: &str = "steps.tag-main.message=Release {{ tag }} by {{ operator }}";

#[test]
fn a_message_makes_an_annotated_tag_shown_as_the_command_that_makes_it() {
    let p = Push::ready_to_tag();
    let head = p.repo.rev("HEAD");
    let out = p.run(&["--set", MESSAGE, "do", "tag-main", "--yes"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = stderr(&out);
    assert!(
        out.contains(&format!(
            "tag -a -m 'Release 2015.09.10 by tester' 2015.09.10 {}",
            &head[..7]
        )),
        "{out}"
    );
    assert_eq!(p.repo.git(&["cat-file", "-t", "2015.09.10"]).trim(), "tag");
    assert_eq!(
        p.repo
            .git(&["tag", "-l", "--format=%(contents:subject)", "2015.09.10"])
            .trim(),
        "Release 2015.09.10 by tester"
    );
    assert_eq!(p.repo.rev("2015.09.10^{commit}"), head);
    // Run again: the annotated tag at this commit is found, not made twice.
    let again = p.run(&[
        "--set", MESSAGE, "do", "tag-main", "--yes", "--reopen", "again",
    ]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("is already at"),
        "{}",
        stderr(&again)
    );
    // Pushed, and pushed again: the remote's tag object peels to the same commit.
    p.ok(&["push"]);
    let sent = p.run(&["do", "push", "--yes", "--reopen", "again"]);
    assert!(sent.status.success(), "{}", stderr(&sent));
    assert!(
        stderr(&sent).contains("has 2015.09.10 at"),
        "{}",
        stderr(&sent)
    );
    assert_eq!(
        p.repo.remote_rev("refs/tags/2015.09.10"),
        Some(p.repo.rev("refs/tags/2015.09.10"))
    );
}

/// An ssh key for git's ssh signing, made in `dir`.
fn signing_key(dir: &std::path::Path) -> std::path::PathBuf {
    let key = dir.join("signing");
    let made = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "hero", "-f"])
        .arg(&key)
        .status()
        .expect("ssh-keygen (openssh-client) is needed: run scripts/deps.sh");
    assert!(made.success());
    key
}

#[test]
fn the_operators_tag_gpgsign_makes_a_signed_tag_by_their_git() {
    let p = Push::ready_to_tag();
    let head = p.repo.rev("HEAD");
    let key = signing_key(p.env.path());
    git(&p.repo.work, &["config", "tag.gpgSign", "true"]);
    git(&p.repo.work, &["config", "gpg.format", "ssh"]);
    git(
        &p.repo.work,
        &["config", "user.signingkey", key.to_str().unwrap()],
    );
    let out = p.ok(&["tag-main"]);
    assert!(
        out.contains(&format!("tag -s -m 2015.09.10 2015.09.10 {}", &head[..7]))
            && out.contains("signed by your git (your config sets tag.gpgSign)"),
        "{out}"
    );
    let object = p.repo.git(&["cat-file", "tag", "2015.09.10"]);
    assert!(object.contains("-----BEGIN SSH SIGNATURE-----"), "{object}");
    assert_eq!(p.repo.rev("2015.09.10^{commit}"), head);
}

#[test]
fn a_signing_that_fails_makes_no_tag_and_says_gits_words() {
    let p = Push::ready_to_tag();
    git(&p.repo.work, &["config", "tag.gpgSign", "true"]);
    git(&p.repo.work, &["config", "gpg.format", "ssh"]);
    let missing = p.env.path().join("no-such-key");
    git(
        &p.repo.work,
        &["config", "user.signingkey", missing.to_str().unwrap()],
    );
    let out = p.run(&["do", "tag-main", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let said = stderr(&out);
    assert!(
        said.contains("your git could not sign tag 2015.09.10:") && said.contains("no-such-key"),
        "{said}"
    );
    assert!(p.repo.git(&["tag", "-l", "2015.09.10"]).trim().is_empty());
}
