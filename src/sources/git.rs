//! The git pane's source: each configured repo's state, polled on an interval and right after
//! any git step, on its own thread; and, beside it, a quiet fetch of each repo's branch that
//! keeps the remote-tracking branch current, so what upstream has that this push's tag does
//! not (a blocker's fix) shows without reopening the fetch step.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use chrono::NaiveDate;

use super::Snapshot;
use crate::git::RepoSpec;
use crate::git::state::{RepoState, Shipping, repo_state, shipping};
use crate::git::tags::{TagFormat, TagKey};
use crate::git::unshipped::{self, Unshipped};

/// How often the repos are read when nothing asks sooner.
pub const INTERVAL: Duration = Duration::from_secs(30);

pub struct GitSource {
    pub specs: Vec<RepoSpec>,
    pub format: TagFormat,
    /// This push's date: once it has a tag, the pane lists what that tag ships.
    pub push_date: Option<NaiveDate>,
    /// How often the branch of each repo is fetched in the background; `None`: never (learn
    /// mode, or the operator turned it off).
    pub fetch_every: Option<Duration>,
}

/// What a repo's last read found: its state, what its push tag ships, and what upstream has
/// that the tag does not.
type Read = (RepoState, Option<Shipping>, Option<Unshipped>);

impl GitSource {
    /// The pane's lines for every repo; an error only when no repo could be read.
    pub fn snapshot(&self) -> Result<Vec<String>, String> {
        self.read(&mut Memo::default())
    }

    /// Like [`Self::snapshot`], but a repo whose refs, HEAD, index and config are as `memo`
    /// saw them last time is not walked again: only its work tree is looked at (for the dirty
    /// count). An idle pane's poll then costs a few stats instead of a history walk.
    pub fn read(&self, memo: &mut Memo) -> Result<Vec<String>, String> {
        let states: Vec<(&RepoSpec, Read)> = self
            .specs
            .iter()
            .map(|spec| {
                let mark = Mark::of(&spec.path, memo.racy);
                if let Some(read) = memo.reuse(spec, mark.as_ref()) {
                    return (spec, read);
                }
                memo.full_reads += 1;
                let state = repo_state(spec, &self.format);
                // A tag that cannot be read leaves the list of commits since the last one.
                let date = self.push_date.filter(|_| state.error.is_none());
                let ship = date.and_then(|d| shipping(spec, &self.format, d).ok().flatten());
                let ahead = date.and_then(|d| {
                    unshipped::unshipped(spec, &self.format, &TagKey::from(d), unshipped::SHOWN)
                        .ok()
                        .flatten()
                });
                let read = (state, ship, ahead);
                if let Some(mark) = mark.filter(|m| !m.racy && read.0.error.is_none()) {
                    memo.seen.insert(spec.name.clone(), (mark, read.clone()));
                }
                (spec, read)
            })
            .collect();
        if !states.is_empty() && states.iter().all(|(_, (s, ..))| s.error.is_some()) {
            let errors: Vec<String> = states
                .iter()
                .map(|(spec, (s, ..))| {
                    format!("{}: {}", spec.name, s.error.as_deref().unwrap_or(""))
                })
                .collect();
            return Err(errors.join("; "));
        }
        Ok(states
            .iter()
            .flat_map(|(spec, (s, ship, ahead))| {
                let mut out = lines(spec, s, ship.as_ref());
                if let Some(u) = ahead.as_ref().filter(|u| u.total > 0) {
                    // Right under the summary: it is what may still need picking.
                    let at = out.len().min(2);
                    out.splice(at..at, unshipped_lines(u));
                }
                out
            })
            .collect())
    }

    /// Polls on its own thread (see [`super::spawn_poller`]).
    pub fn spawn(
        self,
        interval: Duration,
        send: impl Fn(Snapshot) -> bool + Send + 'static,
    ) -> Sender<()> {
        let memo = Mutex::new(Memo::default());
        let failures: Failures = Arc::default();
        let fetching = self
            .fetch_every
            .map(|every| (every, self.specs.clone(), failures.clone()));
        let poke = super::spawn_poller(
            "git",
            interval,
            move || {
                let mut lines = match memo.lock() {
                    Ok(mut m) => self.read(&mut m),
                    Err(_) => self.snapshot(),
                }?;
                if let Ok(f) = failures.lock() {
                    lines.extend(f.iter().map(|(name, e)| {
                        format!("{name}: the background fetch failed (the lists above are as fetched last): {e}")
                    }));
                }
                Ok(lines)
            },
            send,
        );
        if let Some((every, specs, failures)) = fetching {
            spawn_fetcher(specs, every, failures, poke.clone());
        }
        poke
    }
}

