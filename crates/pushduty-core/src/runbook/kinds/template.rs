//! `template`: renders a template file, lets the operator edit it, writes it out.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Kind, KindInfo, Rules};
use crate::preview::Filler;
use crate::runbook::model::{Runbook, Step};

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateStep {
    /// Template file, relative to the runbook.
    pub template: String,
    /// Where the result is written (a path template); relative paths are under the state dir.
    pub output: String,
    /// Let the operator edit the result in `$EDITOR` before it is written.
    #[serde(default = "yes")]
    pub edit: bool,
}

fn yes() -> bool {
    true
}

pub struct Template;

impl Kind for Template {
    type Fields = TemplateStep;
    const INFO: KindInfo = KindInfo {
        name: "template",
        side_effect: true,
        outputs: Some(&["rendered_path"]),
        summary: "render a template, edit it, write it out",
    };

    fn check(_: &TemplateStep, _: &mut Rules<'_, '_>) {}

    fn strings(t: &TemplateStep) -> Vec<(&'static str, &str)> {
        vec![("output", &t.output)]
    }

    fn describe(t: &TemplateStep, _: &Step, _: &Runbook, fl: &Filler<'_>) -> String {
        format!(
            "render {} to {}{}",
            t.template,
            fl.text(&t.output),
            if t.edit {
                " after you edit it in $EDITOR"
            } else {
                ""
            }
        )
    }

    fn template_file(t: &TemplateStep) -> Option<&str> {
        Some(&t.template)
    }
}
