//! The typed runbook: what a team's procedure says (never who runs it or where: that is the
//! operator's config). Every string may be a tera template over the session variables.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Ordered maps keep the author's order for repos, services, links and parameters.
pub type Ordered<V> = indexmap::IndexMap<String, V>;

/// Built by `load`, one part at a time, so that every part's problems are reported.
#[derive(Debug, Clone, Serialize)]
pub struct Runbook {
    pub name: String,
    pub summary: String,
    /// The team's links (calendar, notes, dashboards); available to templates as `links.NAME`.
    pub links: Ordered<String>,
    /// Constants for templates (people, channels), or values read from a file in a repo:
    /// available as `vars.NAME`.
    pub vars: Ordered<VarValue>,
    pub schedule: Schedule,
    /// Who pushes when; absent for an on-demand schedule, which has no push dates to turn on.
    pub rotation: Option<Rotation>,
    pub repos: Ordered<Repo>,
    pub services: Ordered<Service>,
    pub sections: Vec<Section>,
    pub steps: Vec<Step>,
}

impl Runbook {
    /// Everything but the steps: what a step's preview, confirmation or by-hand text reads
    /// (services, repos, links), cheap to hand to another thread where cloning every step of
    /// a long runbook on each Enter was not.
    pub fn without_steps(&self) -> Runbook {
        Runbook {
            name: self.name.clone(),
            summary: self.summary.clone(),
            links: self.links.clone(),
            vars: self.vars.clone(),
            schedule: self.schedule.clone(),
            rotation: self.rotation.clone(),
            repos: self.repos.clone(),
            services: self.services.clone(),
            sections: self.sections.clone(),
            steps: Vec::new(),
        }
    }
}

/// A `[vars]` entry: a template, or a value read from a TOML file in a repo's checkout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum VarValue {
    /// A constant (a template over the dates and the other constants' inputs).
    Text(String),
    /// Read when the session starts, e.g. `{ toml = "Cargo.toml", key = "package.version" }`.
    File(FileVar),
}

/// A value read from a TOML file inside a runbook repo's checkout (never outside it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileVar {
    /// The file, relative to the repo's checkout, e.g. `Cargo.toml`; `..` is refused.
    pub toml: String,
    /// Dotted path of the value in the file, e.g. `package.version`.
    pub key: String,
    /// The runbook repo whose checkout holds the file; default: the first repo.
    #[serde(default)]
    pub repo: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    /// `true`: there is no push day and no rotation; a release is made when someone starts
    /// one, and its session is that of the day it starts (in `timezone`).
    #[serde(default)]
    pub on_demand: bool,
    /// Weekday of the push to production, e.g. `thursday` (weekly schedules).
    #[serde(default)]
    pub push_day: Option<String>,
    /// Weekday the tag is made, e.g. `tuesday`; the last one before the push day (weekly
    /// schedules).
    #[serde(default)]
    pub tag_day: Option<String>,
    /// IANA timezone the team's dates are in, e.g. `America/Los_Angeles`.
    pub timezone: String,
    /// chrono `strftime` pattern of the *push* date that names the tag; re-tags add `-N`.
    /// Default `%Y.%m.%d`. Not with `version`.
    #[serde(default)]
    pub tag_format: Option<String>,
    /// Tags name a version instead of a date: this template gives it as `MAJOR.MINOR.PATCH`,
    /// e.g. `{{ vars.version }}`; the tag is `tag_prefix` then the version.
    #[serde(default)]
    pub version: Option<String>,
    /// What comes before the version in a tag name, e.g. `v` for `v0.2.0` (with `version`).
    #[serde(default)]
    pub tag_prefix: Option<String>,
    /// Push every N weeks (1: weekly). With N > 1 the rotation's `start` anchors the cycle.
    #[serde(default = "one")]
    pub every_weeks: u32,
    /// Push dates on which there is no push (holidays); the rotation does not advance over them.
    #[serde(default)]
    pub skip: Vec<String>,
}

/// The tag format when a weekly runbook does not name one.
pub const DEFAULT_TAG_FORMAT: &str = "%Y.%m.%d";

