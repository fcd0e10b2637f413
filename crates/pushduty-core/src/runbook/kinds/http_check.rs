//! `http.check`: polls a URL until its body shows what is expected (the tag on stage's
//! version page).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Kind, KindInfo, Rules};
use crate::preview::Filler;
use crate::runbook::model::{Runbook, Step};

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpCheckStep {
    pub url: String,
    /// Text the body must contain, e.g. the tag.
    pub expect: String,
    #[serde(default = "five_minutes")]
    pub timeout_secs: u64,
    #[serde(default = "ten")]
    pub interval_secs: u64,
}

fn five_minutes() -> u64 {
    300
}

fn ten() -> u64 {
    10
}

pub struct HttpCheck;

impl Kind for HttpCheck {
    type Fields = HttpCheckStep;
    const INFO: KindInfo = KindInfo {
        name: "http.check",
        side_effect: false,
        outputs: Some(&["http_body"]),
        summary: "poll a URL until the body shows what is expected",
    };

    fn check(h: &HttpCheckStep, r: &mut Rules<'_, '_>) {
        if h.interval_secs == 0 || h.timeout_secs < h.interval_secs {
            r.err(
                "timeout_secs",
                "`timeout_secs` must be at least `interval_secs`, which must be above 0",
            );
        }
    }

    fn strings(h: &HttpCheckStep) -> Vec<(&'static str, &str)> {
        vec![("url", &h.url), ("expect", &h.expect)]
    }

    fn describe(h: &HttpCheckStep, _: &Step, _: &Runbook, fl: &Filler<'_>) -> String {
        format!(
            "GET {} every {}s until the body contains `{}` (give up after {}s)",
            fl.text(&h.url),
            h.interval_secs,
            fl.text(&h.expect),
            h.timeout_secs
        )
    }
}
