//! The notes steps through the real binary: the next push's page on the Etherpad stand-in
//! (made, refused over other text, replaced on request, done when the same), as a Markdown
//! file in a repo checkout, as a GitHub release draft; lines appended once to this push's
//! page; a wrong key, a hanging or garbled server said plainly and in bounded time; the key
//! never printed or journaled. And a snapshot of the bundled notes for a fixed push.

use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support;
use crate::support::cli::{Env, journal, stderr, stdout};
use crate::support::etherpad::{Config, Etherpad, Fault};
use crate::support::github::{self, Github};

const FIXTURE: &str = "--runbook=tests/fixtures/runbooks/valid/notes.toml";
const GH_TOKEN: &str = "ghp_n0tes_s3cret";

/// The fixture runbook's services pointed at stand-ins, `site`'s checkout in a temp dir.
struct Rig {
    env: Env,
    pad: Etherpad,
    gh: Github,
    key: String,
}

impl Rig {
    fn new() -> Self {
        let gh = Github::start(github::Config {
            repo: "mozilla/addons-server".into(),
            token: GH_TOKEN.into(),
            ..github::Config::default()
        });
        let pad = Etherpad::start(Config::default());
        Self {
            env: Env::new(),
            key: pad.key().to_string(),
            pad,
            gh,
        }
    }

    fn checkout(&self) -> std::path::PathBuf {
        self.env.path().join("site")
    }

    fn run_with_key(&self, key: &str, args: &[&str]) -> Output {
        self.env
            .cmd()
            .env("PUSHDUTY_ETHERPAD_KEY", key)
            .env("PUSHDUTY_GITHUB_TOKEN", GH_TOKEN)
            .env("PUSHDUTY_HTTP_TIMEOUT", "2")
            .args([
                FIXTURE,
                "--now",
                "2015-09-08",
                "--set",
                &format!("services.pad.url={}", self.pad.url()),
                "--set",
                &format!("services.gh.api_url={}", self.gh.url()),
                "--set",
                &format!("repos.site.path={}", self.checkout().display()),
            ])
            .args(args)
            .output()
            .unwrap()
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_with_key(&self.key, args)
    }

