//! `email.send`: compose the announcement (the step's template and subject over the session),
//! show the whole message for the operator to edit, check it back, journal it, send it.
//!
//! Sent exactly once, as far as SMTP allows. The text and its Message-ID are journaled (and
//! on disk) before connecting, so neither a failed send nor a crash loses what the operator
//! typed: running the step again sends that same text. Then, once the server has taken the
//! envelope and right before the message itself goes (`DATA`), the journal records that this
//! Message-ID is being sent; if it cannot, nothing is sent. SMTP cannot say whether a message
//! it did not confirm was delivered, so after a run that stopped past that point the step does
//! not send by itself: it asks the operator whether the message arrived (naming the
//! Message-ID to look for), and either marks it sent or sends it again.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use super::{ByHand, Check, Executor, InputSpec, Job};
use crate::preview::fill;
use crate::runbook::model::{EmailSendStep, Outputs, Runbook, Step, StepKind};
use crate::services::smtp::Draft;
use crate::services::{Services, SmtpConf};

/// Checkpoint keys: the text as it was to be sent, and its Message-ID.
pub const MESSAGE: &str = "message";
pub const MESSAGE_ID: &str = "message_id";
/// Checkpoint key: the Message-ID whose `DATA` was about to go, journaled before it went;
/// null again once a run knows it did not.
pub const SENDING: &str = "sending";

/// The question after a run that stopped while sending, and its answers.
pub const MAYBE_SENT: &str = "maybe_sent";
pub const MARK_SENT: &str = "mark_sent";
pub const SEND_AGAIN: &str = "send_again";

/// The services, and where the runbook's files (the message template) are.
pub struct EmailSend(pub Arc<Services>, pub crate::templates::Base);

/// The Message-ID a run left in the journal for this step, if the next run sends its text.
fn journaled_id<'a>(step: &Step, ctx: &'a Value) -> Option<&'a str> {
    ctx["resume"][&step.id][MESSAGE_ID].as_str()
}

/// The Message-ID a run was sending when it stopped: it may have gone out.
fn in_doubt<'a>(step: &Step, ctx: &'a Value) -> Option<&'a str> {
    ctx["resume"][&step.id][SENDING].as_str()
}

/// What the operator looks for, and where.
fn where_to_look(id: &str) -> String {
    format!(
        "look for Message-ID {id} in the list's archive or your inbox (a mail client shows it \
         in the message's source or headers)"
    )
}

impl EmailSend {
    fn conf<'a>(&'a self, e: &EmailSendStep) -> Result<&'a SmtpConf> {
        self.0.smtp(&e.service).map_err(anyhow::Error::msg)
    }

    /// The step's recipients (rendered) or else the service's.
    fn recipients(e: &EmailSendStep, conf: &SmtpConf, ctx: &Value) -> Result<Vec<String>> {
        match &e.to {
            Some(to) => to
                .iter()
                .map(|t| {
                    crate::templates::render(t, ctx).with_context(|| format!("rendering `to` {t}"))
                })
                .collect(),
            None => Ok(conf.to.clone()),
        }
    }

    /// A new draft from the template and the subject.
    fn compose(&self, job: &Job, e: &EmailSendStep, conf: &SmtpConf) -> Result<Draft> {
        let (name, text) = job.base.read(&e.template)?;
        let body = crate::templates::render(&text, &job.ctx)
            .with_context(|| format!("rendering {name}"))?;
        let subject =
            crate::templates::render(&e.subject, &job.ctx).context("rendering the subject")?;
        let to = Self::recipients(e, conf, &job.ctx)?;
        let date = date_header(&job.now, &job.ctx);
        let draft = Draft::compose(&conf.from, &to, &subject, &date, &body)?;
        job.progress(format!(
            "composed from {name} ({} lines); Message-ID {}",
            draft.body.lines().count(),
            draft.message_id
        ));
        Ok(draft)
    }
}

