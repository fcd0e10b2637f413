//! The stand-ins' state kept in a sandbox (`standins.json`): the builds the deploy job ran,
//! hence what stage runs; GitHub's releases and the tags they made; the pads; the mail sent;
//! Sentry's issues and Graphite's spikes; and
//! which of the scenario's events have happened. A rehearsal resumed from its folder meets the
//! world it left, and no event happens twice.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, anyhow};
use serde_json::{Value, json};

use crate::standins::{etherpad, github, graphite, jenkins, matrix, sentry, slack, smtp};

/// The scenario's events that have happened in this sandbox: each happens once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Events {
    /// The blocker's fix is on the remote.
    pub fix_landed: bool,
    /// The errors jumped after the production push.
    pub spiked: bool,
}

/// The stand-ins whose state is kept, and where.
pub struct Kept {
    pub path: PathBuf,
    pub jenkins: Arc<jenkins::Jenkins>,
    pub sentry: Arc<sentry::Sentry>,
    pub graphite: Arc<graphite::Graphite>,
    pub github: Arc<github::Github>,
    pub etherpad: Arc<etherpad::Etherpad>,
    pub smtp: Arc<smtp::Smtp>,
    pub matrix: Arc<matrix::Matrix>,
    pub slack: Arc<slack::Slack>,
    /// What was last written: nothing is written while nothing changes.
    pub last: String,
}

impl Kept {
    fn snapshot(&self, events: Events) -> Value {
        json!({
            "jenkins": self.jenkins.snapshot(),
            "sentry": self.sentry.snapshot(),
            "graphite": self.graphite.snapshot(),
            "github": self.github.snapshot(),
            "etherpad": self.etherpad.snapshot(),
            "smtp": self.smtp.snapshot(),
            "matrix": self.matrix.snapshot(),
            "slack": self.slack.snapshot(),
            "events": {"fix_landed": events.fix_landed, "spiked": events.spiked},
        })
    }

    /// Gives the stand-ins the state kept in the sandbox, if any; the events that had
    /// happened (none for a new sandbox).
    pub fn restore(&mut self) -> Result<Events> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Events::default()),
            Err(e) => return Err(e).with_context(|| format!("reading {}", self.path.display())),
        };
        let damaged = |e: String| {
            anyhow!(
                "{} cannot be read back ({e}): remove it to start the stand-ins afresh",
                self.path.display()
            )
        };
        let v: Value = serde_json::from_str(&text).map_err(|e| damaged(e.to_string()))?;
        let part = |name: &str| v.get(name).ok_or_else(|| damaged(format!("no `{name}`")));
        self.jenkins.restore(part("jenkins")?).map_err(damaged)?;
        self.sentry.restore(part("sentry")?).map_err(damaged)?;
        self.graphite.restore(part("graphite")?).map_err(damaged)?;
        self.etherpad.restore(part("etherpad")?).map_err(damaged)?;
        self.smtp.restore(part("smtp")?).map_err(damaged)?;
        // A sandbox kept before rehearsals had a channel has no room to take up.
        if let Some(room) = v.get("matrix") {
            self.matrix.restore(room).map_err(damaged)?;
        }
        if let Some(channel) = v.get("slack") {
            self.slack.restore(channel).map_err(damaged)?;
        }
        // Nor one kept before GitHub's releases were.
        if let Some(releases) = v.get("github") {
            self.github.restore(releases).map_err(damaged)?;
        }
        let events = part("events")?;
        let flag = |name: &str| events[name].as_bool().unwrap_or(false);
        self.last = text;
        Ok(Events {
            fix_landed: flag("fix_landed"),
            spiked: flag("spiked"),
        })
    }

    /// Writes the state if it changed since it was last written.
    pub fn keep(&mut self, events: Events) -> Result<()> {
        let text = serde_json::to_string_pretty(&self.snapshot(events))
            .context("writing out the stand-ins' state")?;
        if text == self.last {
            return Ok(());
        }
        write_atomically(&self.path, &text)?;
        self.last = text;
        Ok(())
    }
}

/// Writes `text` beside `path`, then renames it over `path`: a rehearsal stopped mid-write
/// leaves the old state or the new one, never half of one.
fn write_atomically(path: &Path, text: &str) -> Result<()> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    std::fs::write(&partial, text).with_context(|| format!("writing {}", partial.display()))?;
    std::fs::rename(&partial, path).with_context(|| format!("replacing {}", path.display()))
}