    /// Records the blockers, which the notes quote.
    fn blockers(&self, text: &str) {
        let out = self.run(&[
            "do",
            "blockers",
            "--yes",
            "--input",
            &format!("blockers={text}"),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
    }

    /// Everything the binary printed plus the journal: where a secret must never be.
    fn said(&self, outs: &[&Output]) -> String {
        let mut all: String = outs
            .iter()
            .map(|o| format!("{}{}", stdout(o), stderr(o)))
            .collect();
        for e in journal(&self.env, "notes/2015-09-10") {
            all.push_str(&e.to_string());
        }
        all
    }
}

const NEXT: &str = "# Push 2015-09-17\n\nHero: bo (after ana, who pushed 2015.09.10)\nBlockers last time: bug 42\n";

#[test]
fn the_next_pad_is_made_then_kept_over_other_text_then_replaced_on_request() {
    let r = Rig::new();
    r.blockers("bug 42");
    let first = r.run(&["do", "notes-pad", "--yes"]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert_eq!(r.pad.pad("site-2015-09-17").as_deref(), Some(NEXT));
    // The whole text was shown before it was sent.
    let shown = stderr(&first);
    assert!(
        shown.contains("| Hero: bo (after ana, who pushed 2015.09.10)"),
        "{shown}"
    );
    let printed = stdout(&first);
    assert!(
        printed.contains(&format!("notes_url = {}/p/site-2015-09-17", r.pad.url())),
        "{printed}"
    );
    let sha = printed
        .lines()
        .find_map(|l| l.trim().strip_prefix("notes_sha256 = "))
        .expect("a notes_sha256")
        .to_string();
    assert_eq!(sha.len(), 64, "{printed}");

    // Run again with the same text: done, nothing written.
    let same = r.run(&["do", "notes-pad", "--yes", "--reopen", "check it again"]);
    assert!(same.status.success(), "{}", stderr(&same));
    assert!(
        stderr(&same).contains("already holds exactly these notes"),
        "{}",
        stderr(&same)
    );
    assert!(stdout(&same).contains(&sha), "{}", stdout(&same));
    assert_eq!(
        r.pad.calls().iter().filter(|c| *c == "createPad").count(),
        1
    );

    // Someone wrote there: kept, and the failure says how to replace it.
    r.pad.set_pad("site-2015-09-17", "the next hero's own plan");
    let kept = r.run(&["do", "notes-pad", "--yes", "--reopen", "again"]);
    assert_eq!(kept.status.code(), Some(1), "{}", stderr(&kept));
    let why = stderr(&kept);
    assert!(
        why.contains("pad `site-2015-09-17` exists already with other text"),
        "{why}"
    );
    assert!(why.contains("--input if_exists=replace"), "{why}");
    assert!(why.contains("someone wrote other text there"), "{why}");
    assert_eq!(
        r.pad.pad("site-2015-09-17").as_deref(),
        Some("the next hero's own plan\n")
    );
    assert!(!r.pad.calls().contains(&"setText".to_string()));

    let replaced = r.run(&["do", "notes-pad", "--yes", "--input", "if_exists=replace"]);
    assert!(replaced.status.success(), "{}", stderr(&replaced));
    assert_eq!(r.pad.pad("site-2015-09-17").as_deref(), Some(NEXT));
    assert!(r.pad.calls().contains(&"setText".to_string()));
    assert!(stdout(&replaced).contains(&sha), "{}", stdout(&replaced));

    // The key went in request bodies only: never in a URL, an output or the journal.
    assert!(r.pad.requests().iter().all(|q| !q.contains(&r.key)));
    let all = r.said(&[&first, &same, &kept, &replaced]);
    assert!(!all.contains(&r.key), "the key leaked: {all}");
}

#[test]
fn appends_go_to_this_pushs_pad_once() {
    let r = Rig::new();
    r.blockers("none");
    r.pad.set_pad("site-2015-09-10", "Notes for 2015-09-10");
    let first = r.run(&["do", "append-pad", "--yes"]);
    assert!(first.status.success(), "{}", stderr(&first));
    let line = "Pushing 2015.09.10: blockers none";
    assert!(
        stderr(&first).contains(&format!("| {line}")),
        "{}",
        stderr(&first)
    );
    assert_eq!(
        r.pad.pad("site-2015-09-10").as_deref(),
        Some(format!("Notes for 2015-09-10\n{line}\n").as_str())
    );
    assert!(
        stdout(&first).contains(&format!("appended_to = {}/p/site-2015-09-10", r.pad.url())),
        "{}",
        stdout(&first)
    );
    let again = r.run(&["do", "append-pad", "--yes", "--reopen", "once more"]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("has this text already: not appended again"),
        "{}",
        stderr(&again)
    );
    assert_eq!(
        r.pad.pad("site-2015-09-10").as_deref(),
        Some(format!("Notes for 2015-09-10\n{line}\n").as_str())
    );
    assert_eq!(
        r.pad.calls().iter().filter(|c| *c == "appendText").count(),
        1
    );
    // The next push's pad was never touched: the step's `pad` wins over the service's.
    assert_eq!(r.pad.pad("site-2015-09-17"), None);
}

#[test]
fn appending_to_a_pad_that_does_not_exist_is_refused() {
    let r = Rig::new();
    r.blockers("none");
    let out = r.run(&["do", "append-pad", "--yes"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("pad `site-2015-09-10` does not exist"),
        "{}",
        stderr(&out)
    );
    assert!(
        !r.pad
            .calls()
            .iter()
            .any(|c| c == "appendText" || c == "createPad")
    );
}

#[test]
fn markdown_notes_are_written_in_the_checkout_and_never_overwritten_silently() {
    let r = Rig::new();
    r.blockers("bug 42");
    std::fs::create_dir_all(r.checkout()).unwrap();
    let file = r.checkout().join("releases/2015-09-17.md");
    let first = r.run(&["do", "notes-md", "--yes"]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), NEXT);

    std::fs::write(&file, "edited by hand\n").unwrap();
    let kept = r.run(&["do", "notes-md", "--yes", "--reopen", "again"]);
    assert_eq!(kept.status.code(), Some(1));
    assert!(
        stderr(&kept).contains("exists already with other text"),
        "{}",
        stderr(&kept)
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "edited by hand\n");

    let replaced = r.run(&["do", "notes-md", "--yes", "--input", "if_exists=replace"]);
    assert!(replaced.status.success(), "{}", stderr(&replaced));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), NEXT);

    // This push's file gets its line once.
    let this = r.checkout().join("releases/2015-09-10.md");
    std::fs::write(&this, "# Push 2015-09-10").unwrap();
    let a = r.run(&["do", "append-md", "--yes"]);
    assert!(a.status.success(), "{}", stderr(&a));
    let b = r.run(&["do", "append-md", "--yes", "--reopen", "again"]);
    assert!(b.status.success(), "{}", stderr(&b));
    assert_eq!(
        std::fs::read_to_string(&this).unwrap(),
        "# Push 2015-09-10\nPushing 2015.09.10: blockers bug 42\n"
    );
}

#[test]
fn a_release_draft_is_made_for_the_tag_and_updated_only_on_request() {
    let r = Rig::new();
    r.blockers("bug 42");
    let first = r.run(&["do", "notes-release", "--yes"]);
    assert!(first.status.success(), "{}", stderr(&first));
    let rel = r.gh.releases();
    assert_eq!(rel.len(), 1);
    assert_eq!(rel[0].tag_name, "2015.09.10");
    assert!(rel[0].draft);
    assert_eq!(rel[0].body, NEXT);
    assert!(
        stdout(&first).contains(&format!("notes_url = {}", r.gh.release_url(&rel[0]))),
        "{}",
        stdout(&first)
    );

    // A draft is not found by tag at GitHub: it is found in the list, and kept.
    r.gh.add_release("2015.09.09", "older", false);
    let kept = r.run(&["do", "notes-release", "--yes", "--reopen", "again"]);
    assert!(
        kept.status.success(),
        "same text is done: {}",
        stderr(&kept)
    );
    assert_eq!(r.gh.releases().len(), 2, "no second draft");

    // New blockers make new notes: the draft holds the old ones, so it is kept until asked.
    let res = r.run(&[
        "do",
        "blockers",
        "--yes",
        "--reopen",
        "a new blocker",
        "--input",
        "blockers=bug 43",
    ]);
    assert!(res.status.success(), "{}", stderr(&res));
    let out = r.run(&["do", "notes-release", "--yes", "--reopen", "new blockers"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("the release of 2015.09.10 exists already with other text"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("it still holds what this step published before"),
        "{}",
        stderr(&out)
    );
    let replaced = r.run(&[
        "do",
        "notes-release",
        "--yes",
        "--input",
        "if_exists=replace",
    ]);
    assert!(replaced.status.success(), "{}", stderr(&replaced));
    let rel = r.gh.releases();
    assert_eq!(rel.len(), 2);
    assert!(
        rel[0].body.contains("Blockers last time: bug 43"),
        "{rel:?}"
    );
    assert!(rel[0].draft, "still a draft");
    let all = r.said(&[&first, &kept, &out, &replaced]);
    assert!(!all.contains(GH_TOKEN), "the token leaked: {all}");
}

#[test]
fn a_wrong_key_is_said_plainly_and_never_shown() {
    let r = Rig::new();
    r.blockers("none");
    let wrong = "wr0ng-k3y-value";
    let out = r.run_with_key(wrong, &["do", "notes-pad", "--yes"]);
    assert_eq!(out.status.code(), Some(1));
    let why = stderr(&out);
    assert!(
        why.contains("Etherpad refused the API key of service `pad`"),
        "{why}"
    );
    assert!(why.contains("code 4"), "{why}");
    assert!(why.contains("services.pad.key"), "{why}");
    assert_eq!(r.pad.pad("site-2015-09-17"), None);
    let all = r.said(&[&out]);
    assert!(!all.contains(wrong) && !all.contains(&r.key), "{all}");
}

#[test]
fn a_hanging_or_garbled_etherpad_fails_in_bounded_time() {
    let r = Rig::new();
    r.blockers("none");
    r.pad.set_fault(Fault::Hang);
    let t = Instant::now();
    let out = r.run(&["do", "notes-pad", "--yes"]);
    assert!(t.elapsed() < Duration::from_secs(15), "{:?}", t.elapsed());
    assert_eq!(out.status.code(), Some(1));
    let why = stderr(&out);
    assert!(
        why.contains("is unreachable (no answer within 2s)"),
        "{why}"
    );

    r.pad.set_fault(Fault::Malformed);
    let out = r.run(&["do", "notes-pad", "--yes"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("not the API's JSON"),
        "{}",
        stderr(&out)
    );

    r.pad.set_fault(Fault::Internal);
    let out = r.run(&["do", "notes-pad", "--yes"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("code 2, internal error"),
        "{}",
        stderr(&out)
    );
    assert_eq!(r.pad.pad("site-2015-09-17"), None);
}

#[test]
fn the_bundled_next_notes_go_to_the_pad_with_the_push_filled_in() {
    let env = Env::new();
    let pad = Etherpad::start(Config::default());
    let out = env
        .cmd()
        .env("PUSHDUTY_ETHERPAD_KEY", pad.key())
        .args([
            // On the push day, when the runbook plans it.
            "--now",
            "2015-09-10",
            "--set",
            &format!("services.etherpad.url={}", pad.url()),
            "do",
            "next-notes",
            "--yes",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = pad.pad("amo-2015-09-17").expect("the next push's pad");
    for part in [
        "# AMO push 2015-09-17\n",
        "- Push hero: **kumar** (the hero before: andym, who pushed 2015.09.10 on 2015-09-10)",
        "- Tag: `2015.09.17`",
        "https://github.com/mozilla/olympia/compare/2015.09.10...master",
        "## Blockers\n",
        "Its notes: https://etherpad.mozilla.org/amo-2015-09-10\n",
    ] {
        assert!(text.contains(part), "{part:?} not in:\n{text}");
    }
}

/// The bundled template for a fixed push whose steps all ran: what shipped, the
/// cherry-picks, the blockers.
#[test]
fn the_bundled_notes_for_a_fixed_push() {
    let text =
        std::fs::read_to_string(support::cli::root().join("templates/push-notes.md")).unwrap();
    let ctx = json!({
        "push_date": "2015-09-10",
        "next_push_date": "2015-09-17",
        "tag": "2015.09.10-1",
        "hero": "andym",
        "next_hero": "kumar",
        "vars": { "qa": "Krupa", "ops": "Jason", "list": "dev-addons@mozilla.org" },
        "links": { "notes": "https://etherpad.mozilla.org/amo-2015-09-10" },
        "repos": { "olympia": { "github": "mozilla/olympia", "tag": "2015.09.10-1" } },
        "shipping_compare_url": "https://github.com/mozilla/olympia/compare/2015.09.03...2015.09.10-1",
        "commits": [
            { "sha": "a1b2c3d", "author": "Mathieu", "subject": "Fix the search ordering" },
            { "sha": "d4e5f6a", "author": "Kumar", "subject": "Sign add-ons on upload" }
        ],
        "cherry_picks": {
            "repo": "olympia",
            "base": "2015.09.10",
            "result": "0123456789abcdef0123456789abcdef01234567",
            "applied": [
                { "original": "d4e5f6a0123456789abcdef0123456789abcdef0", "new": "ffff", "subject": "Sign add-ons on upload" }
            ]
        },
        "blockers": [
            { "number": 1201, "title": "Search returns nothing", "url": "https://github.com/mozilla/olympia/issues/1201",
              "repo": "olympia", "outcome": "cherry-pick", "commits": ["d4e5f6a"] }
        ]
    });
    let rendered = pushduty::templates::render(&text, &ctx).unwrap();
    insta::assert_snapshot!(rendered);
}

/// The same calls against a real Etherpad (the stand-in's answers were copied from one):
/// `PUSHDUTY_REAL_ETHERPAD=URL PUSHDUTY_REAL_ETHERPAD_KEY=K cargo test --test services notes:: -- --ignored`.
#[test]
#[ignore = "needs a real Etherpad: PUSHDUTY_REAL_ETHERPAD and PUSHDUTY_REAL_ETHERPAD_KEY"]
fn against_a_real_etherpad() {
    let url = std::env::var("PUSHDUTY_REAL_ETHERPAD").expect("PUSHDUTY_REAL_ETHERPAD=URL");
    let key = std::env::var("PUSHDUTY_REAL_ETHERPAD_KEY").expect("PUSHDUTY_REAL_ETHERPAD_KEY");
    let env = Env::new();
    // A push date of its own, so that pads from earlier runs do not get in the way; the
    // published pad is this push's, so that the append has a page to go to.
    let day = chrono::NaiveDate::from_ymd_opt(2100, 1, 1).unwrap()
        + chrono::Days::new((chrono::Utc::now().timestamp() % 30_000) as u64);
    let day = day.format("%Y-%m-%d").to_string();
    let run_key = |key: &str, args: &[&str]| {
        env.cmd()
            .env("PUSHDUTY_ETHERPAD_KEY", key)
            .env("PUSHDUTY_HTTP_TIMEOUT", "5")
            .args([
                FIXTURE,
                "--now",
                &day,
                "--set",
                &format!("services.pad.url={url}"),
                "--set",
                "services.pad.pad=site-{{ push_date }}",
            ])
            .args(args)
            .output()
            .unwrap()
    };
    let run = |args: &[&str]| run_key(&key, args);
    let b = run(&["do", "blockers", "--yes", "--input", "blockers=none"]);
    assert!(b.status.success(), "{}", stderr(&b));
    let made = run(&["do", "notes-pad", "--yes"]);
    assert!(made.status.success(), "{}", stderr(&made));
    let same = run(&["do", "notes-pad", "--yes", "--reopen", "again"]);
    assert!(
        stderr(&same).contains("already holds exactly these notes"),
        "{}",
        stderr(&same)
    );
    let a = run(&["do", "append-pad", "--yes"]);
    assert!(a.status.success(), "{}", stderr(&a));
    let again = run(&["do", "append-pad", "--yes", "--reopen", "again"]);
    assert!(
        stderr(&again).contains("has this text already: not appended again"),
        "{}",
        stderr(&again)
    );
    let wrong = run_key(
        "not-the-key",
        &["do", "notes-pad", "--yes", "--reopen", "wrong key"],
    );
    assert!(
        stderr(&wrong).contains("refused the API key"),
        "{}",
        stderr(&wrong)
    );
}

/// Issue 20: a `..` in the rendered path, or a link in the checkout, put the notes outside
/// it. Now the step refuses, says why, and writes nothing there.
#[test]
fn markdown_notes_stay_inside_the_checkout() {
    let r = Rig::new();
    r.blockers("bug 42");
    std::fs::create_dir_all(r.checkout()).unwrap();
    let elsewhere = r.env.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();

    // A path that climbs out of the checkout.
    let out = r.run(&[
        "--set",
        "services.md.path=releases/../../elsewhere/{{ next_push_date }}.md",
        "do",
        "notes-md",
        "--yes",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(
            "the notes file `releases/../../elsewhere/2015-09-17.md` would be outside the checkout of `site`"
        ) && err.contains("name a file inside it"),
        "{err}"
    );
    assert!(!elsewhere.join("2015-09-17.md").exists());

    // A folder of the checkout that is a link to a folder elsewhere.
    std::os::unix::fs::symlink(&elsewhere, r.checkout().join("releases")).unwrap();
    let out = r.run(&["do", "notes-md", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("would be outside the checkout"),
        "{}",
        stderr(&out)
    );
    assert!(
        std::fs::read_dir(&elsewhere).unwrap().next().is_none(),
        "nothing written there"
    );

    // This push's file is a link to a file elsewhere: appending does not follow it.
    std::fs::remove_file(r.checkout().join("releases")).unwrap();
    std::fs::create_dir_all(r.checkout().join("releases")).unwrap();
    let target = elsewhere.join("secret.md");
    std::fs::write(&target, "not the notes\n").unwrap();
    std::os::unix::fs::symlink(&target, r.checkout().join("releases/2015-09-10.md")).unwrap();
    let out = r.run(&["do", "append-md", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is a symbolic link, and notes are written to a plain file"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "not the notes\n");
}
