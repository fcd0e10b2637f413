//! The append-only journal: the truth of a session. Its first line says which push of which
//! runbook it is; every later line is one event (a step's transition with its reason and
//! result, a checkpoint of a running step, a change of the runbook), fsync'd before anyone is
//! told. The session state is what these lines add up to ([`super::SessionState::apply`]).

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::runbook::model::Outputs;

/// One line of the journal. Holds only what the operator typed, what steps resolved and
/// produced: never environment values or credentials.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// RFC 3339, real wall-clock time (not `--now`): when it happened.
    pub time: String,
    pub operator: String,
    #[serde(flatten)]
    pub event: Event,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The first line: the push this journal is about.
    Session(Header),
    /// A step moved from one status to another.
    Step(Transition),
    /// A running step's handle (a process group, a build number), journaled as soon as it is
    /// known so that a restarted pushduty follows it instead of starting it again.
    Checkpoint { step: String, values: Outputs },
    /// The runbook changed under a live session: the steps as they are now.
    Runbook {
        fingerprint: String,
        steps: IndexMap<String, String>,
        added: Vec<String>,
        removed: Vec<String>,
        changed: Vec<String>,
    },
    /// An ad-hoc item: a manual step the runbook does not have, for this push only, or a
    /// reminder for the next push.
    Item(Item),
    /// The hero saw what changed since their last push (the push of `since`), as shown.
    Briefed { since: String, lines: Vec<String> },
    /// The operator settled with the team that this journal (gone on without the team's push
    /// log) and the log differ on `steps`: both histories are kept, this one's lines sent
    /// after the log's, with why.
    Settled { steps: Vec<String>, reason: String },
    /// The next `lines` entries were taken in from the team's push log (`from`: where) when
    /// this operator took the push over: other operators' lines, each with its own operator
    /// and time, that this journal did not have.
    /// `tags`: the push's tags as the log has them (the old driver's, not the ones this
    /// machine worked out when it opened the push), this journal's from here on.
    Imported {
        from: String,
        lines: usize,
        #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
        tags: IndexMap<String, String>,
    },
}

/// Which push an ad-hoc item is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemFor {
    /// A manual step of this push.
    This,
    /// Listed now, carried into the next push's session when it begins.
    Next,
}

/// An ad-hoc item as journaled. Who added it and when are the entry's `operator` and `time`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// `item-N`: stable, never a runbook step id.
    pub id: String,
    /// What to do, as the operator typed it (control characters refused when added).
    pub text: String,
    /// The runbook section it is listed in.
    pub section: String,
    #[serde(rename = "for")]
    pub push: ItemFor,
    /// Set when it was carried in from the previous push's journal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Origin>,
    /// A command to run (in the checkout of its release's repo), as written where the item
    /// was found: the item is then a shell step, shown and confirmed like any other.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// Set when it was taken from a release's body: its outcome is ticked there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<FromRelease>,
}

/// The release whose body listed an item: the runbook repo, the release's tag, and the step
/// that read it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FromRelease {
    pub repo: String,
    pub tag: String,
    pub step: String,
}

/// Where a carried item came from: the previous push, its id there, who added it and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Origin {
    pub push_date: String,
    pub id: String,
    pub by: String,
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub runbook: String,
    /// Hash of the whole runbook as loaded when the session began.
    pub fingerprint: String,
    pub slug: String,
    pub push_date: String,
    pub tag: String,
    /// Each repo's tag for this push.
    pub tags: IndexMap<String, String>,
    /// Step ids in runbook order, with the hash of each definition.
    pub steps: IndexMap<String, String>,
    /// Each service of the runbook as `KIND ADDRESS`: what a later hero's briefing compares.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub services: IndexMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    pub step: String,
    pub from: String,
    pub to: String,
    /// What the operator wrote with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Why: a skip or reopen reason, a failure's text, what interrupted it, why a done step
    /// must run again, an overridden precondition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The step's action resolved with the session's values: what it is about to do (to
    /// `running`) or what it did (to `done`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(default, skip_serializing_if = "Outputs::is_empty")]
    pub outputs: Outputs,
    /// The repos' tag names from here on, when this transition changed them (a re-tag).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<IndexMap<String, String>>,
    /// A done step put back to pending because what it would do changed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stale: bool,
    /// Done by hand, not by pushduty: what the operator was shown to do (to `done`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by_hand: Option<String>,
}

