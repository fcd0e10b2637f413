//! Steps done by people: `manual` (tick off, note, typed outputs), `choice` (sets a variable),
//! `gate` (records who approved and when).

use std::sync::Arc;

use anyhow::{Result, bail};
use serde_json::Value;

use super::{Executor, InputSpec, Job, NOTE};
use crate::preview::fill;
use crate::runbook::model::{Outputs, Step, StepKind};

pub struct Manual;

impl Executor for Manual {
    fn inputs(&self, step: &Step, _ctx: &Value) -> Vec<InputSpec> {
        let mut v = vec![InputSpec::text(NOTE, "note (optional)".into(), false)];
        for o in &step.outputs {
            v.push(InputSpec::text(o, format!("value of `{o}`"), true));
        }
        v
    }

    fn run(&self, job: &Job) -> Result<Outputs> {
        let mut out = Outputs::new();
        for o in &job.step.outputs {
            match job.inputs.get(o).map(|s| s.trim()) {
                Some(v) if !v.is_empty() => {
                    out.insert(o.clone(), Value::String(v.to_string()));
                }
                _ => bail!("no value given for `{o}`"),
            }
        }
        job.progress("ticked off");
        Ok(out)
    }
}

pub struct Choice;

impl Executor for Choice {
    fn inputs(&self, step: &Step, ctx: &Value) -> Vec<InputSpec> {
        let StepKind::Choice(c) = &step.kind else {
            return Vec::new();
        };
        vec![InputSpec {
            key: c.var.clone(),
            prompt: format!("choose `{}`", c.var),
            required: true,
            options: c
                .options
                .iter()
                .map(|o| (o.value.clone(), fill(&o.label, ctx)))
                .collect(),
            hints: Vec::new(),
            default: None,
            commits: Vec::new(),
            check: None,
        }]
    }

    fn run(&self, job: &Job) -> Result<Outputs> {
        let StepKind::Choice(c) = &job.step.kind else {
            bail!("not a choice step");
        };
        let Some(v) = job.inputs.get(&c.var).map(|s| s.trim()) else {
            bail!("no choice made for `{}`", c.var);
        };
        if !c.options.iter().any(|o| o.value == v) {
            bail!("`{v}` is not an option of `{}`", c.var);
        }
        job.progress(format!("{} = {v}", c.var));
        let mut out = Outputs::new();
        out.insert(c.var.clone(), Value::String(v.to_string()));
        Ok(out)
    }
}

pub struct Gate;

impl Executor for Gate {
    fn inputs(&self, step: &Step, ctx: &Value) -> Vec<InputSpec> {
        let who = match &step.kind {
            StepKind::Gate(g) => g.who.as_deref().map(|w| fill(w, ctx)),
            _ => None,
        };
        vec![
            InputSpec::text(
                "approved_by",
                match who {
                    Some(w) => format!("approved by (expected: {w})"),
                    None => "approved by".into(),
                },
                true,
            ),
            InputSpec::text(
                "approved_at",
                "when it happened (HH:MM today, or 2015-09-10T14:02:00-07:00; empty: now)".into(),
                false,
            ),
            InputSpec::text(NOTE, "note (optional)".into(), false),
        ]
    }

    fn run(&self, job: &Job) -> Result<Outputs> {
        let Some(by) = job.inputs.get("approved_by").map(|s| s.trim()) else {
            bail!("who approved is required");
        };
        if by.is_empty() {
            bail!("who approved is required");
        }
        let when = job.inputs.get("approved_at").map_or("", |s| s.trim());
        let at = when_it_happened(when, reference(job.now))?;
        let mut out = Outputs::new();
        out.insert("approved_by".into(), Value::String(by.to_string()));
        out.insert("approved_at".into(), Value::String(at));
        job.progress(format!("approved by {by}"));
        Ok(out)
    }
}

/// When a typed time may lie, by the session's now: with `--now` an instant, up to it; with
/// `--now` a whole day, any time on that day (and, since the watches soak on the real clock,
/// up to the wall clock too); without `--now`, up to the clock. Returns the day `HH:MM`
/// means and the latest time accepted; the earliest is a week before the earlier of that
/// day's start and the clock.
fn reference(now: crate::runbook::vars::Now) -> Window {
    use crate::runbook::vars::Now;
    use chrono::TimeZone;
    let wall = chrono::Local::now();
    match now {
        Now::Instant(t) => Window::at(t.with_timezone(&chrono::Local)),
        Now::Date(d) => {
            let end = d
                .and_hms_opt(23, 59, 59)
                .and_then(|t| chrono::Local.from_local_datetime(&t).latest())
                .unwrap_or(wall);
            Window {
                now: wall,
                day: end,
                earliest: end.min(wall) - chrono::Duration::days(8),
                latest: end.max(wall),
            }
        }
    }
}

