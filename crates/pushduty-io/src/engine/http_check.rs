//! `http.check`: poll a URL until its body shows what the runbook expects (stage runs the
//! tag), at the runbook's interval, giving up at its time limit. It only reads, so it runs
//! beside other steps.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use serde_json::json;

use super::{Executor, Job};
use crate::runbook::model::{Outputs, StepKind};
use crate::services::http::{client, read_head};

pub struct HttpCheck;

/// What is read of a page: the version (or whatever is expected) is near its start, and a
/// page that never ends must not fill memory.
const HEAD: usize = 64 << 10;

/// One read: the status and up to [`HEAD`] of the body.
async fn read(url: String) -> Result<(u16, String)> {
    let resp = client()?.get(&url).send().await?;
    let status = resp.status().as_u16();
    let body = read_head(resp, HEAD).await?;
    Ok((status, body))
}

impl Executor for HttpCheck {
    fn run(&self, job: &Job) -> Result<Outputs> {
        let StepKind::HttpCheck(h) = &job.step.kind else {
            bail!("not an http.check step");
        };
        let url = crate::templates::render(&h.url, &job.ctx)?;
        let expect = crate::templates::render(&h.expect, &job.ctx)?;
        let deadline = Instant::now() + Duration::from_secs(h.timeout_secs);
        let interval = Duration::from_secs(h.interval_secs.max(1));
        let mut last = String::new();
        loop {
            let seen = match job.call(async { Ok(read(url.clone()).await) })? {
                Ok((status, body)) if body.contains(&expect) => {
                    job.progress(format!("{url} shows {expect} (HTTP {status})"));
                    let mut out = Outputs::new();
                    out.insert("http_body".into(), json!(body.trim()));
                    return Ok(out);
                }
                Ok((status, body)) => format!(
                    "HTTP {status}: `{}` is not there yet",
                    body.trim().chars().take(80).collect::<String>()
                ),
                Err(e) => format!("no answer: {e:#}"),
            };
            if seen != last {
                job.progress(format!("{url}: {seen}"));
                last = seen;
            }
            let next = Instant::now() + interval;
            if next > deadline {
                bail!(
                    "{url} did not show `{expect}` within {}s; last: {last}",
                    h.timeout_secs
                );
            }
            while Instant::now() < next {
                if job.cancel.is_cancelled() {
                    bail!("cancelled by the operator");
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

impl super::Execute for pushduty_core::runbook::kinds::http_check::HttpCheck {
    fn executor(_: &super::Setup<'_>) -> std::sync::Arc<dyn Executor> {
        std::sync::Arc::new(HttpCheck)
    }
}