/// The `Date:` of a message composed now: the step's clock (the wall clock as the step
/// starts, or an instant given with `--now`), not the session's start: a screen left open from
/// Tuesday's tag to Thursday's announcement dates the mail Thursday. A `--now` that is only a
/// day (a rehearsal) keeps the session's instant on that day.
fn date_header(now: &crate::runbook::vars::Now, ctx: &Value) -> String {
    match now {
        crate::runbook::vars::Now::Instant(t) => t.to_rfc2822(),
        crate::runbook::vars::Now::Date(_) => ctx["now"]
            .as_str()
            .and_then(|n| chrono::DateTime::parse_from_rfc3339(n).ok())
            .map_or_else(|| chrono::Local::now().to_rfc2822(), |d| d.to_rfc2822()),
    }
}

/// A `mailto:` link that opens the message in the operator's mail client (RFC 6068); `None`
/// when it would be too long for clients to take whole (then the text is pasted).
fn mailto(to: &[String], subject: &str, body: &str) -> Option<String> {
    // Mail clients and browsers cut links somewhere past 2,000 characters.
    const MAX: usize = 2000;
    let enc = pushduty_core::urls::encode;
    let body = body.replace("\r\n", "\n").replace('\n', "\r\n");
    let link = format!(
        "mailto:{}?subject={}&body={}",
        // The addresses keep their `@`, which mail clients expect to see.
        to.iter()
            .map(|t| enc(t).replace("%40", "@"))
            .collect::<Vec<_>>()
            .join(","),
        enc(subject),
        enc(&body)
    );
    (link.len() <= MAX).then_some(link)
}

impl Executor for EmailSend {
    /// Send it from your own mail client: the whole message, and a `mailto:` that opens it.
    fn by_hand(&self, step: &Step, _rb: &Runbook, ctx: &Value) -> Result<ByHand> {
        let StepKind::EmailSend(e) = &step.kind else {
            bail!("not an email.send step");
        };
        let conf = self.conf(e)?;
        let (name, text) = self.1.read(&e.template)?;
        let body =
            crate::templates::render(&text, ctx).with_context(|| format!("rendering {name}"))?;
        let subject = crate::templates::render(&e.subject, ctx).context("rendering the subject")?;
        crate::services::smtp::clean_header("Subject", &subject)?;
        let to = Self::recipients(e, conf, ctx)?;
        let link = mailto(&to, subject.trim(), &body);
        let mut steps = vec![format!(
            "send this message from your own mail client (as {}), to {}:",
            conf.from,
            to.join(", ")
        )];
        if link.is_none() {
            steps.push("(too long for a mailto: link: paste it)".into());
        }
        Ok(ByHand {
            steps,
            copy: Some(format!(
                "From: {}\nTo: {}\nSubject: {}\n\n{}",
                conf.from,
                to.join(", "),
                subject.trim(),
                body.trim_end()
            )),
            link,
            outputs: Outputs::from([
                ("to".to_string(), json!(to)),
                ("subject".to_string(), json!(subject.trim())),
            ]),
        })
    }

    /// After a run that stopped while sending: whether the message arrived.
    fn inputs(&self, step: &Step, ctx: &Value) -> Vec<InputSpec> {
        let Some(id) = in_doubt(step, ctx) else {
            return Vec::new();
        };
        vec![InputSpec {
            key: MAYBE_SENT.into(),
            prompt: format!(
                "pushduty stopped while sending {id}: did it arrive? ({})",
                where_to_look(id)
            ),
            required: true,
            options: vec![
                (
                    MARK_SENT.into(),
                    "it arrived: mark the step done, send nothing".into(),
                ),
                (
                    SEND_AGAIN.into(),
                    "it did not arrive: send the same message again".into(),
                ),
            ],
            hints: vec![where_to_look(id)],
            default: None,
            commits: Vec::new(),
            check: None,
        }]
    }

    fn preview(&self, step: &Step, rb: &Runbook, ctx: &Value) -> String {
        let StepKind::EmailSend(e) = &step.kind else {
            return crate::preview::preview(step, rb, ctx);
        };
        let Ok(conf) = self.conf(e) else {
            return crate::preview::preview(step, rb, ctx);
        };
        let to = match &e.to {
            Some(t) => t.iter().map(|x| fill(x, ctx)).collect::<Vec<_>>(),
            None => conf.to.clone(),
        };
        format!(
            "send \"{}\" from {} to {} via {} after you read and edit it in $EDITOR",
            fill(&e.subject, ctx),
            conf.from,
            to.join(", "),
            conf.describe()
        )
    }