/// The last background fetch's failure of each repo that failed, by repo name.
type Failures = Arc<Mutex<Vec<(String, String)>>>;

/// Fetches every repo's branch now and then every `every`, and asks the pane to read again
/// after each round; ends with the pane's source.
fn spawn_fetcher(specs: Vec<RepoSpec>, every: Duration, failures: Failures, poke: Sender<()>) {
    let spawned = std::thread::Builder::new()
        .name("git-fetch".into())
        .spawn(move || {
            loop {
                let failed: Vec<(String, String)> = specs
                    .iter()
                    .filter_map(|spec| {
                        crate::git::quiet_fetch::fetch(spec, crate::git::quiet_fetch::TIMEOUT)
                            .err()
                            .map(|e| (spec.name.clone(), e))
                    })
                    .collect();
                if let Ok(mut f) = failures.lock() {
                    *f = failed;
                }
                if poke.send(()).is_err() {
                    return;
                }
                std::thread::sleep(every);
            }
        });
    // Without a thread the pane shows what the last fetch step brought, as it always did.
    drop(spawned);
}

/// What upstream has that the push's tag does not, as pane lines.
fn unshipped_lines(u: &Unshipped) -> Vec<String> {
    let mut out = vec![format!(
        "  {} has {} not in {}:",
        u.upstream,
        crate::words::count(u.total as u64, "commit"),
        u.tag
    )];
    out.extend(
        u.commits
            .iter()
            .map(|(_, c)| format!("  + {} {} — {}", c.sha, c.subject, c.author)),
    );
    if u.total > u.commits.len() {
        out.push(format!("  + … {} more", u.total - u.commits.len()));
    }
    out
}

/// What the git source saw at its last full read of each repo, by repo name.
pub struct Memo {
    seen: HashMap<String, (Mark, Read)>,
    /// How many times a repo was read in full (history walked), for tests.
    pub full_reads: usize,
    /// A file of the repo changed this recently is taken as racy (see [`Mark`]).
    racy: Duration,
}

impl Default for Memo {
    fn default() -> Self {
        Memo::with_racy_window(RACY)
    }
}

impl Memo {
    /// A memo that trusts marks of files changed more than `racy` before them (tests use
    /// zero: their repos change a moment before they are read).
    pub fn with_racy_window(racy: Duration) -> Self {
        Memo {
            seen: HashMap::new(),
            full_reads: 0,
            racy,
        }
    }

    /// The last full read of `spec`, with its dirty count brought up to date, when nothing
    /// but the work tree can have changed since.
    fn reuse(&self, spec: &RepoSpec, mark: Option<&Mark>) -> Option<Read> {
        let (seen, (state, ship, ahead)) = self.seen.get(&spec.name)?;
        if mark.is_none_or(|m| m.stamps != seen.stamps) {
            return None;
        }
        let dirty = spec
            .open()
            .and_then(|repo| crate::git::state::dirty_count(&repo))
            .ok()?;
        Some((
            RepoState {
                dirty,
                ..state.clone()
            },
            ship.clone(),
            ahead.clone(),
        ))
    }
}

/// The size and modification time of every file git rewrites when HEAD, a ref, the index or
/// the config changes, and of every directory under `refs/` (a loose ref is written by
/// renaming a new file into place, which changes its directory). Equal marks mean the same
/// refs, HEAD, upstream and staged state. `None` when the git directory cannot be found.
#[derive(Debug)]
struct Mark {
    stamps: Vec<(PathBuf, Option<(u64, SystemTime)>)>,
    /// A file changed within [`RACY`] of the mark: a second change in the same clock tick
    /// would leave the mark as it is, so a read under this mark is not reused.
    racy: bool,
}

