//! `pushduty judge --backtest`: the runbook's metrics checks applied to past pushes, with
//! today's thresholds (and any `--set`), to see what each would have said and how far each
//! verdict is from flipping. Reads the metrics servers only: no session, journal, lock or log.

use std::process::ExitCode;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Global, fail};
use crate::engine::watch::{limits, policy, read_series, unreadable};
use crate::health::flips::{Flip, flips, flips_text};
use crate::health::judge::{self, Sizes, Verdict};
use crate::health::window::Windows;
use crate::runbook::kinds::watch::MetricsCheckStep;
use crate::runbook::model::{Runbook, StepKind};
use crate::sanitize::{clean, clean_line};
use crate::services::Services;
use crate::services::http::{all, block_on};

/// Where a past push came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Source {
    /// A session in the state dir: its production push's moment.
    History,
    /// Given with `--at`.
    At,
}

/// One metrics check to judge at one moment.
struct Case<'a> {
    at: i64,
    source: Source,
    step: &'a str,
    check: &'a MetricsCheckStep,
}

/// One series of one check at one push: a row of the table.
#[derive(Serialize)]
struct Row {
    /// The push, RFC 3339 in UTC.
    push: String,
    source: Source,
    step: String,
    series: String,
    verdict: Verdict,
    /// A pass on data too thin to have seen a change of the allowed size.
    thin: bool,
    /// The series' share of the score: 100 pass, 50 marginal, 0 otherwise.
    score: f64,
    points: Sizes,
    /// The allowed change in the harmful direction today (`None`: absolute limits only).
    allowed_percent: Option<f64>,
    mde_percent: Option<f64>,
    flips: Vec<Flip>,
    reason: String,
}

/// A check's verdict over its series at one push, as the step would have ended.
#[derive(Serialize)]
struct Overall {
    push: String,
    source: Source,
    step: String,
    verdict: Verdict,
    score: f64,
    summary: String,
}

#[derive(Serialize)]
struct Json {
    runbook: String,
    rows: Vec<Row>,
    checks: Vec<Overall>,
    /// Watches the back-test does not judge (`sentry.check`), by step id.
    not_judged: Vec<String>,
}

