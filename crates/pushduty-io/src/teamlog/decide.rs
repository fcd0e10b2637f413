//! What the push log says of a step, and whether this operator may act on it: pure, so the
//! rules are tested without a repository.

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};

use crate::session::journal::{Entry, Event};

/// One line of a journal in the push log: a journal entry, and the machine it was made on
/// (two people may share a name; a person may have two machines).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    #[serde(default)]
    pub host: String,
    #[serde(flatten)]
    pub entry: Entry,
}

/// Who is writing: the journal's operator on this host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Me {
    pub operator: String,
    pub host: String,
}

impl Me {
    /// `operator on host`, as a seat names who it was taken from.
    pub fn who(&self) -> String {
        format!("{} on {}", self.operator, self.host)
    }

    fn is(&self, e: &LogEntry) -> bool {
        e.entry.operator == self.operator && e.host == self.host
    }
}

/// The lines of a journal in the push log; `name` (its path) and a line number say where a
/// line that does not parse is.
pub fn parse(name: &str, text: &str) -> Result<Vec<LogEntry>> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<LogEntry>(line) {
            Ok(e) => out.push(e),
            Err(e) => bail!(
                "{name}:{}: this line of the push log is not a journal entry ({e}); nothing \
                 was written. Whoever edited it by hand must put it right",
                i + 1
            ),
        }
    }
    Ok(out)
}

/// Why `me` may not start `step`, as the push log and then `mine` (what this operator has
/// journaled and not sent yet) tell it: someone else has it running, or it is done.
pub fn refusal(log: &[LogEntry], mine: &[LogEntry], step: &str, me: &Me) -> Option<String> {
    let last = log
        .iter()
        .chain(mine)
        .rfind(|e| matches!(&e.entry.event, Event::Step(t) if t.step == step))?;
    let Event::Step(t) = &last.entry.event else {
        return None;
    };
    let who = format!(
        "{} on {} at {}",
        last.entry.operator, last.host, last.entry.time
    );
    match t.to.as_str() {
        // A step this operator left running on this host was interrupted here: the local
        // journal decides (a group still alive is found there).
        "running" if me.is(last) => None,
        "running" => Some(format!(
            "the team's push log says {who} started it, and it is running there: let them \
             finish it, or ask them"
        )),
        "done" => Some(format!(
            "the team's push log says it was done by {who}: it is not run twice"
        )),
        _ => None,
    }
}

/// Each step's last move in the log: where it went (`running`, `done`...) and the line.
pub fn last_moves(log: &[LogEntry]) -> std::collections::HashMap<&str, (&str, &LogEntry)> {
    let mut out = std::collections::HashMap::new();
    for e in log {
        if let Event::Step(t) = &e.entry.event {
            out.insert(t.step.as_str(), (t.to.as_str(), e));
        }
    }
    out
}

/// Lines journaled here without the log (the operator went on locally) that start a step
/// someone else has since started or done in the log: two histories, which a person must
/// reconcile; they are never merged by themselves.
pub fn diverged(log: &[LogEntry], mine: &[LogEntry], me: &Me) -> Option<String> {
    let clashes: Vec<String> = clashes(log, mine, me)
        .into_iter()
        .map(|(step, why)| format!("`{step}`: {why}"))
        .collect();
    (!clashes.is_empty()).then(|| {
        format!(
            "this machine went on without the team's push log, and the log has moved on \
             differently: {}. Nothing was merged: both histories are kept (this one in the \
             local journal); settle with the team what happened, then send both with \
             `pushduty log sync --settled WHY`",
            clashes.join("; ")
        )
    })
}

/// The steps `mine` started that the log has someone else's run of, each with what the log
/// says; a step a `settled` line among `mine` names is settled, not a clash.
pub fn clashes(log: &[LogEntry], mine: &[LogEntry], me: &Me) -> Vec<(String, String)> {
    let settled: Vec<&str> = mine
        .iter()
        .filter_map(|e| match &e.entry.event {
            Event::Settled { steps, .. } => Some(steps.iter().map(String::as_str)),
            _ => None,
        })
        .flatten()
        .collect();
    let mut out: Vec<(String, String)> = Vec::new();
    for e in mine {
        let Event::Step(t) = &e.entry.event else {
            continue;
        };
        if t.to != "running" || settled.contains(&t.step.as_str()) {
            continue;
        }
        if out.iter().any(|(s, _)| *s == t.step) {
            continue;
        }
        if let Some(why) = refusal(log, &[], &t.step, me) {
            out.push((t.step.clone(), why));
        }
    }
    out
}

