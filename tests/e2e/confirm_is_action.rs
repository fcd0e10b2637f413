//! The finding: the tag confirmation showed one commit and tagged another. The dialog's
//! action came from a snapshot while the worker read the branch again, so a commit made (or
//! reset) between the two was tagged unseen. Now the action is read when the confirmation
//! opens, carried to the worker, and the worker tags exactly that commit or nothing.
//! Driven as a person would: `pushduty do tag-main` waiting at its question in tmux while
//! the checkout changes in another shell.

use crate::e2e_tmux::{Tmux, need_tmux};
use crate::support::gitrepo::git;
use crate::support::push::Push;

fn short(sha: &str) -> &str {
    &sha[..7]
}

/// Starts `do tag-main` (with `extra`) in tmux and waits at its question.
fn at_the_question(p: &Push, tmux: &Tmux, extra: &[&str]) -> String {
    let mut args: Vec<String> = p.args();
    args.extend(["do", "tag-main"].map(str::to_string));
    args.extend(extra.iter().map(|a| format!("'{a}'")));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    tmux.start(&p.env, "push", &args);
    tmux.wait_for("push", "Run `tag-main`? [y/N]")
}

#[test]
fn a_commit_made_after_the_confirmation_was_read_is_not_tagged() {
    need_tmux();
    let p = Push::ready_to_tag();
    let shown = p.repo.rev("HEAD");
    let tmux = Tmux::new("confirm-commit");
    // Overridden (the operator means to act whatever the checks say when it runs), so only
    // the commit the operator saw stands between the late commit and the tag.
    let screen = at_the_question(&p, &tmux, &["--override", "tagging what I see"]);
    assert!(screen.contains(short(&shown)), "{screen}");
    // Another shell commits on main while the question waits.
    let local = p.repo.commit("late.txt", "late\n", "A late local commit");
    tmux.keys("push", &["y", "Enter"]);
    let screen = tmux.wait_exit("push", "1");
    assert!(
        screen.contains(&format!(
            "main moved from {} to {} after you confirmed: nothing was tagged; look again",
            short(&shown),
            short(&local)
        )),
        "{screen}"
    );
    assert!(p.repo.git(&["tag", "-l", "2015.09.10"]).trim().is_empty());
    // The journal has the action as shown, and the step did not act.
    let journal = p.journal();
    let mine: Vec<_> = journal.iter().filter(|e| e["step"] == "tag-main").collect();
    let running = mine.iter().find(|e| e["to"] == "running").unwrap();
    assert!(
        running["action"].as_str().unwrap().contains(short(&shown)),
        "{running}"
    );
    assert_eq!(mine.last().unwrap()["to"], "failed", "{mine:?}");
    // Looked at again, the question shows the new commit (and its failed check), and the
    // operator's override tags exactly that one.
    let again = Tmux::new("confirm-again");
    let screen = at_the_question(&p, &again, &["--override", "reviewed"]);
    assert!(screen.contains(short(&local)), "{screen}");
    again.keys("push", &["y", "Enter"]);
    again.wait_exit("push", "0");
    assert_eq!(p.repo.rev("2015.09.10^{commit}"), local);
}

#[test]
fn a_commit_reset_away_after_the_confirmation_was_read_is_not_replaced_unseen() {
    need_tmux();
    let p = Push::ready_to_tag();
    let upstream = p.repo.rev("HEAD");
    let local = p.repo.commit("mine.txt", "mine\n", "A local commit");
    let tmux = Tmux::new("confirm-reset");
    let screen = at_the_question(&p, &tmux, &["--override", "my commit ships too"]);
    assert!(screen.contains(short(&local)), "{screen}");
    assert!(screen.contains("has 1 local commit"), "{screen}");
    git(&p.repo.work, &["reset", "-q", "--hard", &upstream]);
    tmux.keys("push", &["y", "Enter"]);
    let screen = tmux.wait_exit("push", "1");
    assert!(
        screen.contains(&format!(
            "main moved from {} to {} after you confirmed: nothing was tagged; look again",
            short(&local),
            short(&upstream)
        )),
        "{screen}"
    );
    assert!(p.repo.git(&["tag", "-l", "2015.09.10"]).trim().is_empty());
}

