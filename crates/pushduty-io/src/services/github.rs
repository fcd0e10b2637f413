//! GitHub's REST API: Actions for a deploy workflow (dispatch it, find the run the dispatch
//! made, since the 204 names none; read the run and its jobs), and the issues that block a
//! push. Every failure says what to do, and never holds the token.

use anyhow::{Result, anyhow, bail};
use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::ActionsConf;
use super::http::{API_ANSWER, ERROR_HEAD, acting_client, client, read_body, read_head};
use crate::secret::{Secret, scrub};
use pushduty_core::urls::{encode, github_repo_path};

/// How far the server's clock may trail ours when matching a run to the dispatch.
const CLOCK_SKEW_SECS: i64 = 10;

pub struct Actions {
    gh: Api,
    repo: String,
    workflow: String,
    git_ref: String,
}

/// One workflow run.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Run {
    pub id: u64,
    pub run_number: u64,
    /// queued, in_progress, completed (and waiting, requested, pending).
    pub status: String,
    /// success, failure, cancelled, timed_out, ...; `None` until completed.
    #[serde(default)]
    pub conclusion: Option<String>,
    pub created_at: DateTime<Utc>,
    pub html_url: String,
    /// The workflow's name.
    #[serde(default)]
    pub name: Option<String>,
    /// The run's title: the workflow's name, unless the workflow sets `run-name`.
    #[serde(default)]
    pub display_title: Option<String>,
    /// The branch (or tag) it runs from.
    #[serde(default)]
    pub head_branch: Option<String>,
}

impl Run {
    pub fn completed(&self) -> bool {
        self.status == "completed"
    }

    /// Whether the workflow titles its runs itself (`run-name`) and this one's title names
    /// `tag`: then it is told apart from other dispatches of the workflow.
    pub fn titled_for(&self, tag: &str) -> bool {
        self.titled() && self.display_title.as_deref().is_some_and(|t| names(t, tag))
    }

    fn titled(&self) -> bool {
        self.display_title.is_some() && self.display_title != self.name
    }

    /// Whether this run may be the one a dispatch of `tag` on `git_ref` made, as far as GitHub
    /// can say. A run carries no inputs, so only its ref and its title can be compared: a
    /// workflow that sets `run-name` with the tag tells its runs apart, and a run titled for
    /// another tag is not this one; without one, any dispatch on the ref is a candidate, and
    /// the caller narrows it by time. The head sha is not compared: the branch may move
    /// between a dispatch and the look, which would turn the right run away.
    pub fn may_be(&self, git_ref: &str, tag: &str) -> bool {
        let bare = |r: &str| {
            r.strip_prefix("refs/heads/")
                .or_else(|| r.strip_prefix("refs/tags/"))
                .unwrap_or(r)
                .to_string()
        };
        let same_ref = self
            .head_branch
            .as_deref()
            .is_none_or(|b| bare(b) == bare(git_ref));
        same_ref && (!self.titled() || self.titled_for(tag))
    }
}

/// Whether `title` holds `tag` as a whole word (`2015.09.10` is not in `2015.09.10-1`).
fn names(title: &str, tag: &str) -> bool {
    if tag.is_empty() {
        return false;
    }
    let part_of_tag = |c: char| c.is_alphanumeric() || matches!(c, '.' | '-' | '_');
    title.match_indices(tag).any(|(i, _)| {
        let before = title[..i].chars().next_back();
        let after = title[i + tag.len()..].chars().next();
        !before.is_some_and(part_of_tag) && !after.is_some_and(part_of_tag)
    })
}

/// One job of a run.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Job {
    pub name: String,
    pub status: String,
    #[serde(default)]
    pub conclusion: Option<String>,
    #[serde(default)]
    pub steps: Vec<JobStep>,
}

/// One step of a job.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct JobStep {
    pub name: String,
    pub status: String,
    #[serde(default)]
    pub conclusion: Option<String>,
    pub number: u64,
}

#[derive(Deserialize)]
struct Runs {
    #[serde(default)]
    workflow_runs: Vec<Run>,
}

#[derive(Deserialize)]
struct Jobs {
    #[serde(default)]
    jobs: Vec<Job>,
}

/// The `message` of a GitHub error body, else its first line.
fn message(body: &str) -> String {
    let text = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["message"].as_str().map(str::to_string))
        .unwrap_or_else(|| body.lines().next().unwrap_or_default().to_string());
    text.trim().chars().take(200).collect()
}

/// `: <GitHub's message>` to follow a status, or nothing when GitHub gave none.
fn said(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    }
}

/// Whether GitHub says this token has no requests left.
fn spent(headers: &HeaderMap) -> bool {
    headers
        .get("x-ratelimit-remaining")
        .is_some_and(|v| v.as_bytes() == b"0")
}