/// What of `mine` goes to the log: all of it, but a second `session` line when the log has
/// the push already (another operator began it there).
pub fn to_send(log_has_push: bool, mine: Vec<LogEntry>) -> Vec<LogEntry> {
    mine.into_iter()
        .filter(|e| !(log_has_push && matches!(e.entry.event, Event::Session(_))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::journal::Transition;

    fn step(who: &str, host: &str, id: &str, to: &str) -> LogEntry {
        LogEntry {
            host: host.into(),
            entry: Entry {
                time: "2015-09-10T14:00:00Z".into(),
                operator: who.into(),
                event: Event::Step(Transition::new(id, "pending", to)),
            },
        }
    }

    fn me() -> Me {
        Me {
            operator: "ann".into(),
            host: "laptop".into(),
        }
    }

    #[test]
    fn someone_elses_running_or_done_step_is_refused_with_who_and_where() {
        let log = vec![step("bob", "desk", "deploy", "running")];
        let why = refusal(&log, &[], "deploy", &me()).unwrap();
        assert!(why.contains("bob on desk at 2015-09-10T14:00:00Z"), "{why}");
        assert!(why.contains("running"), "{why}");
        let log = vec![
            step("bob", "desk", "deploy", "running"),
            step("bob", "desk", "deploy", "done"),
        ];
        let why = refusal(&log, &[], "deploy", &me()).unwrap();
        assert!(why.contains("done by bob"), "{why}");
        // The same name on another machine is someone else.
        let log = vec![step("ann", "desk", "deploy", "running")];
        assert!(refusal(&log, &[], "deploy", &me()).is_some());
    }

    #[test]
    fn a_failed_or_reopened_step_or_ones_own_interrupted_run_may_start() {
        let log = vec![
            step("bob", "desk", "deploy", "running"),
            step("bob", "desk", "deploy", "failed"),
        ];
        assert_eq!(refusal(&log, &[], "deploy", &me()), None);
        let log = vec![step("ann", "laptop", "deploy", "running")];
        assert_eq!(refusal(&log, &[], "deploy", &me()), None);
        let log = vec![step("bob", "desk", "deploy", "done")];
        let mine = vec![step("ann", "laptop", "deploy", "pending")];
        assert_eq!(refusal(&log, &mine, "deploy", &me()), None);
        assert_eq!(refusal(&log, &[], "tag", &me()), None);
    }

    #[test]
    fn a_step_started_offline_that_someone_else_did_meanwhile_is_a_divergence() {
        let log = vec![step("bob", "desk", "deploy", "running")];
        let mine = vec![step("ann", "laptop", "deploy", "running")];
        let why = diverged(&log, &mine, &me()).unwrap();
        assert!(
            why.contains("`deploy`") && why.contains("bob on desk"),
            "{why}"
        );
        // Results of a step the log already has as ours are not a divergence.
        let log = vec![step("ann", "laptop", "deploy", "running")];
        let mine = vec![step("ann", "laptop", "deploy", "done")];
        assert_eq!(diverged(&log, &mine, &me()), None);
        assert_eq!(
            diverged(&[], &[step("ann", "laptop", "tag", "running")], &me()),
            None
        );
    }

    #[test]
    fn a_line_that_does_not_parse_is_named_by_file_and_line() {
        let good = serde_json::to_string(&step("bob", "desk", "deploy", "running")).unwrap();
        let text = format!("{good}\n\n{{\"time\": 3}}\n");
        let err = parse("amo/2015-09-10/journal.jsonl", &text).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("amo/2015-09-10/journal.jsonl:3:"),
            "{err}"
        );
        assert_eq!(parse("j", &good).unwrap().len(), 1);
    }
}
