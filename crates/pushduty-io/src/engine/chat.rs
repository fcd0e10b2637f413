//! `chat.post`: a message to the team's Matrix room or Slack channel, or its topic.
//!
//! Posted once, as `email.send` sends once: the text and a post id are journaled, and on disk,
//! before anything goes out, and a resumed run sends that same text under that same id.
//! - Matrix takes the id as the transaction id of `PUT .../send/m.room.message/{txnId}` and
//!   stores one message per id of one access token: a resumed run simply sends it again.
//! - Slack keeps no such id. The post carries it in its `metadata`; a run that stopped after
//!   journaling that it was posting looks for it in the channel's history (a bot token with
//!   `channels:history`) and posts only when it is not there. Where the channel cannot be read
//!   (a webhook, a token without that scope), the operator is asked, as for an email.
//!
//! A topic is set, not added: setting it again leaves one topic, so it needs none of this.

use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Value, json};

use super::email::{MARK_SENT, MAYBE_SENT, SEND_AGAIN};
use super::{ByHand, Check, Executor, InputSpec, Job};
use crate::runbook::model::{ChatPostStep, Outputs, Runbook, Step, StepKind};
use crate::services::slack;
use crate::services::{MatrixConf, Services, SlackConf};

/// Checkpoint keys: the text as it is to be posted, and its id.
pub const TEXT: &str = "text";
pub const POST_ID: &str = "post_id";
/// Checkpoint keys (Slack): the id being posted, journaled right before the request (null
/// again once a run knows it was not), and when, for reading the channel back.
pub const SENDING: &str = "sending";
pub const SINCE: &str = "since";
/// The answer (and, with a bot token, what no answer means) that has pushduty read the
/// channel to see whether a post in doubt arrived.
pub const LOOK: &str = "look";

pub struct ChatPost(pub Arc<Services>);

/// The service a step posts through.
enum Chat<'a> {
    Matrix(&'a MatrixConf),
    Slack(&'a SlackConf),
}

impl ChatPost {
    fn chat<'a>(&'a self, c: &ChatPostStep) -> Result<Chat<'a>> {
        if let Some(m) = self.0.matrix(&c.service) {
            return Ok(Chat::Matrix(m));
        }
        if let Some(s) = self.0.slack(&c.service) {
            return Ok(Chat::Slack(s));
        }
        Err(anyhow!(
            "service `{}` is not a Matrix or Slack service of the runbook",
            c.service
        ))
    }
}

/// The post id a stopped run of this step was posting, when it may have gone out (Slack).
fn in_doubt<'a>(step: &Step, ctx: &'a Value) -> Option<&'a str> {
    ctx["resume"][&step.id][SENDING].as_str()
}

fn step_fields(step: &Step) -> Result<&ChatPostStep> {
    match &step.kind {
        StepKind::ChatPost(c) => Ok(c),
        _ => bail!("not a chat.post step"),
    }
}

/// A new post id: unique for the step, and for the access token that posts it.
fn new_post_id(step: &Step) -> String {
    let now = chrono::Utc::now();
    format!(
        "pushduty.{}.{}",
        step.id,
        now.timestamp_nanos_opt()
            .unwrap_or_else(|| now.timestamp_millis())
    )
}

impl Executor for ChatPost {
    /// After a run that stopped while posting to Slack: whether the message is there. With a
    /// bot token the answer may be left empty: the run reads the channel to see.
    fn inputs(&self, step: &Step, ctx: &Value) -> Vec<InputSpec> {
        let (Ok(c), Some(id)) = (step_fields(step), in_doubt(step, ctx)) else {
            return Vec::new();
        };
        let Ok(Chat::Slack(conf)) = self.chat(c) else {
            return Vec::new();
        };
        let look = format!(
            "look in the channel for the message \"{}\"",
            ctx["resume"][&step.id][TEXT]
                .as_str()
                .unwrap_or_default()
                .lines()
                .next()
                .unwrap_or_default()
        );
        let reads = conf.has_token();
        let mut options = vec![
            (
                MARK_SENT.into(),
                "it arrived: mark the step done, post nothing".into(),
            ),
            (
                SEND_AGAIN.into(),
                "it did not arrive: post the same message again".into(),
            ),
        ];
        if reads {
            options.insert(
                0,
                (
                    LOOK.into(),
                    "let pushduty read the channel, and post only if it is not there".into(),
                ),
            );
        }
        vec![InputSpec {
            key: MAYBE_SENT.into(),
            prompt: if reads {
                format!(
                    "pushduty stopped while posting {id}: it reads the channel to see whether it arrived (or answer yourself)"
                )
            } else {
                format!("pushduty stopped while posting {id}: did it arrive? ({look})")
            },
            required: !reads,
            options,
            hints: vec![look],
            default: None,
            commits: Vec::new(),
            check: None,
        }]
    }

