//! The judgment after a push: did a metric get worse?
//!
//! The shape follows automated canary analysis (validate the data, clean it, compare each
//! metric with a Mann-Whitney U test and an allowed effect size in the harmful direction,
//! classify, score, then apply pass/marginal thresholds), adapted to a push, which is a
//! change in time rather than a canary running beside a baseline. The points after the push
//! (the soak) are compared twice: with the window just before the push, and with the same
//! window a week earlier. A regression counts only when neither baseline explains it, so a
//! daily rise in traffic that matches last week's same hour does not fail a push.
//!
//! Pure logic: no I/O, no clock.

use std::fmt;

use super::stats::{
    change_percent, clean, mann_whitney, mean, median, min_detectable_shift, spread,
};
use crate::sanitize::clean_line;

pub use crate::runbook::model::Direction;

impl Direction {
    /// The harmful change, as a noun.
    fn harm(self) -> &'static str {
        match self {
            Direction::Increase => "rise",
            Direction::Decrease => "drop",
        }
    }

    /// The harmless change, as a noun.
    fn harmless(self) -> &'static str {
        match self {
            Direction::Increase => "drop",
            Direction::Decrease => "rise",
        }
    }
}

/// What a series may do after the push.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Which change is harmful.
    pub direction: Direction,
    /// Allowed rise in percent of the baseline median (used when `direction` is `Increase`).
    /// `None`: no relative limit, only the absolute ones apply.
    pub max_rise_percent: Option<f64>,
    /// Allowed drop in percent of the baseline median (used when `direction` is `Decrease`).
    /// `None`: no relative limit, only the absolute ones apply.
    pub max_drop_percent: Option<f64>,
    /// Absolute: a soak median above it fails, whatever the baselines.
    pub max: Option<f64>,
    /// Absolute: a soak median below it fails, whatever the baselines.
    pub min: Option<f64>,
    /// Significance level of the Mann-Whitney test.
    pub alpha: f64,
    /// Fewer points than this on either side (after cleaning) and the comparison is unknown.
    pub min_points: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            direction: Direction::Increase,
            max_rise_percent: Some(50.0),
            max_drop_percent: Some(50.0),
            max: None,
            min: None,
            alpha: 0.05,
            min_points: 5,
        }
    }
}

impl Limits {
    /// The allowed change in the harmful direction, in percent.
    pub fn allowed_percent(&self) -> Option<f64> {
        match self.direction {
            Direction::Increase => self.max_rise_percent,
            Direction::Decrease => self.max_drop_percent,
        }
    }

    /// At least one point is always needed, whatever `min_points` says.
    fn needed_points(&self) -> usize {
        self.min_points.max(1)
    }
}

/// The outcome of a comparison, a series or a whole judgment, from best to worst; `Unknown`
/// sorts last but is not "worse than fail": it means there was not enough data to say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Marginal,
    Fail,
    Unknown,
}

impl Verdict {
    fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Marginal => "marginal",
            Verdict::Fail => "fail",
            Verdict::Unknown => "unknown",
        }
    }

    /// What a series with this verdict adds to the score (out of 1).
    pub fn points(self) -> f64 {
        match self {
            Verdict::Pass => 1.0,
            Verdict::Marginal => 0.5,
            Verdict::Fail | Verdict::Unknown => 0.0,
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The soak compared with one baseline.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Comparison {
    /// Which baseline: "before" or "last week".
    pub against: &'static str,
    pub baseline_median: Option<f64>,
    pub soak_median: Option<f64>,
    /// `(soak - baseline) / |baseline| * 100`; `None` when the baseline median is 0 and the
    /// soak median is not (or a median is missing).
    pub change_percent: Option<f64>,
    /// Two-sided Mann-Whitney p-value; `None` when a side has no points.
    pub p_value: Option<f64>,
    /// Points (baseline, soak) after cleaning.
    pub points: (usize, usize),
    pub verdict: Verdict,
    /// One plain line: why this verdict.
    pub reason: String,
    /// The smallest change in the harmful direction, in percent of the baseline median, that
    /// the rank test at these sizes and alpha would have seen (at least 4 times in 5);
    /// `None` when no change could have been seen or there is no percent (a zero baseline).
    pub mde_percent: Option<f64>,
    /// A pass on data too thin to see a change of the allowed size.
    pub thin: bool,
}

/// How many points a series was judged on, after cleaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Sizes {
    pub soak: usize,
    pub before: usize,
    pub week: usize,
}

/// One series judged against both baselines.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SeriesJudgement {
    pub name: String,
    pub before: Comparison,
    pub week: Comparison,
    pub verdict: Verdict,
    pub reason: String,
    pub sizes: Sizes,
    /// The smallest detectable change of the comparisons that gave the verdict (see
    /// [`Comparison::mde_percent`]).
    pub mde_percent: Option<f64>,
    /// A pass resting on data too thin to see a change of the allowed size: the verdict stays
    /// `pass`, this says how little it proves.
    pub thin: bool,
    /// The significance level the series was judged at.
    pub alpha: f64,
}

/// Why the soak median breaks an absolute limit, if it does.
fn absolute_breach(soak_median: Option<f64>, limits: &Limits) -> Option<String> {
    let s = soak_median?;
    if let Some(max) = limits.max.filter(|&max| s > max) {
        return Some(format!(
            "median {} after the push is above the max {}",
            fmt_num(s),
            fmt_num(max)
        ));
    }
    if let Some(min) = limits.min.filter(|&min| s < min) {
        return Some(format!(
            "median {} after the push is below the min {}",
            fmt_num(s),
            fmt_num(min)
        ));
    }
    None
}

/// How a baseline's window is named in a sentence.
fn window_name(against: &str) -> String {
    match against {
        "before" => "the window before the push".to_string(),
        "last week" => "the week-earlier window".to_string(),
        other => format!("the {other} window"),
    }
}

