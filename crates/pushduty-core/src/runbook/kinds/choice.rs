//! `choice`: the operator picks one of a few options, which sets a variable that later
//! steps' `only_if` read.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Kind, KindInfo, Rules};
use crate::preview::Filler;
use crate::runbook::model::{Runbook, Step};

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChoiceOption {
    pub value: String,
    pub label: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChoiceStep {
    /// The variable the choice sets; `only_if` expressions of later steps read it.
    pub var: String,
    pub options: Vec<ChoiceOption>,
}

pub struct Choice;

impl Kind for Choice {
    type Fields = ChoiceStep;
    const INFO: KindInfo = KindInfo {
        name: "choice",
        side_effect: false,
        outputs: Some(&[]),
        summary: "the operator picks one option; sets a variable",
    };

    fn check(c: &ChoiceStep, r: &mut Rules<'_, '_>) {
        if c.options.len() < 2 {
            r.err("options", "a choice needs at least two options");
        }
        let mut seen = Vec::new();
        for (j, o) in c.options.iter().enumerate() {
            if seen.contains(&o.value.as_str()) {
                r.err_item("options", j, format!("duplicate option `{}`", o.value));
            }
            seen.push(&o.value);
        }
        r.define("var", &c.var);
    }

    fn strings(c: &ChoiceStep) -> Vec<(&'static str, &str)> {
        c.options
            .iter()
            .map(|o| ("options", o.label.as_str()))
            .collect()
    }

    fn describe(c: &ChoiceStep, _: &Step, _: &Runbook, fl: &Filler<'_>) -> String {
        let opts: Vec<String> = c
            .options
            .iter()
            .map(|o| format!("{} ({})", o.value, fl.text(&o.label)))
            .collect();
        format!("choose one of: {}; sets `{}`", opts.join(" | "), c.var)
    }
}
