//! `pushduty doctor` through the binary: every kind of item once good and once broken, against
//! the stand-ins and the real servers the suite runs (git, Graphite, aiosmtpd); a config where
//! every service hangs; and no secret in what it prints.

use std::io::Write;
use std::net::TcpListener;
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::cli::{Env, repo_with_tags, serve_text, stderr, stdout};
use crate::support::metrics_servers::{graphite, minutes, prometheus};
use crate::support::smtp_server::{Mode, SmtpServer};
use crate::support::synapse::Synapse;
use pushduty::standins::{etherpad, github, jenkins, sentry, slack, smtp};

const JENKINS_TOKEN: &str = "jenkins-t0ken-4d0c";
const SENTRY_TOKEN: &str = "sntrys_d0ct0r-s3cret";
const GITHUB_TOKEN: &str = "ghp_d0ct0r-s3cret";
const PAD_KEY: &str = "pad-k3y-d0ct0r";
const SLACK_TOKEN: &str = "xoxb-d0ct0r-s3cret";
const SMTP_PASSWORD: &str = "smtp-passw0rd-d0ct0r";
/// What a stale config names instead: each refused.
const STALE: &str = "st4le-s3cret-d0ct0r";

/// Each secret the environment holds, by variable.
fn secrets() -> Vec<(&'static str, &'static str)> {
    vec![
        ("DOC_JENKINS", JENKINS_TOKEN),
        ("DOC_SENTRY", SENTRY_TOKEN),
        ("DOC_GITHUB", GITHUB_TOKEN),
        ("DOC_PAD", PAD_KEY),
        ("DOC_SLACK", SLACK_TOKEN),
        ("DOC_SMTP", SMTP_PASSWORD),
        ("DOC_STALE", STALE),
    ]
}

/// The services of the broken-and-good runbook, running.
struct Rig {
    env: Env,
    runbook: std::path::PathBuf,
    _servers: Vec<Box<dyn std::any::Any>>,
}

impl Rig {
    fn run(&self, args: &[&str]) -> Output {
        let mut cmd = self.env.cmd();
        for (k, v) in secrets() {
            cmd.env(k, v);
        }
        cmd.arg("--runbook")
            .arg(&self.runbook)
            .args(args)
            .output()
            .unwrap()
    }
}

/// Writes `runbook` and a config with `repos` (name, checkout) into the env.
fn write(env: &Env, runbook: &str, repos: &[(&str, &Path)]) -> std::path::PathBuf {
    let mut config = "operator = \"tester\"\n".to_string();
    for (name, path) in repos {
        config.push_str(&format!(
            "[repos.{name}]\npath = {:?}\n",
            path.display().to_string()
        ));
    }
    std::fs::write(env.config(), config).unwrap();
    let path = env.path().join("runbook.toml");
    std::fs::write(&path, runbook).unwrap();
    path
}

const HEAD: &str = r#"
[schedule]
push_day = "thursday"
tag_day = "tuesday"
timezone = "UTC"

[rotation]
people = ["ana", "bo"]
start = "2015-09-10"
"#;

const STEPS: &str = r#"
[[sections]]
id = "only"
title = "Only"

[[steps]]
id = "look"
section = "only"
title = "Look at the dashboards"
kind = "manual"
doc = "The [monitoring page](https://https://monitoring.example/amo) and {{ links.stage }}."
"#;

