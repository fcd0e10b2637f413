//! Nothing unresolved reaches a shell, substituted values are quoted, and a command sees a
//! minimal environment: through the real binary.

use crate::support;
use crate::support::cli::{Env, do_step, stderr, stdout};

const RB: &str = "--runbook=tests/fixtures/runbooks/valid/shell-values.toml";

#[test]
fn a_value_not_set_yet_never_reaches_the_shell() {
    let env = Env::new();
    let o = env.run(&do_step(RB, "deploy", &["--yes"]));
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o)
            .contains("cannot run `deploy`: `build_id` is not set yet (step `build` sets it)"),
        "{}",
        stderr(&o)
    );
    assert!(!support::cli::root().join("important.txt").exists());
    let journal = std::fs::read_to_string(
        env.path()
            .join("state/sessions/shell-values/2015-09-10/journal.jsonl"),
    )
    .unwrap();
    assert!(
        !journal.contains("\"step\":\"deploy\""),
        "nothing journaled: {journal}"
    );
    // plan shows where it will go, marked, never as shell syntax.
    let plan = stdout(&env.run(&[RB, "--now", "2015-09-08", "plan"]));
    assert!(
        plan.contains("sh -c 'echo deploying '\\''\u{27e8}build_id\u{27e9}'\\'' important.txt'"),
        "{plan}"
    );
}

#[test]
fn substituted_values_are_quoted_words() {
    let env = Env::new();
    let dir = tempfile::tempdir().unwrap();
    let hostile = format!("x; touch {}/pwned #", dir.path().display());
    let o = env.run(&do_step(
        RB,
        "build",
        &["--yes", "--input", &format!("build_id={hostile}")],
    ));
    assert!(o.status.success(), "{}", stderr(&o));
    let o = env.run(&do_step(RB, "deploy", &["--yes"]));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("  deploying {hostile} important.txt")),
        "{}",
        stderr(&o)
    );
    assert!(!dir.path().join("pwned").exists(), "the value ran as code");
}

#[test]
fn a_command_sees_only_a_minimal_environment_and_what_its_step_names() {
    let env = Env::new();
    let o = env
        .cmd()
        .env("PUSHDUTY_JENKINS_TOKEN", "s3cret-jenkins")
        .env("GITHUB_TOKEN", "s3cret-github")
        .env("PUSHDUTY_PASSED_ON", "named-by-the-step")
        .args(do_step(RB, "environment", &["--yes"]))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let seen = stderr(&o);
    assert!(
        seen.contains("PUSHDUTY_PASSED_ON=named-by-the-step"),
        "{seen}"
    );
    assert!(seen.contains("PATH="), "{seen}");
    assert!(
        !seen.contains("s3cret"),
        "a token reached the command: {seen}"
    );
}

/// `do` prints what a step set on stdout, every line ending in a newline, and nothing else
/// there: what follows (the next command's output, stderr in a shared pane) starts a line
/// of its own instead of running into the last value.
#[test]
fn do_prints_outputs_as_whole_lines_on_stdout_only() {
    let env = Env::new();
    let build = env.run(&do_step(RB, "build", &["--yes", "--input", "build_id=5"]));
    assert!(build.status.success(), "{}", stderr(&build));
    assert_eq!(stdout(&build), "done: build\n  build_id = 5\n");
    assert!(!stderr(&build).contains("done:"), "{}", stderr(&build));
    assert!(stderr(&build).ends_with('\n'), "{:?}", stderr(&build));
    let deploy = env.run(&do_step(RB, "deploy", &["--yes"]));
    assert!(deploy.status.success(), "{}", stderr(&deploy));
    let out = stdout(&deploy);
    assert!(out.starts_with("done: deploy\n"), "{out:?}");
    assert!(out.ends_with('\n'), "{out:?}");
    assert!(
        out.lines().skip(1).all(|l| l.starts_with("  ")),
        "only outputs follow `done:` on stdout: {out:?}"
    );
    let plan = env.run(&[RB, "--now", "2015-09-08", "plan"]);
    assert!(plan.status.success(), "{}", stderr(&plan));
    assert!(stdout(&plan).ends_with('\n'), "{:?}", stdout(&plan));
}