#[test]
fn an_unchanged_checkout_is_tagged_at_the_commit_shown() {
    need_tmux();
    let p = Push::ready_to_tag();
    let shown = p.repo.rev("HEAD");
    let tmux = Tmux::new("confirm-same");
    let screen = at_the_question(&p, &tmux, &[]);
    assert!(screen.contains(short(&shown)), "{screen}");
    tmux.keys("push", &["y", "Enter"]);
    tmux.wait_exit("push", "0");
    assert_eq!(p.repo.rev("2015.09.10^{commit}"), shown);
    let done = p
        .journal()
        .into_iter()
        .rev()
        .find(|e| e["step"] == "tag-main");
    let done = done.unwrap();
    assert_eq!(done["to"], "done", "{done}");
    assert_eq!(done["outputs"]["tag_commit"], shown.as_str(), "{done}");
}

/// The picks go onto the base the question named: a tag of this push made in another shell
/// while it waits changes the base, and nothing is picked onto it unseen.
#[test]
fn cherry_picks_go_onto_the_base_shown_or_nowhere() {
    need_tmux();
    let p = Push::new();
    git(&p.repo.work, &["tag", "2015.09.03", "HEAD"]);
    git(&p.repo.work, &["push", "-q", "origin", "2015.09.03"]);
    let fix = p.repo.commit("a.txt", "a\n", "Fix one");
    git(&p.repo.work, &["push", "-q", "origin", "main"]);
    p.ok(&["fetch"]);
    p.ok(&["strategy", "--input", "strategy=cherry_pick"]);
    let tmux = Tmux::new("confirm-pick");
    let mut args: Vec<String> = p.args();
    args.extend(["do", "pick", "--input", &format!("commits={fix}")].map(str::to_string));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    tmux.start(&p.env, "push", &args);
    let screen = tmux.wait_for("push", "Run `pick`? [y/N]");
    let base = p.repo.rev("2015.09.03^{commit}");
    assert!(
        screen.contains(&format!("(2015.09.03 is at {})", short(&base))),
        "{screen}"
    );
    git(&p.repo.work, &["tag", "2015.09.10", "HEAD"]);
    tmux.keys("push", &["y", "Enter"]);
    let screen = tmux.wait_exit("push", "1");
    assert!(
        screen.contains(
            "the tag to act on is now 2015.09.10, not 2015.09.03 as confirmed: nothing was picked"
        ),
        "{screen}"
    );
    let picked = p
        .journal()
        .into_iter()
        .any(|e| e["step"] == "pick" && e["to"] == "done");
    assert!(!picked);
}

/// The finding: a choice asked twice on a terminal ("Run `strategy`? [y/N]" after the choice
/// itself). The answer is the say-so of a step that changes nothing outside.
#[test]
fn a_choice_on_a_terminal_asks_once() {
    need_tmux();
    let p = Push::new();
    let tmux = Tmux::new("choice-once");
    let mut args: Vec<String> = p.args();
    args.extend(["do", "strategy"].map(str::to_string));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    tmux.start(&p.env, "push", &args);
    tmux.wait_for("push", "strategy");
    tmux.keys("push", &["master", "Enter"]);
    let screen = tmux.wait_exit("push", "0");
    assert!(!screen.contains("Run `strategy`?"), "{screen}");
    let done = p
        .journal()
        .into_iter()
        .rev()
        .find(|e| e["step"] == "strategy");
    assert_eq!(done.unwrap()["to"], "done");
}

/// Shown is done for how the tag is made too: signing turned on in another shell while the
/// question waits (the confirmation showed a plain tag) tags nothing.
#[test]
fn a_signing_setting_changed_after_the_confirmation_was_read_tags_nothing() {
    need_tmux();
    let p = Push::ready_to_tag();
    let tmux = Tmux::new("confirm-signing");
    let screen = at_the_question(&p, &tmux, &[]);
    assert!(!screen.contains("tag -s"), "{screen}");
    git(&p.repo.work, &["config", "tag.gpgSign", "true"]);
    tmux.keys("push", &["y", "Enter"]);
    let screen = tmux.wait_exit("push", "1");
    assert!(
        screen.contains("how the tag is made changed after you confirmed"),
        "{screen}"
    );
    assert!(p.repo.git(&["tag", "-l", "2015.09.10"]).trim().is_empty());
}
