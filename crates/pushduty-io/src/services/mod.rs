//! The services a push talks to, resolved once: the runbook's `services.*` with the operator's
//! config on top (user names, URL overrides, which variable or keyring entry holds which
//! secret), secrets read at that moment and kept redacted. The steps, the panes and `status`
//! all use this one set.

pub mod etherpad;
pub mod github;
pub mod graphite;
pub mod http;
pub mod jenkins;
pub mod matrix;
pub mod metrics;
pub mod prometheus;
pub mod sentry;
pub mod slack;
pub mod smtp;

use indexmap::IndexMap;

use crate::config::Config;
use crate::runbook::model::{MetricSeries, Runbook, SecretRef, Service};
use crate::secret::{self, Secret};
pub use smtp::SmtpConf;

/// A Jenkins job as this operator reaches it.
#[derive(Debug, Clone)]
pub struct JenkinsConf {
    pub name: String,
    pub url: String,
    /// `folder/job` path.
    pub job: String,
    pub tag_param: String,
    pub user: Option<String>,
    /// The API token, or why there is none (said when it is needed, never before).
    pub token: Result<Secret, String>,
}

impl JenkinsConf {
    /// A client, or what to configure first.
    pub fn client(&self) -> Result<jenkins::Jenkins, String> {
        let user = self.user.clone().ok_or_else(|| {
            format!(
                "service `{}` has no user: set `services.{}.user` in your config",
                self.name, self.name
            )
        })?;
        let token = self.token.clone().map_err(|e| {
            format!(
                "service `{}` has no API token: {e} (name it with `services.{}.token = {{ env = \"NAME\" }}` or `{{ keyring = \"service/user\" }}`)",
                self.name, self.name
            )
        })?;
        Ok(jenkins::Jenkins::new(&self.url, &self.job, user, token))
    }
}

/// A GitHub Actions workflow that deploys, as this operator reaches it.
#[derive(Debug, Clone)]
pub struct ActionsConf {
    pub name: String,
    pub api_url: String,
    /// `owner/name`.
    pub repo: String,
    pub workflow: String,
    pub git_ref: String,
    pub tag_input: String,
    pub token: Result<Secret, String>,
}

impl ActionsConf {
    /// A client, or what to configure first.
    pub fn client(&self) -> Result<github::Actions, String> {
        let token = self.token.clone().map_err(|e| {
            format!(
                "service `{}` has no GitHub token: {e} (name it with `services.{}.token = {{ env = \"NAME\" }}` or `{{ keyring = \"service/user\" }}`; it needs the Actions write permission on {})",
                self.name, self.name, self.repo
            )
        })?;
        Ok(github::Actions::new(self, token))
    }
}

/// The GitHub API (issues) as this operator reaches it.
#[derive(Debug, Clone)]
pub struct GithubConf {
    pub name: String,
    pub api_url: String,
    pub token: Result<Secret, String>,
}

impl GithubConf {
    /// A client, or what to configure first.
    pub fn client(&self) -> Result<github::Issues, String> {
        let token = self.token.clone().map_err(|e| {
            format!(
                "service `{}` has no GitHub token: {e} (name it with `services.{}.token = {{ env = \"NAME\" }}` or `{{ keyring = \"service/user\" }}`; reading issues needs only read access)",
                self.name, self.name
            )
        })?;
        Ok(github::Issues::new(&self.name, &self.api_url, token))
    }

    /// A releases client for `owner/name`, or what to configure first.
    pub fn releases(&self, repo: &str) -> Result<github::Releases, String> {
        let token = self.token.clone().map_err(|e| {
            format!(
                "service `{}` has no GitHub token: {e} (name it with `services.{}.token = {{ env = \"NAME\" }}` or `{{ keyring = \"service/user\" }}`; it needs the Contents write permission on {repo})",
                self.name, self.name
            )
        })?;
        Ok(github::Releases::new(self, repo, token))
    }
}

