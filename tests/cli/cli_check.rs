//! `pushduty check` through the binary: every invalid fixture gives exactly its expected
//! diagnostics; every shipped runbook passes.

use crate::support::cli::{Env, root, stderr, stdout};

#[test]
fn invalid_runbooks_report_every_problem_with_position() {
    let env = Env::new();
    let dir = root().join("tests/fixtures/runbooks/invalid");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let rel = path
            .strip_prefix(root())
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        let out = env.run(&["check", "--runbook", &rel]);
        assert_eq!(out.status.code(), Some(1), "{rel} must fail");
        let expected = std::fs::read_to_string(path.with_extension("expected"))
            .unwrap_or_else(|_| panic!("{rel} needs a .expected file"));
        assert_eq!(stderr(&out), expected, "diagnostics of {rel}");
        checked += 1;
    }
    assert!(checked >= 6, "fixtures found: {checked}");
}

#[test]
fn shipped_and_valid_runbooks_pass() {
    let env = Env::new();
    let out = env.run(&["check"]);
    assert!(out.status.success(), "bundled: {}", stderr(&out));
    assert!(
        stdout(&out).contains(": ok: `AMO weekly push`, 24 steps"),
        "{}",
        stdout(&out)
    );
    for dir in ["runbooks", "tests/fixtures/runbooks/valid"] {
        for entry in std::fs::read_dir(root().join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                let out = env.run(&["check", "--runbook", path.to_str().unwrap()]);
                assert!(out.status.success(), "{}: {}", path.display(), stderr(&out));
            }
        }
    }
}

#[test]
fn a_missing_runbook_file_is_named() {
    let env = Env::new();
    let out = env.run(&["check", "--runbook", "no/such.toml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("no/such.toml: error: cannot read the runbook"),
        "{}",
        stderr(&out)
    );
}

/// The finding: `check` of a million steps ran past two minutes and 2.8 GB. A runbook that
/// large is refused at once, its size named, before it is parsed.
#[test]
fn a_runbook_too_large_to_be_a_procedure_is_refused_before_it_is_read() {
    let env = Env::new();
    let path = env.path().join("huge.toml");
    let step = "[[steps]]\nid = \"s\"\ntitle = \"t\"\nkind = \"manual\"\n\n";
    let text = format!(
        "name = \"huge\"\n{}",
        step.repeat(33 * 1024 * 1024 / step.len() + 1)
    );
    std::fs::write(&path, text).unwrap();
    let out = env.run(&["check", "--runbook", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("error: cannot read the runbook: the runbook")
            && stderr(&out).contains("is over 32 MiB"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn overrides_are_checked_too() {
    let env = Env::new();
    let out = env.run(&["check", "--set", "schedule.push_day=thursdy"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("--set: error: `thursdy` is not a weekday"),
        "{}",
        stderr(&out)
    );
    let out = env.run(&["check", "--set", "repos.olympia.path=/src/olympia"]);
    assert!(out.status.success(), "a config key: {}", stderr(&out));
}

#[test]
fn config_problems_are_reported_like_runbook_problems() {
    let env = Env::new();
    std::fs::write(env.config(), "operator = \"x\"\nrepos = 3\n").unwrap();
    let out = env.run(&["check"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("config.toml:2:9: error: invalid type"),
        "{err}"
    );
}
