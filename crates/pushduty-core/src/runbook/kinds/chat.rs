//! `chat.post`: tell the team's channel (Matrix or Slack) where the push is, or set the
//! channel's topic (`topic = true`), e.g. to name the next hero.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Kind, KindInfo, Rules};
use crate::preview::Filler;
use crate::runbook::model::{Runbook, Service, Step};

/// Slack cuts a topic at 250 characters; Matrix keeps any, but a topic is read at a glance.
pub const TOPIC_MAX: usize = 250;

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChatPostStep {
    /// A `matrix` or `slack` service.
    pub service: String,
    /// The message (a template), sent exactly as the preview shows it.
    pub text: String,
    /// Set the channel's topic to `text` instead of posting it.
    #[serde(default)]
    pub topic: bool,
}

pub struct Post;

/// Where a service posts, as the preview names it.
fn place(rb: &Runbook, service: &str) -> String {
    match rb.services.get(service) {
        Some(Service::Matrix(m)) => format!("Matrix room {} on {}", m.room, m.url),
        Some(Service::Slack(s)) => match &s.channel {
            Some(c) => format!("Slack channel {c}"),
            None => "the Slack webhook's channel".into(),
        },
        _ => format!("`{service}`"),
    }
}

impl Kind for Post {
    type Fields = ChatPostStep;
    const INFO: KindInfo = KindInfo {
        name: "chat.post",
        side_effect: true,
        outputs: Some(&["post_id", "message", "channel"]),
        summary: "post to the team's chat channel, or set its topic",
    };

    fn check(c: &ChatPostStep, r: &mut Rules<'_, '_>) {
        if c.text.trim().is_empty() {
            r.err(
                "text",
                "the message is empty: say what the channel should read",
            );
        }
        if c.topic {
            if c.text.contains('\n') {
                r.err("text", "a topic is one line: remove the line breaks");
            }
            if !c.text.contains("{{") && c.text.chars().count() > TOPIC_MAX {
                r.err(
                    "text",
                    format!("a topic holds at most {TOPIC_MAX} characters (Slack cuts the rest)"),
                );
            }
        }
    }

    fn strings(c: &ChatPostStep) -> Vec<(&'static str, &str)> {
        vec![("text", c.text.as_str())]
    }

    fn describe(c: &ChatPostStep, _: &Step, rb: &Runbook, fl: &Filler<'_>) -> String {
        let text = fl.text(&c.text);
        if c.topic {
            format!("set the topic of {} to: {text}", place(rb, &c.service))
        } else {
            format!("post to {}:\n{text}", place(rb, &c.service))
        }
    }

    /// The message alone: where it goes may differ between machines (`--set` urls).
    fn action(c: &ChatPostStep, _: &Step, fl: &Filler<'_>) -> Option<String> {
        let verb = if c.topic { "set the topic" } else { "post" };
        Some(format!("{verb} on `{}`: {}", c.service, fl.text(&c.text)))
    }

    fn service(c: &ChatPostStep) -> Option<(&str, &'static [&'static str])> {
        Some((&c.service, &["matrix", "slack"]))
    }
}