/// The hint for a spent rate limit, with when to come back.
fn spent_hint(headers: &HeaderMap) -> String {
    format!(
        "GitHub's rate limit for this token is spent: try again {}",
        rate_limit_wait(headers)
    )
}

/// What a spent rate limit says about when to come back.
fn rate_limit_wait(headers: &HeaderMap) -> String {
    let get = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    if let Some(secs) = get("retry-after") {
        return format!("after {secs}s");
    }
    match get("x-ratelimit-reset")
        .and_then(|v| v.parse::<i64>().ok())
        .and_then(|t| DateTime::from_timestamp(t, 0))
    {
        Some(t) => format!("after {}", t.format("%H:%M:%S UTC")),
        None => "in a few minutes".to_string(),
    }
}

/// The web site of a GitHub API: github.com for api.github.com, the host of an Enterprise
/// server's `/api/v3`.
pub(crate) fn web_host(api: &str) -> &str {
    let api = api.trim_end_matches('/');
    match api {
        "https://api.github.com" => "https://github.com",
        other => other.strip_suffix("/api/v3").unwrap_or(other),
    }
}

/// One answer of GitHub's, whatever its status.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

/// What every GitHub client does alike: one service's API and token, how a request is made,
/// and how a failure is said (with the token cut out). Each client adds the hints of its own
/// calls.
struct Api {
    name: String,
    api: String,
    token: Secret,
}

impl Api {
    fn new(name: &str, api_url: &str, token: Secret) -> Self {
        Self {
            name: name.to_string(),
            api: api_url.trim_end_matches('/').to_string(),
            token,
        }
    }

    /// `owner/repo`'s endpoints, each part encoded.
    fn repo_url(&self, repo: &str) -> String {
        format!("{}/repos/{}", self.api, github_repo_path(repo))
    }

    fn scrub(&self, text: &str) -> String {
        scrub(text, &[&self.token])
    }

    fn request(&self, method: reqwest::Method, url: &str) -> Result<reqwest::RequestBuilder> {
        self.on(client()?, method, url)
    }

    /// A request that starts something: no redirect is followed (the caller says what a 3xx
    /// means).
    fn acting(&self, method: reqwest::Method, url: &str) -> Result<reqwest::RequestBuilder> {
        self.on(acting_client()?, method, url)
    }

    fn on(
        &self,
        client: &reqwest::Client,
        method: reqwest::Method,
        url: &str,
    ) -> Result<reqwest::RequestBuilder> {
        Ok(client
            .request(method, url)
            .bearer_auth(self.token.expose())
            .header(reqwest::header::ACCEPT, "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28"))
    }

    /// Sends `req`; an error only when no answer came.
    async fn answer(&self, req: reqwest::RequestBuilder, what: &str) -> Result<Answer> {
        let resp = req.send().await.map_err(|e| self.unreachable(what, &e))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = read_body(resp, API_ANSWER, "GitHub", what, |e| {
            self.unreachable(what, e)
        })
        .await?;
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    /// A transport failure (no connection, a timeout), said plainly.
    fn unreachable(&self, what: &str, e: &reqwest::Error) -> anyhow::Error {
        super::http::unanswered(what, "GitHub", &self.api, e, |t| self.scrub(t))
    }

    /// A success whose body is not what the call reads.
    fn not_json(&self, what: &str, e: &serde_json::Error) -> anyhow::Error {
        anyhow!(self.scrub(&format!(
            "{what}: GitHub answered something that is not the expected JSON ({e}); is {} \
             the GitHub API (`api_url`)?",
            self.api
        )))
    }

    /// What to do about an error answer. A refused token, a spent rate limit (`after_limit`
    /// says what that means for the call) and GitHub's own failures are said alike for every
    /// call; `own` has the client's words for the other statuses.
    fn hint(
        &self,
        a: &Answer,
        after_limit: &str,
        own: impl FnOnce(u16) -> Option<String>,
    ) -> String {
        match a.status.as_u16() {
            401 => format!(
                "GitHub refused the token of service `{}`: check it is valid and not expired",
                self.name
            ),
            403 | 429 if spent(&a.headers) || a.status == StatusCode::TOO_MANY_REQUESTS => {
                format!("{}{after_limit}", spent_hint(&a.headers))
            }
            s => own(s).unwrap_or_else(|| {
                if s >= 500 {
                    "GitHub failed; try again, and check githubstatus.com if it keeps failing"
                        .to_string()
                } else {
                    "GitHub answered something unexpected".to_string()
                }
            }),
        }
    }

    /// An error answer as an error: what was asked, the status, GitHub's words (`said`), the
    /// hint; the token cut out.
    fn refused(&self, a: &Answer, what: &str, said: &str, hint: &str) -> anyhow::Error {
        let status = a.status;
        super::http::answered(
            status,
            self.scrub(&format!("{what}: HTTP {status}{said}. {hint}")),
        )
    }

    /// An error answer as an error, with GitHub's message and [`Api::hint`]'s.
    fn refusal(
        &self,
        a: &Answer,
        what: &str,
        after_limit: &str,
        own: impl FnOnce(u16) -> Option<String>,
    ) -> anyhow::Error {
        let hint = self.hint(a, after_limit, own);
        // Scrubbed before `message` cuts it: a token cut in half would no longer be found.
        self.refused(a, what, &said(&message(&self.scrub(&a.body))), &hint)
    }
}

impl Actions {
    pub fn new(conf: &ActionsConf, token: Secret) -> Self {
        Self {
            gh: Api::new(&conf.name, &conf.api_url, token),
            repo: conf.repo.clone(),
            workflow: conf.workflow.clone(),
            git_ref: conf.git_ref.clone(),
        }
    }