/// A Sentry project as this operator reaches it.
#[derive(Debug, Clone)]
pub struct SentryConf {
    pub name: String,
    pub url: String,
    pub org: String,
    pub project: String,
    pub environment: Option<String>,
    pub token: Result<Secret, String>,
}

impl SentryConf {
    /// A client, or what to configure first.
    pub fn client(&self) -> Result<sentry::Sentry, String> {
        let token = self.token.clone().map_err(|e| {
            format!(
                "service `{}` has no Sentry token: {e} (name it with `services.{}.token = {{ env = \"NAME\" }}` or `{{ keyring = \"service/user\" }}`; it needs the event:read and project:read scopes)",
                self.name, self.name
            )
        })?;
        Ok(sentry::Sentry::new(
            &self.url,
            &self.org,
            &self.project,
            self.environment.clone(),
            token,
        )
        .named(&self.name))
    }
}

/// A metrics backend (Graphite or Prometheus) and the series the push watches on it.
#[derive(Debug, Clone)]
pub struct MetricsConf {
    pub name: String,
    /// `graphite` or `prometheus`.
    pub kind: &'static str,
    pub url: String,
    /// Prometheus' `query_range` step, in seconds.
    pub step_seconds: u64,
    pub series: Vec<MetricSeries>,
}

impl MetricsConf {
    /// One series' points from `from` to `until` (unix seconds); gaps stay `None`.
    pub async fn range(
        &self,
        query: &str,
        from: i64,
        until: i64,
    ) -> anyhow::Result<Vec<metrics::Point>> {
        if self.kind == "prometheus" {
            prometheus::Prometheus::new(&self.url, self.step_seconds)
                .range(query, from, until)
                .await
        } else {
            graphite::Graphite::new(&self.url)
                .range(query, from, until)
                .await
        }
    }
}

/// An Etherpad as this operator reaches it.
#[derive(Debug, Clone)]
pub struct EtherpadConf {
    pub name: String,
    pub url: String,
    pub api_version: String,
    /// The pad id template (the next push's pad).
    pub pad: String,
    pub key: Result<Secret, String>,
}

impl EtherpadConf {
    /// Where people read a pad: known without the API key.
    pub fn pad_url(&self, pad: &str) -> String {
        format!(
            "{}/p/{}",
            self.url.trim_end_matches('/'),
            pushduty_core::urls::encode(pad)
        )
    }

    /// A client, or what to configure first.
    pub fn client(&self) -> Result<etherpad::Etherpad, String> {
        let key = self.key.clone().map_err(|e| {
            format!(
                "service `{}` has no Etherpad API key: {e} (name it with `services.{}.key = {{ env = \"NAME\" }}` or `{{ keyring = \"service/user\" }}`; it is the server's APIKEY.txt)",
                self.name, self.name
            )
        })?;
        Ok(etherpad::Etherpad::new(self, key))
    }
}

/// Notes kept as Markdown files.
#[derive(Debug, Clone)]
pub struct MarkdownNotesConf {
    pub name: String,
    /// The file path template.
    pub path: String,
    /// The runbook repo whose checkout holds the files; `None`: the runbook's folder.
    pub repo: Option<String>,
}

/// A Matrix room as this operator reaches it.
#[derive(Debug, Clone)]
pub struct MatrixConf {
    pub name: String,
    pub url: String,
    /// `!opaque:server`.
    pub room: String,
    pub token: Result<Secret, String>,
}

impl MatrixConf {
    /// A client, or what to configure first.
    pub fn client(&self) -> Result<matrix::Matrix, String> {
        let token = self.token.clone().map_err(|e| {
            format!(
                "service `{}` has no Matrix access token: {e} (name it with `services.{}.token = {{ env = \"NAME\" }}` or `{{ keyring = \"service/user\" }}`; it is the posting account's, and must stay the same between a run and its resumption)",
                self.name, self.name
            )
        })?;
        Ok(matrix::Matrix::new(self, token))
    }
}

