//! The operator's own settings: who they are, where their checkouts live, which credentials
//! they use. Never part of the runbook; never holds a secret itself.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::diag::{Diagnostics, Source};
use crate::overrides::Override;
use crate::runbook::load::{Doc, de};
use crate::runbook::model::{Ordered, SecretRef};

/// How often the git pane fetches in the background when the config does not say: often
/// enough that a fix merged upstream shows within minutes, rarely enough not to be noticed.
pub const DEFAULT_BACKGROUND_FETCH_SECS: u64 = 300;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Who is at the keyboard; recorded in the journal.
    #[serde(default)]
    pub operator: Option<String>,
    /// Editor for templates (else `$VISUAL`, `$EDITOR`, `vi`).
    #[serde(default)]
    pub editor: Option<String>,
    /// Seconds between the git pane's quiet fetches of each repo's branch (0: never); see
    /// [`DEFAULT_BACKGROUND_FETCH_SECS`].
    #[serde(default)]
    pub background_fetch_secs: Option<u64>,
    /// The program that opens links (`o`), as words (no shell): the link is put where `%s`
    /// is, else after them. Else `$BROWSER`, else `xdg-open` (`open` on macOS).
    #[serde(default)]
    pub opener: Option<String>,
    /// How the screen says when to look (a long step ended, a watch's verdict, a new
    /// blocker): see [`Notify`]; the terminal bell when not set.
    #[serde(default)]
    pub notify: Option<Notify>,
    /// A step that ran at least this many seconds calls the operator when it ends (60 when
    /// not set).
    #[serde(default)]
    pub notify_after_secs: Option<u64>,
    /// Whether the screen takes the mouse (click a step, wheel to scroll); `false` leaves
    /// it to the terminal: its own selection and link clicks.
    #[serde(default)]
    pub mouse: Option<bool>,
    /// Whether links on the screen are terminal hyperlinks (OSC 8); `false` for a terminal
    /// that prints the escape instead of hiding it.
    #[serde(default)]
    pub hyperlinks: Option<bool>,
    #[serde(default)]
    pub repos: Ordered<RepoConfig>,
    #[serde(default)]
    pub services: Ordered<ServiceConfig>,
    /// Repos and services for one runbook only, by the runbook's slug (`amo-weekly-push`,
    /// `pushduty-release`: as in the state folder), where the same name means different
    /// things in two runbooks. They win over the top-level entries of the same name.
    #[serde(default)]
    pub runbooks: Ordered<RunbookConfig>,
    /// The team's push log: a branch of a git repository that holds every push's journal.
    #[serde(default)]
    pub log: Option<LogConfig>,
}

/// The branch a push log lives on when the config does not say.
pub const DEFAULT_LOG_BRANCH: &str = "pushduty-log";

/// `[log]`: where the team's push log is, reached through the operator's own `git`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// A git URL (an ssh alias, `https://...`) or a path, as `git fetch` takes it.
    pub repo: String,
    /// A branch of its own, never the repository's main line.
    #[serde(default)]
    pub branch: Option<String>,
}

impl LogConfig {
    pub fn branch(&self) -> &str {
        self.branch.as_deref().unwrap_or(DEFAULT_LOG_BRANCH)
    }
}

/// How the screen calls the operator.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Notify {
    Off,
    /// The terminal bell.
    #[default]
    Bell,
    /// A desktop notification: the terminal's notification escape, and `notify-send`
    /// (`osascript` on macOS) where it is installed.
    Desktop,
    Both,
}

/// The `[runbooks.SLUG]` section of one runbook.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunbookConfig {
    #[serde(default)]
    pub repos: Ordered<RepoConfig>,
    #[serde(default)]
    pub services: Ordered<ServiceConfig>,
    /// This runbook's push log, over the top-level `[log]`.
    #[serde(default)]
    pub log: Option<LogConfig>,
}

