//! The append-only journal: one JSON line per step transition, fsync'd before anyone is told.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::runbook::model::Outputs;

/// One transition of one step. Holds only what the operator typed and what steps produced:
/// never environment values or credentials.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// RFC 3339, real wall-clock time (not `--now`): when it happened.
    pub time: String,
    pub operator: String,
    pub step: String,
    pub from: String,
    pub to: String,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub outputs: Outputs,
}

pub struct Journal {
    path: PathBuf,
    file: File,
}

impl Journal {
    pub fn open(path: &Path) -> Result<Self> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("opening the journal {}", path.display()))?;
        Ok(Self {
            path: path.to_path_buf(),
            file,
        })
    }

    /// Appends one line and waits until it is on disk.
    pub fn append(&mut self, entry: &Entry) -> Result<()> {
        let mut line = serde_json::to_string(entry).context("encoding a journal entry")?;
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .and_then(|()| self.file.sync_data())
            .with_context(|| format!("writing the journal {}", self.path.display()))
    }
}

/// Every entry of a journal, in order. A torn last line (a crash mid-write) is ignored.
pub fn read(path: &Path) -> Result<Vec<Entry>> {
    let file =
        File::open(path).with_context(|| format!("reading the journal {}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("reading {}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str(&line) {
            Ok(e) => out.push(e),
            Err(e) => {
                return Err(anyhow::anyhow!(
                    "{}:{}: not a journal entry: {e}",
                    path.display(),
                    i + 1
                ));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_reads_back_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("journal.jsonl");
        let mut j = Journal::open(&p).unwrap();
        for i in 0..5 {
            let mut outputs = Outputs::new();
            outputs.insert("n".into(), serde_json::json!(i));
            j.append(&Entry {
                time: format!("2015-09-08T10:00:0{i}Z"),
                operator: "andym".into(),
                step: format!("s{i}"),
                from: "pending".into(),
                to: "done".into(),
                note: (i % 2 == 0).then(|| "a \"quoted\"\nnote".into()),
                outputs,
            })
            .unwrap();
        }
        drop(j);
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(text.lines().count(), 5);
        for line in text.lines() {
            serde_json::from_str::<serde_json::Value>(line).unwrap();
        }
        let back = read(&p).unwrap();
        let steps: Vec<_> = back.iter().map(|e| e.step.as_str()).collect();
        assert_eq!(steps, ["s0", "s1", "s2", "s3", "s4"]);
        assert_eq!(back[0].note.as_deref(), Some("a \"quoted\"\nnote"));
        assert_eq!(back[3].outputs["n"], 3);
    }
}
