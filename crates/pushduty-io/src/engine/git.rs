//! The git step kinds, through `crate::git` (libgit2 for the local repository, the operator's
//! `git` for the network). Each checks first
//! so that running it again is safe, and names the repo it works on in every message.

use std::sync::Arc;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use super::{Check, Confirmation, Executor, InputSpec, Inputs, Job, pick_checks};
use crate::git::state::CommitInfo;
use crate::git::tags::{self, TagFormat};
use crate::git::{self as g, Net, RepoSpec};
use crate::preview::{pick_oid, placeholder, repo_spec, repo_text};
use crate::runbook::model::{Outputs, Runbook, Step, StepKind};

/// The key of the cherry-pick step's input: the commits, oldest first.
pub const COMMITS: &str = "commits";

/// The checkout of the step's repo, or why there is none.
fn spec(job: &Job) -> Result<RepoSpec> {
    let repo = job.step.kind.repo().context("this step names no repo")?;
    repo_spec(&job.ctx, repo).with_context(|| {
        format!(
            "repo `{repo}` has no local checkout: set `repos.{repo}.path` in your config \
             (or pass --set repos.{repo}.path=/path/to/{repo})"
        )
    })
}

/// git's progress into the step's log; the step's cancel stops it.
fn net(job: &Job) -> Net<'_> {
    Net::new(|line| job.progress(line), || job.cancel.is_cancelled())
}

/// A text value of the session context for a repo (`tag`, `previous_tag`, ...).
fn repo_value(job: &Job, spec: &RepoSpec, field: &str) -> Option<String> {
    repo_text(&job.ctx, &spec.name, field)
}

pub struct Fetch;

impl Executor for Fetch {
    fn run(&self, job: &Job) -> Result<Outputs> {
        let spec = spec(job)?;
        let out = g::fetch::fetch_with(&spec, &mut net(job))?;
        for t in &out.new_tags {
            job.progress(format!("new tag {t}"));
        }
        let branch = match &out.branch {
            g::fetch::BranchUpdate::UpToDate => format!("{} is up to date", spec.branch),
            g::fetch::BranchUpdate::FastForwarded { from, to, .. } => format!(
                "{} fast-forwarded {}..{}",
                spec.branch,
                g::spec::short_sha(*from),
                g::spec::short_sha(*to)
            ),
            g::fetch::BranchUpdate::Ahead { ahead } => format!(
                "{} has {} not on {}: left as it is",
                spec.branch,
                crate::words::count(*ahead as u64, "local commit"),
                spec.remote
            ),
            _ => String::new(),
        };
        if !branch.is_empty() {
            job.progress(branch);
        }
        let problems = out.problems();
        if !problems.is_empty() {
            bail!("{}: {}", spec.name, problems.join("; "));
        }
        Ok(Outputs::new())
    }
}

/// `git.tag`: this push's tag on the branch tip or on the cherry-pick result. A tag already
/// at that commit is done; at another commit it is an error, except for a revision this push
/// made itself (cherry-picks, or a change of strategy after a re-tag), where the new commit
/// gets the next free `-N`: a tag is never moved.
pub struct Tag(pub TagFormat);

/// What a tag step would do, read from the repo: the commit, the name, and the facts.
struct TagPlan {
    target: git2::Oid,
    name: String,
    how: g::tag::TagHow,
    checks: Vec<Check>,
}

