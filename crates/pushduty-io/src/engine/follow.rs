//! Following a deploy on a remote service (a Jenkins build, a GitHub Actions run): the
//! parameters it is started with, the pause between reads, and the patience with a service
//! that fails a read or two.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};

use super::Job;
use crate::runbook::model::StepKind;
use crate::services::jenkins::is_transient;

/// How often the queue and the build are read while following.
const POLL: Duration = Duration::from_millis(500);
/// Failed reads in a row before following gives up.
const PATIENCE: u32 = 5;

/// The build parameters: the tag under the service's `tag_param`, then the step's own, each
/// rendered with the run's values (sent form-encoded: values stay data).
pub(super) fn params(job: &Job, tag_param: &str) -> Result<Vec<(String, String)>> {
    let StepKind::JenkinsBuild(s) = &job.step.kind else {
        bail!("not a jenkins.build step");
    };
    let mut out = Vec::new();
    if !s.params.contains_key(tag_param) {
        let tag = job.ctx["tag"]
            .as_str()
            .context("this push has no tag yet")?;
        out.push((tag_param.to_string(), tag.to_string()));
    }
    for (k, v) in &s.params {
        let v = crate::templates::render(v, &job.ctx)
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
