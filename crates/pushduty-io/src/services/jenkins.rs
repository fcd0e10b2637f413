//! Jenkins' remote-access API: trigger a parameterised job, follow its queue item to the
//! build, read the build and its console as it grows. API-token auth (HTTP Basic), so no CSRF
//! crumb is needed. Every failure says what to do, and never holds the token.

use anyhow::{Context, Result, anyhow, bail};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};

pub use super::http::is_transient;
use super::http::{API_ANSWER, CONSOLE, ERROR_HEAD, client, read_body, read_head};
use crate::secret::{Secret, scrub};

pub struct Jenkins {
    base: String,
    job: String,
    user: String,
    token: Secret,
}

/// What a trigger answered: the queue item to follow.
#[derive(Debug, Clone, PartialEq)]
pub struct Triggered {
    pub queue_url: String,
    /// 303: an identical item was already waiting; nothing new was queued.
    pub already_queued: bool,
}

/// A queue item's state.
#[derive(Debug, Clone, PartialEq)]
pub enum Queue {
    Waiting(String),
    Started {
        number: u64,
        url: String,
    },
    Cancelled,
    /// Jenkins forgets an item a few minutes after its build ended.
    Gone,
}

/// A build as the pane, `status` and the step show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Build {
    pub number: u64,
    /// SUCCESS, UNSTABLE, FAILURE, ABORTED, NOT_BUILT; `None` while building.
    pub result: Option<String>,
    pub building: bool,
    /// The value of the job's tag parameter.
    pub tag: Option<String>,
    pub url: String,
    /// RFC 3339.
    pub started: Option<String>,
    pub duration_ms: u64,
    pub estimated_ms: u64,
    /// The queue item it came from.
    pub queue_id: Option<u64>,
}

/// One read of the console.
#[derive(Debug, Clone, PartialEq)]
pub struct Console {
    pub text: String,
    /// Where the next read starts.
    pub next: u64,
    pub more: bool,
}

#[derive(Deserialize)]
struct RawQueue {
    #[serde(default)]
    cancelled: bool,
    #[serde(default)]
    why: Option<String>,
    #[serde(default)]
    executable: Option<RawExecutable>,
}

#[derive(Deserialize)]
struct RawExecutable {
    number: u64,
    url: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBuild {
    number: u64,
    #[serde(default)]
    result: Option<String>,
    #[serde(default)]
    building: bool,
    #[serde(default)]
    timestamp: Option<i64>,
    #[serde(default)]
    duration: u64,
    #[serde(default)]
    estimated_duration: i64,
    #[serde(default)]
    url: String,
    #[serde(default)]
    actions: Vec<serde_json::Value>,
    #[serde(default)]
    queue_id: Option<u64>,
}

#[derive(Deserialize)]
struct RawBuilds {
    #[serde(default)]
    builds: Vec<RawBuild>,
}

pub use pushduty_core::urls::{encode, jenkins_job_path as job_path};

impl Build {
    fn from_raw(r: RawBuild, tag_param: &str) -> Self {
        let tag = r
            .actions
            .iter()
            .filter_map(|a| a.get("parameters")?.as_array())
            .flatten()
            .find(|p| p["name"] == tag_param)
            .and_then(|p| p["value"].as_str().map(str::to_string));
        Build {
            number: r.number,
            result: r.result,
            building: r.building,
            tag,
            url: r.url,
            started: r
                .timestamp
                .and_then(chrono::DateTime::from_timestamp_millis)
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            duration_ms: r.duration,
            estimated_ms: u64::try_from(r.estimated_duration).unwrap_or(0),
            queue_id: r.queue_id,
        }
    }
}

impl Jenkins {
    pub fn new(base: &str, job: &str, user: String, token: Secret) -> Self {
        Self {
            base: base.trim_end_matches('/').to_string(),
            job: job.to_string(),
            user,
            token,
        }
    }

    pub fn job_url(&self) -> String {
        format!("{}/{}", self.base, job_path(&self.job))
    }

