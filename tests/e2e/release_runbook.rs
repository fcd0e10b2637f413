//! The bundled release runbook (`runbooks/pushduty-release.toml`) run through the binary with
//! `run --auto` against a tiny crate: a real git checkout with a bare remote, a previous
//! `v0.1.0` release, commits since, the version bumped to 0.2.0 in Cargo.toml. Nothing in the
//! code knows this runbook: the version tag, the version read from Cargo.toml and the
//! on-demand schedule are the runbook format's own.

use std::path::Path;
use std::process::Output;

use crate::support::cli::{Env, journal, stderr, stdout};
use crate::support::github::{self, Github};
use crate::support::gitrepo::{Fixture, git};

const RUNBOOK: &str = "--runbook=runbooks/pushduty-release.toml";
const GH_TOKEN: &str = "ghp_rel3ase_s3cret";
/// The release day: on demand, the session is that day's.
const TODAY: &str = "2026-03-02";

fn manifest(version: &str) -> String {
    format!(
        "[package]\nname = \"tiny\"\nversion = \"{version}\"\nedition = \"2021\"\ndescription = \"a tiny crate\"\nlicense = \"MIT\"\n\n[dependencies]\n"
    )
}

/// `cargo` with a private target dir (removed with the fixture) and no network.
fn cargo(dir: &Path, target: &Path, args: &[&str]) {
    let out = std::process::Command::new("cargo")
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .env("CARGO_NET_OFFLINE", "true")
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "cargo {args:?}: {}", stderr(&out));
}

/// Where cargo and rustup keep the toolchain, named explicitly (they default to `$HOME`).
fn toolchain_env() -> Vec<(&'static str, std::ffi::OsString)> {
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
    let mut env = Vec::new();
    for (key, default) in [("CARGO_HOME", ".cargo"), ("RUSTUP_HOME", ".rustup")] {
        match (std::env::var_os(key), &home) {
            (Some(v), _) => env.push((key, v)),
            (None, Some(h)) => env.push((key, h.join(default).into_os_string())),
            (None, None) => {}
        }
    }
    if let Some(v) = std::env::var_os("RUSTUP_TOOLCHAIN") {
        env.push(("RUSTUP_TOOLCHAIN", v));
    }
    env
}

struct Rig {
    env: Env,
    repo: Fixture,
    gh: Github,
    /// The commits since v0.1.0, as `git log` gives their subjects, oldest first.
    shipped: Vec<String>,
}

impl Rig {
    fn new() -> Self {
        let repo = Fixture::new();
        let target = repo.dir.path().join("target");
        repo.commit("Cargo.toml", &manifest("0.1.0"), "A tiny crate");
        repo.commit(
            "src/lib.rs",
            "pub fn one() -> u32 {\n    1\n}\n",
            "The number one",
        );
        cargo(&repo.work, &target, &["generate-lockfile", "--offline"]);
        std::fs::write(repo.work.join(".gitignore"), "/target\n").unwrap();
        git(&repo.work, &["add", "Cargo.lock", ".gitignore"]);
        repo.commit("README", "tiny\n", "Lock file and readme");
        git(&repo.work, &["tag", "v0.1.0"]);
        // Not a release tag of this format: they must not be taken for the previous one.
        repo.commit("NOTES", "a\n", "Notes for later");
        git(&repo.work, &["tag", "nightly-2026-02-01"]);
        git(&repo.work, &["tag", "v0.1"]);
        repo.commit(
            "src/lib.rs",
            "pub fn one() -> u32 {\n    1\n}\n\n#[test]\nfn is_one() {\n    assert_eq!(one(), 1);\n}\n",
            "A test for one",
        );
        repo.commit("Cargo.toml", &manifest("0.2.0"), "Release 0.2.0");
        cargo(&repo.work, &target, &["generate-lockfile", "--offline"]);
        git(&repo.work, &["add", "Cargo.lock"]);
        repo.commit("NOTES", "b\n", "Lock file for 0.2.0");
        git(&repo.work, &["push", "-q", "origin", "main", "v0.1.0"]);
        let shipped = git(
            &repo.work,
            &["log", "--reverse", "--format=%s", "v0.1.0..main"],
        )
        .lines()
        .map(str::to_string)
        .collect();
        let gh = Github::start(github::Config {
            repo: "pushduty/pushduty".into(),
            token: GH_TOKEN.into(),
            ..github::Config::default()
        });
        Self {
            env: Env::new(),
            repo,
            gh,
            shipped,
        }
    }

    fn target(&self) -> std::path::PathBuf {
        self.repo.dir.path().join("target")
    }

    fn run(&self, args: &[&str]) -> Output {
        self.env
            .cmd()
            .env("PUSHDUTY_GITHUB_TOKEN", GH_TOKEN)
            .env("PUSHDUTY_HTTP_TIMEOUT", "5")
            .env("CARGO_TARGET_DIR", self.target())
            .env("CARGO_NET_OFFLINE", "true")
            // The toolchain the test runs with: the binary's home is a temp dir.
            .envs(toolchain_env())
            .args([
                RUNBOOK,
                "--now",
                TODAY,
                "--set",
                &format!("services.github.api_url={}", self.gh.url()),
                "--set",
                &format!("repos.pushduty.path={}", self.repo.work.display()),
            ])
            .args(args)
            .output()
            .unwrap()
    }
}

