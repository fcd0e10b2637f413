//! pushduty at home among other tools: shell completions, a man page, a version that names
//! its commit, a JSON Schema editors can use, and a log file that keeps no secret.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::cli::{Env, do_step, root, stderr, stdout};

/// Every subcommand of the contract (design/CLI.md).
const SUBCOMMANDS: &[&str] = &[
    "run",
    "learn",
    "check",
    "plan",
    "render",
    "status",
    "do",
    "history",
    "show",
    "add",
    "report",
    "schema",
    "completions",
    "man",
];

#[test]
fn completions_name_every_subcommand_in_each_shell() {
    let env = Env::new();
    for shell in ["bash", "zsh", "fish"] {
        let o = env.run(&["completions", shell]);
        assert!(o.status.success(), "{shell}: {}", stderr(&o));
        let text = stdout(&o);
        for sub in SUBCOMMANDS {
            // bash: `pushduty,do)`; zsh: `'do:...'`; fish: `-a "do"`.
            let named = match shell {
                "bash" => text.contains(&format!("pushduty,{sub})")),
                "zsh" => text.contains(&format!("'{sub}:")),
                _ => text.contains(&format!("-a \"{sub}\"")),
            };
            assert!(named, "{shell} completion lacks `{sub}`");
        }
    }
}

