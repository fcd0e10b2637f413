//! The blockers of a push, through the real binary against the GitHub stand-in: the open
//! issues labelled `blocker` (pull requests left out, every page followed), the outcome the
//! operator records for each, the cherry-pick step offering their fixes, `status --json`, and
//! every failure said plainly, in bounded time, without the token.

use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::cli::{Env, journal, stderr, stdout};
use crate::support::github::{Config, Fault, Github, Issue};
use crate::support::gitrepo::{Fixture, git};

const RB: &str = "--runbook=tests/fixtures/runbooks/valid/blockers.toml";
const TOKEN: &str = "ghp_s3cret";
const REPO: &str = "mozilla/olympia";

struct Rig {
    env: Env,
    github: Github,
    /// A checkout for the cherry-pick step, when the test needs one.
    repo: Option<Fixture>,
}

fn issues() -> Vec<Issue> {
    vec![
        Issue::open(REPO, 12, "Uploads fail on stage", &["blocker"]),
        Issue::open(REPO, 15, "Search \"empty\" on stage", &["blocker", "p1"]),
        // A pull request labelled blocker: the issues API lists it; it is not a blocker.
        Issue::open(REPO, 16, "Fix uploads", &["blocker"]).pull(),
        Issue::open(REPO, 3, "Old crash", &["blocker"]).closed(),
        Issue::open(REPO, 20, "Dark mode", &["enhancement"]),
    ]
}

impl Rig {
    fn new(issues: Vec<Issue>) -> Self {
        Self::with(Config {
            repo: REPO.into(),
            issues,
            ..Config::default()
        })
    }