impl Tag {
    fn plan(&self, step: &Step, ctx: &Value) -> Result<TagPlan> {
        let StepKind::GitTag(t) = &step.kind else {
            bail!("not a git.tag step");
        };
        let spec = repo_spec(ctx, &t.repo).with_context(|| no_checkout(&t.repo))?;
        let planned =
            repo_text(ctx, &t.repo, "tag").context("this push has no tag for the repo")?;
        let repo = spec.open()?;
        let mut checks = Vec::new();
        let target = if t.from == "cherry_pick" {
            let oid = pick_oid(ctx, &t.repo)
                .context("no cherry-pick result yet: run the cherry-pick step first")?;
            let base = crate::preview::picks(ctx, &t.repo)["base"]
                .as_str()
                .unwrap_or("the base");
            checks.push(Check::ok(format!(
                "tags the cherry-picks ({}) made on {base}",
                g::spec::short_sha(oid)
            )));
            oid
        } else {
            match g::precheck::branch_sync(&repo, &spec) {
                Ok(s) => checks.push(sync_check(&spec, &s)),
                Err(e) => checks.push(Check::fail(format!("{e:#}"))),
            }
            g::spec::branch_tip(&repo, &spec)?.id()
        };
        let dirty = g::state::dirty_count(&repo).unwrap_or(0);
        if dirty > 0 {
            checks.push(Check::ok(format!(
                "{dirty} uncommitted file(s) in the checkout: they are not part of the tag"
            )));
        }
        let made: Vec<String> = ctx["repos"][&t.repo]["made_tags"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let name = match g::spec::local_tag_commit(&repo, &planned)? {
            Some(existing) if existing == target => {
                checks.push(Check::ok(format!(
                    "{planned} is at this commit already: nothing to make"
                )));
                planned
            }
            Some(existing) if t.from == "cherry_pick" || made.contains(&planned) => {
                let all = tags::repo_release_tags(&repo, &self.0)?;
                let key = self
                    .0
                    .parse(&planned)
                    .map(|t| t.key)
                    .context("the push tag is not a release tag")?;
                let next = tags::next_free(&self.0, &all, key);
                checks.push(Check::ok(format!(
                    "{planned} is an earlier revision of this push (at {}): this makes {next}",
                    g::spec::short_sha(existing)
                )));
                next
            }
            Some(existing) => {
                checks.push(Check::fail(format!(
                    "tag {planned} exists already at {}, not at {}; a tag is never moved",
                    g::spec::short_sha(existing),
                    g::spec::short_sha(target)
                )));
                planned
            }
            None => planned,
        };
        match g::precheck::shipping(&repo, &self.0, &name, target)? {
            Ok(text) => checks.push(Check::ok(text)),
            Err(text) => checks.push(Check::fail(text)),
        }
        let message = match &t.message {
            Some(m) => Some(
                crate::templates::render(m, ctx).context("the tag's `message` cannot be made")?,
            ),
            None => None,
        };
        let how = g::tag::TagHow::read(&repo, message);
        if let Some(why) = how.signed_by {
            checks.push(Check::ok(format!(
                "signed by your git (your config sets {why})"
            )));
        }
        Ok(TagPlan {
            target,
            name,
            how,
            checks,
        })
    }
}

/// The branch against the remote's: equal is the only state worth tagging.
fn sync_check(spec: &RepoSpec, s: &g::precheck::BranchSync) -> Check {
    let (b, r) = (&spec.branch, format!("{}/{}", spec.remote, spec.branch));
    match (s.ahead, s.behind) {
        (0, 0) => Check::ok(format!("{b} is at {r} ({})", g::spec::short_sha(s.local))),
        (0, n) => Check::fail(format!(
            "{b} is {} behind {r}: tagging it would ship a stale {b} (fetch first; \
             a clean checkout is fast-forwarded)",
            crate::words::count(n as u64, "commit")
        )),
        (n, 0) => Check::fail(format!(
            "{b} has {} that {r} does not have: the tag would ship them",
            crate::words::count(n as u64, "local commit")
        )),
        (a, n) => Check::fail(format!(
            "{b} and {r} have diverged ({}, {})",
            crate::words::count(a as u64, "local commit"),
            crate::words::count(n as u64, "remote commit")
        )),
    }
}

fn no_checkout(repo: &str) -> String {
    format!(
        "repo `{repo}` has no local checkout: set `repos.{repo}.path` in your config \
         (or pass --set repos.{repo}.path=/path/to/{repo})"
    )
}

/// The gotchas of the commits a cherry-pick applied, seen before the tag makes them a
/// release (whichever way they came). Only where a person reads them (the checks and the
/// confirmation), not in the previews redrawn on every change of the repository.
fn pick_review(step: &Step, ctx: &Value) -> Vec<Check> {
    let StepKind::GitTag(t) = &step.kind else {
        return Vec::new();
    };
    if t.from != "cherry_pick" {
        return Vec::new();
    }
    let Some(repo) = repo_spec(ctx, &t.repo).and_then(|s| s.open().ok()) else {
        return Vec::new();
    };
    let picks = crate::preview::picks(ctx, &t.repo);
    let base = picks["base"].as_str().unwrap_or("the base");
    let applied: Vec<String> = picks["applied"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| p["original"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    match g::spec::local_tag_commit(&repo, base) {
        Ok(Some(at)) if !applied.is_empty() => {
            pick_checks::checks(&repo, at, &applied, &pick_checks::migrations(ctx, &t.repo))
        }
        Ok(_) => Vec::new(),
        Err(e) => vec![Check::fail(format!("{e:#}"))],
    }
}

impl Executor for Tag {
    fn preview(&self, step: &Step, rb: &Runbook, ctx: &Value) -> String {
        let generic = crate::preview::preview(step, rb, ctx);
        let Some(spec) = step.kind.repo().and_then(|r| repo_spec(ctx, r)) else {
            return generic;
        };
        match self.plan(step, ctx) {
            Ok(p) => g::tag::preview(&spec, &p.name, Some(p.target), &p.how),
            Err(e) => format!("{generic}\n(cannot tag: {e:#})"),
        }
    }

    fn check(&self, step: &Step, ctx: &Value) -> Vec<Check> {
        match self.plan(step, ctx) {
            Ok(mut p) => {
                p.checks.extend(pick_review(step, ctx));
                p.checks
            }
            Err(e) => vec![Check::fail(format!("{e:#}"))],
        }
    }

    fn pins(&self) -> bool {
        true
    }

    /// The tag and its commit as the repository has them now: shown, and carried to `run`.
    fn confirm(&self, step: &Step, rb: &Runbook, ctx: &Value) -> Confirmation {
        let spec = step.kind.repo().and_then(|r| repo_spec(ctx, r));
        match (self.plan(step, ctx), spec) {
            (Ok(mut p), Some(spec)) => Confirmation {
                checks: {
                    p.checks.extend(pick_review(step, ctx));
                    std::mem::take(&mut p.checks)
                },
                shown: Some(g::tag::preview(&spec, &p.name, Some(p.target), &p.how)),
                pin: json!({
                    "tag": p.name,
                    "commit": p.target.to_string(),
                    "message": p.how.message,
                    "signed_by": p.how.signed_by,
                }),
            },
            (plan, _) => {
                let why = plan
                    .err()
                    .map_or_else(|| no_checkout("?"), |e| format!("{e:#}"));
                // Why it cannot is the failed check; nothing is pinned, so not even an
                // override acts on what was not shown.
                Confirmation {
                    shown: Some(crate::preview::preview(step, rb, ctx)),
                    pin: Value::Null,
                    checks: vec![Check::fail(why)],
                }
            }
        }
    }

    fn run(&self, job: &Job) -> Result<Outputs> {
        let spec = spec(job)?;
        let planned = repo_value(job, &spec, "tag").context("this push has no tag for the repo")?;
        let plan = self.plan(&job.step, &job.ctx)?;
        if let Some(pinned) = &job.pinned {
            held_to(&pinned.pin, &plan.name, plan.target, &spec.branch, "tagged")?;
            // The tag is made as shown too: the message, and signed or not.
            let made_as = json!({ "message": plan.how.message, "signed_by": plan.how.signed_by });
            if pinned.pin["message"] != made_as["message"]
                || pinned.pin["signed_by"] != made_as["signed_by"]
            {
                bail!(
                    "how the tag is made changed after you confirmed (its message, or your git's \
                     signing settings): nothing was tagged; look again"
                );
            }
        }
        if plan.name != planned {
            job.progress(format!(
                "{planned} is taken by an earlier revision of this push: tagging {}",
                plan.name
            ));
        }
        let outcome = g::tag::tag_as(&spec, &plan.name, Some(plan.target), &plan.how, &|| {
            job.cancel.is_cancelled()
        })?;
        let (oid, msg) = match &outcome {
            g::tag::TagOutcome::Created { name, oid } => (
                *oid,
                format!("tagged {name} at {}", g::spec::short_sha(*oid)),
            ),
            g::tag::TagOutcome::AlreadyThere { name, oid } => (
                *oid,
                format!(
                    "{name} is already at {}: nothing to do",
                    g::spec::short_sha(*oid)
                ),
            ),
        };
        job.progress(msg);
        let mut out = Outputs::new();
        out.insert("tag_commit".into(), json!(oid.to_string()));
        // The engine makes this the repo's tag for the rest of the push (push, compare, notes).
        out.insert(TAG_NAME.into(), json!(plan.name));
        // What was known about the picks when they became a release stays with the tag.
        let review = pick_review(&job.step, &job.ctx);
        if !review.is_empty() {
            out.insert(PICK_CHECKS.into(), json!(review));
        }
        Ok(out)
    }
}

/// A confirmation pinned to a local tag (`which`: the checkout and the tag's name) and the
/// commit it names now, shown after `preview`. A tag that cannot be read pins nothing, so the
/// step refuses to act on it ([`held_to`]).
fn pinned_tag(
    checks: Vec<Check>,
    preview: String,
    which: impl FnOnce() -> Result<(RepoSpec, String)>,
) -> Confirmation {
    let read = which().and_then(|(spec, name)| {
        let at = g::spec::local_tag_commit(&spec.open()?, &name)?
            .with_context(|| format!("tag {name} is not in the checkout"))?;
        Ok((name, at))
    });
    match read {
        Ok((name, at)) => Confirmation {
            shown: Some(format!(
                "{preview}\n({name} is at {})",
                g::spec::short_sha(at)
            )),
            pin: json!({ "tag": name, "commit": at.to_string() }),
            checks,
        },
        Err(_) => Confirmation {
            shown: Some(preview),
            pin: Value::Null,
            checks,
        },
    }
}

/// Refuses to act unless the tag and commit are those the confirmation showed (`pin`): the
/// repository may have moved while the dialog was open. `what` names the act not done.
fn held_to(pin: &Value, name: &str, now: git2::Oid, branch: &str, what: &str) -> Result<()> {
    let (Some(tag), Some(commit)) = (pin["tag"].as_str(), pin["commit"].as_str()) else {
        bail!("the confirmation could not read what to act on, so nothing was {what}; look again");
    };
    if tag != name {
        bail!(
            "the tag to act on is now {name}, not {tag} as confirmed: nothing was {what}; look again"
        );
    }
    if commit != now.to_string() {
        bail!(
            "{branch} moved from {} to {} after you confirmed: nothing was {what}; look again",
            commit.get(..7).unwrap_or(commit),
            g::spec::short_sha(now)
        );
    }
    Ok(())
}

/// The output of `git.tag` that names the tag it made (or found).
pub const TAG_NAME: &str = "tag_name";

/// The output of a `git.tag` of cherry-picks: the checks of the picks it tagged (each
/// `ok`, `warn`, `text`), as its confirmation showed them.
pub const PICK_CHECKS: &str = "pick_checks";

pub struct PushTag(pub TagFormat);

impl Executor for PushTag {
    fn check(&self, step: &Step, ctx: &Value) -> Vec<Check> {
        let facts = || -> Result<Vec<Check>> {
            let repo_name = step.kind.repo().context("this step names no repo")?;
            let spec = repo_spec(ctx, repo_name).with_context(|| no_checkout(repo_name))?;
            let name =
                repo_text(ctx, repo_name, "tag").context("this push has no tag for the repo")?;
            let repo = spec.open()?;
            let Some(at) = g::spec::local_tag_commit(&repo, &name)? else {
                return Ok(vec![Check::fail(format!(
                    "tag {name} does not exist in {repo_name}: run the tag step first"
                ))]);
            };
            let mut out = vec![Check::ok(format!(
                "{name} is at {}",
                g::spec::short_sha(at)
            ))];
            out.push(match g::precheck::shipping(&repo, &self.0, &name, at)? {
                Ok(text) => Check::ok(text),
                Err(text) => Check::fail(text),
            });
            Ok(out)
        };
        facts().unwrap_or_else(|e| vec![Check::fail(format!("{e:#}"))])
    }

    fn pins(&self) -> bool {
        true
    }

    /// The tag to push and its commit as the checkout has them now.
    fn confirm(&self, step: &Step, rb: &Runbook, ctx: &Value) -> Confirmation {
        pinned_tag(self.check(step, ctx), self.preview(step, rb, ctx), || {
            let repo_name = step.kind.repo().context("this step names no repo")?;
            let spec = repo_spec(ctx, repo_name).with_context(|| no_checkout(repo_name))?;
            let name =
                repo_text(ctx, repo_name, "tag").context("this push has no tag for the repo")?;
            Ok((spec, name))
        })
    }

    fn run(&self, job: &Job) -> Result<Outputs> {
        let StepKind::GitPushTag(p) = &job.step.kind else {
            bail!("not a git.push_tag step");
        };
        let mut spec = spec(job)?;
        if let Some(remote) = &p.remote {
            spec.remote = remote.clone();
        }
        let name = repo_value(job, &spec, "tag").context("this push has no tag for the repo")?;
        if let Some(pinned) = &job.pinned {
            let at = g::spec::local_tag_commit(&spec.open()?, &name)?.with_context(|| {
                format!("tag {name} does not exist any more: nothing was pushed")
            })?;
            held_to(&pinned.pin, &name, at, &format!("tag {name}"), "pushed")?;
        }
        match g::push::push_tag_with(&spec, &name, &mut net(job))? {
            g::push::PushOutcome::Pushed { name, oid } => job.progress(format!(
                "pushed {name} ({}) to {}",
                g::spec::short_sha(oid),
                spec.remote
            )),
            g::push::PushOutcome::AlreadyThere { name, oid } => job.progress(format!(
                "{} has {name} at {} already: nothing sent",
                spec.remote,
                g::spec::short_sha(oid)
            )),
        }
        Ok(Outputs::new())
    }
}

pub struct CherryPick(pub TagFormat);

impl CherryPick {
    /// Where the picks go, and in which words to say it: the newest revision of this push's
    /// tag when there is one (a blocker after tagging: only the new fixes are listed, and
    /// what the base has already is left out), else the release production runs now.
    fn base(&self, ctx: &Value, spec: &RepoSpec) -> Result<(String, &'static str)> {
        let repo = spec.open()?;
        let all = tags::repo_release_tags(&repo, &self.0)?;
        let push_key = repo_text(ctx, &spec.name, "tag")
            .and_then(|t| self.0.parse(&t))
            .map(|t| t.key);
        if let Some(key) = push_key {
            if let Some(newest) = all.iter().find(|t| t.key == key) {
                return Ok((newest.name.clone(), "this push's newest tag"));
            }
            if let Some(prev) = tags::previous(&all, key) {
                return Ok((prev.name.clone(), "the release production runs now"));
            }
        }
        bail!(
            "{}: no release tag to start the cherry-picks from",
            spec.name
        )
    }

    /// The commits that could be picked, oldest first: on the branch, not in the base; with
    /// a line saying where they come from.
    fn candidates(&self, ctx: &Value, repo_name: &str) -> Result<(String, Vec<CommitInfo>)> {
        // The prompt scrolls; beyond this many the operator types the older shas.
        const SHOWN: usize = 100;
        let spec = repo_spec(ctx, repo_name).with_context(|| no_checkout(repo_name))?;
        let (base, what) = self.base(ctx, &spec)?;
        let repo = spec.open()?;
        let from = g::spec::local_tag_commit(&repo, &base)?
            .with_context(|| format!("tag {base} is not in the checkout"))?;
        // What upstream has (the background fetch keeps it current), else the local branch:
        // a blocker's fix lands upstream, and the local branch is never moved for it.
        let to = match repo.refname_to_id(&spec.tracking_ref()) {
            Ok(id) => id,
            Err(_) => g::spec::branch_tip(&repo, &spec)?.id(),
        };
        let (list, total) = g::precheck::candidates(&repo, from, to, SHOWN)?;
        let header = format!(
            "on {} since {base} ({what}), oldest first{}:",
            spec.branch,
            if total > list.len() {
                format!("; the newest {} of {total}", list.len())
            } else {
                String::new()
            }
        );
        Ok((header, list))
    }

    /// The equivalent commands for picking `commits` onto the base, and where the base is.
    fn preview_of(&self, step: &Step, rb: &Runbook, ctx: &Value, commits: &[String]) -> String {
        let generic = crate::preview::preview(step, rb, ctx);
        let Some(spec) = step.kind.repo().and_then(|r| repo_spec(ctx, r)) else {
            return generic;
        };
        match self.base(ctx, &spec) {
            Ok((base, what)) => format!(
                "{}\n(onto {base}, {what}; done in memory: your checkout is not touched{})",
                g::cherry_pick::preview(&spec, &base, commits),
                if what.starts_with("this push") {
                    "; list only the new fixes: commits it has already are left out"
                } else {
                    ""
                }
            ),
            Err(e) => format!("{generic}\n(cannot pick: {e:#})"),
        }
    }

    /// What to know about picking `commits` onto the base (see [`pick_checks`]) and the tag
    /// they then get; with the commits' full shas, in the order given.
    fn review(
        &self,
        ctx: &Value,
        repo_name: &str,
        commits: &[String],
    ) -> Result<(Vec<Check>, Vec<String>)> {
        let spec = repo_spec(ctx, repo_name).with_context(|| no_checkout(repo_name))?;
        let (base, _) = self.base(ctx, &spec)?;
        let repo = spec.open()?;
        let shas = resolve_all(&repo, commits)?;
        let at = g::spec::local_tag_commit(&repo, &base)?
            .with_context(|| format!("tag {base} is not in the checkout"))?;
        let mut checks =
            pick_checks::checks(&repo, at, commits, &pick_checks::migrations(ctx, repo_name));
        let key = repo_text(ctx, repo_name, "tag")
            .and_then(|t| self.0.parse(&t))
            .map(|t| t.key);
        if let Some(key) = key {
            let all = tags::repo_release_tags(&repo, &self.0)?;
            checks.push(Check::ok(format!(
                "the tag step then tags them {}, the next free name for this push",
                tags::next_free(&self.0, &all, key)
            )));
        }
        Ok((checks, shas))
    }
}

/// The commits of a cherry-pick's input, in the order listed.
fn listed_commits(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// The full shas the picks name now.
fn resolve_all(repo: &git2::Repository, commits: &[String]) -> Result<Vec<String>> {
    commits
        .iter()
        .map(|c| g::cherry_pick::find_pick(repo, c).map(|c| c.id().to_string()))
        .collect()
}

impl Executor for CherryPick {
    fn inputs(&self, step: &Step, ctx: &Value) -> Vec<InputSpec> {
        let mut spec = InputSpec::text(
            COMMITS,
            "commits to cherry-pick, oldest first (short shas or GitHub commit links)".into(),
            true,
        );
        // The fixes of blockers marked `cherry-pick` come first, ready to confirm: after a
        // blocker they are what this step is reopened for.
        let fixes: Vec<&str> = ctx[super::blockers::BLOCKER_COMMITS]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if !fixes.is_empty() {
            let joined = fixes.join(" ");
            spec.hints.push(format!(
                "the blockers' fixes (from the blockers step): {joined}"
            ));
            spec.default = Some(joined);
        }
        if let Some(repo) = step.kind.repo() {
            match self.candidates(ctx, repo) {
                Ok((header, commits)) => {
                    spec.hints.push(header);
                    spec.commits = commits;
                }
                Err(e) => spec.hints.push(format!("({e:#})")),
            }
        }
        vec![spec]
    }

    fn preview(&self, step: &Step, rb: &Runbook, ctx: &Value) -> String {
        self.preview_of(step, rb, ctx, &[placeholder("the commits you list")])
    }

    fn pins(&self) -> bool {
        true
    }

    /// The base the picks go onto, read now: shown with its commit and carried to `run`.
    fn confirm(&self, step: &Step, rb: &Runbook, ctx: &Value) -> Confirmation {
        self.confirm_given(step, rb, ctx, &Inputs::new())
    }

    /// With the commits given, also what to know about picking them and the tag they get;
    /// they are shown in the order they are applied, and pinned so.
    fn confirm_given(
        &self,
        step: &Step,
        rb: &Runbook,
        ctx: &Value,
        given: &Inputs,
    ) -> Confirmation {
        let commits = given
            .get(COMMITS)
            .map(|s| listed_commits(s))
            .unwrap_or_default();
        let mut checks = self.check(step, ctx);
        let mut resolved = None;
        if let (false, Some(repo)) = (commits.is_empty(), step.kind.repo()) {
            match self.review(ctx, repo, &commits) {
                Ok((more, shas)) => {
                    checks.extend(more);
                    resolved = Some(shas);
                }
                Err(e) => checks.push(Check::fail(format!("{e:#}"))),
            }
        }
        let shown = if commits.is_empty() {
            self.preview(step, rb, ctx)
        } else {
            self.preview_of(step, rb, ctx, &commits)
        };
        let mut c = pinned_tag(checks, shown, || {
            let repo_name = step.kind.repo().context("this step names no repo")?;
            let spec = repo_spec(ctx, repo_name).with_context(|| no_checkout(repo_name))?;
            let (base, _) = self.base(ctx, &spec)?;
            Ok((spec, base))
        });
        if let (Some(shas), Value::Object(pin)) = (resolved, &mut c.pin) {
            pin.insert(COMMITS.into(), json!(shas));
        }
        c
    }

    fn run(&self, job: &Job) -> Result<Outputs> {
        let spec = spec(job)?;
        let commits = job
            .inputs
            .get(COMMITS)
            .map(|s| listed_commits(s))
            .unwrap_or_default();
        if commits.is_empty() {
            bail!("no commits given");
        }
        let (base, what) = self.base(&job.ctx, &spec)?;
        if let Some(pinned) = &job.pinned {
            let repo = spec.open()?;
            let at = g::spec::local_tag_commit(&repo, &base)?.with_context(|| {
                format!("tag {base} is not in the checkout: nothing was picked")
            })?;
            held_to(&pinned.pin, &base, at, &format!("tag {base}"), "picked")?;
            if let Some(shown) = pinned.pin[COMMITS].as_array() {
                let now = resolve_all(&repo, &commits)?;
                if shown
                    .iter()
                    .map(Value::as_str)
                    .ne(now.iter().map(|s| Some(s.as_str())))
                {
                    bail!(
                        "the commits to pick are not those confirmed: nothing was picked; look again"
                    );
                }
            }
        }
        job.progress(format!("starting from {base} ({what})"));
        let out = g::cherry_pick::cherry_pick(&spec, &base, &commits)?;
        for (oid, why) in &out.skipped {
            job.progress(format!("left out {}: {why}", g::spec::short_sha(*oid)));
        }
        let applied: Vec<Value> = out
            .applied
            .iter()
            .map(|a| {
                job.progress(format!(
                    "applied {} as {}: {}",
                    g::spec::short_sha(a.original),
                    g::spec::short_sha(a.new),
                    a.subject
                ));
                json!({ "original": a.original.to_string(), "new": a.new.to_string(), "subject": a.subject })
            })
            .collect();
        let mut o = Outputs::new();
        o.insert(
            "cherry_picks".into(),
            json!({ "repo": spec.name, "base": base, "result": out.result.to_string(), "applied": applied }),
        );
        Ok(o)
    }
}

pub struct Compare(pub TagFormat);

impl Executor for Compare {
    fn run(&self, job: &Job) -> Result<Outputs> {
        let spec = spec(job)?;
        let tag = repo_value(job, &spec, "tag").context("this push has no tag for the repo")?;
        let repo = spec.open()?;
        // What ships is the tag once it exists; before tagging, the branch that will be tagged.
        let to = match repo.find_reference(&format!("refs/tags/{tag}")) {
            Ok(_) => tag.clone(),
            Err(_) => spec.branch.clone(),
        };
        // The release before this push, read again: a fetch may have brought it.
        let all = tags::repo_release_tags(&repo, &self.0)?;
        let previous = self
            .0
            .parse(&tag)
            .and_then(|t| tags::previous(&all, t.key))
            .map(|t| t.name.clone());
        let cmp = match &previous {
            Some(p) => g::compare::compare(&spec, &self.0, Some(p), &to)?,
            None => {
                job.progress("no release before this push: everything ships");
                g::compare::since_start(&spec, &to)?
            }
        };
        job.progress(format!(
            "{} {} in {to}",
            crate::words::count(cmp.commits.len() as u64, "commit"),
            if cmp.commits.len() == 1 {
                "ships"
            } else {
                "ship"
            }
        ));
        let url = previous.and_then(|p| spec.compare_url(&p, &tag));
        if let Some(u) = &url {
            job.progress(u.clone());
        }
        let mut o = Outputs::new();
        o.insert(
            "commits".into(),
            serde_json::to_value(&cmp.commits).context("encoding the commits")?,
        );
        o.insert("shipping_compare_url".into(), json!(url));
        Ok(o)
    }
}

impl super::Execute for pushduty_core::runbook::kinds::git::Fetch {
    fn executor(_: &super::Setup<'_>) -> Arc<dyn Executor> {
        Arc::new(Fetch)
    }
}

impl super::Execute for pushduty_core::runbook::kinds::git::Tag {
    fn executor(s: &super::Setup<'_>) -> Arc<dyn Executor> {
        Arc::new(Tag(s.format.clone()))
    }
}

impl super::Execute for pushduty_core::runbook::kinds::git::PushTag {
    fn executor(s: &super::Setup<'_>) -> Arc<dyn Executor> {
        Arc::new(PushTag(s.format.clone()))
    }
}

impl super::Execute for pushduty_core::runbook::kinds::git::CherryPick {
    fn executor(s: &super::Setup<'_>) -> Arc<dyn Executor> {
        Arc::new(CherryPick(s.format.clone()))
    }
}

impl super::Execute for pushduty_core::runbook::kinds::git::Compare {
    fn executor(s: &super::Setup<'_>) -> Arc<dyn Executor> {
        Arc::new(Compare(s.format.clone()))
    }
}
