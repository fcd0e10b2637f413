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
}

fn default_remote() -> String {
    "origin".into()
}

fn default_branch() -> String {
    "main".into()
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

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind")]
pub enum StepKind {
    #[serde(rename = "manual")]
    Manual(ManualStep),
    #[serde(rename = "choice")]
    Choice(ChoiceStep),
    #[serde(rename = "gate")]
    Gate(GateStep),
    #[serde(rename = "git.fetch")]
    GitFetch(RepoStep),
    #[serde(rename = "git.tag")]
    GitTag(GitTagStep),
    #[serde(rename = "git.push_tag")]
    GitPushTag(GitPushTagStep),
    #[serde(rename = "git.cherry_pick")]
    GitCherryPick(RepoStep),
    #[serde(rename = "git.compare")]
    GitCompare(RepoStep),
    #[serde(rename = "jenkins.build")]
    JenkinsBuild(JenkinsBuildStep),
    #[serde(rename = "http.check")]
    HttpCheck(HttpCheckStep),
    #[serde(rename = "sentry.check")]
    SentryCheck(SentryCheckStep),
    #[serde(rename = "metrics.check")]
    MetricsCheck(MetricsCheckStep),
    #[serde(rename = "template")]
    Template(TemplateStep),
    #[serde(rename = "notes.publish")]
    NotesPublish(NotesPublishStep),
    #[serde(rename = "notes.append")]
    NotesAppend(NotesAppendStep),
    #[serde(rename = "email.send")]
    EmailSend(EmailSendStep),
    #[serde(rename = "shell")]
    Shell(ShellStep),
    #[serde(rename = "github.blockers")]
    GithubBlockers(GithubBlockersStep),
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ManualStep {}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChoiceOption {
    pub value: String,
    pub label: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChoiceStep {
    /// The variable the choice sets; `only_if` expressions of later steps read it.
    pub var: String,
    pub options: Vec<ChoiceOption>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GateStep {
    /// What is awaited, e.g. "QA approval of the tag on stage".
    pub waits_for: String,
    /// Who gives it, e.g. "{{ vars.qa }}".
    #[serde(default)]
    pub who: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RepoStep {
    pub repo: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GitTagStep {
    pub repo: String,
    /// `branch` (the repo's branch tip) or `cherry_pick` (the result of this push's cherry-picks).
    #[serde(default = "tag_from_branch")]
    pub from: String,
}

fn tag_from_branch() -> String {
    "branch".into()
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GitPushTagStep {
    pub repo: String,
    /// Defaults to the repo's remote.
    #[serde(default)]
    pub remote: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JenkinsBuildStep {
    pub service: String,
    /// Extra build parameters; the service's `tag_param` gets the tag unless given here.
    #[serde(default)]
    pub params: Ordered<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpCheckStep {
    pub url: String,
    /// Text the body must contain, e.g. the tag.
    pub expect: String,
    #[serde(default = "five_minutes")]
    pub timeout_secs: u64,
    #[serde(default = "ten")]
    pub interval_secs: u64,
}

fn five_minutes() -> u64 {
    300
}

fn ten() -> u64 {
    10
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SentryCheckStep {
    pub service: String,
    /// The step whose completion starts the soak (the production push); without it the soak
    /// starts when this step does.
    #[serde(default)]
    pub since: Option<String>,
    /// How long to watch after `since`, in minutes; fractions allowed (0.25 is 15 s).
    #[serde(default = "thirty_minutes")]
    pub soak_minutes: f64,
    /// Length of the window before the push the event rate is compared with, in minutes.
    #[serde(default = "sixty")]
    pub baseline_minutes: u64,
    /// Extra Sentry search terms, e.g. `firstRelease:{{ tag }}`.
    #[serde(default)]
    pub query: Option<String>,
    /// New issues tolerated before the check fails.
    #[serde(default)]
    pub max_new_issues: u64,
    /// Largest acceptable rise of the event rate over a baseline, in percent (default 100).
    #[serde(default)]
    pub max_rise_percent: Option<f64>,
    /// How often Sentry is asked during the soak, in seconds.
    #[serde(default = "thirty")]
    pub poll_seconds: u64,
}

fn thirty() -> u64 {
    30
}

fn thirty_minutes() -> f64 {
    30.0
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MetricsCheckStep {
    pub service: String,
    /// The step whose completion starts the soak (the production push); without it the soak
    /// starts when this step does.
    #[serde(default)]
    pub since: Option<String>,
    /// How long to watch after `since`, in minutes; fractions allowed (0.25 is 15 s).
    #[serde(default = "thirty_minutes")]
    pub soak_minutes: f64,
    /// Length of the baseline before the push, in minutes.
    #[serde(default = "sixty")]
    pub baseline_minutes: u64,
    /// Points a window needs after nulls are dropped; fewer is "unknown", never a pass.
    #[serde(default = "five")]
    pub min_points: usize,
    /// Judge by score instead of "any failing series fails": the score (pass 1, marginal
    /// 0.5) in percent at or above which the step passes...
    #[serde(default)]
    pub pass_score: Option<f64>,
    /// ...and at or above which it is marginal (below: failed).
    #[serde(default)]
    pub marginal_score: Option<f64>,
    /// How often the interim verdict is read during the soak, in seconds.
    #[serde(default = "sixty")]
    pub poll_seconds: u64,
}

fn five() -> usize {
    5
}

fn sixty() -> u64 {
    60
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateStep {
    /// Template file, relative to the runbook.
    pub template: String,
    /// Where the result is written (a path template); relative paths are under the state dir.
    pub output: String,
    /// Let the operator edit the result in `$EDITOR` before it is written.
    #[serde(default = "yes")]
    pub edit: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NotesPublishStep {
    pub service: String,
    pub template: String,
    /// For a `github` service: the runbook repo whose release (for this push's tag) gets the
    /// notes as a draft.
    #[serde(default)]
    pub repo: Option<String>,
}

/// Adds a line (or a few) to this push's notes page.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NotesAppendStep {
    pub service: String,
    /// The text appended (a template), e.g. `Pushing {{ tag }}: {{ shipping_compare_url }}`.
    pub text: String,
    /// For an `etherpad` service: the pad, when not the service's (which names the *next*
    /// push's pad), e.g. `amo-{{ push_date }}`.
    #[serde(default)]
    pub pad: Option<String>,
    /// For a `markdown_notes` service: the file, when not the service's.
    #[serde(default)]
    pub path: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailSendStep {
    pub service: String,
    pub template: String,
    pub subject: String,
    /// Defaults to the service's `to`.
    #[serde(default)]
    pub to: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShellStep {
    pub command: String,
    /// Run inside this repo's local checkout.
    #[serde(default)]
    pub repo: Option<String>,
    #[serde(default = "ten_minutes")]
    pub timeout_secs: u64,
    /// Environment variables passed to the command besides the minimal set (PATH, HOME,
    /// locale...): nothing else of pushduty's environment reaches it.
    #[serde(default)]
    pub env: Vec<String>,
}

fn ten_minutes() -> u64 {
    600
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GithubBlockersStep {
    /// A `github` service: where the issues are read, with whose token.
    pub service: String,
    /// The label that marks an issue as blocking the push.
    #[serde(default = "blocker_label")]
    pub label: String,
}

fn blocker_label() -> String {
    "blocker".into()
}

/// What each step kind is: its name, its fields, whether it changes anything, and the outputs
/// it can add to the session. Adding a kind means one row here, one enum variant, one executor.
pub struct KindInfo {
    pub name: &'static str,
    pub side_effect: bool,
    /// Outputs the executor produces; `None`: any name (the operator types the values).
    pub outputs: Option<&'static [&'static str]>,
    pub summary: &'static str,
}

const MANUAL: KindInfo = KindInfo {
    name: "manual",
    side_effect: false,
    outputs: None,
    summary: "instructions; the operator ticks it off",
};

const CHOICE: KindInfo = KindInfo {
    name: "choice",
    side_effect: false,
    outputs: Some(&[]),
    summary: "the operator picks one option; sets a variable",
};

const GATE: KindInfo = KindInfo {
    name: "gate",
    side_effect: false,
    outputs: Some(&["approved_by", "approved_at"]),
    summary: "waits for someone outside; records who and when",
};

const GIT_FETCH: KindInfo = KindInfo {
    name: "git.fetch",
    side_effect: true,
    outputs: Some(&[]),
    summary: "fetch the branch and tags; fast-forward when safe",
};

const GIT_TAG: KindInfo = KindInfo {
    name: "git.tag",
    side_effect: true,
    outputs: Some(&["tag_commit"]),
    summary: "tag the branch (or the cherry-picks) with the push tag",
};

const GIT_PUSH_TAG: KindInfo = KindInfo {
    name: "git.push_tag",
    side_effect: true,
    outputs: Some(&[]),
    summary: "push exactly that tag to the remote",
};

const GIT_CHERRY_PICK: KindInfo = KindInfo {
    name: "git.cherry_pick",
    side_effect: true,
    outputs: Some(&["cherry_picks"]),
    summary: "apply listed commits onto the previous release tag",
};

const GIT_COMPARE: KindInfo = KindInfo {
    name: "git.compare",
    side_effect: false,
    outputs: Some(&["commits", "shipping_compare_url"]),
    summary: "list the commits shipping and the compare link",
};

const JENKINS_BUILD: KindInfo = KindInfo {
    name: "jenkins.build",
    side_effect: true,
    outputs: Some(&["build_number", "build_url", "build_result"]),
    summary: "trigger a parameterised Jenkins job and follow it",
};

const HTTP_CHECK: KindInfo = KindInfo {
    name: "http.check",
    side_effect: false,
    outputs: Some(&["http_body"]),
    summary: "poll a URL until the body shows what is expected",
};

const SENTRY_CHECK: KindInfo = KindInfo {
    name: "sentry.check",
    side_effect: false,
    outputs: Some(&["new_issues", "sentry_verdict", "sentry_issues"]),
    summary: "watch Sentry for new issues and the error rate over a soak",
};

const METRICS_CHECK: KindInfo = KindInfo {
    name: "metrics.check",
    side_effect: false,
    outputs: Some(&["metrics_verdict", "metrics_score", "metrics_series"]),
    summary: "compare metrics after the push with before it and with last week",
};

const TEMPLATE: KindInfo = KindInfo {
    name: "template",
    side_effect: true,
    outputs: Some(&["rendered_path"]),
    summary: "render a template, edit it, write it out",
};

const NOTES_PUBLISH: KindInfo = KindInfo {
    name: "notes.publish",
    side_effect: true,
    outputs: Some(&["notes_url", "notes_sha256"]),
    summary: "create the next push's notes page (a pad, a file or a release draft)",
};

const NOTES_APPEND: KindInfo = KindInfo {
    name: "notes.append",
    side_effect: true,
    outputs: Some(&["appended_to"]),
    summary: "add a line to this push's notes, once",
};

const EMAIL_SEND: KindInfo = KindInfo {
    name: "email.send",
    side_effect: true,
    outputs: Some(&["message_id", "to", "subject"]),
    summary: "send the announcement email",
};

const SHELL: KindInfo = KindInfo {
    name: "shell",
    side_effect: true,
    outputs: Some(&["exit_code"]),
    summary: "run a command, shown in full first",
};

const GITHUB_BLOCKERS: KindInfo = KindInfo {
    name: "github.blockers",
    side_effect: false,
    outputs: Some(&["blockers", "blocker_commits", "blockers_summary"]),
    summary: "list the open blocker issues; record what happened to each",
};

/// Every kind, for listings and "did you mean".
pub const KINDS: &[KindInfo] = &[
    MANUAL,
    CHOICE,
    GATE,
    GIT_FETCH,
    GIT_TAG,
    GIT_PUSH_TAG,
    GIT_CHERRY_PICK,
    GIT_COMPARE,
    JENKINS_BUILD,
    HTTP_CHECK,
    SENTRY_CHECK,
    METRICS_CHECK,
    TEMPLATE,
    NOTES_PUBLISH,
    NOTES_APPEND,
    EMAIL_SEND,
    SHELL,
    GITHUB_BLOCKERS,
];

pub fn kind_info(name: &str) -> Option<&'static KindInfo> {
    KINDS.iter().find(|k| k.name == name)
}

impl StepKind {
    pub fn name(&self) -> &'static str {
        self.info().name
    }

    /// The kind's row: an exhaustive match, so a new variant without one does not compile.
    pub fn info(&self) -> &'static KindInfo {
        match self {
            StepKind::Manual(_) => &MANUAL,
            StepKind::Choice(_) => &CHOICE,
            StepKind::Gate(_) => &GATE,
            StepKind::GitFetch(_) => &GIT_FETCH,
            StepKind::GitTag(_) => &GIT_TAG,
            StepKind::GitPushTag(_) => &GIT_PUSH_TAG,
            StepKind::GitCherryPick(_) => &GIT_CHERRY_PICK,
            StepKind::GitCompare(_) => &GIT_COMPARE,
            StepKind::JenkinsBuild(_) => &JENKINS_BUILD,
            StepKind::HttpCheck(_) => &HTTP_CHECK,
            StepKind::SentryCheck(_) => &SENTRY_CHECK,
            StepKind::MetricsCheck(_) => &METRICS_CHECK,
            StepKind::Template(_) => &TEMPLATE,
            StepKind::NotesPublish(_) => &NOTES_PUBLISH,
            StepKind::NotesAppend(_) => &NOTES_APPEND,
            StepKind::EmailSend(_) => &EMAIL_SEND,
            StepKind::Shell(_) => &SHELL,
            StepKind::GithubBlockers(_) => &GITHUB_BLOCKERS,
        }
    }

    /// The repo a step works on, if any.
    pub fn repo(&self) -> Option<&str> {
        match self {
            StepKind::GitFetch(s) | StepKind::GitCherryPick(s) | StepKind::GitCompare(s) => {
                Some(&s.repo)
            }
            StepKind::GitTag(s) => Some(&s.repo),
            StepKind::GitPushTag(s) => Some(&s.repo),
            StepKind::Shell(s) => s.repo.as_deref(),
            StepKind::NotesPublish(s) => s.repo.as_deref(),
            _ => None,
        }
    }

    /// The service a step talks to, with the service kinds it accepts.
    pub fn service(&self) -> Option<(&str, &'static [&'static str])> {
        match self {
            StepKind::JenkinsBuild(s) => Some((&s.service, &["jenkins", "github_actions"])),
            StepKind::SentryCheck(s) => Some((&s.service, &["sentry"])),
            StepKind::MetricsCheck(s) => Some((&s.service, &["graphite", "prometheus"])),
            StepKind::NotesPublish(s) => {
                Some((&s.service, &["etherpad", "markdown_notes", "github"]))
            }
            StepKind::NotesAppend(s) => Some((&s.service, &["etherpad", "markdown_notes"])),
            StepKind::EmailSend(s) => Some((&s.service, &["smtp"])),
            StepKind::GithubBlockers(s) => Some((&s.service, &["github"])),
            _ => None,
        }
    }

    /// Template files the step reads, relative to the runbook.
    pub fn template_file(&self) -> Option<&str> {
        match self {
            StepKind::Template(s) => Some(&s.template),
            StepKind::NotesPublish(s) => Some(&s.template),
            StepKind::EmailSend(s) => Some(&s.template),
            _ => None,
        }
    }
}

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