    fn with(cfg: Config) -> Self {
        Self {
            env: Env::new(),
            github: Github::start(cfg),
            repo: None,
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut all = vec![
            RB.to_string(),
            "--now".into(),
            "2015-09-08".into(),
            "--set".into(),
            format!("services.github.api_url={}", self.github.url()),
        ];
        if let Some(r) = &self.repo {
            all.extend([
                "--set".into(),
                format!("repos.app.path={}", r.work.display()),
            ]);
        }
        all.extend(args.iter().map(|s| s.to_string()));
        self.env
            .cmd()
            .env("PUSHDUTY_GITHUB_TOKEN", TOKEN)
            .env("PUSHDUTY_HTTP_TIMEOUT", "2")
            .args(&all)
            .output()
            .unwrap()
    }

    fn blockers(&self, inputs: &[&str]) -> Output {
        let mut args = vec!["do", "blockers", "--yes"];
        for i in inputs {
            args.extend(["--input", i]);
        }
        self.run(&args)
    }

    /// A step's outputs, as `show --json` has them.
    fn outputs(&self, step: &str) -> Value {
        let out = self.run(&["show", "--json"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let steps = v["steps"].as_array().cloned().unwrap_or_default();
        let found = steps.into_iter().find(|s| s["id"] == step);
        found.map_or(Value::Null, |s| s["outputs"].clone())
    }

    /// Everything pushduty printed or journaled: the token must be in none of it.
    fn assert_no_token(&self, outs: &[&Output]) {
        for o in outs {
            assert!(!stdout(o).contains(TOKEN), "{}", stdout(o));
            assert!(!stderr(o).contains(TOKEN), "{}", stderr(o));
        }
        let j = journal(&self.env, "blockers/2015-09-10");
        assert!(!format!("{j:?}").contains(TOKEN));
    }
}

fn said(o: &Output) -> String {
    format!("{}{}", stdout(o), stderr(o))
}

#[test]
fn open_blockers_are_asked_about_and_their_outcomes_recorded() {
    let r = Rig::new(issues());
    // Without outcomes `do` says which input each blocker takes, and lists what it read.
    let asked = r.run(&["do", "blockers", "--yes"]);
    let text = stderr(&asked);
    assert_eq!(asked.status.code(), Some(2), "{text}");
    assert!(text.contains("pass --input blocker.12=VALUE"), "{text}");
    assert!(
        text.contains(
            "#12 Uploads fail on stage (mozilla/olympia) https://github.com/mozilla/olympia/issues/12"
        ),
        "{text}"
    );
    assert!(text.contains("#15 Search \"empty\" on stage"), "{text}");
    assert!(text.contains("2 open issues labelled `blocker`"), "{text}");
    for absent in ["#16", "Fix uploads", "#3 ", "Dark mode"] {
        assert!(!text.contains(absent), "{absent} listed: {text}");
    }
    let requests = r.github.requests();
    assert!(
        requests
            .iter()
            .any(|q| q.starts_with("GET /repos/mozilla/olympia/issues?labels=blocker&state=open")),
        "{requests:?}"
    );

    let done = r.blockers(&[
        "blocker.12=cherry-pick:abc1234,def5678",
        "blocker.15=deferred",
        "manual=Login loops | https://bugzilla.mozilla.org/show_bug.cgi?id=1 | resolved; Slow admin | | deferred",
    ]);
    let text = said(&done);
    assert!(done.status.success(), "{text}");
    assert!(
        text.contains("#12 Uploads fail on stage (mozilla/olympia): cherry-pick abc1234 def5678 https://github.com/mozilla/olympia/issues/12"),
        "{text}"
    );
    assert!(text.contains("to cherry-pick: abc1234 def5678"), "{text}");

    let s = r.outputs("blockers");
    let blockers = s["blockers"].as_array().unwrap();
    assert_eq!(blockers.len(), 4, "{blockers:?}");
    assert_eq!(blockers[0]["number"], 12);
    assert_eq!(blockers[0]["repo"], REPO);
    assert_eq!(blockers[0]["outcome"], "cherry-pick");
    assert_eq!(
        blockers[0]["url"],
        "https://github.com/mozilla/olympia/issues/12"
    );
    assert_eq!(blockers[1]["number"], 15);
    assert_eq!(blockers[1]["outcome"], "deferred");
    assert_eq!(blockers[1]["commits"], serde_json::json!([]));
    assert_eq!(blockers[2]["title"], "Login loops");
    assert_eq!(blockers[2]["number"], Value::Null);
    assert_eq!(blockers[2]["outcome"], "resolved");
    assert_eq!(blockers[3]["url"], "");
    assert_eq!(
        s["blocker_commits"],
        serde_json::json!(["abc1234", "def5678"])
    );
    r.assert_no_token(&[&asked, &done]);
}

#[test]
fn wrong_outcomes_and_unknown_blockers_are_refused_and_nothing_is_recorded() {
    let r = Rig::new(issues());
    for (inputs, expect) in [
        (
            &["blocker.12=cherry-pick", "blocker.15=resolved"][..],
            "cherry-pick needs the commits",
        ),
        (
            &["blocker.12=wontfix", "blocker.15=resolved"][..],
            "`wontfix` is not an outcome",
        ),
        (
            &[
                "blocker.12=resolved",
                "blocker.15=resolved",
                "blocker.16=resolved",
            ][..],
            "`blocker.16` is not one of the open blockers",
        ),
        (
            &[
                "blocker.12=resolved",
                "blocker.15=resolved",
                "manual=just a title",
            ][..],
            "`title | url | outcome`",
        ),
    ] {
        let out = r.blockers(inputs);
        assert_eq!(out.status.code(), Some(1), "{inputs:?}: {}", said(&out));
        assert!(said(&out).contains(expect), "{inputs:?}: {}", said(&out));
    }
    assert!(r.outputs("blockers")["blockers"].is_null());
}

#[test]
fn a_push_without_blockers_is_done_saying_so() {
    let r = Rig::new(vec![
        Issue::open(REPO, 16, "Fix uploads", &["blocker"]).pull(),
        Issue::open(REPO, 3, "Old crash", &["blocker"]).closed(),
    ]);
    let out = r.blockers(&[]);
    let text = said(&out);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("no open issue labelled `blocker` in mozilla/olympia"),
        "{text}"
    );
    assert!(text.contains("no blockers"), "{text}");
    let s = r.outputs("blockers");
    assert_eq!(s["blockers"], serde_json::json!([]));
    assert_eq!(s["blocker_commits"], serde_json::json!([]));
}

#[test]
fn every_page_of_blockers_is_read() {
    let mut list: Vec<Issue> = (1..=7)
        .map(|n| Issue::open(REPO, n, &format!("Blocker {n}"), &["blocker"]))
        .collect();
    list.push(Issue::open(REPO, 8, "A fix", &["blocker"]).pull());
    let r = Rig::with(Config {
        repo: REPO.into(),
        issues: list,
        max_per_page: 3,
        ..Config::default()
    });
    let inputs: Vec<String> = (1..=7).map(|n| format!("blocker.{n}=resolved")).collect();
    let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    let out = r.blockers(&inputs);
    assert!(out.status.success(), "{}", said(&out));
    let s = r.outputs("blockers");
    let numbers: Vec<u64> = s["blockers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["number"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, [1, 2, 3, 4, 5, 6, 7]);
    let pages = r
        .github
        .requests()
        .iter()
        .filter(|q| q.contains("/issues?") && q.contains("page=3"))
        .count();
    assert!(
        pages >= 1,
        "the third page was read: {:?}",
        r.github.requests()
    );
}

#[test]
fn the_cherry_pick_step_offers_the_blockers_fixes() {
    let mut r = Rig::new(vec![Issue::open(
        REPO,
        12,
        "Uploads fail on stage",
        &["blocker"],
    )]);
    let f = Fixture::new();
    let base = f.commit("a.txt", "a\n", "In the push");
    git(&f.work, &["push", "-q", "origin", "main"]);
    git(&f.work, &["tag", "2015.09.03", &base]);
    git(&f.work, &["push", "-q", "origin", "2015.09.03"]);
    f.commit("feature.txt", "wip\n", "Unfinished feature");
    let fix = f.commit("a.txt", "a, fixed\n", "Fix uploads");
    git(&f.work, &["push", "-q", "origin", "main"]);
    r.repo = Some(f);
    let short = &fix[..10];

    let ok = |args: &[&str]| {
        let out = r.run(args);
        assert!(out.status.success(), "{args:?}: {}", said(&out));
        said(&out)
    };
    ok(&["do", "fetch", "--yes"]);
    ok(&["do", "strategy", "--yes", "--input", "strategy=cherry_pick"]);
    ok(&[
        "do",
        "blockers",
        "--yes",
        "--input",
        &format!("blocker.12=cherry-pick:{short}"),
    ]);
    // Without commits the cherry-pick names the blockers' fixes first, then the candidates.
    let asked = r.run(&["do", "pick", "--yes"]);
    let text = stderr(&asked);
    assert_eq!(asked.status.code(), Some(2), "{text}");
    let offered = text
        .find(&format!(
            "the blockers' fixes (from the blockers step): {short}"
        ))
        .unwrap_or_else(|| panic!("{text}"));
    let candidates = text
        .find("on main since 2015.09.03")
        .unwrap_or_else(|| panic!("{text}"));
    assert!(offered < candidates, "{text}");
    assert!(
        text.contains(&format!("suggested: --input 'commits={short}'")),
        "{text}"
    );
    let picked = ok(&[
        "do",
        "pick",
        "--yes",
        "--input",
        &format!("commits={short}"),
    ]);
    assert!(picked.contains("Fix uploads"), "{picked}");
    let s = r.outputs("pick");
    assert_eq!(s["cherry_picks"]["applied"][0]["original"], fix);
}

#[test]
fn failures_are_said_in_bounded_time_without_the_token() {
    let r = Rig::new(issues());
    let mut outs = Vec::new();
    for (fault, expect) in [
        (
            Fault::RateLimit,
            "GitHub's rate limit for this token is spent: try again after",
        ),
        (
            Fault::SecondaryRateLimit,
            "rate limit for this token is spent: try again after 30s",
        ),
        (Fault::Hang, "is unreachable (no answer within 2s)"),
    ] {
        r.github.set_fault(fault);
        let started = Instant::now();
        let out = r.blockers(&["blocker.12=resolved", "blocker.15=resolved"]);
        let took = started.elapsed();
        let text = said(&out);
        assert_eq!(out.status.code(), Some(1), "{fault:?}: {text}");
        assert!(text.contains(expect), "{fault:?}: {text}");
        assert!(text.contains("--override"), "{fault:?}: {text}");
        // The checks read once when asked and once more right before acting: 2s each, at most.
        assert!(took < Duration::from_secs(12), "{fault:?} took {took:?}");
        outs.push(out);
    }
    r.github.set_fault(Fault::None);

    // A wrong token.
    let wrong = r
        .env
        .cmd()
        .env("PUSHDUTY_GITHUB_TOKEN", "ghp_wrong_one")
        .args([
            RB,
            "--now",
            "2015-09-08",
            "--set",
            &format!("services.github.api_url={}", r.github.url()),
            "do",
            "blockers",
            "--yes",
        ])
        .output()
        .unwrap();
    assert_eq!(wrong.status.code(), Some(1));
    assert!(
        said(&wrong).contains(
            "HTTP 401 Unauthorized: Bad credentials. GitHub refused the token of service `github`"
        ),
        "{}",
        said(&wrong)
    );
    assert!(!said(&wrong).contains("ghp_wrong_one"));

    // GitHub down is no reason to lose the blockers: overridden, the typed ones are recorded.
    r.github.set_fault(Fault::RateLimit);
    let by_hand = r.run(&[
        "do",
        "blockers",
        "--yes",
        "--override",
        "GitHub rate limit; blockers from the notes",
        "--input",
        "manual=Uploads fail | https://github.com/mozilla/olympia/issues/12 | cherry-pick:abc1234",
    ]);
    assert!(by_hand.status.success(), "{}", said(&by_hand));
    assert!(
        said(&by_hand).contains("recording the blockers typed by hand"),
        "{}",
        said(&by_hand)
    );
    assert_eq!(
        r.outputs("blockers")["blocker_commits"],
        serde_json::json!(["abc1234"])
    );
    outs.push(by_hand);
    r.assert_no_token(&outs.iter().collect::<Vec<_>>());
}

#[test]
fn status_reports_the_open_blockers_per_service() {
    let r = Rig::new(issues());
    let out = r.run(&["status", "--json"]);
    let v: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", said(&out)));
    let gh = &v["blockers"]["github"];
    assert_eq!(gh["error"], Value::Null, "{v}");
    assert_eq!(gh["label"], "blocker");
    let numbers: Vec<u64> = gh["open"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["number"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, [12, 15]);
    assert_eq!(gh["open"][0]["title"], "Uploads fail on stage");
    assert_eq!(
        gh["open"][0]["url"],
        "https://github.com/mozilla/olympia/issues/12"
    );
    assert_eq!(gh["open"][0]["repo"], REPO);

    r.github.set_fault(Fault::RateLimit);
    let out = r.run(&["status", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let error = v["blockers"]["github"]["error"]
        .as_str()
        .unwrap_or_default();
    assert!(error.contains("rate limit"), "{v}");
    let text = r.run(&["status"]);
    assert!(
        stdout(&text).contains("blockers github: error: reading the blockers of mozilla/olympia"),
        "{}",
        said(&text)
    );
    r.assert_no_token(&[&out, &text]);
}

#[test]
fn a_cherry_pick_answer_must_name_a_fix_the_tag_lacks() {
    let mut r = Rig::new(vec![Issue::open(
        REPO,
        12,
        "Uploads fail on stage",
        &["blocker"],
    )]);
    let f = Fixture::new();
    let tagged = f.commit("a.txt", "a\n", "In the push");
    git(&f.work, &["tag", "2015.09.10", &tagged]);
    let fix = f.commit("a.txt", "a, fixed\n", "Fix uploads");
    // The fix is upstream (the remote-tracking branch has it), after the tag.
    git(&f.work, &["push", "-q", "origin", "main"]);
    r.repo = Some(f);

    // The checks say what upstream has that the tag does not, with the fix's subject.
    let asked = r.run(&["do", "blockers", "--yes"]);
    let text = said(&asked);
    assert!(
        text.contains("app: origin/main has 1 commit not in 2015.09.10"),
        "{text}"
    );
    assert!(
        text.contains(&format!("+ {} Fix uploads", &fix[..7])),
        "{text}"
    );

    // A commit the tag ships already, or one that is nowhere, is refused before the step
    // runs, with why and what is not in the tag yet; nothing is recorded.
    for (answer, expect) in [
        (
            format!("cherry-pick:{}", &tagged[..8]),
            "is in 2015.09.10 already",
        ),
        (
            "cherry-pick:deadbeef".to_string(),
            "not a commit of this checkout",
        ),
    ] {
        let out = r.blockers(&[&format!("blocker.12={answer}")]);
        let text = said(&out);
        assert_ne!(out.status.code(), Some(0), "{answer}: {text}");
        assert!(text.contains(expect), "{answer}: {text}");
        assert!(
            text.contains(&format!("not in the tag yet: {}", &fix[..7])),
            "{answer}: {text}"
        );
        assert!(r.outputs("blockers")["blockers"].is_null(), "{text}");
    }

    // The fix itself (as the list offers it: the sha alone) is a cherry-pick, and the
    // summary keeps it.
    let done = r.blockers(&[&format!("blocker.12={}", &fix[..7])]);
    assert!(done.status.success(), "{}", said(&done));
    let s = r.outputs("blockers");
    assert_eq!(s["blocker_commits"], serde_json::json!([&fix[..7]]));
    assert_eq!(s["blockers"][0]["outcome"], "cherry-pick");
}
