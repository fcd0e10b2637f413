//! Hostile input through the binary: templates that would crash or hang, control characters
//! in data, secrets in templates, broken pipes, typos in config keys, floods of diagnostics.

use std::path::PathBuf;
use std::process::Output;
use std::time::{Duration, Instant};

use crate::support;
use crate::support::cli::{Env, root, stderr, stdout};

/// The minimal valid runbook with extra text appended (more steps, say).
fn runbook(env: &Env, extra: &str) -> PathBuf {
    let base =
        std::fs::read_to_string(root().join("tests/fixtures/runbooks/valid/minimal.toml")).unwrap();
    let path = env.path().join("runbook.toml");
    std::fs::write(&path, format!("{base}\n{extra}")).unwrap();
    path
}

/// Asserts that the command wrote `needle` to stderr.
fn said(out: &Output, needle: &str) {
    let err = stderr(out);
    assert!(
        err.contains(needle),
        "expected {needle:?} in stderr:\n{err}"
    );
}

/// Asserts that the command wrote `needle` to stdout.
fn printed(out: &Output, needle: &str) {
    let text = stdout(out);
    assert!(
        text.contains(needle),
        "expected {needle:?} in stdout:\n{text}"
    );
}

fn manual_step(id: &str, title: &str, doc: &str) -> String {
    format!(
        "[[steps]]\nid = \"{id}\"\nsection = \"tag\"\ntitle = '''{title}'''\nkind = \"manual\"\ndoc = '''{doc}'''\n"
    )
}

#[test]
fn hostile_templates_fail_fast_instead_of_crashing() {
    let env = Env::new();
    let recursive = manual_step(
        "rec",
        "Recurse",
        "{% macro f() %}{{ self::f() }}{% endmacro f %}{{ self::f() }}",
    );
    let parens = format!("{{{{ {}1{} }}}}", "(".repeat(5000), ")".repeat(5000));
    let deep = manual_step("deep", &parens, "");
    // tera's parser takes minutes over a dozen calls nested in calls' arguments.
    let calls = (0..30).fold("tag".to_string(), |inner, _| format!("f(x={inner})"));
    let nested_calls = manual_step("calls", "Calls", &format!("{{{{ {calls} }}}}"));
    for (extra, why) in [
        (
            recursive,
            "error: macro `f` calls itself (directly or through other macros); a template cannot recurse",
        ),
        (deep, "error: template nests brackets more than 32 deep"),
        (
            nested_calls,
            "error: template nests calls more than 4 deep; set the inner values first",
        ),
    ] {
        let rb = runbook(&env, &extra);
        for cmd in ["check", "plan"] {
            let out = env.run(&[cmd, "--runbook", rb.to_str().unwrap()]);
            assert_eq!(out.status.code(), Some(1), "{cmd}: {}", stderr(&out));
            // Said as a problem of the runbook, at its place in the file; no crash, no plan.
            said(&out, &format!("{}:", rb.display()));
            said(&out, why);
            let err = stderr(&out);
            assert!(
                !err.contains("panicked") && !err.contains("overflow"),
                "{cmd}: {err}"
            );
            assert!(stdout(&out).trim().is_empty(), "{cmd}: {}", stdout(&out));
        }
    }
}