    fn check(&self, step: &Step, ctx: &Value) -> Vec<Check> {
        let c = match step_fields(step) {
            Ok(c) => c,
            Err(e) => return vec![Check::fail(format!("{e:#}"))],
        };
        let ready = match self.chat(c) {
            Ok(Chat::Matrix(m)) => m.client().map(|_| format!("Matrix room {}", m.room)),
            Ok(Chat::Slack(s)) => s.client().map(|cl| cl.place()),
            Err(e) => Err(format!("{e:#}")),
        };
        let mut out = vec![match ready {
            Ok(place) => Check::ok(format!("to {place}")),
            Err(e) => Check::fail(e),
        }];
        if !c.topic {
            let resumed = &ctx["resume"][&step.id];
            out.push(Check::ok(match (in_doubt(step, ctx), resumed[POST_ID].as_str()) {
                (Some(id), _) => format!(
                    "{id} may have been posted already: pushduty stopped while posting it; it is not posted twice"
                ),
                (None, Some(id)) => format!(
                    "{id}: the text journaled by the run that did not finish is posted, under the same id"
                ),
                (None, None) => "a new post id, journaled with the text before posting".into(),
            }));
        }
        out
    }

    fn run(&self, job: &Job) -> Result<Outputs> {
        let c = step_fields(&job.step)?;
        let chat = self.chat(c)?;
        let text = match job.resume.get(TEXT).and_then(Value::as_str) {
            Some(t) => t.to_string(),
            None => crate::templates::render(&c.text, &job.ctx).context("rendering `text`")?,
        };
        if c.topic {
            return set_topic(job, &chat, text.trim());
        }
        let post_id = match job.resume.get(POST_ID).and_then(Value::as_str) {
            Some(id) => {
                job.progress(format!(
                    "posting {id}, journaled by the run that did not finish, not a new one"
                ));
                id.to_string()
            }
            None => new_post_id(&job.step),
        };
        match chat {
            Chat::Matrix(conf) => post_matrix(job, conf, &post_id, &text),
            Chat::Slack(conf) => post_slack(job, conf, &post_id, &text),
        }
    }

    /// Post it yourself: the text as pushduty would post it (or set as the topic).
    fn by_hand(&self, step: &Step, _rb: &Runbook, ctx: &Value) -> Result<ByHand> {
        let c = step_fields(step)?;
        let text = crate::templates::render(&c.text, ctx).context("rendering `text`")?;
        let place = match self.chat(c) {
            Ok(Chat::Matrix(m)) => format!("the Matrix room {}", m.room),
            Ok(Chat::Slack(s)) => match &s.channel {
                Some(channel) => format!("the Slack channel {channel}"),
                None => format!("the Slack channel of `{}`'s webhook", c.service),
            },
            Err(_) => format!("the channel of `{}`", c.service),
        };
        let what = if c.topic {
            format!("set the topic of {place} to:")
        } else {
            format!("post this in {place}:")
        };
        Ok(ByHand {
            steps: vec![what],
            copy: Some(text.trim_end().to_string()),
            link: None,
            outputs: Outputs::new(),
        })
    }

    /// A failed post hands its text and id to the next run: a post that may have arrived
    /// must go again under the id it may have arrived with.
    fn resumes_failed(&self) -> bool {
        true
    }
}

