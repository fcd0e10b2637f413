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
    /// Call the hero to follow up once the gate has waited this long, counted from when the
    /// steps it follows were done (its `after`, else every step before it).
    #[serde(default)]
    pub follow_up_after_minutes: Option<u64>,
}

pub struct Gate;

impl Kind for Gate {
    type Fields = GateStep;
    const INFO: KindInfo = KindInfo {
        name: "gate",
        side_effect: false,
        outputs: Some(&["approved_by", "approved_at", "evidence"]),
        summary: "waits for someone outside; records who and when",
    };

    fn check(g: &GateStep, r: &mut Rules<'_, '_>) {
        if g.follow_up_after_minutes == Some(0) {
            r.err(
                "follow_up_after_minutes",
                "a follow-up after 0 minutes would call at once: give the minutes a gate may wait",
            );
        }
    }

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
        let follow = g
            .follow_up_after_minutes
            .map(|m| {
                let secs = i64::try_from(m.saturating_mul(60)).unwrap_or(i64::MAX);
                format!(
                    "; call you to follow up after {} of waiting",
                    crate::session::timing::duration(secs)
                )
            })
            .unwrap_or_default();
        format!(
            "wait for {}{who}; record who gave it and when{follow}",
            fl.text(&g.waits_for)
        )
    }
}
