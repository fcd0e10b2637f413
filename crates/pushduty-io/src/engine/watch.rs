//! `metrics.check` and `sentry.check`: watch the soak after the production push, then judge.
//! Both only read, so they run beside other steps; the operator can end a watch early (it is
//! then judged on what it saw). The soak's start is checkpointed, so a resumed watch keeps
//! its window instead of starting a new one.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Value, json};

use super::{Check, Executor, Job};
use crate::health::judge::{self, Limits, Policy, SeriesJudgement, Verdict};
use crate::health::window::{Windows, within};
use crate::runbook::kinds::watch::MetricsCheckStep;
use crate::runbook::model::{MetricSeries, Outputs, Step, StepKind};
use crate::services::http::is_transient;
use crate::services::metrics::Point;
use crate::services::sentry::{Issue, Sentry, rate_limited};
use crate::services::{MetricsConf, Services};

/// Checkpoint key: the soak's start, unix seconds.
pub const SOAK_START: &str = "soak_start";
/// Failed reads in a row a watch tolerates before it gives up.
const PATIENCE: u32 = 5;

pub struct MetricsCheck(pub Arc<Services>);
pub struct SentryCheck(pub Arc<Services>);

/// The step that starts the soak and its completion time, from the context's `done_at`.
fn since_done(ctx: &Value, since: Option<&str>) -> Option<(String, i64)> {
    let dep = since?;
    let at = ctx["done_at"][dep].as_str()?;
    let t = chrono::DateTime::parse_from_rfc3339(at).ok()?;
    Some((dep.to_string(), t.timestamp()))
}

/// The soak's start: as checkpointed by an interrupted run, else when `since` was done,
/// else now (no `since`, or its precondition overridden).
fn soak_start(job: &Job, since: Option<&str>) -> i64 {
    job.resume
        .get(SOAK_START)
        .and_then(Value::as_i64)
        .or_else(|| since_done(&job.ctx, since).map(|(_, t)| t))
        .unwrap_or_else(now)
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn clock(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| {
            d.with_timezone(&chrono::Local)
                .format("%a %H:%M")
                .to_string()
        })
        .unwrap_or_else(|| t.to_string())
}

/// The checks both watches share: the soak's start is known, and when it ends.
fn soak_checks(ctx: &Value, since: Option<&str>, soak_minutes: f64) -> Vec<Check> {
    match (since, since_done(ctx, since)) {
        (Some(dep), None) => vec![Check::fail(format!(
            "`{dep}` is not done yet: the soak starts when it is (overriding starts it now)"
        ))],
        (_, Some((dep, t))) => vec![Check::ok(format!(
            "soak: {} to {} ({soak_minutes} min after `{dep}`)",
            clock(t),
            clock(t + crate::health::window::minutes_secs(soak_minutes))
        ))],
        (None, None) => vec![Check::ok(format!(
            "soak: the {soak_minutes} min from when this step starts"
        ))],
    }
}