/// The soak (points after the push) compared with one baseline (`against` names it:
/// "before" or "last week").
pub fn compare(
    against: &'static str,
    baseline: &[Option<f64>],
    soak: &[Option<f64>],
    limits: &Limits,
) -> Comparison {
    let base = clean(baseline);
    let after = clean(soak);
    let baseline_median = median(&base);
    let soak_median = median(&after);
    let change = match (baseline_median, soak_median) {
        (Some(b), Some(s)) => change_percent(b, s),
        _ => None,
    };
    let p_value = mann_whitney(&base, &after).map(|(_, p)| p);
    let mut c = Comparison {
        against,
        baseline_median,
        soak_median,
        change_percent: change,
        p_value,
        points: (base.len(), after.len()),
        verdict: Verdict::Unknown,
        reason: String::new(),
        mde_percent: mde_percent(&base, after.len(), limits.alpha),
        thin: false,
    };
    let (verdict, reason) = classify(&c, limits);
    let (verdict, reason) = outlier_guard(verdict, reason, &base, &after, limits);
    c.thin = verdict == Verdict::Pass && thin(c.baseline_median, c.mde_percent, limits);
    c.verdict = verdict;
    c.reason = reason;
    c
}

/// The smallest harmful change the rank test could have seen, in percent of the baseline
/// median (see [`min_detectable_shift`]; the spread is the baseline's).
fn mde_percent(base: &[f64], n_soak: usize, alpha: f64) -> Option<f64> {
    let b = median(base)?;
    if b == 0.0 {
        return None;
    }
    let shift = min_detectable_shift(base.len(), n_soak, alpha, spread(base)?)?;
    Some(shift / b.abs() * 100.0)
}

/// Whether a pass is thin: a change of the allowed size could have gone unseen. Never for a
/// zero baseline (no percent to compare) or when no percent limit is set.
fn thin(baseline_median: Option<f64>, mde: Option<f64>, limits: &Limits) -> bool {
    match (baseline_median, limits.allowed_percent()) {
        (Some(b), Some(allowed)) if b != 0.0 => mde.is_none_or(|m| m > allowed),
        _ => false,
    }
}

/// The guard against the rank test's blind spot: a few points far out move no median and
/// barely move the ranks, so a soak where some points are 100 times the baseline can pass
/// both. When the mean moves in the harmful direction by more than the allowed change while
/// the medians say pass, the comparison is marginal, with why.
fn outlier_guard(
    verdict: Verdict,
    reason: String,
    base: &[f64],
    after: &[f64],
    limits: &Limits,
) -> (Verdict, String) {
    if verdict != Verdict::Pass {
        return (verdict, reason);
    }
    let (Some(allowed), Some(b), Some(s)) = (limits.allowed_percent(), mean(base), mean(after))
    else {
        return (verdict, reason);
    };
    if b == 0.0 {
        return (verdict, reason);
    }
    let direction = limits.direction;
    let harmful = match direction {
        Direction::Increase => s - b,
        Direction::Decrease => b - s,
    } / b.abs()
        * 100.0;
    if harmful <= allowed {
        return (verdict, reason);
    }
    let far = after
        .iter()
        .filter(|&&v| match direction {
            Direction::Increase => v > b + b.abs() * allowed / 100.0,
            Direction::Decrease => v < b - b.abs() * allowed / 100.0,
        })
        .count();
    (
        Verdict::Marginal,
        format!(
            "{reason}; but the mean {} {} ({}→{}, beyond the allowed {}%): {far} of {} points far out",
            match direction {
                Direction::Increase => "rose",
                Direction::Decrease => "dropped",
            },
            fmt_pct(harmful.abs()).trim_start_matches('+'),
            fmt_num(b),
            fmt_num(s),
            fmt_num(allowed),
            after.len()
        ),
    )
}

/// The comparison's verdict from its medians, change and p-value.
fn classify(c: &Comparison, limits: &Limits) -> (Verdict, String) {
    let against = c.against;
    let (n_base, n_soak) = c.points;
    let (baseline_median, soak_median, change, p_value) = (
        c.baseline_median,
        c.soak_median,
        c.change_percent,
        c.p_value,
    );
    let needed = limits.needed_points();
    let too_few =
        || format!("too few points ({n_soak} after the push, {n_base} {against}; needs {needed})");
    if n_soak < needed {
        return (Verdict::Unknown, too_few());
    }
    if let Some(breach) = absolute_breach(soak_median, limits) {
        return (Verdict::Fail, breach);
    }
    if n_base < needed {
        return (Verdict::Unknown, too_few());
    }
    let (Some(b), Some(s), Some(p)) = (baseline_median, soak_median, p_value) else {
        return (Verdict::Unknown, too_few());
    };

    let percent = match change {
        Some(c) => fmt_pct(c),
        None => "no percent from a zero baseline".to_string(),
    };
    let moved = format!("{}→{} ({percent}, {})", fmt_num(b), fmt_num(s), fmt_p(p));
    let significant = p < limits.alpha;
    let direction = limits.direction;
    let harm = direction.harm();
    let harmful_amount = match direction {
        Direction::Increase => s - b,
        Direction::Decrease => b - s,
    };

    if harmful_amount <= 0.0 {
        let what = if s == b {
            "no change in the median".to_string()
        } else if significant {
            format!("a significant {}, harmless here", direction.harmless())
        } else {
            format!("a {}, harmless here", direction.harmless())
        };
        return (Verdict::Pass, format!("{moved}: {what}"));
    }

    let Some(allowed) = limits.allowed_percent() else {
        return (
            Verdict::Pass,
            format!("{moved}: no allowed {harm} is set, so only absolute limits apply"),
        );
    };
    let allowed_text = format!("{}%", fmt_num(allowed));

    if b == 0.0 {
        // Any move away from zero is beyond every percent limit.
        return if significant {
            (
                Verdict::Fail,
                format!("{moved}: a significant {harm} from zero, beyond any allowed {harm}"),
            )
        } else {
            (
                Verdict::Marginal,
                format!(
                    "{moved}: a {harm} from zero, beyond any allowed {harm} but not significant"
                ),
            )
        };
    }

    let amount = harmful_amount / b.abs() * 100.0;
    let (verdict, what) = if significant && amount > allowed {
        (
            Verdict::Fail,
            format!("a significant {harm} beyond the allowed {allowed_text}"),
        )
    } else if significant && amount > allowed / 2.0 {
        (
            Verdict::Marginal,
            format!("a significant {harm}, more than half the allowed {allowed_text}"),
        )
    } else if amount > allowed {
        (
            Verdict::Marginal,
            format!("a {harm} beyond the allowed {allowed_text}, but not significant"),
        )
    } else if significant {
        (
            Verdict::Pass,
            format!("a significant {harm}, within half the allowed {allowed_text}"),
        )
    } else {
        (
            Verdict::Pass,
            format!("a {harm} within the allowed {allowed_text}, not significant"),
        )
    };
    (verdict, format!("{moved}: {what}"))
}