/// A Slack channel as this operator reaches it: a bot token, else an incoming webhook.
#[derive(Debug, Clone)]
pub struct SlackConf {
    pub name: String,
    pub api_url: String,
    pub channel: Option<String>,
    /// `None` when no token is named at all (the webhook is used).
    pub token: Option<Result<Secret, String>>,
    pub webhook: Option<Result<Secret, String>>,
}

impl SlackConf {
    /// A client, or what to configure first.
    pub fn client(&self) -> Result<slack::Slack, String> {
        let how = |what: &str, field: &str, e: &str| {
            format!(
                "service `{}` has no Slack {what}: {e} (name it with `services.{}.{field} = {{ env = \"NAME\" }}` or `{{ keyring = \"service/user\" }}`)",
                self.name, self.name
            )
        };
        match (&self.token, &self.webhook, &self.channel) {
            (Some(Ok(token)), _, Some(channel)) => {
                Ok(slack::Slack::api(self, channel, token.clone()))
            }
            (Some(Ok(_)), _, None) => Err(format!(
                "service `{}` has a bot token but no `channel` (its id, `C...`)",
                self.name
            )),
            (Some(Err(e)), _, _) => Err(how("bot token", "token", e)),
            (None, Some(Ok(url)), _) => Ok(slack::Slack::webhook(self, url.clone())),
            (None, Some(Err(e)), _) => Err(how("webhook URL", "webhook", e)),
            (None, None, _) => Err(how("bot token or webhook", "token", "neither is named")),
        }
    }

    /// Whether it posts with a bot token, which can read the channel back.
    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }
}

/// One service of the runbook, resolved.
#[derive(Debug, Clone)]
pub enum Resolved {
    Jenkins(JenkinsConf),
    GithubActions(ActionsConf),
    Github(GithubConf),
    Sentry(SentryConf),
    Metrics(MetricsConf),
    Smtp(SmtpConf),
    Etherpad(EtherpadConf),
    MarkdownNotes(MarkdownNotesConf),
    Matrix(MatrixConf),
    Slack(SlackConf),
}

