//! `pushduty status`: one snapshot of every live source, then exit.

use std::process::ExitCode;

use serde_json::{Map, Value, json};

use super::{Global, fail};
use crate::git::state::repo_state;
use crate::runbook::model::Service;
use crate::sanitize::clean;
use crate::services::http::block_on;
use crate::services::jenkins::JobSnapshot;
use crate::services::{JenkinsConf, Resolved, Services};

pub fn run(g: &Global, as_json: bool) -> ExitCode {
    let (loaded, config) = match g.load_both() {
        Ok(x) => x,
        Err(code) => return code,
    };
    let rb = &loaded.runbook;
    let format = &loaded.calendar.tag_format;
    let mut git = Map::new();
    let mut failed = false;
    for (name, repo) in &rb.repos {
        let state = match config.repo_spec(name, repo) {
            Some(spec) => {
                let s = repo_state(&spec, format);
                failed |= s.error.is_some();
                serde_json::to_value(&s).unwrap_or(Value::Null)
            }
            None => json!({ "path": null, "error": "not configured" }),
        };
        git.insert(name.clone(), state);
    }
    let services = Services::resolve(rb, &config);
    let mut by_kind: Map<String, Value> = ["jenkins", "sentry", "metrics"]
        .into_iter()
        .map(|k| (k.to_string(), json!({})))
        .collect();
    for (name, svc) in &rb.services {
        let (kind, value) = match (svc, services.0.get(name)) {
            (Service::Jenkins(_), Some(Resolved::Jenkins(conf))) => {
                // Not configured is a fact to report, like a repo without a checkout; a
                // configured service that does not answer is a failure.
                let configured = conf.client().is_ok();
                let read = block_on(JobSnapshot::read(conf, 5)).and_then(|r| r);
                failed |= configured && read.is_err();
                ("jenkins", jenkins_json(conf, read))
            }
            // Sources still to come say so plainly.
            (Service::Sentry(_), _) => ("sentry", unavailable(svc)),
            (Service::Graphite(_) | Service::Prometheus(_), _) => ("metrics", unavailable(svc)),
            _ => continue,
        };
        if let Some(Value::Object(m)) = by_kind.get_mut(kind) {
            m.insert(name.clone(), value);
        }
    }
    let mut out = Map::new();
    out.insert("git".into(), Value::Object(git));
    out.extend(by_kind);
    let out = Value::Object(out);
    if as_json {
        match serde_json::to_string_pretty(&out) {
            Ok(s) => println!("{s}"),
            Err(e) => return fail(&e.into()),
        }
    } else {
        print!("{}", clean(&text(&out)));
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn unavailable(svc: &Service) -> Value {
    json!({ "error": format!("the {} source is not available in this build yet", svc.kind()) })
}

/// `{job, last_build, builds, error}` for one Jenkins service.
fn jenkins_json(conf: &JenkinsConf, read: anyhow::Result<JobSnapshot>) -> Value {
    match read {
        Ok(s) => json!({
            "job": s.job,
            "last_build": s.builds.first(),
            "builds": s.builds,
            "error": null,
        }),
        Err(e) => json!({ "job": conf.job, "last_build": null, "error": format!("{e:#}") }),
    }
}

fn text(out: &Value) -> String {
    let mut s = String::new();
    if let Some(Value::Object(git)) = out.get("git") {
        for (name, r) in git {
            s.push_str(&format!("git {name}: "));
            if let Some(e) = r["error"].as_str() {
                s.push_str(&format!("error: {e}\n"));
                continue;
            }
            s.push_str(&format!(
                "{} at {} {} ({} dirty, ahead {}, behind {})\n",
                r["branch"].as_str().unwrap_or("(detached)"),
                r["head"].as_str().unwrap_or("?"),
                r["head_subject"].as_str().unwrap_or(""),
                r["dirty"],
                r["ahead"],
                r["behind"]
            ));
            s.push_str(&format!(
                "  last tag {}, {} commits since\n",
                r["last_tag"].as_str().unwrap_or("(none)"),
                r["commits_since_tag"]
            ));
            if let Some(url) = r["compare_url"].as_str() {
                s.push_str(&format!("  {url}\n"));
            }
        }
    }
    for kind in ["jenkins", "sentry", "metrics"] {
        if let Some(Value::Object(m)) = out.get(kind) {
            for (name, v) in m {
                let said = match (v["error"].as_str(), &v["last_build"]) {
                    (Some(e), _) => format!("error: {e}"),
                    (None, Value::Object(b)) => format!(
                        "{} last build #{} {} {}",
                        v["job"].as_str().unwrap_or(""),
                        b["number"],
                        b["tag"].as_str().unwrap_or("-"),
                        b["result"].as_str().unwrap_or("building")
                    ),
                    (None, _) => "ok".to_string(),
                };
                s.push_str(&format!("{kind} {name}: {said}\n"));
            }
        }
    }
    s
}
