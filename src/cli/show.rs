//! `pushduty show`: this push's session as its journal tells it, read without the lock, so it
//! works while `run` is open elsewhere.

use std::process::ExitCode;
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use super::session::prepare_to_read;
use super::{Global, fail};
use crate::engine::{Engine, NoEdit};
use crate::runbook::model::Outputs;
use crate::sanitize::{clean, clean_line};
use crate::session::{self, Session, Status};

#[derive(Debug, Serialize)]
struct Shown {
    runbook: String,
    push_date: String,
    operator: String,
    started: String,
    outcome: String,
    tags: indexmap::IndexMap<String, String>,
    journal: String,
    steps: Vec<ShownStep>,
    /// Ad-hoc items: those for this push are among `steps` too (by id); those for the next
    /// push only here.
    items: Vec<ShownItem>,
}

#[derive(Debug, Serialize)]
struct ShownItem {
    id: String,
    text: String,
    section: String,
    /// `this` or `next`.
    #[serde(rename = "for")]
    push: crate::session::journal::ItemFor,
    by: String,
    at: String,
    /// The step status of an item of this push; `null` for the next push's.
    status: Option<String>,
    /// Where a carried item came from: `push_date`, `id`, `by`, `at`.
    from: Option<crate::session::journal::Origin>,
}

#[derive(Debug, Serialize)]
struct ShownStep {
    id: String,
    title: String,
    status: String,
    /// What it did (done, running, interrupted) or will do (the rest).
    action: Option<String>,
    by: Option<String>,
    at: Option<String>,
    note: Option<String>,
    /// A skip's or a failure's text.
    reason: Option<String>,
    outputs: Outputs,
    stale_reason: Option<String>,
    /// Done by hand, not by pushduty (CLI.md: `done` with `"by_hand": true`).
    by_hand: bool,
    /// What the operator was shown to do by hand; `null` unless `by_hand`.
    by_hand_shown: Option<String>,
}

