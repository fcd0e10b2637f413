//! Learning from a real push: a push recorded through `pushduty do` on a real repository with
//! a bare remote, replayed read-only (`learn --replay`, its screen and its JSON); how long each
//! step usually takes across pushes (`history --json`, the TUI's details); a running step's
//! elapsed time against that; and the `--json` of every read command.

use std::path::Path;

use clap::Parser;
use pushduty::cli::Cli;
use pushduty::session::Status;
use pushduty::tui::app::{App, Mode};
use pushduty::tui::theme::Theme;
use pushduty::tui::ui;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::Value;

use crate::support;
use crate::support::cli::{stderr, stdout};
use crate::support::gitrepo::{git, redact};
use crate::support::push::{Push, RUNBOOK};

/// A push of `git-push.toml` as people do it: the fetch fails once (the remote was away) and
/// is retried, main is tagged and pushed, what ships is looked at twice, QA approves.
fn recorded_push() -> Push {
    let p = Push::new();
    git(&p.repo.work, &["tag", "2015.09.03", "HEAD"]);
    git(&p.repo.work, &["push", "-q", "origin", "2015.09.03"]);
    p.repo.commit("a.txt", "a\n", "Fix one");
    git(&p.repo.work, &["push", "-q", "origin", "main"]);
    let away = p.repo.remote.with_extension("away");
    std::fs::rename(&p.repo.remote, &away).unwrap();
    p.refused(&["fetch"]);
    std::fs::rename(&away, &p.repo.remote).unwrap();
    p.ok(&["fetch"]);
    p.ok(&["strategy", "--input", "strategy=master"]);
    p.ok(&["tag-main"]);
    p.ok(&["push"]);
    p.ok(&["compare"]);
    p.ok(&["compare", "--reopen", "a late merge: looked again"]);
    p.ok(&[
        "qa",
        "--input",
        "approved_by=krupa",
        "--note",
        "all green on stage",
    ]);
    p
}

/// How long each run of the recorded push took, by step, in order (`factor` times as long).
fn took(step: &str, run: usize, factor: i64) -> i64 {
    let secs: &[i64] = match step {
        "fetch" => &[4, 40],
        "strategy" => &[30],
        "tag-main" => &[2],
        "push" => &[3],
        "compare" => &[5, 7],
        "qa" => &[20],
        _ => &[1],
    };
    secs.get(run).copied().unwrap_or(1) * factor
}

/// Rewrites the journal's times from `start`: each run of a step takes [`took`], a minute
/// passes between steps, anything else a second. The replay then reads the same on every run.
fn retime(journal: &Path, start: &str, factor: i64) {
    let text = std::fs::read_to_string(journal).unwrap();
    let mut t = chrono::DateTime::parse_from_rfc3339(start).unwrap();
    let mut runs: std::collections::HashMap<String, usize> = Default::default();
    let mut out = String::new();
    for line in text.lines() {
        let mut v: Value = serde_json::from_str(line).unwrap();
        let step = v["step"].as_str().unwrap_or_default().to_string();
        let gap = match v["to"].as_str() {
            Some("running") => 60,
            Some("done" | "failed" | "interrupted") => {
                let n = runs.entry(step.clone()).or_default();
                *n += 1;
                took(&step, *n - 1, factor)
            }
            _ => 1,
        };
        t += chrono::Duration::seconds(gap);
        v["time"] = t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true).into();
        out.push_str(&serde_json::to_string(&v).unwrap());
        out.push('\n');
    }
    std::fs::write(journal, out).unwrap();
    // The cache is rebuilt from the journal when it disagrees; drop it so nobody warns.
    let _ = std::fs::remove_file(journal.with_file_name("session.json"));
}

/// The `Global` options of `args` as the binary would parse them.
fn global(p: &Push, args: &[&str]) -> pushduty::cli::Global {
    let mut all = vec!["pushduty".to_string()];
    all.extend(p.args());
    all.push("--config".into());
    all.push(p.env.config().display().to_string());
    all.push("--state-dir".into());
    all.push(p.env.path().join("state").display().to_string());
    all.extend(args.iter().map(|s| s.to_string()));
    Cli::try_parse_from(all).unwrap().global
}

fn json(o: &std::process::Output) -> Value {
    assert!(o.status.success(), "{}{}", stdout(o), stderr(o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(o)))
}

fn draw(app: &mut App, w: u16, h: u16) -> String {
    app.area = ratatui::layout::Rect::new(0, 0, w, h);
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| ui::draw(f, app)).unwrap();
    let buf = t.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..h {
        let line: String = (0..w).map(|x| buf[(x, y)].symbol().to_string()).collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn step<'a>(v: &'a Value, id: &str) -> &'a Value {
    v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("no step {id} in {v}"))
}

