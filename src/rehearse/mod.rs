//! `pushduty rehearse`: a whole push practised offline. A sandbox (a git repo with a history and
//! release tags, its bare `upstream`, a config and a state dir) and stand-ins for every service
//! on loopback; then the real `run` (or `run --auto`) on the bundled runbook, pointed at them
//! only through the general mechanisms: the sandbox's config, `--set`, and secrets in the
//! environment. Nothing in the engine knows it is a rehearsal.

pub mod kept;
pub mod releases;
pub mod rig;
pub mod sandbox;
pub mod week;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// What the rehearsal practises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// Everything goes well.
    Normal,
    /// QA finds a blocker after the tag: its fix is cherry-picked and the push re-tagged `-1`.
    Blocker,
    /// The first stage deploy fails; a retry succeeds.
    FailedDeploy,
    /// Errors jump after the production push: the health checks fail.
    Spike,
    /// The 2026 runbook: GitHub releases with one-off items, and a `-1` of addons-server.
    Releases,
    /// The push is the team's: a push log in the sandbox; the next hero follows the push on
    /// another machine and takes it over at the production push.
    Handover,
}

impl Scenario {
    pub fn name(self) -> &'static str {
        match self {
            Self::Normal => "normal",
            Self::Blocker => "blocker",
            Self::FailedDeploy => "failed-deploy",
            Self::Spike => "spike",
            Self::Releases => "releases",
            Self::Handover => "handover",
        }
    }

    /// What happens, told before it starts.
    pub fn story(self) -> &'static str {
        match self {
            Self::Normal => "an ordinary week: everything goes as planned.",
            Self::Blocker => {
                "a blocker is open on GitHub; its fix lands on master once the tag is \
                 pushed, and the git pane shows it. Record it in the blockers step (the prompt \
                 offers the fix), then follow the status line: reopen the choice (cherry-pick), \
                 pick the fix, and the push becomes `-1`."
            }
            Self::FailedDeploy => {
                "the first stage deploy fails (Jenkins says FAILURE); retry it (`r`)."
            }
            Self::Spike => {
                "errors jump right after the production push: watch the Sentry and Graphite \
                 checks fail, and see what that means for the push."
            }
            Self::Releases => {
                "the 2026 push: the previous hero left draft releases of addons-server and \
                 addons-frontend with one-off items; publishing one makes its tag and CI \
                 deploys it to stage, and its items join the checklist. A blocker of \
                 addons-server is open; its fix lands on master once the server's release is \
                 published: reopen `strategy-server` (`O`) and choose cherry_pick; \
                 `fetch-server` brings the fix and the cherry-pick offers it; tag and push \
                 `-1`, then draft and publish its release. The blockers step then finds the \
                 fix shipped in `-1`: resolved."
            }
            Self::Handover => {
                "the push is the team's: the sandbox has a push log (a bare repository), and \
                 every step is written there before it acts. You drive until the production \
                 push, then quit the screen (`q`): the next hero, on another machine (a state \
                 dir of their own), follows the push from the log and takes it over with a \
                 reason. From then on your steps are refused, naming who took over and why, \
                 and theirs go on from your journal: one tag, one deploy, one announcement."
            }
        }
    }
}

/// What the hero of a scenario that ends badly does next, once the rehearsal is over.
pub struct Aftermath<'a> {
    /// This push's tag, and the last one production ran before it.
    pub tag: &'a str,
    pub previous: &'a str,
    /// Who pushes to production (the runbook's `vars.ops`).
    pub ops: &'a str,
    /// The new error's page.
    pub issue_url: &'a str,
}

impl Scenario {
    /// The rehearsal's last words: in `spike`, who to tell and how to roll back.
    pub fn aftermath(self, a: &Aftermath) -> Option<String> {
        if self != Self::Spike {
            return None;
        }
        let Aftermath {
            tag,
            previous,
            ops,
            issue_url,
        } = a;
        Some(format!(
            "# What the hero does next\n\n\
             {tag} is in production and not healthy: a new error since the push ({}) and the \
             server errors up. The push is not done until that is settled:\n\n\
             1. Tell {ops} (ops) now, in the push channel and by name: what rose, since when, \
             and the issue: {issue_url}\n\
             2. Decide with {ops} whether to roll back. If the errors keep coming or people are \
             hurt, {ops} puts last week's tag {previous} back in production: it was approved and \
             ran for a week, nothing needs tagging. If a small fix is certain, it goes out as \
             {tag}-1 the way a blocker's fix does (cherry-pick, tag, stage, QA, production).\n\
             3. File a bug for the error with the issue's link, and note it and the rollback in \
             the push's pad.\n\
             4. Once production runs {previous} (or {tag}-1), watch again \
             (`pushduty do watch-sentry --reopen \"rolled back\"`); send the announcement only \
             then, saying what happened.\n",
            rig::SPIKE_TITLE
        ))
    }
}

