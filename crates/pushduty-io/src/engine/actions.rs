//! `jenkins.build` when its service is a GitHub Actions workflow: dispatch the workflow with
//! this push's tag, find the run the dispatch made, follow its jobs and steps, end with its
//! conclusion. Before dispatching, the step looks for a run it may have made already (going on
//! from a run pushduty stopped: one dispatched since that run began; else one still running
//! whose title names the tag) and follows it instead. The dispatch time and then the run id
//! are checkpointed the moment they are known: after a crash the step follows that run.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::Job;
use super::follow::{Began, began, params, patiently, pause};
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
            let (_, tag) = inputs(job, conf)?;
            find(job, &gh, at, &tag, &[])?
        }
        (None, None) => {
            let began = began(job);
            let (inputs, tag) = inputs(job, conf)?;
            match look(job, &gh, &began, &tag)? {
                Looked::Ours(run) => {
                    job.progress(format!(
                        "run #{} may be this push's ({}): following it, not dispatching another",
                        run.run_number, run.html_url
                    ));
                    journal(job, &run);
                    run.id
                }
                Looked::None { listed } => dispatch(job, &gh, conf, &inputs, &tag, &listed)?,
            }
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

/// The inputs the workflow is dispatched with, and the tag among them.
fn inputs(job: &Job, conf: &ActionsConf) -> Result<(Vec<(String, String)>, String)> {
    let inputs = params(job, &conf.tag_input)?;
    let tag = inputs
        .iter()
        .find(|(k, _)| *k == conf.tag_input)
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    Ok((inputs, tag))
}

/// Journals the run to follow, and says which.
fn journal(job: &Job, run: &Run) {
    let mut c = Outputs::new();
    c.insert(RUN_ID.into(), json!(run.id));
    c.insert("run_url".into(), json!(run.html_url));
    job.checkpoint(c);
    job.progress(format!("run #{}: {}", run.run_number, run.html_url));
}

/// What looking before dispatching found.
enum Looked {
    /// A run this push may have made already.
    Ours(Run),
    /// None: the runs GitHub listed (none of them is the one a dispatch now makes).
    None { listed: Vec<u64> },
}

/// A run this push may have made already. Going on from a run pushduty stopped: one
/// dispatched since it began, waited for as long as GitHub may take to list one. Any run: one
/// still running whose title names the tag. A running one GitHub cannot tie to the tag (a run
/// carries no inputs) is only mentioned.
fn look(job: &Job, gh: &Actions, began: &Began, tag: &str) -> Result<Looked> {
    let lost = |e: &anyhow::Error| {
        format!("{e:#}; looking for a run of this push before dispatching (nothing was dispatched)")
    };
    if began.resumed {
        job.progress(format!(
            "pushduty stopped before GitHub named a run (the step began at {}): looking for one dispatched since then",
            began.rfc3339()
        ));
        let until = began.at + FIND_FOR;
        loop {
            let found = patiently(job, || job.call(gh.find_run(began.at, tag, &[])), lost)?;
            if let Some(run) = found {
                return Ok(Looked::Ours(run));
            }
            if Utc::now() >= until {
                break;
            }
            // GitHub lists a run a few seconds after its dispatch; no need to ask often.
            for _ in 0..4 {
                pause(job)?;
            }
        }
    }
    let runs = patiently(job, || job.call(gh.dispatched_runs(None)), lost)?;
    let running: Vec<&Run> = runs.iter().filter(|r| !r.completed()).collect();
    if let Some(r) = running.iter().find(|r| r.titled_for(tag)) {
        return Ok(Looked::Ours((*r).clone()));
    }
    if let Some(r) = running.iter().find(|r| r.may_be(gh.git_ref(), tag)) {
        job.progress(format!(
            "note: run #{} of the workflow on {} is still running ({}); a run does not show its \
             inputs, so it is not taken for this push's",
            r.run_number,
            gh.git_ref(),
            r.html_url
        ));
    }
    Ok(Looked::None {
        listed: runs.iter().map(|r| r.id).collect(),
    })
}

/// Dispatches the workflow and finds the run it made, none of `listed` (listed before).
fn dispatch(
    job: &Job,
    gh: &Actions,
    conf: &ActionsConf,
    inputs: &[(String, String)],
    tag: &str,
    listed: &[u64],
) -> Result<u64> {
    let shown: Vec<String> = inputs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    job.progress(format!(
        "POST {} ref={} {}",
        gh.dispatch_url(),
        conf.git_ref,
        shown.join(" ")
    ));
    let at = job.call(gh.dispatch(inputs)).map_err(|e| {
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
    find(job, gh, at, tag, listed)
}

/// Polls the runs list until the dispatched run shows (none of `before`, listed before the
/// dispatch); journals it.
fn find(job: &Job, gh: &Actions, since: DateTime<Utc>, tag: &str, before: &[u64]) -> Result<u64> {
    let until = Instant::now() + FIND_FOR;
    loop {
        let found = patiently(
            job,
            || job.call(gh.find_run(since, tag, before)),
            |e| {
                format!(
                    "lost track of the dispatched run ({e:#}); it may be running: look at {} before running this step again",
                    gh.web_url()
                )
            },
        )?;
        if let Some(run) = found {
            journal(job, &run);
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
             (running this step again follows it if its title names the tag, else dispatches a \
             new run)"
        )
    };
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut url = String::new();
    let stopped = |url: &str| {
        anyhow!(
            "stopped following the run; it goes on in GitHub: {url} (running this step again follows it if its title names the tag, else dispatches a new run)"
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