impl Transition {
    pub fn new(step: &str, from: &str, to: &str) -> Self {
        Self {
            step: step.to_string(),
            from: from.to_string(),
            to: to.to_string(),
            note: None,
            reason: None,
            action: None,
            outputs: Outputs::new(),
            tags: None,
            stale: false,
            by_hand: None,
        }
    }
}

pub struct Journal {
    path: PathBuf,
    file: File,
}

impl Journal {
    /// Opens for appending. A torn last line (a crash mid-write) is closed with a newline
    /// first, so the next entry starts a line of its own; the reader skips the torn one.
    /// Returns whether it found one.
    pub fn open(path: &Path) -> Result<(Self, bool)> {
        let mut file = super::private_file(OpenOptions::new().create(true).append(true).read(true))
            .open(path)
            .with_context(|| format!("opening the journal {}", path.display()))?;
        let len = file
            .metadata()
            .with_context(|| format!("reading {}", path.display()))?
            .len();
        let mut torn = false;
        if len > 0 {
            let mut last = [0u8; 1];
            file.seek(SeekFrom::End(-1))
                .and_then(|_| file.read_exact(&mut last))
                .with_context(|| format!("reading {}", path.display()))?;
            if last[0] != b'\n' {
                torn = true;
                file.write_all(b"\n")
                    .and_then(|()| file.sync_data())
                    .with_context(|| format!("writing the journal {}", path.display()))?;
            }
        }
        Ok((
            Self {
                path: path.to_path_buf(),
                file,
            },
            torn,
        ))
    }

    /// Appends one line and waits until it is on disk.
    pub fn append(&mut self, entry: &Entry) -> Result<()> {
        let mut line = serde_json::to_string(entry).context("encoding a journal entry")?;
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .and_then(|()| self.file.sync_data())
            .map_err(|e| {
                let full =
                    e.raw_os_error() == Some(28) || e.kind() == std::io::ErrorKind::StorageFull;
                let err = anyhow::Error::new(e)
                    .context(format!("writing the journal {}", self.path.display()));
                if full {
                    err.context(
                        "the disk is full: the journal did not take this entry, so what it \
                         records was not done; free some space and run pushduty again",
                    )
                } else {
                    err
                }
            })
    }
}

/// A journal as read: its entries in order, and what had to be passed over.
#[derive(Debug, Default)]
pub struct Contents {
    pub entries: Vec<Entry>,
    /// One line per unreadable line (a torn write, a hand edit), with its number.
    pub warnings: Vec<String>,
}

/// The longest line read as an entry: outputs and notes are capped far below this.
const MAX_LINE_BYTES: u64 = 16 * 1024 * 1024;

