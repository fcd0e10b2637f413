//! A `github.release` step acts on what its confirmation showed, or refuses: `pushduty do`
//! waits at its question in tmux while the world changes on the GitHub stand-in (the draft
//! edited on the web page, the branch pushed to), as it would while the hero reads.

use crate::e2e_tmux::{Tmux, need_tmux};
use crate::support::cli::{Env, stderr};
use crate::support::github::{self, Github};

const FIXTURE: &str = "--runbook=tests/fixtures/runbooks/valid/releases.toml";
const GH_TOKEN: &str = "ghp_p1nned_s3cret";
const OTHER: &str = "1111111111111111111111111111111111111111";

fn start() -> (Env, Github) {
    need_tmux();
    let gh = Github::start(github::Config {
        repo: "mozilla/addons-server".into(),
        token: GH_TOKEN.into(),
        ..github::Config::default()
    });
    (Env::new(), gh)
}

fn args(gh: &Github, step: &str) -> Vec<String> {
    [
        FIXTURE,
        "--now",
        "2015-09-08",
        "--set",
        &format!("services.gh.api_url={}", gh.url()),
        "do",
        step,
    ]
    .map(str::to_string)
    .to_vec()
}

/// Starts `do STEP` in tmux and waits at its question; the screen then.
fn at_the_question(env: &Env, gh: &Github, tmux: &Tmux, step: &str) -> String {
    let args = args(gh, step);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let token = format!("PUSHDUTY_GITHUB_TOKEN={GH_TOKEN}");
    tmux.start_with(env, "push", &[&token], &args);
    tmux.wait_for("push", &format!("Run `{step}`? [y/N]"))
}

/// The screen with its rows joined, so a long line wrapped by the terminal reads whole.
fn joined(screen: &str) -> String {
    screen.replace('\n', "")
}

#[test]
fn a_draft_edited_on_github_after_the_confirmation_is_not_published() {
    let (env, gh) = start();
    gh.add_release("2015.09.10", "as drafted\n", true);
    let tmux = Tmux::new("release-edited");
    let screen = at_the_question(&env, &gh, &tmux, "publish");
    assert!(screen.contains("| as drafted"), "{screen}");
    let id = gh.releases()[0].id;
    gh.edit_release(id, "edited on the web page\n");
    tmux.keys("push", &["y", "Enter"]);
    let screen = joined(&tmux.wait_exit("push", "1"));
    assert!(
        screen.contains("the draft's body (edited on GitHub?) changed after you confirmed")
            && screen.contains("nothing was published; look again"),
        "{screen}"
    );
    assert!(gh.releases()[0].draft, "still a draft");

    // Looked at again, the edit is shown, and that is what is published.
    let again = Tmux::new("release-again");
    let screen = at_the_question(&env, &gh, &again, "publish");
    assert!(screen.contains("| edited on the web page"), "{screen}");
    again.keys("push", &["y", "Enter"]);
    again.wait_exit("push", "0");
    assert!(!gh.releases()[0].draft);
}

#[test]
fn a_branch_pushed_to_after_the_confirmation_is_not_drafted_at() {
    let (env, gh) = start();
    let tmux = Tmux::new("release-moved");
    let screen = at_the_question(&env, &gh, &tmux, "draft");
    assert!(
        screen.contains("target: main at 6dcb09b5b57875f334f61aebed695e2e4193db5e"),
        "{screen}"
    );
    gh.set_branch("main", OTHER);
    tmux.keys("push", &["y", "Enter"]);
    let screen = joined(&tmux.wait_exit("push", "1"));
    assert!(
        screen.contains(
            "the commit main names changed after you confirmed (it was 6dcb09b5b578, it is 111111111111 now): nothing was drafted; look again"
        ),
        "{screen}"
    );
    assert!(gh.releases().is_empty(), "nothing drafted");
    // `do --yes` reads and acts at once: the draft names the commit the branch is at now.
    let out = env
        .cmd()
        .env("PUSHDUTY_GITHUB_TOKEN", GH_TOKEN)
        .args(args(&gh, "draft"))
        .arg("--yes")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(gh.releases()[0].target_commitish, OTHER);
}
