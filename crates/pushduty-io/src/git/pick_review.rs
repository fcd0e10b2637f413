//! What to know about a list of cherry-picks before they are applied and tagged: the gotchas
//! of picking (commits out of history order, a merge commit, a database migration, and an
//! earlier commit that is not picked but changed the same files, a likely dependency).
//! Reading only.

use std::collections::{HashMap, HashSet};

use anyhow::{Context, Result};
use git2::{Commit, Delta, Oid, Repository, Sort};

use super::cherry_pick::find_pick;
use super::spec::{short_sha, subject};

/// How far back a dependency is looked for: beyond this many commits since the base the
/// reading would hold a confirmation up, and the picks are far from the release anyway.
const WALK_LIMIT: usize = 2000;
/// The merged commits named for a merge commit; the rest are counted.
const MERGED_SHOWN: usize = 5;
/// The likely dependencies named for one pick; the rest are counted.
const DEPENDENCIES_SHOWN: usize = 3;

/// One thing the operator should know about the picks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// The picks are not listed oldest first; `history` is their order in history. They are
    /// applied as listed.
    OutOfOrder { history: Vec<Oid> },
    /// A merge commit cannot be picked as it is (which parent's side would it apply?); the
    /// commits it merged can.
    Merge {
        commit: Oid,
        subject: String,
        merged: Vec<Oid>,
        more: usize,
    },
    /// The pick adds a file under one of the repo's migrations paths.
    Migration {
        commit: Oid,
        subject: String,
        path: String,
    },
    /// An earlier commit since the base, not picked, changed a file the pick changes.
    Dependency {
        commit: Oid,
        subject: String,
        on: Vec<(Oid, String, String)>,
        more: usize,
    },
}

impl Finding {
    /// Whether it stops the picks: only a merge commit, which cannot be applied at all.
    pub fn blocks(&self) -> bool {
        matches!(self, Finding::Merge { .. })
    }

    pub fn text(&self) -> String {
        let shas = |ids: &[Oid]| ids.iter().map(|o| short_sha(*o)).collect::<Vec<_>>();
        match self {
            Finding::OutOfOrder { history } => format!(
                "the commits are not listed oldest first: they are applied as listed, and \
                 history has them as {} (list them so, unless you mean it)",
                shas(history).join(" ")
            ),
            Finding::Merge {
                commit,
                subject,
                merged,
                more,
            } => format!(
                "{} ({subject}) is a merge commit: it cannot be picked as it is; list the \
                 commits it merged instead: {}{}",
                short_sha(*commit),
                shas(merged).join(" "),
                and_more(*more)
            ),
            Finding::Migration {
                commit,
                subject,
                path,
            } => format!(
                "{} ({subject}) adds a database migration ({path}): coordinate with ops \
                 before it ships",
                short_sha(*commit)
            ),
            Finding::Dependency {
                commit,
                subject,
                on,
                more,
            } => {
                let named: Vec<String> = on
                    .iter()
                    .map(|(id, subj, path)| format!("{} ({subj}), in {path}", short_sha(*id)))
                    .collect();
                format!(
                    "{} ({subject}) may depend on earlier commits that are not picked, which \
                     changed the same files: {}{}",
                    short_sha(*commit),
                    named.join("; "),
                    and_more(*more)
                )
            }
        }
    }
}

fn and_more(n: usize) -> String {
    if n == 0 {
        String::new()
    } else {
        format!(" and {n} more")
    }
}

/// Reads what to know about picking `picks` (sha prefixes or GitHub commit links, in the
/// order they will be applied) onto `base`. `migrations` are the repo's migrations paths.
/// Picks the base has already are left out, as the cherry-pick leaves them out.
pub fn review(
    repo: &Repository,
    base: Oid,
    picks: &[String],
    migrations: &[String],
) -> Result<Vec<Finding>> {
    let mut commits = Vec::new();
    for p in picks {
        let c = find_pick(repo, p)?;
        let in_base = c.id() == base
            || repo
                .graph_descendant_of(base, c.id())
                .context("checking the base's history")?;
        if !in_base && !commits.iter().any(|k: &Commit<'_>| k.id() == c.id()) {
            commits.push(c);
        }
    }
    let mut found = Vec::new();
    if let Some(history) = out_of_order(repo, base, &commits)? {
        found.push(Finding::OutOfOrder { history });
    }
    let picked: HashSet<Oid> = commits.iter().map(Commit::id).collect();
    let mut changes = Changes::default();
    for c in &commits {
        if c.parent_count() > 1 {
            found.push(merge(repo, c)?);
            continue;
        }
        for (path, delta) in changes.of(repo, c)? {
            if delta == Delta::Added && pushduty_core::migrations::is_migration(migrations, &path) {
                found.push(Finding::Migration {
                    commit: c.id(),
                    subject: subject(c),
                    path,
                });
            }
        }
        if let Some(d) = dependencies(repo, base, c, &picked, &mut changes)? {
            found.push(d);
        }
    }
    Ok(found)
}