fn rig() -> Rig {
    let env = Env::new();
    let now = chrono::Utc::now().timestamp();
    let good = repo_with_tags(&env.path().join("good"), &[]);
    let lost = repo_with_tags(&env.path().join("lost"), &[]);
    let bare = env.path().join("lost/origin.git");
    std::fs::remove_dir_all(&bare).unwrap();

    let jenkins = jenkins::Jenkins::start(jenkins::Config {
        job: "amo-deploy".into(),
        user: "hero".into(),
        token: JENKINS_TOKEN.into(),
        ..Default::default()
    });
    let sentry = sentry::Sentry::start(sentry::Config {
        token: SENTRY_TOKEN.into(),
        ..Default::default()
    });
    let narrow = sentry::Sentry::start(sentry::Config {
        token: SENTRY_TOKEN.into(),
        scopes: vec!["event:read".into()],
        ..Default::default()
    });
    let gh = github::Github::start(github::Config {
        token: GITHUB_TOKEN.into(),
        ..Default::default()
    });
    let reader = github::Github::start(github::Config {
        token: GITHUB_TOKEN.into(),
        push: false,
        ..Default::default()
    });
    let pad = etherpad::Etherpad::start(etherpad::Config {
        key: PAD_KEY.into(),
        ..Default::default()
    });
    let chat = slack::Slack::start(slack::Config {
        token: SLACK_TOKEN.into(),
        ..Default::default()
    });
    let relay = smtp::Smtp::start(smtp::Config {
        login: Some(("hero".into(), SMTP_PASSWORD.into())),
        ..Default::default()
    });
    // Repeats the login it refuses, password and all, as some servers do.
    let echo = smtp::Smtp::start(smtp::Config {
        login: Some(("hero".into(), "another".into())),
        fault: smtp::Fault::EchoLogin,
        ..Default::default()
    });
    let aiosmtpd = SmtpServer::start();
    let metrics = graphite(&[
        (
            "stage.2xx",
            minutes(now - 1800, 20, |i| Some(100.0 + i as f64)),
        ),
        ("stage.5xx.web1", minutes(now - 1800, 20, |_| Some(1.0))),
        ("stage.5xx.web2", minutes(now - 1800, 20, |_| Some(2.0))),
        // Renamed three hours ago: the old name has no recent point.
        ("stage.4xx", minutes(now - 4 * 3600, 30, |_| Some(3.0))),
    ]);
    let stage = serve_text("ok");
    let runbook = format!(
        r#"name = "Doctor"

[links]
stage = "{stage}"
monitoring = "https://https://monitoring.example/amo"
old-notes = "{pad}/gone"
{HEAD}
[repos.app]
github = "mozilla/addons-server"
remote = "origin"
branch = "main"

[repos.lost]
github = "mozilla/lost"
remote = "origin"
branch = "main"

[services.deploy]
kind = "jenkins"
url = "{jenkins}"
job = "amo-deploy"
tag_param = "TAG"
user = "hero"
token = {{ env = "DOC_JENKINS" }}

[services.deploy-renamed]
kind = "jenkins"
url = "{jenkins}"
job = "amo-deploy-old"
tag_param = "TAG"
user = "hero"
token = {{ env = "DOC_JENKINS" }}

[services.sentry]
kind = "sentry"
url = "{sentry}"
org = "mozilla"
project = "addons-server"
token = {{ env = "DOC_SENTRY" }}

[services.sentry-narrow]
kind = "sentry"
url = "{narrow}"
org = "mozilla"
project = "addons-server"
token = {{ env = "DOC_SENTRY" }}

[services.gh]
kind = "github"
api_url = "{gh}"
token = {{ env = "DOC_GITHUB" }}

[services.gh-notes]
kind = "github"
api_url = "{reader}"
token = {{ env = "DOC_GITHUB" }}

[services.stage]
kind = "github_actions"
repo = "mozilla/addons-server"
workflow = "deploy-stage.yml"
api_url = "{gh}"
token = {{ env = "DOC_GITHUB" }}

[services.stage-renamed]
kind = "github_actions"
repo = "mozilla/addons-server"
workflow = "deploy.yml"
api_url = "{gh}"
token = {{ env = "DOC_GITHUB" }}

[services.graphite]
kind = "graphite"
url = "{graphite}"
series = [
  {{ name = "traffic", query = "stage.2xx", direction = "decrease" }},
  {{ name = "stage.5xx", query = "stage.5xx.*", direction = "increase" }},
  {{ name = "stage.4xx", query = "stage.4xx", direction = "increase" }},
]

[services.pad]
kind = "etherpad"
url = "{pad}"
pad = "amo-{{{{ push_date }}}}"
key = {{ env = "DOC_PAD" }}

[services.pad-old]
kind = "etherpad"
url = "{pad}"
pad = "amo-{{{{ push_date }}}}"
key = {{ env = "DOC_STALE" }}

[services.chat]
kind = "slack"
api_url = "{slack}"
channel = "C0PUSHDUTY"
token = {{ env = "DOC_SLACK" }}

[services.chat-old]
kind = "slack"
api_url = "{slack}"
channel = "C0PUSHDUTY"
token = {{ env = "DOC_STALE" }}

[services.list]
kind = "smtp"
host = "127.0.0.1"
port = {aiosmtpd}
security = "none"
from = "hero@example.com"
to = ["dev@example.com"]

[services.list-tls]
kind = "smtp"
host = "127.0.0.1"
port = {aiosmtpd}
security = "starttls"
from = "hero@example.com"
to = ["dev@example.com"]

[services.list-login]
kind = "smtp"
host = "127.0.0.1"
port = {relay}
security = "none"
from = "hero@example.com"
to = ["dev@example.com"]
user = "hero"
password = {{ env = "DOC_STALE" }}

[services.list-relay]
kind = "smtp"
host = "127.0.0.1"
port = {relay}
security = "none"
from = "hero@example.com"
to = ["dev@example.com"]
user = "hero"
password = {{ env = "DOC_SMTP" }}

[services.list-echo]
kind = "smtp"
host = "127.0.0.1"
port = {echo}
security = "none"
from = "hero@example.com"
to = ["dev@example.com"]
user = "hero"
password = {{ env = "DOC_SMTP" }}
{STEPS}
[[steps]]
id = "release-notes"
section = "only"
title = "The release draft"
kind = "notes.publish"
service = "gh-notes"
repo = "app"
template = "notes.md"
"#,
        jenkins = jenkins.url(),
        sentry = sentry.url(),
        narrow = narrow.url(),
        gh = gh.url(),
        reader = reader.url(),
        graphite = metrics.url,
        pad = pad.url(),
        slack = chat.api_url(),
        aiosmtpd = aiosmtpd.port,
        relay = relay.port(),
        echo = echo.port(),
    );
    let runbook = write(&env, &runbook, &[("app", &good), ("lost", &lost)]);
    std::fs::write(env.path().join("notes.md"), "Notes of {{ tag }}\n").unwrap();
    Rig {
        env,
        runbook,
        _servers: vec![
            Box::new(jenkins),
            Box::new(sentry),
            Box::new(narrow),
            Box::new(gh),
            Box::new(reader),
            Box::new(pad),
            Box::new(chat),
            Box::new(relay),
            Box::new(echo),
            Box::new(aiosmtpd),
            Box::new(metrics),
        ],
    }
}