impl Config {
    /// The config as one runbook sees it: its own `[runbooks.SLUG]` entries over the
    /// top-level ones; the other runbooks' sections left out.
    pub fn for_runbook(mut self, slug: &str) -> Config {
        if let Some(own) = self.runbooks.shift_remove(slug) {
            self.repos.extend(own.repos);
            self.services.extend(own.services);
            if own.log.is_some() {
                self.log = own.log;
            }
        }
        self.runbooks.clear();
        self
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepoConfig {
    /// The local checkout of the repo.
    pub path: PathBuf,
}

/// Per-service credentials, overriding the runbook's references.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    /// Where this operator reaches the service, when not where the runbook says.
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub token: Option<SecretRef>,
    #[serde(default)]
    pub password: Option<SecretRef>,
    #[serde(default)]
    pub key: Option<SecretRef>,
    /// A Slack incoming webhook's URL, which is a secret.
    #[serde(default)]
    pub webhook: Option<SecretRef>,
    /// An SMTP service's extra trusted certificates (PEM), as on this machine.
    #[serde(default)]
    pub ca_file: Option<String>,
}

/// Where the config comes from and whether it must exist.
pub fn default_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "pushduty").map(|d| d.config_dir().join("config.toml"))
}

/// Loads the config: `explicit` must exist; the default path may be absent (empty config).
pub fn load(explicit: Option<&Path>, overrides: &[Override]) -> Result<Config, Diagnostics> {
    let doc = read(explicit, overrides)?;
    let mut diags = Diagnostics::default();
    let config: Option<Config> = de(&doc, &doc.root, "the config", &mut diags);
    match config {
        Some(mut c) if diags.is_empty() => {
            let own = c.runbooks.values_mut().flat_map(|r| r.repos.values_mut());
            for r in c.repos.values_mut().chain(own) {
                r.path = expand_home(&r.path);
            }
            let logs = c.runbooks.values_mut().filter_map(|r| r.log.as_mut());
            for l in c.log.iter_mut().chain(logs) {
                // A path, not a URL: `~` is the operator's home, as for the checkouts.
                if l.repo.starts_with('~') {
                    l.repo = expand_home(Path::new(&l.repo))
                        .to_string_lossy()
                        .into_owned();
                }
            }
            Ok(c)
        }
        _ => Err(diags),
    }
}

/// The config as a document with positions, `--set` values applied.
fn read(explicit: Option<&Path>, overrides: &[Override]) -> Result<Doc, Diagnostics> {
    let (path, required) = match explicit {
        Some(p) => (Some(p.to_path_buf()), true),
        None => (default_path(), false),
    };
    let text = match &path {
        Some(p) => match std::fs::read_to_string(p) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => String::new(),
            Err(e) => {
                let src = Source::new(p.display().to_string(), "");
                return Err(Diagnostics(vec![
                    src.whole(format!("cannot read the config: {e}")),
                ]));
            }
        },
        None => String::new(),
    };
    let name = path
        .as_ref()
        .map_or("<config>".into(), |p| p.display().to_string());
    let mut doc = Doc::parse(Source::new(name, text))?;
    doc.apply_overrides(overrides.iter().filter(|o| o.is_config()));
    Ok(doc)
}

/// What the config names that the runbook does not have.
#[derive(Debug, Default)]
pub struct Unknown {
    /// Names given with `--set` for this one run: surely meant for this runbook.
    pub errors: Diagnostics,
    /// Entries of the config file, one line each with the name it may have meant: a warning,
    /// since one config serves several runbooks and an entry for another one is no mistake;
    /// a typo still gets a word.
    pub warnings: Vec<String>,
}

