//! Nothing unresolved reaches a shell, values reach it as data (in environment variables,
//! never in its text), a value where the shell would read it again is refused, and a command
//! sees a minimal environment: through the real binary.

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
    // plan shows the variable it will travel in, its value marked as not known yet.
    let plan = stdout(&env.run(&[RB, "--now", "2015-09-08", "plan"]));
    assert!(
        plan.contains(
            "PUSHDUTY_BUILD_ID=\u{27e8}build_id\u{27e9} sh -c 'echo deploying \"$PUSHDUTY_BUILD_ID\" important.txt'"
        ),
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

fn shell_runbook() -> String {
    std::fs::read_to_string(support::cli::root().join(&RB["--runbook=".len()..])).unwrap()
}

/// Values that are code in every shell syntax, in every place a value may stand: each reaches
/// the command as the bytes it is, and none runs.
#[test]
fn hostile_values_stay_data_in_every_place_a_value_may_stand() {
    let dir = tempfile::tempdir().unwrap();
    let pwned = dir.path().join("PWNED");
    let p = pwned.display();
    let values = [
        format!("$(touch {p})"),
        format!("`touch {p}`"),
        format!("x; touch {p} #"),
        format!("'; touch {p}; '"),
        format!("\"; touch {p}; \""),
        format!("a\ntouch {p}"),
        format!("${{IFS}}$(touch {p})"),
    ];
    let places = [
        r#"printf '[%s]\n' {{ v }}"#,
        r#"printf '[%s]\n' pre{{ v }}post"#,
        r#"printf '[%s]\n' "$(printf %s {{ v }})""#,
        r#"x={{ v }}; printf '[%s]\n' "$x""#,
        r#"printf '[%s]\n' {{ v }} # {{ v }}"#,
    ];
    let rb = dir.path().join("hostile.toml");
    let mut text = shell_runbook().replace(
        "outputs = [\"build_id\"]",
        "outputs = [\"build_id\", \"v\"]",
    );
    for (i, place) in places.iter().enumerate() {
        text += &format!(
            "\n[[steps]]\nid = \"p{i}\"\nsection = \"only\"\ntitle = \"Place {i}\"\nkind = \"shell\"\ncommand = '''{place}'''\ntimeout_secs = 10\n"
        );
    }
    std::fs::write(&rb, text).unwrap();
    let rb = format!("--runbook={}", rb.display());
    let check = Env::new().run(&[&rb, "check"]);
    assert!(check.status.success(), "{}", stderr(&check));
    for value in &values {
        // A session of its own for each value.
        let env = Env::new();
        let input = format!("v={value}");
        let o = env.run(&do_step(
            &rb,
            "build",
            &["--yes", "--input", "build_id=1", "--input", &input],
        ));
        assert!(o.status.success(), "{}", stderr(&o));
        for i in 0..places.len() {
            let id = format!("p{i}");
            let o = env.run(&do_step(&rb, &id, &["--yes"]));
            assert!(o.status.success(), "{id} with {value:?}: {}", stderr(&o));
            let expected = if i == 1 {
                format!("[pre{value}post]")
            } else {
                format!("[{value}]")
            };
            // Output lines are indented under the step in `do`'s stderr.
            let seen: String = stderr(&o)
                .lines()
                .map(str::trim_start)
                .collect::<Vec<_>>()
                .join("\n");
            assert!(seen.contains(&expected), "{id} with {value:?}: {seen}");
            assert!(!pwned.exists(), "{id} ran {value:?} as code");
        }
    }
}

/// Inside quotes or a heredoc a value would be read again by the shell: `check` refuses it
/// where it stands, with the fix.
#[test]
fn a_value_inside_quotes_or_a_heredoc_is_refused_with_the_fix() {
    let env = Env::new();
    let dir = tempfile::tempdir().unwrap();
    let rb = dir.path().join("quoted.toml");
    let text = shell_runbook()
        .replace(
            "command = \"echo deploying {{ build_id }} important.txt\"",
            r#"command = 'echo "deploying {{ build_id }}"'"#,
        )
        .replace(
            "command = \"env\"",
            "command = '''\ncat <<EOF\nbuild {{ build_id }}\nEOF'''",
        );
    std::fs::write(&rb, &text).unwrap();
    let rb_arg = format!("--runbook={}", rb.display());
    let o = env.run(&[&rb_arg, "check"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    let line = |needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() + 1;
    let col = |needle: &str| {
        let l = text.lines().find(|l| l.contains(needle)).unwrap();
        l[..l.find("{{").unwrap()].chars().count() + 1
    };
    assert!(
        err.contains(&format!(
            "quoted.toml:{}:{}: error: `{{{{ build_id }}}}` is inside double quotes",
            line("deploying {{"),
            col("deploying {{")
        )),
        "{err}"
    );
    assert!(
        err.contains(r#"`"deploying "{{ build_id }}" now"`"#),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "quoted.toml:{}:7: error: `{{{{ build_id }}}}` is inside a heredoc",
            line("build {{")
        )),
        "{err}"
    );
    assert!(err.contains(r"printf '%s\n' {{ build_id }} |"), "{err}");
}

/// A commit subject a contributor wrote, echoed by a step under `run --auto`: printed, not run.
#[test]
fn a_commit_subject_is_echoed_under_run_auto_not_run() {
    let env = Env::new();
    let dir = tempfile::tempdir().unwrap();
    let pwned = dir.path().join("PWNED_commit");
    let subject = format!("Fix typo \"$(touch {})\"", pwned.display());
    let rb = dir.path().join("auto.toml");
    let text = shell_runbook().replace(
        "command = \"echo deploying {{ build_id }} important.txt\"",
        "command = \"echo picked: {{ build_id }}\"",
    );
    std::fs::write(&rb, text).unwrap();
    let rb = format!("--runbook={}", rb.display());
    let answer = format!("build={subject}");
    let o = env.run(&[
        &rb,
        "--now",
        "2015-09-10",
        "run",
        "--auto",
        "--answer",
        &answer,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains(&format!("picked: {subject}")),
        "{}",
        stdout(&o)
    );
    assert!(!pwned.exists(), "the subject ran as code");
}
