//! Following a deploy on a remote service (a Jenkins build, a GitHub Actions run): the
//! parameters it is started with, when the step began (what it may have started is no older),
//! the pause between reads, and the patience with a service that fails a read or two.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::Job;
use crate::runbook::model::{Outputs, StepKind};
use crate::services::jenkins::is_transient;

/// Checkpoint key: when the first of the runs this one goes on from began.
pub const BEGAN: &str = "began";

/// How far a service's clock may trail ours when its times are compared with the step's.
pub(super) const CLOCK_SKEW: chrono::TimeDelta = chrono::TimeDelta::seconds(10);

/// When the step began, as far as what it may have started on a service goes.
#[derive(Debug, Clone, Copy)]
pub(super) struct Began {
    pub at: DateTime<Utc>,
    /// Whether this run goes on from one pushduty stopped in the middle, which may have
    /// started something without journaling it.
    pub resumed: bool,
}

impl Began {
    /// The earliest a service may say something of this step's started (its clock may trail).
    pub fn earliest(&self) -> DateTime<Utc> {
        self.at - CLOCK_SKEW
    }

    pub fn rfc3339(&self) -> String {
        self.at.to_rfc3339_opts(SecondsFormat::Secs, true)
    }
}

/// When the step began: the start of the stopped run this one goes on from (the earliest, if
/// it was stopped more than once), else now. A resumed run journals it at once: stopped again,
/// the next run must look back as far.
pub(super) fn began(job: &Job) -> Began {
    let parse = |s: &str| {
        DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    };
    let earliest = [
        job.resume.get(BEGAN).and_then(Value::as_str),
        job.resumed_since.as_deref(),
    ]
    .into_iter()
    .flatten()
    .filter_map(parse)
    .min();
    let Some(at) = earliest else {
        return Began {
            at: Utc::now(),
            resumed: false,
        };
    };
    let b = Began { at, resumed: true };
    let mut c = Outputs::new();
    c.insert(BEGAN.into(), json!(b.rfc3339()));
    job.checkpoint(c);
    b
}

/// How often the queue and the build are read while following.
const POLL: Duration = Duration::from_millis(500);
/// Failed reads in a row before following gives up.
pub(super) const PATIENCE: u32 = 5;

/// The build parameters: the tag under the service's `tag_param`, then the step's own, each
/// rendered with the run's values (sent form-encoded: values stay data).
pub(super) fn params(job: &Job, tag_param: &str) -> Result<Vec<(String, String)>> {
    params_in(&job.step, &job.ctx, tag_param)
}

/// [`params`] of `step` over `ctx`.
pub(super) fn params_in(
    step: &crate::runbook::model::Step,
    ctx: &serde_json::Value,
    tag_param: &str,
) -> Result<Vec<(String, String)>> {
    let StepKind::JenkinsBuild(s) = &step.kind else {
        bail!("not a jenkins.build step");
    };
    let mut out = Vec::new();
    if !s.params.contains_key(tag_param) {
        let tag = ctx["tag"].as_str().context("this push has no tag yet")?;
        out.push((tag_param.to_string(), tag.to_string()));
    }
    for (k, v) in &s.params {
        let v = crate::templates::render(v, ctx)
            .with_context(|| format!("the build parameter `{k}`"))?;
        out.push((k.clone(), v));
    }
    Ok(out)
}

/// Waits one poll interval, waking early on a cancel.
pub(super) fn pause(job: &Job) -> Result<()> {
    let until = Instant::now() + POLL;
    while Instant::now() < until {
        if job.cancel.is_cancelled() {
            bail!("cancelled by the operator");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

/// Repeats a read until it works, tolerating a few passing failures in a row (a restarting
/// Jenkins, a lost connection); any other failure ends the step at once.
pub(super) fn patiently<T>(
    job: &Job,
    mut read: impl FnMut() -> Result<T>,
    lost: impl Fn(&anyhow::Error) -> String,
) -> Result<T> {
    let mut failures = 0;
    loop {
        match read() {
            Ok(v) => return Ok(v),
            Err(e) if job.cancel.is_cancelled() || !is_transient(&e) => return Err(e),
            Err(e) => {
                failures += 1;
                if failures >= PATIENCE {
                    return Err(anyhow!("{}", lost(&e)));
                }
                job.progress(format!("{e:#}; trying again"));
                pause(job)?;
            }
        }
    }
}
