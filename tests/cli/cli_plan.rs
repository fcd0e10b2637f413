//! `plan` and `render` through the binary: dates, rotation, tag suffixes from real repos, and
//! snapshots of what the bundled runbook prints.

use serde_json::Value;

use crate::support;
use crate::support::cli::{Env, repo_with_tags, stderr, stdout};

fn plan_json(env: &Env, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["plan", "--json"]);
    let out = env.run(&all);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).unwrap()
}

#[test]
fn push_date_and_tag_without_a_repo() {
    let env = Env::new();
    let p = plan_json(&env, &["--now", "2015-09-08"]);
    assert_eq!(p["runbook"], "AMO weekly push");
    assert_eq!(p["vars"]["push_date"], "2015-09-10");
    assert_eq!(p["vars"]["tag_date"], "2015-09-08");
    assert_eq!(p["vars"]["tag"], "2015.09.10");
    assert_eq!(p["vars"]["hero"], "andym");
    assert_eq!(p["vars"]["next_hero"], "kumar");
    assert_eq!(
        p["vars"]["previous_tag"],
        Value::Null,
        "unknown without a repo, but present"
    );
    assert_eq!(p["vars"]["compare_url"], Value::Null);
    assert_eq!(p["vars"]["repos"]["olympia"]["tag"], "2015.09.10");
    let step = &p["steps"][4];
    assert_eq!(step["id"], "tag-master");
    assert_eq!(step["section"], "Before the push: tag the repos");
    assert_eq!(step["kind"], "git.tag");
    assert_eq!(step["confirm"], true);
    assert_eq!(step["applies"], Value::Null, "depends on the choice");
}

#[test]
fn existing_tags_give_the_next_suffix_and_the_previous_tag() {
    let env = Env::new();
    let work = repo_with_tags(env.path(), &["2015.09.03", "2015.09.03-1", "v1.0"]);
    let set = format!("repos.olympia.path={}", work.display());
    let p = plan_json(&env, &["--now", "2015-09-08", "--set", &set]);
    assert_eq!(p["vars"]["tag"], "2015.09.10");
    assert_eq!(p["vars"]["previous_tag"], "2015.09.03-1");
    assert_eq!(
        p["vars"]["compare_url"],
        "https://github.com/mozilla/olympia/compare/2015.09.03-1...2015.09.10"
    );

    let work = repo_with_tags(&env.path().join("b"), &["2015.09.03", "2015.09.10"]);
    let set = format!("repos.olympia.path={}", work.display());
    let p = plan_json(&env, &["--now", "2015-09-08", "--set", &set]);
    assert_eq!(p["vars"]["tag"], "2015.09.10-1");
    assert_eq!(p["vars"]["previous_tag"], "2015.09.03");

    let work = repo_with_tags(
        &env.path().join("c"),
        &["2015.09.10", "2015.09.10-1", "2015.09.10-2"],
    );
    let set = format!("repos.olympia.path={}", work.display());
    let p = plan_json(&env, &["--now", "2015-09-08", "--set", &set]);
    assert_eq!(p["vars"]["tag"], "2015.09.10-3");
    assert_eq!(
        p["vars"]["previous_tag"],
        Value::Null,
        "no release before this push"
    );
}

#[test]
fn each_repo_has_its_own_tag_revision() {
    let env = Env::new();
    let server = repo_with_tags(&env.path().join("server"), &["2019.01.10", "2019.01.10-1"]);
    let frontend = repo_with_tags(
        &env.path().join("frontend"),
        &["2019.01.10", "2019.01.10-1", "2019.01.10-2", "2019.01.10-3"],
    );
    let runbook = env.path().join("two.toml");
    let text = std::fs::read_to_string(
        support::cli::root().join("tests/fixtures/runbooks/valid/minimal.toml"),
    )
    .unwrap()
        + "\n[repos.frontend]\ngithub = \"example/frontend\"\n";
    std::fs::write(&runbook, text).unwrap();
    let p = plan_json(
        &env,
        &[
            "--runbook",
            runbook.to_str().unwrap(),
            "--now",
            "2019-01-08",
            "--set",
            &format!("repos.app.path={}", server.display()),
            "--set",
            &format!("repos.frontend.path={}", frontend.display()),
        ],
    );
    assert_eq!(p["vars"]["repos"]["app"]["tag"], "2019.01.10-2");
    assert_eq!(p["vars"]["repos"]["frontend"]["tag"], "2019.01.10-4");
    assert_eq!(
        p["vars"]["tag"], "2019.01.10-2",
        "the plain names are the first repo's"
    );
}

