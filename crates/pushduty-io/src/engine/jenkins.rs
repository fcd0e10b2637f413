//! `jenkins.build`: trigger the job with this push's tag, follow the queue item to its build,
//! stream the console, end with the build's result. The queue item and then the build number
//! are checkpointed the moment they are known: after a crash the step follows that build
//! instead of triggering another deploy.

use std::sync::Arc;

use anyhow::{Result, bail};
use serde_json::{Value, json};

use super::follow::{params, patiently, pause};
use super::{Executor, Job};
use crate::runbook::model::{Outputs, Runbook, Service, Step, StepKind};
use crate::services::Services;
use crate::services::jenkins::{Build, Jenkins, Queue};

/// Checkpoint keys.
pub const QUEUE_ITEM: &str = "queue_item";
pub const BUILD_NUMBER: &str = "build_number";

pub struct JenkinsBuild(pub Arc<Services>);

impl JenkinsBuild {
    /// The queue item to the build number, journaled the moment it is known.
    fn wait_for_build(&self, job: &Job, jenkins: &Jenkins, queue_url: &str) -> Result<u64> {
        let mut said = String::new();
        loop {
            let q = patiently(
                job,
                || job.call(jenkins.queue(queue_url)),
                |e| format!("lost track of the queue item {queue_url}: {e:#}"),
            )?;
            match q {
                Queue::Waiting(why) => {
                    if why != said {
                        job.progress(format!("queued: {why}"));
                        said = why;
                    }
                }
                Queue::Started { number, url } => {
                    let mut c = Outputs::new();
                    c.insert(BUILD_NUMBER.into(), json!(number));
                    c.insert("build_url".into(), json!(url));
                    job.checkpoint(c);
                    job.progress(format!("build #{number} started: {url}"));
                    return Ok(number);
                }
                Queue::Cancelled => bail!(
                    "the queue item was cancelled in Jenkins before it started: nothing was deployed"
                ),
                // Jenkins forgets an item a while after its build ends: the build that came
                // from it still names it.
                Queue::Gone => {
                    let id = queue_url
                        .rsplit('/')
                        .next()
                        .and_then(|s| s.parse::<u64>().ok());
                    let builds = patiently(
                        job,
                        || job.call(jenkins.builds(20, "")),
                        |e| format!("lost track of the queue item {queue_url}: {e:#}"),
                    )?;
                    match builds.iter().find(|b| id.is_some() && b.queue_id == id) {
                        Some(b) => {
                            let mut c = Outputs::new();
                            c.insert(BUILD_NUMBER.into(), json!(b.number));
                            c.insert("build_url".into(), json!(b.url));
                            job.checkpoint(c);
                            job.progress(format!("build #{} came from it: {}", b.number, b.url));
                            return Ok(b.number);
                        }
                        None => bail!(
                            "the queue item {queue_url} is gone and no recent build came from it: \
                             look for the build of this tag in Jenkins before triggering again"
                        ),
                    }
                }
            }
            pause(job)?;
        }
    }

    /// Streams the console until the build ends; returns the build and the console's tail.
    fn follow(
        &self,
        job: &Job,
        jenkins: &Jenkins,
        number: u64,
        tag_param: &str,
    ) -> Result<(Build, Vec<String>)> {
        let lost = |e: &anyhow::Error| {
            format!(
                "lost track of build #{number} ({e:#}); it may still be running: check it in \
                 Jenkins (retrying this step triggers a new build)"
            )
        };
        let first = patiently(job, || job.call(jenkins.build(number, tag_param)), lost)?;
        if first.estimated_ms > 0 {
            job.progress(format!(
                "build #{number}: usually takes {}",
                human(first.estimated_ms)
            ));
        }
        let mut offset = 0;
        let mut partial = String::new();
        let mut tail: Vec<String> = Vec::new();
        loop {
            let c = patiently(job, || job.call(jenkins.console(number, offset)), lost)?;
            offset = c.next;
            partial.push_str(&c.text);
            // Whole lines only; the rest waits for the next read.
            while let Some(end) = partial.find('\n') {
                let line: String = partial.drain(..=end).collect();
                let line = line.trim_end().to_string();
                job.progress(line.clone());
                tail.push(line);
                if tail.len() > 20 {
                    tail.remove(0);
                }
            }
            if !c.more {
                if !partial.trim().is_empty() {
                    job.progress(partial.trim_end().to_string());
                    tail.push(partial.trim_end().to_string());
                }
                break;
            }
            pause(job)?;
        }
        // The console can end a moment before the build records its result.
        loop {
            let b = patiently(job, || job.call(jenkins.build(number, tag_param)), lost)?;
            if !b.building && b.result.is_some() {
                return Ok((b, tail));
            }
            pause(job)?;
        }
    }
}

