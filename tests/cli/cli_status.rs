//! `pushduty status` through the binary, on a repository shaped like the benchmark one:
//! weekly release tags, `-1` re-tags on an older commit, and untagged work at the tip.

use std::io::Write;
use std::path::Path;
use std::process::Stdio;

use serde_json::Value;

use crate::support;
use crate::support::cli::{Env, stderr, stdout};
use crate::support::gitrepo::{git, git_command};

/// Builds `commits` commits on `master` with a release tag every `per` commits (a Thursday a
/// week apart from 2015-01-01), a `-1` tag one commit earlier on every fifth release, and the
/// last 120 commits untagged; then clones it with remote `upstream`.
fn weekly_release_repo(dir: &Path, commits: usize, per: usize) -> std::path::PathBuf {
    let bare = dir.join("upstream.git");
    git(
        dir,
        &["init", "-q", "--bare", "-b", "master", "upstream.git"],
    );
    let mut stream = String::new();
    let t0 = 1_420_113_600i64; // 2015-01-01 12:00 UTC, a Thursday
    let mut release = 0i64;
    for i in 1..=commits {
        let ts = t0 + i as i64 * 600;
        let msg = format!("Change {i}: fix something in module {}\n", i % 97);
        let body = format!("line {i}\n");
        stream += &format!("commit refs/heads/master\nmark :{i}\n");
        stream += &format!(
            "author Dev <dev@example.com> {ts} +0000\ncommitter Dev <dev@example.com> {ts} +0000\n"
        );
        stream += &format!("data {}\n{msg}", msg.len());
        if i > 1 {
            stream += &format!("from :{}\n", i - 1);
        }
        stream += &format!(
            "M 644 inline src/module{}.txt\ndata {}\n{body}\n",
            i % 97,
            body.len()
        );
        if i % per == 0 && i + 120 <= commits {
            let day = chrono::NaiveDate::from_ymd_opt(2015, 1, 1).unwrap()
                + chrono::Duration::weeks(release);
            let name = day.format("%Y.%m.%d");
            stream += &format!("reset refs/tags/{name}\nfrom :{i}\n\n");
            if release % 5 == 4 {
                stream += &format!("reset refs/tags/{name}-1\nfrom :{}\n\n", i - 1);
            }
            release += 1;
        }
    }
    let mut child = git_command(&bare)
        .args(["fast-import", "--quiet"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stream.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
    git(
        dir,
        &[
            "clone",
            "-q",
            "-o",
            "upstream",
            bare.to_str().unwrap(),
            "work",
        ],
    );
    dir.join("work")
}

/// A Graphite that answers every render with one healthy series, so the bundled runbook's
/// metrics source (configured by the runbook itself) is not a failure here.
fn healthy_graphite() -> String {
    let url = support::cli::serve_text(r#"[{"target": "x", "datapoints": [[1.0, 1441900800]]}]"#);
    format!("services.graphite.url={url}")
}

fn status(env: &Env, path: &Path) -> (Option<i32>, Value) {
    let set = format!("repos.olympia.path={}", path.display());
    let graphite = healthy_graphite();
    let out = env.run(&["status", "--json", "--set", &set, "--set", &graphite]);
    let json =
        serde_json::from_str(&stdout(&out)).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
    (out.status.code(), json)
}

#[test]
fn status_agrees_with_git_on_a_weekly_release_repo() {
    let env = Env::new();
    let work = weekly_release_repo(env.path(), 2_120, 200);
    let (code, json) = status(&env, &work);
    assert_eq!(code, Some(0));
    let g = &json["git"]["olympia"];
    let described = git(&work, &["describe", "--tags", "--abbrev=0"]);
    let count = git(
        &work,
        &["rev-list", "--count", &format!("{described}..HEAD")],
    );
    // The tenth release (2015.03.05) also has a -1 re-tag, on the commit before it: the plain
    // tag is on the newer commit, but `-1` names the newer release.
    assert_eq!(described, "2015.03.05");
    assert_eq!(
        g["last_tag"], "2015.03.05-1",
        "the newest by name among the reachable tags"
    );
    assert_eq!(g["commits_since_tag"], count.parse::<u64>().unwrap() + 1);
    assert_eq!(g["branch"], "master");
    assert_eq!(g["dirty"], 0);
    assert_eq!(g["ahead"], 0);
    assert_eq!(g["behind"], 0);
    assert_eq!(g["head"].as_str().unwrap().len(), 7);
    assert_eq!(g["head_subject"], "Change 2120: fix something in module 83");
    assert_eq!(
        g["compare_url"],
        "https://github.com/mozilla/olympia/compare/2015.03.05-1...master"
    );
    assert_eq!(g["commits"].as_array().unwrap().len(), 121);
    assert_eq!(
        g["commits"][0]["subject"],
        "Change 2120: fix something in module 83"
    );
    assert_eq!(g["error"], Value::Null);
    for source in ["jenkins", "sentry", "metrics"] {
        assert!(
            json[source].is_object(),
            "{source} is present even when not available"
        );
    }
}

#[test]
fn status_reports_problems_in_the_json() {
    let env = Env::new();
    let graphite = healthy_graphite();
    let out = env.run(&["status", "--json", "--set", &graphite]);
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["git"]["olympia"]["error"], "not configured");
    assert_eq!(
        out.status.code(),
        Some(0),
        "an unconfigured repo is not a failure"
    );

    // Its doctor section says what is missing without asking anything: the checkout, each
    // service's credentials, a link malformed as written; a configured service is not asked.
    let doctor = &json["doctor"];
    let item = |name: &str| {
        doctor["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["item"] == name)
            .unwrap_or_else(|| panic!("{name}: {doctor}"))
            .clone()
    };
    assert_eq!(item("git olympia remote upstream")["ok"], false);
    assert_eq!(item("sentry sentry")["detail"], "not configured");
    assert!(
        item("sentry sentry")["fix"]
            .as_str()
            .unwrap()
            .contains("PUSHDUTY_SENTRY_TOKEN")
    );
    let out = env
        .cmd()
        .env("PUSHDUTY_SENTRY_TOKEN", "sntrys_s3cret_in_status")
        .args([
            "status",
            "--json",
            "--set",
            &graphite,
            "--set",
            "links.stage=https://https://addons.allizom.org",
            "--set",
            "services.list.ca_file=/nonexistent/relay-ca.pem",
        ])
        .output()
        .unwrap();
    assert!(!stdout(&out).contains("sntrys_s3cret_in_status"));
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let found: Vec<Value> = json["doctor"]["items"].as_array().unwrap().clone();
    let sentry = found.iter().find(|i| i["item"] == "sentry sentry").unwrap();
    assert_eq!(sentry["ok"], true, "{sentry}");
    // A relay's settings are read as written: a `ca_file` that is not there is said.
    let mail = found.iter().find(|i| i["item"] == "smtp list").unwrap();
    assert_eq!(mail["ok"], false, "{mail}");
    assert!(
        mail["fix"]
            .as_str()
            .unwrap()
            .contains("`ca_file` /nonexistent/relay-ca.pem cannot be read"),
        "{mail}"
    );
    let link = found
        .iter()
        .find(|i| i["item"] == "link links.stage https://https://addons.allizom.org")
        .unwrap_or_else(|| panic!("{found:?}"));
    assert!(
        link["detail"].as_str().unwrap().starts_with("malformed: "),
        "{link}"
    );
    // As text, the section names what to fix and points to the command that asks.
    let out = env.run(&["status", "--set", &graphite]);
    let text = stdout(&out);
    assert!(text.contains("doctor, without asking anything: "), "{text}");
    assert!(
        text.ends_with("`pushduty doctor` asks every remote, token, series and link\n"),
        "{text}"
    );

    let (code, json) = status(&env, Path::new("/nonexistent/olympia"));
    assert_eq!(code, Some(1));
    assert_eq!(
        json["git"]["olympia"]["error"],
        "repository path /nonexistent/olympia does not exist"
    );
    let (code, json) = status(&env, env.path());
    assert_eq!(code, Some(1));
    assert!(
        json["git"]["olympia"]["error"]
            .as_str()
            .unwrap()
            .contains("is not a git repository"),
        "{json}"
    );
}