/// The item named `name` of a `--json` report.
fn item<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["item"] == name)
        .unwrap_or_else(|| panic!("no item `{name}` in {report:#}"))
}

#[track_caller]
fn assert_ok(report: &Value, name: &str) {
    let i = item(report, name);
    assert_eq!(i["ok"], true, "{i:#}");
    assert!(i["fix"].is_null(), "{i:#}");
}

#[track_caller]
fn assert_broken(report: &Value, name: &str, detail: &str, fix: &str) {
    let i = item(report, name);
    assert_eq!(i["ok"], false, "{i:#}");
    let (d, f) = (i["detail"].as_str().unwrap(), i["fix"].as_str().unwrap());
    assert!(d.contains(detail), "{name}: detail {d:?} lacks {detail:?}");
    assert!(f.contains(fix), "{name}: fix {f:?} lacks {fix:?}");
}

#[test]
fn doctor_names_every_broken_item_with_its_fix_and_each_good_one_ok() {
    let rig = rig();
    let out = rig.run(&["doctor", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out))
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&out), stderr(&out)));
    assert_eq!(report["ok"], false);

    assert_ok(&report, "git app remote origin");
    assert_broken(
        &report,
        "git lost remote origin",
        "does not appear to be a git repository",
        "push --dry-run --no-verify origin HEAD:refs/tags/NAME` works",
    );
    assert_ok(&report, "jenkins deploy");
    assert_broken(
        &report,
        "jenkins deploy-renamed",
        "no job `amo-deploy-old`",
        "renamed? moved into a folder",
    );
    assert_ok(&report, "sentry sentry");
    assert_broken(
        &report,
        "sentry sentry-narrow",
        "it lacks project:read",
        "event:read and project:read scopes",
    );
    assert_ok(&report, "github gh repo mozilla/addons-server");
    assert_broken(
        &report,
        "github gh repo mozilla/lost",
        "mozilla/lost is not visible with the token (HTTP 404)",
        "check the repo's name in the runbook",
    );
    assert_broken(
        &report,
        "github gh-notes repo mozilla/addons-server",
        "may not write to it, and the notes are published there",
        "Contents: read and write",
    );
    assert_ok(&report, "github_actions stage");
    assert_broken(
        &report,
        "github_actions stage-renamed",
        "no workflow `deploy.yml` in mozilla/addons-server",
        "check `repo` and `workflow`",
    );
    assert_ok(&report, "graphite graphite series traffic");
    assert_broken(
        &report,
        "graphite graphite series stage.5xx",
        "2 series",
        "matches exactly one line",
    );
    assert_broken(
        &report,
        "graphite graphite series stage.4xx",
        "matches one series, with no points in the last hour",
        "still receives data",
    );
    assert_ok(&report, "etherpad pad");
    assert_broken(
        &report,
        "etherpad pad-old",
        "refused the API key",
        "APIKEY.txt",
    );
    assert_ok(&report, "slack chat");
    assert_broken(
        &report,
        "slack chat-old",
        "invalid_auth",
        "point `services.chat-old.token` at it",
    );
    assert_ok(&report, "smtp list");
    assert_ok(&report, "smtp list-relay");
    assert_broken(
        &report,
        "smtp list-tls",
        "does not offer STARTTLS",
        "`security` of `services.list-tls`",
    );
    assert_broken(
        &report,
        "smtp list-login",
        "rejected the login of `hero`",
        "the password it names",
    );
    // The server's words are kept, the password in them cut out.
    assert_broken(
        &report,
        "smtp list-echo",
        "refused AUTH PLAIN [redacted]",
        "the password it names",
    );
    let links: Vec<&Value> = report["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == "link")
        .collect();
    // The doc's copies of the stage and monitoring links are the same URLs: each reported once.
    assert_eq!(links.len(), 3, "{links:#?}");
    assert_broken(
        &report,
        "link links.monitoring https://https://monitoring.example/amo",
        "malformed: its scheme is written twice",
        "correct it in the runbook (links.monitoring)",
    );
    // Found without a request: no time spent on it.
    assert_eq!(
        item(
            &report,
            "link links.monitoring https://https://monitoring.example/amo"
        )["ms"],
        0
    );
    let gone = links
        .iter()
        .find(|l| {
            l["item"]
                .as_str()
                .unwrap()
                .starts_with("link links.old-notes")
        })
        .unwrap();
    assert_eq!(gone["ok"], false, "{gone:#}");
    assert!(
        gone["detail"]
            .as_str()
            .unwrap()
            .contains("answered HTTP 404")
    );
    assert!(
        links.iter().any(
            |l| l["item"].as_str().unwrap().starts_with("link links.stage ") && l["ok"] == true
        )
    );
    let slowest = report["slowest"]["item"].as_str().unwrap();
    assert!(!slowest.is_empty());

    // The same as text: one line per item, each failure with its fix, and the summary.
    let out = rig.run(&["doctor"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("ok    jenkins deploy: job `amo-deploy` exists"),
        "{text}"
    );
    assert!(
        text.contains("FAIL  jenkins deploy-renamed: no job `amo-deploy-old`"),
        "{text}"
    );
    assert!(
        text.contains("      fix: check the job's name in the runbook"),
        "{text}"
    );
    assert!(text.contains(" to fix; slowest: "), "{text}");

    // Nothing written: no state dir, no log, no journal.
    assert!(!rig.env.path().join("state").exists());
}

#[test]
fn doctor_prints_no_secret_even_when_a_server_echoes_it() {
    let rig = rig();
    for args in [&["doctor"][..], &["doctor", "--json"][..]] {
        let out = rig.run(args);
        let said = format!("{}{}", stdout(&out), stderr(&out));
        for (var, secret) in secrets() {
            assert!(
                !said.contains(secret),
                "{var}'s value printed by {args:?}:\n{said}"
            );
        }
    }
}

#[test]
fn doctor_on_a_good_config_says_all_ok() {
    let env = Env::new();
    let now = chrono::Utc::now().timestamp();
    let good = repo_with_tags(&env.path().join("good"), &[]);
    let jenkins = jenkins::Jenkins::start(jenkins::Config {
        job: "amo-deploy".into(),
        user: "hero".into(),
        token: JENKINS_TOKEN.into(),
        ..Default::default()
    });
    let metrics = graphite(&[("stage.2xx", minutes(now - 1800, 20, |_| Some(5.0)))]);
    let stage = serve_text("ok");
    let runbook = format!(
        r#"name = "Doctor"

[links]
stage = "{stage}"
{HEAD}
[repos.app]
github = "mozilla/addons-server"
remote = "origin"
branch = "main"

[services.deploy]
kind = "jenkins"
url = "{jenkins}"
job = "amo-deploy"
tag_param = "TAG"
user = "hero"
token = {{ env = "DOC_JENKINS" }}

[services.graphite]
kind = "graphite"
url = "{graphite}"
series = [ {{ name = "traffic", query = "stage.2xx", direction = "decrease" }} ]

[[sections]]
id = "only"
title = "Only"

[[steps]]
id = "build"
section = "only"
title = "Build"
kind = "manual"
outputs = ["build_id"]

[[steps]]
id = "look"
section = "only"
title = "Look"
kind = "manual"
doc = "See <{stage}/dashboard>, and the build at {stage}/builds/{{{{ build_id }}}} once made."
"#,
        jenkins = jenkins.url(),
        graphite = metrics.url,
    );
    let rig = Rig {
        runbook: write(&env, &runbook, &[("app", &good)]),
        env,
        _servers: vec![Box::new(jenkins), Box::new(metrics)],
    };
    let out = rig.run(&["doctor"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(!text.contains("FAIL"), "{text}");
    for line in [
        "ok    git app remote origin: `origin` answers, and would take a new tag",
        "ok    jenkins deploy: job `amo-deploy` exists, is buildable",
        "ok    graphite graphite series traffic: one series, 20 points",
        &format!("ok    link links.stage {stage}: answers (HTTP 200)"),
        &format!("ok    link step look {stage}/dashboard: answers (HTTP 200)"),
        // A value no step has made yet has no address to ask.
        &format!(
            "ok    link step look {stage}/builds/\u{27e8}build_id\u{27e9}: not known before the push: not asked"
        ),
        "6 items: all ok; slowest: ",
    ] {
        assert!(text.contains(line), "{line:?} not in:\n{text}");
    }
}

/// A server that takes connections and never says a word.
fn hanging() -> (TcpListener, u16) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let held = l.try_clone().unwrap();
    std::thread::spawn(move || {
        let mut open = Vec::new();
        for s in held.incoming().flatten() {
            open.push(s);
        }
    });
    (l, port)
}

#[test]
fn doctor_ends_within_ten_seconds_when_every_service_hangs_and_names_each() {
    let env = Env::new();
    let (_l, port) = hanging();
    let url = format!("http://127.0.0.1:{port}");
    let work = repo_with_tags(&env.path().join("w"), &[]);
    let git = std::process::Command::new("git")
        .args([
            "-C",
            &work.display().to_string(),
            "remote",
            "set-url",
            "origin",
        ])
        .arg(format!("ssh://git@127.0.0.1:{port}/amo.git"))
        .output()
        .unwrap();
    assert!(git.status.success());
    let mut runbook = format!("name = \"Doctor\"\n\n[links]\nstage = \"{url}/stage\"\n{HEAD}");
    runbook.push_str(
        "[repos.app]\ngithub = \"mozilla/addons-server\"\nremote = \"origin\"\nbranch = \"main\"\n",
    );
    for (name, body) in [
        (
            "deploy",
            format!(
                "kind = \"jenkins\"\nurl = \"{url}\"\njob = \"amo\"\ntag_param = \"TAG\"\nuser = \"u\"\ntoken = {{ env = \"DOC_JENKINS\" }}"
            ),
        ),
        (
            "sentry",
            format!(
                "kind = \"sentry\"\nurl = \"{url}\"\norg = \"o\"\nproject = \"p\"\ntoken = {{ env = \"DOC_SENTRY\" }}"
            ),
        ),
        (
            "gh",
            format!("kind = \"github\"\napi_url = \"{url}\"\ntoken = {{ env = \"DOC_GITHUB\" }}"),
        ),
        (
            "graphite",
            format!(
                "kind = \"graphite\"\nurl = \"{url}\"\nseries = [ {{ name = \"5xx\", query = \"a.b\", direction = \"increase\" }} ]"
            ),
        ),
        (
            "pad",
            format!(
                "kind = \"etherpad\"\nurl = \"{url}\"\npad = \"p\"\nkey = {{ env = \"DOC_PAD\" }}"
            ),
        ),
        (
            "chat",
            format!(
                "kind = \"slack\"\napi_url = \"{url}\"\nchannel = \"C1\"\ntoken = {{ env = \"DOC_SLACK\" }}"
            ),
        ),
        (
            "list",
            format!(
                "kind = \"smtp\"\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\nfrom = \"a@example.com\"\nto = [\"b@example.com\"]"
            ),
        ),
    ] {
        runbook.push_str(&format!("\n[services.{name}]\n{body}\n"));
    }
    runbook.push_str("\n[[sections]]\nid = \"only\"\ntitle = \"Only\"\n\n[[steps]]\nid = \"look\"\nsection = \"only\"\ntitle = \"Look\"\nkind = \"manual\"\n");
    let rig = Rig {
        runbook: write(&env, &runbook, &[("app", &work)]),
        env,
        _servers: vec![],
    };
    let started = Instant::now();
    let out = rig.run(&["doctor", "--json"]);
    let took = started.elapsed();
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out))
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&out), stderr(&out)));
    let items = report["items"].as_array().unwrap();
    assert_eq!(items.len(), 9, "{report:#}");
    for i in items {
        assert_eq!(i["ok"], false, "{i:#}");
        let d = i["detail"].as_str().unwrap();
        assert!(d.contains("within 8s") || d.contains("within 7 s"), "{i:#}");
        assert!(i["fix"].as_str().is_some_and(|f| !f.is_empty()), "{i:#}");
    }
    assert!(
        report["slowest"]["ms"].as_u64().unwrap() >= 7000,
        "{report:#}"
    );
    let _ = std::io::stdout().flush();
}

