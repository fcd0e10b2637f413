//! `tell` on any step: the team's channel hears that the step is done. A step's `tell` becomes
//! a `chat.post` step of its own, `ID-tell`, placed right after it: the post is a side effect
//! like any other, so it is previewed exactly, confirmed, journaled (its post id makes a
//! resumed post land once) and can be done by hand. Problems in it are reported at the `tell`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::kinds::StepKind;
use super::load::{Doc, Seg};
use super::model::{ChatPostStep, Ordered, Service, Step, StepCommon};
use crate::diag::Diagnostics;

/// What a step's `tell` says.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Tell {
    /// The message (a template), to the runbook's one chat service.
    Text(String),
    /// The message, and where it goes or whether it sets the topic.
    Post(TellPost),
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TellPost {
    /// A `matrix` or `slack` service; default: the runbook's only one.
    #[serde(default)]
    pub service: Option<String>,
    /// The message (a template), sent exactly as the preview shows it.
    pub text: String,
    /// Set the channel's topic to `text` instead of posting it.
    #[serde(default)]
    pub topic: bool,
}

/// A string or a table, read by hand so that a misspelt key is named ("unknown field"), not
/// "did not match any variant".
impl<'de> Deserialize<'de> for Tell {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Tell;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a message, or a table with `text` (and `service`, `topic`)")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Tell, E> {
                Ok(Tell::Text(v.to_string()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, m: A) -> Result<Tell, A::Error> {
                TellPost::deserialize(serde::de::value::MapAccessDeserializer::new(m))
                    .map(Tell::Post)
            }
        }
        d.deserialize_any(Visit)
    }
}

/// The suffix of a told step's id.
pub const SUFFIX: &str = "-tell";

/// The id of the step that tells the channel about `id`.
pub fn id_for(id: &str) -> String {
    format!("{id}{SUFFIX}")
}

/// The step that posts `step`'s `tell` (`None` when it has none, or it cannot be made: then
/// why is in `diags`). `index` is the step's place among the runbook's `[[steps]]`; `written`
/// holds the ids those give, which a told step's may not take.
pub fn step_for(
    doc: &Doc,
    services: &Ordered<Service>,
    step: &Step,
    index: usize,
    written: &std::collections::HashSet<&str>,
    diags: &mut Diagnostics,
) -> Option<Step> {
    let tell = step.tell.as_ref()?;
    let at = [Seg::Key("steps"), Seg::Index(index), Seg::Key("tell")];
    let id = id_for(&step.id);
    if written.contains(id.as_str()) {
        diags.push(doc.source.diag(
            &doc.span(&at),
            format!("`tell` makes a step `{id}`, and the runbook has a step of that id: rename it"),
        ));
        return None;
    }
    let (service, text, topic) = match tell {
        Tell::Text(text) => (None, text.clone(), false),
        Tell::Post(p) => (p.service.clone(), p.text.clone(), p.topic),
    };
    let service = match service {
        Some(s) => s,
        None => match the_chat(services) {
            Ok(s) => s,
            Err(why) => {
                diags.push(doc.source.diag(&doc.span(&at), why));
                return None;
            }
        },
    };
    // It stands right under its step, whose title says what it is about.
    let title = if topic {
        "↳ Set the channel's topic"
    } else {
        "↳ Tell the channel"
    }
    .to_string();
    let what = if topic {
        "the channel's topic is set"
    } else {
        "the team's channel is told"
    };
    Some(Step {
        common: StepCommon {
            id,
            title,
            section: step.section.clone(),
            doc: format!(
                "Made by the `tell` of step `{}`: {what} once that step is done. The message is \
                 shown exactly before it is posted, and posted once even if pushduty stops \
                 halfway.",
                step.id
            ),
            day: step.day.clone(),
            confirm: None,
            only_if: step.only_if.clone(),
            outputs: Vec::new(),
            after: vec![step.id.clone()],
            tell: None,
            told_for: Some(step.id.clone()),
        },
        kind: StepKind::ChatPost(ChatPostStep {
            service,
            text,
            topic,
        }),
    })
}

/// The runbook's one chat service, or why there is none to take.
fn the_chat(services: &Ordered<Service>) -> Result<String, String> {
    let chats: Vec<&str> = services
        .iter()
        .filter(|(_, s)| matches!(s, Service::Matrix(_) | Service::Slack(_)))
        .map(|(n, _)| n.as_str())
        .collect();
    match chats.as_slice() {
        [one] => Ok((*one).to_string()),
        [] => Err(
            "`tell` needs a chat service to post to: add a `matrix` or `slack` service \
                   under [services]"
                .into(),
        ),
        many => Err(format!(
            "`tell` cannot tell which channel: the runbook has {} chat services; name one: \
             tell = {{ service = \"{}\", text = \"...\" }}",
            many.len(),
            many[0]
        )),
    }
}

/// Where a problem of the runbook's `i`th step (told steps counted) stands in the file: a told
/// step's keys are its `tell`'s.
pub fn place<'a>(steps: &[Step], path: &[Seg<'a>]) -> Vec<Seg<'a>> {
    let [Seg::Key("steps"), Seg::Index(i), rest @ ..] = path else {
        return path.to_vec();
    };
    let written = steps[..(*i).min(steps.len())]
        .iter()
        .filter(|s| s.told_for.is_none())
        .count();
    match steps.get(*i) {
        Some(s) if s.told_for.is_some() => {
            let mut p = vec![
                Seg::Key("steps"),
                Seg::Index(written.saturating_sub(1)),
                Seg::Key("tell"),
            ];
            p.extend_from_slice(rest);
            p
        }
        _ => {
            let mut p = vec![Seg::Key("steps"), Seg::Index(written)];
            p.extend_from_slice(rest);
            p
        }
    }
}
