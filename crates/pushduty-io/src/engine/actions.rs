//! `jenkins.build` when its service is a GitHub Actions workflow: dispatch the workflow with
//! this push's tag, find the run the dispatch made, follow its jobs and steps, end with its
//! conclusion. The dispatch time and then the run id are checkpointed the moment they are
//! known: after a crash the step follows that run instead of deploying again.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::Job;
use super::follow::{params, patiently, pause};
use crate::runbook::model::Outputs;
use crate::services::ActionsConf;
use crate::services::github::{Actions, Job as RunJob, Run};
use crate::services::jenkins::is_transient;

/// Checkpoint keys.
pub const DISPATCHED_AT: &str = "dispatched_at";
pub const RUN_ID: &str = "run_id";

/// How long GitHub may take to list the run a dispatch made (usually a few seconds).
const FIND_FOR: Duration = Duration::from_secs(90);

pub fn run(job: &Job, conf: &ActionsConf) -> Result<Outputs> {
    let gh = conf.client().map_err(anyhow::Error::msg)?;
    let resumed_at = job
        .resume
        .get(DISPATCHED_AT)
        .and_then(Value::as_str)
        .map(|s| {
            DateTime::parse_from_rfc3339(s)
                .map(|t| t.with_timezone(&Utc))
                .with_context(|| format!("the journaled dispatch time `{s}` is not RFC 3339"))
        })
        .transpose()?;
    let id = match (job.resume.get(RUN_ID).and_then(Value::as_u64), resumed_at) {
        (Some(id), _) => {
            job.progress(format!(
                "following run {id}, dispatched before pushduty stopped"
            ));
            id
        }
        (None, Some(at)) => {
            job.progress(format!(
                "looking for the run dispatched at {}, before pushduty stopped",
                rfc3339(at)
            ));
            find(job, &gh, at)?
        }
        (None, None) => {
            let inputs = params(job, &conf.tag_input)?;
            let shown: Vec<String> = inputs.iter().map(|(k, v)| format!("{k}={v}")).collect();
            job.progress(format!(
                "POST {} ref={} {}",
                gh.dispatch_url(),
                conf.git_ref,
                shown.join(" ")
            ));
            let at = job.call(gh.dispatch(&inputs)).map_err(|e| {
                if is_transient(&e) {
                    // No answer is not a no: the run may have started anyway.
                    anyhow!(
                        "{e:#}; the workflow may have started anyway: look at {} before running this step again",
                        gh.web_url()
                    )
                } else {
                    e
                }
            })?;
            let mut c = Outputs::new();
            c.insert(DISPATCHED_AT.into(), json!(rfc3339(at)));
            job.checkpoint(c);
            job.progress("dispatched; waiting for GitHub to list the run");
            find(job, &gh, at)?
        }
    };
    let run = follow(job, &gh, id)?;
    let mut out = Outputs::new();
    out.insert("build_number".into(), json!(run.run_number));
    out.insert("build_url".into(), json!(run.html_url));
    let conclusion = run.conclusion.clone().unwrap_or_default();
    if conclusion == "success" {
        out.insert("build_result".into(), json!("SUCCESS"));
        job.progress(format!("run #{} succeeded", run.run_number));
        return Ok(out);
    }
    let jobs = patiently(job, || job.call(gh.jobs(id)), |e| format!("{e:#}")).unwrap_or_default();
    bail!(
        "run #{} ended {conclusion}{}; its log: {}",
        run.run_number,
        what_failed(&jobs),
        run.html_url
    )
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Polls the runs list until the dispatched run shows; journals it.
fn find(job: &Job, gh: &Actions, since: DateTime<Utc>) -> Result<u64> {
    let until = Instant::now() + FIND_FOR;
    loop {
        let found = patiently(
            job,
            || job.call(gh.find_run(since)),
            |e| {
                format!(
                    "lost track of the dispatched run ({e:#}); it may be running: look at {} before running this step again",
                    gh.web_url()
                )
            },
        )?;
        if let Some(run) = found {
            let mut c = Outputs::new();
            c.insert(RUN_ID.into(), json!(run.id));
            c.insert("run_url".into(), json!(run.html_url));
            job.checkpoint(c);
            job.progress(format!("run #{}: {}", run.run_number, run.html_url));
            return Ok(run.id);
        }
        if Instant::now() >= until {
            bail!(
                "GitHub lists no run of the workflow since the dispatch at {} ({}s later): look at {} before running this step again",
                rfc3339(since),
                FIND_FOR.as_secs(),
                gh.web_url()
            );
        }
        if pause(job).is_err() {
            bail!(
                "stopped looking for the dispatched run; it goes on in GitHub: {}",
                gh.web_url()
            );
        }
    }
}

/// Reads the run and its jobs until the run completes, reporting each job and step as it
/// starts and ends.
fn follow(job: &Job, gh: &Actions, id: u64) -> Result<Run> {
    let lost = |e: &anyhow::Error| {
        format!(
            "lost track of run {id} ({e:#}); it may still be running: look at it in GitHub \
             (running this step again dispatches a new run)"
        )
    };
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut url = String::new();
    let stopped = |url: &str| {
        anyhow!(
            "stopped following the run; it goes on in GitHub: {url} (running this step again dispatches a new run)"
        )
    };
    loop {
        let read = patiently(job, || job.call(gh.run(id)), lost).and_then(|run| {
            let jobs = patiently(job, || job.call(gh.jobs(id)), lost)?;
            Ok((run, jobs))
        });
        let (run, jobs) = match read {
            Ok(r) => r,
            Err(_) if job.cancel.is_cancelled() => return Err(stopped(&url)),
            Err(e) => return Err(e),
        };
        url.clone_from(&run.html_url);
        say(
            job,
            &mut seen,
            "run",
            &run.status,
            run.conclusion.as_deref(),
        );
        for j in &jobs {
            say(
                job,
                &mut seen,
                &format!("job `{}`", j.name),
                &j.status,
                j.conclusion.as_deref(),
            );
            for s in &j.steps {
                let name = format!("  {} › {}", j.name, s.name);
                say(job, &mut seen, &name, &s.status, s.conclusion.as_deref());
            }
        }
        if run.completed() {
            return Ok(run);
        }
        if pause(job).is_err() {
            return Err(stopped(&url));
        }
    }
}

/// One progress line when something's state changed since the last read.
fn say(
    job: &Job,
    seen: &mut HashMap<String, String>,
    what: &str,
    status: &str,
    conclusion: Option<&str>,
) {
    let state = match (status, conclusion) {
        ("completed", Some(c)) => c.to_string(),
        ("in_progress", _) => "started".to_string(),
        (s, _) => s.to_string(),
    };
    // Jobs and steps waiting their turn would only be noise; the run's wait is news.
    let waiting = !matches!(status, "in_progress" | "completed");
    if waiting && what != "run" {
        return;
    }
    if seen.get(what) != Some(&state) {
        job.progress(format!("{what}: {state}"));
        seen.insert(what.to_string(), state);
    }
}

/// ": job `x` failed at step `y`" for the first job that did not succeed.
fn what_failed(jobs: &[RunJob]) -> String {
    let bad = |c: &Option<String>| {
        c.as_deref()
            .is_some_and(|c| !matches!(c, "success" | "skipped" | "neutral"))
    };
    let Some(j) = jobs.iter().find(|j| bad(&j.conclusion)) else {
        return String::new();
    };
    match j.steps.iter().find(|s| bad(&s.conclusion)) {
        Some(s) => format!(
            ": job `{}` {} at step {} `{}`",
            j.name,
            j.conclusion.as_deref().unwrap_or_default(),
            s.number,
            s.name
        ),
        None => format!(
            ": job `{}` {}",
            j.name,
            j.conclusion.as_deref().unwrap_or_default()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::github::JobStep;

    fn step(n: u64, name: &str, c: &str) -> JobStep {
        JobStep {
            name: name.into(),
            status: "completed".into(),
            conclusion: Some(c.into()),
            number: n,
        }
    }

    #[test]
    fn the_failed_job_and_step_are_named() {
        let jobs = vec![
            RunJob {
                name: "build".into(),
                status: "completed".into(),
                conclusion: Some("success".into()),
                steps: vec![step(1, "Checkout", "success")],
            },
            RunJob {
                name: "deploy".into(),
                status: "completed".into(),
                conclusion: Some("failure".into()),
                steps: vec![
                    step(1, "Checkout", "success"),
                    step(2, "Migrate", "failure"),
                    step(3, "Smoke test", "skipped"),
                ],
            },
        ];
        assert_eq!(
            what_failed(&jobs),
            ": job `deploy` failure at step 2 `Migrate`"
        );
        assert_eq!(what_failed(&jobs[..1]), "");
    }
}
