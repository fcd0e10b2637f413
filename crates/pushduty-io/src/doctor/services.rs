//! The services' checks: each asks the one read call that shows the service as this operator
//! reaches it (the job, the project, the key, the token's account) and nothing that changes
//! anything. GitHub's are in [`super::github`], the chats' in [`super::chat`].

use std::time::Duration;

use pushduty_core::urls::{encode, jenkins_job_path};

use super::chat::{matrix, slack};
use super::github::{actions, github};
use super::probe::{get, post, send};
use super::{Broken, Check, Outcome, timed};
use crate::runbook::model::{Runbook, StepKind};
use crate::secret::Secret;
use crate::services::{
    EtherpadConf, JenkinsConf, MetricsConf, Resolved, SentryConf, Services, SmtpConf,
};

/// One check per service (per series for metrics, per repo for GitHub).
pub(super) fn checks<'a>(
    rb: &'a Runbook,
    services: &'a Services,
    limit: Duration,
) -> Vec<Check<'a>> {
    let mut out: Vec<Check<'a>> = Vec::new();
    for (name, svc) in &services.0 {
        let item = |what: &str| format!("{what} {name}");
        match svc {
            Resolved::Jenkins(c) => {
                out.push(timed(item("jenkins"), "jenkins", limit, jenkins(c, limit)))
            }
            Resolved::GithubActions(c) => {
                out.push(timed(
                    item("github_actions"),
                    "github_actions",
                    limit,
                    actions(c, limit),
                ));
            }
            Resolved::Github(c) => {
                for (key, repo) in &rb.repos {
                    // Notes published as a repo's release need write access; blockers only read.
                    let writes = rb.steps.iter().any(|s| {
                        matches!(&s.kind, StepKind::NotesPublish(p)
                            if p.service == *name && p.repo.as_deref() == Some(key))
                    });
                    out.push(timed(
                        format!("github {name} repo {}", repo.github),
                        "github",
                        limit,
                        github(c, &repo.github, writes, limit),
                    ));
                }
            }
            Resolved::Sentry(c) => {
                out.push(timed(item("sentry"), "sentry", limit, sentry(c, limit)))
            }
            Resolved::Metrics(c) => {
                for s in &c.series {
                    out.push(timed(
                        format!("{} {name} series {}", c.kind, s.name),
                        c.kind,
                        limit,
                        series(c, &s.query),
                    ));
                }
            }
            Resolved::Smtp(c) => out.push(timed(item("smtp"), "smtp", limit, smtp(c, limit))),
            Resolved::Etherpad(c) => out.push(timed(
                item("etherpad"),
                "etherpad",
                limit,
                etherpad(c, limit),
            )),
            Resolved::Matrix(c) => {
                out.push(timed(item("matrix"), "matrix", limit, matrix(c, limit)))
            }
            Resolved::Slack(c) => out.push(timed(item("slack"), "slack", limit, slack(c, limit))),
            // Files in a checkout: the git check covers the checkout.
            Resolved::MarkdownNotes(_) => {}
        }
    }
    out
}

/// What to do when a service's client cannot be made: the message says which setting.
pub(super) fn unconfigured(e: String) -> Broken {
    Broken::new("not configured", e)
}

/// The secret a service was given; without one, what its client says to set.
pub(super) fn secret_or<T>(
    secret: &Result<Secret, String>,
    client: impl FnOnce() -> Result<T, String>,
) -> Result<Secret, Broken> {
    secret
        .clone()
        .map_err(|e| unconfigured(client().err().unwrap_or(e)))
}

pub(super) fn unreachable_fix(name: &str) -> String {
    format!(
        "check the address (`services.{name}.url` in your config overrides the runbook's) and \
         that it is reachable from here (VPN, proxy)"
    )
}