    fn repo_url(&self) -> String {
        self.gh.repo_url(&self.repo)
    }

    fn workflow_url(&self) -> String {
        format!(
            "{}/actions/workflows/{}",
            self.repo_url(),
            encode(&self.workflow)
        )
    }

    /// Where the workflow's runs show on the web (api.github.com -> github.com, and
    /// Enterprise's HOST/api/v3 -> HOST).
    pub fn web_url(&self) -> String {
        format!(
            "{}/{}/actions/workflows/{}",
            web_host(&self.gh.api),
            self.repo,
            self.workflow
        )
    }

    /// The dispatch endpoint, for previews and progress lines.
    pub fn dispatch_url(&self) -> String {
        format!("{}/dispatches", self.workflow_url())
    }

    /// Builds an error that says what to do for a status, with the token cut out.
    fn refusal(&self, a: &Answer, what: &str) -> anyhow::Error {
        let after_limit = " (a run already dispatched goes on: look for it in GitHub before \
                           running this step again)";
        self.gh.refusal(a, what, after_limit, |code| match code {
            403 => Some(format!(
                "the token of service `{}` may not run workflows in {}: it needs the Actions \
                 write permission there",
                self.gh.name, self.repo
            )),
            404 => Some(format!(
                "GitHub has no workflow `{}` in `{}`, or the token cannot see that repo: check \
                 the service's `repo` and `workflow` (the file name in .github/workflows) and \
                 the token's access",
                self.workflow, self.repo
            )),
            422 => Some(format!(
                "GitHub will not dispatch `{}` on `{}`: the workflow needs a `workflow_dispatch` \
                 trigger on that branch that declares every input sent (check the service's \
                 `ref` and `tag_input`, and the step's `params`)",
                self.workflow, self.git_ref
            )),
            _ => None,
        })
    }

    async fn json<T: DeserializeOwned>(&self, url: &str, what: &str) -> Result<T> {
        let req = self.gh.request(reqwest::Method::GET, url)?;
        let a = self.gh.answer(req, what).await?;
        if !a.status.is_success() {
            return Err(self.refusal(&a, what));
        }
        serde_json::from_str(&a.body).map_err(|e| self.gh.not_json(what, &e))
    }