/// Short form of a comparison's change, for naming the baseline that did not decide.
fn change_brief(c: &Comparison) -> String {
    match (c.change_percent, c.baseline_median, c.soak_median) {
        (Some(pct), _, _) => fmt_pct(pct),
        (None, Some(b), Some(s)) => format!("{}→{}", fmt_num(b), fmt_num(s)),
        _ => "no data".to_string(),
    }
}

/// One series after the push (`soak`) judged against the window just before the push and
/// the same window a week earlier.
pub fn judge(
    name: &str,
    soak: &[Option<f64>],
    before: &[Option<f64>],
    week: &[Option<f64>],
    limits: &Limits,
) -> SeriesJudgement {
    let before = compare("before", before, soak, limits);
    let week = compare("last week", week, soak, limits);
    let after = clean(soak);
    let needed = limits.needed_points();

    let (verdict, reason) = if after.len() < needed {
        (
            Verdict::Unknown,
            format!(
                "too few points after the push ({}; needs {needed})",
                after.len()
            ),
        )
    } else if let Some(breach) = absolute_breach(median(&after), limits) {
        (Verdict::Fail, format!("{breach}, whatever the baselines"))
    } else {
        combine(&before, &week, needed)
    };
    // The comparisons that carry the verdict: the series is as sure as the surer of them.
    let carriers: Vec<&Comparison> = [&before, &week]
        .into_iter()
        .filter(|c| c.verdict == verdict)
        .collect();
    let mde_percent = carriers
        .iter()
        .filter_map(|c| c.mde_percent)
        .min_by(f64::total_cmp);
    let thin = verdict == Verdict::Pass && !carriers.is_empty() && carriers.iter().all(|c| c.thin);
    let reason = if thin {
        format!("{reason}; thin data: {}", unseen(mde_percent))
    } else {
        reason
    };
    SeriesJudgement {
        name: name.to_string(),
        sizes: Sizes {
            soak: after.len(),
            before: before.points.0,
            week: week.points.0,
        },
        before,
        week,
        verdict,
        reason,
        mde_percent,
        thin,
        alpha: limits.alpha,
    }
}

/// What the data could not have seen, in words: "a change under 35% could not have been
/// seen", or that no change could.
pub fn unseen(mde_percent: Option<f64>) -> String {
    match mde_percent {
        Some(m) => format!(
            "at these sizes a change under {}% could not have been seen",
            fmt_num(m.round())
        ),
        None => "at these sizes no change could have been seen".to_string(),
    }
}

/// The line the step ends with for each judged series: the sizes it rested on and the
/// smallest change they could show; `None` for a series that was not judged (unknown).
pub fn sensitivity(s: &SeriesJudgement) -> Option<String> {
    if s.verdict == Verdict::Unknown {
        return None;
    }
    Some(format!(
        "{}: {} after the push, {} before, {} last week (alpha {}): {}",
        clean_line(&s.name),
        s.sizes.soak,
        s.sizes.before,
        s.sizes.week,
        fmt_num(s.alpha),
        unseen(s.mde_percent)
    ))
}

/// The series verdict from its two comparisons: the less severe of the two when both are
/// known (a change one baseline explains is no regression), else the known one.
fn combine(before: &Comparison, week: &Comparison, needed: usize) -> (Verdict, String) {
    let missing = |c: &Comparison| {
        let window = window_name(c.against);
        if c.points.0 == 0 {
            format!("{window} had no data")
        } else {
            format!(
                "{window} had too few points ({}; needs {needed})",
                c.points.0
            )
        }
    };
    match (before.verdict, week.verdict) {
        (Verdict::Unknown, Verdict::Unknown) => (
            Verdict::Unknown,
            format!(
                "no usable baseline: {}, and {}",
                missing(before),
                missing(week)
            ),
        ),
        (Verdict::Unknown, _) => (
            week.verdict,
            format!(
                "judged against last week only, as {}: {}",
                missing(before),
                week.reason
            ),
        ),
        (_, Verdict::Unknown) => (
            before.verdict,
            format!(
                "judged against before only, as {}: {}",
                missing(week),
                before.reason
            ),
        ),
        (b, w) if b == w => (
            b,
            format!(
                "both baselines agree; before: {}; last week: {}",
                before.reason, week.reason
            ),
        ),
        (b, w) => {
            let (decider, other) = if b < w {
                (before, week)
            } else {
                (week, before)
            };
            (
                decider.verdict,
                format!(
                    "{} decides: {}; against {} alone it would be {} ({})",
                    decider.against,
                    decider.reason,
                    other.against,
                    other.verdict,
                    change_brief(other)
                ),
            )
        }
    }
}

/// How the series' verdicts make the push's verdict.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "snake_case", tag = "policy")]
pub enum Policy {
    /// Any failed series fails the push; any unknown one keeps it from passing.
    #[default]
    AnyFail,
    /// Pass = 1, marginal = 0.5, fail and unknown = 0, averaged over the series, times
    /// 100; at least `pass` passes, at least `marginal` is marginal, less fails.
    Score { pass: f64, marginal: f64 },
}

/// The push's verdict over all its series.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Overall {
    pub verdict: Verdict,
    /// 0 to 100, whatever the policy.
    pub score: f64,
    /// One line, e.g. "fail: 1 of 3 series failed (server errors); score 50".
    pub summary: String,
}