/// The sandbox's layout.
pub struct Sandbox {
    pub root: PathBuf,
}

/// Marks a folder as a rehearsal sandbox; holds the scenario it was made for.
const MARKER: &str = ".pushduty-rehearsal";

impl Sandbox {
    pub fn repo(&self) -> PathBuf {
        self.root.join("olympia")
    }
    pub fn upstream(&self) -> PathBuf {
        self.root.join("upstream.git")
    }
    /// The checkout of a repo named `name` (of a runbook with several).
    pub fn repo_named(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }
    /// The bare remote of the repo named `name`.
    pub fn upstream_named(&self, name: &str) -> PathBuf {
        self.root.join(format!("{name}.git"))
    }
    /// Where the bundled runbook of a scenario is written, with the templates it names.
    pub fn runbooks(&self) -> PathBuf {
        self.root.join("runbook")
    }
    pub fn config(&self) -> PathBuf {
        self.root.join("config.toml")
    }
    pub fn state(&self) -> PathBuf {
        self.root.join("state")
    }
    pub fn mail(&self) -> PathBuf {
        self.root.join("mail")
    }
    pub fn ports(&self) -> PathBuf {
        self.root.join("ports")
    }
    /// The stand-ins' state, as they left it.
    pub fn standins(&self) -> PathBuf {
        self.root.join("standins.json")
    }
    /// The team's push log (`handover`): a bare repository, its branch made once.
    pub fn push_log(&self) -> PathBuf {
        self.root.join("team-log.git")
    }
    /// The state dir of the hero who takes over (`handover`): their own machine's.
    pub fn next_state(&self) -> PathBuf {
        self.root.join("state-next")
    }

    /// Opens `root` for a rehearsal of `scenario`: an empty or absent folder is made into a
    /// sandbox; one made earlier for the same scenario and push date is reused (the
    /// rehearsal resumes where it stopped); anything else is refused, never overwritten.
    /// Whether it is new.
    pub fn open(root: &Path, scenario: Scenario, push_date: &str) -> Result<(Self, bool)> {
        // The config written inside names the sandbox's paths: absolute, so the rehearsal
        // resumes from any folder, not only the one it was started in.
        let root = &std::path::absolute(root)
            .with_context(|| format!("finding where {} is", root.display()))?;
        let sb = Self {
            root: root.to_path_buf(),
        };
        let marker = root.join(MARKER);
        let wanted = format!("{} {push_date}\n", scenario.name());
        if marker.exists() {
            let had = std::fs::read_to_string(&marker).unwrap_or_default();
            if had != wanted {
                bail!(
                    "{} holds the rehearsal `{}`, not `{}`: give another --dir, or remove it",
                    root.display(),
                    had.trim(),
                    wanted.trim()
                );
            }
            return Ok((sb, false));
        }
        if root.exists() {
            let empty = std::fs::read_dir(root)
                .with_context(|| format!("reading {}", root.display()))?
                .next()
                .is_none();
            if !empty {
                bail!(
                    "{} is not empty and is not a rehearsal sandbox: give an empty or new folder",
                    root.display()
                );
            }
        }
        std::fs::create_dir_all(root).with_context(|| format!("creating {}", root.display()))?;
        std::fs::write(&marker, wanted).context("marking the sandbox")?;
        Ok((sb, true))
    }
}

/// Who rehearses: `--operator` (or the config's), else the OS user's login (from the
/// environment, else the account that owns the sandbox), else a name that reads as one: never
/// a role, which the header would show as "hero hero".
pub fn operator(given: Option<&str>, sandbox: &Path) -> String {
    let login = || {
        ["USER", "LOGNAME"]
            .iter()
            .find_map(|v| std::env::var(v).ok().filter(|l| !l.trim().is_empty()))
            .or_else(|| account_of(sandbox))
    };
    given
        .map(str::to_string)
        .filter(|o| !o.trim().is_empty())
        .or_else(login)
        .unwrap_or_else(|| "Rehearsal Hero".to_string())
}