pub fn run(g: &Global, only: Option<&str>, json: bool, from_log: bool) -> ExitCode {
    let (p, state_dir) = match prepare_to_read(g) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let read = if from_log {
        from_the_log(g, &p)
    } else {
        from_here(&p, &state_dir)
    };
    let (state, journal) = match read {
        Ok(x) => x,
        Err(code) => return code,
    };
    // The engine in memory: what `run` would see now, stale steps included, written nowhere.
    let engine = match Engine::new(
        p.loaded,
        p.vars,
        Session::in_memory(state),
        &p.operator,
        Arc::new(NoEdit),
        Arc::new(|_| {}),
    ) {
        Ok(e) => e,
        Err(e) => return fail(&e),
    };
    let mut shown = describe(&engine, journal);
    if let Some(id) = only {
        shown.steps.retain(|s| s.id == id);
        shown.items.retain(|i| i.id == id);
        if shown.steps.is_empty() && shown.items.is_empty() {
            eprintln!(
                "pushduty: no step or item `{}` in this push; `pushduty plan` lists the steps",
                clean_line(id)
            );
            return ExitCode::from(2);
        }
    }
    if json {
        return match super::json_text(&shown) {
            Ok(s) => {
                println!("{s}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e),
        };
    }
    print_text(&shown, &engine);
    ExitCode::SUCCESS
}

/// This push's state from the local journal, and where that journal is.
fn from_here(
    p: &super::session::Prepared,
    state_dir: &std::path::Path,
) -> Result<(session::SessionState, String), ExitCode> {
    let dir = session::session_dir(
        state_dir,
        &session::slug(&p.loaded.runbook.name),
        &p.vars.push_date,
    );
    if !dir.join("journal.jsonl").exists() {
        eprintln!(
            "pushduty: no session of the push of {} yet: `pushduty run` begins it",
            p.vars.push_date
        );
        return Err(ExitCode::from(1));
    }
    let loaded = session::load(&dir).map_err(|e| fail(&e))?;
    for w in &loaded.warnings {
        eprintln!("pushduty: {}", clean(w));
    }
    Ok((
        loaded.state,
        dir.join("journal.jsonl").display().to_string(),
    ))
}

/// This push's state as the team's push log has it (whoever drove it), and where that is.
fn from_the_log(
    g: &Global,
    p: &super::session::Prepared,
) -> Result<(session::SessionState, String), ExitCode> {
    let entries = super::push_log::entries(g, p, &p.vars.push_date)?;
    let state = session::SessionState::rebuild(&entries)
        .map_err(|e| fail(&e.context("reading the push's journal in the team's push log")))?;
    let store = super::push_log::store(g, p)?;
    let slug = session::slug(&p.loaded.runbook.name);
    let shown = crate::teamlog::past::place(
        &store,
        &format!("{slug}/{}/journal.jsonl", p.vars.push_date),
    );
    Ok((state, shown))
}

fn describe(engine: &Engine, journal: String) -> Shown {
    let st = &engine.session.state;
    // Each context reads every step: made once here, not once per step.
    let ctx = engine.context();
    let run_ctx = engine.run_context();
    let steps = engine
        .loaded
        .runbook
        .steps
        .iter()
        .filter_map(|step| {
            let s = st.steps.get(&step.id)?;
            let did = matches!(
                s.status,
                Status::Done { .. } | Status::Running { .. } | Status::Interrupted { .. }
            );
            let action = if did && s.action.is_some() {
                s.action.clone()
            } else {
                Some(
                    engine
                        .action_in(step, &run_ctx)
                        .unwrap_or_else(|_| engine.preview_in(step, &ctx)),
                )
            };
            let reason = match &s.status {
                Status::Skipped { reason } => Some(reason.clone()),
                Status::Failed { error } => Some(error.clone()),
                _ => None,
            };
            Some(ShownStep {
                id: step.id.clone(),
                title: crate::preview::fill(&step.title, &ctx),
                status: s.status.name().to_string(),
                action,
                by: s.by.clone(),
                at: s.at.clone(),
                note: s.note.clone(),
                reason,
                outputs: s.outputs.clone(),
                stale_reason: s.stale_reason.clone(),
                by_hand: s.by_hand.is_some(),
                by_hand_shown: s.by_hand.clone(),
            })
        })
        .collect();
    Shown {
        runbook: st.runbook.clone(),
        push_date: st.push_date.clone(),
        operator: st.operator.clone(),
        started: st.started.clone(),
        outcome: st.outcome().to_string(),
        tags: st.repo_tags.clone(),
        journal,
        steps,
        items: st
            .items
            .iter()
            .map(|(id, it)| ShownItem {
                id: id.clone(),
                text: it.text.clone(),
                section: it.section.clone(),
                push: it.push,
                by: it.by.clone(),
                at: it.at.clone(),
                status: st.steps.get(id).map(|s| s.status.name().to_string()),
                from: it.from.clone(),
            })
            .collect(),
    }
}

fn print_text(s: &Shown, engine: &Engine) {
    // Times in the runbook's timezone, with the weekday; `--json` keeps RFC 3339.
    let when = |at: &str| crate::words::when(at, engine.loaded.calendar.tz);
    let tags: Vec<String> = s.tags.iter().map(|(r, t)| format!("{r} {t}")).collect();
    println!(
        "{}, push of {}: {} (began by {} at {}); tags: {}",
        clean_line(&s.runbook),
        crate::runbook::schedule::text_with_weekday(&s.push_date),
        s.outcome,
        clean_line(&s.operator),
        when(&s.started),
        clean_line(&tags.join(", "))
    );
    for step in &s.steps {
        let status = engine.status(&step.id);
        let who = match (&step.by, &step.at) {
            (Some(by), Some(at)) if status != Status::Pending => {
                format!("  ({} by {}, {})", step.status, clean_line(by), when(at))
            }
            _ => String::new(),
        };
        println!(
            "{} {}  {}{who}",
            status.mark(),
            step.id,
            clean_line(&step.title)
        );
        if let Some(a) = &step.action {
            for l in a.lines() {
                println!("      {}", clean_line(l));
            }
        }
        if let Some(shown) = &step.by_hand_shown {
            let first = shown.lines().next().unwrap_or_default();
            println!("      done by hand, as shown: {}", clean_line(first));
        }
        for (label, text) in [
            ("must run again", &step.stale_reason),
            ("why", &step.reason),
            ("note", &step.note),
        ] {
            if let Some(t) = text {
                // Several lines (a failure and what it names) stay lines, not `\n`s.
                let mut lines = t.lines().filter(|l| !l.trim().is_empty());
                println!(
                    "      {label}: {}",
                    clean_line(lines.next().unwrap_or_default())
                );
                for more in lines {
                    println!("        {}", clean_line(more.trim()));
                }
            }
        }
        for (k, v) in &step.outputs {
            if k == crate::session::evidence::KEY {
                println!("      what the approver saw:");
                for l in crate::session::evidence::lines(v) {
                    println!("        {}", clean_line(&l));
                }
                continue;
            }
            let v = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            println!("      {k} = {}", clean_line(&v));
        }
    }
    let next: Vec<&ShownItem> = s
        .items
        .iter()
        .filter(|i| i.push == crate::session::journal::ItemFor::Next)
        .collect();
    if !next.is_empty() {
        println!("for the next push:");
        for i in next {
            println!(
                "  {}  {}  (added by {}, {})",
                i.id,
                clean_line(&i.text),
                clean_line(&i.by),
                when(&i.at)
            );
        }
    }
    println!("journal: {}", s.journal);
}