/// The times a gate's "when it happened" may name.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    /// What an empty answer means.
    now: chrono::DateTime<chrono::Local>,
    /// `HH:MM` is on this one's day.
    day: chrono::DateTime<chrono::Local>,
    earliest: chrono::DateTime<chrono::Local>,
    latest: chrono::DateTime<chrono::Local>,
}

impl Window {
    /// Up to `now`, and not more than a week before it.
    pub fn at(now: chrono::DateTime<chrono::Local>) -> Self {
        Window {
            now,
            day: now,
            earliest: now - chrono::Duration::days(7),
            latest: now,
        }
    }
}

/// A gate's "when it happened", as RFC 3339 UTC: empty is now, `HH:MM` is today (local), or a
/// full RFC 3339 time. Not in the future, and within the last week: the watches after the
/// production push count their soak from it.
pub fn when_it_happened(text: &str, window: Window) -> Result<String> {
    use chrono::{NaiveTime, SecondsFormat, TimeZone, Utc};
    let t = if text.is_empty() {
        window.now.with_timezone(&Utc)
    } else if let Ok(hm) = NaiveTime::parse_from_str(text, "%H:%M") {
        chrono::Local
            .from_local_datetime(&window.day.date_naive().and_time(hm))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| anyhow::anyhow!("{text} does not exist today (a clock change)"))?
    } else {
        chrono::DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| {
                anyhow::anyhow!(
                    "`{text}` is not a time: give HH:MM (today) or e.g. 2015-09-10T14:02:00-07:00"
                )
            })?
    };
    if t > window.latest.with_timezone(&Utc) + chrono::Duration::minutes(1) {
        bail!("`{text}` is in the future: give when it happened");
    }
    if t < window.earliest.with_timezone(&Utc) {
        bail!("`{text}` is more than a week ago");
    }
    Ok(t.to_rfc3339_opts(SecondsFormat::Secs, true))
}

impl super::Execute for pushduty_core::runbook::kinds::manual::Manual {
    fn executor(_: &super::Setup<'_>) -> Arc<dyn Executor> {
        Arc::new(Manual)
    }
}

impl super::Execute for pushduty_core::runbook::kinds::choice::Choice {
    fn executor(_: &super::Setup<'_>) -> Arc<dyn Executor> {
        Arc::new(Choice)
    }
}

impl super::Execute for pushduty_core::runbook::kinds::gate::Gate {
    fn executor(_: &super::Setup<'_>) -> Arc<dyn Executor> {
        Arc::new(Gate)
    }
}

#[cfg(test)]
mod tests {
    use super::{Window, reference, when_it_happened};
    use chrono::TimeZone;

    /// `--now`, not the wall clock, says what has happened: a whole day accepts any time on it,
    /// an instant refuses what comes after it.
    #[test]
    fn the_session_now_decides_what_is_in_the_future() {
        use crate::runbook::vars::Now;
        let day = Now::Date(chrono::NaiveDate::from_ymd_opt(2015, 9, 10).unwrap());
        let at = when_it_happened("23:30", reference(day)).unwrap();
        assert!(at.starts_with("2015-09-1"), "{at}");
        let instant: Now = "2015-09-10T14:00:00+00:00".parse().unwrap();
        assert!(when_it_happened("2015-09-10T13:59:00Z", reference(instant)).is_ok());
        let e = when_it_happened("2015-09-10T15:00:00Z", reference(instant)).unwrap_err();
        assert!(e.to_string().contains("future"), "{e}");
    }

    #[test]
    fn when_it_happened_reads_times_and_refuses_the_future() {
        let now = chrono::Local
            .with_ymd_and_hms(2015, 9, 10, 14, 30, 0)
            .unwrap();
        let utc = |s: &str| {
            chrono::DateTime::parse_from_rfc3339(s)
                .unwrap()
                .with_timezone(&chrono::Utc)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        };
        assert_eq!(
            when_it_happened("", Window::at(now)).unwrap(),
            now.with_timezone(&chrono::Utc)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        let hm = when_it_happened("14:02", Window::at(now)).unwrap();
        let expect = chrono::Local
            .with_ymd_and_hms(2015, 9, 10, 14, 2, 0)
            .unwrap();
        assert_eq!(hm, utc(&expect.to_rfc3339()));
        assert!(
            when_it_happened("15:00", Window::at(now))
                .unwrap_err()
                .to_string()
                .contains("future")
        );
        assert!(
            when_it_happened("2015-09-01T00:00:00Z", Window::at(now))
                .unwrap_err()
                .to_string()
                .contains("week")
        );
        assert!(
            when_it_happened("soon", Window::at(now))
                .unwrap_err()
                .to_string()
                .contains("HH:MM")
        );
    }
}