/// One item of `doctor --json` on `runbook` (its services only), with `env` added.
fn doctor_on(services: &str, env: &[(&str, &str)]) -> Value {
    let e = Env::new();
    let runbook = format!(
        "name = \"Doctor\"\n{HEAD}\n{services}\n[[sections]]\nid = \"only\"\ntitle = \"Only\"\n\n\
         [[steps]]\nid = \"look\"\nsection = \"only\"\ntitle = \"Look\"\nkind = \"manual\"\n"
    );
    let path = write(&e, &runbook, &[]);
    let mut cmd = e.cmd();
    cmd.envs(env.iter().copied());
    let out = cmd
        .arg("--runbook")
        .arg(&path)
        .args(["doctor", "--json"])
        .output()
        .unwrap();
    serde_json::from_str(&stdout(&out))
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&out), stderr(&out)))
}

#[test]
fn doctor_reads_prometheus_series_as_the_watch_does() {
    let now = chrono::Utc::now().timestamp();
    let server = prometheus(&[
        (
            r#"amo_responses{code="200"}"#,
            minutes(now - 1800, 25, |i| Some(100.0 + i as f64)),
        ),
        (
            r#"amo_responses{code="500"}"#,
            minutes(now - 1800, 25, |_| Some(1.0)),
        ),
    ]);
    let report = doctor_on(
        &format!(
            r#"[services.prom]
kind = "prometheus"
url = "{}"
series = [
  {{ name = "ok", query = 'amo_responses{{code="200"}}', direction = "decrease" }},
  {{ name = "all", query = "amo_responses", direction = "increase" }},
]
"#,
            server.url
        ),
        &[],
    );
    assert_ok(&report, "prometheus prom series ok");
    assert_broken(
        &report,
        "prometheus prom series all",
        "returns 2 series",
        "matches exactly one line",
    );
}