impl Schedule {
    /// The date pattern of date tags (`None` for version tags).
    pub fn date_format(&self) -> Option<&str> {
        match (&self.version, &self.tag_format) {
            (Some(_), _) => None,
            (None, Some(f)) => Some(f),
            (None, None) => Some(DEFAULT_TAG_FORMAT),
        }
    }
}

fn one() -> u32 {
    1
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rotation {
    /// Push heroes in order; one per push.
    pub people: Vec<String>,
    /// A push date (`YYYY-MM-DD`) on which `people[0]` is the hero.
    pub start: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Repo {
    /// `owner/repo` on GitHub, for compare links.
    pub github: String,
    /// The remote tags are pushed to and fetched from.
    #[serde(default = "default_remote")]
    pub remote: String,
    /// The branch that is tagged.
    #[serde(default = "default_branch")]
    pub branch: String,
    /// Where the repo's database migrations live (`"migrations/"` a folder, `*` one name,
    /// `**` any folders): a cherry-pick that adds a file there is flagged before it is tagged.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub migrations: Vec<String>,
}

fn default_remote() -> String {
    "origin".into()
}

fn default_branch() -> String {
    "main".into()
}

fn sixty() -> u64 {
    60
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Section {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub doc: String,
}

/// A credential named by reference; the runbook never holds the secret itself.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretRef {
    /// Environment variable that holds it.
    #[serde(default)]
    pub env: Option<String>,
    /// System keyring entry (`service/user`) that holds it.
    #[serde(default)]
    pub keyring: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Service {
    Jenkins(JenkinsService),
    Sentry(SentryService),
    Graphite(GraphiteService),
    Prometheus(PrometheusService),
    Etherpad(EtherpadService),
    MarkdownNotes(MarkdownNotesService),
    Smtp(SmtpService),
    Github(GithubService),
    GithubActions(GithubActionsService),
    Matrix(MatrixService),
    Slack(SlackService),
}

impl Service {
    pub const KINDS: &'static [&'static str] = &[
        "jenkins",
        "sentry",
        "graphite",
        "prometheus",
        "etherpad",
        "markdown_notes",
        "smtp",
        "github",
        "github_actions",
        "matrix",
        "slack",
    ];

    pub fn kind(&self) -> &'static str {
        match self {
            Service::Jenkins(_) => "jenkins",
            Service::Sentry(_) => "sentry",
            Service::Graphite(_) => "graphite",
            Service::Prometheus(_) => "prometheus",
            Service::Etherpad(_) => "etherpad",
            Service::MarkdownNotes(_) => "markdown_notes",
            Service::Smtp(_) => "smtp",
            Service::Github(_) => "github",
            Service::GithubActions(_) => "github_actions",
            Service::Matrix(_) => "matrix",
            Service::Slack(_) => "slack",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JenkinsService {
    pub url: String,
    /// Job path; jobs in folders as `folder/job`.
    pub job: String,
    /// The build parameter that takes the tag.
    pub tag_param: String,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub token: SecretRef,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SentryService {
    pub url: String,
    pub org: String,
    pub project: String,
    #[serde(default)]
    pub environment: Option<String>,
    #[serde(default)]
    pub token: SecretRef,
}

/// Which way a metric moves when things go wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Errors, latency: a rise is harmful.
    #[default]
    Increase,
    /// Traffic, successes: a drop is harmful.
    Decrease,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MetricSeries {
    pub name: String,
    /// A Graphite target expression or a PromQL query; it must give exactly one series.
    pub query: String,
    /// Which change is harmful.
    #[serde(default)]
    pub direction: Direction,
    /// Largest acceptable rise over a baseline, in percent (harmful when `direction = "increase"`).
    #[serde(default)]
    pub max_rise_percent: Option<f64>,
    /// Largest acceptable drop below a baseline, in percent (harmful when `direction = "decrease"`).
    #[serde(default)]
    pub max_drop_percent: Option<f64>,
    /// Highest acceptable median during the soak, whatever the baselines.
    #[serde(default)]
    pub max: Option<f64>,
    /// Lowest acceptable median during the soak, whatever the baselines.
    #[serde(default)]
    pub min: Option<f64>,
    /// Significance level of the before/after test (default 0.05).
    #[serde(default)]
    pub alpha: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GraphiteService {
    pub url: String,
    pub series: Vec<MetricSeries>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PrometheusService {
    pub url: String,
    /// Resolution of `query_range`, in seconds.
    #[serde(default = "sixty")]
    pub step_seconds: u64,
    pub series: Vec<MetricSeries>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EtherpadService {
    pub url: String,
    #[serde(default = "etherpad_api")]
    pub api_version: String,
    /// Pad id template, e.g. `amo-{{ next_push_date }}`.
    pub pad: String,
    #[serde(default)]
    pub key: SecretRef,
}

fn etherpad_api() -> String {
    "1.2.15".into()
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkdownNotesService {
    /// File path template inside `repo` (or relative to the runbook), e.g.
    /// `releases/{{ next_push_date | replace(from="-", to="/") }}.md`.
    pub path: String,
    #[serde(default)]
    pub repo: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SmtpService {
    pub host: String,
    #[serde(default = "smtp_port")]
    pub port: u16,
    /// `starttls` (required), `opportunistic`, `tls` (implicit) or `none` (plain, loopback
    /// relays only).
    #[serde(default = "starttls")]
    pub security: String,
    pub from: String,
    pub to: Vec<String>,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub password: SecretRef,
    /// A PEM file of certificates trusted for this server, beside the bundled roots: a relay
    /// whose certificate an internal authority signed.
    #[serde(default)]
    pub ca_file: Option<String>,
}

fn smtp_port() -> u16 {
    587
}

fn starttls() -> String {
    "starttls".into()
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GithubService {
    #[serde(default = "github_api")]
    pub api_url: String,
    #[serde(default)]
    pub token: SecretRef,
}

fn github_api() -> String {
    "https://api.github.com".into()
}

/// A workflow that deploys, run by `jenkins.build` in place of a Jenkins job.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GithubActionsService {
    /// `owner/name`.
    pub repo: String,
    /// The workflow's file name under `.github/workflows`, e.g. `deploy-stage.yml`.
    pub workflow: String,
    /// The branch the workflow runs from.
    #[serde(default = "main_branch", rename = "ref")]
    pub git_ref: String,
    /// The `workflow_dispatch` input that takes the tag.
    #[serde(default = "tag_input")]
    pub tag_input: String,
    #[serde(default = "github_api")]
    pub api_url: String,
    #[serde(default)]
    pub token: SecretRef,
}

/// A Matrix room the push is told about, through the client-server API.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MatrixService {
    /// The homeserver's base URL, e.g. `https://matrix.example.org`.
    pub url: String,
    /// The room's id (`!opaque:server`, or `!opaque`), which the API takes; not its `#alias`.
    pub room: String,
    /// The access token of the account that posts (a bot or the hero's own).
    #[serde(default)]
    pub token: SecretRef,
}

/// A Slack channel the push is told about: through the Web API with a bot token
/// (`chat.postMessage`, `conversations.setTopic`), or through an incoming webhook.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SlackService {
    /// The Web API's base URL.
    #[serde(default = "slack_api")]
    pub api_url: String,
    /// The channel's id (`C0123456789`): the Web API takes ids; a webhook has its own.
    #[serde(default)]
    pub channel: Option<String>,
    /// A bot token (`xoxb-...`) with `chat:write`; `channels:history` lets a resumed post
    /// look for itself, `channels:manage` sets the topic.
    #[serde(default)]
    pub token: SecretRef,
    /// An incoming webhook's URL, a secret as a token is: used when no token is given.
    #[serde(default)]
    pub webhook: SecretRef,
}

fn slack_api() -> String {
    "https://slack.com/api".into()
}

fn main_branch() -> String {
    "main".into()
}

fn tag_input() -> String {
    "tag".into()
}

/// One step of the procedure.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StepCommon {
    /// Stable: journals refer to it.
    pub id: String,
    pub title: String,
    /// The id of a section.
    pub section: String,
    /// Markdown for the newcomer: why the step exists and how it is done.
    #[serde(default)]
    pub doc: String,
    /// `tag_day`, `push_day` or a weekday name: when in the push week it is done.
    #[serde(default)]
    pub day: Option<String>,
    /// Ask before executing; default: yes for steps with a side effect.
    #[serde(default)]
    pub confirm: Option<bool>,
    /// A tera expression over the variables; the step applies only when it is true.
    #[serde(default)]
    pub only_if: Option<String>,
    /// Names of values this step adds to the session (see each kind's outputs).
    #[serde(default)]
    pub outputs: Vec<String>,
    /// Steps that must be finished (done, skipped or not applicable) before this one runs.
    #[serde(default)]
    pub after: Vec<String>,
    /// Tell the team's channel once this step is done: a message (a template), posted to the
    /// runbook's chat service, or `{ service = "...", text = "...", topic = false }`. It
    /// becomes a `chat.post` step of its own, `ID-tell`, right after this one, shown and
    /// confirmed like any other.
    #[serde(default)]
    pub tell: Option<super::tell::Tell>,
    /// On a step that `tell` made: the step whose `tell` it is.
    #[serde(skip)]
    #[schemars(skip)]
    pub told_for: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Step {
    #[serde(flatten)]
    pub common: StepCommon,
    #[serde(flatten)]
    pub kind: StepKind,
}

impl std::ops::Deref for Step {
    type Target = StepCommon;
    fn deref(&self) -> &StepCommon {
        &self.common
    }
}

pub use super::kinds::blockers::GithubBlockersStep;
pub use super::kinds::chat::ChatPostStep;
pub use super::kinds::choice::{ChoiceOption, ChoiceStep};
pub use super::kinds::email::EmailSendStep;
pub use super::kinds::gate::GateStep;
pub use super::kinds::git::{GitPushTagStep, GitTagStep, RepoStep};
pub use super::kinds::http_check::HttpCheckStep;
pub use super::kinds::jenkins::JenkinsBuildStep;
pub use super::kinds::manual::ManualStep;
pub use super::kinds::notes::{NotesAppendStep, NotesPublishStep};
pub use super::kinds::shell::ShellStep;
pub use super::kinds::template::TemplateStep;
pub use super::kinds::watch::{MetricsCheckStep, SentryCheckStep};
pub use super::kinds::{KINDS, KindInfo, StepKind, kind_info};

impl Step {
    /// Whether the operator must confirm before it runs.
    pub fn needs_confirm(&self) -> bool {
        self.common.confirm.unwrap_or(self.kind.info().side_effect)
    }
}

impl Runbook {
    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }

    pub fn step_mut(&mut self, id: &str) -> Option<&mut Step> {
        self.steps.iter_mut().find(|s| s.id == id)
    }

    pub fn section_title<'a>(&'a self, id: &'a str) -> &'a str {
        self.sections
            .iter()
            .find(|s| s.id == id)
            .map_or(id, |s| s.title.as_str())
    }
}

/// The prefix of a session's ad-hoc item ids; runbook step ids may not use it.
pub const ITEM_PREFIX: &str = "item-";

/// A step's outputs, by name.
pub type Outputs = BTreeMap<String, serde_json::Value>;

/// How an SMTP connection is protected (`security` of an `smtp` service).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// STARTTLS, required: a server that does not offer it is refused.
    StartTls,
    /// STARTTLS when the server offers it, plain otherwise.
    Opportunistic,
    /// TLS from the first byte (usually port 465).
    Tls,
    /// Plain text: loopback hosts only.
    None,
}

impl SmtpSecurity {
    pub const NAMES: &'static [&'static str] = &["starttls", "opportunistic", "tls", "none"];

    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "starttls" => Ok(Self::StartTls),
            "opportunistic" => Ok(Self::Opportunistic),
            "tls" => Ok(Self::Tls),
            "none" => Ok(Self::None),
            other => Err(format!(
                "`{other}` is not an SMTP security: use one of {}",
                Self::NAMES.join(", ")
            )),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::StartTls => "starttls",
            Self::Opportunistic => "opportunistic",
            Self::Tls => "tls",
            Self::None => "none",
        }
    }
}
