//! What a new driver's journal takes in from the push log when they take a push over: the
//! other operators' lines it never had (steps, checkpoints, items), and the steps someone else
//! left running. Pure, so the rules are tested without a repository.
//!
//! The lines are journaled in the log's order after this journal's own. That is only the
//! same history when none of this operator's own lines for a step come after a line of
//! someone else's for it: otherwise the two journals disagree, and nothing is taken in. Two
//! kinds of own line are no disagreement: a start this operator wrote to the log after theirs
//! (decided on the log with their line in it: theirs is history this journal goes on from
//! without), and a line a session writes by itself (a step that came to apply or not, or went
//! stale), which is worked out again once their lines are in.

use crate::session::journal::{Entry, Event};

use super::decide::{LogEntry, Me};

/// What the local journal takes in.
#[derive(Debug, Default, PartialEq)]
pub struct TakeIn {
    /// Other operators' lines this journal lacks, in the log's order, as they were written.
    pub entries: Vec<Entry>,
    /// Who wrote them (`ann on laptop`), each once.
    pub from: Vec<String>,
    /// Steps whose last line in the log is someone else's `running`.
    pub left_running: Vec<Left>,
    /// How many of the log's lines the local journal has once these are in.
    pub upto: usize,
    /// The push's tags as the log has them: its first session line's, as later steps
    /// changed them (a `-1`). Empty when the log has no session line.
    pub tags: indexmap::IndexMap<String, String>,
}

/// The push's tags as `log` has them at its end.
fn tags_of(log: &[LogEntry]) -> indexmap::IndexMap<String, String> {
    let mut tags = indexmap::IndexMap::new();
    for e in log {
        match &e.entry.event {
            Event::Session(h) if tags.is_empty() => tags = h.tags.clone(),
            Event::Step(t) => {
                if let Some(t) = &t.tags {
                    tags = t.clone();
                }
            }
            _ => {}
        }
    }
    tags
}

/// A step someone else left running.
#[derive(Debug, Clone, PartialEq)]
pub struct Left {
    pub step: String,
    pub operator: String,
    pub host: String,
    pub since: String,
}

/// A line a session writes by itself, not an operator's act: a step that came to apply or
/// not, or went stale (worked out again from the values whenever they change).
pub fn derived(e: &Entry) -> bool {
    matches!(&e.event, Event::Step(t)
        if matches!(t.to.as_str(), "pending" | "not_applicable") && (t.reason.is_none() || t.stale))
}

/// The step a line is about, if it is about one.
pub fn step_of(e: &Entry) -> Option<&str> {
    match &e.event {
        Event::Step(t) => Some(&t.step),
        Event::Checkpoint { step, .. } => Some(step),
        _ => None,
    }
}

/// Which of the log's lines this journal has: `me`'s own that `local` holds, matched one
/// for one by time and what they say happened. An own line `local` lacks (a state dir lost
/// or new, on a machine of the same name) is taken in like anyone else's, so nothing the
/// log has of this operator is lost either. Matched by time, kind, step and move rather
/// than by every value: a value read back from the log need not be equal to the bit.
fn had(log: &[LogEntry], local: &[Entry], me: &Me) -> Vec<bool> {
    let key = |e: &Entry| {
        let what = match &e.event {
            Event::Step(t) => format!("step {} {}>{}", t.step, t.from, t.to),
            Event::Checkpoint { step, .. } => format!("checkpoint {step}"),
            Event::Item(i) => format!("item {}", i.id),
            _ => "other".to_string(),
        };
        (e.time.clone(), e.operator.clone(), what)
    };
    let mut left: std::collections::HashMap<_, usize> = std::collections::HashMap::new();
    for e in local {
        *left.entry(key(e)).or_default() += 1;
    }
    log.iter()
        .map(|e| {
            if !(e.entry.operator == me.operator && e.host == me.host) {
                return false;
            }
            match left.get_mut(&key(&e.entry)) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    true
                }
                _ => false,
            }
        })
        .collect()
}

