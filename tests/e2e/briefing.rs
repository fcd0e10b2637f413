//! A hero back after other pushes: `run` shows first what changed since *their* last push of
//! the runbook (steps added, changed, removed; a service that moved) and the one-off items of
//! the pushes in between, once, journaled as seen; `briefing` prints the same.

use std::path::Path;

use crate::e2e_tmux::{Tmux, need_tmux};
use crate::support::cli::{Env, journal, stderr, stdout};

const V1: &str = r#"name = "Brief"
[schedule]
push_day = "thursday"
tag_day = "tuesday"
timezone = "UTC"
[rotation]
people = ["tester", "ana"]
start = "2015-09-10"
[services.ci]
kind = "jenkins"
url = "https://ci.example.org"
job = "deploy"
tag_param = "TAG"
token = { env = "CI_TOKEN" }
[[sections]]
id = "only"
title = "Only"
[[steps]]
id = "first"
section = "only"
title = "First"
kind = "manual"
[[steps]]
id = "second"
section = "only"
title = "Second"
kind = "manual"
[[steps]]
id = "third"
section = "only"
title = "Third"
kind = "manual"
"#;

fn write(path: &Path, text: &str) -> String {
    std::fs::write(path, text).unwrap();
    format!("--runbook={}", path.display())
}

#[test]
fn a_hero_back_after_other_pushes_is_briefed_once_on_what_changed() {
    let env = Env::new();
    let rb = env.path().join("brief.toml");
    let arg = write(&rb, V1);
    // tester pushed on 2015-09-10; ana on 2015-09-24, with a one-off item.
    let out = env.run(&[&arg, "--now", "2015-09-08", "do", "first", "--yes"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = env.run(&[
        &arg,
        "--operator",
        "ana",
        "--now",
        "2015-09-22",
        "add",
        "run ./manage.py addnewversion firefox '109.0' after the push",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    // The runbook then: a step added, one changed, one gone, Jenkins moved.
    let v2 = V1
        .replace("https://ci.example.org", "https://jenkins.example.org")
        .replace("title = \"Second\"", "title = \"Second, now with a check\"")
        .replace(
            "[[steps]]\nid = \"third\"\nsection = \"only\"\ntitle = \"Third\"\nkind = \"manual\"\n",
            "[[steps]]\nid = \"fourth\"\nsection = \"only\"\ntitle = \"Fourth\"\nkind = \"manual\"\n",
        );
    write(&rb, &v2);
    let out = env.run(&[&arg, "--now", "2015-10-06", "briefing"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for line in [
        "Since your last push (2015-09-10):",
        "  new step fourth: Fourth",
        "  changed step second: Second, now with a check",
        "  step third is gone",
        "  service ci: jenkins https://ci.example.org → jenkins https://jenkins.example.org",
        "  one-off items of the pushes since:",
        "    2015-09-24 (ana, pending): run ./manage.py addnewversion firefox '109.0' after the push",
    ] {
        assert!(text.lines().any(|l| l == line), "{line}\n{text}");
    }
    // ana's own last push is the one with the item: nothing in between for her.
    let out = env.run(&[
        &arg,
        "--operator",
        "ana",
        "--now",
        "2015-10-06",
        "briefing",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["briefing"]["since"], "2015-09-24", "{v}");
    assert_eq!(v["briefing"]["items"].as_array().unwrap().len(), 0, "{v}");

    // On the screen: once, then journaled as seen.
    need_tmux();
    let t = Tmux::new("brief");
    let args = [arg.as_str(), "--now", "2015-10-06", "run"];
    t.start(&env, "one", &args);
    t.wait_for("one", "Since your last push (2015-09-10):");
    t.wait_for("one", "step third is gone");
    t.keys("one", &["Enter"]);
    t.wait_without("one", "Since your last push");
    t.keys("one", &["q"]);
    t.wait_exit("one", "0");
    let seen: Vec<_> = journal(&env, "brief/2015-10-08")
        .into_iter()
        .filter(|e| e["event"] == "briefed")
        .collect();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0]["since"], "2015-09-10");
    t.start(&env, "two", &args);
    t.wait_for("two", "Checklist");
    t.keys("two", &["q"]);
    let s = t.wait_exit("two", "0");
    assert!(!s.contains("Since your last push"), "{s}");
}