/// Waits until `end` (unix seconds), calling `tick` every `every`; ends at once on a cancel
/// (an error) or when the operator has seen enough (`Ok(true)`).
fn watch(
    job: &Job,
    end: i64,
    every: Duration,
    mut tick: impl FnMut() -> Result<()>,
) -> Result<bool> {
    let mut next = std::time::Instant::now();
    loop {
        if job.cancel.is_cancelled() {
            bail!("cancelled by the operator");
        }
        if job.cancel.ended_early() {
            return Ok(true);
        }
        if now() >= end {
            return Ok(false);
        }
        if std::time::Instant::now() >= next {
            tick()?;
            next = std::time::Instant::now() + every;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The limits of a series, from the runbook.
pub fn limits(s: &MetricSeries, min_points: usize) -> Limits {
    let d = Limits::default();
    Limits {
        direction: s.direction,
        max_rise_percent: s.max_rise_percent.or(d.max_rise_percent),
        max_drop_percent: s.max_drop_percent.or(d.max_drop_percent),
        max: s.max,
        min: s.min,
        alpha: s.alpha.unwrap_or(d.alpha),
        min_points,
    }
}

/// A series' points cut into the windows a judgment compares.
#[derive(Debug, Clone, Default)]
pub struct Cut {
    pub soak: Vec<Option<f64>>,
    pub before: Vec<Option<f64>>,
    pub week: Vec<Option<f64>>,
    /// Seconds between points, as the server answered (60 when it cannot be told).
    pub step: i64,
}

impl Cut {
    /// `around`: from the start of the baseline to `until`; `week`: the week-earlier window.
    pub fn new(around: &[Point], week: &[Point], w: &Windows, until: i64) -> Self {
        Self {
            soak: within(around, (w.push, until)),
            before: within(around, w.before()),
            week: within(week, w.week()),
            step: step_of(around),
        }
    }

    pub fn judge(&self, name: &str, lim: &Limits) -> SeriesJudgement {
        judge::judge(name, &self.soak, &self.before, &self.week, lim)
    }
}

/// The usual distance between points: the smallest positive gap (a missing point widens a
/// gap, never narrows one).
fn step_of(points: &[Point]) -> i64 {
    points
        .windows(2)
        .map(|p| p[1].0 - p[0].0)
        .filter(|&d| d > 0)
        .min()
        .unwrap_or(60)
}

/// Reads one series around the push (`until`: the end of what has been watched): its points
/// cut into windows, or why it could not be read.
pub async fn read_series(conf: &MetricsConf, query: &str, w: &Windows, until: i64) -> Result<Cut> {
    let around = conf.range(query, w.before().0, until).await?;
    let week = conf.range(query, w.week().0, w.week().1).await?;
    Ok(Cut::new(&around, &week, w, until))
}

/// How the step's series make its verdict: by score when both thresholds are set.
pub fn policy(m: &MetricsCheckStep) -> Policy {
    match (m.pass_score, m.marginal_score) {
        (Some(pass), Some(marginal)) => Policy::Score { pass, marginal },
        _ => Policy::AnyFail,
    }
}

/// A series that could not be read: unknown, with what to fix.
pub fn unreadable(name: &str, kind: &str, lim: &Limits, e: &anyhow::Error) -> SeriesJudgement {
    let mut j = judge::judge(name, &[], &[], &[], lim);
    j.reason = format!("{kind} could not be read: {e:#}");
    j
}

/// Reads one series around the push and judges it; a read that fails is "unknown" with
/// what to fix.
fn judge_series(
    job: &Job,
    conf: &MetricsConf,
    s: &MetricSeries,
    w: &Windows,
    until: i64,
    min_points: usize,
) -> (SeriesJudgement, Option<Cut>) {
    let lim = limits(s, min_points);
    match job.call(read_series(conf, &s.query, w, until)) {
        Ok(cut) => (cut.judge(&s.name, &lim), Some(cut)),
        Err(e) => (unreadable(&s.name, conf.kind, &lim, &e), None),
    }
}

/// While the soak has fewer points than a verdict needs: how many there are and about how
/// long until there are enough. `None` once every series has enough.
fn too_little(cuts: &[Cut], needed: usize) -> Option<String> {
    let needed = needed.max(1);
    let (have, step) = cuts
        .iter()
        .map(|c| {
            (
                c.soak.iter().flatten().filter(|v| v.is_finite()).count(),
                c.step,
            )
        })
        .min_by_key(|(n, _)| *n)?;
    if have >= needed {
        return None;
    }
    let secs = (needed - have) as i64 * step;
    Some(format!(
        "too little data for a verdict yet: {have} of {needed} points; about {} min to go",
        (secs + 59) / 60
    ))
}

impl Executor for MetricsCheck {
    fn check(&self, step: &Step, ctx: &Value) -> Vec<Check> {
        let StepKind::MetricsCheck(m) = &step.kind else {
            return Vec::new();
        };
        let mut checks = soak_checks(ctx, m.since.as_deref(), m.soak_minutes);
        match self.0.metrics(&m.service) {
            Ok(conf) => checks.push(Check::ok(format!(
                "{} series on {} at {}, compared with the {} min before and with last week",
                conf.series.len(),
                conf.kind,
                conf.url,
                m.baseline_minutes
            ))),
            Err(e) => checks.push(Check::fail(e)),
        }
        checks
    }

    fn run(&self, job: &Job) -> Result<Outputs> {
        let StepKind::MetricsCheck(m) = &job.step.kind else {
            bail!("not a metrics.check step");
        };
        let conf = self.0.metrics(&m.service).map_err(|e| anyhow!(e))?;
        let start = soak_start(job, m.since.as_deref());
        job.checkpoint(Outputs::from([(SOAK_START.to_string(), json!(start))]));
        let w = Windows::new(start, m.soak_minutes, m.baseline_minutes);
        let end = w.soak().1;
        let every = Duration::from_secs(m.poll_seconds.max(1));
        let early = watch(job, end, every, || {
            let t = now();
            let watched = w.watched(t) / 60;
            let mut said = Vec::new();
            let mut cuts = Vec::new();
            for s in &conf.series {
                let (j, cut) = judge_series(job, conf, s, &w, t, m.min_points);
                said.push(format!("{} {}", s.name, judge::verdict_cell(&j)));
                cuts.extend(cut);
            }
            let said = too_little(&cuts, m.min_points).unwrap_or_else(|| said.join(", "));
            job.progress(format!(
                "watched {watched} of {} min: {said}",
                m.soak_minutes
            ));
            Ok(())
        })?;
        let until = now().min(end);
        let series: Vec<SeriesJudgement> = conf
            .series
            .iter()
            .map(|s| judge_series(job, conf, s, &w, until, m.min_points).0)
            .collect();
        let overall = judge::overall(&series, &policy(m));
        let table = report(&series);
        for line in &table {
            job.progress(line.clone());
        }
        let ended = early.then(|| {
            format!(
                " (ended early after {} of {} min)",
                w.watched(until) / 60,
                m.soak_minutes
            )
        });
        let summary = format!("{}{}", overall.summary, ended.unwrap_or_default());
        match overall.verdict {
            Verdict::Pass | Verdict::Marginal => Ok(Outputs::from([
                ("metrics_verdict".to_string(), json!(overall.verdict)),
                ("metrics_score".to_string(), json!(overall.score)),
                ("metrics_series".to_string(), json!(series)),
                ("metrics_summary".to_string(), json!(summary)),
                ("metrics_table".to_string(), json!(table)),
                (
                    "soak".to_string(),
                    json!({ "from": start, "until": until, "ended_early": early }),
                ),
            ])),
            Verdict::Fail | Verdict::Unknown => Err(anyhow!("{summary}\n{}", table.join("\n"))),
        }
    }
}

impl Executor for SentryCheck {
    fn check(&self, step: &Step, ctx: &Value) -> Vec<Check> {
        let StepKind::SentryCheck(s) = &step.kind else {
            return Vec::new();
        };
        let mut checks = soak_checks(ctx, s.since.as_deref(), s.soak_minutes);
        match self.0.sentry(&s.service).map(|c| (c, c.client())) {
            Ok((conf, Ok(_))) => checks.push(Check::ok(format!(
                "Sentry project {}/{} at {}; fails above {}",
                conf.org,
                conf.project,
                conf.url,
                crate::words::count(s.max_new_issues, "new issue")
            ))),
            Ok((_, Err(e))) | Err(e) => checks.push(Check::fail(e)),
        }
        checks
    }

    fn run(&self, job: &Job) -> Result<Outputs> {
        let StepKind::SentryCheck(s) = &job.step.kind else {
            bail!("not a sentry.check step");
        };
        let conf = self.0.sentry(&s.service).map_err(|e| anyhow!(e))?;
        let client = conf.client().map_err(|e| anyhow!(e))?;
        let extra = s
            .query
            .as_deref()
            .map(|q| crate::templates::render(q, &job.ctx))
            .transpose()
            .context("the step's `query`")?;
        let start = soak_start(job, s.since.as_deref());
        job.checkpoint(Outputs::from([(SOAK_START.to_string(), json!(start))]));
        let w = Windows::new(start, s.soak_minutes, s.baseline_minutes);
        let mut look = Looker {
            job,
            client: &client,
            since: chrono::DateTime::from_timestamp(start, 0).unwrap_or_default(),
            extra: extra.as_deref(),
            max: s.max_new_issues,
            soak_minutes: s.soak_minutes,
            w: &w,
            failures: 0,
            pause_until: 0,
            fresh: false,
            said: None,
            issues: Vec::new(),
        };
        let every = Duration::from_secs(s.poll_seconds.max(1));
        let early = watch(job, w.soak().1, every, || look.look())?;
        // A last look at the end: an issue that appeared in the final moments counts, and
        // without a fresh answer there is no verdict (a rate limit is waited out).
        let mut tries = 0;
        loop {
            look.fresh = false;
            look.look()?;
            if look.fresh {
                break;
            }
            tries += 1;
            if tries >= PATIENCE {
                bail!(
                    "Sentry gave no answer at the end of the soak, so there is no verdict: run the step again"
                );
            }
            watch(
                job,
                look.pause_until.max(now() + 1),
                Duration::from_secs(3600),
                || Ok(()),
            )?;
        }
        let issues = look.issues;
        let until = now().min(w.soak().1);
        let rate = event_rate(job, &client, &w, until, s.max_rise_percent);
        let table = report(std::slice::from_ref(&rate));
        for line in &table {
            job.progress(line.clone());
        }
        if rate.verdict == Verdict::Fail {
            bail!("the error rate rose: {}\n{}", rate.reason, table.join("\n"));
        }
        // An unknown rate does not fail the step (the new issues are its judgment), but the
        // pass must not read as if the rate had been judged too.
        let rate_words = if rate.verdict == Verdict::Unknown {
            let words = format!(
                "event rate not judged ({}): this pass rests on the new issues alone",
                rate.reason
            );
            job.progress(words.clone());
            words
        } else {
            format!("event rate {}: {}", rate.verdict, rate.reason)
        };
        let ended = early.then(|| {
            format!(
                "; ended early after {} of {} min",
                w.watched(until) / 60,
                s.soak_minutes
            )
        });
        Ok(Outputs::from([
            ("new_issues".to_string(), json!(issues.len())),
            ("sentry_issues".to_string(), json!(issues)),
            ("sentry_verdict".to_string(), json!(rate.verdict)),
            (
                "sentry_summary".to_string(),
                json!(format!(
                    "{} (at most {}); {rate_words}{}",
                    crate::words::count(issues.len() as u64, "new issue"),
                    s.max_new_issues,
                    ended.unwrap_or_default()
                )),
            ),
            (
                "soak".to_string(),
                json!({ "from": w.push, "until": until, "ended_early": early }),
            ),
        ]))
    }
}

/// One look at Sentry's new issues during the soak: fails as soon as there are too many,
/// waits out a rate limit, tolerates a few passing failures.
struct Looker<'a> {
    job: &'a Job,
    client: &'a Sentry,
    since: chrono::DateTime<chrono::Utc>,
    extra: Option<&'a str>,
    max: u64,
    soak_minutes: f64,
    w: &'a Windows,
    failures: u32,
    pause_until: i64,
    /// The last look got an answer.
    fresh: bool,
    /// The soak minute of the last progress line.
    said: Option<i64>,
    issues: Vec<Issue>,
}

impl Looker<'_> {
    fn look(&mut self) -> Result<()> {
        if now() < self.pause_until {
            return Ok(());
        }
        let cap = usize::try_from(self.max)
            .unwrap_or(usize::MAX)
            .saturating_add(20);
        match self
            .job
            .call(self.client.new_issues(self.since, self.extra, cap))
        {
            Ok(found) => {
                self.failures = 0;
                self.fresh = true;
                let changed = found.items.len() != self.issues.len();
                self.issues = found.items;
                // Said when the count moves, and every five minutes: not at every look.
                let watched = self.w.watched(now()) / 60;
                if changed || self.said.is_none_or(|m| watched >= m + 5) {
                    self.said = Some(watched);
                    self.job.progress(format!(
                        "watched {watched} of {} min: {}",
                        self.soak_minutes,
                        crate::words::count(self.issues.len() as u64, "new issue")
                    ));
                }
            }
            Err(e) if self.job.cancel.is_cancelled() => return Err(e),
            Err(e) => {
                if let Some(r) = rate_limited(&e) {
                    let wait = r.retry_in.unwrap_or(Duration::from_secs(60));
                    self.pause_until = now() + i64::try_from(wait.as_secs()).unwrap_or(60);
                    self.job
                        .progress(format!("{}; waiting {}s", r.text, wait.as_secs()));
                    return Ok(());
                }
                if !is_transient(&e) {
                    return Err(e);
                }
                self.failures += 1;
                if self.failures >= PATIENCE {
                    return Err(e.context("Sentry kept failing"));
                }
                self.job.progress(format!("{e:#}; trying again"));
            }
        }
        if self.issues.len() as u64 > self.max {
            bail!("{}", too_many(&self.issues, self.max));
        }
        Ok(())
    }
}

/// The judgement as the step shows and journals it: the table, then why each series ended
/// as it did.
fn report(series: &[SeriesJudgement]) -> Vec<String> {
    let mut lines = judge::table(series);
    for s in series {
        lines.push(format!("{}: {}", s.name, s.reason));
    }
    lines.extend(series.iter().filter_map(judge::sensitivity));
    lines
}

/// The failure text when too many new issues appeared: each with its link.
fn too_many(issues: &[Issue], max: u64) -> String {
    let mut lines = vec![format!(
        "{} since the push (at most {max} allowed):",
        crate::words::count(issues.len() as u64, "new issue")
    )];
    for i in issues {
        lines.push(format!(
            "  {} {} ({}, {} events) {}",
            i.short_id,
            i.title,
            i.level,
            i.count,
            i.permalink.as_deref().unwrap_or("")
        ));
    }
    lines.join("\n")
}

/// Soaks shorter than 10 minutes judge the event rate on 10-second points.
const FINE_SOAK_SECS: i64 = 600;

/// The event rate after the push judged against before it and last week; unreadable counts
/// are "unknown" (which does not fail the step: the new issues are its main judgment).
fn event_rate(
    job: &Job,
    client: &Sentry,
    w: &Windows,
    until: i64,
    max_rise: Option<f64>,
) -> SeriesJudgement {
    let lim = Limits {
        max_rise_percent: max_rise.or(Some(100.0)),
        ..Limits::default()
    };
    // Per minute, a soak shorter than this has too few points for the judge; Sentry counts
    // every 10 seconds too.
    let fine = w.soak_secs < FINE_SOAK_SECS;
    let around = job.call(client.event_counts(w.before().0, until, fine));
    let week = job.call(client.event_counts(w.week().0, w.week().1, fine));
    let some = |v: Vec<(i64, f64)>| -> Vec<(i64, Option<f64>)> {
        v.into_iter().map(|(t, c)| (t, Some(c))).collect()
    };
    match (around, week) {
        (Ok(around), week) => {
            let week = week.map(some).unwrap_or_default();
            Cut::new(&some(around), &week, w, until).judge("events/min", &lim)
        }
        (Err(e), _) => {
            let mut j = judge::judge("events/min", &[], &[], &[], &lim);
            j.reason = format!("the event counts could not be read: {e:#}");
            j
        }
    }
}

impl super::Execute for pushduty_core::runbook::kinds::watch::SentryCheck {
    fn executor(s: &super::Setup<'_>) -> Arc<dyn Executor> {
        s.with_services("sentry.check", |services| Arc::new(SentryCheck(services)))
    }
}

impl super::Execute for pushduty_core::runbook::kinds::watch::MetricsCheck {
    fn executor(s: &super::Setup<'_>) -> Arc<dyn Executor> {
        s.with_services("metrics.check", |services| Arc::new(MetricsCheck(services)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cut(soak: usize, step: i64) -> Cut {
        Cut {
            soak: vec![Some(1.0); soak],
            step,
            ..Cut::default()
        }
    }

    #[test]
    fn too_little_data_says_how_many_points_and_how_long() {
        assert_eq!(
            too_little(&[cut(3, 60), cut(1, 60)], 5).as_deref(),
            Some("too little data for a verdict yet: 1 of 5 points; about 4 min to go")
        );
        // Ten-second points: two more are 20 seconds, said as about a minute.
        assert_eq!(
            too_little(&[cut(3, 10)], 5).as_deref(),
            Some("too little data for a verdict yet: 3 of 5 points; about 1 min to go")
        );
        // Gaps and non-finite values are no points.
        let gappy = Cut {
            soak: vec![Some(1.0), None, Some(f64::NAN), Some(2.0)],
            step: 300,
            ..Cut::default()
        };
        assert_eq!(
            too_little(&[gappy], 5).as_deref(),
            Some("too little data for a verdict yet: 2 of 5 points; about 15 min to go")
        );
        assert_eq!(too_little(&[cut(5, 60)], 5), None);
        assert_eq!(too_little(&[], 5), None);
    }

    #[test]
    fn the_step_is_the_smallest_gap_between_points() {
        assert_eq!(step_of(&[(0, Some(1.0)), (60, None), (180, Some(2.0))]), 60);
        assert_eq!(step_of(&[(0, Some(1.0))]), 60);
        assert_eq!(step_of(&[(0, Some(1.0)), (10, Some(1.0))]), 10);
    }
}