/// What `me` takes in from `log`: its journal (`local`) has the log's first `taken` lines,
/// its own lines the log has, and `unsent` lines of its own the log has not. From `taken` on,
/// every step, checkpoint or item line it lacks comes in (a session line, a runbook change
/// or a briefing is the other machine's own); or why the two disagree (named by step and
/// who).
pub fn plan(
    log: &[LogEntry],
    taken: usize,
    local: &[Entry],
    unsent: &[LogEntry],
    me: &Me,
) -> Result<TakeIn, String> {
    let had = had(log, local, me);
    let mut out = TakeIn {
        upto: log.len(),
        tags: tags_of(log),
        ..TakeIn::default()
    };
    let lacked = log.iter().enumerate().skip(taken).filter(|(i, e)| {
        !had[*i]
            && matches!(
                e.entry.event,
                Event::Step(_) | Event::Checkpoint { .. } | Event::Item(_)
            )
    });
    for (i, e) in lacked {
        if let Some(step) = step_of(&e.entry) {
            let about = |l: &&LogEntry| step_of(&l.entry) == Some(step) && !derived(&l.entry);
            let in_log = log
                .iter()
                .enumerate()
                .skip(i + 1)
                .filter(|(j, _)| had[*j])
                .map(|(_, l)| l)
                .find(about);
            let own = match in_log {
                // This operator started it since, on the log as it stood: theirs is done with.
                Some(l) if matches!(&l.entry.event, Event::Step(t) if t.to == "running") => {
                    continue;
                }
                Some(l) => Some(l),
                None => unsent.iter().find(about),
            };
            if let Some(own) = own {
                return Err(format!(
                    "`{step}`: the push log has a line of {} on {} at {} that this journal never \
                     had, and this journal has its own line of {} about it after that. The two \
                     histories disagree: nothing was taken in, and both are kept (this one in \
                     the local journal); settle with the team what happened",
                    e.entry.operator, e.host, e.entry.time, own.entry.time
                ));
            }
        }
        let who = format!("{} on {}", e.entry.operator, e.host);
        if !out.from.contains(&who) {
            out.from.push(who);
        }
        out.entries.push(e.entry.clone());
    }
    for (step, (to, e)) in super::decide::last_moves(log) {
        // The line itself, not an equal one: which of the log's lines it is.
        let its_had = log
            .iter()
            .position(|l| std::ptr::eq(l, e))
            .is_some_and(|i| had[i]);
        if to == "running" && !its_had {
            out.left_running.push(Left {
                step: step.to_string(),
                operator: e.entry.operator.clone(),
                host: e.host.clone(),
                since: e.entry.time.clone(),
            });
        }
    }
    out.left_running.sort_by(|a, b| a.since.cmp(&b.since));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runbook::model::Outputs;
    use crate::session::journal::Transition;

    fn line(who: &str, time: &str, event: Event) -> LogEntry {
        LogEntry {
            host: if who == "bob" { "desk" } else { "laptop" }.into(),
            entry: Entry {
                time: format!("2015-09-10T14:00:{time}Z"),
                operator: who.into(),
                event,
            },
        }
    }

    fn step(who: &str, time: &str, id: &str, to: &str) -> LogEntry {
        line(who, time, Event::Step(Transition::new(id, "pending", to)))
    }

    fn checkpoint(who: &str, time: &str, id: &str) -> LogEntry {
        let values = Outputs::from([("build_number".to_string(), serde_json::json!(7))]);
        line(
            who,
            time,
            Event::Checkpoint {
                step: id.into(),
                values,
            },
        )
    }

    /// bob's journal: his lines of `log`, as he wrote them.
    fn his(log: &[LogEntry]) -> Vec<Entry> {
        log.iter()
            .filter(|e| e.entry.operator == "bob")
            .map(|e| e.entry.clone())
            .collect()
    }

    fn bob() -> Me {
        Me {
            operator: "bob".into(),
            host: "desk".into(),
        }
    }

    #[test]
    fn the_old_drivers_lines_come_in_and_a_step_they_left_running_is_named() {
        let log = vec![
            step("ann", "01", "tag", "running"),
            step("ann", "02", "tag", "done"),
            step("ann", "03", "deploy", "running"),
            checkpoint("ann", "04", "deploy"),
        ];
        let got = plan(&log, 0, &[], &[], &bob()).unwrap();
        assert_eq!(got.entries.len(), 4);
        assert_eq!(got.entries[3], log[3].entry, "taken in as written");
        assert_eq!(got.from, ["ann on laptop"]);
        assert_eq!(got.upto, 4);
        let left: Vec<(&str, &str)> = got
            .left_running
            .iter()
            .map(|l| (l.step.as_str(), l.host.as_str()))
            .collect();
        assert_eq!(left, [("deploy", "laptop")]);
        // Taken in once: from `taken` on only.
        let again = plan(&log, 4, &[], &[], &bob()).unwrap();
        assert!(again.entries.is_empty(), "{again:?}");
        assert_eq!(again.left_running.len(), 1, "still running in the log");
    }

    #[test]
    fn ones_own_lines_are_not_taken_in_and_a_step_done_after_theirs_is_not_left_running() {
        let log = vec![
            step("ann", "01", "deploy", "running"),
            step("ann", "02", "deploy", "failed"),
            step("bob", "03", "deploy", "running"),
            step("bob", "04", "deploy", "done"),
        ];
        let got = plan(&log, 0, &his(&log), &[], &bob()).unwrap();
        // bob started it on the log after ann's run ended: his journal goes on from his own,
        // and hers, taken in after it, would turn his `done` back into her `failed`.
        assert!(got.entries.is_empty(), "{got:?}");
        assert!(got.left_running.is_empty());
        // Lines a session writes by itself are no disagreement, and theirs still come in.
        let log = vec![step("ann", "01", "deploy", "running")];
        let unsent = vec![step("bob", "02", "deploy", "not_applicable")];
        let got = plan(&log, 0, &[], &unsent, &bob()).unwrap();
        assert_eq!(got.entries.len(), 1);
    }

    #[test]
    fn their_line_before_ones_own_later_line_for_the_step_is_a_disagreement() {
        // bob never had ann's run, yet has his own line after it: the journals differ.
        let log = vec![
            step("ann", "01", "deploy", "running"),
            step("bob", "02", "deploy", "interrupted"),
        ];
        let why = plan(&log, 0, &his(&log), &[], &bob()).unwrap_err();
        assert!(
            why.contains("`deploy`") && why.contains("ann on laptop"),
            "{why}"
        );
        // Lines of his own the log has not heard yet count too.
        let log = vec![step("ann", "01", "deploy", "running")];
        let unsent = vec![step("bob", "02", "deploy", "running")];
        assert!(plan(&log, 0, &[], &unsent, &bob()).is_err());
        // Another step's lines are no disagreement.
        let unsent = vec![step("bob", "02", "tag", "done")];
        assert!(plan(&log, 0, &[], &unsent, &bob()).is_ok());
    }

    #[test]
    fn ones_own_lines_a_journal_lacks_come_in_like_anyone_elses() {
        // bob's state dir is new (or was lost) on a machine of the same name: the log's
        // lines of his are not in it, and come in; a step he left running is named.
        let log = vec![
            step("bob", "01", "tag", "running"),
            step("bob", "02", "tag", "done"),
            step("ann", "03", "deploy", "running"),
            step("ann", "04", "deploy", "done"),
            step("bob", "05", "announce", "running"),
        ];
        let got = plan(&log, 0, &[], &[], &bob()).unwrap();
        assert_eq!(got.entries.len(), 5, "{got:?}");
        assert_eq!(got.from, ["bob on desk", "ann on laptop"]);
        let left: Vec<&str> = got.left_running.iter().map(|l| l.step.as_str()).collect();
        assert_eq!(left, ["announce"]);
        // A journal that has some of them takes in only the rest, one for one: two lines
        // alike in the log and one here leave one to take in.
        let twice = vec![
            checkpoint("bob", "06", "deploy"),
            checkpoint("bob", "06", "deploy"),
        ];
        let got = plan(&twice, 0, &[twice[0].entry.clone()], &[], &bob()).unwrap();
        assert_eq!(got.entries.len(), 1, "{got:?}");
        let got = plan(&log, 0, &his(&log)[..2], &[], &bob()).unwrap();
        let times: Vec<&str> = got.entries.iter().map(|e| &e.time[17..19]).collect();
        assert_eq!(times, ["03", "04", "05"]);
    }
}