#[test]
fn doctor_upgrades_to_tls_where_the_server_offers_it() {
    let server = SmtpServer::start_as(Mode::StartTls);
    let services = format!(
        r#"[services.list]
kind = "smtp"
host = "127.0.0.1"
port = {port}
security = "starttls"
from = "hero@example.com"
to = ["dev@example.com"]
ca_file = "{ca}"

[services.list-untrusted]
kind = "smtp"
host = "127.0.0.1"
port = {port}
security = "starttls"
from = "hero@example.com"
to = ["dev@example.com"]
"#,
        port = server.port,
        ca = server.ca_file().display()
    );
    let report = doctor_on(&services, &[]);
    assert_ok(&report, "smtp list");
    assert!(
        item(&report, "smtp list")["detail"]
            .as_str()
            .unwrap()
            .contains("answered EHLO; TLS"),
        "{report:#}"
    );
    assert_broken(&report, "smtp list-untrusted", "TLS with", "`security`");
    assert!(server.messages().is_empty(), "doctor sent no mail");
}

#[test]
fn doctor_asks_matrix_who_the_token_is_and_whether_it_is_in_the_room() {
    let Some(synapse) = Synapse::start() else {
        return;
    };
    let services = format!(
        r#"[services.room]
kind = "matrix"
url = "{url}"
room = "{room}"
token = {{ env = "DOC_MATRIX" }}

[services.other-room]
kind = "matrix"
url = "{url}"
room = "!nowhere:localhost"
token = {{ env = "DOC_MATRIX" }}

[services.old]
kind = "matrix"
url = "{url}"
room = "{room}"
token = {{ env = "DOC_STALE" }}
"#,
        url = synapse.url,
        room = synapse.room
    );
    let report = doctor_on(
        &services,
        &[("DOC_MATRIX", synapse.token.as_str()), ("DOC_STALE", STALE)],
    );
    assert_ok(&report, "matrix room");
    assert_broken(&report, "matrix other-room", "is not in room", "invite");
    assert_broken(
        &report,
        "matrix old",
        "M_UNKNOWN_TOKEN",
        "log in as the posting account",
    );
    let said = report.to_string();
    assert!(!said.contains(&synapse.token), "{said}");
}

