//! Session variables: the push date, the tag, the heroes and the links, computed from the
//! clock (or `--now`) in the runbook's timezone and from each repo's existing tags.

use std::path::Path;
use std::str::FromStr;

use anyhow::{Context, Result};
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use super::Loaded;
use super::model::{Ordered, Repo};
use crate::config::Config;
use crate::git::tags::{self, TagFormat};

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
    pub repos: Ordered<RepoVars>,
    pub links: Ordered<String>,
    pub vars: Ordered<String>,
}

use crate::git::spec::github_compare_url as compare_url;

/// Tags of a local checkout; an error says why they could not be read.
fn repo_tags(path: &Path, format: &TagFormat) -> Result<Vec<tags::ReleaseTag>> {
    tags::repo_release_tags(&crate::git::spec::open_path(path)?, format)
}

fn repo_vars(
    name: &str,
    repo: &Repo,
    path: Option<&Path>,
    format: &TagFormat,
    push: NaiveDate,
) -> RepoVars {
    let found = path.map(|p| repo_tags(p, format));
    let (tag, previous, error) = match &found {
        Some(Ok(tags)) => (
            tags::next_free(format, tags, push),
            tags::previous(tags, push).map(|t| t.name.clone()),
            None,
        ),
        Some(Err(e)) => (format.name(push, 0), None, Some(format!("{e:#}"))),
        None => (format.name(push, 0), None, None),
    };
    RepoVars {
        name: name.to_string(),
        github: repo.github.clone(),
        branch: repo.branch.clone(),
        remote: repo.remote.clone(),
        path: path.map(|p| p.display().to_string()),
        compare_url: previous
            .as_ref()
            .map(|p| compare_url(&repo.github, p, &tag)),
        tag,
        previous_tag: previous,
        error,
    }
}

impl Vars {
    pub fn compute(
        loaded: &Loaded,
        config: &Config,
        now: Now,
        operator: &str,
        mode: &str,
    ) -> Result<Self> {
        let rb = &loaded.runbook;
        let cal = &loaded.calendar;
        let today = now.today(cal.tz);
        let push = cal.push_on_or_after(today).with_context(|| {
            format!("no push date within a year of {today}: check schedule.skip and every_weeks")
        })?;
        let next = cal.push_after(push);
        let repos: Ordered<RepoVars> = rb
            .repos
            .iter()
            .map(|(name, repo)| {
                (
                    name.clone(),
                    repo_vars(name, repo, config.repo_path(name), &cal.tag_format, push),
                )
            })
            .collect();
        let first = repos.first().map(|(_, r)| r);
        let mut vars = Vars {
            runbook: rb.name.clone(),
            summary: rb.summary.clone(),
            push_date: push.to_string(),
            tag_date: cal.tag_date(push).to_string(),
            next_push_date: next.map(|d| d.to_string()),
            today: today.to_string(),
            now: now.rfc3339(cal.tz),
            tag: first.map_or_else(|| cal.tag_format.name(push, 0), |r| r.tag.clone()),
            previous_tag: first.and_then(|r| r.previous_tag.clone()),
            compare_url: first.and_then(|r| r.compare_url.clone()),
            hero: cal.hero(push).map(str::to_string),
            next_hero: next.and_then(|d| cal.hero(d)).map(str::to_string),
            operator: operator.to_string(),
            mode: mode.to_string(),
            people: cal.people.clone(),
            repos,
            links: Ordered::default(),
            vars: Ordered::default(),
        };
        // Links and constants may use the dates, and each other's values do not nest.
        let base = vars.to_json();
        for (k, v) in &rb.vars {
            let text = crate::templates::render(v, &base)
                .with_context(|| format!("rendering vars.{k}"))?;
            vars.vars.insert(k.clone(), text);
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
