//! The cherry-pick gotchas as confirmation checks: read by the cherry-pick step when the
//! commits are given with it (`do pick --input commits=...`), and by the tag step that tags
//! the picks, so they are seen before anything is tagged whichever way the commits came.

use git2::{Oid, Repository};
use serde_json::Value;

use super::Check;
use crate::git::pick_review::{self, Finding};

/// The repo's migrations paths (`repos.NAME.migrations`), as the session holds them.
pub(super) fn migrations(ctx: &Value, repo: &str) -> Vec<String> {
    ctx["repos"][repo]["migrations"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// What to know about picking `picks` onto `base`: a merge commit fails (it cannot be picked
/// as it is), the other gotchas warn; with none, one line says what was looked at.
pub(super) fn checks(
    repo: &Repository,
    base: Oid,
    picks: &[String],
    migrations: &[String],
) -> Vec<Check> {
    match pick_review::review(repo, base, picks, migrations) {
        Ok(found) if found.is_empty() => vec![Check::ok(format!(
            "the picks are oldest first, none is a merge commit{}, and no earlier commit left \
             out changed their files",
            if migrations.is_empty() {
                ""
            } else {
                " or adds a database migration"
            }
        ))],
        Ok(found) => found.iter().map(check).collect(),
        Err(e) => vec![Check::fail(format!("{e:#}"))],
    }
}

fn check(f: &Finding) -> Check {
    if f.blocks() {
        Check::fail(f.text())
    } else {
        Check::warn(f.text())
    }
}