/// The picks in history order, when one is listed before a commit it comes after. Commits
/// of branches merged apart have no order between them: any is fine.
fn out_of_order(repo: &Repository, base: Oid, picks: &[Commit<'_>]) -> Result<Option<Vec<Oid>>> {
    let mut inverted = false;
    for (i, earlier) in picks.iter().enumerate() {
        for later in &picks[i + 1..] {
            inverted |= repo
                .graph_descendant_of(earlier.id(), later.id())
                .context("comparing the picks' history")?;
        }
    }
    if !inverted {
        return Ok(None);
    }
    let mut walk = repo.revwalk().context("walking history")?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)
        .context("walking history")?;
    for c in picks {
        walk.push(c.id()).context("walking history")?;
    }
    walk.hide(base).context("walking history")?;
    let wanted: HashSet<Oid> = picks.iter().map(Commit::id).collect();
    let mut history = Vec::with_capacity(picks.len());
    for id in walk {
        let id = id.context("walking history")?;
        if wanted.contains(&id) {
            history.push(id);
        }
    }
    Ok(Some(history))
}

fn merge(repo: &Repository, c: &Commit<'_>) -> Result<Finding> {
    let mut walk = repo.revwalk().context("walking history")?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)
        .context("walking history")?;
    for id in c.parent_ids().skip(1) {
        walk.push(id).context("walking history")?;
    }
    walk.hide(c.parent_id(0).context("reading the merge's first parent")?)
        .context("walking history")?;
    let mut merged = Vec::new();
    for id in walk {
        let id = id.context("walking history")?;
        if repo.find_commit(id).is_ok_and(|m| m.parent_count() == 1) {
            merged.push(id);
        }
    }
    let more = merged.len().saturating_sub(MERGED_SHOWN);
    merged.truncate(MERGED_SHOWN);
    Ok(Finding::Merge {
        commit: c.id(),
        subject: subject(c),
        merged,
        more,
    })
}

/// The earlier commits since the base, not picked, that changed a file `pick` changes.
fn dependencies(
    repo: &Repository,
    base: Oid,
    pick: &Commit<'_>,
    picked: &HashSet<Oid>,
    changes: &mut Changes,
) -> Result<Option<Finding>> {
    let mine: HashSet<String> = changes
        .of(repo, pick)?
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    if mine.is_empty() {
        return Ok(None);
    }
    let mut walk = repo.revwalk().context("walking history")?;
    walk.set_sorting(Sort::TOPOLOGICAL)
        .context("walking history")?;
    walk.push(pick.id()).context("walking history")?;
    walk.hide(base).context("walking history")?;
    let mut on = Vec::new();
    for id in walk.take(WALK_LIMIT) {
        let id = id.context("walking history")?;
        if picked.contains(&id) {
            continue;
        }
        let c = repo.find_commit(id).context("reading a commit")?;
        // A merge's own change is what it merged: those commits are looked at themselves.
        if c.parent_count() != 1 {
            continue;
        }
        let shared = changes
            .of(repo, &c)?
            .into_iter()
            .map(|(p, _)| p)
            .filter(|p| mine.contains(p))
            .min();
        if let Some(path) = shared {
            on.push((id, subject(&c), path));
        }
    }
    if on.is_empty() {
        return Ok(None);
    }
    let more = on.len().saturating_sub(DEPENDENCIES_SHOWN);
    on.truncate(DEPENDENCIES_SHOWN);
    Ok(Some(Finding::Dependency {
        commit: pick.id(),
        subject: subject(pick),
        on,
        more,
    }))
}

/// The paths each commit changes against its first parent, read once per commit.
#[derive(Default)]
struct Changes(HashMap<Oid, Vec<(String, Delta)>>);

impl Changes {
    fn of(&mut self, repo: &Repository, c: &Commit<'_>) -> Result<Vec<(String, Delta)>> {
        if let Some(known) = self.0.get(&c.id()) {
            return Ok(known.clone());
        }
        let tree = c.tree().context("reading a commit's tree")?;
        let parent = match c.parent(0) {
            Ok(p) => Some(p.tree().context("reading a parent's tree")?),
            Err(_) => None,
        };
        let diff = repo
            .diff_tree_to_tree(parent.as_ref(), Some(&tree), None)
            .with_context(|| format!("reading what {} changed", short_sha(c.id())))?;
        let paths: Vec<(String, Delta)> = diff
            .deltas()
            .filter_map(|d| {
                let file = d.new_file().path().or_else(|| d.old_file().path())?;
                Some((file.to_string_lossy().replace('\\', "/"), d.status()))
            })
            .collect();
        self.0.insert(c.id(), paths.clone());
        Ok(paths)
    }
}
