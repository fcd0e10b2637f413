//! `history`: every session under the state dir, each read from its journal.

use std::path::Path;

use anyhow::Result;
use serde::Serialize;

use super::{JOURNAL, STATE, load, timing};

/// One line of `history`.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub runbook: String,
    pub push_date: String,
    pub operator: String,
    pub done: usize,
    pub total: usize,
    pub outcome: String,
    pub started: String,
    pub path: String,
    /// Why the session could not be read; the other fields are then what its folder says.
    pub error: Option<String>,
}

/// Every session under the state dir, newest push first. One that cannot be read is listed
/// with why, not allowed to hide the others.
pub fn history(state_dir: &Path) -> Result<Vec<Summary>> {
    let root = state_dir.join("sessions");
    let mut out = Vec::new();
    let Ok(books) = std::fs::read_dir(&root) else {
        return Ok(out);
    };
    for book in books.flatten() {
        let Ok(dates) = std::fs::read_dir(book.path()) else {
            continue;
        };
        for date in dates.flatten() {
            let dir = date.path();
            if !dir.join(JOURNAL).exists() && !dir.join(STATE).exists() {
                continue;
            }
            let summary = match load(&dir) {
                Ok(l) => Summary::of(&l.state, dir.display().to_string()),
                Err(e) => Summary::unreadable(
                    &book.file_name().to_string_lossy(),
                    &date.file_name().to_string_lossy(),
                    dir.display().to_string(),
                    &e,
                ),
            };
            out.push(summary);
        }
    }
    newest_first(&mut out);
    Ok(out)
}

/// Newest push first; one push's runbooks by name.
pub fn newest_first(list: &mut [Summary]) {
    list.sort_by(|a, b| {
        b.push_date
            .cmp(&a.push_date)
            .then(a.runbook.cmp(&b.runbook))
    });
}

impl Summary {
    /// A push as its journal's state has it, found at `path`.
    pub fn of(st: &super::SessionState, path: String) -> Self {
        let (done, total) = st.progress();
        Summary {
            runbook: st.runbook.clone(),
            push_date: st.push_date.clone(),
            operator: st.operator.clone(),
            done,
            total,
            outcome: st.outcome().to_string(),
            started: st.started.clone(),
            path,
            error: None,
        }
    }

    /// A push whose journal could not be read: what its folder says, and why.
    pub fn unreadable(runbook: &str, push_date: &str, path: String, e: &anyhow::Error) -> Self {
        Summary {
            runbook: runbook.to_string(),
            push_date: push_date.to_string(),
            operator: String::new(),
            done: 0,
            total: 0,
            outcome: "unreadable".into(),
            started: String::new(),
            path,
            error: Some(format!("{e:#}")),
        }
    }
}

/// How long each step of the runbook `slug` usually takes, from every readable journal of it
/// under the state dir (an unreadable one is passed over: `history` lists it with why).
pub fn usual_durations(
    state_dir: &Path,
    slug: &str,
) -> std::collections::BTreeMap<String, crate::session::timing::Usual> {
    let root = state_dir.join("sessions").join(slug);
    let Ok(dates) = std::fs::read_dir(&root) else {
        return Default::default();
    };
    let pushes: Vec<_> = dates
        .flatten()
        .filter_map(|d| super::journal::read(&d.path().join(JOURNAL)).ok())
        .map(|read| timing::runs(&read.entries))
        .collect();
    timing::usual(&pushes)
}
