//! The git step kinds, through `crate::git` (git2; never the `git` command). Each checks first
//! so that running it again is safe, and names the repo it works on in every message.

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use super::{Executor, InputSpec, Job};
use crate::git::tags::{self, TagFormat};
use crate::git::{self as g, Credentials, RepoSpec};
use crate::preview::{pick_result, repo_spec, repo_text};
use crate::runbook::model::{Outputs, Step, StepKind};

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

/// A text value of the session context for a repo (`tag`, `previous_tag`, ...).
fn repo_value(job: &Job, spec: &RepoSpec, field: &str) -> Option<String> {
    repo_text(&job.ctx, &spec.name, field)
}

pub struct Fetch;

impl Executor for Fetch {
    fn run(&self, job: &Job) -> Result<Outputs> {
        let spec = spec(job)?;
        let out = g::fetch::fetch(&spec, &Credentials::from_environment())?;
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
                "{} has {ahead} local commit(s) not on {}: left as it is",
                spec.branch, spec.remote
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
/// at that commit is done; at another commit it is an error, except after cherry-picks,
/// where the result gets the next free `-N` revision: a tag is never moved.
pub struct Tag(pub TagFormat);

impl Executor for Tag {
    fn preview(&self, step: &Step, loaded: &crate::runbook::Loaded, ctx: &Value) -> String {
        let generic = crate::preview::preview(step, &loaded.runbook, ctx);
        let (StepKind::GitTag(t), Some(repo)) = (&step.kind, step.kind.repo()) else {
            return generic;
        };
        let Some(spec) = repo_spec(ctx, repo) else {
            return generic;
        };
        match (
            tag_target(t.from.as_str(), ctx),
            repo_text(ctx, repo, "tag"),
        ) {
            (Ok(target), Some(name)) => match self.effective_name(&spec, &name, target) {
                Ok(name) => g::tag::preview(&spec, &name, target),
                Err(e) => format!("{generic}\n(cannot tag: {e:#})"),
            },
            _ => generic,
        }
    }

    fn run(&self, job: &Job) -> Result<Outputs> {
        let StepKind::GitTag(t) = &job.step.kind else {
            bail!("not a git.tag step");
        };
        let spec = spec(job)?;
        let planned = repo_value(job, &spec, "tag").context("this push has no tag for the repo")?;
        let target = tag_target(&t.from, &job.ctx)?;
        let name = self.effective_name(&spec, &planned, target)?;
        if name != planned {
            job.progress(format!(
                "{planned} is taken by an earlier revision of this push: tagging {name}"
            ));
        }
        let outcome = g::tag::tag(&spec, &name, target)?;
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
        out.insert(TAG_NAME.into(), json!(name));
        Ok(out)
    }
}

/// What a tag step tags: the branch tip (`None`) or the cherry-pick result.
fn tag_target(from: &str, ctx: &Value) -> Result<Option<git2::Oid>> {
    if from != "cherry_pick" {
        return Ok(None);
    }
    pick_result(ctx)
        .map(Some)
        .context("no cherry-pick result yet: run the cherry-pick step first")
}

/// The output of `git.tag` that names the tag it made (or found).
pub const TAG_NAME: &str = "tag_name";

impl Tag {
    /// The name to tag with: the planned one, unless cherry-picks must become a new revision
    /// because the planned name is already on another commit. Never a moved tag.
    fn effective_name(
        &self,
        spec: &RepoSpec,
        planned: &str,
        target: Option<git2::Oid>,
    ) -> Result<String> {
        let repo = spec.open()?;
        let existing = match repo.find_reference(&format!("refs/tags/{planned}")) {
            Ok(r) => r
                .peel_to_commit()
                .with_context(|| format!("tag {planned} does not point at a commit"))?
                .id(),
            Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(planned.to_string()),
            Err(e) => return Err(e).with_context(|| format!("reading tag {planned}")),
        };
        let Some(target) = target else {
            // On the branch the tag step itself reports "already there" or refuses to move it.
            return Ok(planned.to_string());
        };
        if existing == target {
            return Ok(planned.to_string());
        }
        let all = tags::repo_release_tags(&repo, &self.0)?;
        let date = self
            .0
            .parse(planned)
            .map(|t| t.date)
            .context("the push tag is not a release tag")?;
        Ok(tags::next_free(&self.0, &all, date))
    }
}

pub struct PushTag;

impl Executor for PushTag {
    fn run(&self, job: &Job) -> Result<Outputs> {
        let StepKind::GitPushTag(p) = &job.step.kind else {
            bail!("not a git.push_tag step");
        };
        let mut spec = spec(job)?;
        if let Some(remote) = &p.remote {
            spec.remote = remote.clone();
        }
        let name = repo_value(job, &spec, "tag").context("this push has no tag for the repo")?;
        match g::push::push_tag(&spec, &name, &Credentials::from_environment())? {
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
    /// Where the picks start: the newest revision of this push's tag when there is one (a
    /// re-tag after a blocker fix), else the release production runs now.
    fn base(&self, job: &Job, spec: &RepoSpec) -> Result<String> {
        let repo = spec.open()?;
        let all = tags::repo_release_tags(&repo, &self.0)?;
        let push_date = repo_value(job, spec, "tag")
            .and_then(|t| self.0.parse(&t))
            .map(|t| t.date);
        if let Some(date) = push_date {
            if let Some(newest) = all.iter().find(|t| t.date == date) {
                return Ok(newest.name.clone());
            }
            if let Some(prev) = tags::previous(&all, date) {
                return Ok(prev.name.clone());
            }
        }
        bail!(
            "{}: no release tag to start the cherry-picks from",
            spec.name
        )
    }
}

impl Executor for CherryPick {
    fn inputs(&self, _step: &Step, _ctx: &Value) -> Vec<InputSpec> {
        vec![InputSpec::text(
            COMMITS,
            "commits to cherry-pick, oldest first (short shas or GitHub commit links)".into(),
            true,
        )]
    }

    fn run(&self, job: &Job) -> Result<Outputs> {
        let spec = spec(job)?;
        let commits: Vec<String> = job
            .inputs
            .get(COMMITS)
            .map(|s| {
                s.split(|c: char| c.is_whitespace() || c == ',')
                    .filter(|w| !w.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        if commits.is_empty() {
            bail!("no commits given");
        }
        let base = self.base(job, &spec)?;
        job.progress(format!("starting from {base}"));
        let out = g::cherry_pick::cherry_pick(&spec, &base, &commits)?;
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
            .and_then(|t| tags::previous(&all, t.date))
            .map(|t| t.name.clone());
        let cmp = match &previous {
            Some(p) => g::compare::compare(&spec, &self.0, Some(p), &to)?,
            None => {
                job.progress("no release before this push: everything ships");
                g::compare::since_start(&spec, &to)?
            }
        };
        job.progress(format!("{} commit(s) ship in {to}", cmp.commits.len()));
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
