//! Fetch and the tag push over real transports, through `pushduty do` as the operator meets
//! them: an ssh `Host` alias of `~/.ssh/config` served by OpenSSH's sshd (a key file, a key in
//! the agent alone, no key, a hook that refuses), https with basic authentication answered by
//! a credential helper; and what pushduty needs of `git` itself.

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use crate::support::cli::stderr;
use crate::support::git_servers::{self, Operator, Server};
use crate::support::gitrepo::git;
use crate::support::push::Push;

/// `pushduty do STEP --yes` on the push, with `env` added to the binary's environment.
fn step(p: &Push, env: &[(String, String)], step: &str, input: &[&str]) -> Output {
    let mut cmd = p.env.cmd();
    cmd.args(p.args()).args(["do", step, "--yes"]).args(input);
    cmd.envs(env.iter().map(|(k, v)| (k, v)));
    cmd.output().unwrap()
}

fn said(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The line saying why step `name` failed: what the operator reads as the step's error.
fn failure(out: &Output, name: &str) -> String {
    let err = stderr(out);
    let prefix = format!("pushduty: `{name}` failed: ");
    err.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no failure of {name} in: {err}"))
        .to_string()
}

fn ok(p: &Push, env: &[(String, String)], name: &str, input: &[&str]) -> String {
    let out = step(p, env, name, input);
    assert!(out.status.success(), "do {name}: {}", said(&out));
    said(&out)
}

/// The push's checkout reaches its remote as `olympia-upstream:/path/remote.git`.
fn over_ssh(p: &Push) -> (Server, Operator) {
    let server = git_servers::sshd();
    let operator = Operator::new(p.env.path());
    git(
        &p.repo.work,
        &[
            "remote",
            "set-url",
            "origin",
            &format!("olympia-upstream:{}", p.repo.remote.display()),
        ],
    );
    (server, operator)
}

/// Fetch, then tag main and push the tag; the remote has it at the fetched tip.
fn fetch_tag_push(p: &Push, env: &[(String, String)]) {
    let teammate = p.repo.remote_commit("b.txt", "b\n", "A teammate's fix");
    ok(p, env, "fetch", &[]);
    assert_eq!(p.repo.rev("main"), teammate, "fetched and fast-forwarded");
    ok(p, env, "strategy", &["--input", "strategy=master"]);
    ok(p, env, "tag-main", &[]);
    let out = ok(p, env, "push", &[]);
    assert!(out.contains("pushed 2015.09.10"), "{out}");
    assert_eq!(
        p.repo.remote_rev("refs/tags/2015.09.10").as_deref(),
        Some(teammate.as_str())
    );
}

#[test]
fn fetch_and_the_tag_push_go_through_an_ssh_host_alias() {
    let p = Push::new();
    let (server, operator) = over_ssh(&p);
    let key = operator.keygen("id_olympia");
    server.authorize(&key.with_extension("pub"));
    operator.ssh_config(&server, Some(&key));
    fetch_tag_push(&p, &operator.env());
}

#[test]
fn a_key_held_only_by_the_ssh_agent_is_used() {
    let p = Push::new();
    let (server, mut operator) = over_ssh(&p);
    let key = operator.keygen("agent_only");
    server.authorize(&key.with_extension("pub"));
    operator.agent_with(&key);
    // Out of ssh's sight but in the agent.
    std::fs::remove_file(&key).unwrap();
    operator.ssh_config(&server, None);
    fetch_tag_push(&p, &operator.env());
}

#[test]
fn without_a_key_fetch_fails_at_once_with_ssh_s_own_words() {
    let p = Push::new();
    let (server, operator) = over_ssh(&p);
    operator.ssh_config(&server, None);
    let started = Instant::now();
    let out = step(&p, &operator.env(), "fetch", &[]);
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    let err = failure(&out, "fetch");
    assert!(err.contains("Permission denied (publickey)"), "{err}");
    assert!(took < Duration::from_secs(10), "took {took:?}: {err}");
    assert_eq!(p.session()["steps"]["fetch"]["status"]["state"], "failed");
}

#[test]
fn a_pre_receive_hook_s_refusal_over_ssh_reaches_the_step() {
    let p = Push::new();
    let (server, operator) = over_ssh(&p);
    let key = operator.keygen("id_olympia");
    server.authorize(&key.with_extension("pub"));
    operator.ssh_config(&server, Some(&key));
    p.repo
        .reject_pushes("release tags are frozen: ask in #releng");
    let env = operator.env();
    ok(&p, &env, "strategy", &["--input", "strategy=master"]);
    ok(&p, &env, "tag-main", &[]);
    let out = step(&p, &env, "push", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    let err = failure(&out, "push");
    assert!(
        err.contains("remote: release tags are frozen: ask in #releng"),
        "{err}"
    );
    assert!(err.contains("pre-receive hook declined"), "{err}");
    assert_eq!(p.repo.remote_rev("refs/tags/2015.09.10"), None);
    assert_eq!(p.session()["steps"]["push"]["status"]["state"], "failed");
}

/// A credential helper that answers `user` and `password` for every URL.
fn credential_helper(dir: &Path, user: &str, password: &str) -> String {
    let helper = dir.join(format!("helper-{user}.sh"));
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\n[ \"$1\" = get ] || exit 0\nprintf 'username={user}\\npassword={password}\\n'\n"
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    helper.display().to_string()
}

#[test]
fn https_with_a_credential_helper_and_wrong_credentials_without_a_prompt() {
    let p = Push::new();
    let password = "correct horse";
    let server = git_servers::git_https(p.repo.dir.path(), "alice", password);
    let url = format!("https://127.0.0.1:{}/git/remote.git", server.port);
    let work = &p.repo.work;
    git(work, &["remote", "set-url", "origin", &url]);
    git(
        work,
        &[
            "config",
            "http.sslCAInfo",
            server.ca_file().to_str().unwrap(),
        ],
    );
    let helpers = tempfile::tempdir().unwrap();
    let right = credential_helper(helpers.path(), "alice", password);
    git(work, &["config", "credential.helper", &right]);
    fetch_tag_push(&p, &[]);

    // A helper with a stale password: refused at once, never asked for another.
    let stale = credential_helper(helpers.path(), "alice", "stale-s3cret");
    git(work, &["config", "credential.helper", &stale]);
    let started = Instant::now();
    let out = step(&p, &[], "fetch", &["--reopen", "try again"]);
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    assert!(started.elapsed() < Duration::from_secs(10));
    let err = failure(&out, "fetch");
    assert!(err.contains("Authentication failed"), "{err}");

    // A password written into the URL reaches neither the screen nor the journal.
    git(work, &["config", "--unset", "credential.helper"]);
    let with_password = url.replace("https://", "https://alice:url-s3cret@");
    git(work, &["remote", "set-url", "origin", &with_password]);
    let out = step(&p, &[], "fetch", &["--reopen", "try again"]);
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    let journal = std::fs::read_to_string(p.dir().join("journal.jsonl")).unwrap();
    for text in [said(&out), journal] {
        assert!(!text.contains("url-s3cret"), "{text}");
    }
}

#[test]
fn a_git_too_old_or_missing_is_named_with_what_is_needed() {
    let p = Push::new();
    let bin = tempfile::tempdir().unwrap();
    let fake = bin.path().join("git");
    std::fs::write(&fake, "#!/bin/sh\necho 'git version 2.20.1'\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = step(&p, &[("PATH".into(), path)], "fetch", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    let err = stderr(&out);
    assert!(
        err.contains("must be 2.29 or newer") && err.contains("git version 2.20.1"),
        "{err}"
    );

    let out = step(
        &p,
        &[("PATH".into(), bin.path().join("none").display().to_string())],
        "fetch",
        &["--reopen", "try again"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    let err = stderr(&out);
    assert!(
        err.contains("2.29 or newer") && err.contains("install git"),
        "{err}"
    );
}

/// Processes whose command line holds `needle`, other than this test's.
fn processes_with(needle: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let zombie = stat.rsplit_once(')')?.1.trim_start().starts_with('Z');
            (!zombie && pid != std::process::id() && cmd.contains(needle))
                .then(|| format!("{pid}: {cmd}"))
        })
        .collect()
}

#[test]
fn sigterm_ends_a_fetch_that_hangs_with_git_and_ssh() {
    let p = Push::new();
    // A server that takes the connection and never says a word: ssh waits for its banner.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let operator = Operator::new(p.env.path());
    std::fs::write(
        p.env.path().join(".ssh/config"),
        format!("Host silent-upstream\n  HostName 127.0.0.1\n  Port {port}\n"),
    )
    .unwrap();
    // The path names this test's ssh among every other process.
    let marker = p.repo.dir.path().join("hangs.git");
    let url = format!("silent-upstream:{}", marker.display());
    git(&p.repo.work, &["remote", "set-url", "origin", &url]);
    let needle = marker.display().to_string();

    let mut cmd = p.env.cmd();
    cmd.args(p.args())
        .args(["do", "fetch", "--yes"])
        .envs(operator.env())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = cmd.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while processes_with(&needle).is_empty() {
        assert!(Instant::now() < deadline, "ssh never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    let pid = i32::try_from(child.id()).unwrap();
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let started = Instant::now();
    let out = child.wait_with_output().unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(out.status.code(), Some(143), "{}", said(&out));
    let deadline = Instant::now() + Duration::from_secs(5);
    while !processes_with(&needle).is_empty() {
        assert!(
            Instant::now() < deadline,
            "left running: {:?}",
            processes_with(&needle)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let state = &p.session()["steps"]["fetch"]["status"];
    assert_eq!(state["state"], "interrupted", "{state}");
    drop(silent);
}

/// `doctor --json`'s item for the push's remote, run with `env` added.
fn doctor_remote(p: &Push, env: &[(String, String)]) -> serde_json::Value {
    let mut cmd = p.env.cmd();
    cmd.args(p.args()).args(["doctor", "--json"]);
    cmd.envs(env.iter().map(|(k, v)| (k, v)));
    let out = cmd.output().unwrap();
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", said(&out)));
    report["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == "git")
        .cloned()
        .unwrap_or_else(|| panic!("no git item: {report:#}"))
}

#[test]
fn doctor_reaches_the_remote_over_ssh_names_a_missing_key_and_pushes_nothing() {
    let p = Push::new();
    let (server, operator) = over_ssh(&p);
    operator.ssh_config(&server, None);
    let item = doctor_remote(&p, &operator.env());
    assert_eq!(item["item"], "git app remote origin");
    assert_eq!(item["ok"], false, "{item:#}");
    let detail = item["detail"].as_str().unwrap();
    assert!(detail.contains("Permission denied (publickey)"), "{item:#}");
    assert!(
        item["fix"].as_str().unwrap().contains("your ssh key"),
        "{item:#}"
    );

    let key = operator.keygen("id_olympia");
    server.authorize(&key.with_extension("pub"));
    operator.ssh_config(&server, Some(&key));
    let item = doctor_remote(&p, &operator.env());
    assert_eq!(item["ok"], true, "{item:#}");
    // A dry run: the remote has no tag of doctor's.
    let tags = git(&p.repo.remote, &["tag", "--list"]);
    assert!(!tags.contains("pushduty-doctor"), "{tags}");
}