fn human(ms: u64) -> String {
    let s = ms / 1000;
    if s >= 60 {
        format!("{}m {:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

impl Executor for JenkinsBuild {
    /// The runbook's description, at the address this operator's config points to.
    fn preview(&self, step: &Step, rb: &Runbook, ctx: &Value) -> String {
        let generic = crate::preview::preview(step, rb, ctx);
        let StepKind::JenkinsBuild(s) = &step.kind else {
            return generic;
        };
        match (rb.services.get(&s.service), self.0.jenkins(&s.service)) {
            (Some(Service::Jenkins(written)), Ok(conf)) => {
                generic.replacen(written.url.trim_end_matches('/'), &conf.url, 1)
            }
            _ => generic,
        }
    }

    fn run(&self, job: &Job) -> Result<Outputs> {
        let StepKind::JenkinsBuild(s) = &job.step.kind else {
            bail!("not a jenkins.build step");
        };
        if let Some(actions) = self.0.actions(&s.service) {
            return super::actions::run(job, actions);
        }
        let conf = self.0.jenkins(&s.service).map_err(anyhow::Error::msg)?;
        let jenkins = conf.client().map_err(anyhow::Error::msg)?;
        let number = match (
            job.resume.get(BUILD_NUMBER).and_then(Value::as_u64),
            job.resume.get(QUEUE_ITEM).and_then(Value::as_str),
        ) {
            (Some(n), _) => {
                job.progress(format!(
                    "following build #{n}, started before pushduty stopped"
                ));
                n
            }
            (None, Some(q)) => {
                job.progress(format!(
                    "following the queue item {q}, queued before pushduty stopped"
                ));
                self.wait_for_build(job, &jenkins, q)?
            }
            (None, None) => {
                let params = params(job, &conf.tag_param)?;
                let shown: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
                job.progress(format!(
                    "POST {}/buildWithParameters {}",
                    jenkins.job_url(),
                    shown.join(" ")
                ));
                let t = job.call(jenkins.trigger(&params))?;
                let mut c = Outputs::new();
                c.insert(QUEUE_ITEM.into(), json!(t.queue_url));
                job.checkpoint(c);
                job.progress(if t.already_queued {
                    format!(
                        "an identical build was queued already: following it ({})",
                        t.queue_url
                    )
                } else {
                    format!("queued: {}", t.queue_url)
                });
                self.wait_for_build(job, &jenkins, &t.queue_url)?
            }
        };
        let (build, tail) = self.follow(job, &jenkins, number, &conf.tag_param)?;
        let result = build.result.clone().unwrap_or_default();
        let mut out = Outputs::new();
        out.insert(BUILD_NUMBER.into(), json!(build.number));
        out.insert("build_url".into(), json!(build.url));
        out.insert("build_result".into(), json!(result));
        match result.as_str() {
            "SUCCESS" => {
                job.progress(format!(
                    "build #{number} succeeded in {}",
                    human(build.duration_ms)
                ));
                Ok(out)
            }
            "UNSTABLE" => {
                job.progress(format!(
                    "warning: build #{number} is UNSTABLE: it deployed, but some checks failed; read its console ({})",
                    build.url
                ));
                Ok(out)
            }
            other => {
                // The console's last words (its closing "Finished:" line aside) say why; on one
                // line, as a status is shown in one.
                let said: Vec<&str> = tail
                    .iter()
                    .map(String::as_str)
                    .filter(|l| !l.trim().is_empty() && !l.starts_with("Finished:"))
                    .collect();
                let last = &said[said.len().saturating_sub(3)..];
                bail!(
                    "build #{number} ended {other} ({}); its console ends: {}",
                    build.url,
                    last.join(" | ")
                )
            }
        }
    }
}

impl super::Execute for pushduty_core::runbook::kinds::jenkins::Build {
    fn executor(s: &super::Setup<'_>) -> Arc<dyn Executor> {
        s.with_services("jenkins.build", |services| Arc::new(JenkinsBuild(services)))
    }
}