    fn check(&self, step: &Step, ctx: &Value) -> Vec<Check> {
        let StepKind::EmailSend(e) = &step.kind else {
            return vec![Check::fail("not an email.send step")];
        };
        let conf = match self.conf(e) {
            Ok(c) => c,
            Err(err) => return vec![Check::fail(format!("{err:#}"))],
        };
        let mut out = Vec::new();
        // A subject that would break its header line is refused here, before anything runs.
        match crate::templates::render(&e.subject, ctx) {
            Ok(subject) => {
                if let Err(err) = crate::services::smtp::clean_header("Subject", &subject) {
                    out.push(Check::fail(format!("{err:#}")));
                }
            }
            Err(err) => out.push(Check::fail(format!("rendering the subject: {err:#}"))),
        }
        match Self::recipients(e, conf, ctx) {
            Ok(to) => {
                let problems = conf.problems(&to);
                if problems.is_empty() {
                    out.push(Check::ok(format!(
                        "from {} to {} via {}{}",
                        conf.from,
                        to.join(", "),
                        conf.describe(),
                        conf.user
                            .as_deref()
                            .map(|u| format!(", logging in as {u}"))
                            .unwrap_or_default()
                    )));
                }
                out.extend(problems.into_iter().map(Check::fail));
            }
            Err(err) => out.push(Check::fail(format!("{err:#}"))),
        }
        let kept = ctx["resume"][&step.id][MESSAGE].is_string();
        out.push(Check::ok(
            match (in_doubt(step, ctx), journaled_id(step, ctx)) {
                (Some(id), _) => format!(
                    "Message-ID {id} may have gone out already: pushduty stopped while sending it. \
                 Nothing is sent before you say whether it arrived ({})",
                    where_to_look(id)
                ),
                (None, Some(id)) => format!(
                    "Message-ID {id}: the text journaled by the run that did not finish is sent \
                 again (reopen the step to compose a new one)"
                ),
                (None, None) if kept => {
                    "the text you edited in the run that failed opens again, with \
                             the Message-ID it has (reopen the step to compose a new one)"
                        .into()
                }
                (None, None) => {
                    "Message-ID: a new one, journaled with the text before sending".into()
                }
            },
        ));
        out
    }