    /// Builds an error that says what to do for a status, with the token cut out.
    fn refusal(&self, status: StatusCode, what: &str, body: &str) -> anyhow::Error {
        let hint = match status.as_u16() {
            401 | 403 => format!(
                "Jenkins refused the credentials of `{}`: check the user and the API token in your config",
                self.user
            ),
            404 => format!(
                "Jenkins has no job `{}` at {}: check the runbook's `job` (folders as `folder/job`) and `url`",
                self.job,
                self.job_url()
            ),
            409 => format!(
                "job `{}` cannot be built now (disabled, or not buildable): ask ops to enable it",
                self.job
            ),
            400 => format!(
                "Jenkins rejected the parameters: is job `{}` parameterized with them?",
                self.job
            ),
            s if s >= 500 => {
                "Jenkins failed; try again, and ask ops if it keeps failing".to_string()
            }
            _ => "Jenkins answered something unexpected".to_string(),
        };
        let body = body.lines().next().unwrap_or_default().trim();
        let body = if body.is_empty() {
            String::new()
        } else {
            format!(": {}", body.chars().take(200).collect::<String>())
        };
        super::http::answered(
            status,
            self.scrub(&format!("{what}: HTTP {status}{body}. {hint}")),
        )
    }

    fn scrub(&self, text: &str) -> String {
        scrub(text, &[&self.token])
    }

    /// A transport failure (no connection, a timeout), said plainly.
    fn unreachable(&self, what: &str, e: &reqwest::Error) -> anyhow::Error {
        super::http::unanswered(what, "Jenkins", &self.base, e, |t| self.scrub(t))
    }

    async fn get(&self, url: &str, what: &str) -> Result<reqwest::Response> {
        client()?
            .get(url)
            .basic_auth(&self.user, Some(self.token.expose()))
            .send()
            .await
            .map_err(|e| self.unreachable(what, &e))
    }

    async fn json<T: for<'de> Deserialize<'de>>(&self, url: &str, what: &str) -> Result<T> {
        let resp = self.get(url, what).await?;
        let status = resp.status();
        let body = read_body(resp, API_ANSWER, "Jenkins", what, |e| {
            self.unreachable(what, e)
        })
        .await?;
        if !status.is_success() {
            return Err(self.refusal(status, what, &body));
        }
        serde_json::from_str(&body).map_err(|e| {
            anyhow!(self.scrub(&format!(
                "{what}: Jenkins answered something that is not the expected JSON ({e}); is {} a Jenkins server?",
                self.base
            )))
        })
    }

    /// `buildWithParameters`: a new queue item (201), or the identical one already waiting
    /// (303), to follow either way.
    pub async fn trigger(&self, params: &[(String, String)]) -> Result<Triggered> {
        let what = format!("triggering `{}`", self.job);
        let resp = client()?
            .post(format!("{}/buildWithParameters", self.job_url()))
            .basic_auth(&self.user, Some(self.token.expose()))
            .form(params)
            .send()
            .await
            .map_err(|e| self.unreachable(&what, &e))?;
        let status = resp.status();
        let location = resp
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        match (status.as_u16(), location) {
            (201 | 303, Some(l)) => Ok(Triggered {
                queue_url: l.trim_end_matches('/').to_string(),
                already_queued: status == StatusCode::SEE_OTHER,
            }),
            (201 | 303, None) => {
                bail!("{what}: Jenkins answered {status} without a queue item (no Location header)")
            }
            _ => {
                let body = read_head(resp, ERROR_HEAD).await.unwrap_or_default();
                Err(self.refusal(status, &what, &body))
            }
        }
    }

    pub async fn queue(&self, queue_url: &str) -> Result<Queue> {
        let what = "reading the queue item";
        let url = format!("{queue_url}/api/json");
        let resp = self.get(&url, what).await?;
        if resp.status() == StatusCode::NOT_FOUND {
            return Ok(Queue::Gone);
        }
        let status = resp.status();
        let body = read_body(resp, API_ANSWER, "Jenkins", what, |e| {
            self.unreachable(what, e)
        })
        .await?;
        if !status.is_success() {
            return Err(self.refusal(status, what, &body));
        }
        let raw: RawQueue = serde_json::from_str(&body)
            .map_err(|e| anyhow!("{what}: not the expected JSON ({e})"))?;
        Ok(match (raw.cancelled, raw.executable) {
            (true, _) => Queue::Cancelled,
            (false, Some(x)) => Queue::Started {
                number: x.number,
                url: x.url,
            },
            (false, None) => Queue::Waiting(raw.why.unwrap_or_else(|| "waiting".into())),
        })
    }