/// The login of the account owning `path`, from the password file.
#[cfg(not(unix))]
fn account_of(_: &Path) -> Option<String> {
    None
}

/// The login of the account owning `path`, from the password file.
#[cfg(unix)]
fn account_of(path: &Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let uid = std::fs::metadata(path).ok()?.uid().to_string();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let mut fields = l.split(':');
        let (name, _, id) = (fields.next()?, fields.next()?, fields.next()?);
        (id == uid && !name.is_empty()).then(|| name.to_string())
    })
}

/// The config the sandbox's operator has: their checkouts (runbook repo name, path), their
/// user per service, and where each secret is found (the environment: the secrets themselves
/// are never written); only for the services the runbook has (`services`, by name).
/// `channels`: the runbook's Slack services, each with whether it posts with a token (else
/// through its webhook).
pub fn config_text(
    operator: &str,
    repos: &[(String, PathBuf)],
    services: &[String],
    rooms: &[String],
    channels: &[(String, bool)],
) -> String {
    let [
        jenkins,
        sentry,
        github,
        etherpad,
        smtp,
        matrix,
        slack,
        webhook,
    ] = rig::TOKEN_VARS;
    let op = toml_string(operator);
    let checkouts: String = repos
        .iter()
        .map(|(name, path)| {
            let path = toml_string(&path.display().to_string());
            format!("[repos.{name}]\npath = {path}\n\n")
        })
        .collect();
    let known = [
        (
            "stage-deploy",
            format!("user = {op}\ntoken = {{ env = \"{jenkins}\" }}"),
        ),
        ("sentry", format!("token = {{ env = \"{sentry}\" }}")),
        ("github", format!("token = {{ env = \"{github}\" }}")),
        ("etherpad", format!("key = {{ env = \"{etherpad}\" }}")),
        ("list", format!("password = {{ env = \"{smtp}\" }}")),
    ];
    let secrets: Vec<String> = known
        .iter()
        .filter(|(name, _)| services.iter().any(|s| s == name))
        .map(|(name, keys)| format!("[services.{name}]\n{keys}\n"))
        .collect();
    format!(
        "# A rehearsal's config: made by `pushduty rehearse`. The secrets are in the\n\
         # environment of the rehearsing process only.\n\
         operator = {op}\n\
         # The fix of a blocker lands on the sandbox's remote: fetched in seconds, not minutes.\n\
         background_fetch_secs = 3\n\n\
         {checkouts}{}{}",
        secrets.join("\n"),
        rooms
            .iter()
            .map(|name| format!("\n[services.{name}]\ntoken = {{ env = \"{matrix}\" }}\n"))
            .chain(channels.iter().map(|(name, token)| match token {
                true => format!("\n[services.{name}]\ntoken = {{ env = \"{slack}\" }}\n"),
                false => format!("\n[services.{name}]\nwebhook = {{ env = \"{webhook}\" }}\n"),
            }))
            .collect::<String>()
    )
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_has_each_checkout_and_the_secrets_of_the_runbooks_own_services_only() {
        let repos = [
            ("server".to_string(), PathBuf::from("/sb/addons-server")),
            ("frontend".to_string(), PathBuf::from("/sb/addons-frontend")),
        ];
        let services = ["github", "sentry", "graphite", "channel"].map(String::from);
        let text = config_text("ana", &repos, &services, &["channel".into()], &[]);
        let config: toml::Value = toml::from_str(&text).unwrap();
        assert_eq!(
            config["repos"]["server"]["path"].as_str(),
            Some("/sb/addons-server")
        );
        assert_eq!(
            config["repos"]["frontend"]["path"].as_str(),
            Some("/sb/addons-frontend")
        );
        let mut named: Vec<&String> = config["services"].as_table().unwrap().keys().collect();
        named.sort();
        assert_eq!(named, ["channel", "github", "sentry"], "{text}");
        // Where each secret is, never the secret.
        assert_eq!(
            config["services"]["github"]["token"]["env"].as_str(),
            Some(rig::TOKEN_VARS[2])
        );
    }
}
