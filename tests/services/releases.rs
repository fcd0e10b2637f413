//! The `github.release` steps through the real binary against the GitHub stand-in: a draft
//! made once at the commit shown, with the body shown whole; published once; read back. A
//! draft someone made meanwhile (GitHub's 422 `already_exists`) is found on the next run; a
//! spent rate limit says when to try again; a repo GitHub does not have is said plainly. The
//! token is never printed or journaled.

use std::process::Output;

use crate::support::cli::{Env, journal, stderr, stdout};
use crate::support::github::{self, Fault, Github};

const FIXTURE: &str = "--runbook=tests/fixtures/runbooks/valid/releases.toml";
const GH_TOKEN: &str = "ghp_rel3ase_s3cret";
/// Where the stand-in's `main` is.
const MAIN: &str = "6dcb09b5b57875f334f61aebed695e2e4193db5e";
const BODY: &str =
    "This week's push hero is @ana.\n\n## Before we start\n- [ ] check the blockers\n";

struct Rig {
    env: Env,
    gh: Github,
}

impl Rig {
    fn new() -> Self {
        Self {
            env: Env::new(),
            gh: Github::start(github::Config {
                repo: "mozilla/addons-server".into(),
                token: GH_TOKEN.into(),
                ..github::Config::default()
            }),
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        self.env
            .cmd()
            .env("PUSHDUTY_GITHUB_TOKEN", GH_TOKEN)
            .env("PUSHDUTY_HTTP_TIMEOUT", "2")
            .args([
                FIXTURE,
                "--now",
                "2015-09-08",
                "--set",
                &format!("services.gh.api_url={}", self.gh.url()),
            ])
            .args(args)
            .output()
            .unwrap()
    }

    fn patches(&self) -> usize {
        self.gh
            .requests()
            .iter()
            .filter(|r| r.starts_with("PATCH "))
            .count()
    }

    /// Everything printed plus the journal: where the token must never be.
    fn assert_no_token(&self, outs: &[&Output]) {
        let mut all: String = outs
            .iter()
            .map(|o| format!("{}{}", stdout(o), stderr(o)))
            .collect();
        for e in journal(&self.env, "releases/2015-09-10") {
            all.push_str(&e.to_string());
        }
        assert!(!all.contains(GH_TOKEN), "the token leaked: {all}");
    }
}

#[test]
fn a_draft_is_made_once_at_the_commit_shown_then_published_once() {
    let r = Rig::new();
    let first = r.run(&["do", "draft", "--yes"]);
    assert!(first.status.success(), "{}", stderr(&first));
    let shown = stderr(&first);
    for line in [
        "draft release 2015.09.10 of mozilla/addons-server",
        &format!("target: main at {MAIN}"),
        "title: 2015.09.10",
        "| This week's push hero is @ana.",
        "| - [ ] check the blockers",
    ] {
        assert!(shown.contains(line), "`{line}` not shown: {shown}");
    }
    let rel = r.gh.releases();
    assert_eq!(rel.len(), 1);
    assert!(rel[0].draft);
    assert_eq!(rel[0].tag_name, "2015.09.10");
    assert_eq!(rel[0].body, BODY);
    assert_eq!(
        rel[0].target_commitish, MAIN,
        "the commit shown, not the branch"
    );
    assert!(
        stdout(&first).contains("release_state = draft"),
        "{}",
        stdout(&first)
    );

    // GitHub's by-tag lookup does not see a draft: the list does, and nothing is made twice.
    let again = r.run(&["do", "draft", "--yes", "--reopen", "again"]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("nothing to do"),
        "{}",
        stderr(&again)
    );
    assert_eq!(r.gh.releases().len(), 1, "no second draft");

    let publish = r.run(&["do", "publish", "--yes"]);
    assert!(publish.status.success(), "{}", stderr(&publish));
    assert!(
        stderr(&publish).contains(&format!(
            "publish draft release 2015.09.10 of mozilla/addons-server: GitHub creates tag 2015.09.10 at {MAIN}"
        )),
        "{}",
        stderr(&publish)
    );
    assert!(!r.gh.releases()[0].draft, "published");
    assert_eq!(r.patches(), 1);

    let twice = r.run(&["do", "publish", "--yes", "--reopen", "again"]);
    assert!(twice.status.success(), "{}", stderr(&twice));
    assert!(
        stderr(&twice).contains("is published already"),
        "{}",
        stderr(&twice)
    );
    assert_eq!(r.patches(), 1, "a published release is not published again");

    // An item added on GitHub is read with the release.
    let id = r.gh.releases()[0].id;
    r.gh.edit_release(
        id,
        &format!("{BODY}- [ ] run `./manage.py addnewversion firefox '109.0'`\n"),
    );
    let read = r.run(&["do", "read", "--yes"]);
    assert!(read.status.success(), "{}", stderr(&read));
    let journaled = journal(&r.env, "releases/2015-09-10");
    let items = journaled
        .iter()
        .rev()
        .find_map(|e| e["outputs"].get("release_items").cloned())
        .unwrap_or_else(|| panic!("no release_items journaled: {journaled:?}"));
    assert_eq!(items[0]["text"], "check the blockers");
    assert_eq!(items[0]["phase"], "before_we_start");
    assert_eq!(
        items[1]["command"], "./manage.py addnewversion firefox '109.0'",
        "{items}"
    );
    assert!(
        stdout(&read).contains("release_state = published"),
        "{}",
        stdout(&read)
    );
    // They are items of this push now, each once, the command among them shown as written.
    let items = |r: &Rig| -> Vec<String> {
        let shown = r.run(&["show", "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["text"].as_str().unwrap().to_string())
            .collect()
    };
    let taken = items(&r);
    assert!(
        taken.contains(&"check the blockers".to_string()),
        "{taken:?}"
    );
    assert!(
        taken.contains(&"run `./manage.py addnewversion firefox '109.0'`".to_string()),
        "{taken:?}"
    );
    let again = r.run(&["do", "read", "--yes", "--reopen", "look again"]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(items(&r), taken, "each once");
    r.assert_no_token(&[&first, &again, &publish, &twice, &read]);
}

#[test]
fn a_draft_made_meanwhile_is_refused_by_github_then_found() {
    let r = Rig::new();
    r.gh.beat_to_next_release();
    let out = r.run(&["do", "draft", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let said = stderr(&out);
    assert!(said.contains("HTTP 422"), "{said}");
    assert!(
        said.contains("a release of this tag exists already")
            && said.contains("run the step again"),
        "{said}"
    );
    let next = r.run(&["do", "draft", "--yes"]);
    assert!(next.status.success(), "{}", stderr(&next));
    assert!(stderr(&next).contains("nothing to do"), "{}", stderr(&next));
    let rel = r.gh.releases();
    assert_eq!(rel.len(), 1, "{rel:?}");
    assert_eq!(rel[0].body, "drafted by someone else", "theirs is kept");
}

#[test]
fn a_spent_rate_limit_says_when_to_try_again() {
    let r = Rig::new();
    r.gh.set_fault(Fault::RateLimit);
    let out = r.run(&["do", "draft", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let said = stderr(&out);
    assert!(said.contains("HTTP 403"), "{said}");
    assert!(
        said.contains("rate limit for this token is spent: try again after ")
            && said.contains(" UTC"),
        "{said}"
    );
    assert!(r.gh.releases().is_empty());
    r.assert_no_token(&[&out]);
}

#[test]
fn a_repo_github_does_not_have_is_said_plainly() {
    let r = Rig::new();
    let out = r.run(&[
        "--set",
        "repos.server.github=mozilla/addons-nowhere",
        "do",
        "publish",
        "--yes",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let said = stderr(&out);
    assert!(said.contains("HTTP 404"), "{said}");
    assert!(
        said.contains("GitHub has no repo `mozilla/addons-nowhere`"),
        "{said}"
    );
}

#[test]
fn publishing_without_a_draft_says_to_draft_first() {
    let r = Rig::new();
    let out = r.run(&["do", "publish", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("mozilla/addons-server has no release of 2015.09.10: draft it first"),
        "{}",
        stderr(&out)
    );
}

/// A checkout for the release's repo with a `manage.py` that says what it was asked.
fn checkout(env: &Env) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let dir = env.path().join("addons-server");
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("manage.py");
    std::fs::write(
        &script,
        "#!/bin/sh\necho \"manage.py $*\" >> ran.txt\necho added \"$3\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

const ITEMS: &str = "This week's push hero is @ana.\n\n## Before we start\n\
    - [ ] check the blockers\n\
    - [ ] run `./manage.py addnewversion firefox '109.0'`\n\n\
    ## After we're done\n\
    - [ ] tell support\n";

#[test]
fn one_off_items_run_then_are_ticked_in_the_release_keeping_edits_and_saying_conflicts() {
    let r = Rig::new();
    r.gh.add_release("2015.09.10", ITEMS, true);
    let repo = checkout(&r.env);
    let path = format!("repos.server.path={}", repo.display());
    let run = |args: &[&str]| {
        let mut all = vec!["--set", &path];
        all.extend_from_slice(args);
        r.run(&all)
    };
    let read = run(&["do", "read", "--yes"]);
    assert!(read.status.success(), "{}", stderr(&read));
    // Listed where they are done: before the step that ticks them.
    let plan = run(&["show", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    let order: Vec<&str> = v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["id"].as_str())
        .collect();
    assert_eq!(
        order,
        [
            "draft", "publish", "read", "item-1", "item-2", "item-3", "tick"
        ]
    );

    // The command is a shell step of its own: shown as written, run in the repo's checkout.
    let shown = run(&["show", "item-2"]);
    assert!(
        stdout(&shown).contains("./manage.py addnewversion firefox '109.0'"),
        "{}",
        stdout(&shown)
    );
    // Headless, a command from outside the runbook runs only when answered.
    let auto = run(&["run", "--auto", "--answer", "item-1=none open"]);
    assert_eq!(auto.status.code(), Some(3), "{}", stderr(&auto));
    assert!(
        stdout(&auto).contains(
            "needs a person: item-2 (run `./manage.py addnewversion firefox '109.0'`): an \
             ad-hoc item's command, as written outside the runbook"
        ),
        "{}",
        stdout(&auto)
    );
    assert!(!repo.join("ran.txt").exists(), "not run unanswered");
    let ran = run(&["do", "item-2", "--yes"]);
    assert!(ran.status.success(), "{}", stderr(&ran));
    assert_eq!(
        std::fs::read_to_string(repo.join("ran.txt")).unwrap(),
        "manage.py addnewversion firefox 109.0\n",
        "run once, as written, in the checkout"
    );
    let auto = run(&["run", "--auto"]);
    assert_eq!(auto.status.code(), Some(3), "{}", stderr(&auto));
    assert!(
        stdout(&auto).contains("needs a person: item-3"),
        "item-2 ran already: {}",
        stdout(&auto)
    );

    // Meanwhile on GitHub: a line added, and the last item reworded.
    let id = r.gh.releases()[0].id;
    let edited = ITEMS
        .replace("tell support", "tell support and ops")
        .replace(
            "## Before we start",
            "Blockers: none.\n\n## Before we start",
        );
    r.gh.edit_release(id, &edited);
    let last = run(&["do", "item-3", "--yes", "--note", "told them"]);
    assert!(last.status.success(), "{}", stderr(&last));

    let patches = r.patches();
    let tick = run(&["do", "tick", "--yes"]);
    let said = stderr(&tick);
    assert!(!tick.status.success(), "a conflict is not done: {said}");
    for want in [
        "ok:   2 items to tick in 1 release",
        "| - [x] check the blockers (done by tester, ",
        "| - [x] run `./manage.py addnewversion firefox '109.0'` (done by tester, ",
        "release 2015.09.10: `tell support`: the release body no longer has this item",
        "not ticked, since the release body no longer has the item as it was read",
    ] {
        assert!(said.contains(want), "`{want}` not said: {said}");
    }
    let body = r.gh.releases()[0].body.clone();
    assert!(
        body.contains("Blockers: none.\n"),
        "their edit kept: {body}"
    );
    assert!(
        body.contains("- [ ] tell support and ops\n"),
        "their item kept as they wrote it: {body}"
    );
    let ticked: Vec<&str> = body.lines().filter(|l| l.starts_with("- [x] ")).collect();
    assert_eq!(ticked.len(), 2, "{body}");
    assert!(ticked[1].contains("`./manage.py addnewversion firefox '109.0'` (done by tester, "));
    assert_eq!(r.patches(), patches + 1, "one write");

    // Again: nothing new to write; the conflict is still said.
    let again = run(&["do", "tick", "--yes"]);
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("nothing to tick"),
        "{}",
        stderr(&again)
    );
    assert_eq!(r.patches(), patches + 1, "ticks are not written twice");
    assert_eq!(r.gh.releases()[0].body, body);
    r.assert_no_token(&[&read, &ran, &auto, &tick, &again]);
}

#[test]
fn a_draft_of_a_tag_github_has_already_names_the_tags_commit() {
    let r = Rig::new();
    let picked = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678";
    r.gh.set_tag("2015.09.10", picked);
    let draft = r.run(&["do", "draft", "--yes"]);
    assert!(draft.status.success(), "{}", stderr(&draft));
    let said = stderr(&draft);
    for want in [
        &format!("tag: 2015.09.10 (on GitHub already, at {picked}: publishing makes no tag)"),
        &format!("target: {picked} (the tag's commit; main is not used)"),
    ] {
        assert!(said.contains(want.as_str()), "`{want}` not shown: {said}");
    }
    assert!(
        !said.contains(MAIN),
        "the branch's commit is not shown: {said}"
    );
    assert_eq!(r.gh.releases()[0].target_commitish, picked);

    let publish = r.run(&["do", "publish", "--yes"]);
    assert!(publish.status.success(), "{}", stderr(&publish));
    assert!(
        stderr(&publish).contains(&format!(
            "tag 2015.09.10 is on GitHub already, at {picked}; no tag is made"
        )),
        "{}",
        stderr(&publish)
    );
    assert_eq!(r.gh.tag("2015.09.10").as_deref(), Some(picked), "not moved");
}
