//! Running the real binary in a clean environment: no user config, a temp state dir.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A temp home with a config of its own, so the operator's settings never leak into tests;
/// the screen calls no one (the tests of calling set `notify` themselves).
pub struct Env {
    pub dir: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.toml"),
            "operator = \"tester\"\nnotify = \"off\"\n",
        )
        .unwrap();
        Self { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn config(&self) -> PathBuf {
        self.dir.path().join("config.toml")
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_pushduty"));
        c.current_dir(root())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.path())
            .env("PUSHDUTY_CONFIG", self.config())
            .env("PUSHDUTY_STATE_DIR", self.path().join("state"));
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }
}

/// The args of `RUNBOOK --now 2015-09-08 do STEP ARGS…`: a step run on the Tuesday the push
/// of Thu 2015-09-10 is tagged.
pub fn do_step<'a>(runbook: &'a str, step: &'a str, args: &[&'a str]) -> Vec<&'a str> {
    let mut all = vec![runbook, "--now", "2015-09-08", "do", step];
    all.extend_from_slice(args);
    all
}

/// Every line of a session's journal (`SLUG/PUSH_DATE`) under the env's state dir, each parsed:
/// a line that is not JSON fails the test.
pub fn journal(env: &Env, session: &str) -> Vec<serde_json::Value> {
    std::fs::read_to_string(
        env.path()
            .join("state/sessions")
            .join(session)
            .join("journal.jsonl"),
    )
    .unwrap_or_default()
    .lines()
    .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
    .collect()
}

/// Runs `cmd` to its end; panics with `what` and its stderr unless it succeeds.
#[track_caller]
pub fn output_ok(cmd: &mut Command, what: impl std::fmt::Display) -> Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A git repo with one commit on `main`, a bare `origin`, and the given tags on that commit.
pub fn repo_with_tags(dir: &Path, tags: &[&str]) -> PathBuf {
    super::gitrepo::isolate_libgit2();
    let bare = dir.join("origin.git");
    git2::Repository::init_bare(&bare).unwrap();
    let work = dir.join("work");
    let repo = git2::Repository::init_opts(
        &work,
        git2::RepositoryInitOptions::new().initial_head("main"),
    )
    .unwrap();
    let sig = git2::Signature::now("Tester", "tester@example.com").unwrap();
    std::fs::write(work.join("README"), "hello\n").unwrap();
    let mut index = repo.index().unwrap();
    index.add_path(Path::new("README")).unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let oid = repo
        .commit(Some("HEAD"), &sig, &sig, "first", &tree, &[])
        .unwrap();
    let commit = repo.find_commit(oid).unwrap();
    for t in tags {
        repo.tag_lightweight(t, commit.as_object(), false).unwrap();
    }
    repo.remote("origin", bare.to_str().unwrap()).unwrap();
    work
}

/// A loopback server that answers every request with `body` (a stage's version page); returns
/// its URL.
pub fn serve_text(body: &'static str) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            let mut buf = [0u8; 2048];
            let _ = s.read(&mut buf);
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

/// The bundled runbook's gates through `run`: QA approves, then ops push to production at
/// `at` (unix seconds), which the watches count their soak from.
pub fn approve_and_push(run: impl Fn(&[&str]) -> Output, at: i64) {
    let qa = run(&["do", "qa-approval", "--yes", "--input", "approved_by=Krupa"]);
    assert!(qa.status.success(), "{}", stderr(&qa));
    let at = chrono::DateTime::from_timestamp(at, 0)
        .unwrap()
        .to_rfc3339();
    let prod = run(&[
        "do",
        "production-push",
        "--yes",
        "--input",
        "approved_by=Jason",
        "--input",
        &format!("approved_at={at}"),
    ]);
    assert!(prod.status.success(), "{}", stderr(&prod));
}

/// Every file pushduty wrote under the env's state dir (the journal, `session.json`, the lock,
/// the log), as one text: for tests that look for what must not be there.
pub fn written(env: &Env) -> String {
    fn walk(p: &Path, out: &mut String) {
        for e in std::fs::read_dir(p).into_iter().flatten().flatten() {
            if e.path().is_dir() {
                walk(&e.path(), out);
            } else {
                out.push_str(&String::from_utf8_lossy(&std::fs::read(e.path()).unwrap()));
            }
        }
    }
    let mut out = String::new();
    walk(&env.path().join("state"), &mut out);
    out
}
