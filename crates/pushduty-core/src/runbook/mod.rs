//! The runbook: load (TOML with spans), validate, compute the session variables, render.

pub mod files;
pub mod kinds;
pub mod load;
pub mod model;

pub mod schedule;
pub mod schema;
pub mod tell;
pub mod validate;
pub mod vars;

use std::path::{Path, PathBuf};

use crate::diag::{Diagnostics, Source};
use crate::overrides::Override;
use crate::templates::{self, Base};
use load::Doc;
use model::Runbook;
use schedule::Calendar;

/// A runbook that passed validation, with what is needed to report and render it.
pub struct Loaded {
    pub runbook: Runbook,
    pub doc: Doc,
    pub base: Base,
    pub calendar: Calendar,
    /// `None` for the bundled runbook.
    pub path: Option<PathBuf>,
    /// The names steps give values to (choices' vars, outputs), looked up per condition.
    step_vars: std::collections::HashSet<String>,
}

impl Loaded {
    /// Whether a step gives `name` a value (a choice's var or an output).
    pub fn is_step_variable(&self, name: &str) -> bool {
        self.step_vars.contains(name)
    }

    /// The runbook's display name as used in diagnostics.
    pub fn display_path(&self) -> &str {
        &self.doc.source.name
    }
}

/// Reads and validates a runbook (`None`: the bundled one). Every problem found is returned.
pub fn load(path: Option<&Path>, overrides: &[Override]) -> Result<Loaded, Diagnostics> {
    let (source, base) = match path {
        None => {
            let (name, text) = templates::bundled_runbook();
            (
                Source::new(format!("<bundled>/{name}"), text),
                Base::Bundled,
            )
        }
        Some(p) => {
            let name = p.display().to_string();
            let text =
                crate::bounded::read_text(p, crate::bounded::MAX_RUNBOOK_BYTES, "the runbook")
                    .map_err(|e| {
                        Diagnostics(vec![
                            Source::new(name.clone(), "")
                                .whole(format!("cannot read the runbook: {e:#}")),
                        ])
                    })?;
            let dir = p
                .parent()
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
            let dir = if dir.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                dir
            };
            (Source::new(name, text), Base::Dir(dir))
        }
    };
    let mut doc = Doc::parse(source)?;
    doc.apply_overrides(overrides.iter().filter(|o| !o.is_config()));
    let runbook = load::runbook(&doc)?;
    let diags = validate::validate(&doc, &runbook, &base);
    if !diags.is_empty() {
        return Err(diags);
    }
    let calendar = Calendar::new(&runbook.schedule, runbook.rotation.as_ref())
        .map_err(|e| Diagnostics(vec![doc.source.whole(e)]))?;
    let step_vars = crate::plan::step_variables(&runbook).into_iter().collect();
    Ok(Loaded {
        runbook,
        doc,
        base,
        calendar,
        path: path.map(Path::to_path_buf),
        step_vars,
    })
}
