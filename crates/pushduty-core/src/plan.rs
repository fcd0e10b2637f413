//! The session as it would start: every variable resolved and every step with its preview.

use serde::Serialize;
use serde_json::Value;

use crate::preview::fill;
use crate::runbook::Loaded;
use crate::runbook::model::{Runbook, Step, StepKind};
use crate::runbook::schedule::{Upcoming, parse_date, parse_weekday, text_with_weekday};
use crate::runbook::vars::Vars;
use crate::templates::refs;

#[derive(Debug, Clone, Serialize)]
pub struct PlanStep {
    pub id: String,
    pub section: String,
    pub section_id: String,
    pub title: String,
    pub kind: String,
    pub confirm: bool,
    pub preview: String,
    /// The date the step belongs to, when the runbook says.
    pub date: Option<String>,
    pub only_if: Option<String>,
    /// Steps that must be finished first.
    pub after: Vec<String>,
    /// Whether the step applies: `null` while it depends on a choice not made yet.
    pub applies: Option<bool>,
    pub doc: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub runbook: String,
    pub vars: Vars,
    pub steps: Vec<PlanStep>,
    /// The pushes ahead, skipped push dates among them, when the cadence is not simply every
    /// week: an every-other-week schedule, or a freeze in the weeks shown.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub upcoming: Vec<Upcoming>,
}

/// How many pushes `plan` shows ahead.
const AHEAD: usize = 6;

/// The pushes ahead worth showing (see [`Plan::upcoming`]).
fn upcoming(loaded: &Loaded, vars: &Vars) -> Vec<Upcoming> {
    let cal = &loaded.calendar;
    let (Some(w), Ok(push)) = (&cal.weekly, parse_date(&vars.push_date)) else {
        return Vec::new();
    };
    let ahead = cal.upcoming(push, AHEAD);
    if w.every_weeks > 1 || ahead.iter().any(|u| u.skipped) {
        ahead
    } else {
        Vec::new()
    }
}

/// Names set by steps (choices and outputs): unknown until those steps run.
pub fn step_variables(runbook: &Runbook) -> Vec<String> {
    let mut names = Vec::new();
    for s in &runbook.steps {
        if let StepKind::Choice(c) = &s.kind {
            names.push(c.var.clone());
        }
        names.extend(s.outputs.iter().cloned());
    }
    names
}

/// The template context for showing: the session variables, plus step-made values known so
/// far. Values not known yet read as a marked placeholder so previews show where they will go.
pub fn context(loaded: &Loaded, vars: &Vars, known: &serde_json::Map<String, Value>) -> Value {
    let mut ctx = vars.to_json();
    if let Value::Object(map) = &mut ctx {
        for name in step_variables(&loaded.runbook) {
            let v = known
                .get(&name)
                .cloned()
                .unwrap_or_else(|| Value::String(crate::preview::placeholder(&name)));
            map.insert(name, v);
        }
    }
    ctx
}

/// The context steps run with: the variables and the step-made values that are known. One
/// not set yet is absent, so a template that needs it fails instead of running with a
/// stand-in.
pub fn known_context(vars: &Vars, known: &serde_json::Map<String, Value>) -> Value {
    let mut ctx = vars.to_json();
    if let Value::Object(map) = &mut ctx {
        for (k, v) in known {
            map.insert(k.clone(), v.clone());
        }
    }
    ctx
}

/// Whether a step applies given the values known so far; `None` while a choice is pending.
pub fn applies(
    loaded: &Loaded,
    step: &Step,
    known: &serde_json::Map<String, Value>,
    ctx: &Value,
) -> Option<bool> {
    let Some(cond) = &step.only_if else {
        return Some(true);
    };
    let reads = refs::condition_variables(cond).unwrap_or_default();
    let pending = reads.iter().any(|r| {
        let root = r.split('.').next().unwrap_or(r);
        loaded.is_step_variable(root) && !known.contains_key(root)
    });
    if pending {
        return None;
    }
    crate::templates::condition(cond, ctx).ok()
}

/// The date a step's `day` names in this push week.
pub fn step_date(loaded: &Loaded, vars: &Vars, step: &Step) -> Option<String> {
    let day = step.day.as_deref()?;
    match day {
        "tag_day" => Some(vars.tag_date.clone()),
        "push_day" => Some(vars.push_date.clone()),
        other => {
            let wd = parse_weekday(other).ok()?;
            let push = chrono::NaiveDate::parse_from_str(&vars.push_date, "%Y-%m-%d").ok()?;
            Some(loaded.calendar.date_of_weekday(push, wd).to_string())
        }
    }
}

