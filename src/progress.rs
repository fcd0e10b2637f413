//! A running step's elapsed time against how long it usually takes, in the words the TUI and
//! the headless commands share. Pure: the callers give the clock and the past durations.

use crate::report::{Usual, duration, overdue};

/// How long the step has run, what it usually takes, and whether that is far over:
/// "1m 20s of ~3m 00s", "4m 10s, usually ~1m 30s: far longer than usual", or "12s".
pub fn elapsed(secs: i64, usual: Option<&Usual>) -> String {
    match usual {
        Some(u) if overdue(secs, u) => format!(
            "{}, usually ~{}: far longer than usual",
            duration(secs),
            duration(u.median_seconds)
        ),
        Some(u) if secs <= u.median_seconds => {
            format!("{} of ~{}", duration(secs), duration(u.median_seconds))
        }
        Some(u) => format!(
            "{}, usually ~{}",
            duration(secs),
            duration(u.median_seconds)
        ),
        None => duration(secs),
    }
}

/// "usually takes 3 min (median of 5 runs)" for a step's details.
pub fn usually(u: &Usual) -> String {
    let what = if u.median_seconds < 60 {
        format!("{} s", u.median_seconds.max(0))
    } else {
        // Rounded to the nearest minute: a median is no stopwatch.
        format!("{} min", (u.median_seconds + 30) / 60)
    };
    let runs = if u.runs == 1 {
        "from 1 run".to_string()
    } else {
        format!("median of {} runs", u.runs)
    };
    format!("usually takes {what} ({runs})")
}

/// Seconds from an RFC 3339 instant to `now` (`None` when the text is no such instant).
pub fn since(rfc3339: &str, now: chrono::DateTime<chrono::Utc>) -> Option<i64> {
    let t = chrono::DateTime::parse_from_rfc3339(rfc3339).ok()?;
    Some((now - t.with_timezone(&chrono::Utc)).num_seconds().max(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    const THREE_MIN: Usual = Usual {
        median_seconds: 180,
        runs: 4,
    };

    #[test]
    fn elapsed_says_how_far_along_and_when_it_is_far_over() {
        assert_eq!(elapsed(80, Some(&THREE_MIN)), "1m 20s of ~3m 00s");
        assert_eq!(elapsed(200, Some(&THREE_MIN)), "3m 20s, usually ~3m 00s");
        assert_eq!(
            elapsed(400, Some(&THREE_MIN)),
            "6m 40s, usually ~3m 00s: far longer than usual"
        );
        assert_eq!(elapsed(12, None), "12s");
    }

    #[test]
    fn a_short_step_is_not_flagged_for_a_few_seconds_over() {
        let five = Usual {
            median_seconds: 5,
            runs: 3,
        };
        // Three times the median, but only 10 s over: no news.
        assert_eq!(elapsed(15, Some(&five)), "15s, usually ~5s");
        assert!(overdue(70, &five));
    }

    #[test]
    fn usually_rounds_to_minutes() {
        assert_eq!(
            usually(&THREE_MIN),
            "usually takes 3 min (median of 4 runs)"
        );
        let short = Usual {
            median_seconds: 42,
            runs: 1,
        };
        assert_eq!(usually(&short), "usually takes 42 s (from 1 run)");
        let odd = Usual {
            median_seconds: 150,
            runs: 2,
        };
        assert_eq!(usually(&odd), "usually takes 3 min (median of 2 runs)");
    }

    #[test]
    fn since_counts_from_the_journal_time() {
        let now = chrono::DateTime::parse_from_rfc3339("2015-09-10T10:01:20Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(since("2015-09-10T10:00:00Z", now), Some(80));
        assert_eq!(since("not a time", now), None);
    }
}
