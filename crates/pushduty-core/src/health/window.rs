//! The time windows a push is judged on: the soak after the production push, the baseline
//! before it, and the soak's own hours one week earlier (a push is weekly, so last week's same
//! hour carries the same daily traffic swing).

use super::Point;

pub const WEEK: i64 = 7 * 24 * 3600;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Windows {
    /// The production push, unix seconds.
    pub push: i64,
    pub soak_secs: i64,
    pub baseline_secs: i64,
}

impl Windows {
    /// `soak_minutes` may be a fraction (a rehearsal soaks seconds); a negative or
    /// non-finite one is no soak at all.
    pub fn new(push: i64, soak_minutes: f64, baseline_minutes: u64) -> Self {
        let secs = |m: u64| i64::try_from(m.saturating_mul(60)).unwrap_or(i64::MAX / 4);
        Self {
            push,
            soak_secs: minutes_secs(soak_minutes),
            baseline_secs: secs(baseline_minutes),
        }
    }

    /// `[from, until)` of the soak.
    pub fn soak(&self) -> (i64, i64) {
        (self.push, self.push + self.soak_secs)
    }

    pub fn before(&self) -> (i64, i64) {
        (self.push - self.baseline_secs, self.push)
    }

    pub fn week(&self) -> (i64, i64) {
        (self.push - WEEK, self.push - WEEK + self.soak_secs)
    }

    /// Seconds of the soak that have passed at `now`.
    pub fn watched(&self, now: i64) -> i64 {
        (now - self.push).clamp(0, self.soak_secs)
    }
}

/// Seconds in `minutes` (a fraction allowed), rounded; 0 for a negative or non-finite value.
pub fn minutes_secs(minutes: f64) -> i64 {
    if minutes.is_finite() && minutes > 0.0 {
        // Saturates at i64::MAX: no soak lasts that long anyway.
        (minutes * 60.0).round() as i64
    } else {
        0
    }
}

/// The values of the points in `[from, until)`, gaps kept as `None`.
pub fn within(points: &[Point], (from, until): (i64, i64)) -> Vec<Option<f64>> {
    points
        .iter()
        .filter(|(t, _)| *t >= from && *t < until)
        .map(|(_, v)| *v)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_sit_around_the_push() {
        let w = Windows::new(10_000_000, 30.0, 60);
        assert_eq!(w.soak(), (10_000_000, 10_001_800));
        assert_eq!(w.before(), (9_996_400, 10_000_000));
        assert_eq!(w.week(), (10_000_000 - WEEK, 10_001_800 - WEEK));
        assert_eq!(w.watched(10_000_600), 600);
        assert_eq!(w.watched(9_000_000), 0);
        assert_eq!(w.watched(20_000_000), 1800);
    }

    #[test]
    fn within_keeps_gaps_and_excludes_the_end() {
        let pts = vec![
            (0, Some(1.0)),
            (60, None),
            (120, Some(3.0)),
            (180, Some(4.0)),
        ];
        assert_eq!(within(&pts, (60, 180)), vec![None, Some(3.0)]);
    }
}