/// The whole plan; `preview` is each step's executor preview, as the TUI and `do` show it
/// (the engine's, handed in: the model does not know the executors).
pub fn plan_with(
    loaded: &Loaded,
    vars: &Vars,
    preview: &dyn Fn(&Step, &crate::runbook::model::Runbook, &Value) -> String,
) -> Plan {
    let known = serde_json::Map::new();
    let ctx = context(loaded, vars, &known);
    let rb = &loaded.runbook;
    let steps = rb
        .steps
        .iter()
        .map(|s| PlanStep {
            id: s.id.clone(),
            section: rb.section_title(&s.section).to_string(),
            section_id: s.section.clone(),
            title: fill(&s.title, &ctx),
            kind: s.kind.name().to_string(),
            confirm: s.needs_confirm(),
            preview: preview(s, rb, &ctx),
            date: step_date(loaded, vars, s),
            only_if: s.only_if.clone(),
            after: s.after.clone(),
            applies: applies(loaded, s, &known, &ctx),
            doc: fill(&s.doc, &ctx),
        })
        .collect();
    Plan {
        runbook: rb.name.clone(),
        vars: vars.clone(),
        steps,
        upcoming: upcoming(loaded, vars),
    }
}

impl Plan {
    /// Human-readable plan: the variables, then the steps by section.
    pub fn to_text(&self) -> String {
        let v = &self.vars;
        let mut out = format!("{}\n", self.runbook);
        let opt = |o: &Option<String>| o.clone().unwrap_or_else(|| "(unknown)".into());
        if v.people.is_empty() {
            // On demand: the release is the day it starts; there is no separate tag day.
            out.push_str(&format!(
                "  release date  {}
",
                text_with_weekday(&v.push_date)
            ));
        } else {
            out.push_str(&format!(
                "  push date     {} (tag on {})
",
                text_with_weekday(&v.push_date),
                text_with_weekday(&v.tag_date)
            ));
        }
        if let Some(version) = &v.version {
            out.push_str(&format!("  version       {version}\n"));
        }
        // An on-demand runbook has no rotation: no hero to name.
        if !v.people.is_empty() {
            out.push_str(&format!(
                "  hero          {} (next: {})\n",
                opt(&v.hero),
                opt(&v.next_hero)
            ));
        }
        for (i, u) in self.upcoming.iter().enumerate() {
            let label = if i == 0 { "pushes ahead" } else { "" };
            let who = match (&u.hero, u.skipped) {
                (_, true) => "no push (schedule.skip)".to_string(),
                (Some(h), false) => h.clone(),
                (None, false) => String::new(),
            };
            out.push_str(&format!(
                "  {label:<13} {}  {who}\n",
                text_with_weekday(&u.date)
            ));
        }
        for (name, r) in &v.repos {
            out.push_str(&format!(
                "  {name:<13} tag {}, previous {}{}\n",
                r.tag,
                opt(&r.previous_tag),
                r.error
                    .as_ref()
                    .map(|e| format!(" ({e})"))
                    .unwrap_or_default()
            ));
            if let Some(url) = &r.compare_url {
                out.push_str(&format!("  {:<13} {url}\n", ""));
            }
        }
        let mut section = "";
        for (i, s) in self.steps.iter().enumerate() {
            if s.section != section {
                section = &s.section;
                out.push_str(&format!("\n{section}\n"));
            }
            let when = match (&s.only_if, s.applies) {
                (Some(c), None) => format!(" [if {c}]"),
                (Some(_), Some(false)) => " [does not apply]".into(),
                _ => String::new(),
            };
            let date = s
                .date
                .as_ref()
                .map(|d| format!(" ({})", text_with_weekday(d)))
                .unwrap_or_default();
            out.push_str(&format!(
                "  {:>2}. {} [{}]{date}{when}\n",
                i + 1,
                s.title,
                s.id
            ));
            out.push_str(&format!(
                "      {} {}\n",
                if s.confirm { "confirm:" } else { "does:" },
                s.preview.replace('\n', "\n               ")
            ));
        }
        out
    }
}
