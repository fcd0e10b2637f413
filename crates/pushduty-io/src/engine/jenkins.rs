//! `jenkins.build`: trigger the job with this push's tag, follow the queue item to its build,
//! stream the console, end with the build's result. One build per push: before triggering,
//! the step looks in Jenkins for a build of its parameters that is waiting or running (and,
//! going on from a run pushduty stopped, one that started since that run began) and follows
//! it instead. The queue item and then the build number are checkpointed the moment they are
//! known, so a resumed step follows them without asking Jenkins to look.

use std::sync::Arc;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::follow::{began, params, patiently, pause};
use super::{ByHand, Executor, Job};
use crate::runbook::model::{Outputs, Runbook, Service, Step, StepKind};
use crate::services::Services;
use crate::services::jenkins::{
    Build, Jenkins, NoSuchBuild, Queue, Triggered, carries, is_transient,
};

/// Checkpoint keys.
pub const QUEUE_ITEM: &str = "queue_item";
pub const BUILD_NUMBER: &str = "build_number";

/// How many times a trigger Jenkins took without naming its item (or left unanswered) is
/// looked for.
const LOOKS_AFTER_TRIGGER: u32 = 3;

pub struct JenkinsBuild(pub Arc<Services>);

/// A build of this push's parameters that Jenkins has, waiting or started.
enum Found {
    Waiting(String),
    Started(Build),
}

impl Found {
    fn said(&self) -> String {
        match self {
            Found::Waiting(q) => format!("a build of these parameters waits in the queue ({q})"),
            Found::Started(b) if b.building => {
                format!(
                    "build #{} of these parameters is running ({})",
                    b.number, b.url
                )
            }
            Found::Started(b) => format!(
                "build #{} of these parameters started at {} and ended {} ({})",
                b.number,
                b.started.as_deref().unwrap_or("?"),
                b.result.as_deref().unwrap_or("?"),
                b.url
            ),
        }
    }
}

/// This push's build, if Jenkins has one: waiting in the queue or running with the parameters
/// `sent`, or, `since` given, started since then. The queue is read first: an item that leaves
/// it meanwhile is a build by the time the builds are read.
fn look(
    job: &Job,
    jenkins: &Jenkins,
    sent: &[(String, String)],
    tag_param: &str,
    since: Option<DateTime<Utc>>,
) -> Result<Option<Found>> {
    let lost = |e: &anyhow::Error| format!("{e:#}");
    let waiting = patiently(job, || job.call(jenkins.waiting()), lost)?;
    if let Some(w) = waiting
        .into_iter()
        .filter(|w| carries(&w.params, sent, tag_param))
        .max_by_key(|w| w.id)
    {
        return Ok(Some(Found::Waiting(w.queue_url)));
    }
    let builds = patiently(job, || job.call(jenkins.builds(20, tag_param)), lost)?;
    let recent = |b: &Build| {
        since.is_some_and(|since| {
            b.started
                .as_deref()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .is_some_and(|t| t >= since)
        })
    };
    // Newest first, as Jenkins lists them: a running one, else one started since `since`.
    let ours = || {
        builds
            .iter()
            .filter(|b| carries(&b.params, sent, tag_param))
    };
    let pick = ours()
        .find(|b| b.building)
        .or_else(|| ours().find(|b| recent(b)));
    Ok(pick.map(|b| Found::Started(b.clone())))
}

/// The checkpoint of a started build.
fn started(c: &mut Outputs, number: u64, url: &str) {
    c.insert(BUILD_NUMBER.into(), json!(number));
    c.insert("build_url".into(), json!(url));
}

impl JenkinsBuild {
    /// Follows what [`look`] found instead of triggering: journals it, and waits for a
    /// waiting one to start.
    fn adopt(&self, job: &Job, jenkins: &Jenkins, found: Found) -> Result<u64> {
        job.progress(format!(
            "{}: following it, not triggering another",
            found.said()
        ));
        let mut c = Outputs::new();
        match found {
            Found::Waiting(q) => {
                c.insert(QUEUE_ITEM.into(), json!(q));
                job.checkpoint(c);
                self.wait_for_build(job, jenkins, &q)
            }
            Found::Started(b) => {
                started(&mut c, b.number, &b.url);
                job.checkpoint(c);
                Ok(b.number)
            }
        }
    }

