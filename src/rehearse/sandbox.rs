//! The rehearsal's git side: a bare `upstream` with a believable history (a few dozen commits
//! by a few authors, a release tag for each of the last pushes, named as the runbook names
//! them) and the hero's clone of it; one such pair per repo the runbook has. Built with
//! libgit2, so no `git` binary is needed.

use std::path::Path;

use anyhow::{Context, Result};
use chrono::{Duration, NaiveDate};
use git2::{Oid, Repository, Signature, Time};

/// The people who commit, as "name <email>".
const AUTHORS: &[(&str, &str)] = &[
    ("Andy McKay", "andym@example.org"),
    ("Kumar Rao", "kumar@example.org"),
    ("Mathieu Agopian", "magopian@example.org"),
    ("Matt Striemer", "mstriemer@example.org"),
    ("Stuart Colville", "muffinresearch@example.org"),
];

/// What a week of work looks like: file, line added, commit subject.
const WORK: &[(&str, &str)] = &[
    (
        "src/search.py",
        "Rank add-ons by weekly users in search results",
    ),
    (
        "src/reviews.py",
        "Show the reply of the developer under each review",
    ),
    ("src/api.py", "Add the `compat` field to the add-on API"),
    (
        "src/devhub.py",
        "Warn developers when a version has no release notes",
    ),
    ("src/search.py", "Treat a query of only spaces as empty"),
    ("src/l10n.py", "Update the Romanian and Czech locales"),
    ("src/api.py", "Paginate the collections API with cursors"),
    (
        "src/reviews.py",
        "Hide flagged reviews from the public listing",
    ),
    (
        "src/devhub.py",
        "Let developers upload a source archive with a version",
    ),
    (
        "src/versions.py",
        "Order versions by their release date, then their number",
    ),
    (
        "src/search.py",
        "Boost featured add-ons in the category pages",
    ),
    (
        "src/api.py",
        "Return 404, not 500, for an unknown add-on slug",
    ),
];

/// What a frontend's weeks look like, for a runbook with a second repo.
const FRONTEND_WORK: &[(&str, &str)] = &[
    (
        "src/amo/pages/Home.js",
        "Show the recommended themes on the home page",
    ),
    ("src/amo/components/Rating.js", "Let keyboards set a rating"),
    ("locale/ro/amo.po", "Update the Romanian locale"),
    (
        "src/amo/pages/Addon.js",
        "Link the add-on's support site from its page",
    ),
    ("src/core/api.js", "Retry the API once when it times out"),
    (
        "src/amo/components/Search.js",
        "Keep the query when the category changes",
    ),
];

/// One repo of the sandbox: its name, its weeks' work and the scripts its checkout runs.
pub struct Seed<'a> {
    pub name: &'a str,
    pub work: &'a [(&'a str, &'a str)],
    /// Weeks between two pushes (and so two past tags).
    pub every_weeks: i64,
    /// Executable files of the first commit: (path, content).
    pub scripts: &'a [(&'a str, &'a str)],
}

/// The 2015 runbook's one repo.
pub const OLYMPIA: Seed<'static> = Seed {
    name: "olympia",
    work: WORK,
    every_weeks: 1,
    scripts: &[],
};

/// The server's `manage.py`: enough of one to run the one-off commands a release lists.
const MANAGE_PY: &str = "#!/bin/sh\n\
# The rehearsal's stand-in for Django's manage.py: it says what it would do.\n\
echo \"manage.py $*: done (rehearsal)\"\n";

/// The 2026 runbook's repos, pushed every other week.
pub const ADDONS_SERVER: Seed<'static> = Seed {
    name: "addons-server",
    work: WORK,
    every_weeks: 2,
    scripts: &[("manage.py", MANAGE_PY)],
};
pub const ADDONS_FRONTEND: Seed<'static> = Seed {
    name: "addons-frontend",
    work: FRONTEND_WORK,
    every_weeks: 2,
    scripts: &[],
};

/// How many past pushes have tags, and commits between two of them.
const PAST_PUSHES: i64 = 5;
const PER_WEEK: usize = 6;

/// The blocker's fix: where it goes and what it is called.
pub const FIX_FILE: &str = "src/search.py";
pub const FIX_SUBJECT: &str = "Fix the search crash on add-ons without a current version";

fn signature(who: usize, at: i64) -> Result<Signature<'static>> {
    let (name, email) = AUTHORS[who % AUTHORS.len()];
    Signature::new(name, email, &Time::new(at, 0)).context("a commit signature")
}