/// Repos and services the config (or a `--set`) names that the runbook does not have, at
/// the top level and in the runbook's own `[runbooks.SLUG]` section.
pub fn unknown_names(
    explicit: Option<&Path>,
    overrides: &[Override],
    rb: &crate::runbook::model::Runbook,
    slug: &str,
) -> Unknown {
    let mut out = Unknown::default();
    let Ok(doc) = read(explicit, overrides) else {
        return out; // `load` reports why
    };
    let Some(top) = doc.table() else {
        return out;
    };
    fn table<'a, 'b>(t: &'a toml::de::DeTable<'b>, key: &str) -> Option<&'a toml::de::DeTable<'b>> {
        match t.get(key).map(|v| v.get_ref()) {
            Some(toml::de::DeValue::Table(t)) => Some(t),
            _ => None,
        }
    }
    let mut places = vec![(top, String::new())];
    if let Some(own) = table(top, "runbooks").and_then(|r| table(r, slug)) {
        places.push((own, format!(" (in [runbooks.{slug}])")));
    }
    for (place, within) in &places {
        for (key, what, known) in [
            ("repos", "repo", rb.repos.keys().collect::<Vec<_>>()),
            ("services", "service", rb.services.keys().collect()),
        ] {
            let Some(t) = table(place, key) else {
                continue;
            };
            for (name, _) in t.iter() {
                if known.iter().any(|k| *k == name.get_ref()) {
                    continue;
                }
                let span = name.span();
                let name = name.get_ref();
                if span.start >= crate::diag::OVERRIDE_SPAN_START {
                    let m = crate::runbook::validate::undefined(what, name, known.clone());
                    out.errors.push(doc.source.diag(&span, m));
                    continue;
                }
                let d = doc.source.diag(&span, "");
                let hint = crate::runbook::load::closest(name, known.iter().map(|k| k.as_str()))
                    .map(|c| format!(" (did you mean `{c}`?)"))
                    .unwrap_or_default();
                let has = if known.is_empty() {
                    format!("it has no {what}s")
                } else {
                    let names: Vec<&str> = known.iter().map(|k| k.as_str()).collect();
                    format!("it has {}", names.join(", "))
                };
                let place = match d.line {
                    0 => d.file.clone(),
                    line => format!("{}:{line}:{}", d.file, d.col),
                };
                out.warnings.push(format!(
                    "{place}: warning: {what} `{name}`{within} is not in `{}`{hint}; {has}. \
                     This entry is not used",
                    rb.name
                ));
            }
        }
    }
    out
}

/// `~` and `~/...` mean the home folder, as in a shell; paths in TOML and in quoted
/// arguments never pass through one.
pub fn expand_home(p: &Path) -> PathBuf {
    let home = || directories::BaseDirs::new().map(|d| d.home_dir().to_path_buf());
    match p.strip_prefix("~") {
        Ok(rest) => match home() {
            Some(h) if rest.as_os_str().is_empty() => h,
            Some(h) => h.join(rest),
            None => p.to_path_buf(),
        },
        Err(_) => p.to_path_buf(),
    }
}

impl Config {
    pub fn repo_path(&self, repo: &str) -> Option<&Path> {
        self.repos.get(repo).map(|r| r.path.as_path())
    }

    /// How long between the git pane's background fetches; `None` when they are off.
    pub fn background_fetch(&self) -> Option<std::time::Duration> {
        let secs = self
            .background_fetch_secs
            .unwrap_or(DEFAULT_BACKGROUND_FETCH_SECS);
        (secs > 0).then(|| std::time::Duration::from_secs(secs))
    }

    /// The operator: `--operator`, then the config, then the OS user.
    pub fn operator(&self, flag: Option<&str>) -> String {
        flag.map(str::to_string)
            .or_else(|| self.operator.clone())
            .or_else(|| std::env::var("USER").ok())
            .or_else(|| std::env::var("LOGNAME").ok())
            .unwrap_or_else(|| "unknown".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_errors_name_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config.toml");
        std::fs::write(&p, "operator = \"andym\"\n[repos.olympia]\npaht = \"/x\"\n").unwrap();
        let err = load(Some(&p), &[]).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("config.toml:3:1: error: unknown key `paht`"),
            "{text}"
        );
    }

    #[test]
    fn overrides_fill_the_config() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("missing.toml");
        assert!(
            load(Some(&p), &[]).is_err(),
            "an explicit config must exist"
        );
        let empty = dir.path().join("empty.toml");
        std::fs::write(&empty, "").unwrap();
        let o: Override = "repos.olympia.path=/src/olympia".parse().unwrap();
        let c = load(Some(&empty), &[o]).unwrap();
        assert_eq!(c.repo_path("olympia"), Some(Path::new("/src/olympia")));
    }

    #[test]
    fn home_is_expanded() {
        let home = directories::BaseDirs::new()
            .unwrap()
            .home_dir()
            .to_path_buf();
        assert_eq!(expand_home(Path::new("~")), home);
        assert_eq!(expand_home(Path::new("~/src/o")), home.join("src/o"));
        assert_eq!(expand_home(Path::new("~bob/x")), Path::new("~bob/x"));
        assert_eq!(expand_home(Path::new("/a/~")), Path::new("/a/~"));
    }
}
