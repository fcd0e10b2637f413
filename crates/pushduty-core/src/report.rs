//! `pushduty report`: a push as it happened, added up from its journal. The state says where
//! each step ended; the journal's transitions say how it got there (each run with its start,
//! end and what it did, each skip, reopen and override, who did it). Pure: the caller reads
//! the journal and gives the steps as the engine sees them (titles filled in).

use std::collections::BTreeMap;

use indexmap::IndexMap;
use serde::Serialize;
use serde_json::Value;

use crate::preview::first_line;
use crate::runbook::model::Runbook;
use crate::session::SessionState;
use crate::session::journal::{Entry, Event, ItemFor, Origin};
pub use crate::session::timing::{Run, Usual, duration, overdue, runs, seconds, usual};

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub runbook: String,
    pub push_date: String,
    pub tags: IndexMap<String, String>,
    /// Everyone who wrote to the journal, in the order they first did.
    pub operators: Vec<String>,
    pub started: String,
    /// When the last step finished, once every step is finished; else `null`.
    pub finished: Option<String>,
    pub outcome: String,
    pub done: usize,
    pub total: usize,
    pub steps: Vec<ReportStep>,
    /// Ad-hoc items of this push (also among `steps`, by id).
    pub items: Vec<ReportItem>,
    /// Items left for the next push.
    pub next_push: Vec<ReportItem>,
    pub blockers: Vec<Blocker>,
    /// Journal lines passed over.
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReportStep {
    pub id: String,
    pub title: String,
    pub section: String,
    pub kind: String,
    /// An ad-hoc item rather than a runbook step.
    pub item: bool,
    pub status: String,
    /// The last transition's operator and time.
    pub by: Option<String>,
    pub at: Option<String>,
    /// What it did (its last run's action).
    pub action: Option<String>,
    pub note: Option<String>,
    /// Done by hand, not by pushduty (as in `show --json`).
    pub by_hand: bool,
    /// What the operator was shown to do by hand; `None` unless `by_hand`.
    pub by_hand_shown: Option<String>,
    pub runs: Vec<Run>,
    pub skips: Vec<Reasoned>,
    pub reopens: Vec<Reasoned>,
    /// Done steps put back to pending because what they would do changed.
    pub stale: Vec<Reasoned>,
    /// Scalars as they are (text to its first line), lists and tables by their size.
    pub outputs: BTreeMap<String, Value>,
    /// An approved gate: what the approver saw, as lines (see `session::evidence`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
}