/// Every readable entry of a journal, in order. Lines that are not entries are skipped with
/// a warning instead of failing the whole session.
pub fn read(path: &Path) -> Result<Contents> {
    let file =
        File::open(path).with_context(|| format!("reading the journal {}", path.display()))?;
    let mut out = Contents::default();
    let mut reader = BufReader::new(file);
    let mut buf = Vec::new();
    let mut n = 0;
    loop {
        buf.clear();
        // A line longer than any entry (a pasted file, a hostile edit) is passed over, not
        // held whole in memory.
        let got = (&mut reader)
            .take(MAX_LINE_BYTES)
            .read_until(b'\n', &mut buf)
            .with_context(|| format!("reading {}", path.display()))?;
        if got == 0 {
            break;
        }
        n += 1;
        if got as u64 == MAX_LINE_BYTES && buf.last() != Some(&b'\n') {
            let mut rest = 0u64;
            loop {
                let chunk = reader
                    .fill_buf()
                    .with_context(|| format!("reading {}", path.display()))?;
                if chunk.is_empty() {
                    break;
                }
                let end = chunk.iter().position(|b| *b == b'\n');
                let used = end.map_or(chunk.len(), |i| i + 1);
                reader.consume(used);
                rest += used as u64;
                if end.is_some() {
                    break;
                }
            }
            out.warnings.push(format!(
                "{}:{n}: skipped a line of {} MiB; no journal entry is that long",
                path.display(),
                (MAX_LINE_BYTES + rest) / (1024 * 1024)
            ));
            continue;
        }
        let line = String::from_utf8_lossy(&buf);
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str(line.trim_end()) {
            Ok(e) => out.entries.push(e),
            Err(e) => out.warnings.push(format!(
                "{}:{n}: skipped a line that is not a journal entry ({e})",
                path.display()
            )),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step_entry(i: usize) -> Entry {
        let mut t = Transition::new(&format!("s{i}"), "pending", "done");
        t.note = i.is_multiple_of(2).then(|| "a \"quoted\"\nnote".into());
        t.outputs.insert("n".into(), serde_json::json!(i));
        Entry {
            time: format!("2015-09-08T10:00:0{i}Z"),
            operator: "andym".into(),
            event: Event::Step(t),
        }
    }

    #[test]
    fn every_line_reads_back_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("journal.jsonl");
        let (mut j, torn) = Journal::open(&p).unwrap();
        assert!(!torn);
        for i in 0..5 {
            j.append(&step_entry(i)).unwrap();
        }
        drop(j);
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(text.lines().count(), 5);
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(v["event"], "step");
        }
        let back = read(&p).unwrap();
        assert!(back.warnings.is_empty());
        assert_eq!(back.entries, (0..5).map(step_entry).collect::<Vec<_>>());
    }

    #[test]
    fn a_full_disk_is_named_as_such_not_as_a_crash() {
        // /dev/full answers every write with ENOSPC, as a full disk does.
        let (mut j, _) = Journal::open(Path::new("/dev/full")).unwrap();
        let e = format!("{:#}", j.append(&step_entry(1)).unwrap_err());
        assert!(
            e.contains("the disk is full") && e.contains("free some space"),
            "{e}"
        );
    }

    #[test]
    fn a_torn_last_line_is_never_glued_to_the_next_entry() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("journal.jsonl");
        let whole = serde_json::to_string(&step_entry(0)).unwrap();
        let torn = &serde_json::to_string(&step_entry(1)).unwrap()[..30];
        std::fs::write(&p, format!("{whole}\n{torn}")).unwrap();
        let (mut j, was_torn) = Journal::open(&p).unwrap();
        assert!(was_torn);
        j.append(&step_entry(2)).unwrap();
        drop(j);
        let back = read(&p).unwrap();
        assert_eq!(back.entries, vec![step_entry(0), step_entry(2)]);
        assert_eq!(back.warnings.len(), 1, "{:?}", back.warnings);
        assert!(
            back.warnings[0].contains(":2: skipped"),
            "{:?}",
            back.warnings
        );
        for line in std::fs::read_to_string(&p).unwrap().lines().skip(2) {
            serde_json::from_str::<Entry>(line).unwrap();
        }
    }

    #[test]
    fn a_line_too_long_for_an_entry_is_passed_over_without_holding_it() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("journal.jsonl");
        let first = serde_json::to_string(&step_entry(0)).unwrap();
        let last = serde_json::to_string(&step_entry(1)).unwrap();
        let huge = "x".repeat(MAX_LINE_BYTES as usize + 3 * 1024 * 1024);
        std::fs::write(&p, format!("{first}\n{huge}\n{last}\n")).unwrap();
        let back = read(&p).unwrap();
        assert_eq!(back.entries, vec![step_entry(0), step_entry(1)]);
        assert_eq!(back.warnings.len(), 1, "{:?}", back.warnings);
        assert!(
            back.warnings[0].contains(":2: skipped a line of 19 MiB"),
            "{:?}",
            back.warnings
        );
    }
}