    /// Starts the workflow on the service's ref. Returns the moment just before asking: the
    /// run it makes is created after it (GitHub answers 204 without naming the run). A
    /// redirect (a renamed repo) is not followed: the dispatch is sent once, where it was meant.
    pub async fn dispatch(&self, inputs: &[(String, String)]) -> Result<DateTime<Utc>> {
        let what = format!("dispatching workflow `{}`", self.workflow);
        let inputs: serde_json::Map<String, serde_json::Value> = inputs
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        let body = serde_json::json!({ "ref": self.git_ref, "inputs": inputs });
        let at = Utc::now();
        let resp = self
            .gh
            .acting(reqwest::Method::POST, &self.dispatch_url())?
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| self.gh.unreachable(&what, &e))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(at);
        }
        if status.is_redirection() {
            let to = resp
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("nowhere named");
            bail!(self.gh.scrub(&format!(
                "{what}: GitHub answered HTTP {status}, sending it to {to} (was the repo renamed \
                 or moved?): not followed, so nothing was dispatched; point the service's `repo` \
                 (or `api_url`) at where it is now"
            )));
        }
        let headers = resp.headers().clone();
        let body = read_head(resp, ERROR_HEAD).await.unwrap_or_default();
        Err(self.refusal(
            &Answer {
                status,
                headers,
                body,
            },
            &what,
        ))
    }

    /// The workflow's last runs dispatched on the ref, newest first; only those created at or
    /// after `since` (less the clock skew) when it is given.
    pub async fn dispatched_runs(&self, since: Option<DateTime<Utc>>) -> Result<Vec<Run>> {
        let earliest = since.map(|t| t - chrono::Duration::seconds(CLOCK_SKEW_SECS));
        let created = earliest.map_or_else(String::new, |t| {
            let t = t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            format!("&created={}", encode(&format!(">={t}")))
        });
        let url = format!(
            "{}/runs?event=workflow_dispatch&branch={}{created}&per_page=20",
            self.workflow_url(),
            encode(&self.git_ref)
        );
        let runs: Runs = self.json(&url, "listing the workflow's runs").await?;
        let mut runs: Vec<Run> = runs
            .workflow_runs
            .into_iter()
            .filter(|r| earliest.is_none_or(|e| r.created_at >= e))
            .collect();
        runs.sort_by_key(|r| std::cmp::Reverse((r.created_at, r.id)));
        Ok(runs)
    }

    /// The newest run dispatched at or after `since` that may be the dispatch of `tag` (see
    /// [`Run::may_be`]) and is none of `before` (runs listed before the dispatch), if it shows
    /// yet (GitHub lists it a few seconds after the 204).
    pub async fn find_run(
        &self,
        since: DateTime<Utc>,
        tag: &str,
        before: &[u64],
    ) -> Result<Option<Run>> {
        let runs = self.dispatched_runs(Some(since)).await?;
        Ok(runs
            .into_iter()
            .find(|r| r.may_be(&self.git_ref, tag) && !before.contains(&r.id)))
    }

    /// The ref the workflow is dispatched on.
    pub fn git_ref(&self) -> &str {
        &self.git_ref
    }

    pub async fn run(&self, id: u64) -> Result<Run> {
        let url = format!("{}/actions/runs/{id}", self.repo_url());
        self.json(&url, &format!("reading run {id}")).await
    }

    pub async fn jobs(&self, id: u64) -> Result<Vec<Job>> {
        let url = format!("{}/actions/runs/{id}/jobs", self.repo_url());
        let jobs: Jobs = self
            .json(&url, &format!("reading the jobs of run {id}"))
            .await?;
        Ok(jobs.jobs)
    }
}

/// How many pages of issues are read at most (100 each): a label on more than that many
/// open issues is not a list anyone works through during a push.
const MAX_PAGES: usize = 20;

/// One open issue labelled as blocking the push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Blocker {
    pub number: u64,
    pub title: String,
    /// The issue's page on the web.
    pub url: String,
    /// `owner/name`.
    pub repo: String,
}

impl Blocker {
    /// As the pane, the checks and the log show it: `#N title (repo) link`.
    pub fn line(&self) -> String {
        format!(
            "#{} {} ({}) {}",
            self.number, self.title, self.repo, self.url
        )
    }
}

/// GitHub's rate limit is spent: said with when to come back, and that moment (unix seconds)
/// when GitHub named it, so a poller can wait until then.
#[derive(Debug)]
pub struct RateLimited {
    pub text: String,
    pub until: Option<i64>,
}

impl std::fmt::Display for RateLimited {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for RateLimited {}

/// When a spent rate limit ends, as unix seconds: `retry-after` (seconds from now) first,
/// else `x-ratelimit-reset`.
fn rate_limit_until(headers: &HeaderMap, now: i64) -> Option<i64> {
    let get = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<i64>().ok())
    };
    get("retry-after")
        .map(|s| now + s.max(0))
        .or_else(|| get("x-ratelimit-reset"))
}

/// Whether an answer says the rate limit is spent: a 429, or a 403 with no requests left or
/// a `retry-after` (GitHub's secondary limits).
fn rate_limited(status: StatusCode, headers: &HeaderMap) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS
        || (status == StatusCode::FORBIDDEN
            && (spent(headers) || headers.contains_key("retry-after")))
}

/// The issues API, for the blockers of a push.
pub struct Issues {
    gh: Api,
}

impl Issues {
    pub fn new(name: &str, api: &str, token: Secret) -> Self {
        Self {
            gh: Api::new(name, api, token),
        }
    }

    /// The first page of `repo`'s open issues labelled `label`.
    pub fn issues_url(api: &str, repo: &str, label: &str) -> String {
        pushduty_core::urls::github_issues_url(api, repo, label)
    }