/// One run: from `running` to how it ended.
#[derive(Debug, Clone, Serialize)]
pub struct Reasoned {
    pub at: String,
    pub by: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReportItem {
    pub id: String,
    pub text: String,
    pub section: String,
    pub by: String,
    pub at: String,
    /// The item's step status (`null` for the next push's items).
    pub status: Option<String>,
    pub from: Option<Origin>,
}

/// What a step recorded about blockers: the `blockers` step, or any step with a `blockers`
/// output.
#[derive(Debug, Clone, Serialize)]
pub struct Blocker {
    pub step: String,
    pub status: String,
    pub blockers: Option<Value>,
    pub note: Option<String>,
}

const REOPENED: &str = "reopened: ";

/// An output as the report keeps it: enough to know what happened; `show --json` has it
/// whole.
fn summarise(v: &Value) -> Value {
    match v {
        Value::String(s) => {
            let line = first_line(s);
            if line.chars().count() > 160 {
                Value::from(format!("{}…", line.chars().take(159).collect::<String>()))
            } else if s.lines().nth(1).is_some() {
                Value::from(format!("{line} …"))
            } else {
                Value::from(line)
            }
        }
        Value::Array(a) => Value::from(format!("{} entries", a.len())),
        Value::Object(m) => Value::from(format!("{} fields", m.len())),
        other => other.clone(),
    }
}

/// Adds up the journal `entries` of the session `state`. `rb` is the runbook as the engine
/// sees it (ad-hoc items among its steps) and `titles` each step's title filled in.
pub fn build(
    entries: &[Entry],
    state: &SessionState,
    rb: &Runbook,
    titles: &IndexMap<String, String>,
    warnings: Vec<String>,
) -> Report {
    let mut operators: Vec<String> = Vec::new();
    let mut runs = runs(entries);
    let mut skips: IndexMap<String, Vec<Reasoned>> = IndexMap::new();
    let mut reopens: IndexMap<String, Vec<Reasoned>> = IndexMap::new();
    let mut stale: IndexMap<String, Vec<Reasoned>> = IndexMap::new();
    let mut last_finish: Option<String> = None;
    for e in entries {
        if !operators.contains(&e.operator) {
            operators.push(e.operator.clone());
        }
        let Event::Step(t) = &e.event else {
            continue;
        };
        let said = |r: &Option<String>| Reasoned {
            at: e.time.clone(),
            by: e.operator.clone(),
            reason: r.clone().unwrap_or_default(),
        };
        match t.to.as_str() {
            "done" => last_finish = Some(e.time.clone()),
            "skipped" => {
                skips
                    .entry(t.step.clone())
                    .or_default()
                    .push(said(&t.reason));
                last_finish = Some(e.time.clone());
            }
            "pending" if t.stale => stale
                .entry(t.step.clone())
                .or_default()
                .push(said(&t.reason)),
            "pending" if t.reason.as_deref().is_some_and(|r| r.starts_with(REOPENED)) => {
                let mut r = said(&t.reason);
                r.reason = r.reason[REOPENED.len()..].to_string();
                reopens.entry(t.step.clone()).or_default().push(r);
            }
            _ => {}
        }
    }
    let mut ids: Vec<(String, String, String)> = rb
        .steps
        .iter()
        .map(|s| (s.id.clone(), s.section.clone(), s.kind.name().to_string()))
        .collect();
    // Steps the runbook has dropped since: what they did still happened.
    for id in state.steps.keys() {
        if !ids.iter().any(|(i, _, _)| i == id) {
            ids.push((id.clone(), String::new(), "removed from the runbook".into()));
        }
    }
    let steps: Vec<ReportStep> = ids
        .into_iter()
        .filter_map(|(id, section, kind)| {
            let st = state.steps.get(&id)?;
            Some(ReportStep {
                title: titles.get(&id).cloned().unwrap_or_else(|| id.clone()),
                section,
                kind,
                item: state.items.contains_key(&id),
                status: st.status.name().to_string(),
                by: st.by.clone(),
                at: st.at.clone(),
                action: st.action.clone(),
                note: st.note.clone(),
                by_hand: st.by_hand.is_some(),
                by_hand_shown: st.by_hand.clone(),
                runs: runs.shift_remove(&id).unwrap_or_default(),
                skips: skips.shift_remove(&id).unwrap_or_default(),
                reopens: reopens.shift_remove(&id).unwrap_or_default(),
                stale: stale.shift_remove(&id).unwrap_or_default(),
                outputs: st
                    .outputs
                    .iter()
                    .filter(|(k, _)| *k != crate::session::evidence::KEY)
                    .map(|(k, v)| (k.clone(), summarise(v)))
                    .collect(),
                evidence: st
                    .outputs
                    .get(crate::session::evidence::KEY)
                    .map(crate::session::evidence::lines)
                    .unwrap_or_default(),
                id,
            })
        })
        .collect();
    let item = |(id, it): (&String, &crate::session::ItemState)| ReportItem {
        id: id.clone(),
        text: it.text.clone(),
        section: it.section.clone(),
        by: it.by.clone(),
        at: it.at.clone(),
        status: state.steps.get(id).map(|s| s.status.name().to_string()),
        from: it.from.clone(),
    };
    let blockers = steps
        .iter()
        .filter(|s| s.id == "blockers" || s.outputs.contains_key("blockers"))
        .map(|s| Blocker {
            step: s.id.clone(),
            status: s.status.clone(),
            blockers: state
                .steps
                .get(&s.id)
                .and_then(|st| st.outputs.get("blockers").cloned()),
            note: s.note.clone(),
        })
        .collect();
    let (done, total) = state.progress();
    let all_finished = state.steps.values().all(|s| s.status.is_finished());
    Report {
        runbook: state.runbook.clone(),
        push_date: state.push_date.clone(),
        tags: state.repo_tags.clone(),
        operators,
        started: state.started.clone(),
        finished: if all_finished { last_finish } else { None },
        outcome: state.outcome().to_string(),
        done,
        total,
        steps,
        items: state
            .items
            .iter()
            .filter(|(_, it)| it.push == ItemFor::This)
            .map(item)
            .collect(),
        next_push: state
            .items
            .iter()
            .filter(|(_, it)| it.push == ItemFor::Next)
            .map(item)
            .collect(),
        blockers,
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_and_structured_outputs_are_summarised() {
        assert_eq!(summarise(&Value::from("a\nb")), Value::from("a …"));
        assert_eq!(
            summarise(&serde_json::json!([1, 2, 3])),
            Value::from("3 entries")
        );
        assert_eq!(summarise(&Value::from(412)), Value::from(412));
    }
}