async fn jenkins(c: &JenkinsConf, limit: Duration) -> Outcome {
    let client = c.client().map_err(unconfigured)?;
    // Both are there: the client was made.
    let user = c.user.clone().unwrap_or_default();
    let token = c.token.as_ref().map(|t| t.expose()).unwrap_or_default();
    let url = format!(
        "{}/{}/api/json?tree=name,buildable",
        c.url,
        jenkins_job_path(&c.job)
    );
    let req = get(&url)?.basic_auth(&user, Some(token));
    let a = send(req, "Jenkins", &c.url, limit, &unreachable_fix(&c.name)).await?;
    match a.status {
        200 if a.json()["buildable"] == false => Err(Broken::new(
            format!("job `{}` is disabled", c.job),
            format!("enable it at {} (or ask its owner)", client.job_url()),
        )),
        200 => Ok(format!(
            "job `{}` exists, is buildable, and the token reads it",
            c.job
        )),
        401 => Err(Broken::new(
            format!("Jenkins refused user `{user}` with its API token (HTTP 401)"),
            format!(
                "make a new API token at {}/user/{}/configure and point `services.{}.token` at it",
                c.url,
                encode(&user),
                c.name
            ),
        )),
        403 => Err(Broken::new(
            format!("user `{user}` may not read job `{}` (HTTP 403)", c.job),
            format!(
                "ask a Jenkins admin for Job/Read and Job/Build on `{}`",
                c.job
            ),
        )),
        404 => Err(Broken::new(
            format!("no job `{}` at {} (HTTP 404)", c.job, c.url),
            "check the job's name in the runbook (renamed? moved into a folder: `folder/job`), \
             or ask a Jenkins admin whether your user may see it",
        )),
        _ => Err(a.unexpected("Jenkins", &c.url)),
    }
}

async fn sentry(c: &SentryConf, limit: Duration) -> Outcome {
    let token = secret_or(&c.token, || c.client())?;
    let url = format!(
        "{}/api/0/projects/{}/{}/",
        c.url,
        encode(&c.org),
        encode(&c.project)
    );
    let req = get(&url)?.bearer_auth(token.expose());
    let a = send(req, "Sentry", &c.url, limit, &unreachable_fix(&c.name)).await?;
    let make = format!(
        "make a token with the event:read and project:read scopes at \
         {}/settings/account/api/auth-tokens/ and point `services.{}.token` at it",
        c.url, c.name
    );
    match a.status {
        200 => Ok(format!(
            "project {}/{} reads with the token",
            c.org, c.project
        )),
        401 => Err(Broken::new("Sentry refused the token (HTTP 401)", make)),
        403 => Err(Broken::new(
            format!(
                "the token may not read project {}/{} (HTTP 403): it lacks project:read",
                c.org, c.project
            ),
            make,
        )),
        404 => Err(Broken::new(
            format!("no project {}/{} at {} (HTTP 404)", c.org, c.project, c.url),
            "check `org` and `project` in the runbook against the project's address in Sentry",
        )),
        _ => Err(a.unexpected("Sentry", &c.url)),
    }
}

async fn series(c: &MetricsConf, query: &str) -> Outcome {
    let until = chrono::Utc::now().timestamp();
    let points = c.range(query, until - 3600, until).await.map_err(|e| {
        let fix = if crate::services::metrics::is_bad_query(&e) {
            "fix the series' `query` in the runbook so that it matches exactly one line".to_string()
        } else {
            unreachable_fix(&c.name)
        };
        Broken::new(format!("{e:#}"), fix)
    })?;
    let known: Vec<f64> = points.iter().filter_map(|(_, v)| *v).collect();
    match known.last() {
        None => Err(Broken::new(
            format!("`{query}` matches one series, with no points in the last hour"),
            "check that the metric still receives data (renamed? the service stopped sending?)",
        )),
        Some(last) => Ok(format!(
            "one series, {} points in the last hour, the latest {last}",
            known.len()
        )),
    }
}

async fn smtp(c: &SmtpConf, limit: Duration) -> Outcome {
    c.probe(limit).await.map_err(|e| {
        Broken::new(
            format!("{e:#}"),
            format!(
                "check `host`, `port` and `security` of `services.{}`, and the user and the \
                 password it names",
                c.name
            ),
        )
    })
}

async fn etherpad(c: &EtherpadConf, limit: Duration) -> Outcome {
    let key = secret_or(&c.key, || c.client())?;
    let url = format!("{}/api/{}/checkToken", c.url, encode(&c.api_version));
    // In the body, as every Etherpad call here: a URL's query reaches access logs.
    let req = post(&url)?.form(&[("apikey", key.expose())]);
    let a = send(req, "Etherpad", &c.url, limit, &unreachable_fix(&c.name)).await?;
    let v = a.json();
    match (a.status, v["code"].as_u64()) {
        (200, Some(0)) => Ok("the API key is valid".into()),
        (_, Some(4)) => Err(Broken::new(
            "Etherpad refused the API key (code 4: no or wrong API key)",
            format!(
                "copy the server's APIKEY.txt into the secret `services.{}.key` names",
                c.name
            ),
        )),
        (404, None) => Err(Broken::new(
            format!("no Etherpad API {} at {} (HTTP 404)", c.api_version, c.url),
            "check the service's `url` and `api_version` in the runbook",
        )),
        _ => Err(a.unexpected("Etherpad", &c.url)),
    }
}
