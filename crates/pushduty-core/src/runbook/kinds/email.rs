//! `email.send`: the announcement email, rendered from a template, edited, then sent.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Kind, KindInfo, Rules};
use crate::preview::Filler;
use crate::runbook::model::{Runbook, Service, Step};
use crate::runbook::validate::looks_like_address;

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailSendStep {
    pub service: String,
    pub template: String,
    pub subject: String,
    /// Defaults to the service's `to`.
    #[serde(default)]
    pub to: Option<Vec<String>>,
}

pub struct Send;

impl Kind for Send {
    type Fields = EmailSendStep;
    const INFO: KindInfo = KindInfo {
        name: "email.send",
        side_effect: true,
        outputs: Some(&["message_id", "to", "subject"]),
        summary: "send the announcement email",
    };

    fn check(e: &EmailSendStep, r: &mut Rules<'_, '_>) {
        for (j, to) in e.to.iter().flatten().enumerate() {
            if !to.contains("{{") && !looks_like_address(to) {
                r.err_item("to", j, format!("`{to}` is not an email address"));
            }
        }
    }

    fn strings(e: &EmailSendStep) -> Vec<(&'static str, &str)> {
        let mut out = vec![("subject", e.subject.as_str())];
        out.extend(e.to.iter().flatten().map(|t| ("to", t.as_str())));
        out
    }

    fn describe(e: &EmailSendStep, _: &Step, rb: &Runbook, fl: &Filler<'_>) -> String {
        match rb.services.get(&e.service) {
            Some(Service::Smtp(s)) => {
                let to = e.to.as_ref().map_or_else(
                    || s.to.join(", "),
                    |t| t.iter().map(|x| fl.text(x)).collect::<Vec<_>>().join(", "),
                );
                format!(
                    "send \"{}\" to {to} from {} via {}:{} ({})",
                    fl.text(&e.subject),
                    s.from,
                    s.host,
                    s.port,
                    e.template
                )
            }
            _ => format!("send email through `{}`", e.service),
        }
    }

    fn service(e: &EmailSendStep) -> Option<(&str, &'static [&'static str])> {
        Some((&e.service, &["smtp"]))
    }

    fn template_file(e: &EmailSendStep) -> Option<&str> {
        Some(&e.template)
    }
}