impl Resolved {
    pub fn kind(&self) -> &'static str {
        match self {
            Resolved::Jenkins(_) => "jenkins",
            Resolved::GithubActions(_) => "github_actions",
            Resolved::Github(_) => "github",
            Resolved::Sentry(_) => "sentry",
            Resolved::Metrics(m) => m.kind,
            Resolved::Smtp(_) => "smtp",
            Resolved::Etherpad(_) => "etherpad",
            Resolved::MarkdownNotes(_) => "markdown_notes",
            Resolved::Matrix(_) => "matrix",
            Resolved::Slack(_) => "slack",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Services(pub IndexMap<String, Resolved>);

impl Services {
    pub fn resolve(rb: &Runbook, config: &Config) -> Self {
        let mut out = IndexMap::new();
        for (name, svc) in &rb.services {
            let mine = config.services.get(name);
            let url = |theirs: &str| {
                mine.and_then(|c| c.url.clone())
                    .unwrap_or_else(|| theirs.to_string())
                    .trim_end_matches('/')
                    .to_string()
            };
            let resolved = match svc {
                Service::Jenkins(j) => Resolved::Jenkins(JenkinsConf {
                    name: name.clone(),
                    url: url(&j.url),
                    job: j.job.clone(),
                    tag_param: j.tag_param.clone(),
                    user: mine.and_then(|c| c.user.clone()).or_else(|| j.user.clone()),
                    token: read(mine.and_then(|c| c.token.as_ref()).unwrap_or(&j.token)),
                }),
                Service::GithubActions(a) => Resolved::GithubActions(ActionsConf {
                    name: name.clone(),
                    api_url: url(&a.api_url),
                    repo: a.repo.clone(),
                    workflow: a.workflow.clone(),
                    git_ref: a.git_ref.clone(),
                    tag_input: a.tag_input.clone(),
                    token: read(mine.and_then(|c| c.token.as_ref()).unwrap_or(&a.token)),
                }),
                Service::Github(gh) => Resolved::Github(GithubConf {
                    name: name.clone(),
                    api_url: url(&gh.api_url),
                    token: read(mine.and_then(|c| c.token.as_ref()).unwrap_or(&gh.token)),
                }),
                Service::Sentry(se) => Resolved::Sentry(SentryConf {
                    name: name.clone(),
                    url: url(&se.url),
                    org: se.org.clone(),
                    project: se.project.clone(),
                    environment: se.environment.clone(),
                    token: read(mine.and_then(|c| c.token.as_ref()).unwrap_or(&se.token)),
                }),
                Service::Graphite(g) => Resolved::Metrics(MetricsConf {
                    name: name.clone(),
                    kind: "graphite",
                    url: url(&g.url),
                    step_seconds: 60,
                    series: g.series.clone(),
                }),
                Service::Prometheus(p) => Resolved::Metrics(MetricsConf {
                    name: name.clone(),
                    kind: "prometheus",
                    url: url(&p.url),
                    step_seconds: p.step_seconds.max(1),
                    series: p.series.clone(),
                }),
                Service::Smtp(m) => Resolved::Smtp(SmtpConf {
                    name: name.clone(),
                    host: m.host.clone(),
                    port: m.port,
                    security: m.security.clone(),
                    from: m.from.clone(),
                    to: m.to.clone(),
                    user: mine.and_then(|c| c.user.clone()).or_else(|| m.user.clone()),
                    password: read(
                        mine.and_then(|c| c.password.as_ref())
                            .unwrap_or(&m.password),
                    ),
                    ca_file: mine
                        .and_then(|c| c.ca_file.as_deref())
                        .or(m.ca_file.as_deref())
                        .map(|p| crate::config::expand_home(std::path::Path::new(p))),
                }),
                Service::Etherpad(e) => Resolved::Etherpad(EtherpadConf {
                    name: name.clone(),
                    url: url(&e.url),
                    api_version: e.api_version.clone(),
                    pad: e.pad.clone(),
                    key: read(mine.and_then(|c| c.key.as_ref()).unwrap_or(&e.key)),
                }),
                Service::MarkdownNotes(m) => Resolved::MarkdownNotes(MarkdownNotesConf {
                    name: name.clone(),
                    path: m.path.clone(),
                    repo: m.repo.clone(),
                }),
                Service::Matrix(m) => Resolved::Matrix(MatrixConf {
                    name: name.clone(),
                    url: url(&m.url),
                    room: m.room.clone(),
                    token: read(mine.and_then(|c| c.token.as_ref()).unwrap_or(&m.token)),
                }),
                Service::Slack(sl) => {
                    // A secret named neither in the runbook nor the config is not wanted.
                    let named = |theirs: &SecretRef, ours: Option<&SecretRef>| {
                        let r = ours.unwrap_or(theirs);
                        (*r != SecretRef::default()).then(|| read(r))
                    };
                    Resolved::Slack(SlackConf {
                        name: name.clone(),
                        api_url: url(&sl.api_url),
                        channel: sl.channel.clone(),
                        token: named(&sl.token, mine.and_then(|c| c.token.as_ref())),
                        webhook: named(&sl.webhook, mine.and_then(|c| c.webhook.as_ref())),
                    })
                }
            };
            out.insert(name.clone(), resolved);
        }
        Services(out)
    }

    pub fn jenkins(&self, name: &str) -> Result<&JenkinsConf, String> {
        match self.0.get(name) {
            Some(Resolved::Jenkins(j)) => Ok(j),
            Some(other) => Err(format!(
                "service `{name}` is a {} service, not Jenkins",
                other.kind()
            )),
            None => Err(format!("the runbook has no service `{name}`")),
        }
    }

    pub fn sentry(&self, name: &str) -> Result<&SentryConf, String> {
        match self.0.get(name) {
            Some(Resolved::Sentry(s)) => Ok(s),
            Some(other) => Err(format!(
                "service `{name}` is a {} service, not Sentry",
                other.kind()
            )),
            None => Err(format!("the runbook has no service `{name}`")),
        }
    }

    pub fn metrics(&self, name: &str) -> Result<&MetricsConf, String> {
        match self.0.get(name) {
            Some(Resolved::Metrics(m)) => Ok(m),
            Some(other) => Err(format!(
                "service `{name}` is a {} service, not Graphite or Prometheus",
                other.kind()
            )),
            None => Err(format!("the runbook has no service `{name}`")),
        }
    }

    pub fn etherpad(&self, name: &str) -> Result<&EtherpadConf, String> {
        match self.0.get(name) {
            Some(Resolved::Etherpad(e)) => Ok(e),
            Some(other) => Err(format!(
                "service `{name}` is a {} service, not Etherpad",
                other.kind()
            )),
            None => Err(format!("the runbook has no service `{name}`")),
        }
    }

    pub fn github(&self, name: &str) -> Result<&GithubConf, String> {
        match self.0.get(name) {
            Some(Resolved::Github(g)) => Ok(g),
            Some(other) => Err(format!(
                "service `{name}` is a {} service, not GitHub",
                other.kind()
            )),
            None => Err(format!("the runbook has no service `{name}`")),
        }
    }

    pub fn matrix(&self, name: &str) -> Option<&MatrixConf> {
        match self.0.get(name) {
            Some(Resolved::Matrix(m)) => Some(m),
            _ => None,
        }
    }

    pub fn slack(&self, name: &str) -> Option<&SlackConf> {
        match self.0.get(name) {
            Some(Resolved::Slack(s)) => Some(s),
            _ => None,
        }
    }

    pub fn smtp(&self, name: &str) -> Result<&SmtpConf, String> {
        match self.0.get(name) {
            Some(Resolved::Smtp(s)) => Ok(s),
            Some(other) => Err(format!(
                "service `{name}` is a {} service, not SMTP",
                other.kind()
            )),
            None => Err(format!("the runbook has no service `{name}`")),
        }
    }

    /// Every secret the services were given: the engine cuts them out of whatever a step
    /// says, whichever service's text carried them.
    pub fn secrets(&self) -> Vec<Secret> {
        self.0
            .values()
            .filter_map(|r| match r {
                Resolved::Jenkins(j) => j.token.as_ref().ok(),
                Resolved::GithubActions(a) => a.token.as_ref().ok(),
                Resolved::Github(g) => g.token.as_ref().ok(),
                Resolved::Sentry(s) => s.token.as_ref().ok(),
                Resolved::Smtp(m) => m.password.as_ref().ok(),
                Resolved::Etherpad(e) => e.key.as_ref().ok(),
                Resolved::Matrix(m) => m.token.as_ref().ok(),
                Resolved::Metrics(_) | Resolved::MarkdownNotes(_) => None,
                // Two secrets: the webhook's below.
                Resolved::Slack(s) => s.token.as_ref().and_then(|t| t.as_ref().ok()),
            })
            .chain(self.0.values().filter_map(|r| match r {
                Resolved::Slack(s) => s.webhook.as_ref().and_then(|w| w.as_ref().ok()),
                _ => None,
            }))
            .cloned()
            .collect()
    }

    /// The Actions workflow `name`, when that service is one (`None`: not Actions).
    pub fn actions(&self, name: &str) -> Option<&ActionsConf> {
        match self.0.get(name) {
            Some(Resolved::GithubActions(a)) => Some(a),
            _ => None,
        }
    }
}

fn read(r: &SecretRef) -> Result<Secret, String> {
    secret::resolve(r).map_err(|e| format!("{e:#}"))
}
