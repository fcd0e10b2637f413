//! `template`: render a tera template over the session, let the operator edit it, write it.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use super::{Executor, Job};
use crate::preview::fill;
use crate::runbook::model::{Outputs, Runbook, Step, StepKind};

/// Holds where the runbook's files are, to name the template file in previews.
pub struct Template(pub crate::templates::Base);

/// Where the result goes: absolute as written, relative under the session's folder.
pub fn output_path(output: &str, ctx: &Value, session_dir: Option<&Path>) -> Result<PathBuf> {
    let rendered = crate::templates::render(output, ctx).context("rendering the output path")?;
    let p = PathBuf::from(rendered);
    if p.is_absolute() {
        return Ok(p);
    }
    match session_dir {
        Some(d) => Ok(d.join(p)),
        None => bail!("a relative output path needs a session folder"),
    }
}

impl Executor for Template {
    fn run(&self, job: &Job) -> Result<Outputs> {
        let StepKind::Template(t) = &job.step.kind else {
            bail!("not a template step");
        };
        let (name, text) = job.base.read(&t.template)?;
        let mut body = crate::templates::render(&text, &job.ctx)
            .with_context(|| format!("rendering {name}"))?;
        job.progress(format!("rendered {name} ({} lines)", body.lines().count()));
        let out = output_path(&t.output, &job.ctx, job.session_dir.as_deref())?;
        if t.edit {
            let hint = out.file_name().map_or_else(
                || "template.txt".into(),
                |n| n.to_string_lossy().into_owned(),
            );
            body = job.console.edit(&body, &hint, &job.cancel)?;
            job.progress("edited");
        }
        if job.cancel.is_cancelled() {
            bail!("cancelled before writing");
        }
        if let Some(dir) = out.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        std::fs::write(&out, body).with_context(|| format!("writing {}", out.display()))?;
        job.progress(format!("wrote {}", out.display()));
        let mut o = Outputs::new();
        o.insert(
            "rendered_path".into(),
            Value::String(out.display().to_string()),
        );
        Ok(o)
    }

    fn preview(&self, step: &Step, rb: &Runbook, ctx: &Value) -> String {
        match &step.kind {
            StepKind::Template(t) => format!(
                "render {} to {}{}",
                self.0.display(&t.template),
                fill(&t.output, ctx),
                if t.edit {
                    " after you edit it in $EDITOR"
                } else {
                    ""
                }
            ),
            _ => crate::preview::preview(step, rb, ctx),
        }
    }
}

impl super::Execute for pushduty_core::runbook::kinds::template::Template {
    fn executor(s: &super::Setup<'_>) -> std::sync::Arc<dyn Executor> {
        std::sync::Arc::new(Template(s.base.clone()))
    }
}
