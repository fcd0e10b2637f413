//! The operator's own settings: who they are, where their checkouts live, which credentials
//! they use. Never part of the runbook; never holds a secret itself.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::diag::{Diagnostics, Source};
use crate::overrides::Override;
use crate::runbook::load::{Doc, de};
use crate::runbook::model::{Ordered, SecretRef};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Who is at the keyboard; recorded in the journal.
    #[serde(default)]
    pub operator: Option<String>,
    /// Editor for templates (else `$VISUAL`, `$EDITOR`, `vi`).
    #[serde(default)]
    pub editor: Option<String>,
    #[serde(default)]
    pub repos: Ordered<RepoConfig>,
    #[serde(default)]
    pub services: Ordered<ServiceConfig>,
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
            for r in c.repos.values_mut() {
                r.path = expand_home(&r.path);
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

/// Repos and services the config (or a `--set`) names that the runbook does not have: a typo
/// there would otherwise leave the real one unconfigured without a word.
pub fn unknown_names(
    explicit: Option<&Path>,
    overrides: &[Override],
    rb: &crate::runbook::model::Runbook,
) -> Diagnostics {
    let Ok(doc) = read(explicit, overrides) else {
        return Diagnostics::default(); // `load` reports why
    };
    let mut diags = Diagnostics::default();
    let Some(top) = doc.table() else {
        return diags;
    };
    let sections: [(&str, &str, Vec<&String>); 2] = [
        ("repos", "repo", rb.repos.keys().collect()),
        ("services", "service", rb.services.keys().collect()),
    ];
    for (key, what, known) in sections {
        let Some(toml::de::DeValue::Table(t)) = top.get(key).map(|v| v.get_ref()) else {
            continue;
        };
        for (name, _) in t.iter() {
            if !known.iter().any(|k| *k == name.get_ref()) {
                let m = crate::runbook::validate::undefined(what, name.get_ref(), known.clone());
                diags.push(doc.source.diag(&name.span(), m));
            }
        }
    }
    diags
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
