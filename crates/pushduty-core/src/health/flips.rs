//! Where a verdict would change: the allowed change (`max_rise_percent` or `max_drop_percent`,
//! whichever the series' direction uses) at which a series judged on the same points would
//! end otherwise. A back-test prints it so a team sees how far a threshold is from flipping
//! each past push before it changes the runbook.
//!
//! Pure logic: the judge is run again on the same points with other limits.

use super::judge::{Limits, Verdict, judge};
use super::stats::{clean, mean, median};
use crate::runbook::model::Direction;

/// The nearest allowed change, below or above the current one, at which the verdict changes.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Flip {
    /// The allowed change in percent: below it (`side` "below") or from it on ("from") the
    /// verdict is `verdict`.
    pub allowed_percent: f64,
    pub side: &'static str,
    pub verdict: Verdict,
}

/// The flips of a series on both sides of its current allowed change: at most one below
/// and one above. None when the series has no percent limit (only absolute ones) or no
/// allowed change would change its verdict.
pub fn flips(
    soak: &[Option<f64>],
    before: &[Option<f64>],
    week: &[Option<f64>],
    limits: &Limits,
) -> Vec<Flip> {
    let Some(current) = limits.allowed_percent() else {
        return Vec::new();
    };
    // The verdict is a step function of the allowed change, stepping only where it crosses
    // a harmful change of a median, twice one (the "more than half" rule) or a harmful change
    // of a mean (the outlier guard).
    let mut steps: Vec<f64> = [before, week]
        .iter()
        .flat_map(|baseline| breakpoints(baseline, soak, limits.direction))
        .filter(|c| c.is_finite() && *c > 0.0)
        .collect();
    steps.sort_by(f64::total_cmp);
    steps.dedup();
    let verdict_at = |allowed_percent: f64| {
        let lim = with_allowed(limits, allowed_percent);
        judge("", soak, before, week, &lim).verdict
    };
    let now = verdict_at(current);
    let mut out = Vec::new();
    // Below: the steps under the current value, nearest first; the verdict just under a step.
    if let Some(step) = steps
        .iter()
        .rev()
        .filter(|&&c| c <= current)
        .find(|&&c| verdict_at(below(c)) != now)
    {
        out.push(Flip {
            allowed_percent: *step,
            side: "below",
            verdict: verdict_at(below(*step)),
        });
    }
    // Above: the steps over the current value, nearest first; the verdict from a step on.
    if let Some(step) = steps
        .iter()
        .filter(|&&c| c > current)
        .find(|&&c| verdict_at(c) != now)
    {
        out.push(Flip {
            allowed_percent: *step,
            side: "from",
            verdict: verdict_at(*step),
        });
    }
    out
}

/// The flips in a few words: "fail below 12%; pass from 40%", or "-" when there are none.
pub fn flips_text(flips: &[Flip]) -> String {
    if flips.is_empty() {
        return "-".to_string();
    }
    flips
        .iter()
        .map(|f| format!("{} {} {}%", f.verdict, f.side, percent(f.allowed_percent)))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A threshold: one decimal, or three significant digits under 1 (a flip at 0.03% must not
/// read as 0%).
fn percent(x: f64) -> String {
    if x.abs() < 1.0 {
        super::judge::fmt_num(x)
    } else {
        super::judge::fmt_num((x * 10.0).round() / 10.0)
    }
}

/// Just under a step (the judge compares with `>`, so at the step itself the verdict is the
/// upper side's).
fn below(step: f64) -> f64 {
    step * (1.0 - 1e-9)
}

fn with_allowed(limits: &Limits, percent: f64) -> Limits {
    let mut lim = limits.clone();
    match lim.direction {
        Direction::Increase => lim.max_rise_percent = Some(percent),
        Direction::Decrease => lim.max_drop_percent = Some(percent),
    }
    lim
}

/// The allowed changes at which a comparison with `baseline` can change its verdict.
fn breakpoints(baseline: &[Option<f64>], soak: &[Option<f64>], direction: Direction) -> Vec<f64> {
    let (base, after) = (clean(baseline), clean(soak));
    let harmful = |b: Option<f64>, s: Option<f64>| -> Option<f64> {
        let (b, s) = (b?, s?);
        if b == 0.0 {
            return None;
        }
        let d = match direction {
            Direction::Increase => s - b,
            Direction::Decrease => b - s,
        };
        Some(d / b.abs() * 100.0)
    };
    let mut out = Vec::new();
    if let Some(m) = harmful(median(&base), median(&after)) {
        out.extend([m, 2.0 * m]);
    }
    out.extend(harmful(mean(&base), mean(&after)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calm(level: f64, n: usize) -> Vec<Option<f64>> {
        (0..n).map(|i| Some(level + (i % 5) as f64)).collect()
    }

    #[test]
    fn a_clear_rise_flips_to_pass_at_its_size() {
        // Medians 102 -> 132.6: a significant rise of 30%.
        let base = calm(100.0, 30);
        let soak: Vec<Option<f64>> = base.iter().map(|v| v.map(|x| x * 1.3)).collect();
        let lim = Limits {
            max_rise_percent: Some(20.0),
            ..Limits::default()
        };
        assert_eq!(judge("", &soak, &base, &base, &lim).verdict, Verdict::Fail);
        let f = flips(&soak, &base, &base, &lim);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].side, "from");
        assert_eq!(f[0].verdict, Verdict::Marginal);
        assert!((f[0].allowed_percent - 30.0).abs() < 1e-9, "{f:?}");
        assert_eq!(flips_text(&f), "marginal from 30%");

        // Allowed 45%: marginal (more than half); fail below 30%, pass from 60%.
        let lim = Limits {
            max_rise_percent: Some(45.0),
            ..Limits::default()
        };
        let f = flips(&soak, &base, &base, &lim);
        assert_eq!(flips_text(&f), "fail below 30%; pass from 60%");
    }

    #[test]
    fn no_change_and_no_percent_limit_have_no_flips() {
        let base = calm(100.0, 30);
        let lim = Limits::default();
        assert_eq!(flips(&base, &base, &base, &lim), Vec::new());
        assert_eq!(flips_text(&[]), "-");
        let tiny = Flip {
            allowed_percent: 0.0314,
            side: "below",
            verdict: Verdict::Marginal,
        };
        assert_eq!(flips_text(&[tiny]), "marginal below 0.0314%");
        let abs_only = Limits {
            max_rise_percent: None,
            max: Some(1000.0),
            ..Limits::default()
        };
        let up: Vec<Option<f64>> = base.iter().map(|v| v.map(|x| x * 2.0)).collect();
        assert_eq!(flips(&up, &base, &base, &abs_only), Vec::new());
    }

    #[test]
    fn a_drop_flips_on_the_allowed_drop() {
        let base = calm(100.0, 30);
        let soak: Vec<Option<f64>> = base.iter().map(|v| v.map(|x| x * 0.6)).collect();
        let lim = Limits {
            direction: Direction::Decrease,
            max_drop_percent: Some(50.0),
            ..Limits::default()
        };
        // A significant 40% drop, more than half of 50%: marginal; fail below 40%, pass from 80%.
        assert_eq!(
            judge("", &soak, &base, &base, &lim).verdict,
            Verdict::Marginal
        );
        assert_eq!(
            flips_text(&flips(&soak, &base, &base, &lim)),
            "fail below 40%; pass from 80%"
        );
    }
}
