//! The pushes the team's push log holds, read back as journals: `history`, `show` and
//! `learn --replay` on a machine that did not drive them (read access is enough).

use std::collections::BTreeMap;

use anyhow::Result;

use super::{Store, as_journal, decide};
use crate::session::SessionState;
use crate::session::Summary;
use crate::session::journal::Entry;
use crate::session::timing::{self, Usual};

/// One push folder of the log (`<slug>/<push date>/journal.jsonl`).
pub struct Held {
    pub slug: String,
    pub push_date: String,
    /// Its journal as one journal ([`as_journal`]), or why it cannot be read.
    pub entries: Result<Vec<Entry>>,
}

impl Held {
    /// Where it is, for messages and `history`'s path.
    pub fn path(&self, store: &Store) -> String {
        place(store, &format!("{}/{}", self.slug, self.push_date))
    }

    /// `history`'s line of it: what its journal adds up to, or why it is unreadable.
    pub fn summary(&self, store: &Store) -> Summary {
        let path = self.path(store);
        let state = self
            .entries
            .as_ref()
            .map_err(|e| anyhow::anyhow!("{e:#}"))
            .and_then(|e| SessionState::rebuild(e));
        match state {
            Ok(st) => Summary::of(&st, path),
            Err(e) => Summary::unreadable(&self.slug, &self.push_date, path, &e),
        }
    }
}

/// `path` in the log, as a person finds it: in which branch of which repository.
pub fn place(store: &Store, path: &str) -> String {
    format!("{path} in branch `{}` of {}", store.branch, store.shown())
}

/// Every push in the log (fetched first), oldest first. A folder without a journal is not a
/// push; a journal that does not parse is listed with why.
pub fn pushes(store: &Store) -> Result<Vec<Held>> {
    let tip = store.tip()?;
    let mut out = Vec::new();
    for slug in store.folders(tip, "")? {
        for push_date in store.folders(tip, &slug)? {
            let path = format!("{slug}/{push_date}/journal.jsonl");
            let Some(text) = store.read(tip, &path)? else {
                continue;
            };
            out.push(Held {
                entries: decide::parse(&path, &text).map(as_journal),
                slug: slug.clone(),
                push_date,
            });
        }
    }
    Ok(out)
}

/// How long each step of the runbook `slug` usually took over the log's pushes of it.
pub fn usual(held: &[Held], slug: &str) -> BTreeMap<String, Usual> {
    let runs: Vec<_> = held
        .iter()
        .filter(|h| h.slug == slug)
        .filter_map(|h| h.entries.as_ref().ok())
        .map(|e| timing::runs(e))
        .collect();
    timing::usual(&runs)
}
