//! `gate`: waits for someone outside the push (QA, ops) and records who said go, and when.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Kind, KindInfo, Rules};
use crate::preview::Filler;
use crate::runbook::model::{Runbook, Step};

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GateStep {
    /// What is awaited, e.g. "QA approval of the tag on stage".
    pub waits_for: String,
    /// Who gives it, e.g. "{{ vars.qa }}".
    #[serde(default)]
    pub who: Option<String>,
}

pub struct Gate;

impl Kind for Gate {
    type Fields = GateStep;
    const INFO: KindInfo = KindInfo {
        name: "gate",
        side_effect: false,
        outputs: Some(&["approved_by", "approved_at"]),
        summary: "waits for someone outside; records who and when",
    };

    fn check(_: &GateStep, _: &mut Rules<'_, '_>) {}

    fn strings(g: &GateStep) -> Vec<(&'static str, &str)> {
        let mut out = vec![("waits_for", g.waits_for.as_str())];
        out.extend(g.who.as_deref().map(|w| ("who", w)));
        out
    }

    fn describe(g: &GateStep, _: &Step, _: &Runbook, fl: &Filler<'_>) -> String {
        let who = g
            .who
            .as_deref()
            .map(|w| format!(" from {}", fl.text(w)))
            .unwrap_or_default();
        format!(
            "wait for {}{who}; record who gave it and when",
            fl.text(&g.waits_for)
        )
    }
}
