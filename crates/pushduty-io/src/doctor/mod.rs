//! `doctor`: reads (never writes) every remote, service, series and link a runbook names, all
//! at once, each within one time limit, and says per item ok or what to fix. The model of a
//! finding and the checks that need no request are `pushduty_core::doctor`'s.

mod chat;
mod github;
mod links;
mod offline;
mod probe;
mod remotes;
mod services;

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use pushduty_core::doctor::{Finding, Report};
use serde_json::Value;

use crate::config::Config;
use crate::runbook::model::Runbook;
use crate::secret::{Secret, scrub};
use crate::services::Services;
use crate::services::http::all;

/// Why an item is broken and what to do about it.
#[derive(Debug)]
pub(crate) struct Broken {
    pub detail: String,
    pub fix: String,
}

impl Broken {
    pub fn new(detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            detail: detail.into(),
            fix: fix.into(),
        }
    }
}

/// What a check finds: what answered, or what is broken.
pub(crate) type Outcome = Result<String, Broken>;

type Check<'a> = Pin<Box<dyn Future<Output = Finding> + Send + 'a>>;

/// Runs a check within `limit`; one that takes longer is broken, named with the time it had.
pub(crate) fn timed<'a>(
    item: String,
    kind: &'static str,
    limit: Duration,
    check: impl Future<Output = Outcome> + Send + 'a,
) -> Check<'a> {
    Box::pin(async move {
        let started = Instant::now();
        let mut finding = match tokio::time::timeout(limit, check).await {
            Ok(Ok(detail)) => Finding::ok(&item, kind, detail),
            Ok(Err(b)) => Finding::broken(&item, kind, b.detail, b.fix),
            Err(_) => Finding::broken(
                &item,
                kind,
                format!("no answer within {}", secs(limit)),
                "check that the server is up and reachable from here (VPN, proxy, firewall); \
                 on a slow network give it longer with --timeout",
            ),
        };
        finding.ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        finding
    })
}

pub use offline::offline;

/// `8s`, `1.5s`: a time limit as said in a finding.
pub(crate) fn secs(limit: Duration) -> String {
    if limit.subsec_millis() == 0 {
        format!("{}s", limit.as_secs())
    } else {
        format!("{:.1}s", limit.as_secs_f64())
    }
}

/// Examines everything `rb` names with the operator's `config`: `ctx` is the session's
/// template context (the links and docs are read as the push would show them). Every check
/// runs at once, each within `limit`; nothing is written and no secret reaches the report.
pub async fn examine(
    rb: &Runbook,
    config: &Config,
    services: &Services,
    ctx: &Value,
    limit: Duration,
) -> Report {
    let mut checks: Vec<Check<'_>> = Vec::new();
    checks.extend(remotes::checks(rb, config, limit));
    checks.extend(services::checks(rb, services, limit));
    checks.extend(links::checks(rb, ctx, limit));
    let mut findings = all(checks).await;
    scrub_all(&mut findings, services);
    Report::new(findings)
}

/// Takes every secret of `services` out of the findings. A link may carry a token in its
/// query: its name too.
pub(crate) fn scrub_all(findings: &mut [Finding], services: &Services) {
    let secrets = services.secrets();
    let secrets: Vec<&Secret> = secrets.iter().collect();
    for f in findings {
        f.item = scrub(&f.item, &secrets);
        f.detail = scrub(&f.detail, &secrets);
        f.fix = f.fix.as_deref().map(|t| scrub(t, &secrets));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::http::block_on;

    #[test]
    fn a_check_past_its_limit_is_broken_and_says_the_limit() {
        let limit = Duration::from_millis(200);
        let hangs = timed("jenkins deploy".into(), "jenkins", limit, async {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Ok("never".to_string())
        });
        let quick = timed("link x".into(), "link", limit, async {
            Err(Broken::new("malformed", "correct it"))
        });
        let started = Instant::now();
        let found = block_on(all([hangs, quick])).unwrap();
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(!found[0].ok);
        assert_eq!(found[0].detail, "no answer within 0.2s");
        assert!(found[0].fix.as_deref().unwrap().contains("--timeout"));
        assert!(found[0].ms >= 200, "{}", found[0].ms);
        assert_eq!(
            (found[1].ok, found[1].detail.as_str()),
            (false, "malformed")
        );
        assert_eq!(secs(Duration::from_secs(8)), "8s");
    }
}