#[test]
fn a_broken_repo_path_still_plans() {
    let env = Env::new();
    let p = plan_json(
        &env,
        &[
            "--now",
            "2015-09-08",
            "--set",
            "repos.olympia.path=/nonexistent/olympia",
        ],
    );
    assert_eq!(p["vars"]["tag"], "2015.09.10");
    assert_eq!(
        p["vars"]["repos"]["olympia"]["error"],
        "repository path /nonexistent/olympia does not exist"
    );
}

#[test]
fn dates_follow_the_runbook_timezone() {
    let env = Env::new();
    // Thursday 20:00 in Los Angeles is Friday in UTC: the push is still today.
    let p = plan_json(&env, &["--now", "2015-09-11T03:00:00Z"]);
    assert_eq!(p["vars"]["push_date"], "2015-09-10");
    // A push day that is today.
    let p = plan_json(&env, &["--now", "2015-09-10"]);
    assert_eq!(p["vars"]["push_date"], "2015-09-10");
    // Across the year end, and the tag day in the old year.
    let p = plan_json(&env, &["--now", "2015-12-30"]);
    assert_eq!(p["vars"]["push_date"], "2015-12-31");
    let p = plan_json(&env, &["--now", "2016-01-01"]);
    assert_eq!(p["vars"]["push_date"], "2016-01-07");
    assert_eq!(p["vars"]["tag"], "2016.01.07");
    assert_eq!(p["vars"]["tag_date"], "2016-01-05");
    // The night DST starts (2016-03-13 02:00 local) and ends (2015-11-01 02:00 local).
    let p = plan_json(&env, &["--now", "2016-03-13T10:30:00Z"]);
    assert_eq!(p["vars"]["today"], "2016-03-13");
    assert_eq!(p["vars"]["push_date"], "2016-03-17");
    let p = plan_json(&env, &["--now", "2015-11-01T08:30:00Z"]);
    assert_eq!(p["vars"]["today"], "2015-11-01");
    assert_eq!(
        p["vars"]["now"], "2015-11-01T01:30:00-07:00",
        "still daylight time"
    );
    let p = plan_json(&env, &["--now", "2015-11-01T09:30:00Z"]);
    assert_eq!(
        p["vars"]["now"], "2015-11-01T01:30:00-08:00",
        "the repeated hour, standard time"
    );
    assert_eq!(p["vars"]["push_date"], "2015-11-05");
}

#[test]
fn bad_now_is_a_usage_error() {
    let env = Env::new();
    let out = env.run(&["--now", "next tuesday", "plan"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("neither a date"), "{}", stderr(&out));
}

#[test]
fn plan_of_the_bundled_runbook() {
    let env = Env::new();
    let out = env.run(&["--now", "2015-09-08", "plan"]);
    assert!(out.status.success(), "{}", stderr(&out));
    insta::assert_snapshot!("plan_text", stdout(&out));
    let mut json: Value = serde_json::from_str(&stdout(&env.run(&[
        "--now",
        "2015-09-08",
        "plan",
        "--json",
    ])))
    .unwrap();
    // The instant and operator come from the machine; pin them.
    json["vars"]["now"] = "<now>".into();
    insta::assert_json_snapshot!("plan_json", json);
}

#[test]
fn render_of_the_bundled_runbook() {
    let env = Env::new();
    let out = env.run(&["render", "--format", "markdown"]);
    assert!(out.status.success(), "{}", stderr(&out));
    insta::assert_snapshot!("render_markdown", stdout(&out));
}

#[test]
fn the_biweekly_amo_plan_shows_the_pushes_ahead_with_the_freeze_skipped() {
    let env = Env::new();
    let out = env.run(&[
        "--runbook",
        "runbooks/amo-2026.toml",
        "--now",
        "2026-12-01",
        "plan",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let ahead = [
        "  pushes ahead  Thu 2026-12-10  willdurand",
        "                Thu 2026-12-24  no push (schedule.skip)",
        "                Thu 2027-01-07  diox",
        "                Thu 2027-01-21  eviljeff",
    ]
    .join("\n");
    assert!(text.contains(&ahead), "{text}");
    assert!(!text.contains("2026-12-17"), "every other week: {text}");

    let p = plan_json(
        &env,
        &["--runbook", "runbooks/amo-2026.toml", "--now", "2026-12-01"],
    );
    assert_eq!(p["upcoming"][1]["date"], "2026-12-24");
    assert_eq!(p["upcoming"][1]["skipped"], true);
    assert_eq!(
        p["upcoming"][2]["hero"], "diox",
        "a skipped push does not move the rotation"
    );
}

#[test]
fn a_weekly_plan_without_a_freeze_ahead_lists_no_pushes_ahead() {
    let env = Env::new();
    let p = plan_json(&env, &["--now", "2015-09-08"]);
    assert!(p.get("upcoming").is_none(), "{p}");
}
