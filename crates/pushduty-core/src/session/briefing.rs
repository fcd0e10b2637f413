//! A briefing for a hero who last pushed weeks ago: what changed since *their* last push of
//! this runbook (steps added, removed or changed; services that moved) and the one-off items
//! of the pushes in between. Read from the state dir's sessions; shown once per push and
//! journaled as seen.

use std::path::Path;

use indexmap::IndexMap;
use serde::Serialize;

use super::state::{SessionState, service_marks, step_fingerprints};
use crate::runbook::model::{ITEM_PREFIX, Runbook};

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Briefing {
    /// The push date of the hero's last push of this runbook.
    pub since: String,
    /// Steps the runbook has now and did not have then: `(id, title)`.
    pub added: Vec<(String, String)>,
    pub removed: Vec<String>,
    /// Steps whose definition changed: `(id, title)`.
    pub changed: Vec<(String, String)>,
    /// `name: then → now` (`(none)` for a service added or removed).
    pub services: Vec<String>,
    /// Ad-hoc items of the pushes after theirs: `(push date, who, text, status)`.
    pub items: Vec<(String, String, String, String)>,
}

impl Briefing {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.changed.is_empty()
            && self.services.is_empty()
            && self.items.is_empty()
    }

    /// For a person: one heading, then a line per change.
    pub fn lines(&self) -> Vec<String> {
        let mut out = vec![format!("Since your last push ({}):", self.since)];
        for (id, title) in &self.added {
            out.push(format!("  new step {id}: {title}"));
        }
        for (id, title) in &self.changed {
            out.push(format!("  changed step {id}: {title}"));
        }
        for id in &self.removed {
            out.push(format!("  step {id} is gone"));
        }
        for s in &self.services {
            out.push(format!("  service {s}"));
        }
        if !self.items.is_empty() {
            out.push("  one-off items of the pushes since:".into());
            for (date, by, text, status) in &self.items {
                out.push(format!("    {date} ({by}, {status}): {text}"));
            }
        }
        if self.is_empty() {
            out.push("  nothing changed in the runbook, and no one-off items.".into());
        }
        out
    }
}

/// What changed for `operator` since their last push of `slug` before `push_date`; `None`
/// when they have not pushed it before (nothing to compare with).
pub fn brief(
    state_dir: &Path,
    slug: &str,
    push_date: &str,
    operator: &str,
    rb: &Runbook,
) -> Option<Briefing> {
    let sessions = sessions_of(state_dir, slug);
    let theirs = sessions
        .iter()
        .filter(|s| s.push_date.as_str() < push_date && s.operator == operator)
        .max_by(|a, b| a.push_date.cmp(&b.push_date))?;
    let then: IndexMap<&str, &str> = theirs
        .steps
        .iter()
        .filter(|(id, _)| !id.starts_with(ITEM_PREFIX))
        .map(|(id, s)| (id.as_str(), s.fingerprint.as_str()))
        .collect();
    let mut now = step_fingerprints(rb);
    now.retain(|id, _| !id.starts_with(ITEM_PREFIX));
    let title = |id: &str| rb.step(id).map(|s| s.title.clone()).unwrap_or_default();
    let mut b = Briefing {
        since: theirs.push_date.clone(),
        ..Briefing::default()
    };
    for (id, fp) in &now {
        match then.get(id.as_str()) {
            None => b.added.push((id.clone(), title(id))),
            Some(old) if old != fp => b.changed.push((id.clone(), title(id))),
            Some(_) => {}
        }
    }
    b.removed = then
        .keys()
        .filter(|id| !now.contains_key(**id))
        .map(|id| id.to_string())
        .collect();
    // Sessions begun before services were kept say nothing about them.
    if !theirs.services.is_empty() {
        let marks = service_marks(rb);
        let none = "(none)".to_string();
        for name in marks.keys().chain(theirs.services.keys()) {
            let (old, new) = (
                theirs.services.get(name).unwrap_or(&none),
                marks.get(name).unwrap_or(&none),
            );
            let line = format!("{name}: {old} → {new}");
            if old != new && !b.services.contains(&line) {
                b.services.push(line);
            }
        }
    }
    let mut between: Vec<&SessionState> = sessions
        .iter()
        .filter(|s| s.push_date > theirs.push_date && s.push_date.as_str() < push_date)
        .collect();
    between.sort_by(|a, b| a.push_date.cmp(&b.push_date));
    for s in between {
        for (id, it) in &s.items {
            let status = s
                .steps
                .get(id)
                .map_or("listed", |st| st.status.name())
                .to_string();
            b.items
                .push((s.push_date.clone(), it.by.clone(), it.text.clone(), status));
        }
    }
    Some(b)
}

/// Every readable session of `slug`; one that cannot be read is passed over (`history`
/// names it).
fn sessions_of(state_dir: &Path, slug: &str) -> Vec<SessionState> {
    let root = state_dir.join("sessions").join(slug);
    let Ok(dates) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    dates
        .flatten()
        .filter_map(|d| super::load(&d.path()).ok().map(|l| l.state))
        .collect()
}