#[test]
fn bash_completion_loads_in_a_real_bash() {
    let o = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source <('{}' completions bash) && complete -p pushduty",
            env!("CARGO_BIN_EXE_pushduty")
        ))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("-F _pushduty pushduty"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn unknown_shell_is_a_usage_error() {
    let o = Env::new().run(&["completions", "cmd.exe"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn man_page_is_roff_with_the_options_and_subcommands() {
    let o = Env::new().run(&["man"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains(".TH pushduty 1"), "{text}");
    for opt in [
        "runbook",
        "config",
        "state\\-dir",
        "now",
        "set",
        "operator",
        "verbose",
    ] {
        assert!(text.contains(&format!("\\-\\-{opt}")), "man lacks --{opt}");
    }
    // One page: each subcommand has its section in it, and no page of its own is named.
    for sub in SUBCOMMANDS {
        assert!(text.contains(&format!("\n.SS {sub}\n")), "man lacks {sub}");
        assert!(
            !text.contains(&format!("pushduty\\-{sub}(1)")),
            "man names pushduty-{sub}(1)"
        );
    }
}

fn git_out(args: &[&str]) -> Option<String> {
    let o = Command::new("git")
        .current_dir(root())
        .args(args)
        .output()
        .ok()?;
    o.status
        .success()
        .then(|| String::from_utf8_lossy(&o.stdout).trim().to_string())
}

#[test]
fn version_names_the_crate_version_and_the_commit() {
    let o = Env::new().run(&["--version"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let rest = text
        .strip_prefix(&format!("pushduty {} (", env!("CARGO_PKG_VERSION")))
        .unwrap_or_else(|| panic!("{text}"));
    let commit = rest.strip_suffix(")\n").unwrap_or_else(|| panic!("{text}"));
    match git_out(&["rev-parse", "--short", "HEAD"]) {
        // A checkout: its HEAD, marked dirty or not.
        Some(sha) => assert!(
            commit == sha || commit == format!("{sha}-dirty"),
            "{commit} is not {sha}"
        ),
        None => assert_eq!(commit, "unknown"),
    }
}

fn schema_validator() -> jsonschema::Validator {
    let o = Env::new().run(&["schema"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let schema: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

fn as_json(toml_text: &str) -> serde_json::Value {
    toml::from_str(toml_text).unwrap()
}

fn tomls(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    out.sort();
    out
}

#[test]
fn every_runbook_check_accepts_validates_against_the_schema() {
    let v = schema_validator();
    let mut files = tomls(&root().join("runbooks"));
    assert!(files.len() >= 3);
    files.extend(tomls(&root().join("tests/fixtures/runbooks/valid")));
    for f in files {
        let doc = as_json(&std::fs::read_to_string(&f).unwrap());
        let errors: Vec<String> = v.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", f.display());
    }
}

#[test]
fn the_schema_rejects_what_check_rejects() {
    let v = schema_validator();
    let base = std::fs::read_to_string(root().join("runbooks/amo-push.toml")).unwrap();
    assert!(v.is_valid(&as_json(&base)));
    let step = |body: &str| {
        format!("{base}\n[[steps]]\nid = \"x\"\nsection = \"s\"\ntitle = \"T\"\n{body}\n")
    };
    let broken = [
        (
            "unknown step kind",
            step("kind = \"git.tagg\"\nrepo = \"olympia\""),
        ),
        ("missing kind", step("repo = \"olympia\"")),
        ("missing a kind's key", step("kind = \"git.tag\"")),
        (
            "another kind's key",
            step("kind = \"manual\"\nrepo = \"olympia\""),
        ),
        (
            "unknown common key",
            step("kind = \"manual\"\nwhen = \"now\""),
        ),
        ("wrong type", step("kind = \"manual\"\nconfirm = \"yes\"")),
        (
            "missing title",
            format!("{base}\n[[steps]]\nid = \"x\"\nsection = \"s\"\nkind = \"manual\"\n"),
        ),
        (
            "unknown service kind",
            format!("{base}\n[services.x]\nkind = \"nagios\"\nurl = \"u\"\n"),
        ),
        (
            "missing service key",
            format!("{base}\n[services.x]\nkind = \"jenkins\"\nurl = \"u\"\n"),
        ),
        ("unknown top-level key", format!("colour = \"red\"\n{base}")),
    ];
    for (what, text) in broken {
        assert!(!v.is_valid(&as_json(&text)), "schema accepted: {what}");
    }
    let mut no_name = as_json(&base);
    no_name.as_object_mut().unwrap().remove("name");
    assert!(
        !v.is_valid(&no_name),
        "schema accepted a runbook without a name"
    );
}

const SHELL_RB: &str = "--runbook=tests/fixtures/runbooks/valid/shell-values.toml";
const TOKEN: &str = "tok-in-env-93b1c7e2";

fn log_files(state: &Path) -> Vec<PathBuf> {
    let dir = state.join("logs");
    std::fs::read_dir(&dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

#[test]
fn the_log_records_the_command_and_steps_but_no_token() {
    let env = Env::new();
    let o = env
        .cmd()
        .env("PUSHDUTY_PASSED_ON", TOKEN)
        .env("GITHUB_TOKEN", TOKEN)
        .args(do_step(SHELL_RB, "environment", &["--yes"]))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    // The step did see it (it prints its environment), so the token was there to leak.
    assert!(stderr(&o).contains(TOKEN), "{}", stderr(&o));
    let state = env.path().join("state");
    let files = log_files(&state);
    assert_eq!(files.len(), 1, "{files:?}");
    let log = &files[0];
    assert!(
        log.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("pushduty.log")
    );
    let text = std::fs::read_to_string(log).unwrap();
    assert!(!text.contains(TOKEN), "the token is in the log:\n{text}");
    for needle in [
        "command started",
        "command=\"do\"",
        "push_date=2015-09-10",
        "step started",
        "step finished",
        "step=\"environment\"",
    ] {
        assert!(text.contains(needle), "log lacks {needle}:\n{text}");
    }
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(log), 0o600);
    assert_eq!(mode(&state.join("logs")), 0o700);
}

#[test]
fn a_failed_step_is_logged_and_rust_log_overrides_the_level() {
    let env = Env::new();
    let dir = tempfile::tempdir().unwrap();
    let rb = dir.path().join("fail.toml");
    let text = std::fs::read_to_string(
        root().join("tests/fixtures/runbooks/valid/shell-values.toml"),
    )
    .unwrap()
        + "\n[[steps]]\nid = \"boom\"\nsection = \"only\"\ntitle = \"Fails\"\nkind = \"shell\"\ncommand = \"exit 3\"\ntimeout_secs = 10\n";
    std::fs::write(&rb, text).unwrap();
    let rb_arg = format!("--runbook={}", rb.display());
    let o = env.run(&do_step(&rb_arg, "boom", &["--yes"]));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let state = env.path().join("state");
    let text = std::fs::read_to_string(&log_files(&state)[0]).unwrap();
    assert!(text.contains("step failed"), "{text}");
    assert!(text.contains("exited with code 3"), "{text}");
    // RUST_LOG=error keeps info lines out: nothing new is written by a succeeding command.
    let before = text.len();
    let o = env
        .cmd()
        .env("RUST_LOG", "error")
        .args(do_step(
            &rb_arg,
            "build",
            &["--yes", "--input", "build_id=7"],
        ))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let after = std::fs::read_to_string(&log_files(&state)[0]).unwrap();
    assert_eq!(after.len(), before, "{after}");
}

#[test]
fn the_log_escapes_control_and_bidi_characters_a_step_printed() {
    let env = Env::new();
    let dir = tempfile::tempdir().unwrap();
    let rb = dir.path().join("raw.toml");
    // The runbook's name and the operator's carry ESC, NUL and a right-to-left override;
    // a step prints them on both streams and fails; a typed value carries them too.
    let text = std::fs::read_to_string(
        root().join("tests/fixtures/runbooks/valid/shell-values.toml"),
    )
    .unwrap()
    .replace(
        "name = \"Shell values\"",
        r#"name = "Shell \u001b[2J\u0000 \u202Evalues""#,
    ) + r#"
[[steps]]
id = "raw"
section = "only"
title = "Prints raw bytes"
kind = "shell"
command = """printf 'out\\033[2J\\000\\342\\200\\256done\\n'; printf 'err\\033]0;t\\007\\000\\342\\200\\256\\n' >&2; exit 3"""
timeout_secs = 10
"#;
    std::fs::write(&rb, text).unwrap();
    let rb_arg = format!("--runbook={}", rb.display());
    let o = env
        .cmd()
        .args(["--operator", "ana\u{1b}]0;x\u{7}\u{202e}"])
        .args(do_step(&rb_arg, "raw", &["--yes"]))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let o = env.run(&do_step(
        &rb_arg,
        "build",
        &["--yes", "--input", "build_id=7\u{1b}[31m\u{202e}"],
    ));
    assert!(o.status.success(), "{}", stderr(&o));
    let log = std::fs::read(&log_files(&env.path().join("state"))[0]).unwrap();
    let log = String::from_utf8(log).unwrap();
    assert!(log.contains("step failed"), "{log}");
    let raw: Vec<char> = log
        .chars()
        .filter(|c| (c.is_control() && *c != '\n') || ('\u{202a}'..='\u{202e}').contains(c))
        .collect();
    assert!(raw.is_empty(), "raw {raw:?} in the log:\n{log}");
}

#[test]
fn a_log_that_cannot_be_opened_is_one_warning_and_the_command_goes_on() {
    let env = Env::new();
    let state = env.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    // A file where the log folder should be.
    std::fs::write(state.join("logs"), "").unwrap();
    let o = env.run(&do_step(
        SHELL_RB,
        "build",
        &["--yes", "--input", "build_id=7"],
    ));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stderr(&o).matches("warning: no log file").count(),
        1,
        "{}",
        stderr(&o)
    );
}

#[test]
fn commands_that_only_print_make_no_log() {
    let env = Env::new();
    for args in [
        &["schema"][..],
        &["check"],
        &["man"],
        &["--now", "2015-09-08", "plan"],
    ] {
        let o = env.run(args);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    }
    assert!(!env.path().join("state").exists());
}

#[test]
fn the_schema_knows_on_demand_releases_and_file_values() {
    let v = schema_validator();
    let release = std::fs::read_to_string(root().join("runbooks/pushduty-release.toml")).unwrap();
    assert!(v.is_valid(&as_json(&release)));
    let with_rotation =
        format!("{release}\n[rotation]\npeople = [\"a\"]\nstart = \"2015-09-10\"\n");
    assert!(
        !v.is_valid(&as_json(&with_rotation)),
        "schema accepted a rotation on an on-demand schedule"
    );
    let weekly = release.replace("on_demand = true\n", "");
    let weekly = format!("{weekly}\n[rotation]\npeople = [\"a\"]\nstart = \"2015-09-10\"\n");
    assert!(
        !v.is_valid(&as_json(&weekly)),
        "schema accepted a weekly schedule without push_day and tag_day"
    );
    let odd_var = release.replace(
        "key = \"package.version\"",
        "key = \"package.version\", path = \"x\"",
    );
    assert!(
        !v.is_valid(&as_json(&odd_var)),
        "schema accepted an unknown key in a file value"
    );
}