#[test]
fn a_recorded_push_replays_as_it_happened() {
    let p = recorded_push();
    retime(&p.dir().join("journal.jsonl"), "2015-09-10T16:00:00Z", 1);

    let v = json(&p.run(&["learn", "--replay", "2015-09-10", "--json"]));
    assert_eq!(v["push_date"], "2015-09-10");
    let fetch = step(&v, "fetch");
    let runs = fetch["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2, "{fetch}");
    assert_eq!(runs[0]["result"], "failed");
    assert_eq!(runs[1]["result"], "done");
    assert_eq!(runs[1]["by"], "tester");
    let compare = step(&v, "compare");
    assert_eq!(compare["runs"].as_array().unwrap().len(), 2);
    assert_eq!(
        compare["reopens"][0]["reason"],
        "a late merge: looked again"
    );
    assert_eq!(step(&v, "qa")["note"], "all green on stage");
    assert_eq!(step(&v, "qa")["outputs"]["approved_by"], "krupa");
    assert!(
        step(&v, "push")["action"]
            .as_str()
            .unwrap()
            .starts_with("push refs/tags/2015.09.10"),
        "{v}"
    );
    // Each step's usual duration comes along (one push: its own runs).
    assert_eq!(v["durations"]["fetch"]["runs"], 1);
    assert_eq!(v["durations"]["compare"]["runs"], 2);
    // Without a date: the latest finished push, this one. The gate's approval time is the
    // wall clock's.
    let mut latest = json(&p.run(&["learn", "--replay", "--json"]));
    let qa = latest["steps"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|s| s["id"] == "qa")
        .unwrap();
    qa["outputs"]["approved_at"] = "[NOW]".into();
    let latest = serde_json::to_string_pretty(&latest).unwrap();
    insta::assert_snapshot!("replay_json", redact(&p.repo, &latest));

    // The replay's screen: the checklist as the push left it, the selected step's story.
    let g = global(&p, &["learn", "--replay"]);
    let past =
        pushduty::cli::report::read_past(&g, Some("2015-09-10"), std::sync::Arc::new(|_| {}))
            .unwrap_or_else(|_| panic!("the push reads back"));
    let usual = pushduty::session::usual_durations(&p.env.path().join("state"), "git-push");
    let app = App::new(past.engine, Mode::Learn, Theme::no_color());
    let mut app = pushduty::cli::replay::replaying(app, past.report, usual);
    app.fixed_clock = Some("09:00".into());
    let screen = draw(&mut app, 120, 40);
    assert!(screen.contains("In that push:"), "{screen}");
    assert!(
        screen.contains("run 1: failed by tester at Thu 2015-09-10 16:01:01 in 4s"),
        "{screen}"
    );
    assert!(
        screen.contains("run 2: done by tester at Thu 2015-09-10 16:02:05 in 40s"),
        "{screen}"
    );
    insta::assert_snapshot!("replay_120x40", redact(&p.repo, &screen));
    app.selected = 5;
    let screen = draw(&mut app, 80, 24);
    insta::assert_snapshot!("replay_80x24", redact(&p.repo, &screen));
}

#[test]
fn a_push_that_is_not_there_names_those_that_are() {
    let p = recorded_push();
    let o = p.run(&["learn", "--replay", "2015-09-03"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains(
            "no session of the push of 2015-09-03 of Git push; pushes with a journal: 2015-09-10"
        ),
        "{}",
        stderr(&o)
    );
    let o = p.run(&["learn", "--replay", "last week"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    // No push at all: said, not a blank screen.
    let empty = Push::new();
    let o = empty.run(&["learn", "--replay"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("no push of Git push to replay"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn history_json_gives_each_steps_median_over_every_push() {
    let p = recorded_push();
    let journal = p.dir().join("journal.jsonl");
    retime(&journal, "2015-09-10T16:00:00Z", 1);
    // The push before: the same steps, each gap three times as long.
    let before = p.env.path().join("state/sessions/git-push/2015-09-03");
    std::fs::create_dir_all(&before).unwrap();
    std::fs::copy(&journal, before.join("journal.jsonl")).unwrap();
    retime(&before.join("journal.jsonl"), "2015-09-03T16:00:00Z", 3);

    let v = json(&p.run(&["history", "--json"]));
    assert_eq!(v["runbook"], "Git push");
    assert_eq!(v["sessions"].as_array().unwrap().len(), 2);
    assert_eq!(v["sessions"][0]["push_date"], "2015-09-10");
    let d = &v["durations"];
    // fetch: the done runs took 40 s and 120 s (failures do not count).
    assert_eq!(d["fetch"]["median_seconds"], 80, "{d}");
    assert_eq!(d["fetch"]["runs"], 2);
    // compare: 5, 7, 15, 21.
    assert_eq!(d["compare"]["median_seconds"], 11, "{d}");
    assert_eq!(d["compare"]["runs"], 4);
    // The other runbook's history is not counted in this one's durations.
    let v = json(&p.env.run(&["history", "--json"]));
    assert_eq!(v["sessions"].as_array().unwrap().len(), 2);
    assert_eq!(v["durations"], serde_json::json!({}));
}

#[test]
fn a_running_step_shows_its_elapsed_time_and_is_flagged_when_far_over() {
    let p = recorded_push();
    retime(&p.dir().join("journal.jsonl"), "2015-09-10T16:00:00Z", 1);
    let g = global(&p, &["learn"]);
    let past =
        pushduty::cli::report::read_past(&g, Some("2015-09-10"), std::sync::Arc::new(|_| {}))
            .unwrap_or_else(|_| panic!("the push reads back"));
    let usual = pushduty::session::usual_durations(&p.env.path().join("state"), "git-push");
    let mut app = App::new(past.engine, Mode::Run, Theme::no_color());
    app.usual = usual;
    app.fixed_clock = Some("10:12".into());
    app.fixed_now = Some("2015-09-10T17:00:50Z".parse().unwrap());
    app.engine.session.state.steps["fetch"].status = Status::Running {
        since: "2015-09-10T17:00:00Z".into(),
    };
    app.log(
        pushduty::tui::app::Level::Progress,
        "fetch: receiving objects 120/300",
    );
    let screen = draw(&mut app, 100, 30);
    assert!(
        screen.contains("Running: 50s of ~40s") || screen.contains("Running: 50s, usually ~40s"),
        "{screen}"
    );
    assert!(
        screen.contains("Last: receiving objects 120/300"),
        "{screen}"
    );
    assert!(
        screen.contains("usually takes 40 s (from 1 run)"),
        "{screen}"
    );
    insta::assert_snapshot!("running_elapsed_100x30", redact(&p.repo, &screen));
    // Far over: twice the usual and more than a minute over.
    app.fixed_now = Some("2015-09-10T17:03:00Z".parse().unwrap());
    let screen = draw(&mut app, 100, 30);
    assert!(
        screen.contains("Running: 3m 00s, usually ~40s: far longer than usual"),
        "{screen}"
    );
    assert!(screen.contains("3m 00s (slow!)"), "{screen}");
}

#[test]
fn every_read_command_answers_in_json() {
    let p = recorded_push();
    // check: ok, and a broken runbook's problems with their places.
    let v = json(&p.run(&["check", "--json"]));
    assert_eq!(v["ok"], true);
    assert_eq!(v["problems"], serde_json::json!([]));
    let bad = p.env.path().join("bad.toml");
    std::fs::write(&bad, "name = \"x\"\n[schedule]\npush_day = \"someday\"\n").unwrap();
    let o = p
        .env
        .run(&["--runbook", bad.to_str().unwrap(), "check", "--json"]);
    assert_eq!(o.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["ok"], false);
    let first = &v["problems"][0];
    for k in ["path", "line", "column", "message"] {
        assert!(first.get(k).is_some(), "{k} in {v}");
    }
    let shown = stdout(&o).replace(bad.to_str().unwrap(), "BAD");
    insta::assert_snapshot!("check_json_problems", shown);
    // report: `--json` is `--format json`.
    let a = json(&p.run(&["report", "--json"]));
    let b = json(&p.run(&["report", "--format", "json"]));
    assert_eq!(a, b);
    // render: the runbook as loaded.
    let v = json(&p.run(&["render", "--json"]));
    assert_eq!(v["name"], "Git push");
    assert_eq!(v["steps"][0]["id"], "fetch");
    // schema: JSON either way.
    let a = json(&p.run(&["schema", "--json"]));
    let b = json(&p.run(&["schema"]));
    assert_eq!(a, b);
    // The others had it already.
    for cmd in [
        &["plan", "--json"][..],
        &["status", "--json"],
        &["show", "--json"],
        &["history", "--json"],
    ] {
        json(&p.run(cmd));
    }
    let _ = RUNBOOK;
}

/// A step that says nothing for ten seconds: `do` says how long it has run, and against how
/// long it took the push before.
#[test]
fn a_long_silent_step_gets_a_heartbeat_line() {
    let env = support::cli::Env::new();
    let rb = env.path().join("slow.toml");
    std::fs::write(
        &rb,
        r#"name = "Slow"

[schedule]
push_day = "thursday"
tag_day = "tuesday"
timezone = "UTC"

[rotation]
people = ["ana"]
start = "2015-09-10"

[[sections]]
id = "s"
title = "S"

[[steps]]
id = "wait"
section = "s"
title = "Wait"
kind = "shell"
command = "echo started; sleep 11"
"#,
    )
    .unwrap();
    let rb = rb.to_str().unwrap();
    let o = env.run(&[
        "--runbook",
        rb,
        "--now",
        "2015-09-08",
        "do",
        "wait",
        "--yes",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Seconds are whole and the machine may be busy: the line, not its exact count.
    let beat = |o: &std::process::Output| {
        stderr(o)
            .lines()
            .find(|l| l.trim_start().starts_with("… wait: started, 1"))
            .map(str::to_string)
            .unwrap_or_else(|| panic!("no heartbeat in {}", stderr(o)))
    };
    assert!(beat(&o).ends_with('s'), "{}", beat(&o));
    // The next push knows how long it took.
    let o = env.run(&[
        "--runbook",
        rb,
        "--now",
        "2015-09-15",
        "do",
        "wait",
        "--yes",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(beat(&o).contains("s of ~1"), "{}", beat(&o));
}