    /// Triggers this push's build unless Jenkins has it already; the build number.
    fn start(&self, job: &Job, jenkins: &Jenkins, tag_param: &str) -> Result<u64> {
        let began = began(job);
        let sent = params(job, tag_param)?;
        let shown: Vec<String> = sent.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let shown = shown.join(" ");
        if began.resumed {
            job.progress(format!(
                "pushduty stopped before Jenkins named a build (the step began at {}): looking for one of {shown} since then",
                began.rfc3339()
            ));
        } else {
            job.progress(format!(
                "looking for a build of {shown} waiting or running before triggering"
            ));
        }
        let since = began.resumed.then(|| began.earliest());
        let found = look(job, jenkins, &sent, tag_param, since).context(
            "looking in Jenkins for a build of this push before triggering one (nothing was triggered)",
        )?;
        if let Some(found) = found {
            return self.adopt(job, jenkins, found);
        }
        job.progress(format!(
            "POST {}/buildWithParameters {shown}",
            jenkins.job_url()
        ));
        let why = match job.call(jenkins.trigger(&sent)) {
            Ok(Triggered::Queued {
                queue_url,
                redirected,
            }) => {
                let mut c = Outputs::new();
                c.insert(QUEUE_ITEM.into(), json!(queue_url));
                job.checkpoint(c);
                job.progress(if redirected {
                    format!(
                        "Jenkins redirected the trigger to a queue item (an identical build was waiting): following it ({queue_url})"
                    )
                } else {
                    format!("queued: {queue_url}")
                });
                return self.wait_for_build(job, jenkins, &queue_url);
            }
            Ok(Triggered::Taken { status }) => format!(
                "Jenkins took the trigger but answered HTTP {status} without a queue item (older Jenkins answers so when an identical build is waiting)"
            ),
            // No answer is not a no: Jenkins may have queued it.
            Err(e) if is_transient(&e) => format!("{e:#}; Jenkins may have queued it anyway"),
            Err(e) => return Err(e),
        };
        job.progress(format!("{why}: looking for it, not triggering again"));
        for _ in 0..LOOKS_AFTER_TRIGGER {
            let found = look(job, jenkins, &sent, tag_param, Some(began.earliest()))
                .with_context(|| {
                    format!(
                        "{why}, and looking for it failed: look at {} before running this step again",
                        jenkins.job_url()
                    )
                })?;
            if let Some(found) = found {
                return self.adopt(job, jenkins, found);
            }
            pause(job)?;
        }
        bail!(
            "{why}, and Jenkins shows no build of {shown} queued or started since: look at {} before running this step again",
            jenkins.job_url()
        )
    }

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
                    started(&mut c, number, &url);
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
                            started(&mut c, b.number, &b.url);
                            job.checkpoint(c);
                            job.progress(format!("build #{} came from it: {}", b.number, b.url));
                            return Ok(b.number);
                        }
                        None => bail!(
                            "the queue item {queue_url} is gone and no recent build came from it: \
                             look for the build of this tag in Jenkins before running this step again"
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
                 Jenkins (running this step again follows it while it runs, and triggers a new \
                 build once it has ended)"
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

    /// Start the build from Jenkins's own form, with the parameters shown.
    fn by_hand(&self, step: &Step, rb: &Runbook, ctx: &Value) -> Result<ByHand> {
        let StepKind::JenkinsBuild(s) = &step.kind else {
            bail!("not a jenkins.build step");
        };
        let Ok(conf) = self.0.jenkins(&s.service) else {
            // A GitHub Actions backend: the step's action says what to run.
            let action = crate::preview::action(step, rb, ctx)?;
            return Ok(ByHand {
                steps: vec![format!("do what this step would: {action}")],
                copy: None,
                link: None,
                outputs: Outputs::new(),
            });
        };
        let form = format!(
            "{}/{}/build",
            conf.url.trim_end_matches('/'),
            pushduty_core::urls::jenkins_job_path(&conf.job)
        );
        let mut steps = vec![format!("open the job's build form: {form}")];
        for (k, v) in super::follow::params_in(step, ctx, &conf.tag_param)? {
            steps.push(format!("set {k} = {v}"));
        }
        steps.push("press Build, follow it to the end, and note its number and result".into());
        Ok(ByHand {
            steps,
            copy: None,
            link: Some(form),
            outputs: Outputs::new(),
        })
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
                    "following build #{n}, which this step's earlier run started (not triggering another)"
                ));
                n
            }
            (None, Some(q)) => {
                job.progress(format!(
                    "following the queue item {q}, which this step's earlier run queued (not triggering another)"
                ));
                self.wait_for_build(job, &jenkins, q)?
            }
            (None, None) => self.start(job, &jenkins, &conf.tag_param)?,
        };
        let (build, tail) = match self.follow(job, &jenkins, number, &conf.tag_param) {
            // Deleted, or a Jenkins that lost its builds: this push's may be another one.
            Err(e) if e.downcast_ref::<NoSuchBuild>().is_some() => {
                let sent = params(job, &conf.tag_param)?;
                let found =
                    look(job, &jenkins, &sent, &conf.tag_param, None).with_context(|| {
                        format!("{e:#}; looking for another build of these parameters")
                    })?;
                let Some(found) = found else {
                    bail!(
                        "{e:#}; no other build of these parameters is queued or running: if build \
                         #{number} was deleted, running this step again triggers a new one"
                    );
                };
                let number = self.adopt(job, &jenkins, found)?;
                self.follow(job, &jenkins, number, &conf.tag_param)?
            }
            r => r?,
        };
        let number = build.number;
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
