//! Jenkins' remote-access API: trigger a parameterised job, follow its queue item to the
//! build, read the build and its console as it grows, and find the queue items and builds of
//! given parameters (to look before triggering). API-token auth (HTTP Basic), so no CSRF
//! crumb is needed. Every failure says what to do, and never holds the token.

use anyhow::{Context, Result, anyhow, bail};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};

pub use super::http::is_transient;
use super::http::{API_ANSWER, CONSOLE, ERROR_HEAD, acting_client, client, read_body, read_head};
use crate::secret::{Secret, scrub};

pub struct Jenkins {
    base: String,
    job: String,
    user: String,
    token: Secret,
}

/// What a trigger answered.
#[derive(Debug, Clone, PartialEq)]
pub enum Triggered {
    /// The queue item to follow: a new one, or (current cores, for an identical request) the
    /// one already waiting; `redirected` when a 3xx named it.
    Queued { queue_url: String, redirected: bool },
    /// A 3xx that names no queue item: Jenkins took the request (older cores send the job
    /// page when an identical item is waiting), so the item is to be found, not asked again.
    Taken { status: StatusCode },
}

/// An item waiting in the queue for this job.
#[derive(Debug, Clone, PartialEq)]
pub struct Waiting {
    pub id: u64,
    /// Where to follow it: `<base>/queue/item/<id>`, as a trigger's `Location` names it.
    pub queue_url: String,
    pub params: Vec<(String, String)>,
}

/// A build number Jenkins does not have: not started yet, or deleted (or a Jenkins that lost
/// its builds). Not a missing job.
#[derive(Debug)]
pub struct NoSuchBuild(pub String);

