//! How long steps take: each run as the journal has it, the usual duration across pushes,
//! and the words the TUI and the headless commands say it in. Pure: the callers give the
//! clock and the journals.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use serde::Serialize;

use super::journal::{Entry, Event};

/// The reason prefix of a run started over failed checks.
pub(crate) const OVERRIDDEN: &str = "preconditions overridden: ";

#[derive(Debug, Clone, Serialize)]
pub struct Run {
    pub started: String,
    /// `null` while it runs (or if the journal ends there).
    pub ended: Option<String>,
    pub seconds: Option<i64>,
    /// `done`, `failed`, `interrupted` or `running`.
    pub result: String,
    pub by: String,
    pub action: Option<String>,
    pub note: Option<String>,
    /// A failure's or an interruption's text, whole: its first line often ends with ":" and
    /// the lines after it name what failed (the new Sentry issue, the failed job).
    pub reason: Option<String>,
    /// Why the operator acted although a check failed.
    #[serde(rename = "override")]
    pub override_reason: Option<String>,
}

/// Seconds between two RFC 3339 instants.
pub fn seconds(from: &str, to: &str) -> Option<i64> {
    let a = chrono::DateTime::parse_from_rfc3339(from).ok()?;
    let b = chrono::DateTime::parse_from_rfc3339(to).ok()?;
    Some((b - a).num_seconds())
}

/// Every step's runs in the journal `entries`, in order: each from `running` to how it ended
/// (`report`, `learn --replay` and the durations across pushes all read them from here).
pub fn runs(entries: &[Entry]) -> IndexMap<String, Vec<Run>> {
    let mut runs: IndexMap<String, Vec<Run>> = IndexMap::new();
    for e in entries {
        let Event::Step(t) = &e.event else {
            continue;
        };
        match t.to.as_str() {
            "running" => runs.entry(t.step.clone()).or_default().push(Run {
                started: e.time.clone(),
                ended: None,
                seconds: None,
                result: "running".into(),
                by: e.operator.clone(),
                action: t.action.clone(),
                note: t.note.clone(),
                reason: None,
                override_reason: t
                    .reason
                    .as_deref()
                    .and_then(|r| r.strip_prefix(OVERRIDDEN))
                    .map(str::to_string),
            }),
            to @ ("done" | "failed" | "interrupted") => {
                if let Some(run) = runs
                    .get_mut(&t.step)
                    .and_then(|r| r.last_mut())
                    .filter(|r| r.ended.is_none())
                {
                    run.ended = Some(e.time.clone());
                    run.seconds = seconds(&run.started, &e.time);
                    run.result = to.to_string();
                    if t.action.is_some() {
                        run.action = t.action.clone();
                    }
                    if t.note.is_some() {
                        run.note = t.note.clone();
                    }
                    if to != "done" {
                        run.reason = t.reason.clone();
                    }
                }
            }
            _ => {}
        }
    }
    runs
}

/// How long a step usually takes: the median of its finished runs across pushes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Usual {
    pub median_seconds: i64,
    /// How many finished runs the median is taken from.
    pub runs: usize,
}

/// Each step's usual duration over the runs of many pushes (one [`runs`] map per push). Only
/// runs that ended `done` count: a failure or an interruption says nothing about how long the
/// work takes. Of an even count, the lower middle and upper middle are averaged.
pub fn usual<'a>(
    pushes: impl IntoIterator<Item = &'a IndexMap<String, Vec<Run>>>,
) -> BTreeMap<String, Usual> {
    let mut all: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for push in pushes {
        for (step, runs) in push {
            let secs = runs
                .iter()
                .filter(|r| r.result == "done")
                .filter_map(|r| r.seconds)
                .filter(|s| *s >= 0);
            all.entry(step.clone()).or_default().extend(secs);
        }
    }
    all.into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(step, mut v)| {
            v.sort_unstable();
            let n = v.len();
            let median = if n % 2 == 1 {
                v[n / 2]
            } else {
                (v[n / 2 - 1] + v[n / 2]) / 2
            };
            (
                step,
                Usual {
                    median_seconds: median,
                    runs: n,
                },
            )
        })
        .collect()
}

/// Whether a run of `secs` is far longer than usual: more than twice the median and more than
/// a minute over it (a 5 s step taking 15 s is no news).
pub fn overdue(secs: i64, usual: &Usual) -> bool {
    secs > 2 * usual.median_seconds && secs > usual.median_seconds + 60
}

/// "3s", "2m 05s", "1h 02m".
pub fn duration(secs: i64) -> String {
    let s = secs.max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {:02}s", s / 60, s % 60),
        _ => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
    }
}

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

    fn entry(time: &str, who: &str, t: crate::session::journal::Transition) -> Entry {
        Entry {
            time: time.into(),
            operator: who.into(),
            event: Event::Step(t),
        }
    }

    /// One push's journal: `tag` runs `tag_secs`, `deploy` fails once after 5 s then takes
    /// `deploy_secs`.
    fn push_entries(date: &str, tag_secs: i64, deploy_secs: i64) -> Vec<Entry> {
        use crate::session::journal::Transition;
        let at = |secs: i64| {
            let t = chrono::DateTime::parse_from_rfc3339(&format!("{date}T10:00:00Z")).unwrap()
                + chrono::Duration::seconds(secs);
            t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        };
        let step = |secs: i64, id: &str, from: &str, to: &str| {
            entry(&at(secs), "ana", Transition::new(id, from, to))
        };
        let d = tag_secs + 10;
        vec![
            step(0, "tag", "pending", "running"),
            step(tag_secs, "tag", "running", "done"),
            step(d, "deploy", "pending", "running"),
            step(d + 5, "deploy", "running", "failed"),
            step(d + 100, "deploy", "failed", "running"),
            step(d + 100 + deploy_secs, "deploy", "running", "done"),
        ]
    }

    #[test]
    fn usual_durations_are_medians_of_finished_runs_across_pushes() {
        let pushes = [
            runs(&push_entries("2015-09-03", 10, 300)),
            runs(&push_entries("2015-09-10", 30, 100)),
            runs(&push_entries("2015-09-17", 20, 200)),
            runs(&push_entries("2015-09-24", 40, 400)),
        ];
        let u = usual(&pushes);
        // 10, 20, 30, 40: the middle two averaged.
        assert_eq!(
            u["tag"],
            Usual {
                median_seconds: 25,
                runs: 4
            }
        );
        // The 5 s failures do not count.
        assert_eq!(
            u["deploy"],
            Usual {
                median_seconds: 250,
                runs: 4
            }
        );
        let u = usual(&pushes[..3]);
        assert_eq!(u["tag"].median_seconds, 20);
        assert_eq!(u["deploy"].median_seconds, 200);
        // A step never finished has no usual duration.
        let unfinished = runs(&push_entries("2015-10-01", 10, 10)[..1]);
        assert!(usual([&unfinished]).is_empty());
    }

    #[test]
    fn far_longer_means_twice_and_a_minute_over() {
        let u = Usual {
            median_seconds: 180,
            runs: 3,
        };
        assert!(!overdue(360, &u));
        assert!(overdue(361, &u));
        let short = Usual {
            median_seconds: 10,
            runs: 3,
        };
        assert!(!overdue(70, &short));
        assert!(overdue(71, &short));
    }

    #[test]
    fn durations_read_like_a_clock() {
        assert_eq!(duration(3), "3s");
        assert_eq!(duration(125), "2m 05s");
        assert_eq!(duration(3720), "1h 02m");
        assert_eq!(duration(-5), "0s");
    }

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
