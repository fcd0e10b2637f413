//! Session variables: the push date, the tag, the heroes and the links, computed from the
//! clock (or `--now`) in the runbook's timezone and from each repo's existing tags.

use std::path::Path;
use std::str::FromStr;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use super::Loaded;
use super::model::{FileVar, Ordered, Repo, VarValue};
use crate::config::Config;
use crate::tags::{self, ReleaseTag, TagFormat, TagKey, Version};

/// The moment the session acts at: a whole day (in the runbook's timezone) or an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Now {
    Date(NaiveDate),
    Instant(DateTime<FixedOffset>),
}

impl FromStr for Now {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            return Ok(Now::Date(d));
        }
        DateTime::parse_from_rfc3339(s)
            .map(Now::Instant)
            .map_err(|_| format!("`{s}` is neither a date (YYYY-MM-DD) nor an RFC 3339 instant (2015-09-08T10:00:00-07:00)"))
    }
}

impl Now {
    pub fn real() -> Self {
        Now::Instant(Utc::now().fixed_offset())
    }

    /// Today in the given timezone.
    pub fn today(&self, tz: chrono_tz::Tz) -> NaiveDate {
        match self {
            Now::Date(d) => *d,
            Now::Instant(t) => t.with_timezone(&tz).date_naive(),
        }
    }

    pub fn rfc3339(&self, tz: chrono_tz::Tz) -> String {
        match self {
            Now::Date(d) => d
                .and_hms_opt(0, 0, 0)
                .and_then(|t| t.and_local_timezone(tz).earliest())
                .map_or_else(|| d.to_string(), |t| t.to_rfc3339()),
            Now::Instant(t) => t.with_timezone(&tz).to_rfc3339(),
        }
    }
}

/// What the session knows of one repo before anything runs.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RepoVars {
    pub name: String,
    pub github: String,
    pub branch: String,
    pub remote: String,
    /// The operator's checkout, when the config names one.
    pub path: Option<String>,
    /// Where its database migrations live (`repos.NAME.migrations`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub migrations: Vec<String>,
    /// This push's tag: the push date, or its next free `-N` revision.
    pub tag: String,
    pub previous_tag: Option<String>,
    pub compare_url: Option<String>,
    /// Why tags could not be read (path missing, not a repo); `tag` is then the plain date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Vars {
    pub runbook: String,
    pub summary: String,
    pub push_date: String,
    pub tag_date: String,
    pub next_push_date: Option<String>,
    pub today: String,
    pub now: String,
    pub tag: String,
    pub previous_tag: Option<String>,
    pub compare_url: Option<String>,
    pub hero: Option<String>,
    pub next_hero: Option<String>,
    pub operator: String,
    pub mode: String,
    pub people: Vec<String>,
    /// The version this push releases, for runbooks whose tags name a version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    pub repos: Ordered<RepoVars>,
    pub links: Ordered<String>,
    pub vars: Ordered<String>,
    /// The moment these were computed for (`--now`, or the clock then): what "not in the
    /// future" means for a time the operator types.
    #[serde(skip)]
    pub clock: Now,
}

use crate::urls::github_compare_url as compare_url;

/// Reads the release tags of the checkout at a path (an error says why it could not): the
/// git layer's, handed in so that the model never opens a repository itself.
pub type TagReader<'a> = &'a dyn Fn(&Path, &TagFormat) -> Result<Vec<ReleaseTag>>;

/// The tag name shown while the version is not known (no checkout to read it from).
const UNKNOWN_VERSION: &str = "⟨version⟩";

fn repo_vars(
    name: &str,
    repo: &Repo,
    path: Option<&Path>,
    format: &TagFormat,
    key: Option<&TagKey>,
    repo_tags: TagReader<'_>,
) -> RepoVars {
    let plain = |key: Option<&TagKey>| match (key, format) {
        (Some(k), _) => format.name(k, 0),
        (None, TagFormat::Version { prefix }) => format!("{prefix}{UNKNOWN_VERSION}"),
        (None, TagFormat::Date { .. }) => UNKNOWN_VERSION.to_string(),
    };
    let found = path.map(|p| repo_tags(p, format));
    let (tag, previous, error) = match (&found, key) {
        (Some(Ok(tags)), Some(key)) => (
            tags::session_tag(format, tags, *key),
            tags::previous(tags, *key).map(|t| t.name.clone()),
            None,
        ),
        (Some(Err(e)), _) => (plain(key), None, Some(format!("{e:#}"))),
        (_, None) => (
            plain(key),
            None,
            Some("the version is not known yet: the repo with its file has no checkout".into()),
        ),
        (None, Some(_)) => (plain(key), None, None),
    };
    RepoVars {
        name: name.to_string(),
        github: repo.github.clone(),
        branch: repo.branch.clone(),
        remote: repo.remote.clone(),
        path: path.map(|p| p.display().to_string()),
        migrations: repo.migrations.clone(),
        compare_url: previous
            .as_ref()
            .map(|p| compare_url(&repo.github, p, &tag)),
        tag,
        previous_tag: previous,
        error,
    }
}