/// A listener that counts the connections it is offered.
fn counting() -> (std::sync::Arc<std::sync::atomic::AtomicUsize>, u16) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = seen.clone();
    std::thread::spawn(move || {
        for _ in l.incoming().flatten() {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });
    (seen, port)
}

/// A link with a password or a token in its address is never asked (a GET of a build
/// trigger would start a build) and never printed; doctor and `status` both say to take it
/// out of the runbook.
#[test]
fn doctor_neither_asks_nor_prints_a_link_that_carries_a_credential() {
    let env = Env::new();
    let (seen, port) = counting();
    let runbook = format!(
        "name = \"Doctor\"\n\n[links]\ngrafana = \"http://hero:pa55-s3cret@127.0.0.1:{port}/d/amo\"\n{HEAD}\n\
         [[sections]]\nid = \"only\"\ntitle = \"Only\"\n\n[[steps]]\nid = \"look\"\nsection = \"only\"\n\
         title = \"Look\"\nkind = \"manual\"\n\
         doc = \"Rebuild at http://127.0.0.1:{port}/job/amo/build?token=bu1ld-s3cret&cause=doc\"\n"
    );
    let rig = Rig {
        runbook: write(&env, &runbook, &[]),
        env,
        _servers: Vec::new(),
    };
    let out = rig.run(&["doctor"]);
    let status = rig.run(&["status"]);
    let text = format!("{}{}", stdout(&out), stdout(&status));
    assert_eq!(out.status.code(), Some(1), "{text}");
    for line in [
        format!(
            "FAIL  link links.grafana http://127.0.0.1:{port}/d/amo: carries a credential in its \
             address (a user and password before the host): not asked"
        ),
        format!(
            "FAIL  link step look http://127.0.0.1:{port}/job/amo/build?token=…&cause=doc: carries \
             a credential in its address (a token in its query): not asked"
        ),
        "take it out of the runbook (links.grafana): a runbook is shared".to_string(),
    ] {
        assert!(text.contains(&line), "{line:?} not in:\n{text}");
    }
    assert!(
        stdout(&status).contains("carries a credential in its address"),
        "{}",
        stdout(&status)
    );
    for secret in ["pa55-s3cret", "bu1ld-s3cret"] {
        assert!(!text.contains(secret), "{secret} printed:\n{text}");
    }
    assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 0, "asked");
}
