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

/// The lines of `log` from `taken` on that are not `me`'s and that a journal takes in: a
/// session line, a runbook change or a briefing is the other machine's own.
fn theirs<'a>(
    log: &'a [LogEntry],
    taken: usize,
    me: &'a Me,
) -> impl Iterator<Item = (usize, &'a LogEntry)> {
    log.iter().enumerate().skip(taken).filter(move |(_, e)| {
        !(e.entry.operator == me.operator && e.host == me.host)
            && matches!(
                e.entry.event,
                Event::Step(_) | Event::Checkpoint { .. } | Event::Item(_)
            )
    })
}

/// What `me`, whose journal has the log's first `taken` lines and `unsent` lines of its own
/// the log has not, takes in from `log`; or why the two disagree (named by step and who).
pub fn plan(
    log: &[LogEntry],
    taken: usize,
    unsent: &[LogEntry],
    me: &Me,
) -> Result<TakeIn, String> {
    let mine = |e: &LogEntry| e.entry.operator == me.operator && e.host == me.host;
    let mut out = TakeIn {
        upto: log.len(),
        tags: tags_of(log),
        ..TakeIn::default()
    };
    for (i, e) in theirs(log, taken, me) {
        if let Some(step) = step_of(&e.entry) {
            let about = |l: &&LogEntry| step_of(&l.entry) == Some(step) && !derived(&l.entry);
            let in_log = log[i + 1..].iter().filter(|l| mine(l)).find(about);
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
        if to == "running" && !mine(e) {
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
        let got = plan(&log, 0, &[], &bob()).unwrap();
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
        let again = plan(&log, 4, &[], &bob()).unwrap();
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
        let got = plan(&log, 0, &[], &bob()).unwrap();
        // bob started it on the log after ann's run ended: his journal goes on from his own,
        // and hers, taken in after it, would turn his `done` back into her `failed`.
        assert!(got.entries.is_empty(), "{got:?}");
        assert!(got.left_running.is_empty());
        // Lines a session writes by itself are no disagreement, and theirs still come in.
        let log = vec![step("ann", "01", "deploy", "running")];
        let unsent = vec![step("bob", "02", "deploy", "not_applicable")];
        let got = plan(&log, 0, &unsent, &bob()).unwrap();
        assert_eq!(got.entries.len(), 1);
    }

    #[test]
    fn their_line_before_ones_own_later_line_for_the_step_is_a_disagreement() {
        // bob never had ann's run, yet has his own line after it: the journals differ.
        let log = vec![
            step("ann", "01", "deploy", "running"),
            step("bob", "02", "deploy", "interrupted"),
        ];
        let why = plan(&log, 0, &[], &bob()).unwrap_err();
        assert!(
            why.contains("`deploy`") && why.contains("ann on laptop"),
            "{why}"
        );
        // Lines of his own the log has not heard yet count too.
        let log = vec![step("ann", "01", "deploy", "running")];
        let unsent = vec![step("bob", "02", "deploy", "running")];
        assert!(plan(&log, 0, &unsent, &bob()).is_err());
        // Another step's lines are no disagreement.
        let unsent = vec![step("bob", "02", "tag", "done")];
        assert!(plan(&log, 0, &unsent, &bob()).is_ok());
    }
}