/// A `[vars]` value read from a file: `None` when its repo has no checkout here (learn, or a
/// plan without config), an error when the checkout is there and the value is not.
fn file_var(loaded: &Loaded, config: &Config, name: &str, f: &FileVar) -> Result<Option<String>> {
    let repo = match &f.repo {
        Some(r) => r.as_str(),
        None => loaded
            .runbook
            .repos
            .first()
            .map(|(n, _)| n.as_str())
            .context("a value read from a file needs a repo")?,
    };
    let Some(path) = config.repo_path(repo) else {
        return Ok(None);
    };
    crate::runbook::files::read_toml_value(path, &f.toml, &f.key)
        .with_context(|| {
            format!(
                "vars.{name}: reading `{}` of {} in the checkout of repo `{repo}`",
                f.key, f.toml
            )
        })
        .map(Some)
}

impl Vars {
    pub fn compute(
        loaded: &Loaded,
        config: &Config,
        now: Now,
        operator: &str,
        mode: &str,
        repo_tags: TagReader<'_>,
    ) -> Result<Self> {
        let rb = &loaded.runbook;
        let cal = &loaded.calendar;
        let today = now.today(cal.tz);
        let push = cal.push_on_or_after(today).with_context(|| {
            format!("no push date within a year of {today}: check schedule.skip and every_weeks")
        })?;
        let next = cal.push_after(push);
        let mut vars = Vars {
            runbook: rb.name.clone(),
            summary: rb.summary.clone(),
            push_date: push.to_string(),
            tag_date: cal.tag_date(push).to_string(),
            next_push_date: next.map(|d| d.to_string()),
            today: today.to_string(),
            now: now.rfc3339(cal.tz),
            tag: String::new(),
            previous_tag: None,
            compare_url: None,
            hero: cal.hero(push).map(str::to_string),
            next_hero: next.and_then(|d| cal.hero(d)).map(str::to_string),
            operator: operator.to_string(),
            mode: mode.to_string(),
            people: cal.people.clone(),
            version: None,
            repos: Ordered::default(),
            links: Ordered::default(),
            vars: Ordered::default(),
            clock: now,
        };
        // A first pass for the version, which names the tags: constants over the dates (each
        // other's values do not nest); values read from files are data, never rendered.
        let base = vars.to_json();
        let mut unknown_file = false;
        for (k, v) in &rb.vars {
            let text = match v {
                // Only a version needs them this early; the second pass renders them all.
                VarValue::Text(_) if cal.version.is_none() => continue,
                VarValue::Text(t) => crate::templates::render(t, &base)
                    .with_context(|| format!("rendering vars.{k}"))?,
                VarValue::File(f) => match file_var(loaded, config, k, f)? {
                    Some(text) => text,
                    None => {
                        unknown_file = true;
                        format!("⟨vars.{k}⟩")
                    }
                },
            };
            vars.vars.insert(k.clone(), text);
        }
        // What this push's tags name: its date, or the version the runbook reads.
        let key = match &cal.version {
            None => Some(TagKey::Date(push)),
            Some(template) => {
                let text = crate::templates::render(template, &vars.to_json())
                    .context("rendering schedule.version")?;
                let text = text.trim().to_string();
                vars.version = Some(text.clone());
                match Version::parse(&text) {
                    Ok(v) => Some(TagKey::Version(v)),
                    Err(_) if unknown_file && text.contains('⟨') => None,
                    Err(e) => bail!("schedule.version: {e}"),
                }
            }
        };
        vars.repos = rb
            .repos
            .iter()
            .map(|(name, repo)| {
                (
                    name.clone(),
                    repo_vars(
                        name,
                        repo,
                        config.repo_path(name),
                        &cal.tag_format,
                        key.as_ref(),
                        repo_tags,
                    ),
                )
            })
            .collect();
        let first = vars.repos.first().map(|(_, r)| r.clone());
        vars.tag = match (&first, &key) {
            (Some(r), _) => r.tag.clone(),
            (None, Some(k)) => cal.tag_format.name(k, 0),
            (None, None) => UNKNOWN_VERSION.to_string(),
        };
        vars.previous_tag = first.as_ref().and_then(|r| r.previous_tag.clone());
        vars.compare_url = first.as_ref().and_then(|r| r.compare_url.clone());
        // Constants are rendered again now that the tags are known (they may name them).
        let base = vars.to_json();
        for (k, v) in &rb.vars {
            if let VarValue::Text(t) = v {
                let text = crate::templates::render(t, &base)
                    .with_context(|| format!("rendering vars.{k}"))?;
                vars.vars.insert(k.clone(), text);
            }
        }
        let base = vars.to_json();
        for (k, v) in &rb.links {
            let text = crate::templates::render(v, &base)
                .with_context(|| format!("rendering links.{k}"))?;
            vars.links.insert(k.clone(), text);
        }
        Ok(vars)
    }

    /// Sets a repo's tag for this push (and the plain `tag` when it is the first repo); the
    /// compare link follows.
    pub fn set_repo_tag(&mut self, repo: &str, tag: &str) {
        let first = self.repos.first().map(|(n, _)| n.clone());
        let Some(r) = self.repos.get_mut(repo) else {
            return;
        };
        r.tag = tag.to_string();
        r.compare_url = r
            .previous_tag
            .as_ref()
            .map(|p| compare_url(&r.github, p, tag));
        if first.as_deref() == Some(repo) {
            self.tag = r.tag.clone();
            self.compare_url = r.compare_url.clone();
        }
    }

    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or_else(|_| json!({}))
    }
}
