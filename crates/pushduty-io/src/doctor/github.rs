//! GitHub's checks: the repos a token reads (and writes, where notes are published), and the
//! workflow a deploy dispatches.

use std::time::Duration;

use pushduty_core::urls::{encode, github_repo_path};

use super::probe::{Answer, get, send};
use super::services::{secret_or, unreachable_fix};
use super::{Broken, Outcome};
use crate::secret::Secret;
use crate::services::github::web_host;
use crate::services::{ActionsConf, GithubConf};

/// GETs `url` of GitHub service `name` (at `api`) with `token` and the headers GitHub asks
/// for, within `limit`.
async fn read(
    (name, api): (&str, &str),
    url: &str,
    token: &Secret,
    limit: Duration,
) -> Result<Answer, Broken> {
    let req = get(url)?
        .bearer_auth(token.expose())
        .header(reqwest::header::ACCEPT, "application/vnd.github+json")
        .header("X-GitHub-Api-Version", "2022-11-28");
    send(req, "GitHub", api, limit, &unreachable_fix(name)).await
}

/// Where to make a token: on the GitHub the service's API belongs to (github.com, or an
/// Enterprise server).
fn github_token_fix(name: &str, api: &str, needs: &str) -> String {
    format!(
        "make a token at {}/settings/tokens ({needs}) and point `services.{name}.token` at it",
        web_host(api)
    )
}

pub(super) async fn github(c: &GithubConf, repo: &str, writes: bool, limit: Duration) -> Outcome {
    let token = secret_or(&c.token, || c.client())?;
    let url = format!("{}/repos/{}", c.api_url, github_repo_path(repo));
    let a = read((&c.name, &c.api_url), &url, &token, limit).await?;
    let needs = if writes {
        "Contents: read and write"
    } else {
        "Issues: read"
    };
    match a.status {
        200 => {
            let push = a.json()["permissions"]["push"] == true;
            if writes && !push {
                return Err(Broken::new(
                    format!(
                        "the token reads {repo} but may not write to it, and the notes are published there"
                    ),
                    github_token_fix(&c.name, &c.api_url, needs),
                ));
            }
            let scopes = a
                .headers
                .get("x-oauth-scopes")
                .and_then(|v| v.to_str().ok())
                .map(|s| format!(" (scopes: {})", if s.is_empty() { "none" } else { s }))
                .unwrap_or_default();
            Ok(format!(
                "{repo} reads with the token{}{scopes}",
                if push { ", which may write" } else { "" }
            ))
        }
        401 => Err(Broken::new(
            "GitHub refused the token (HTTP 401: bad credentials)",
            github_token_fix(&c.name, &c.api_url, needs),
        )),
        403 | 404 => Err(Broken::new(
            format!("{repo} is not visible with the token (HTTP {})", a.status),
            format!(
                "check the repo's name in the runbook (`repos.*.github`), and that the token may read it: {}",
                github_token_fix(&c.name, &c.api_url, needs)
            ),
        )),
        _ => Err(a.unexpected("GitHub", &c.api_url)),
    }
}

pub(super) async fn actions(c: &ActionsConf, limit: Duration) -> Outcome {
    let token = secret_or(&c.token, || c.client())?;
    let url = format!(
        "{}/repos/{}/actions/workflows/{}",
        c.api_url,
        github_repo_path(&c.repo),
        encode(&c.workflow)
    );
    let a = read((&c.name, &c.api_url), &url, &token, limit).await?;
    let fix = github_token_fix(&c.name, &c.api_url, "Actions: read and write");
    match a.status {
        200 if a.json()["state"].as_str().is_some_and(|s| s != "active") => Err(Broken::new(
            format!(
                "workflow `{}` of {} is {}",
                c.workflow,
                c.repo,
                a.json()["state"].as_str().unwrap_or("?")
            ),
            format!("enable it at {}/{}/actions", web_host(&c.api_url), c.repo),
        )),
        200 => Ok(format!(
            "workflow `{}` of {} reads with the token",
            c.workflow, c.repo
        )),
        401 => Err(Broken::new(
            "GitHub refused the token (HTTP 401: bad credentials)",
            fix,
        )),
        403 | 404 => Err(Broken::new(
            format!(
                "no workflow `{}` in {} visible with the token (HTTP {})",
                c.workflow, c.repo, a.status
            ),
            format!("check `repo` and `workflow` (the file's name) in the runbook; {fix}"),
        )),
        _ => Err(a.unexpected("GitHub", &c.api_url)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_made_on_the_github_the_service_belongs_to() {
        let public = github_token_fix("gh", "https://api.github.com", "Issues: read");
        assert!(
            public.starts_with("make a token at https://github.com/settings/tokens (Issues: read)"),
            "{public}"
        );
        let enterprise = github_token_fix("gh", "https://ghe.example.org/api/v3/", "Issues: read");
        assert!(
            enterprise.starts_with("make a token at https://ghe.example.org/settings/tokens"),
            "{enterprise}"
        );
    }
}