    fn run(&self, job: &Job) -> Result<Outputs> {
        let StepKind::EmailSend(e) = &job.step.kind else {
            bail!("not an email.send step");
        };
        let conf = self.conf(e)?;
        let journaled = job.resume.get(MESSAGE).and_then(Value::as_str);
        let in_doubt = job.resume.get(SENDING).and_then(Value::as_str);
        if let Some(id) = in_doubt {
            match job.inputs.get(MAYBE_SENT).map(String::as_str) {
                Some(MARK_SENT) => {
                    job.progress(format!(
                        "not sent again: you found {id}, so the step is marked done"
                    ));
                    let draft = journaled.map(Draft::parse).transpose()?;
                    let mut out = match draft {
                        Some(d) => sent(&d),
                        None => Outputs::from([(MESSAGE_ID.to_string(), json!(id))]),
                    };
                    out.insert(
                        "marked_sent".into(),
                        json!("by the operator, after a run that stopped while sending"),
                    );
                    return Ok(out);
                }
                Some(SEND_AGAIN) => job.progress(format!("sending {id} again, as you chose")),
                _ => bail!(
                    "{id} may have gone out already (pushduty stopped while sending it): \
                     {}, then run the step again with `{MAYBE_SENT}` = `{MARK_SENT}` or \
                     `{SEND_AGAIN}`",
                    where_to_look(id)
                ),
            }
        }
        let composed = match journaled {
            Some(text) => {
                job.progress(format!(
                    "using the message journaled by the run that did not finish{}, not a new one",
                    job.resume
                        .get(MESSAGE_ID)
                        .and_then(Value::as_str)
                        .map(|id| format!(" (Message-ID {id})"))
                        .unwrap_or_default()
                ));
                text.to_string()
            }
            None => self.compose(job, e, conf)?.text(),
        };
        // A message that may be in people's inboxes already goes again as it was: the same
        // Message-ID over a changed text would be two messages under one name.
        let edited = if in_doubt.is_some() {
            composed.clone()
        } else {
            job.console
                .edit(&composed, &format!("{}.eml", job.step.id), &job.cancel)?
        };
        let draft = match Draft::parse(&edited) {
            Ok(d) => d,
            Err(err) => {
                if edited != composed {
                    // Keep what was typed: the next run opens it again.
                    job.checkpoint(Outputs::from([(MESSAGE.to_string(), json!(edited))]));
                    bail!("{err:#}; your text is kept: run the step again to fix it");
                }
                return Err(err);
            }
        };
        if edited != composed {
            job.progress("edited");
        }
        if job.cancel.is_cancelled() {
            bail!("cancelled before sending");
        }
        job.checkpoint_synced(Outputs::from([
            (MESSAGE.to_string(), json!(edited)),
            (MESSAGE_ID.to_string(), json!(draft.message_id)),
            (SENDING.to_string(), Value::Null),
        ]))
        .with_context(|| {
            format!(
                "the message could not be journaled before sending, so it was not sent \
                 (Message-ID {})",
                draft.message_id
            )
        })?;
        let to = draft.recipients().join(", ");
        job.progress(format!(
            "sending {} to {to} via {}",
            draft.message_id,
            conf.describe()
        ));
        // Set once the journal says this Message-ID is being sent: from then on a failure
        // cannot tell whether it went.
        let announced = AtomicBool::new(false);
        let before_data = || {
            job.checkpoint_synced(Outputs::from([(
                SENDING.to_string(),
                json!(draft.message_id),
            )]))
            .with_context(|| format!("journaling that {} is being sent", draft.message_id))?;
            announced.store(true, Ordering::SeqCst);
            Ok(())
        };
        let accepted = job.call(conf.send(&draft, &before_data)).map_err(|err| {
            if announced.load(Ordering::SeqCst) {
                anyhow::anyhow!(
                    "{err:#}; {} may or may not have gone out: the next run of the step \
                         asks you whether it arrived before sending anything",
                    draft.message_id
                )
            } else {
                anyhow::anyhow!(
                    "{err:#}; the message is kept in the journal: running the step again \
                         sends it as it is (reopen the step to compose it anew)"
                )
            }
        })?;
        job.progress(format!("accepted: {accepted}"));
        Ok(sent(&draft))
    }

    /// A failed send hands its text to the next run: it is what the operator typed.
    fn resumes_failed(&self) -> bool {
        true
    }
}

/// The outputs of a message that went.
fn sent(draft: &Draft) -> Outputs {
    Outputs::from([
        (MESSAGE_ID.to_string(), json!(draft.message_id)),
        ("to".to_string(), json!(draft.recipients().join(", "))),
        ("subject".to_string(), json!(draft.subject)),
    ])
}

impl super::Execute for pushduty_core::runbook::kinds::email::Send {
    fn executor(s: &super::Setup<'_>) -> Arc<dyn Executor> {
        s.with_services("email.send", |services| {
            Arc::new(EmailSend(services, s.base.clone()))
        })
    }
}

#[cfg(test)]
mod date_tests {
    use super::*;
    use crate::runbook::vars::Now;

    /// The finding: the mail was dated when `run` started (the session's `now`), two days
    /// before it was sent.
    #[test]
    fn a_mail_is_dated_by_the_steps_clock_not_the_sessions_start() {
        let began = serde_json::json!({ "now": "2026-12-08T09:00:00-08:00" });
        let sent = chrono::DateTime::parse_from_rfc3339("2026-12-10T15:30:00-08:00").unwrap();
        assert_eq!(
            date_header(&Now::Instant(sent), &began),
            "Thu, 10 Dec 2026 15:30:00 -0800"
        );
        let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 8).unwrap();
        assert_eq!(
            date_header(&Now::Date(day), &began),
            "Tue, 8 Dec 2026 09:00:00 -0800"
        );
    }
}