/// The push's verdict from its series' verdicts under `policy`.
pub fn overall(series: &[SeriesJudgement], policy: &Policy) -> Overall {
    if series.is_empty() {
        return Overall {
            verdict: Verdict::Unknown,
            score: 0.0,
            summary: "unknown: no series to judge".to_string(),
        };
    }
    let total = series.len();
    let score = series.iter().map(|s| s.verdict.points()).sum::<f64>() / total as f64 * 100.0;
    let names = |v: Verdict| -> Vec<String> {
        series
            .iter()
            .filter(|s| s.verdict == v)
            .map(|s| clean_line(&s.name).into_owned())
            .collect()
    };
    let (failed, marginal, unknown) = (
        names(Verdict::Fail),
        names(Verdict::Marginal),
        names(Verdict::Unknown),
    );

    let mut parts = Vec::new();
    if !failed.is_empty() {
        parts.push(format!(
            "{} of {total} series failed ({})",
            failed.len(),
            failed.join(", ")
        ));
    }
    if !marginal.is_empty() {
        parts.push(format!(
            "{} of {total} marginal ({})",
            marginal.len(),
            marginal.join(", ")
        ));
    }
    if !unknown.is_empty() {
        parts.push(format!(
            "{} of {total} unknown ({})",
            unknown.len(),
            unknown.join(", ")
        ));
    }
    if parts.is_empty() {
        parts.push(format!("all {total} series passed"));
    }
    let parts = parts.join(", ");
    let score_text = fmt_score(score);

    let (verdict, summary_tail) = match policy {
        Policy::AnyFail => {
            let verdict = if !failed.is_empty() {
                Verdict::Fail
            } else if !unknown.is_empty() {
                Verdict::Unknown
            } else if !marginal.is_empty() {
                Verdict::Marginal
            } else {
                Verdict::Pass
            };
            (verdict, format!("{parts}; score {score_text}"))
        }
        Policy::Score {
            pass,
            marginal: marginal_at,
        } => {
            let by_score = if score >= *pass {
                Verdict::Pass
            } else if score >= *marginal_at {
                Verdict::Marginal
            } else {
                Verdict::Fail
            };
            let thresholds = format!(
                "score {score_text} (pass at {}, marginal at {})",
                fmt_score(*pass),
                fmt_score(*marginal_at)
            );
            if by_score == Verdict::Pass && !unknown.is_empty() {
                (
                    Verdict::Marginal,
                    format!("{thresholds}, but unknown series keep it from passing; {parts}"),
                )
            } else {
                (by_score, format!("{thresholds}; {parts}"))
            }
        }
    };
    Overall {
        verdict,
        score,
        summary: format!("{verdict}: {summary_tail}"),
    }
}

/// The table the step shows and journals: a header line, then one line per series, in
/// aligned columns: series, verdict ("pass (thin data)" for a thin pass), the points judged
/// (after the push / before / last week), then for each baseline (before, last week) the
/// medians (baseline→soak), the change and the p-value.
pub fn table(series: &[SeriesJudgement]) -> Vec<String> {
    const COLS: usize = 9;
    let mut rows: Vec<[String; COLS]> = vec![[
        "series".to_string(),
        "verdict".to_string(),
        "points".to_string(),
        "before".to_string(),
        String::new(),
        String::new(),
        "last week".to_string(),
        String::new(),
        String::new(),
    ]];
    for s in series {
        let [bm, bc, bp] = cells(&s.before);
        let [wm, wc, wp] = cells(&s.week);
        rows.push([
            clean_line(&s.name).into_owned(),
            verdict_cell(s),
            format!("{}/{}/{}", s.sizes.soak, s.sizes.before, s.sizes.week),
            bm,
            bc,
            bp,
            wm,
            wc,
            wp,
        ]);
    }
    // The change columns read best right-aligned (signs and digits line up).
    const RIGHT: [bool; COLS] = [false, false, false, false, true, false, false, true, false];
    aligned(&rows, RIGHT)
}

/// A series' verdict as the tables show it: a thin pass says so.
pub fn verdict_cell(s: &SeriesJudgement) -> String {
    verdict_text(s.verdict, s.thin)
}

/// A verdict in a table: "pass (thin data)" for a thin pass.
pub fn verdict_text(verdict: Verdict, thin: bool) -> String {
    if thin {
        format!("{verdict} (thin data)")
    } else {
        verdict.to_string()
    }
}

/// Rows as lines of aligned columns, two spaces apart; `right` columns are right-aligned and
/// a column empty in every row takes no room.
pub fn aligned<const N: usize>(rows: &[[String; N]], right: [bool; N]) -> Vec<String> {
    let mut widths = [0usize; N];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    rows.iter()
        .map(|row| {
            let line: Vec<String> = row
                .iter()
                .zip(widths)
                .zip(right)
                .filter(|((_, width), _)| *width > 0)
                .map(|((cell, width), right)| {
                    let pad = " ".repeat(width - cell.chars().count());
                    if right {
                        format!("{pad}{cell}")
                    } else {
                        format!("{cell}{pad}")
                    }
                })
                .collect();
            line.join("  ").trim_end().to_string()
        })
        .collect()
}

/// A comparison's cells in the table: medians, change, p-value.
fn cells(c: &Comparison) -> [String; 3] {
    if c.verdict == Verdict::Unknown {
        return [
            format!("too few points ({}/{})", c.points.0, c.points.1),
            String::new(),
            String::new(),
        ];
    }
    let medians = match (c.baseline_median, c.soak_median) {
        (Some(b), Some(s)) => format!("{}→{}", fmt_num(b), fmt_num(s)),
        (None, Some(s)) => format!("?→{}", fmt_num(s)),
        (Some(b), None) => format!("{}→?", fmt_num(b)),
        (None, None) => "?".to_string(),
    };
    let change = match (c.change_percent, c.baseline_median) {
        (Some(pct), _) => fmt_pct(pct),
        (None, Some(0.0)) => "from 0".to_string(),
        _ => String::new(),
    };
    let p = c.p_value.map(fmt_p).unwrap_or_default();
    [medians, change, p]
}