    pub async fn build(&self, number: u64, tag_param: &str) -> Result<Build> {
        let raw: RawBuild = self
            .json(
                &format!("{}/{number}/api/json", self.job_url()),
                &format!("reading build #{number}"),
            )
            .await?;
        Ok(Build::from_raw(raw, tag_param))
    }

    /// The job's builds, newest first.
    pub async fn builds(&self, limit: usize, tag_param: &str) -> Result<Vec<Build>> {
        let url = format!(
            "{}/api/json?tree=builds[number,result,building,timestamp,duration,estimatedDuration,url,queueId,actions[parameters[name,value]]]{{0,{limit}}}",
            self.job_url()
        );
        let raw: RawBuilds = self.json(&url, "reading the job's builds").await?;
        Ok(raw
            .builds
            .into_iter()
            .map(|b| Build::from_raw(b, tag_param))
            .collect())
    }

    /// The console from byte `start`, with where to go on and whether more will come.
    pub async fn console(&self, number: u64, start: u64) -> Result<Console> {
        let what = format!("reading the console of build #{number}");
        let url = format!(
            "{}/{number}/logText/progressiveText?start={start}",
            self.job_url()
        );
        let resp = self.get(&url, &what).await?;
        let status = resp.status();
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let next = header("X-Text-Size").and_then(|v| v.parse().ok());
        let more = header("X-More-Data").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let text = read_body(resp, CONSOLE, "Jenkins", &what, |e| {
            self.unreachable(&what, e)
        })
        .await?;
        if !status.is_success() {
            return Err(self.refusal(status, &what, &text));
        }
        let next = next.with_context(|| format!("{what}: Jenkins sent no X-Text-Size header"))?;
        Ok(Console { text, next, more })
    }
}

/// What `status --json` and the Jenkins pane show of one job: its last builds, newest first.
#[derive(Debug, Clone, Serialize)]
pub struct JobSnapshot {
    pub job: String,
    pub builds: Vec<Build>,
}

impl JobSnapshot {
    /// Reads the job's last `limit` builds.
    pub async fn read(conf: &super::JenkinsConf, limit: usize) -> Result<JobSnapshot> {
        let client = conf.client().map_err(|e| anyhow!("not configured: {e}"))?;
        Ok(JobSnapshot {
            job: conf.job.clone(),
            builds: client.builds(limit, &conf.tag_param).await?,
        })
    }

    /// Whether a line of [`Self::lines`] is a running build's.
    pub fn is_building_line(line: &str) -> bool {
        line.starts_with('#') && line.contains(" building [")
    }

    /// The pane's lines: the running build with its progress, then the last ones.
    pub fn lines(&self, now_ms: i64) -> Vec<String> {
        if self.builds.is_empty() {
            return vec![format!("{}: no builds yet", self.job)];
        }
        self.builds
            .iter()
            .map(|b| {
                let tag = b.tag.as_deref().unwrap_or("-");
                if b.building {
                    let started = b
                        .started
                        .as_deref()
                        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
                        .map_or(now_ms, |t| t.timestamp_millis());
                    let elapsed = u64::try_from(now_ms - started).unwrap_or(0);
                    format!(
                        "#{} {tag} building {} {}/{}",
                        b.number,
                        bar(elapsed, b.estimated_ms),
                        secs(elapsed),
                        secs(b.estimated_ms)
                    )
                } else {
                    format!(
                        "#{} {tag} {} {} ({})",
                        b.number,
                        b.result.as_deref().unwrap_or("?"),
                        b.started.as_deref().unwrap_or(""),
                        secs(b.duration_ms)
                    )
                }
            })
            .collect()
    }
}

fn secs(ms: u64) -> String {
    let s = ms / 1000;
    format!("{}:{:02}", s / 60, s % 60)
}

/// A ten-cell progress bar from elapsed over estimated time.
fn bar(elapsed: u64, estimated: u64) -> String {
    let filled = (elapsed.min(estimated) * 10)
        .checked_div(estimated)
        .map_or(0, |f| usize::try_from(f).unwrap_or(10));
    format!("[{}{}]", "#".repeat(filled), ".".repeat(10 - filled))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_and_odd_names_make_safe_paths() {
        assert_eq!(
            job_path("deploy/addons stage"),
            "job/deploy/job/addons%20stage"
        );
        assert_eq!(job_path("a/../b"), "job/a/job/%2E%2E/job/b");
        assert_eq!(job_path("/x//y/"), "job/x/job/y");
    }
}