#[test]
fn the_release_runbook_tags_pushes_packages_and_drafts_the_release() {
    let r = Rig::new();
    let plan = r.run(&["plan", "--json"]);
    assert!(plan.status.success(), "{}", stderr(&plan));
    let plan: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    assert_eq!(plan["vars"]["version"], "0.2.0", "read from Cargo.toml");
    assert_eq!(plan["vars"]["tag"], "v0.2.0");
    assert_eq!(
        plan["vars"]["previous_tag"], "v0.1.0",
        "the last v*.*.* tag by version, not `v0.1` or a nightly"
    );
    assert_eq!(
        plan["vars"]["push_date"], TODAY,
        "on demand: the day it starts"
    );
    assert_eq!(plan["vars"]["hero"], serde_json::Value::Null);
    let text = stdout(&r.run(&["plan"]));
    assert!(text.contains("  release date  Mon 2026-03-02\n"), "{text}");
    assert!(text.contains("  version       0.2.0\n"), "{text}");
    assert!(text.contains("tag v0.2.0, previous v0.1.0"), "{text}");
    assert!(!text.contains("hero"), "no rotation, no hero: {text}");

    let out = r.run(&["run", "--auto", "--answer", "publish=published on GitHub"]);
    let said = format!("{}{}", stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(0), "{said}");

    // The tag, at the tip of main, on the bare remote.
    let main = r.repo.rev("main");
    assert_eq!(
        r.repo.remote_rev("refs/tags/v0.2.0^{commit}").as_deref(),
        Some(main.as_str())
    );
    assert!(r.repo.remote_rev("refs/tags/v0.2.0-1").is_none());

    // The changelog: exactly the commits since v0.1.0, in order, nothing older.
    let session = r
        .env
        .path()
        .join("state/sessions/pushduty-release")
        .join(TODAY);
    let changelog = std::fs::read_to_string(session.join("changelog/pushduty-v0.2.0.md")).unwrap();
    let listed: Vec<&str> = changelog
        .lines()
        .filter_map(|l| l.strip_prefix("- "))
        .map(|l| l.rsplit_once(" (").map_or(l, |(s, _)| s))
        .collect();
    assert_eq!(listed, r.shipped, "{changelog}");
    assert_eq!(listed.len(), 4, "{changelog}");
    assert!(
        changelog.starts_with("## v0.2.0 (2026-03-02)"),
        "{changelog}"
    );
    assert!(
        changelog.contains("https://github.com/pushduty/pushduty/compare/v0.1.0...v0.2.0"),
        "{changelog}"
    );

    // The dry run listed what the package holds.
    assert!(said.contains("Cargo.toml.orig"), "{said}");
    assert!(said.contains("src/lib.rs"), "{said}");

    // The draft on GitHub, with the changelog as its text.
    let releases = r.gh.releases();
    assert_eq!(releases.len(), 1, "{releases:?}");
    assert_eq!(releases[0].tag_name, "v0.2.0");
    assert!(releases[0].draft);
    assert_eq!(releases[0].body, changelog);

    // Every step done, in the journal of that day's session; the token nowhere.
    let entries = journal(&r.env, &format!("pushduty-release/{TODAY}"));
    for step in [
        "fetch",
        "test",
        "changes",
        "changelog",
        "tag",
        "push-tag",
        "package",
        "release-draft",
        "publish",
    ] {
        assert!(
            entries
                .iter()
                .any(|e| e["step"] == step && e["to"] == "done"),
            "{step} not done: {said}"
        );
    }
    let all: String = entries.iter().map(|e| e.to_string()).collect();
    assert!(!all.contains(GH_TOKEN) && !said.contains(GH_TOKEN));

    // A second run finds everything done: nothing tagged, pushed or drafted again.
    let again = r.run(&["run", "--auto"]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert_eq!(r.gh.releases().len(), 1);
    std::fs::remove_dir_all(r.target()).ok();
}

#[test]
fn a_version_that_was_released_at_another_commit_is_refused_not_retagged() {
    let r = Rig::new();
    // Someone released 0.2.0 already, from an older commit.
    git(&r.repo.work, &["tag", "v0.2.0", "main~2"]);
    git(&r.repo.work, &["push", "-q", "origin", "v0.2.0"]);
    let out = r.run(&["run", "--auto"]);
    let said = format!("{}{}", stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("tag v0.2.0 exists already"), "{said}");
    assert!(said.contains("✗ tag"), "{said}");
    std::fs::remove_dir_all(r.target()).ok();
    assert!(r.repo.remote_rev("refs/tags/v0.2.0-1").is_none());
}

#[test]
fn a_missing_version_is_said_clearly() {
    let r = Rig::new();
    r.repo.commit(
        "Cargo.toml",
        "[package]\nname = \"tiny\"\nedition = \"2021\"\n",
        "Forget the version",
    );
    let out = r.run(&["plan"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let e = stderr(&out);
    assert!(
        e.contains("vars.version: reading `package.version` of Cargo.toml in the checkout of repo `pushduty`"),
        "{e}"
    );
    assert!(e.contains("Cargo.toml has no `package.version`"), "{e}");
    // Without a checkout (learning the runbook) the version is shown as not known yet.
    let out = r.env.run(&[RUNBOOK, "--now", TODAY, "plan", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["vars"]["tag"], "v⟨version⟩");
}