/// The outputs of a post that is in the channel.
fn posted(post_id: &str, message: &str, channel: &str) -> Outputs {
    Outputs::from([
        (POST_ID.to_string(), json!(post_id)),
        ("message".to_string(), json!(message)),
        ("channel".to_string(), json!(channel)),
    ])
}

fn write_ahead(job: &Job, values: Outputs, post_id: &str) -> Result<()> {
    job.checkpoint_synced(values).with_context(|| {
        format!("the post could not be journaled before posting, so it was not posted ({post_id})")
    })
}

fn post_matrix(job: &Job, conf: &MatrixConf, post_id: &str, text: &str) -> Result<Outputs> {
    let client = conf.client().map_err(anyhow::Error::msg)?;
    write_ahead(
        job,
        Outputs::from([
            (TEXT.to_string(), json!(text)),
            (POST_ID.to_string(), json!(post_id)),
        ]),
        post_id,
    )?;
    job.progress(format!(
        "posting to Matrix room {} as transaction {post_id}",
        conf.room
    ));
    // A 5xx or no answer is tried again at once: a PUT under the same transaction id is
    // stored once, however often it arrives.
    let tell_again = |e: &anyhow::Error| {
        format!(
            "{e:#}; running the step again sends it under the same transaction id, which the \
             homeserver stores once"
        )
    };
    let event = super::follow::patiently(
        job,
        || job.call(client.send(post_id, text)),
        |e| format!("{e:#} (tried {} times)", super::follow::PATIENCE),
    )
    .map_err(|e| anyhow!("{}", tell_again(&e)))?;
    job.progress(format!("posted: event {event}"));
    Ok(posted(post_id, &event, &conf.room))
}

fn post_slack(job: &Job, conf: &SlackConf, post_id: &str, text: &str) -> Result<Outputs> {
    let client = conf.client().map_err(anyhow::Error::msg)?;
    let channel = conf.channel.clone().unwrap_or_else(|| "webhook".into());
    if let Some(id) = job.resume.get(SENDING).and_then(Value::as_str) {
        match job.inputs.get(MAYBE_SENT).map(String::as_str) {
            Some(MARK_SENT) => {
                job.progress(format!("not posted again: you found {id} in the channel"));
                let mut out = posted(id, "", &channel);
                out.insert(
                    "marked_sent".into(),
                    json!("by the operator, after a run that stopped while posting"),
                );
                return Ok(out);
            }
            Some(SEND_AGAIN) => job.progress(format!("posting {id} again, as you chose")),
            // No answer (an empty one, where it was not required) is to look.
            None | Some("" | LOOK) if conf.has_token() => {
                let since = job.resume.get(SINCE).and_then(Value::as_i64).unwrap_or(0);
                job.progress(format!(
                    "reading the channel for {id}: the run that stopped may have posted it"
                ));
                let found = job.call(client.find(id, since)).map_err(|e| {
                    anyhow!(
                        "{e:#}; so pushduty cannot see whether {id} was posted: look in the \
                         channel, then run the step again with `{MAYBE_SENT}` = `{MARK_SENT}` \
                         or `{SEND_AGAIN}`"
                    )
                })?;
                if let Some(ts) = found {
                    job.progress(format!(
                        "{id} is in the channel already (ts {ts}): not posted again"
                    ));
                    return Ok(posted(id, &ts, &channel));
                }
                job.progress(format!("{id} is not in the channel: posting it"));
            }
            _ => bail!(
                "{id} may have been posted already (pushduty stopped while posting it), and a \
                 webhook cannot read the channel: look there, then run the step again with \
                 `{MAYBE_SENT}` = `{MARK_SENT}` or `{SEND_AGAIN}`"
            ),
        }
    }
    write_ahead(
        job,
        Outputs::from([
            (TEXT.to_string(), json!(text)),
            (POST_ID.to_string(), json!(post_id)),
            (SENDING.to_string(), json!(post_id)),
            (SINCE.to_string(), json!(chrono::Utc::now().timestamp())),
        ]),
        post_id,
    )?;
    job.progress(format!("posting {post_id} to {}", client.place()));
    match job.call(client.post(post_id, text)) {
        Ok(ts) => {
            let ts = ts.unwrap_or_default();
            job.progress(if ts.is_empty() {
                "posted".to_string()
            } else {
                format!("posted: ts {ts}")
            });
            Ok(posted(post_id, &ts, &channel))
        }
        // Slack answered and posted nothing: the next run need not wonder.
        Err(e) if slack::refused(&e) => {
            job.checkpoint(Outputs::from([(SENDING.to_string(), Value::Null)]));
            Err(e)
        }
        Err(e) => Err(anyhow!(
            "{e:#}; {post_id} may or may not have been posted: the next run of the step looks \
             for it (or asks you) before posting anything"
        )),
    }
}

