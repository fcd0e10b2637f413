//! Steps done by people: `manual` (tick off, note, typed outputs), `choice` (sets a variable),
//! `gate` (records who approved and when).

use anyhow::{Result, bail};
use serde_json::Value;

use super::{Executor, InputSpec, Job, NOTE};
use crate::preview::fill;
use crate::runbook::model::{Outputs, Step, StepKind};

pub struct Manual;

impl Executor for Manual {
    fn inputs(&self, step: &Step, _ctx: &Value) -> Vec<InputSpec> {
        let mut v = vec![InputSpec::text(NOTE, "note (optional)".into(), false)];
        for o in &step.outputs {
            v.push(InputSpec::text(o, format!("value of `{o}`"), true));
        }
        v
    }

    fn run(&self, job: &Job) -> Result<Outputs> {
        let mut out = Outputs::new();
        for o in &job.step.outputs {
            match job.inputs.get(o).map(|s| s.trim()) {
                Some(v) if !v.is_empty() => {
                    out.insert(o.clone(), Value::String(v.to_string()));
                }
                _ => bail!("no value given for `{o}`"),
            }
        }
        job.progress("ticked off");
        Ok(out)
    }
}

pub struct Choice;

impl Executor for Choice {
    fn inputs(&self, step: &Step, ctx: &Value) -> Vec<InputSpec> {
        let StepKind::Choice(c) = &step.kind else {
            return Vec::new();
        };
        vec![InputSpec {
            key: c.var.clone(),
            prompt: format!("choose `{}`", c.var),
            required: true,
            options: c
                .options
                .iter()
                .map(|o| (o.value.clone(), fill(&o.label, ctx)))
                .collect(),
            hints: Vec::new(),
        }]
    }

    fn run(&self, job: &Job) -> Result<Outputs> {
        let StepKind::Choice(c) = &job.step.kind else {
            bail!("not a choice step");
        };
        let Some(v) = job.inputs.get(&c.var).map(|s| s.trim()) else {
            bail!("no choice made for `{}`", c.var);
        };
        if !c.options.iter().any(|o| o.value == v) {
            bail!("`{v}` is not an option of `{}`", c.var);
        }
        job.progress(format!("{} = {v}", c.var));
        let mut out = Outputs::new();
        out.insert(c.var.clone(), Value::String(v.to_string()));
        Ok(out)
    }
}

pub struct Gate;

impl Executor for Gate {
    fn inputs(&self, step: &Step, ctx: &Value) -> Vec<InputSpec> {
        let who = match &step.kind {
            StepKind::Gate(g) => g.who.as_deref().map(|w| fill(w, ctx)),
            _ => None,
        };
        vec![
            InputSpec::text(
                "approved_by",
                match who {
                    Some(w) => format!("approved by (expected: {w})"),
                    None => "approved by".into(),
                },
                true,
            ),
            InputSpec::text(NOTE, "note (optional)".into(), false),
        ]
    }

    fn run(&self, job: &Job) -> Result<Outputs> {
        let Some(by) = job.inputs.get("approved_by").map(|s| s.trim()) else {
            bail!("who approved is required");
        };
        if by.is_empty() {
            bail!("who approved is required");
        }
        let mut out = Outputs::new();
        out.insert("approved_by".into(), Value::String(by.to_string()));
        out.insert(
            "approved_at".into(),
            Value::String(crate::session::now_rfc3339()),
        );
        job.progress(format!("approved by {by}"));
        Ok(out)
    }
}