/// Adds one commit to `branch` of `repo` (bare or not: it writes objects, not the worktree):
/// `file` gains `line`.
pub fn commit(
    repo: &Repository,
    branch: &str,
    file: &str,
    line: &str,
    subject: &str,
    who: usize,
    at: i64,
) -> Result<Oid> {
    let refname = format!("refs/heads/{branch}");
    let parent = repo
        .find_reference(&refname)
        .ok()
        .and_then(|r| r.peel_to_commit().ok());
    let base_tree = parent.as_ref().map(|p| p.tree()).transpose()?;
    let old = base_tree
        .as_ref()
        .and_then(|t| t.get_path(Path::new(file)).ok())
        .and_then(|e| repo.find_blob(e.id()).ok())
        .map(|b| String::from_utf8_lossy(b.content()).into_owned())
        .unwrap_or_default();
    let blob = repo.blob(format!("{old}{line}\n").as_bytes())?;
    let tree = put(repo, base_tree.as_ref(), file, blob, 0o100644)?;
    let tree = repo.find_tree(tree)?;
    let sig = signature(who, at)?;
    let parents: Vec<&git2::Commit> = parent.iter().collect();
    repo.commit(Some(&refname), &sig, &sig, subject, &tree, &parents)
        .with_context(|| format!("committing \"{subject}\""))
}

/// The tree `base` with `path` (a/b/c) set to `blob`, a file of `mode`.
fn put(
    repo: &Repository,
    base: Option<&git2::Tree>,
    path: &str,
    blob: Oid,
    mode: i32,
) -> Result<Oid> {
    let mut builder = repo.treebuilder(base)?;
    match path.split_once('/') {
        None => {
            builder.insert(path, blob, mode)?;
        }
        Some((dir, rest)) => {
            let sub = base
                .and_then(|t| t.get_name(dir))
                .and_then(|e| repo.find_tree(e.id()).ok());
            let id = put(repo, sub.as_ref(), rest, blob, mode)?;
            builder.insert(dir, id, 0o040000)?;
        }
    }
    Ok(builder.write()?)
}

/// What was built.
pub struct Built {
    /// The tags made, oldest first.
    pub tags: Vec<String>,
    pub commits: usize,
}

/// Builds `upstream` (bare) with `seed`'s history and tags, and `clone` from it with
/// `upstream` as its remote. `tag_name(push_date)` names a push's tag as the runbook does;
/// `push_date` is this rehearsal's push (today), `tag_gap` days after the tag day.
pub fn build(
    seed: &Seed,
    upstream: &Path,
    clone: &Path,
    push_date: NaiveDate,
    tag_gap: i64,
    tag_name: &dyn Fn(NaiveDate) -> String,
) -> Result<Built> {
    let bare = Repository::init_bare(upstream)
        .with_context(|| format!("creating the bare remote {}", upstream.display()))?;
    bare.set_head("refs/heads/master")?;
    let day = |d: NaiveDate, hour: i64| {
        d.and_hms_opt(0, 0, 0)
            .map_or(0, |t| t.and_utc().timestamp() + hour * 3600)
    };
    let every = Duration::weeks(seed.every_weeks.max(1));
    let first_push = push_date - every * PAST_PUSHES as i32;
    let mut at = day(first_push - every, 9);
    commit(
        &bare,
        "master",
        "README.md",
        &format!("# {}\n\nThe add-ons site (a rehearsal copy).", seed.name),
        "Start the rehearsal's copy of the add-ons site",
        0,
        at,
    )?;
    for (path, content) in seed.scripts {
        script(&bare, path, content, at)?;
    }
    let mut commits = 1 + seed.scripts.len();
    let mut tags = Vec::new();
    let mut n = 0usize;
    for week in 0..=PAST_PUSHES {
        let this_push = first_push + every * week as i32;
        let tag_day = day(this_push - Duration::days(tag_gap), 10);
        // The week's work lands before its tag day (this week's: before now).
        let span = (tag_day - at).max(3600);
        for i in 0..PER_WEEK {
            let (file, subject) = seed.work[n % seed.work.len()];
            at += span / (PER_WEEK as i64 + 1);
            let who = (n * 7 + i) % AUTHORS.len();
            let subject = format!("{subject} (bug {})", 1_200_100 + n * 37);
            commit(&bare, "master", file, &subject, &subject, who, at)?;
            commits += 1;
            n += 1;
        }
        if week == PAST_PUSHES {
            break; // this week's push is tagged by the hero
        }
        let tip = bare.refname_to_id("refs/heads/master")?;
        let name = tag_name(this_push);
        bare.tag_lightweight(&name, &bare.find_object(tip, None)?, false)
            .with_context(|| format!("tagging {name}"))?;
        tags.push(name);
        at = tag_day + 3600;
    }
    let url = upstream
        .to_str()
        .context("the sandbox's path is not UTF-8")?
        .to_string();
    let mut fo = git2::FetchOptions::new();
    fo.download_tags(git2::AutotagOption::All);
    let repo = git2::build::RepoBuilder::new()
        .remote_create(|repo, name, url| {
            let _ = name; // the hero's remote is `upstream`, as the runbook says
            repo.remote("upstream", url)
        })
        .fetch_options(fo)
        .clone(&url, clone)
        .with_context(|| format!("cloning the sandbox's remote into {}", clone.display()))?;
    let mut cfg = repo.config()?;
    cfg.set_str("user.name", "Rehearsal Hero")?;
    cfg.set_str("user.email", "hero@example.org")?;
    Ok(Built { tags, commits })
}

