//! `manual`: instructions the operator follows by hand, then ticks off.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Kind, KindInfo, Rules};
use crate::preview::Filler;
use crate::runbook::model::{Runbook, Step};

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ManualStep {}

pub struct Manual;

impl Kind for Manual {
    type Fields = ManualStep;
    const INFO: KindInfo = KindInfo {
        name: "manual",
        side_effect: false,
        outputs: None,
        summary: "instructions; the operator ticks it off",
    };

    fn check(_: &ManualStep, _: &mut Rules<'_, '_>) {}

    fn strings(_: &ManualStep) -> Vec<(&'static str, &str)> {
        Vec::new()
    }

    fn describe(_: &ManualStep, _: &Step, _: &Runbook, _: &Filler<'_>) -> String {
        "tick it off when done (a note is optional); changes nothing".into()
    }

    fn action(_: &ManualStep, step: &Step, fl: &Filler<'_>) -> Option<String> {
        Some(format!("tick off \"{}\"", fl.text(&step.title)))
    }
}
