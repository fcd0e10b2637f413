//! `pushduty status`: one snapshot of every live source, then exit.

use std::process::ExitCode;

use serde_json::{Map, Value, json};

use super::session::{Prepared, prepare};
use super::{Global, fail};
use crate::git::state::repo_state;
use crate::health::view::{self, Watch};
use crate::runbook::model::Service;
use crate::sanitize::clean;
use crate::services::http::{all, block_on};
use crate::services::jenkins::JobSnapshot;
use crate::services::{JenkinsConf, Resolved, Services};
use crate::session;
use crate::sources::blockers::Target;

pub fn run(g: &Global, as_json: bool) -> ExitCode {
    let (p, _) = match prepare(g, "status", false) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let rb = &p.loaded.runbook;
    let services = Services::resolve(rb, &p.config);
    let moments = journaled_moments(g, &p);
    let targets = crate::sources::blockers::targets(rb, &services);
    // Every service at once, and the repos on a thread of their own meanwhile: the snapshot
    // takes as long as its slowest source, not the sum of them.
    let (git, read) = std::thread::scope(|s| {
        let git = s.spawn(|| read_git(&p));
        let parts = rb
            .services
            .iter()
            .map(|(name, svc)| read_service(&p, &services, moments, name, svc));
        let read =
            block_on(async { tokio::join!(all(parts), all(targets.iter().map(read_blockers))) });
        (git.join(), read)
    });
    let Ok((git, mut failed)) = git else {
        return fail(&anyhow::anyhow!("reading the repos failed"));
    };
    let (parts, blockers) = match read {
        Ok(read) => read,
        Err(e) => return fail(&e),
    };
    let mut by_kind: Map<String, Value> = ["jenkins", "sentry", "metrics"]
        .into_iter()
        .map(|k| (k.to_string(), json!({})))
        .collect();
    for part in parts.into_iter().flatten() {
        failed |= part.failed;
        if let Some(Value::Object(m)) = by_kind.get_mut(part.kind) {
            m.insert(part.name, part.value);
        }
    }
    let mut by_name = Map::new();
    for part in blockers {
        failed |= part.failed;
        by_name.insert(part.name, part.value);
    }
    let mut out = Map::new();
    out.insert("git".into(), Value::Object(git));
    out.extend(by_kind);
    out.insert("blockers".into(), Value::Object(by_name));
    // What can be told without asking (checkouts, credentials, malformed links).
    let ctx = crate::plan::context(&p.loaded, &p.vars, &serde_json::Map::new());
    let doctor = crate::doctor::offline(rb, &p.config, &services, &ctx);
    out.insert(
        "doctor".into(),
        serde_json::to_value(&doctor).unwrap_or(Value::Null),
    );
    let out = Value::Object(out);
    if as_json {
        match super::json_text(&out) {
            Ok(s) => println!("{s}"),
            Err(e) => return fail(&e),
        }
    } else {
        super::print_block(&clean(&format!(
            "{}{}",
            text(&out),
            doctor_section(&doctor)
        )));
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// `status` shows what the sources say now and what is missing without asking anything;
/// whether the config will work on push day (tokens, job names, series, links) is `doctor`'s
/// question, which asks more than a snapshot should.
fn doctor_section(r: &pushduty_core::doctor::Report) -> String {
    let broken: Vec<&pushduty_core::doctor::Finding> = r.items.iter().filter(|f| !f.ok).collect();
    let mut s = format!(
        "doctor, without asking anything: {}\n",
        if broken.is_empty() {
            "nothing missing".to_string()
        } else {
            format!("{} to fix", broken.len())
        }
    );
    for f in broken {
        s.push_str(&format!("  {}: {}\n", f.item, f.detail));
        if let Some(fix) = &f.fix {
            s.push_str(&format!("    fix: {fix}\n"));
        }
    }
    s.push_str("`pushduty doctor` asks every remote, token, series and link\n");
    s
}

/// Each repo's state by name, and whether one could not be read.
fn read_git(p: &Prepared) -> (Map<String, Value>, bool) {
    let format = &p.loaded.calendar.tag_format;
    let mut git = Map::new();
    let mut failed = false;
    for (name, repo) in &p.loaded.runbook.repos {
        let state = match crate::git::RepoSpec::from_config(&p.config, name, repo) {
            Some(spec) => {
                let s = repo_state(&spec, format);
                failed |= s.error.is_some();
                serde_json::to_value(&s).unwrap_or(Value::Null)
            }
            None => json!({ "path": null, "error": "not configured" }),
        };
        git.insert(name.clone(), state);
    }
    (git, failed)
}

/// One service's part of the snapshot: under which kind and name it goes, what it says, and
/// whether it failed.
struct Part {
    kind: &'static str,
    name: String,
    value: Value,
    failed: bool,
}

/// Reads service `name` as `status` shows it (`None`: a kind `status` does not read).
async fn read_service(
    p: &Prepared,
    services: &Services,
    (push, began): (Option<i64>, i64),
    name: &str,
    svc: &Service,
) -> Option<Part> {
    let (kind, value, failed) = match (svc, services.0.get(name)) {
        (Service::Jenkins(_), Some(Resolved::Jenkins(conf))) => {
            // Not configured is a fact to report, like a repo without a checkout; a
            // configured service that does not answer is a failure.
            let configured = conf.client().is_ok();
            let read = JobSnapshot::read(conf, 5).await;
            let failed = configured && read.is_err();
            ("jenkins", jenkins_json(conf, read), failed)
        }
        (Service::Sentry(_), Some(Resolved::Sentry(conf))) => {
            let w = watch(p, name, push);
            let mut v = view::read_sentry(conf, &w, push.unwrap_or(began)).await;
            let failed = match conf.client() {
                Ok(_) => v.error.is_some(),
                Err(e) => {
                    v.error = Some(format!("not configured: {e}"));
                    false
                }
            };
            ("sentry", v.json(), failed)
        }
        (Service::Graphite(_) | Service::Prometheus(_), Some(Resolved::Metrics(conf))) => {
            let w = watch(p, name, push);
            let series = view::read_metrics(conf, &w).await;
            // One line for the service when no series could be read at all.
            let mut errors: Vec<&str> = series.iter().filter_map(|s| s.error.as_deref()).collect();
            let all = !series.is_empty() && errors.len() == series.len();
            // The same unreachable server, said once.
            errors.dedup();
            let error = all.then(|| errors.join("; "));
            let failed = series.iter().any(|s| s.error.is_some());
            let list: Vec<Value> = series.iter().map(|s| s.json(&w)).collect();
            ("metrics", json!({ "series": list, "error": error }), failed)
        }
        _ => return None,
    };
    Some(Part {
        kind,
        name: name.to_string(),
        value,
        failed,
    })
}

/// The open blockers a GitHub service's blockers step reads, or why they are unknown.
async fn read_blockers(t: &Target) -> Part {
    let (value, failed) = match t.conf.client() {
        Ok(_) => {
            let r = t.read().await;
            let error = (!r.errors.is_empty()).then(|| r.errors.join("; "));
            let failed = error.is_some();
            (
                json!({ "label": t.label, "open": r.open, "error": error }),
                failed,
            )
        }
        Err(e) => (
            json!({ "label": t.label, "open": [], "error": format!("not configured: {e}") }),
            false,
        ),
    };
    Part {
        kind: "blockers",
        name: t.conf.name.clone(),
        value,
        failed,
    }
}

/// The production push and the push's start, from this push's journal when there is one.
fn journaled_moments(g: &Global, p: &Prepared) -> (Option<i64>, i64) {
    let now = chrono::Utc::now().timestamp();
    let Ok(state_dir) = g.state_dir() else {
        return (None, now);
    };
    let dir = session::session_dir(
        &state_dir,
        &session::slug(&p.loaded.runbook.name),
        &p.vars.push_date,
    );
    match session::load(&dir) {
        Ok(l) => (
            crate::health::push_moment(&p.loaded.runbook, &l.state),
            chrono::DateTime::parse_from_rfc3339(&l.state.started).map_or(now, |t| t.timestamp()),
        ),
        Err(_) => (None, now),
    }
}

/// The windows of service `name`'s pane, as its first watch step sets them.
fn watch(p: &Prepared, name: &str, push: Option<i64>) -> Watch {
    let (soak_secs, baseline_secs) = crate::health::watch_windows(&p.loaded.runbook, name);
    Watch {
        now: chrono::Utc::now().timestamp(),
        push,
        baseline_secs,
        soak_secs,
    }
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
                "  last tag {}, {} since\n",
                r["last_tag"].as_str().unwrap_or("(none)"),
                crate::words::count(r["commits_since_tag"].as_u64().unwrap_or(0), "commit")
            ));
            if let Some(url) = r["compare_url"].as_str() {
                s.push_str(&format!("  {url}\n"));
            }
        }
    }
    if let Some(Value::Object(m)) = out.get("blockers") {
        for (name, v) in m {
            if let Some(e) = v["error"].as_str() {
                s.push_str(&format!("blockers {name}: error: {e}\n"));
            }
            let open = v["open"].as_array().map_or(&[][..], Vec::as_slice);
            if v["error"].is_null() || !open.is_empty() {
                s.push_str(&format!("blockers {name}: {} open\n", open.len()));
            }
            for b in open {
                s.push_str(&format!(
                    "  #{} {} ({}) {}\n",
                    b["number"],
                    b["title"].as_str().unwrap_or(""),
                    b["repo"].as_str().unwrap_or(""),
                    b["url"].as_str().unwrap_or("")
                ));
            }
        }
    }
    for kind in ["jenkins", "sentry", "metrics"] {
        if let Some(Value::Object(m)) = out.get(kind) {
            for (name, v) in m {
                if kind == "metrics" {
                    if let Some(e) = v["error"].as_str() {
                        s.push_str(&format!("metrics {name}: error: {e}\n"));
                        continue;
                    }
                    for series in v["series"].as_array().into_iter().flatten() {
                        s.push_str(&format!("metrics {name} {}\n", series_text(series)));
                    }
                    continue;
                }
                let said = match (v["error"].as_str(), &v["last_build"]) {
                    (Some(e), _) => format!("error: {e}"),
                    (None, _) if kind == "sentry" => format!(
                        "{}{}",
                        crate::words::count(v["new_issues"].as_u64().unwrap_or(0), "new issue"),
                        v["top"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .map(|i| format!(
                                "\n  {} {} ({} events) {}",
                                i["short_id"].as_str().unwrap_or(""),
                                i["title"].as_str().unwrap_or(""),
                                i["count"],
                                i["permalink"].as_str().unwrap_or("")
                            ))
                            .collect::<String>()
                    ),
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

/// One metric series as a `status` line.
fn series_text(v: &Value) -> String {
    let name = v["name"].as_str().unwrap_or("?");
    if let Some(e) = v["error"].as_str() {
        return format!("{name}: error: {e}");
    }
    let num = |x: &Value| x.as_f64().map_or("-".to_string(), view::num);
    let change = v["change_percent"]
        .as_f64()
        .map_or(String::new(), |c| format!(" ({c:+.0}%)"));
    format!(
        "{name}: now {}, baseline {}{change}",
        num(&v["last"]),
        num(&v["baseline"])
    )
}
