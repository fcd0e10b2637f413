//! One config serves several runbooks (the finding: with the README's `[repos.olympia]`,
//! `check` of the pushduty release runbook failed with "undefined repo 'olympia'"). An entry a
//! runbook does not have is a warning with what it may have meant; `[runbooks.SLUG]` holds
//! entries for one runbook only, over the top-level ones.

use crate::support::cli::{Env, stderr, stdout};

const RELEASE: &str = "runbooks/pushduty-release.toml";

#[test]
fn an_entry_for_another_runbook_is_a_warning_not_an_error() {
    let env = Env::new();
    std::fs::write(
        env.config(),
        "operator = \"tester\"\n\n[repos.olympia]\npath = \"/src/olympia\"\n\n[repos.pushdty]\npath = \"/src/pd\"\n",
    )
    .unwrap();
    let out = env.run(&["--runbook", RELEASE, "check"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(": ok: `pushduty release`"),
        "{}",
        stdout(&out)
    );
    let said = stderr(&out);
    let config = env.config().display().to_string();
    assert!(
        said.contains(&format!(
            "{config}:3:8: warning: repo `olympia` is not in `pushduty release`; it has pushduty. This entry is not used"
        )),
        "{said}"
    );
    assert!(
        said.contains(&format!(
            "{config}:6:8: warning: repo `pushdty` is not in `pushduty release` (did you mean `pushduty`?)"
        )),
        "{said}"
    );
    // The bundled runbook uses the olympia entry and warns only about the other one.
    let out = env.run(&["plan"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("git -C /src/olympia"),
        "{}",
        stdout(&out)
    );
    assert!(!stderr(&out).contains("`olympia`"), "{}", stderr(&out));
}

/// A folder standing for a checkout of pushduty: the release runbook reads its version.
fn checkout(env: &Env, name: &str) -> String {
    let dir = env.path().join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"pushduty\"\nversion = \"1.2.3\"\n",
    )
    .unwrap();
    dir.display().to_string()
}

#[test]
fn a_runbooks_own_section_wins_over_the_shared_one_and_stays_its_own() {
    let env = Env::new();
    let (shared, own, set) = (
        checkout(&env, "shared"),
        checkout(&env, "release-checkout"),
        checkout(&env, "from-set"),
    );
    std::fs::write(
        env.config(),
        format!(
            "operator = \"tester\"\n\n[repos.pushduty]\npath = \"{shared}\"\n\n\
             [runbooks.pushduty-release.repos.pushduty]\npath = \"{own}\"\n\n\
             [runbooks.amo-weekly-push.repos.olympia]\npath = \"/src/amo-checkout\"\n"
        ),
    )
    .unwrap();
    let out = env.run(&["--runbook", RELEASE, "plan"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains(&format!("git -C {own}")), "{text}");
    assert!(!text.contains(&shared), "{text}");
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
    let out = env.run(&[
        "--runbook",
        RELEASE,
        "--set",
        &format!("runbooks.pushduty-release.repos.pushduty.path={set}"),
        "plan",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!("git -C {set}")),
        "{}",
        stdout(&out)
    );
    // The AMO runbook reads its own section, and the shared pushduty entry is not its own.
    let out = env.run(&["plan"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("git -C /src/amo-checkout"),
        "{}",
        stdout(&out)
    );
    assert!(
        stderr(&out).contains("warning: repo `pushduty` is not in `AMO weekly push`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_typo_in_a_runbooks_own_section_is_named_with_its_place() {
    let env = Env::new();
    std::fs::write(
        env.config(),
        "[runbooks.pushduty-release.services.githbu]\nurl = \"https://example.org\"\n",
    )
    .unwrap();
    let out = env.run(&["--runbook", RELEASE, "check"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "warning: service `githbu` (in [runbooks.pushduty-release]) is not in `pushduty release` (did you mean `github`?)"
        ),
        "{}",
        stderr(&out)
    );
}