    fn refusal(&self, a: &Answer, repo: &str) -> anyhow::Error {
        let what = format!("reading the blockers of {repo}");
        // GitHub's messages end with a full stop; ours follows.
        let said = said(message(&self.gh.scrub(&a.body)).trim_end_matches('.'));
        if rate_limited(a.status, &a.headers) {
            let status = a.status;
            return anyhow::Error::new(RateLimited {
                text: self.gh.scrub(&format!(
                    "{what}: HTTP {status}{said}. {}",
                    spent_hint(&a.headers)
                )),
                until: rate_limit_until(&a.headers, Utc::now().timestamp()),
            });
        }
        // Every spent limit was said above, with when it ends for a poller.
        let hint = self.gh.hint(a, "", |code| match code {
            403 => Some(format!(
                "the token of service `{}` may not read the issues of {repo}",
                self.gh.name
            )),
            404 => Some(format!(
                "GitHub has no repo `{repo}`, or the token of service `{}` cannot see it: check the repo's `github` in the runbook and the token's access",
                self.gh.name
            )),
            410 => Some(format!("issues are turned off in {repo}")),
            _ => None,
        });
        self.gh.refused(a, &what, &said, &hint)
    }

    /// The open issues of `repo` (`owner/name`) labelled `label`, oldest number first, every
    /// page followed. Pull requests come back from this endpoint too: they are left out.
    pub async fn open_blockers(&self, repo: &str, label: &str) -> Result<Vec<Blocker>> {
        let what = format!("reading the blockers of {repo}");
        let mut url = Self::issues_url(&self.gh.api, repo, label);
        let mut out = Vec::new();
        for _ in 0..MAX_PAGES {
            let req = self.gh.request(reqwest::Method::GET, &url)?;
            let a = self.gh.answer(req, &what).await?;
            if !a.status.is_success() {
                return Err(self.refusal(&a, repo));
            }
            out.extend(self.page(repo, &a.body)?);
            let next = a
                .headers
                .get_all(reqwest::header::LINK)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(super::sentry::parse_links)
                .find(|l| l.rel.as_deref() == Some("next"));
            let Some(next) = next else {
                out.sort_by_key(|b| b.number);
                return Ok(out);
            };
            // The token goes with every page: only to the API it was given for.
            if !next.url.starts_with(&format!("{}/", self.gh.api)) {
                return Err(anyhow!(self.gh.scrub(&format!(
 "{what}: GitHub's next page is at {}, outside {}: not followed, so the token is not sent there",
 next.url, self.gh.api
 ))));
            }
            url = next.url;
        }
        Err(anyhow!(
            "{what}: more than {} open issues are labelled `{label}`; is that the right label?",
            MAX_PAGES * 100
        ))
    }

    /// One page of issues, pull requests left out.
    fn page(&self, repo: &str, body: &str) -> Result<Vec<Blocker>> {
        let items: Vec<serde_json::Value> = serde_json::from_str(body).map_err(|e| {
 anyhow!(self.gh.scrub(&format!(
 "reading the blockers of {repo}: GitHub answered something that is not a list of issues ({e}); is {} the GitHub API (`api_url`)?",
 self.gh.api
 )))
 })?;
        let mut out = Vec::new();
        for item in items {
            let Some(fields) = item.as_object() else {
                continue;
            };
            if fields.contains_key("pull_request") {
                continue;
            }
            let (Some(number), Some(title), Some(url)) = (
                fields.get("number").and_then(serde_json::Value::as_u64),
                fields.get("title").and_then(serde_json::Value::as_str),
                fields.get("html_url").and_then(serde_json::Value::as_str),
            ) else {
                bail!(
                    "reading the blockers of {repo}: an issue without a number, title or html_url"
                );
            };
            out.push(Blocker {
                number,
                title: title.to_string(),
                url: url.to_string(),
                repo: repo.to_string(),
            });
        }
        Ok(out)
    }
}

/// One release, as the REST API gives it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Release {
    pub id: u64,
    pub tag_name: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub draft: bool,
    pub html_url: String,
    /// The branch or commit the tag is made at when the draft is published.
    #[serde(default)]
    pub target_commitish: Option<String>,
}

impl Release {
    pub fn body_text(&self) -> &str {
        self.body.as_deref().unwrap_or_default()
    }
}