impl std::fmt::Display for NoSuchBuild {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NoSuchBuild {}

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
    /// Every parameter it was started with, as Jenkins kept them (the job's own only).
    #[serde(skip)]
    pub params: Vec<(String, String)>,
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

#[derive(Deserialize)]
struct RawQueueList {
    #[serde(default)]
    items: Vec<RawQueueItem>,
}

#[derive(Deserialize)]
struct RawQueueItem {
    id: u64,
    #[serde(default)]
    task: Option<RawTask>,
    #[serde(default)]
    actions: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawTask {
    #[serde(default)]
    url: String,
}

/// The parameters in a build's or a queue item's `actions` (Jenkins' `ParametersAction`),
/// each value as text (a boolean parameter's `true` as "true").
fn parameters(actions: &[serde_json::Value]) -> Vec<(String, String)> {
    actions
        .iter()
        .filter_map(|a| a.get("parameters")?.as_array())
        .flatten()
        .filter_map(|p| {
            let name = p["name"].as_str()?;
            let value = match &p["value"] {
                serde_json::Value::String(v) => v.clone(),
                serde_json::Value::Null => return None,
                other => other.to_string(),
            };
            Some((name.to_string(), value))
        })
        .collect()
}

/// Whether a build or queue item with `params` is the one `sent` would start: it has the tag
/// parameter, and every parameter sent that it has holds the value sent. Parameters the job
/// does not define are not kept by Jenkins, so they cannot be compared.
pub fn carries(params: &[(String, String)], sent: &[(String, String)], tag_param: &str) -> bool {
    let value = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v);
    value(tag_param).is_some()
        && sent
            .iter()
            .all(|(k, v)| value(k).is_none_or(|have| have == v))
}

pub use pushduty_core::urls::{encode, jenkins_job_path as job_path};

impl Build {
    fn from_raw(r: RawBuild, tag_param: &str) -> Self {
        let params = parameters(&r.actions);
        let tag = params
            .iter()
            .find(|(k, _)| k == tag_param)
            .map(|(_, v)| v.clone());
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
            params,
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

    /// Builds an error that says what to do for a status, with the token cut out. `build` is
    /// the build number asked about, if any: a 404 then means that build, not the job.
    fn refusal(
        &self,
        status: StatusCode,
        what: &str,
        body: &str,
        retry_after: Option<&str>,
        build: Option<u64>,
    ) -> anyhow::Error {
        let hint = match (status.as_u16(), build) {
            (401 | 403, _) => format!(
                "Jenkins refused the credentials of `{}`: check the user and the API token in your config",
                self.user
            ),
            (404, Some(n)) => format!(
                "Jenkins has no build #{n} of `{}` (not started yet, or deleted): look at the job's builds at {}",
                self.job,
                self.job_url()
            ),
            (404, None) => format!(
                "Jenkins has no job `{}` at {}: check the runbook's `job` (folders as `folder/job`) and `url`",
                self.job,
                self.job_url()
            ),
            (429, _) => format!(
                "Jenkins (or a proxy before it) is limiting pushduty's requests: wait {}, then try again (a refused request changed nothing)",
                retry_after.map_or_else(
                    || "a minute".to_string(),
                    |v| match v.trim().parse::<u64>() {
                        Ok(secs) => format!("{secs}s, as its Retry-After says"),
                        Err(_) => format!("until {v}, as its Retry-After says"),
                    }
                )
            ),
            (409, _) => format!(
                "job `{}` cannot be built now (disabled, or not buildable): ask ops to enable it",
                self.job
            ),
            (400, _) => format!(
                "Jenkins rejected the parameters: is job `{}` parameterized with them?",
                self.job
            ),
            (s, _) if s >= 500 => {
                "Jenkins failed; try again, and ask ops if it keeps failing".to_string()
            }
            _ => "Jenkins answered something unexpected".to_string(),
        };
        // Scrubbed before it is cut: a token cut in half would no longer be found.
        let body = self.scrub(body.lines().next().unwrap_or_default().trim());
        let body = if body.is_empty() {
            String::new()
        } else {
            format!(": {}", body.chars().take(200).collect::<String>())
        };
        let text = self.scrub(&format!("{what}: HTTP {status}{body}. {hint}"));
        if status == StatusCode::NOT_FOUND && build.is_some() {
            return anyhow::Error::new(NoSuchBuild(text));
        }
        super::http::answered(status, text)
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

    /// The JSON at `url`; `build` is the build number it is about, if any.
    async fn json<T: for<'de> Deserialize<'de>>(
        &self,
        url: &str,
        what: &str,
        build: Option<u64>,
    ) -> Result<T> {
        let resp = self.get(url, what).await?;
        let status = resp.status();
        let retry_after = retry_after(&resp);
        let body = read_body(resp, API_ANSWER, "Jenkins", what, |e| {
            self.unreachable(what, e)
        })
        .await?;
        if !status.is_success() {
            return Err(self.refusal(status, what, &body, retry_after.as_deref(), build));
        }
        serde_json::from_str(&body).map_err(|e| {
            anyhow!(self.scrub(&format!(
                "{what}: Jenkins answered something that is not the expected JSON ({e}); is {} a Jenkins server?",
                self.base
            )))
        })
    }

    /// `buildWithParameters`: a queue item to follow (201: a new one, or the identical one
    /// already waiting), or a redirect that names none. Redirects are not followed: a trigger
    /// is sent once, to where it was meant.
    pub async fn trigger(&self, params: &[(String, String)]) -> Result<Triggered> {
        let what = format!("triggering `{}`", self.job);
        let resp = acting_client()?
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
        let queue_item = location.filter(|l| l.contains("/queue/item/"));
        match (status.as_u16(), queue_item) {
            (201 | 300..=399, Some(l)) => Ok(Triggered::Queued {
                queue_url: l.trim_end_matches('/').to_string(),
                redirected: status.is_redirection(),
            }),
            (300..=399, None) => Ok(Triggered::Taken { status }),
            (201, None) => {
                bail!(
                    "{what}: Jenkins answered {status} without a queue item (no Location header); \
                     look for the build in Jenkins before running this step again"
                )
            }
            _ => {
                let retry_after = retry_after(&resp);
                let body = read_head(resp, ERROR_HEAD).await.unwrap_or_default();
                Err(self.refusal(status, &what, &body, retry_after.as_deref(), None))
            }
        }
    }

    /// This job's items waiting in the queue, with their parameters.
    pub async fn waiting(&self) -> Result<Vec<Waiting>> {
        let url = format!(
            "{}/queue/api/json?tree=items[id,task[url],actions[parameters[name,value]]]",
            self.base
        );
        let raw: RawQueueList = self.json(&url, "reading the queue", None).await?;
        // Jenkins names the task by its own root URL, which may not be the one configured
        // here (a proxy, a tunnel): the job's path is what identifies it.
        let ours = format!("/{}", job_path(&self.job));
        Ok(raw
            .items
            .into_iter()
            .filter(|i| {
                i.task
                    .as_ref()
                    .is_some_and(|t| t.url.trim_end_matches('/').ends_with(&ours))
            })
            .map(|i| Waiting {
                id: i.id,
                queue_url: format!("{}/queue/item/{}", self.base, i.id),
                params: parameters(&i.actions),
            })
            .collect())
    }

    pub async fn queue(&self, queue_url: &str) -> Result<Queue> {
        let what = "reading the queue item";
        let url = format!("{queue_url}/api/json");
        let resp = self.get(&url, what).await?;
        if resp.status() == StatusCode::NOT_FOUND {
            return Ok(Queue::Gone);
        }
        let status = resp.status();
        let retry_after = retry_after(&resp);
        let body = read_body(resp, API_ANSWER, "Jenkins", what, |e| {
            self.unreachable(what, e)
        })
        .await?;
        if !status.is_success() {
            return Err(self.refusal(status, what, &body, retry_after.as_deref(), None));
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
                Some(number),
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
        let raw: RawBuilds = self.json(&url, "reading the job's builds", None).await?;
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
        let retry_after = header("Retry-After");
        let text = read_body(resp, CONSOLE, "Jenkins", &what, |e| {
            self.unreachable(&what, e)
        })
        .await?;
        if !status.is_success() {
            return Err(self.refusal(status, &what, &text, retry_after.as_deref(), Some(number)));
        }
        let next = next.with_context(|| format!("{what}: Jenkins sent no X-Text-Size header"))?;
        Ok(Console { text, next, more })
    }
}

/// An answer's `Retry-After` (seconds, or an HTTP date), read before its body.
fn retry_after(resp: &reqwest::Response) -> Option<String> {
    resp.headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
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
                // Its page last: `o` on the pane opens it, the screen links it.
                let page = if b.url.is_empty() {
                    String::new()
                } else {
                    format!(" {}", b.url)
                };
                let tag = b.tag.as_deref().unwrap_or("-");
                if b.building {
                    let started = b
                        .started
                        .as_deref()
                        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
                        .map_or(now_ms, |t| t.timestamp_millis());
                    let elapsed = u64::try_from(now_ms - started).unwrap_or(0);
                    format!(
                        "#{} {tag} building {} {}/{}{page}",
                        b.number,
                        bar(elapsed, b.estimated_ms),
                        secs(elapsed),
                        secs(b.estimated_ms)
                    )
                } else {
                    format!(
                        "#{} {tag} {} {} ({}){page}",
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

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_build_is_this_pushs_when_it_carries_the_tag_and_every_value_it_kept() {
        let sent = pairs(&[("TAG", "2015.09.10"), ("ENV", "stage"), ("NOTE", "x")]);
        // NOTE is not a parameter of the job: Jenkins dropped it.
        let kept = pairs(&[("TAG", "2015.09.10"), ("ENV", "stage")]);
        assert!(carries(&kept, &sent, "TAG"));
        let other_tag = pairs(&[("TAG", "2015.09.10-1"), ("ENV", "stage")]);
        assert!(!carries(&other_tag, &sent, "TAG"));
        let other_env = pairs(&[("TAG", "2015.09.10"), ("ENV", "prod")]);
        assert!(!carries(&other_env, &sent, "TAG"));
        // A build without the tag parameter cannot be told apart: not this push's.
        assert!(!carries(&pairs(&[("ENV", "stage")]), &sent, "TAG"));
        let actions = serde_json::json!([
            {"_class": "hudson.model.CauseAction"},
            {"parameters": [
                {"name": "TAG", "value": "2015.09.10"},
                {"name": "DRY_RUN", "value": false},
                {"name": "SECRET"},
            ]},
        ]);
        assert_eq!(
            parameters(actions.as_array().unwrap()),
            pairs(&[("TAG", "2015.09.10"), ("DRY_RUN", "false")])
        );
    }

    #[test]
    fn a_token_at_the_cut_of_an_echoed_body_is_scrubbed_whole() {
        let token = "tok-0123456789abcdef";
        let j = Jenkins::new(
            "http://ci/",
            "deploy/stage",
            "andym".into(),
            Secret::new(token),
        );
        // The token straddles the 200th character: cut first, its first half would stay.
        let body = format!("{}{token} more", "x".repeat(190));
        let said = j
            .refusal(StatusCode::BAD_REQUEST, "triggering", &body, None, None)
            .to_string();
        assert!(!said.contains(&token[..10]), "{said}");
        assert!(said.contains("[redacted]"), "{said}");
    }

    #[test]
    fn a_missing_build_and_a_rate_limit_are_said_for_what_they_are() {
        let j = Jenkins::new(
            "http://ci/",
            "deploy/stage",
            "andym".into(),
            Secret::new("t0k"),
        );
        let missing = j.refusal(StatusCode::NOT_FOUND, "reading build #7", "", None, Some(7));
        assert!(missing.downcast_ref::<NoSuchBuild>().is_some());
        assert_eq!(
            missing.to_string(),
            "reading build #7: HTTP 404 Not Found. Jenkins has no build #7 of `deploy/stage` \
             (not started yet, or deleted): look at the job's builds at http://ci/job/deploy/job/stage"
        );
        let no_job = j.refusal(StatusCode::NOT_FOUND, "triggering", "", None, None);
        assert!(no_job.downcast_ref::<NoSuchBuild>().is_none());
        assert!(
            no_job
                .to_string()
                .contains("Jenkins has no job `deploy/stage`")
        );

        let limited = |after| {
            j.refusal(
                StatusCode::TOO_MANY_REQUESTS,
                "triggering",
                "slow down t0k",
                after,
                None,
            )
            .to_string()
        };
        assert_eq!(
            limited(Some("120")),
            "triggering: HTTP 429 Too Many Requests: slow down [redacted]. Jenkins (or a proxy \
             before it) is limiting pushduty's requests: wait 120s, as its Retry-After says, then \
             try again (a refused request changed nothing)"
        );
        assert!(
            limited(Some("Wed, 21 Oct 2015 07:28:00 GMT"))
                .contains("wait until Wed, 21 Oct 2015 07:28:00 GMT, as its Retry-After says")
        );
        assert!(limited(None).contains("wait a minute, then try again"));
    }
}