#[test]
fn loops_that_pass_check_still_end_quickly_in_plan() {
    let env = Env::new();
    // Two loops deep is allowed; their 10^10 iterations are not.
    let loops = manual_step(
        "loops",
        "Loops",
        "{% for a in range(end=100000) %}{% for b in range(end=100000) %}.{% endfor %}{% endfor %}",
    );
    let rb = runbook(&env, &loops);
    let started = Instant::now();
    let out = env.run(&["plan", "--runbook", rb.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(started.elapsed() < Duration::from_secs(20));
    printed(&out, "Loops [loops]");
}

const OSC_TITLE: &str = "\u{1b}]0;pwned\u{7}";
const CLEAR: &str = "\u{1b}[2J";

fn assert_no_escape(what: &str, text: &str) {
    assert!(
        !text.contains('\u{1b}'),
        "{what} printed a raw ESC: {text:?}"
    );
    assert!(
        !text.contains('\u{7}'),
        "{what} printed a raw BEL: {text:?}"
    );
}

#[test]
fn runbook_strings_cannot_steer_the_terminal() {
    let env = Env::new();
    let base =
        std::fs::read_to_string(root().join("tests/fixtures/runbooks/valid/minimal.toml")).unwrap();
    let hostile = base.replace(
        "name = \"Minimal push\"",
        "name = \"Push \\u001b]0;pwned\\u0007 \\u001b[2J\"",
    ) + "[[steps]]\nid = \"m\"\nsection = \"tag\"\nkind = \"manual\"\n\
         title = \"Wipe \\u001b[2J\"\ndoc = \"Doc \\u001b]0;pwned\\u0007\"\n";
    let rb = env.path().join("hostile.toml");
    std::fs::write(&rb, hostile).unwrap();
    let rb = rb.to_str().unwrap();
    for args in [
        vec!["check", "--runbook", rb],
        vec!["plan", "--runbook", rb],
        vec!["render", "--runbook", rb],
    ] {
        let out = env.run(&args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        assert_no_escape(args[0], &stdout(&out));
        printed(&out, "\\u{1b}");
    }
    // JSON stays JSON: serde escapes the control characters itself.
    let out = env.run(&["plan", "--json", "--runbook", rb]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["runbook"].as_str().unwrap().contains(OSC_TITLE));
    // Errors quoting data are escaped too.
    let out = env.run(&[
        "check",
        "--runbook",
        rb,
        "--set",
        &format!("schedule.push_day=x{CLEAR}"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_no_escape("check error", &stderr(&out));
    said(&out, "x\\u{1b}[2J");
}

#[test]
fn commit_subjects_cannot_steer_the_terminal() {
    let env = Env::new();
    let work = env.path().join("repo");
    support::gitrepo::isolate_libgit2();
    let repo = git2::Repository::init(&work).unwrap();
    let sig = git2::Signature::now("Tester", "tester@example.com").unwrap();
    let tree = repo
        .find_tree(repo.index().unwrap().write_tree().unwrap())
        .unwrap();
    let subject = format!("fix {OSC_TITLE}{CLEAR}");
    repo.commit(Some("HEAD"), &sig, &sig, &subject, &tree, &[])
        .unwrap();
    std::fs::write(
        env.config(),
        format!("operator = \"tester\"\n[repos.app]\npath = {:?}\n", work),
    )
    .unwrap();
    let rb = root().join("tests/fixtures/runbooks/valid/minimal.toml");
    let out = env.run(&["status", "--runbook", rb.to_str().unwrap()]);
    assert_no_escape("status", &stdout(&out));
    printed(&out, "fix \\u{1b}]0;pwned");
}

#[test]
fn operator_names_cannot_steer_the_terminal() {
    let env = Env::new();
    let rb = runbook(&env, &manual_step("m", "Manual", ""));
    let rb = rb.to_str().unwrap();
    let name = format!("eve{OSC_TITLE}{CLEAR}");
    let out = env.run(&["do", "m", "--yes", "--runbook", rb, "--operator", &name]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = env.run(&["history"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_no_escape("history", &stdout(&out));
    printed(&out, "eve\\u{1b}");
}

#[test]
fn a_flood_of_one_mistake_prints_fifty_and_a_count() {
    let env = Env::new();
    let steps: String = (0..300)
        .map(|i| {
            format!(
                "[[steps]]\nid = \"s{i}\"\nsection = \"nope\"\ntitle = \"x\"\nkind = \"manual\"\n"
            )
        })
        .collect();
    let rb = runbook(&env, &steps);
    let out = env.run(&["check", "--runbook", rb.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 52, "{err}");
    assert_eq!(lines[50], "... and 250 more not shown");
    assert_eq!(lines[51], "300 problems found");
    // Other commands stop at the same fifty.
    let out = env.run(&["plan", "--runbook", rb.to_str().unwrap()]);
    assert_eq!(stderr(&out).lines().count(), 51);
}

#[test]
fn templates_cannot_read_the_environment() {
    let env = Env::new();
    let rb = runbook(
        &env,
        &manual_step("m", "Token", "{{ get_env(name=\"PUSHDUTY_TEST_TOKEN\") }}"),
    );
    let out = env.run(&["check", "--runbook", rb.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    said(
        &out,
        "templates cannot read the environment (`get_env`); name a secret in its service with `{ env = \"NAME\" }` or `{ keyring = \"service/user\" }`",
    );
    let out = env
        .cmd()
        .args(["plan", "--json", "--runbook", rb.to_str().unwrap()])
        .env("PUSHDUTY_TEST_TOKEN", "tok-123456")
        .output()
        .unwrap();
    assert!(!stdout(&out).contains("tok-123456"));
    assert!(!stderr(&out).contains("tok-123456"));
}

#[test]
fn a_closed_stdout_ends_quietly() {
    use std::process::Stdio;
    let env = Env::new();
    for args in [
        ["plan", "--json"],
        ["render", "--format=markdown"],
        ["check", "--runbook=runbooks/amo-push.toml"],
    ] {
        for _ in 0..5 {
            let mut child = env
                .cmd()
                .args(args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            // Close the reading end before the first write, like `head` that has had enough.
            drop(child.stdout.take());
            let out = child.wait_with_output().unwrap();
            assert_ne!(out.status.code(), Some(101), "{args:?} panicked");
            assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
        }
    }
}

#[test]
fn home_is_expanded_in_every_path() {
    let env = Env::new();
    support::cli::repo_with_tags(env.path(), &["2015.09.03"]);
    std::fs::copy(
        root().join("tests/fixtures/runbooks/valid/minimal.toml"),
        env.path().join("rb.toml"),
    )
    .unwrap();
    std::fs::write(
        env.config(),
        "operator = \"tester\"\n[repos.app]\npath = \"~/work\"\n",
    )
    .unwrap();
    std::fs::copy(env.config(), env.path().join("tilde-config.toml")).unwrap();
    // HOME is the temp dir; `~` must find the repo, the runbook and the config there.
    let out = env.run(&[
        "status",
        "--json",
        "--runbook",
        "~/rb.toml",
        "--config",
        "~/tilde-config.toml",
        "--state-dir",
        "~/st",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["git"]["app"]["error"], serde_json::Value::Null, "{v}");
    assert_eq!(v["git"]["app"]["last_tag"], "2015.09.03", "{v}");
    std::fs::write(env.config(), "operator = \"tester\"\n").unwrap();
    let out = env.run(&[
        "status",
        "--json",
        "--runbook",
        "~/rb.toml",
        "--set",
        "repos.app.path=~/work",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut rb = std::fs::read_to_string(env.path().join("rb.toml")).unwrap();
    rb.push_str(&manual_step("m", "Manual", ""));
    std::fs::write(env.path().join("rb.toml"), rb).unwrap();
    let out = env.run(&[
        "do",
        "m",
        "--yes",
        "--runbook",
        "~/rb.toml",
        "--state-dir",
        "~/st",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        env.path().join("st").is_dir(),
        "the state dir is under HOME"
    );
    let out = env.run(&["history", "--state-dir", "~/st"]);
    assert!(out.status.success(), "{}", stderr(&out));
    printed(&out, "Minimal push");
}

#[test]
fn config_and_set_keys_must_name_what_the_runbook_has() {
    let env = Env::new();
    std::fs::write(
        env.config(),
        "operator = \"tester\"\n[repos.olympa]\npath = \"/src/olympia\"\n",
    )
    .unwrap();
    // In the config file a warning (one config serves several runbooks); with `--set`, for
    // this one run, an error.
    let out = env.run(&["check"]);
    assert_eq!(out.status.code(), Some(0));
    said(
        &out,
        "config.toml:2:8: warning: repo `olympa` is not in `AMO weekly push` (did you mean `olympia`?)",
    );
    std::fs::write(env.config(), "operator = \"tester\"\n").unwrap();
    let out = env.run(&["check", "--set", "repos.olympa.path=/x"]);
    said(
        &out,
        "--set: error: undefined repo `olympa` (did you mean `olympia`?)",
    );
    let out = env.run(&["plan", "--set", "repos.olympa.path=/x"]);
    assert_eq!(out.status.code(), Some(1));
    let out = env.run(&["check", "--set", "repos.olympia.pth=/x"]);
    said(
        &out,
        "unknown key `pth` in repo `olympia` (did you mean `path`?); expected one of: github, remote, branch, migrations, path",
    );
}

#[test]
fn set_values_take_the_type_of_their_field() {
    let env = Env::new();
    let out = env.run(&[
        "plan",
        "--json",
        "--set",
        "rotation.start=2015-09-17",
        "--now",
        "2015-09-21",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = env.run(&["check", "--set", "rotation.start=2015-09-11"]);
    said(&out, "rotation start 2015-09-11 is a Fri");
    let out = env.run(&["check", "--set", "name=2015"]);
    printed(&out, "ok: `2015`");
    let out = env.run(&["check", "--set", "rotation.people=[\"a\", \"b\"]"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// `--json` is read by programs and printed by people: the values keep every character, the
/// text carries none a terminal obeys (U+009B is a one-byte CSI, U+202E reverses what follows).
#[test]
fn json_answers_escape_what_a_terminal_would_obey() {
    let env = Env::new();
    let title = "Tag \u{9b}2J \u{202e}gat end";
    let rb = runbook(&env, &manual_step("odd", title, "why \u{9b}31m"));
    let rb = rb.to_str().unwrap();
    for args in [
        vec!["--runbook", rb, "--now", "2015-09-08", "plan", "--json"],
        vec!["--runbook", rb, "render", "--json"],
    ] {
        let out = env.run(&args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        let text = stdout(&out);
        for c in ['\u{9b}', '\u{202e}'] {
            assert!(!text.contains(c), "{args:?}: raw {c:?} in\n{text}");
        }
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert!(
            v.to_string().contains(title),
            "{args:?}: the title lost a character"
        );
    }
}

/// The findings of issue 20: a one-line template that passed `check` and then took all the
/// memory `plan` could get. Now `check` refuses the doubling `set`, and the chained filters
/// stop at their fuel; both in bounded memory.
#[test]
fn one_line_templates_cannot_exhaust_memory() {
    let env = Env::new();
    let ten = "| replace(from=\"a\", to=\"aaaaaaaaaa\") ".repeat(10);
    let filters = manual_step(
        "filters",
        "Filters",
        &format!("{{{{ \"aaaaaaaaaa\" {ten}}}}}"),
    );
    let doubling = manual_step(
        "doubling",
        "Doubling",
        "{% set_global s = 'x' %}{% for i in range(end=64) %}{% set_global s = s ~ s %}{% endfor %}{{ s | length }}",
    );
    let rb = runbook(&env, &doubling);
    let rb = rb.to_str().unwrap();
    for cmd in ["check", "plan"] {
        let out = support::peak::run(env.cmd().args([cmd, "--runbook", rb]), 400);
        assert!(
            !out.killed && out.peak_mib < 200,
            "{cmd}: {} MiB",
            out.peak_mib
        );
        assert_eq!(out.code, Some(1), "{cmd}: {}", out.stderr);
        assert!(
            out.stderr
                .contains("`set s` reads the template's own variables 2 times"),
            "{cmd}: {}",
            out.stderr
        );
    }
    let rb = runbook(&env, &filters);
    let rb = rb.to_str().unwrap();
    let out = support::peak::run(env.cmd().args(["check", "--runbook", rb]), 400);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    for args in [["plan", "--runbook", rb], ["render", "--runbook", rb]] {
        let out = support::peak::run(env.cmd().args(args), 400);
        assert!(
            !out.killed && out.peak_mib < 200,
            "{args:?}: {} MiB",
            out.peak_mib
        );
        assert!(
            out.elapsed < Duration::from_secs(10),
            "{args:?}: {:?}",
            out.elapsed
        );
        assert_eq!(out.code, Some(0), "{args:?}: {}", out.stderr);
    }
    // `render` shows the doc, and why it could not be filled in.
    let out = env.run(&["render", "--runbook", rb]);
    printed(
        &out,
        "cannot be filled in: Failed to render 'template': Filter call 'replace' failed: \
         `replace` would make 10000000 bytes; one value may hold at most 4194304",
    );
}