/// A 422 whose errors say a release of the tag exists already (made since it was looked for).
fn already_exists(body: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["errors"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .any(|e| e["code"] == "already_exists")
}

/// A repo's releases: find the one of a tag, draft one, update it.
pub struct Releases {
    gh: Api,
    repo: String,
}

impl Releases {
    pub fn new(conf: &super::GithubConf, repo: &str, token: Secret) -> Self {
        Self {
            gh: Api::new(&conf.name, &conf.api_url, token),
            repo: repo.to_string(),
        }
    }

    /// The releases endpoint, for previews and progress lines.
    pub fn releases_url(&self) -> String {
        format!("{}/releases", self.gh.repo_url(&self.repo))
    }

    /// The repo's releases page on the web, drafts included for those who may write.
    pub fn releases_page(&self) -> String {
        format!("{}/{}/releases", web_host(&self.gh.api), self.repo)
    }

    /// The web form that drafts a release, with the tag, target and title filled in.
    pub fn new_release_page(&self, tag: &str, target: &str, title: &str) -> String {
        format!(
            "{}/{}/releases/new?tag={}&target={}&title={}",
            web_host(&self.gh.api),
            self.repo,
            encode(tag),
            encode(target),
            encode(title)
        )
    }

    fn refusal(&self, a: &Answer, what: &str) -> anyhow::Error {
        self.gh.refusal(a, what, "", |code| match code {
            403 => Some(format!(
                "the token of service `{}` may not write releases of {}: it needs the Contents write permission there",
                self.gh.name, self.repo
            )),
            404 => Some(format!(
                "GitHub has no repo `{}`, or the token cannot see it: check the repo's `github` and the token's access",
                self.repo
            )),
            422 if already_exists(&a.body) => Some(
                "a release of this tag exists already (made since it was looked for?): run the \
                 step again to find it"
                    .to_string(),
            ),
            422 => Some(
                "GitHub refused the release (is the tag pushed, and its name valid?)".to_string(),
            ),
            _ => None,
        })
    }

    /// Sends one request; `None` for a 404 when `missing_ok`.
    async fn send<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<serde_json::Value>,
        what: &str,
        missing_ok: bool,
    ) -> Result<Option<T>> {
        let mut req = self.gh.request(method, url)?;
        if let Some(b) = body {
            req = req
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(b.to_string());
        }
        let a = self.gh.answer(req, what).await?;
        if missing_ok && a.status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !a.status.is_success() {
            return Err(self.refusal(&a, what));
        }
        serde_json::from_str(&a.body)
            .map(Some)
            .map_err(|e| self.gh.not_json(what, &e))
    }

    /// The release of `tag`, draft or published. GitHub's by-tag lookup does not see drafts
    /// (a draft's tag is not attached yet), so the newest releases are listed as well.
    pub async fn by_tag(&self, tag: &str) -> Result<Option<Release>> {
        let what = format!("looking for the release of {tag} in {}", self.repo);
        let url = format!("{}/tags/{}", self.releases_url(), encode(tag));
        if let Some(r) = self
            .send::<Release>(reqwest::Method::GET, &url, None, &what, true)
            .await?
        {
            return Ok(Some(r));
        }
        let url = format!("{}?per_page=100", self.releases_url());
        let all: Vec<Release> = self
            .send(reqwest::Method::GET, &url, None, &what, false)
            .await?
            .unwrap_or_default();
        Ok(all.into_iter().find(|r| r.tag_name == tag))
    }

    /// Drafts a release of `tag` with the notes as its body, at `target` (a branch or a
    /// commit) when given, else at the repo's default branch.
    pub async fn create_draft(
        &self,
        tag: &str,
        target: Option<&str>,
        name: &str,
        body: &str,
    ) -> Result<Release> {
        let what = format!("drafting the release of {tag} in {}", self.repo);
        let mut payload =
            serde_json::json!({ "tag_name": tag, "name": name, "body": body, "draft": true });
        if let Some(t) = target {
            payload["target_commitish"] = serde_json::json!(t);
        }
        self.send(
            reqwest::Method::POST,
            &self.releases_url(),
            Some(payload),
            &what,
            false,
        )
        .await?
        .ok_or_else(|| anyhow!("{what}: no answer"))
    }

    /// Publishes draft `id`: GitHub then creates its tag at its target.
    pub async fn publish(&self, id: u64) -> Result<Release> {
        let what = format!("publishing release {id} in {}", self.repo);
        let url = format!("{}/{id}", self.releases_url());
        let payload = serde_json::json!({ "draft": false });
        self.send(reqwest::Method::PATCH, &url, Some(payload), &what, false)
            .await?
            .ok_or_else(|| anyhow!("{what}: no answer"))
    }

    /// The commit tag `tag` names on GitHub, if the repo has the tag (an annotated tag is
    /// followed to its commit).
    pub async fn tag_commit(&self, tag: &str) -> Result<Option<String>> {
        #[derive(Deserialize)]
        struct Object {
            sha: String,
            #[serde(rename = "type")]
            kind: String,
        }
        #[derive(Deserialize)]
        struct Pointer {
            object: Object,
        }
        let what = format!("looking for tag {tag} in {}", self.repo);
        let repo = self.gh.repo_url(&self.repo);
        let url = format!("{repo}/git/ref/tags/{}", encode(tag));
        let Some(r) = self
            .send::<Pointer>(reqwest::Method::GET, &url, None, &what, true)
            .await?
        else {
            return Ok(None);
        };
        if r.object.kind != "tag" {
            return Ok(Some(r.object.sha));
        }
        let url = format!("{repo}/git/tags/{}", r.object.sha);
        let annotated = self
            .send::<Pointer>(reqwest::Method::GET, &url, None, &what, false)
            .await?
            .ok_or_else(|| anyhow!("{what}: no answer"))?;
        Ok(Some(annotated.object.sha))
    }

    /// The commit a branch (or a commit) names on GitHub now.
    pub async fn commit_of(&self, reference: &str) -> Result<String> {
        #[derive(Deserialize)]
        struct Commit {
            sha: String,
        }
        let what = format!("reading {reference} of {}", self.repo);
        let url = format!(
            "{}/commits/{}",
            self.gh.repo_url(&self.repo),
            encode(reference)
        );
        let a = self
            .gh
            .answer(self.gh.request(reqwest::Method::GET, &url)?, &what)
            .await?;
        // GitHub says 422 for a name that is no branch, tag or commit there.
        if a.status == StatusCode::UNPROCESSABLE_ENTITY {
            bail!(
                "{what}: GitHub knows no branch or commit `{reference}` in {}: check the step's \
                 `target` (or the repo's `branch`)",
                self.repo
            );
        }
        if !a.status.is_success() {
            return Err(self.refusal(&a, &what));
        }
        serde_json::from_str::<Commit>(&a.body)
            .map(|c| c.sha)
            .map_err(|e| self.gh.not_json(&what, &e))
    }

    /// Replaces a release's name and body; a published release stays published.
    pub async fn update(&self, id: u64, name: &str, body: &str) -> Result<Release> {
        let what = format!("updating release {id} in {}", self.repo);
        let payload = serde_json::json!({ "name": name, "body": body });
        let url = format!("{}/{id}", self.releases_url());
        self.send(reqwest::Method::PATCH, &url, Some(payload), &what, false)
            .await?
            .ok_or_else(|| anyhow!("{what}: no answer"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_give_their_message() {
        assert_eq!(
            message(r#"{"message":"Unexpected inputs provided: [\"x\"]","documentation_url":"d"}"#),
            "Unexpected inputs provided: [\"x\"]"
        );
        assert_eq!(message("Bad gateway\nmore"), "Bad gateway");
    }

    #[test]
    fn a_spent_rate_limit_says_when_to_come_back() {
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-reset", "0".parse().unwrap());
        assert_eq!(rate_limit_wait(&h), "after 00:00:00 UTC");
        h.insert("retry-after", "30".parse().unwrap());
        assert_eq!(rate_limit_wait(&h), "after 30s");
        assert_eq!(rate_limit_wait(&HeaderMap::new()), "in a few minutes");
    }

    #[test]
    fn only_a_spent_limit_is_a_rate_limit() {
        let mut h = HeaderMap::new();
        assert!(!rate_limited(StatusCode::FORBIDDEN, &h));
        assert!(rate_limited(StatusCode::TOO_MANY_REQUESTS, &h));
        h.insert("x-ratelimit-remaining", "0".parse().unwrap());
        assert!(rate_limited(StatusCode::FORBIDDEN, &h));
        assert_eq!(rate_limit_until(&h, 100), None);
        h.insert("x-ratelimit-reset", "5000".parse().unwrap());
        assert_eq!(rate_limit_until(&h, 100), Some(5000));
        h.insert("retry-after", "60".parse().unwrap());
        assert_eq!(rate_limit_until(&h, 100), Some(160));
    }

    fn answer(code: u16, headers: &[(&'static str, &str)], body: &str) -> Answer {
        let mut h = HeaderMap::new();
        for (k, v) in headers {
            h.insert(*k, v.parse().unwrap());
        }
        Answer {
            status: StatusCode::from_u16(code).unwrap(),
            headers: h,
            body: body.to_string(),
        }
    }

    #[test]
    fn each_client_says_its_refusals_in_its_own_words() {
        let actions = Actions::new(
            &ActionsConf {
                name: "stage".into(),
                api_url: "http://x/".into(),
                repo: "o/r".into(),
                workflow: "deploy.yml".into(),
                git_ref: "main".into(),
                tag_input: "tag".into(),
                token: Ok(Secret::new("t0k")),
            },
            Secret::new("t0k"),
        );
        let said = |e: anyhow::Error| e.to_string();
        assert_eq!(
            said(actions.refusal(
                &answer(401, &[], r#"{"message":"Bad t0k"}"#),
                "reading run 7"
            )),
            "reading run 7: HTTP 401 Unauthorized: Bad [redacted]. GitHub refused the token of \
             service `stage`: check it is valid and not expired"
        );
        let spent = "reading run 7: HTTP 403 Forbidden. GitHub's rate limit for this token is \
                     spent: try again in a few minutes";
        assert_eq!(
            said(actions.refusal(
                &answer(403, &[("x-ratelimit-remaining", "0")], ""),
                "reading run 7"
            )),
            format!(
                "{spent} (a run already dispatched goes on: look for it in GitHub before \
                 running this step again)"
            )
        );
        assert_eq!(
            said(actions.refusal(&answer(403, &[], ""), "reading run 7")),
            "reading run 7: HTTP 403 Forbidden. the token of service `stage` may not run \
             workflows in o/r: it needs the Actions write permission there"
        );
        let failed = actions.refusal(&answer(502, &[], "Bad gateway"), "reading run 7");
        assert!(super::super::http::is_transient(&failed));
        assert_eq!(
            said(failed),
            "reading run 7: HTTP 502 Bad Gateway: Bad gateway. GitHub failed; try again, and \
             check githubstatus.com if it keeps failing"
        );
        assert_eq!(
            said(actions.refusal(&answer(418, &[], ""), "reading run 7")),
            "reading run 7: HTTP 418 I'm a teapot. GitHub answered something unexpected"
        );

        let conf = super::super::GithubConf {
            name: "gh".into(),
            api_url: "http://x".into(),
            token: Ok(Secret::new("t0k")),
        };
        let releases = Releases::new(&conf, "o/r", Secret::new("t0k"));
        assert_eq!(
            said(releases.refusal(
                &answer(403, &[("x-ratelimit-remaining", "0")], ""),
                "reading run 7"
            )),
            spent
        );
        assert_eq!(
            said(releases.refusal(&answer(422, &[], ""), "drafting")),
            "drafting: HTTP 422 Unprocessable Entity. GitHub refused the release (is the tag \
             pushed, and its name valid?)"
        );

        let issues = Issues::new("gh", "http://x", Secret::new("t0k"));
        let limited = issues.refusal(
            &answer(
                403,
                &[("retry-after", "30")],
                r#"{"message":"Secondary rate limit."}"#,
            ),
            "o/r",
        );
        let limited = limited.downcast_ref::<RateLimited>().unwrap();
        assert_eq!(
            limited.text,
            "reading the blockers of o/r: HTTP 403 Forbidden: Secondary rate limit. GitHub's \
             rate limit for this token is spent: try again after 30s"
        );
        assert_eq!(
            said(issues.refusal(&answer(404, &[], r#"{"message":"Not Found."}"#), "o/r")),
            "reading the blockers of o/r: HTTP 404 Not Found: Not Found. GitHub has no repo \
             `o/r`, or the token of service `gh` cannot see it: check the repo's `github` in the \
             runbook and the token's access"
        );
    }

    fn run(title: &str, branch: &str) -> Run {
        Run {
            id: 1,
            run_number: 40,
            status: "in_progress".into(),
            conclusion: None,
            created_at: DateTime::from_timestamp(0, 0).unwrap(),
            html_url: String::new(),
            name: Some("Deploy stage".into()),
            display_title: Some(title.into()),
            head_branch: Some(branch.into()),
        }
    }

    #[test]
    fn a_run_is_tied_to_a_tag_only_by_a_title_the_workflow_sets() {
        // No `run-name`: titled with the workflow's name, any dispatch on the ref may be it.
        let untitled = run("Deploy stage", "main");
        assert!(untitled.may_be("main", "2015.09.10"));
        assert!(untitled.may_be("refs/heads/main", "2015.09.10"));
        assert!(!untitled.titled_for("2015.09.10"));
        assert!(!untitled.may_be("release", "2015.09.10"));
        // A `run-name` with the tag: only the run of this tag.
        let titled = run("Deploy 2015.09.10 to stage", "main");
        assert!(titled.titled_for("2015.09.10"));
        assert!(titled.may_be("main", "2015.09.10"));
        assert!(!titled.may_be("main", "2015.09.1"));
        let revision = run("Deploy 2015.09.10-1", "main");
        assert!(!revision.may_be("main", "2015.09.10"));
        assert!(revision.may_be("main", "2015.09.10-1"));
        assert!(names("2015.09.10", "2015.09.10"));
        assert!(names("(2015.09.10)", "2015.09.10"));
        assert!(!names("v2015.09.10", "2015.09.10"));
        assert!(!names("anything", ""));
    }

    #[test]
    fn issue_pages_leave_out_pull_requests() {
        let c = Issues::new("gh", "http://x", Secret::new("t"));
        let page = r#"[
 {"number": 7, "title": "Crash", "html_url": "https://github.com/o/r/issues/7"},
 {"number": 8, "title": "A fix", "html_url": "https://github.com/o/r/pull/8",
 "pull_request": {"url": "u"}}
 ]"#;
        let got = c.page("o/r", page).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].number, 7);
        assert_eq!(
            Issues::issues_url("http://x/", "o/r", "needs fix"),
            "http://x/repos/o/r/issues?labels=needs%20fix&state=open&per_page=100"
        );
    }
}