pub fn run(g: &Global, backtest: bool, at: &[DateTime<Utc>], json: bool) -> ExitCode {
    let (loaded, config) = match g.load_both() {
        Ok(x) => x,
        Err(code) => return code,
    };
    let rb = &loaded.runbook;
    let checks: Vec<(&str, &MetricsCheckStep)> = rb
        .steps
        .iter()
        .filter_map(|s| match &s.kind {
            StepKind::MetricsCheck(m) => Some((s.id.as_str(), m)),
            _ => None,
        })
        .collect();
    if checks.is_empty() {
        eprintln!(
            "pushduty: the runbook `{}` has no metrics.check step: there is nothing to judge",
            clean_line(&rb.name)
        );
        return ExitCode::from(1);
    }
    let mut moments: Vec<(i64, Source, Option<&str>)> = Vec::new();
    if backtest {
        match past_pushes(g, rb, &checks) {
            Ok(found) => moments.extend(found),
            Err(e) => return fail(&e),
        }
    }
    moments.extend(at.iter().map(|t| (t.timestamp(), Source::At, None)));
    let mut cases: Vec<Case> = Vec::new();
    for (t, source, only) in moments {
        for (step, check) in &checks {
            if only.is_some_and(|o| o != *step) {
                continue;
            }
            if !cases.iter().any(|c| c.at == t && c.step == *step) {
                cases.push(Case {
                    at: t,
                    source,
                    step,
                    check,
                });
            }
        }
    }
    if cases.is_empty() {
        eprintln!(
            "pushduty: no production push of `{}` in the history to judge: give a moment with --at TIME (RFC 3339)",
            clean_line(&rb.name)
        );
        return ExitCode::from(1);
    }
    cases.sort_by(|a, b| b.at.cmp(&a.at).then(a.step.cmp(b.step)));

    let services = Services::resolve(rb, &config);
    // A year of pushes is many reads: a few at a time, so the metrics server is not flooded.
    let turns = tokio::sync::Semaphore::new(AT_ONCE);
    let judged = match block_on(all(cases.iter().map(|c| async {
        let _turn = turns.acquire().await;
        judge_case(&services, c).await
    }))) {
        Ok(j) => j,
        Err(e) => return fail(&e),
    };
    let mut rows = Vec::new();
    let mut overall = Vec::new();
    let mut unread = false;
    for (case_rows, case_overall, failed) in judged {
        rows.extend(case_rows);
        overall.push(case_overall);
        unread |= failed;
    }
    let not_judged: Vec<String> = rb
        .steps
        .iter()
        .filter(|s| matches!(s.kind, StepKind::SentryCheck(_)))
        .map(|s| s.id.clone())
        .collect();

    if json {
        let out = Json {
            runbook: rb.name.clone(),
            rows,
            checks: overall,
            not_judged,
        };
        match super::json_text(&out) {
            Ok(s) => println!("{s}"),
            Err(e) => return fail(&e),
        }
    } else {
        for line in table(&rows, &overall) {
            println!("{line}");
        }
        if !not_judged.is_empty() {
            println!(
                "not judged: {} (sentry.check: its event rate is not back-tested)",
                not_judged.join(", ")
            );
        }
    }
    if unread {
        eprintln!(
            "pushduty: some series could not be read (their rows are unknown and say why); the back-test is incomplete"
        );
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

/// How many pushes are judged at once.
const AT_ONCE: usize = 4;

/// The production pushes of this runbook in the state dir's sessions: for each metrics
/// check, the moment of the step its soak counts from (a gate's `approved_at`).
fn past_pushes<'a>(
    g: &Global,
    rb: &Runbook,
    checks: &[(&'a str, &MetricsCheckStep)],
) -> anyhow::Result<Vec<(i64, Source, Option<&'a str>)>> {
    let dir = g.state_dir()?;
    let mut out = Vec::new();
    let slug = crate::session::slug(&rb.name);
    for summary in crate::session::history(&dir)? {
        // A push of this runbook whose journal does not load is said, not left out quietly:
        // the back-test would miss it.
        if let Some(e) = &summary.error {
            if summary.runbook == slug {
                eprintln!(
                    "pushduty: the push of {} is left out: its journal does not load: {}",
                    clean_line(&summary.push_date),
                    clean_line(e)
                );
            }
            continue;
        }
        if summary.runbook != rb.name {
            continue;
        }
        let Ok(loaded) = crate::session::load(std::path::Path::new(&summary.path)) else {
            continue;
        };
        let state = &loaded.state;
        for (step, check) in checks {
            let moment = match check.since.as_deref() {
                Some(since) => state
                    .steps
                    .get(since)
                    .and_then(crate::health::moment_of)
                    .and_then(|at| DateTime::parse_from_rfc3339(at).ok())
                    .map(|t| t.timestamp()),
                None => crate::health::push_moment(rb, state),
            };
            if let Some(t) = moment {
                out.push((t, Source::History, Some(*step)));
            }
        }
    }
    Ok(out)
}

/// Reads and judges every series of one check at one push: its rows, the check's verdict,
/// and whether a series could not be read.
async fn judge_case(services: &Services, case: &Case<'_>) -> (Vec<Row>, Overall, bool) {
    let m = case.check;
    let push = DateTime::from_timestamp(case.at, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| case.at.to_string());
    let overall_of = |verdict, score, summary| Overall {
        push: push.clone(),
        source: case.source,
        step: case.step.to_string(),
        verdict,
        score,
        summary,
    };
    let conf = match services.metrics(&m.service) {
        Ok(c) => c,
        Err(e) => {
            return (Vec::new(), overall_of(Verdict::Unknown, 0.0, e), true);
        }
    };
    let w = Windows::new(case.at, m.soak_minutes, m.baseline_minutes);
    // A moment whose soak is not over yet is judged on what there is so far.
    let until = w.soak().1.min(Utc::now().timestamp());
    let mut rows = Vec::new();
    let mut series = Vec::new();
    let mut failed = false;
    for s in &conf.series {
        let lim = limits(s, m.min_points);
        let (j, f) = match read_series(conf, &s.query, &w, until).await {
            Ok(cut) => (
                cut.judge(&s.name, &lim),
                flips(&cut.soak, &cut.before, &cut.week, &lim),
            ),
            Err(e) => {
                failed = true;
                (unreadable(&s.name, conf.kind, &lim, &e), Vec::new())
            }
        };
        rows.push(Row {
            push: push.clone(),
            source: case.source,
            step: case.step.to_string(),
            series: s.name.clone(),
            verdict: j.verdict,
            thin: j.thin,
            score: j.verdict.points() * 100.0,
            points: j.sizes,
            allowed_percent: lim.allowed_percent(),
            mde_percent: j.mde_percent,
            flips: f,
            reason: j.reason.clone(),
        });
        series.push(j);
    }
    let o = judge::overall(&series, &policy(m));
    (rows, overall_of(o.verdict, o.score, o.summary), failed)
}

/// The one table: a row per series, then the check's own row ("all series") per push.
fn table(rows: &[Row], overall: &[Overall]) -> Vec<String> {
    const COLS: usize = 8;
    let mut lines: Vec<[String; COLS]> = vec![[
        "push (UTC)".into(),
        "from".into(),
        "step".into(),
        "series".into(),
        "verdict".into(),
        "score".into(),
        "points".into(),
        "flips at (allowed change)".into(),
    ]];
    let when = |push: &str| {
        DateTime::parse_from_rfc3339(push)
            .map(|t| t.with_timezone(&Utc).format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_else(|_| push.to_string())
    };
    let from = |s: Source| match s {
        Source::History => "history",
        Source::At => "--at",
    };
    for o in overall {
        for r in rows.iter().filter(|r| r.push == o.push && r.step == o.step) {
            let verdict = judge::verdict_text(r.verdict, r.thin);
            lines.push([
                when(&r.push),
                from(r.source).into(),
                clean_line(&r.step).into_owned(),
                clean_line(&r.series).into_owned(),
                verdict,
                judge::fmt_num(r.score),
                format!("{}/{}/{}", r.points.soak, r.points.before, r.points.week),
                flips_text(&r.flips),
            ]);
        }
        lines.push([
            when(&o.push),
            from(o.source).into(),
            clean_line(&o.step).into_owned(),
            "all series".into(),
            o.verdict.to_string(),
            judge::fmt_num((o.score * 10.0).round() / 10.0),
            String::new(),
            String::new(),
        ]);
    }
    const RIGHT: [bool; COLS] = [false, false, false, false, false, true, false, false];
    let mut out = judge::aligned(&lines, RIGHT);
    // Why each unknown or failed row is so: the table alone cannot say. A check with no
    // rows (its service could not be reached at all) says why in its summary.
    for o in overall.iter().filter(|o| {
        o.verdict == Verdict::Unknown && !rows.iter().any(|r| r.push == o.push && r.step == o.step)
    }) {
        out.push(clean(&format!("{} {}: {}", when(&o.push), o.step, o.summary)).into_owned());
    }
    for r in rows.iter().filter(|r| r.verdict == Verdict::Unknown) {
        out.push(
            clean(&format!(
                "{} {} {}: {}",
                when(&r.push),
                r.step,
                r.series,
                r.reason
            ))
            .into_owned(),
        );
    }
    out
}
