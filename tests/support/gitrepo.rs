//! Real temporary repositories for the git tests: a bare "remote" and a clone to work in.
//!
//! Fixtures are made with the `git` CLI, isolated from the user's configuration, with fixed
//! identities and commit dates so that shas are the same on every run.

#![allow(dead_code)]

use std::cell::Cell;
use std::io::Write;
use std::net::TcpListener;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Once;

use pushduty::git::RepoSpec;
use pushduty::git::tags::TagFormat;
use tempfile::TempDir;

use super::cli::output_ok;

/// 2015-09-10 00:00 UTC; every commit is one minute after the previous one.
const EPOCH: i64 = 1_441_843_200;

pub struct Fixture {
    pub dir: TempDir,
    /// The clone the tests work in (remote `origin`, branch `main` tracking `origin/main`).
    pub work: PathBuf,
    /// The bare remote.
    pub remote: PathBuf,
    clock: Cell<i64>,
}

/// Keeps libgit2 (in this test process) away from the user's and the system's git config.
/// A test binary holds many test files: whichever uses libgit2 itself (not through
/// [`Fixture::new`], which calls this) calls this first, so that no repository is open while
/// the search path changes.
pub fn isolate_libgit2() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let empty = std::env::temp_dir().join("pushduty-test-empty-config");
        std::fs::create_dir_all(&empty).unwrap();
        for level in [
            git2::ConfigLevel::System,
            git2::ConfigLevel::XDG,
            git2::ConfigLevel::Global,
        ] {
            // SAFETY: called once, before any test opens a repository in this process.
            unsafe { git2::opts::set_search_path(level, &empty).unwrap() };
        }
    });
}

/// A `git` command that ignores the user's and the system's configuration.
pub fn git_command(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.arg("-C")
        .arg(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Fixture Author")
        .env("GIT_AUTHOR_EMAIL", "author@example.com")
        .env("GIT_COMMITTER_NAME", "Fixture Committer")
        .env("GIT_COMMITTER_EMAIL", "committer@example.com")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE");
    cmd
}

/// Runs git in `dir` and returns its trimmed stdout; panics with stderr on failure.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = output_ok(
        git_command(dir).args(args),
        format_args!("git {args:?} in {} failed", dir.display()),
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

impl Fixture {
    /// A remote with one commit on `main`, and a clone of it.
    pub fn new() -> Self {
        isolate_libgit2();
        let dir = tempfile::tempdir().unwrap();
        let remote = dir.path().join("remote.git");
        let work = dir.path().join("work");
        git(
            dir.path(),
            &["init", "-q", "--bare", "-b", "main", "remote.git"],
        );
        git(dir.path(), &["init", "-q", "-b", "main", "work"]);
        configure(&work);
        git(
            &work,
            &["remote", "add", "origin", remote.to_str().unwrap()],
        );
        let f = Self {
            dir,
            work,
            remote,
            clock: Cell::new(EPOCH),
        };
        f.commit("README", "hello\n", "Initial commit");
        git(&f.work, &["push", "-q", "-u", "origin", "main"]);
        f
    }

    pub fn spec(&self) -> RepoSpec {
        RepoSpec {
            name: "fixture".into(),
            path: self.work.clone(),
            github: Some("owner/repo".into()),
            remote: "origin".into(),
            branch: "main".into(),
        }
    }

    pub fn git(&self, args: &[&str]) -> String {
        git(&self.work, args)
    }

    /// Writes `file` and commits it in `repo` with the next fixed date; returns the full sha.
    pub fn commit_in(&self, repo: &Path, file: &str, content: &str, message: &str) -> String {
        let path = repo.join(file);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, content).unwrap();
        git(repo, &["add", file]);
        let t = self.clock.get() + 60;
        self.clock.set(t);
        let date = format!("@{t} +0000");
        output_ok(
            git_command(repo)
                .args(["commit", "-q", "-m", message])
                .env("GIT_AUTHOR_DATE", &date)
                .env("GIT_COMMITTER_DATE", &date),
            "git commit",
        );
        git(repo, &["rev-parse", "HEAD"])
    }

    pub fn commit(&self, file: &str, content: &str, message: &str) -> String {
        self.commit_in(&self.work.clone(), file, content, message)
    }

    /// A second clone, standing for a teammate who pushes to the remote.
    pub fn other_clone(&self) -> PathBuf {
        let other = self.dir.path().join("other");
        if !other.exists() {
            git(
                self.dir.path(),
                &["clone", "-q", self.remote.to_str().unwrap(), "other"],
            );
            configure(&other);
        }
        other
    }

    /// A commit made by a teammate and pushed to `origin/main`; returns its sha.
    pub fn remote_commit(&self, file: &str, content: &str, message: &str) -> String {
        let other = self.other_clone();
        git(&other, &["pull", "-q", "--ff-only"]);
        let sha = self.commit_in(&other, file, content, message);
        git(&other, &["push", "-q", "origin", "main"]);
        sha
    }

    pub fn rev(&self, rev: &str) -> String {
        self.git(&["rev-parse", rev])
    }

    pub fn remote_rev(&self, rev: &str) -> Option<String> {
        let out = git_command(&self.remote)
            .args(["rev-parse", "--verify", "-q", rev])
            .output()
            .unwrap();
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// A `pre-receive` hook on the remote that prints `message` and refuses every push.
    pub fn reject_pushes(&self, message: &str) {
        let hook = self.remote.join("hooks/pre-receive");
        let mut f = std::fs::File::create(&hook).unwrap();
        writeln!(f, "#!/bin/sh\necho '{message}' >&2\nexit 1").unwrap();
        drop(f);
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// Serves the remote over `git://` through `git daemon --inetd`, one daemon per
    /// connection, so that pushes run the remote's hooks (libgit2 pushes to a local path
    /// directly, without hooks). Returns the URL.
    pub fn serve_remote(&self) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let base = self.dir.path().to_path_buf();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let input: OwnedFd = stream.try_clone().unwrap().into();
                let output: OwnedFd = stream.into();
                let child = git_command(&base)
                    .args(["daemon", "--inetd", "--export-all", "--enable=receive-pack"])
                    .arg(format!("--base-path={}", base.display()))
                    .stdin(Stdio::from(input))
                    .stdout(Stdio::from(output))
                    .stderr(Stdio::null())
                    .spawn();
                if let Ok(mut child) = child {
                    std::thread::spawn(move || child.wait());
                }
            }
        });
        format!("git://127.0.0.1:{port}/remote.git")
    }
}

fn configure(repo: &Path) {
    git(repo, &["config", "user.name", "Release Engineer"]);
    git(repo, &["config", "user.email", "release@example.com"]);
}

pub fn format() -> TagFormat {
    TagFormat::new("%Y.%m.%d").unwrap()
}

/// Replaces the fixture's temporary directory in text, for snapshots.
pub fn redact(f: &Fixture, text: &str) -> String {
    text.replace(f.dir.path().to_str().unwrap(), "[TMP]")
}