fn set_topic(job: &Job, chat: &Chat<'_>, topic: &str) -> Result<Outputs> {
    let (event, channel) = match chat {
        Chat::Matrix(conf) => {
            let client = conf.client().map_err(anyhow::Error::msg)?;
            job.progress(format!("setting the topic of Matrix room {}", conf.room));
            (job.call(client.set_topic(topic))?, conf.room.clone())
        }
        Chat::Slack(conf) => {
            let client = conf.client().map_err(anyhow::Error::msg)?;
            job.progress(format!("setting the topic of {}", client.place()));
            job.call(client.set_topic(topic))?;
            (String::new(), conf.channel.clone().unwrap_or_default())
        }
    };
    job.progress(format!("topic set: {topic}"));
    Ok(Outputs::from([
        ("message".to_string(), json!(event)),
        ("channel".to_string(), json!(channel)),
    ]))
}

impl super::Execute for pushduty_core::runbook::kinds::chat::Post {
    fn executor(s: &super::Setup<'_>) -> Arc<dyn super::Executor> {
        s.with_services("chat.post", |services| Arc::new(ChatPost(services)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn rig() -> (crate::runbook::Loaded, ChatPost) {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/runbooks/valid/chat.toml");
        let loaded = crate::runbook::load(Some(&p), &[]).unwrap();
        let services = Services::resolve(&loaded.runbook, &Config::default());
        (loaded, ChatPost(Arc::new(services)))
    }

    fn in_doubt_ctx(step: &str) -> Value {
        json!({ "resume": { step: { SENDING: "pushduty.x.1", TEXT: "hi\nthere" } } })
    }

    fn step<'a>(loaded: &'a crate::runbook::Loaded, id: &str) -> &'a Step {
        loaded.runbook.steps.iter().find(|s| s.id == id).unwrap()
    }

    #[test]
    fn a_post_in_doubt_asks_only_where_the_channel_cannot_be_read() {
        let (loaded, chat) = rig();
        // A bot token reads the channel: the question may go unanswered, looking is first.
        let with_token = chat.inputs(step(&loaded, "tell-slack"), &in_doubt_ctx("tell-slack"));
        assert_eq!(with_token.len(), 1);
        assert!(!with_token[0].required);
        assert_eq!(with_token[0].options[0].0, LOOK);
        assert_eq!(with_token[0].accept("").unwrap(), "");
        // A webhook cannot: the operator must say.
        let hook = chat.inputs(step(&loaded, "tell-hook"), &in_doubt_ctx("tell-hook"));
        assert!(hook[0].required);
        assert!(hook[0].options.iter().all(|(v, _)| v != LOOK));
        assert!(hook[0].prompt.contains("\"hi\""), "{}", hook[0].prompt);
        // Matrix never asks: the homeserver keeps the transaction id.
        let room = chat.inputs(step(&loaded, "tell-room"), &in_doubt_ctx("tell-room"));
        assert!(room.is_empty());
        // Nothing in doubt: nothing asked.
        assert!(
            chat.inputs(step(&loaded, "tell-hook"), &json!({}))
                .is_empty()
        );
    }

    #[test]
    fn post_ids_are_new_for_each_post_and_name_their_step() {
        let (loaded, _) = rig();
        let s = step(&loaded, "tell-room");
        let (a, b) = (new_post_id(s), new_post_id(s));
        assert!(a.starts_with("pushduty.tell-room."), "{a}");
        assert_ne!(a, b);
    }
}