/// How close to a change a mark is too close to trust: file times are coarse-grained, and
/// git may still be writing the next file of the same change.
const RACY: Duration = Duration::from_secs(2);

impl Mark {
    fn of(work: &Path, racy: Duration) -> Option<Mark> {
        let dot = work.join(".git");
        let git = if dot.is_dir() {
            dot
        } else if dot.is_file() {
            // A linked work tree: `.git` names its git dir, whose `commondir` names the rest.
            let text = std::fs::read_to_string(&dot).ok()?;
            let named = PathBuf::from(text.strip_prefix("gitdir:")?.trim());
            if named.is_absolute() {
                named
            } else {
                work.join(named)
            }
        } else {
            // A bare repository is its own git directory.
            work.to_path_buf()
        };
        let common = std::fs::read_to_string(git.join("commondir"))
            .map(|c| git.join(c.trim()))
            .unwrap_or_else(|_| git.clone());
        let stamp = |p: &Path| {
            std::fs::metadata(p)
                .ok()
                .map(|m| (m.len(), m.modified().unwrap_or(SystemTime::UNIX_EPOCH)))
        };
        let mut files = vec![
            git.join("HEAD"),
            git.join("index"),
            common.join("packed-refs"),
            common.join("config"),
        ];
        let mut dirs = vec![common.join("refs")];
        while let Some(dir) = dirs.pop() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
                .ok()?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_dir())
                .collect();
            entries.sort();
            files.push(dir);
            dirs.extend(entries);
        }
        let stamps: Vec<_> = files
            .into_iter()
            .map(|f| {
                let s = stamp(&f);
                (f, s)
            })
            .collect();
        let recent = SystemTime::now() - racy;
        let racy = stamps
            .iter()
            .any(|(_, s)| s.is_some_and(|(_, t)| t > recent));
        Some(Mark { stamps, racy })
    }
}

/// A repo's state as pane lines: a summary, then the commits shipping: what this push's tag
/// ships once it has one (the picks, after cherry-picks), else what is on the branch since
/// the last release.
pub fn lines(spec: &RepoSpec, s: &RepoState, ship: Option<&Shipping>) -> Vec<String> {
    if let Some(e) = &s.error {
        return vec![format!("{}: {e}", spec.name)];
    }
    let branch = s.branch.clone().unwrap_or_else(|| "(detached HEAD)".into());
    let dirty = match s.dirty {
        0 => "clean".to_string(),
        n => format!("{n} dirty"),
    };
    let mut out = vec![format!(
        "{} {branch} @ {} · {dirty} · ↑{} ↓{}",
        spec.name,
        s.head.as_deref().unwrap_or("?"),
        s.ahead,
        s.behind
    )];
    let since = s.commits_since_tag.map_or("? commits".into(), |n| {
        crate::words::count(n as u64, "commit")
    });
    out.push(match &s.last_tag {
        Some(t) => format!("  last tag {t} · {since} since"),
        None => format!("  no release tag yet · {since}"),
    });
    if let Some(url) = &s.compare_url {
        out.push(format!("  {url}"));
    }
    let commit =
        |c: &crate::git::state::CommitInfo| format!("  {} {} — {}", c.sha, c.subject, c.author);
    match ship {
        Some(ship) if !ship.picks.is_empty() => {
            let onto = ship
                .onto
                .as_deref()
                .map(|t| format!(" onto {t}"))
                .unwrap_or_default();
            out.push(format!(
                "  {} ships {} cherry-pick(s){onto}:",
                ship.tag,
                ship.picks.len()
            ));
            out.extend(ship.picks.iter().map(commit));
        }
        Some(ship) => {
            out.push(match &ship.since {
                Some(prev) => format!(
                    "  {} ships {} since {prev}:",
                    ship.tag,
                    crate::words::count(ship.total as u64, "commit")
                ),
                None => format!(
                    "  {} ships {}, the first release:",
                    ship.tag,
                    crate::words::count(ship.total as u64, "commit")
                ),
            });
            out.extend(ship.commits.iter().map(commit));
        }
        None => out.extend(s.commits.iter().map(commit)),
    }
    out
}
