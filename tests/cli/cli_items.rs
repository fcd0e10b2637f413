//! Ad-hoc items (`add`) and the push report (`report`) through the real binary.

use crate::support::cli::{Env, journal, stderr, stdout};

const RB: &str = "--runbook=tests/fixtures/runbooks/valid/report.toml";
const NOW: &str = "--now=2015-09-08";
const SESSION: &str = "report-push/2015-09-10";

fn ok(o: &std::process::Output) -> String {
    assert_eq!(o.status.code(), Some(0), "{}", stderr(o));
    stdout(o)
}

#[test]
fn an_item_is_listed_in_its_section_ticked_off_and_rebuilt_from_the_journal() {
    let env = Env::new();
    let run = |args: &[&str]| env.run(&[&[RB, NOW], args].concat());
    assert_eq!(
        ok(&run(&["add", "Tell #ops we start", "--section", "prep"])),
        "item-1\n"
    );
    // Default section: the last one.
    assert_eq!(ok(&run(&["add", "File the\tpush bug"])), "item-2\n");

    let text = ok(&run(&["show"]));
    let lines: Vec<&str> = text.lines().collect();
    let at = |needle: &str| {
        lines
            .iter()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("`{needle}` not in\n{text}"))
    };
    // After the last step of its section, before the next section's first step.
    assert_eq!(at("item-1  Tell #ops we start"), at("[ ] strategy") + 2);
    assert!(at("item-1") < at("[ ] blockers"));
    assert!(at("item-2  File the push bug") > at("[ ] echo"), "{text}");

    let v: serde_json::Value = serde_json::from_str(&ok(&run(&["show", "--json"]))).unwrap();
    let ids: Vec<&str> = v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "hello", "strategy", "item-1", "blockers", "qa", "smoke", "echo", "item-2"
        ]
    );
    assert_eq!(v["items"][0]["section"], "prep");
    assert_eq!(v["items"][0]["for"], "this");
    assert_eq!(v["items"][0]["by"], "tester");
    assert_eq!(v["items"][0]["status"], "pending");

    // One step, or one item, by id: the same fields, nothing else.
    let one: serde_json::Value =
        serde_json::from_str(&ok(&run(&["show", "item-1", "--json"]))).unwrap();
    assert_eq!(one["steps"].as_array().unwrap().len(), 1);
    assert_eq!(one["steps"][0]["id"], "item-1");
    assert_eq!(one["items"][0]["id"], "item-1");
    let qa = ok(&run(&["show", "qa"]));
    assert!(qa.contains("[ ] qa"), "{qa}");
    assert!(!qa.contains("hello"), "{qa}");
    let o = run(&["show", "no-such-step"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no step or item `no-such-step` in this push"),
        "{o:?}"
    );
    // An id typed with a terminal escape in it is named, never replayed to the terminal.
    let o = run(&["show", "x\u{1b}]0;owned\u{7}\u{1b}[2J"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!o.stderr.contains(&0x1b), "{o:?}");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no step or item `x"),
        "{o:?}"
    );

    let o = run(&["do", "item-1", "--yes", "--note", "posted in #ops"]);
    assert!(ok(&o).contains("done: item-1"));
    let j = journal(&env, SESSION);
    let item = j.iter().find(|e| e["event"] == "item").unwrap();
    assert_eq!(item["id"], "item-1");
    assert_eq!(item["text"], "Tell #ops we start");
    assert_eq!(item["section"], "prep");
    assert_eq!(item["for"], "this");
    assert!(
        j.iter()
            .any(|e| e["step"] == "item-1" && e["to"] == "done" && e["note"] == "posted in #ops")
    );

    // What a kill -9 mid-write leaves: a cache that is garbage. The journal has the item.
    let cache = env
        .path()
        .join("state/sessions")
        .join(SESSION)
        .join("session.json");
    std::fs::write(&cache, "{\"truncated").unwrap();
    let o = run(&["show", "--json"]);
    assert!(
        stderr(&o).contains("was unreadable: the session was rebuilt from its journal"),
        "{}",
        stderr(&o)
    );
    let v: serde_json::Value = serde_json::from_str(&ok(&o)).unwrap();
    let item = v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "item-1")
        .unwrap();
    assert_eq!(item["status"], "done");
    assert_eq!(item["note"], "posted in #ops");
    // It counts: one of eight finished.
    let o = env.run(&["history", "--json"]);
    let h: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let h = &h["sessions"];
    assert_eq!(
        (h[0]["done"].as_u64(), h[0]["total"].as_u64()),
        (Some(1), Some(8))
    );

    // A done item is not done twice; an id that is not there is a usage error.
    assert_eq!(run(&["do", "item-1", "--yes"]).status.code(), Some(1));
    let o = run(&["do", "item-9", "--yes"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("no step or ad-hoc item `item-9`"));
}

#[test]
fn a_bad_item_is_refused_before_any_session_begins() {
    let env = Env::new();
    let run = |args: &[&str]| env.run(&[&[RB, NOW], args].concat());
    let o = run(&["add", "x", "--section", "nope"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("no section `nope` in this runbook; its sections: prep, push, after"),
        "{}",
        stderr(&o)
    );
    let o = run(&["add", "clear \x1b[2J the screen"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("control character (\\u{1b})"),
        "{}",
        stderr(&o)
    );
    let o = run(&["add", &"x".repeat(201)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("at most 200"), "{}", stderr(&o));
    assert_eq!(run(&["add", "  \n "]).status.code(), Some(1));
    assert!(
        !env.path().join("state/sessions").exists(),
        "no session was begun"
    );
    // Learn mode has no `add`: the command is for a live session only.
    assert_eq!(run(&["learn", "add", "x"]).status.code(), Some(2));
}

/// The scripted push of the snapshots: every step kind of the fixture, an item for this push
/// and one for the next, a reopen and a second run, a failure and a skip.
fn scripted_push(env: &Env) {
    let run = |args: &[&str]| env.run(&[&[RB, NOW], args].concat());
    ok(&run(&["add", "Tell #ops we start", "--section", "prep"]));
    ok(&run(&["add", "Rotate the on-call doc", "--next-push"]));
    ok(&run(&["do", "hello", "--yes", "--note", "hero confirmed"]));
    ok(&run(&[
        "do",
        "strategy",
        "--yes",
        "--input",
        "strategy=master",
    ]));
    ok(&run(&[
        "do",
        "blockers",
        "--yes",
        "--input",
        "blockers=bug 1203 (fixed on master)",
        "--note",
        "checked the tracker",
    ]));
    ok(&run(&[
        "do",
        "hello",
        "--reopen",
        "ana is out; bo pushes",
        "--yes",
        "--note",
        "swapped with bo",
    ]));
    ok(&run(&["do", "qa", "--yes", "--input", "approved_by=Krupa"]));
    assert_eq!(run(&["do", "smoke", "--yes"]).status.code(), Some(1));
    ok(&run(&["do", "echo", "--yes"]));
    ok(&run(&["do", "item-1", "--yes", "--note", "posted"]));
    // The CLI has no skip (the TUI's `s` does it): the line it journals.
    let path = env
        .path()
        .join("state/sessions")
        .join(SESSION)
        .join("journal.jsonl");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(
        r#"{"time":"x","operator":"bo","event":"step","step":"smoke","from":"failed","to":"skipped","reason":"stage smoke tests cover it"}"#,
    );
    text.push('\n');
    // Fixed times: line N happened N × 45 s after 16:00, so durations are known too.
    let start = chrono::DateTime::parse_from_rfc3339("2015-09-10T16:00:00Z").unwrap();
    let fixed: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            let t = start + chrono::Duration::seconds(45 * i as i64);
            let t = t
                .to_utc()
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            // The gate records when QA said yes: now, unless told.
            if v["outputs"].get("approved_at").is_some() {
                v["outputs"]["approved_at"] = serde_json::Value::from(t.clone());
            }
            v["time"] = serde_json::Value::from(t);
            serde_json::to_string(&v).unwrap()
        })
        .collect();
    std::fs::write(&path, fixed.join("\n") + "\n").unwrap();
}

#[test]
fn report_of_a_scripted_push_in_markdown_and_json() {
    let env = Env::new();
    scripted_push(&env);
    let run = |args: &[&str]| env.run(&[&[RB, NOW], args].concat());
    let md = ok(&run(&["report"]));
    insta::assert_snapshot!("report_markdown", md);
    let json = ok(&run(&["report", "--format", "json"]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    insta::assert_json_snapshot!("report_json", v);

    // The keys the README promises.
    for k in [
        "runbook",
        "push_date",
        "tags",
        "operators",
        "started",
        "finished",
        "outcome",
        "done",
        "total",
        "steps",
        "items",
        "next_push",
        "blockers",
        "warnings",
    ] {
        assert!(v.get(k).is_some(), "no `{k}` in\n{json}");
    }
    let hello = &v["steps"][0];
    assert_eq!(hello["id"], "hello");
    assert_eq!(hello["runs"].as_array().unwrap().len(), 2, "{hello}");
    assert_eq!(hello["runs"][0]["seconds"], 45);
    assert_eq!(hello["reopens"][0]["reason"], "ana is out; bo pushes");
    let smoke = v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "smoke")
        .unwrap();
    assert_eq!(smoke["status"], "skipped");
    assert_eq!(smoke["runs"][0]["result"], "failed");
    assert_eq!(smoke["skips"][0]["reason"], "stage smoke tests cover it");
    assert_eq!(v["blockers"][0]["blockers"], "bug 1203 (fixed on master)");
    assert_eq!(v["next_push"][0]["text"], "Rotate the on-call doc");
    assert_eq!(v["operators"], serde_json::json!(["tester", "bo"]));
    assert_eq!(v["finished"], "2015-09-10T16:16:30Z");
}

#[test]
fn a_past_push_is_reported_and_its_next_push_items_are_carried_in() {
    let env = Env::new();
    scripted_push(&env);
    // A week later: the next push's session begins and takes the item in.
    let later = |args: &[&str]| env.run(&[&[RB, "--now=2015-09-15"], args].concat());
    let o = later(&["add", "Check the new dashboard"]);
    assert!(
        stderr(&o).contains("carried in from the previous push: `item-1` Rotate the on-call doc"),
        "{}",
        stderr(&o)
    );
    assert_eq!(ok(&o), "item-2\n");
    let v: serde_json::Value = serde_json::from_str(&ok(&later(&["show", "--json"]))).unwrap();
    assert_eq!(v["push_date"], "2015-09-17");
    assert_eq!(v["items"][0]["text"], "Rotate the on-call doc");
    assert_eq!(v["items"][0]["for"], "this");
    assert_eq!(v["items"][0]["section"], "after");
    assert_eq!(v["items"][0]["from"]["push_date"], "2015-09-10");
    assert_eq!(v["items"][0]["from"]["id"], "item-2");
    let j = journal(&env, "report-push/2015-09-17");
    assert_eq!(j[1]["event"], "item");
    assert_eq!(j[1]["from"]["push_date"], "2015-09-10");

    // The past push, from its journal, while today is the next one's week.
    let o = later(&["report", "--push-date", "2015-09-10", "--format", "json"]);
    let r: serde_json::Value = serde_json::from_str(&ok(&o)).unwrap();
    assert_eq!(r["push_date"], "2015-09-10");
    assert_eq!(r["outcome"], "complete");
    let o = later(&["report", "--push-date", "2015-09-03"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("pushes with a journal: 2015-09-17, 2015-09-10"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        later(&["report", "--push-date", "next week"]).status.code(),
        Some(2)
    );
}