/// A median or a limit: up to 3 decimals (3 significant digits below 1), trailing zeros
/// trimmed.
pub fn fmt_num(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    let decimals = if x == 0.0 || x.abs() >= 1.0 {
        3
    } else {
        // 3 significant digits: 0.5 -> 3 decimals, 0.0123 -> 4, 0.000123 -> 6.
        let magnitude = x.abs().log10().floor() as i32;
        (2 - magnitude).clamp(3, 12) as usize
    };
    let text = format!("{x:.decimals$}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".to_string()
    } else {
        text.to_string()
    }
}

/// A change in percent: sign, no decimals ("+312%", "-40%", "0%").
pub fn fmt_pct(x: f64) -> String {
    let r = x.round();
    if r == 0.0 {
        "0%".to_string()
    } else {
        format!("{r:+}%")
    }
}

/// A p-value: "p=0.003", or "p<0.001" below that.
fn fmt_p(p: f64) -> String {
    if p < 0.001 {
        "p<0.001".to_string()
    } else {
        format!("p={p:.3}")
    }
}

/// A score or a threshold: at most one decimal, trimmed ("50", "66.7").
fn fmt_score(x: f64) -> String {
    let text = format!("{x:.1}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn some(values: &[f64]) -> Vec<Option<f64>> {
        values.iter().copied().map(Some).collect()
    }

    fn range(from: f64, n: usize) -> Vec<Option<f64>> {
        (0..n).map(|i| Some(from + i as f64)).collect()
    }

    #[test]
    fn missing_points_are_dropped_not_zeroed() {
        let values = [10.0, 12.0, 11.0, 13.0, 12.0, 11.0, 10.0, 12.0, 13.0, 11.0];
        let with_gaps: Vec<Option<f64>> = values.iter().flat_map(|&v| [Some(v), None]).collect();
        assert_eq!(with_gaps.len(), 20);
        let before = range(10.0, 10);
        let week = range(10.0, 10);
        let limits = Limits::default();
        let gapped = judge("latency", &with_gaps, &before, &week, &limits);
        let plain = judge("latency", &some(&values), &before, &week, &limits);
        assert_eq!(gapped, plain);
        assert_eq!(gapped.before.points, (10, 10));
        assert_eq!(gapped.before.soak_median, Some(11.5));
        // Read as zeros, the gaps would have dragged the median down to 5.
        let zeroed: Vec<Option<f64>> = with_gaps.iter().map(|v| Some(v.unwrap_or(0.0))).collect();
        let wrong = judge("latency", &zeroed, &before, &week, &limits);
        assert_ne!(wrong.before.soak_median, gapped.before.soak_median);
    }

    #[test]
    fn non_finite_points_are_dropped() {
        let mut soak = range(10.0, 6);
        soak.push(Some(f64::NAN));
        soak.push(Some(f64::INFINITY));
        let c = compare("before", &range(10.0, 6), &soak, &Limits::default());
        assert_eq!(c.points, (6, 6));
        assert_eq!(c.soak_median, Some(12.5));
        assert_eq!(c.verdict, Verdict::Pass);
    }

    // Comparisons and series

    #[test]
    fn daily_cycle_is_explained_by_last_week() {
        // Evening traffic doubles every day: higher than just before, same as last week.
        let before = range(100.0, 12);
        let soak = range(200.0, 12);
        let week = range(199.0, 12);
        let j = judge("requests", &soak, &before, &week, &Limits::default());
        assert_eq!(j.before.verdict, Verdict::Fail);
        assert_eq!(j.week.verdict, Verdict::Pass);
        assert_eq!(j.verdict, Verdict::Pass);
        assert!(j.reason.starts_with("last week decides: "), "{}", j.reason);
        assert!(
            j.reason
                .ends_with("against before alone it would be fail (+95%)"),
            "{}",
            j.reason
        );
    }

    #[test]
    fn a_spike_against_both_baselines_fails() {
        let before = range(100.0, 12);
        let week = range(98.0, 12);
        let soak: Vec<Option<f64>> = before.iter().map(|v| v.map(|v| v * 5.0)).collect();
        let j = judge("server errors", &soak, &before, &week, &Limits::default());
        assert_eq!(j.before.verdict, Verdict::Fail);
        assert_eq!(j.week.verdict, Verdict::Fail);
        assert_eq!(j.verdict, Verdict::Fail);
        assert_eq!(j.before.change_percent, Some(400.0));
        assert!(j.before.p_value.is_some_and(|p| p < 0.001));
        assert!(j.reason.starts_with("both baselines agree; before: 105.5→527.5 (+400%, p<0.001): a significant rise beyond the allowed 50%"), "{}", j.reason);
    }

    #[test]
    fn marginal_between_half_the_limit_and_the_limit_or_beyond_it_unproven() {
        let limits = Limits::default();
        let base = range(100.0, 10);
        // +29%, significant: more than half of 50 %.
        let c = compare("before", &base, &range(130.0, 10), &limits);
        assert_eq!(c.verdict, Verdict::Marginal, "{}", c.reason);
        assert!(
            c.reason
                .ends_with("a significant rise, more than half the allowed 50%")
        );
        // +19%, significant: within half the limit.
        let c = compare("before", &base, &range(120.0, 10), &limits);
        assert_eq!(c.verdict, Verdict::Pass, "{}", c.reason);
        // +100% on the medians, but the samples overlap too much to be significant.
        let noisy_base = some(&[10.0, 20.0, 30.0, 90.0, 100.0]);
        let noisy_soak = some(&[5.0, 25.0, 60.0, 95.0, 110.0]);
        let c = compare("before", &noisy_base, &noisy_soak, &limits);
        assert_eq!(c.change_percent, Some(100.0));
        assert!(c.p_value.is_some_and(|p| p >= 0.05));
        assert_eq!(c.verdict, Verdict::Marginal, "{}", c.reason);
        assert!(
            c.reason
                .ends_with("a rise beyond the allowed 50%, but not significant")
        );
        // A significant drop is harmless when rises are the harm.
        let c = compare("before", &base, &range(20.0, 10), &limits);
        assert_eq!(c.verdict, Verdict::Pass);
        assert!(
            c.reason.ends_with("a significant drop, harmless here"),
            "{}",
            c.reason
        );
    }

    #[test]
    fn decrease_direction_fails_on_drops_only() {
        let limits = Limits {
            direction: Direction::Decrease,
            max_drop_percent: Some(30.0),
            ..Limits::default()
        };
        let base = range(100.0, 10);
        let c = compare("before", &base, &range(40.0, 10), &limits);
        assert_eq!(c.verdict, Verdict::Fail, "{}", c.reason);
        assert_eq!(
            c.reason,
            "104.5→44.5 (-57%, p<0.001): a significant drop beyond the allowed 30%"
        );
        let c = compare("before", &base, &range(300.0, 10), &limits);
        assert_eq!(c.verdict, Verdict::Pass);
        assert!(c.reason.ends_with("a significant rise, harmless here"));
        // The rise limit does not apply when drops are the harm.
        let c = compare("before", &base, &range(80.0, 10), &limits);
        assert_eq!(c.verdict, Verdict::Marginal, "{}", c.reason);
    }

    #[test]
    fn no_relative_limit_leaves_only_absolute_limits() {
        let limits = Limits {
            max_rise_percent: None,
            ..Limits::default()
        };
        let c = compare("before", &range(100.0, 10), &range(500.0, 10), &limits);
        assert_eq!(c.verdict, Verdict::Pass);
        assert!(
            c.reason
                .ends_with("no allowed rise is set, so only absolute limits apply")
        );
    }

    #[test]
    fn absolute_limits_fail_whatever_the_baselines() {
        let limits = Limits {
            max: Some(150.0),
            ..Limits::default()
        };
        let same = range(200.0, 10);
        let j = judge("latency p99", &same, &same, &same, &limits);
        assert_eq!(j.verdict, Verdict::Fail);
        assert_eq!(
            j.reason,
            "median 204.5 after the push is above the max 150, whatever the baselines"
        );
        // Even with no baseline at all.
        let j = judge("latency p99", &same, &[], &[], &limits);
        assert_eq!(j.verdict, Verdict::Fail);
        assert_eq!(j.before.verdict, Verdict::Fail);

        let limits = Limits {
            direction: Direction::Decrease,
            min: Some(0.99),
            ..Limits::default()
        };
        let rate = some(&[0.95, 0.96, 0.97, 0.95, 0.96]);
        let j = judge("success rate", &rate, &rate, &rate, &limits);
        assert_eq!(j.verdict, Verdict::Fail);
        assert!(
            j.reason
                .starts_with("median 0.96 after the push is below the min 0.99")
        );
        // Within the limit, the relative judgment applies as usual.
        let ok = some(&[0.995, 0.996, 0.997, 0.995, 0.996]);
        assert_eq!(
            judge("success rate", &ok, &ok, &ok, &limits).verdict,
            Verdict::Pass
        );
    }

    #[test]
    fn zero_baseline_has_no_percent_but_a_significant_rise_fails() {
        let zeros = some(&[0.0; 10]);
        let errors = some(&[5.0, 4.0, 6.0, 5.0, 5.0, 7.0, 3.0, 5.0, 6.0, 4.0]);
        let c = compare("before", &zeros, &errors, &Limits::default());
        assert_eq!(c.change_percent, None);
        assert_eq!(c.verdict, Verdict::Fail);
        assert_eq!(
            c.reason,
            "0→5 (no percent from a zero baseline, p<0.001): a significant rise from zero, beyond any allowed rise"
        );
        // Zero before and after is no change at all.
        let c = compare("before", &zeros, &zeros, &Limits::default());
        assert_eq!(c.change_percent, Some(0.0));
        assert_eq!(c.p_value, Some(1.0));
        assert_eq!(c.verdict, Verdict::Pass);
        assert_eq!(c.reason, "0→0 (0%, p=1.000): no change in the median");
    }

    #[test]
    fn unknown_comparisons_defer_to_the_other_baseline() {
        let limits = Limits::default();
        let before = range(100.0, 10);
        let soak = range(500.0, 10);

        // No data a week ago: the series takes the verdict against before, and says so.
        let j = judge("errors", &soak, &before, &[None; 10], &limits);
        assert_eq!(j.week.verdict, Verdict::Unknown);
        assert_eq!(
            j.week.reason,
            "too few points (10 after the push, 0 last week; needs 5)"
        );
        assert_eq!(j.verdict, Verdict::Fail);
        assert!(
            j.reason.starts_with(
                "judged against before only, as the week-earlier window had no data: 104.5→504.5"
            ),
            "{}",
            j.reason
        );

        // Too few points before: the verdict against last week decides.
        let j = judge(
            "errors",
            &soak,
            &range(100.0, 3),
            &range(498.0, 10),
            &limits,
        );
        assert_eq!(j.before.verdict, Verdict::Unknown);
        assert_eq!(j.verdict, Verdict::Pass);
        assert!(j.reason.starts_with(
            "judged against last week only, as the window before the push had too few points (3; needs 5): "
        ));

        // Neither baseline.
        let j = judge("errors", &soak, &[], &range(1.0, 2), &limits);
        assert_eq!(j.verdict, Verdict::Unknown);
        assert_eq!(
            j.reason,
            "no usable baseline: the window before the push had no data, and the week-earlier window had too few points (2; needs 5)"
        );

        // Too little after the push.
        let j = judge("errors", &range(1.0, 4), &before, &before, &limits);
        assert_eq!(j.verdict, Verdict::Unknown);
        assert_eq!(j.reason, "too few points after the push (4; needs 5)");
        assert_eq!(
            j.before.reason,
            "too few points (4 after the push, 10 before; needs 5)"
        );
    }

    // Overall

    fn series(name: &str, verdict: Verdict) -> SeriesJudgement {
        let c = Comparison {
            against: "before",
            baseline_median: None,
            soak_median: None,
            change_percent: None,
            p_value: None,
            points: (0, 0),
            verdict,
            reason: String::new(),
            mde_percent: None,
            thin: false,
        };
        SeriesJudgement {
            name: name.to_string(),
            before: c.clone(),
            week: Comparison {
                against: "last week",
                ..c
            },
            verdict,
            reason: String::new(),
            sizes: Sizes {
                soak: 0,
                before: 0,
                week: 0,
            },
            mde_percent: None,
            thin: false,
            alpha: 0.05,
        }
    }

    /// The overall judgement of series `s0`, `s1`, ... with these verdicts.
    fn overall_of(vs: &[Verdict], policy: &Policy) -> Overall {
        let s: Vec<_> = vs
            .iter()
            .enumerate()
            .map(|(i, &v)| series(&format!("s{i}"), v))
            .collect();
        overall(&s, policy)
    }

    #[test]
    fn any_fail_policy() {
        use Verdict::*;
        let run = |vs: &[Verdict]| overall_of(vs, &Policy::AnyFail);
        assert_eq!(run(&[Pass, Pass]).verdict, Pass);
        assert_eq!(
            run(&[Pass, Pass]).summary,
            "pass: all 2 series passed; score 100"
        );
        assert_eq!(run(&[Pass, Marginal]).verdict, Marginal);
        assert_eq!(run(&[Pass, Unknown, Marginal]).verdict, Unknown);
        assert_eq!(run(&[Fail, Unknown, Pass]).verdict, Fail);

        let s = [
            series("server errors", Fail),
            series("latency", Marginal),
            series("requests", Pass),
        ];
        let o = overall(&s, &Policy::default());
        assert_eq!(o.verdict, Fail);
        assert_eq!(o.score, 50.0);
        assert_eq!(
            o.summary,
            "fail: 1 of 3 series failed (server errors), 1 of 3 marginal (latency); score 50"
        );

        let o = overall(&[], &Policy::AnyFail);
        assert_eq!(o.verdict, Unknown);
        assert_eq!(o.summary, "unknown: no series to judge");
    }

    #[test]
    fn score_policy_thresholds() {
        use Verdict::*;
        let policy = Policy::Score {
            pass: 75.0,
            marginal: 50.0,
        };
        let run = |vs: &[Verdict]| overall_of(vs, &policy);
        // 3.5 of 4 = 87.5: pass, despite a failed series.
        let o = run(&[Pass, Pass, Pass, Marginal]);
        assert_eq!((o.verdict, o.score), (Pass, 87.5));
        let o = run(&[Pass, Pass, Pass, Fail]);
        assert_eq!((o.verdict, o.score), (Pass, 75.0)); // exactly at the threshold
        assert_eq!(
            o.summary,
            "pass: score 75 (pass at 75, marginal at 50); 1 of 4 series failed (s3)"
        );
        let o = run(&[Pass, Marginal, Fail]);
        assert_eq!(o.verdict, Marginal);
        assert_eq!(
            o.summary,
            "marginal: score 50 (pass at 75, marginal at 50); 1 of 3 series failed (s2), 1 of 3 marginal (s1)"
        );
        let o = run(&[Pass, Fail, Fail]);
        assert_eq!(o.verdict, Fail);
        assert_eq!(fmt_score(o.score), "33.3");
        // Unknown data never lets the score pass.
        let o = run(&[Pass, Pass, Pass, Pass, Unknown]);
        assert_eq!((o.verdict, o.score), (Marginal, 80.0));
        assert_eq!(
            o.summary,
            "marginal: score 80 (pass at 75, marginal at 50), but unknown series keep it from passing; 1 of 5 unknown (s4)"
        );
        assert_eq!(overall(&[], &policy).verdict, Unknown);
    }

    #[test]
    fn policy_and_direction_read_from_config() {
        let p: Policy =
            serde_json::from_str(r#"{"policy":"score","pass":90,"marginal":60}"#).expect("parses");
        assert_eq!(
            p,
            Policy::Score {
                pass: 90.0,
                marginal: 60.0
            }
        );
        let p: Policy = serde_json::from_str(r#"{"policy":"any_fail"}"#).expect("parses");
        assert_eq!(p, Policy::AnyFail);
        let d: Direction = serde_json::from_str(r#""decrease""#).expect("parses");
        assert_eq!(d, Direction::Decrease);
        assert_eq!(
            serde_json::to_string(&Verdict::Marginal).expect("serializes"),
            r#""marginal""#
        );
    }

    // How sure the judge is

    /// Ten points around 100 with a little spread.
    fn control() -> Vec<Option<f64>> {
        some(&[
            98.0, 101.0, 99.0, 103.0, 100.0, 97.0, 102.0, 100.0, 99.0, 101.0,
        ])
    }

    #[test]
    fn seven_of_ten_points_at_a_hundred_times_the_control_fail() {
        // The case reported against a Mann-Whitney canary judge: it passed.
        let control = control();
        let mut soak = control.clone();
        for v in soak.iter_mut().take(7) {
            *v = v.map(|x| x * 100.0);
        }
        let j = judge("errors", &soak, &control, &control, &Limits::default());
        assert_eq!(j.verdict, Verdict::Fail, "{}", j.reason);
        assert_eq!(j.before.verdict, Verdict::Fail);
        assert!(j.reason.contains("beyond the allowed 50%"), "{}", j.reason);
    }

    #[test]
    fn a_few_huge_outliers_that_pass_the_rank_test_are_marginal() {
        // Three of ten at 100x: the median and the ranks hardly move, the mean does.
        let control = control();
        let mut soak = control.clone();
        for v in soak.iter_mut().take(3) {
            *v = v.map(|x| x * 100.0);
        }
        let plain = compare("before", &control, &soak, &Limits::default());
        assert!(plain.p_value.expect("both sides") > 0.05, "{plain:?}");
        let j = judge("errors", &soak, &control, &control, &Limits::default());
        assert_eq!(j.verdict, Verdict::Marginal, "{}", j.reason);
        assert!(
            j.reason
                .contains("but the mean rose 2950% (100→3050.2, beyond the allowed 50%): 3 of 10 points far out"),
            "{}",
            j.reason
        );
        // The same outliers on the harmless side change nothing.
        let mut low = control.clone();
        for v in low.iter_mut().take(3) {
            *v = v.map(|x| x / 100.0);
        }
        assert_eq!(
            judge("errors", &low, &control, &control, &Limits::default()).verdict,
            Verdict::Pass
        );
        // A drop is guarded the same way when a drop is the harm.
        let down = Limits {
            direction: Direction::Decrease,
            max_drop_percent: Some(20.0),
            ..Limits::default()
        };
        let mut holes = control.clone();
        for v in holes.iter_mut().take(3) {
            *v = Some(0.0);
        }
        let j = judge("traffic", &holes, &control, &control, &down);
        assert_eq!(j.verdict, Verdict::Marginal, "{}", j.reason);
        assert!(
            j.reason.contains("but the mean dropped 30%"),
            "{}",
            j.reason
        );
    }

    #[test]
    fn a_pass_on_thin_data_says_so() {
        // Five noisy points a side: only a large change could have been seen.
        let base = some(&[60.0, 140.0, 100.0, 80.0, 120.0]);
        let soak = some(&[65.0, 135.0, 105.0, 85.0, 115.0]);
        let lim = Limits {
            max_rise_percent: Some(10.0),
            ..Limits::default()
        };
        let j = judge("latency", &soak, &base, &base, &lim);
        assert_eq!(j.verdict, Verdict::Pass);
        assert!(j.thin);
        assert_eq!(
            j.sizes,
            Sizes {
                soak: 5,
                before: 5,
                week: 5
            }
        );
        assert!(
            j.reason
                .ends_with("thin data: at these sizes no change could have been seen"),
            "{}",
            j.reason
        );
        assert_eq!(verdict_cell(&j), "pass (thin data)");

        // Sixty calm points a side: a 10% change would have been seen; a confident pass.
        let calm: Vec<Option<f64>> = (0..60).map(|i| Some(100.0 + f64::from(i % 5))).collect();
        let j = judge("latency", &calm, &calm, &calm, &lim);
        assert_eq!(j.verdict, Verdict::Pass);
        assert!(!j.thin, "{j:?}");
        let mde = j.mde_percent.expect("detectable");
        assert!(mde > 0.5 && mde < 3.0, "{mde}");
        assert_eq!(
            sensitivity(&j).expect("judged"),
            format!(
                "latency: 60 after the push, 60 before, 60 last week (alpha 0.05): at these sizes a change under {}% could not have been seen",
                fmt_num(mde.round())
            )
        );

        // Twenty noisy points: a 10% limit is finer than the data; a 50% one is not.
        let noisy: Vec<Option<f64>> = (0..20)
            .map(|i| Some(100.0 + f64::from((i * 37) % 41) - 20.0))
            .collect();
        let j = judge("latency", &noisy, &noisy, &noisy, &lim);
        assert!(j.thin, "{j:?}");
        let j = judge("latency", &noisy, &noisy, &noisy, &Limits::default());
        assert!(!j.thin, "{j:?}");
        // A failure is never thin, and an unknown says nothing about sensitivity.
        let j = judge("latency", &range(300.0, 20), &noisy, &noisy, &lim);
        assert_eq!(j.verdict, Verdict::Fail);
        assert!(!j.thin);
        let j = judge("latency", &range(300.0, 2), &noisy, &noisy, &lim);
        assert_eq!(sensitivity(&j), None);
    }

    // Text

    #[test]
    fn numbers_in_text() {
        assert_eq!(fmt_num(12.0), "12");
        assert_eq!(fmt_num(12.3456), "12.346");
        assert_eq!(fmt_num(-3.5), "-3.5");
        assert_eq!(fmt_num(0.5), "0.5");
        assert_eq!(fmt_num(0.000_123_45), "0.000123");
        assert_eq!(fmt_num(-0.0001), "-0.0001");
        assert_eq!(fmt_num(0.0), "0");
        assert_eq!(fmt_pct(312.4), "+312%");
        assert_eq!(fmt_pct(-40.0), "-40%");
        assert_eq!(fmt_pct(-0.3), "0%");
        assert_eq!(fmt_p(0.0031), "p=0.003");
        assert_eq!(fmt_p(0.0004), "p<0.001");
        assert_eq!(fmt_p(1.0), "p=1.000");
        assert_eq!(Verdict::Unknown.to_string(), "unknown");
        assert_eq!(Verdict::Pass.to_string(), "pass");
    }

    #[test]
    fn table_lines_are_aligned() {
        let cmp = |against, b: Option<f64>, s, change, p, verdict| Comparison {
            against,
            baseline_median: b,
            soak_median: Some(s),
            change_percent: change,
            p_value: p,
            points: (if b.is_some() { 10 } else { 0 }, 10),
            verdict,
            reason: String::new(),
            mde_percent: None,
            thin: false,
        };
        let sizes = |week| Sizes {
            soak: 10,
            before: 10,
            week,
        };
        let rows = [
            SeriesJudgement {
                name: "server errors".to_string(),
                before: cmp(
                    "before",
                    Some(12.0),
                    49.5,
                    Some(312.5),
                    Some(0.0002),
                    Verdict::Fail,
                ),
                week: cmp(
                    "last week",
                    Some(0.0),
                    49.5,
                    None,
                    Some(0.003),
                    Verdict::Fail,
                ),
                verdict: Verdict::Fail,
                reason: String::new(),
                sizes: sizes(10),
                mde_percent: Some(12.0),
                thin: false,
                alpha: 0.05,
            },
            SeriesJudgement {
                name: "latency".to_string(),
                before: cmp(
                    "before",
                    Some(210.0),
                    205.25,
                    Some(-2.26),
                    Some(0.41),
                    Verdict::Pass,
                ),
                week: cmp("last week", None, 205.25, None, None, Verdict::Unknown),
                verdict: Verdict::Pass,
                reason: String::new(),
                sizes: sizes(0),
                mde_percent: Some(80.0),
                thin: true,
                alpha: 0.05,
            },
        ];
        assert_eq!(
            table(&rows),
            vec![
                "series         verdict           points    before                      last week",
                "server errors  fail              10/10/10  12→49.5     +313%  p<0.001  0→49.5                 from 0  p=0.003",
                "latency        pass (thin data)  10/10/0   210→205.25    -2%  p=0.410  too few points (0/10)",
            ]
        );
        assert_eq!(
            table(&[]),
            vec!["series  verdict  points  before  last week"]
        );
    }
}
