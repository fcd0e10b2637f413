//! Hostile input through the binary: templates that would crash or hang, control characters
//! in data, secrets in templates, broken pipes, typos in config keys, floods of diagnostics.

mod support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use support::cli::{Env, root, stderr, stdout};

/// The minimal valid runbook with extra text appended (more steps, say).
fn runbook(env: &Env, extra: &str) -> PathBuf {
    let base =
        std::fs::read_to_string(root().join("tests/fixtures/runbooks/valid/minimal.toml")).unwrap();
    let path = env.path().join("runbook.toml");
    std::fs::write(&path, format!("{base}\n{extra}")).unwrap();
    path
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
    for extra in [recursive, deep] {
        let rb = runbook(&env, &extra);
        for cmd in ["check", "plan"] {
            let out = env.run(&[cmd, "--runbook", rb.to_str().unwrap()]);
            assert_eq!(out.status.code(), Some(1), "{cmd}: {}", stderr(&out));
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
    assert!(stdout(&out).contains("Loops [loops]"), "{}", stdout(&out));
}