/// Adds the executable `path` with `content` to master, in a commit of its own.
fn script(bare: &Repository, path: &str, content: &str, at: i64) -> Result<Oid> {
    let parent = bare.find_reference("refs/heads/master")?.peel_to_commit()?;
    let blob = bare.blob(content.as_bytes())?;
    let tree = bare.find_tree(put(bare, Some(&parent.tree()?), path, blob, 0o100755)?)?;
    let sig = signature(0, at)?;
    let subject = format!("Add {path} for the one-off commands of a push");
    bare.commit(
        Some("refs/heads/master"),
        &sig,
        &sig,
        &subject,
        &tree,
        &[&parent],
    )
    .with_context(|| format!("committing {path}"))
}

/// The blocker's fix lands on the remote's master (a developer merged it after the tag).
/// Once: a rehearsal resumed from its folder finds the fix there and lands nothing more.
pub fn land_fix(upstream: &Path) -> Result<Oid> {
    let bare = Repository::open_bare(upstream)?;
    let tip = bare.refname_to_id("refs/heads/master")?;
    // The fix is the tip, or under the little the rehearsal adds after it.
    let mut walk = bare.revwalk()?;
    walk.push(tip)?;
    for oid in walk.take(20) {
        let oid = oid?;
        if bare.find_commit(oid)?.summary()? == Some(FIX_SUBJECT) {
            return Ok(oid);
        }
    }
    let now = chrono::Utc::now().timestamp();
    commit(
        &bare,
        "master",
        FIX_FILE,
        "guard against add-ons without a current version",
        FIX_SUBJECT,
        1,
        now,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_history_has_weekly_tags_and_work_after_the_last_one() {
        let dir = tempfile::tempdir().unwrap();
        let push = NaiveDate::from_ymd_opt(2015, 9, 10).unwrap();
        let name = |d: NaiveDate| d.format("%Y.%m.%d").to_string();
        let built = build(
            &OLYMPIA,
            &dir.path().join("up.git"),
            &dir.path().join("olympia"),
            push,
            2,
            &name,
        )
        .unwrap();
        assert_eq!(built.tags.first().map(String::as_str), Some("2015.08.06"));
        assert_eq!(built.tags.last().map(String::as_str), Some("2015.09.03"));
        assert_eq!(built.commits, 1 + 6 * 6);
        let repo = Repository::open(dir.path().join("olympia")).unwrap();
        assert!(repo.find_remote("upstream").is_ok());
        assert!(repo.revparse_single("2015.09.03").is_ok());
        let mut walk = repo.revwalk().unwrap();
        let head = repo.refname_to_id("refs/remotes/upstream/master").unwrap();
        walk.push(head).unwrap();
        let tag = repo.revparse_single("2015.09.03").unwrap().id();
        walk.hide(tag).unwrap();
        assert_eq!(walk.count(), 6, "the week's work after the last tag");
        let fix = land_fix(&dir.path().join("up.git")).unwrap();
        let bare = Repository::open_bare(dir.path().join("up.git")).unwrap();
        assert_eq!(bare.refname_to_id("refs/heads/master").unwrap(), fix);
        // A resumed rehearsal lands it once: the fix is found, not made again.
        assert_eq!(land_fix(&dir.path().join("up.git")).unwrap(), fix);
        assert_eq!(bare.refname_to_id("refs/heads/master").unwrap(), fix);
    }
}
