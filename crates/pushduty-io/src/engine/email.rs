//! `email.send`: compose the announcement (the step's template and subject over the session),
//! show the whole message for the operator to edit, check it back, journal it, send it.
//!
//! The text and its Message-ID are checkpointed before sending, so neither a failed send nor
//! a crash loses what the operator typed: running the step again sends that same text. SMTP
//! cannot say whether a message it did not confirm was delivered, so a crash between the
//! server's "accepted" and the journal's "done" sends it twice on the next run, with the same
//! Message-ID (which lets mail clients and lists that dedupe by it show it once).

use std::sync::Arc;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use super::{Check, Executor, Job};
use crate::preview::fill;
use crate::runbook::model::{EmailSendStep, Outputs, Runbook, Step, StepKind};
use crate::services::smtp::Draft;
use crate::services::{Services, SmtpConf};

/// Checkpoint keys: the text as it was to be sent, and its Message-ID.
pub const MESSAGE: &str = "message";
pub const MESSAGE_ID: &str = "message_id";

pub struct EmailSend(pub Arc<Services>);

/// The Message-ID a run left in the journal for this step, if the next run sends its text.
fn journaled_id<'a>(step: &Step, ctx: &'a Value) -> Option<&'a str> {
    ctx["resume"][&step.id][MESSAGE_ID].as_str()
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
        // The session's `now`, so a rehearsal (`--now`) dates its email as it dates the rest.
        let date = job.ctx["now"]
            .as_str()
            .and_then(|n| chrono::DateTime::parse_from_rfc3339(n).ok())
            .map_or_else(|| chrono::Local::now().to_rfc2822(), |d| d.to_rfc2822());
        let draft = Draft::compose(&conf.from, &to, &subject, &date, &body)?;
        job.progress(format!(
            "composed from {name} ({} lines); Message-ID {}",
            draft.body.lines().count(),
            draft.message_id
        ));
        Ok(draft)
    }
}

impl Executor for EmailSend {
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
        out.push(Check::ok(match journaled_id(step, ctx) {
            Some(id) => format!(
                "Message-ID {id}: the text journaled by the run that did not finish is sent \
                 again (reopen the step to compose a new one)"
            ),
            None if kept => "the text you edited in the run that failed opens again, with \
                             the Message-ID it has (reopen the step to compose a new one)"
                .into(),
            None => "Message-ID: a new one, journaled with the text before sending".into(),
        }));
        out
    }

    fn run(&self, job: &Job) -> Result<Outputs> {
        let StepKind::EmailSend(e) = &job.step.kind else {
            bail!("not an email.send step");
        };
        let conf = self.conf(e)?;
        let composed = match job.resume.get(MESSAGE).and_then(Value::as_str) {
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
        let edited = job
            .console
            .edit(&composed, &format!("{}.eml", job.step.id))?;
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
        job.checkpoint(Outputs::from([
            (MESSAGE.to_string(), json!(edited)),
            (MESSAGE_ID.to_string(), json!(draft.message_id)),
        ]));
        let to = draft.recipients().join(", ");
        job.progress(format!(
            "sending {} to {to} via {}",
            draft.message_id,
            conf.describe()
        ));
        let accepted = job.call(conf.send(&draft)).map_err(|err| {
            anyhow::anyhow!(
                "{err:#}; the message is kept in the journal: running the step again sends \
                 it as it is (reopen the step to compose it anew)"
            )
        })?;
        job.progress(format!("accepted: {accepted}"));
        Ok(Outputs::from([
            (MESSAGE_ID.to_string(), json!(draft.message_id)),
            ("to".to_string(), json!(to)),
            ("subject".to_string(), json!(draft.subject)),
        ]))
    }

    /// A failed send hands its text to the next run: it is what the operator typed.
    fn resumes_failed(&self) -> bool {
        true
    }
}

impl super::Execute for pushduty_core::runbook::kinds::email::Send {
    fn executor(s: &super::Setup<'_>) -> Arc<dyn Executor> {
        s.with_services("email.send", |services| Arc::new(EmailSend(services)))
    }
}
