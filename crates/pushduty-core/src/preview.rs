//! One line per step that says exactly what it would do, with the session's values filled in
//! (the git steps' exact command lines are added by the I/O layer's preview). Shown by `plan`, by `render`, in the TUI's detail pane and in the confirm dialog. The same
//! text, resolved strictly (every value known), is a step's *action*: journaled when it runs
//! and compared later to tell whether "done" still holds.

use std::cell::RefCell;

use anyhow::{Result, bail};
use serde_json::Value;

use crate::runbook::model::*;
use crate::templates::render;

/// Renders a templated string; on failure keeps the text as written and says why, so a
/// preview never fails and never hides a refused template.
pub fn fill(text: &str, ctx: &Value) -> String {
    render(text, ctx).unwrap_or_else(|e| {
        format!(
            "{text} {}",
            placeholder(&format!(
                "cannot be filled in: {}",
                first_line(&format!("{e:#}"))
            ))
        )
    })
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or_default()
}

/// How a value that is not known yet shows in a preview: marked so that nobody takes it for
/// the real thing. It never reaches a command: running needs every value known.
pub fn placeholder(name: &str) -> String {
    format!("\u{27e8}{name}\u{27e9}")
}

/// The name of the value a failed render missed, from tera's message.
pub fn missing_name(error: &str) -> Option<&str> {
    let rest = &error[error.find("Variable `")? + "Variable `".len()..];
    Some(&rest[..rest.find('`')?])
}

/// A shell step's command with every substituted value quoted as one shell word. A value
/// that is not known yet fails the render, naming it.
pub fn command_line(command: &str, ctx: &Value) -> Result<String> {
    crate::templates::render_escaped(command, ctx, shell_quote).map_err(|e| {
        let msg = format!("{e:#}");
        match missing_name(&msg) {
            Some(name) => anyhow::anyhow!("`{name}` is not set yet: the command was not run"),
            None => anyhow::anyhow!("the command does not render: {msg}"),
        }
    })
}

/// Fills templates for one description, keeping what could not be filled.
struct Filler<'a> {
    ctx: &'a Value,
    problems: RefCell<Vec<String>>,
}

impl<'a> Filler<'a> {
    fn new(ctx: &'a Value) -> Self {
        Self {
            ctx,
            problems: RefCell::new(Vec::new()),
        }
    }

    fn miss(&self, what: String, shown: String) -> String {
        let mut p = self.problems.borrow_mut();
        if !p.contains(&what) {
            p.push(what);
        }
        shown
    }

    fn text(&self, t: &str) -> String {
        match render(t, self.ctx) {
            Ok(s) => s,
            Err(e) => {
                let msg = format!("{e:#}");
                match missing_name(&msg) {
                    Some(name) => self.miss(format!("`{name}` is not set yet"), placeholder(name)),
                    None => self.miss(msg, t.to_string()),
                }
            }
        }
    }

    /// A repo's value, or a placeholder naming it.
    fn repo(&self, repo: &str, field: &str) -> String {
        repo_text(self.ctx, repo, field).unwrap_or_else(|| {
            self.miss(
                format!("`repos.{repo}.{field}` is not known"),
                placeholder(&format!("{repo}.{field}")),
            )
        })
    }

    fn finish(self, text: String) -> Result<String> {
        let p = self.problems.into_inner();
        if p.is_empty() {
            Ok(text)
        } else {
            bail!("{}", p.join("; "))
        }
    }
}

/// A repo's value in the session context (`tag`, `previous_tag`, `remote`, ...).
pub fn repo_text(ctx: &Value, repo: &str, field: &str) -> Option<String> {
    ctx["repos"][repo][field].as_str().map(str::to_string)
}

/// The same, or a placeholder naming it when the session does not know it.
pub fn repo_field(ctx: &Value, repo: &str, field: &str) -> String {
    repo_text(ctx, repo, field).unwrap_or_else(|| placeholder(&format!("{repo}.{field}")))
}

/// The commit the cherry-picks of this push made, once they ran: a full hexadecimal object
/// id, never anything else.
pub fn pick_result<'a>(ctx: &'a Value, repo: &str) -> Option<&'a str> {
    picks(ctx, repo)["result"]
        .as_str()
        .filter(|s| matches!(s.len(), 40 | 64) && s.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The first seven digits of an object id, as lists and JSON show it.
pub fn short_sha(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}

/// Quotes a word for a POSIX shell only when it needs it.
pub fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@+,%".contains(&b));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// What a step will do as the runbook says it, values filled in where known: the preview of
/// every kind whose executor has nothing more exact to show.
pub fn describe_step(step: &Step, rb: &Runbook, ctx: &Value) -> String {
    describe(step, rb, &Filler::new(ctx))
}

/// The cherry-picks of `repo`: its own (a push of several repos picks in each), else the
/// last ones made if they were made in it.
pub fn picks<'a>(ctx: &'a Value, repo: &str) -> &'a Value {
    let own = &ctx["repos"][repo]["cherry_picks"];
    if !own.is_null() {
        return own;
    }
    let last = &ctx["cherry_picks"];
    if last["repo"].as_str().is_none_or(|r| r == repo) {
        last
    } else {
        &Value::Null
    }
}

/// Where a repo lives for the operator; a placeholder when the config does not say.
fn repo_dir(ctx: &Value, repo: &str) -> String {
    match &ctx["repos"][repo]["path"] {
        Value::String(s) => shell_quote(s),
        _ => placeholder(&format!("{repo} checkout")),
    }
}

/// What the step will do, every value resolved: the text journaled with it and compared
/// later. Fails, naming them, while values it needs are not known. No I/O.
pub fn action(step: &Step, rb: &Runbook, ctx: &Value) -> Result<String> {
    let fl = Filler::new(ctx);
    let text = match &step.kind {
        StepKind::Manual(_) => format!("tick off \"{}\"", fl.text(&step.title)),
        StepKind::GitFetch(s) => format!(
            "fetch {}/{} and its tags into {}",
            fl.repo(&s.repo, "remote"),
            fl.repo(&s.repo, "branch"),
            s.repo
        ),
        StepKind::GitTag(t) => {
            let what = if t.from == "cherry_pick" {
                match pick_result(ctx, &t.repo) {
                    Some(oid) => format!("the cherry-picks ({})", short_sha(oid)),
                    None => fl.miss(
                        "the cherry-picks have not run yet".into(),
                        placeholder("cherry-pick result"),
                    ),
                }
            } else {
                fl.repo(&t.repo, "branch")
            };
            format!("tag {what} of {} as {}", t.repo, fl.repo(&t.repo, "tag"))
        }
        StepKind::GitPushTag(p) => {
            let tag = fl.repo(&p.repo, "tag");
            let remote = p
                .remote
                .clone()
                .unwrap_or_else(|| fl.repo(&p.repo, "remote"));
            format!("push refs/tags/{tag}:refs/tags/{tag} to {remote}")
        }
        // Not the tag: picking again is the operator's decision (reopen), not a consequence
        // of a re-tag.
        StepKind::GitCherryPick(s) => format!("cherry-pick commits of {} for this push", s.repo),
        StepKind::GitCompare(s) => format!(
            "list what ships in {} from {} to {}",
            s.repo,
            repo_text(ctx, &s.repo, "previous_tag").unwrap_or_else(|| "the first commit".into()),
            fl.repo(&s.repo, "tag")
        ),
        _ => describe(step, rb, &fl),
    };
    fl.finish(text)
}

fn describe(step: &Step, rb: &Runbook, fl: &Filler<'_>) -> String {
    let f = |t: &str| fl.text(t);
    let ctx = fl.ctx;
    match &step.kind {
        StepKind::Manual(_) => "tick it off when done (a note is optional); changes nothing".into(),
        StepKind::Choice(c) => {
            let opts: Vec<String> = c
                .options
                .iter()
                .map(|o| format!("{} ({})", o.value, f(&o.label)))
                .collect();
            format!("choose one of: {}; sets `{}`", opts.join(" | "), c.var)
        }
        StepKind::Gate(g) => {
            let who = g
                .who
                .as_deref()
                .map(|w| format!(" from {}", f(w)))
                .unwrap_or_default();
            format!(
                "wait for {}{who}; record who gave it and when",
                f(&g.waits_for)
            )
        }
        StepKind::GitFetch(s) => {
            let (dir, remote, branch) = (
                repo_dir(ctx, &s.repo),
                fl.repo(&s.repo, "remote"),
                fl.repo(&s.repo, "branch"),
            );
            format!(
                "git -C {dir} fetch {remote} {branch} --tags && git -C {dir} merge --ff-only {remote}/{branch}"
            )
        }
        StepKind::GitTag(t) => {
            let tag = fl.repo(&t.repo, "tag");
            let target = if t.from == "cherry_pick" {
                placeholder("cherry-pick result")
            } else {
                fl.repo(&t.repo, "branch")
            };
            format!("git -C {} tag {tag} {target}", repo_dir(ctx, &t.repo))
        }
        StepKind::GitPushTag(p) => {
            let remote = p
                .remote
                .clone()
                .unwrap_or_else(|| fl.repo(&p.repo, "remote"));
            let tag = fl.repo(&p.repo, "tag");
            format!(
                "git -C {} push {remote} refs/tags/{tag}:refs/tags/{tag}",
                repo_dir(ctx, &p.repo)
            )
        }
        StepKind::GitCherryPick(s) => format!(
            "git -C {} checkout {} && git cherry-pick -x {} (onto the release production runs \
             now, or onto this push's newest tag once it has one; done in memory: your checkout \
             is not touched)",
            repo_dir(ctx, &s.repo),
            fl.repo(&s.repo, "previous_tag"),
            placeholder("the commits you list")
        ),
        StepKind::GitCompare(s) => {
            let (prev, tag, branch) = (
                fl.repo(&s.repo, "previous_tag"),
                fl.repo(&s.repo, "tag"),
                fl.repo(&s.repo, "branch"),
            );
            let url = match &ctx["repos"][&s.repo]["compare_url"] {
                Value::String(u) => u.clone(),
                _ => format!(
                    "https://github.com/{}/compare/{prev}...{tag}",
                    fl.repo(&s.repo, "github")
                ),
            };
            format!(
                "git -C {} log --oneline {prev}..{branch}; link {url}",
                repo_dir(ctx, &s.repo)
            )
        }
        StepKind::JenkinsBuild(j) => match rb.services.get(&j.service) {
            Some(Service::Jenkins(svc)) => {
                let mut params: Vec<String> = Vec::new();
                if !j.params.contains_key(&svc.tag_param) {
                    params.push(format!("{}={}", svc.tag_param, f("{{ tag }}")));
                }
                params.extend(j.params.iter().map(|(k, v)| format!("{k}={}", f(v))));
                let job = crate::urls::jenkins_job_path(&svc.job);
                format!(
                    "POST {}/{job}/buildWithParameters {}; follow the queue item to the build and stream its console",
                    svc.url.trim_end_matches('/'),
                    params.join("&")
                )
            }
            Some(Service::GithubActions(svc)) => {
                let mut inputs: Vec<String> = Vec::new();
                if !j.params.contains_key(&svc.tag_input) {
                    inputs.push(format!("{}={}", svc.tag_input, f("{{ tag }}")));
                }
                inputs.extend(j.params.iter().map(|(k, v)| format!("{k}={}", f(v))));
                format!(
                    "POST {}/repos/{}/actions/workflows/{}/dispatches ref={} {}; follow the run it starts and its jobs",
                    svc.api_url.trim_end_matches('/'),
                    svc.repo,
                    svc.workflow,
                    svc.git_ref,
                    inputs.join(" ")
                )
            }
            _ => format!("trigger the deploy service `{}`", j.service),
        },
        StepKind::HttpCheck(h) => format!(
            "GET {} every {}s until the body contains `{}` (give up after {}s)",
            f(&h.url),
            h.interval_secs,
            f(&h.expect),
            h.timeout_secs
        ),
        StepKind::SentryCheck(s) => match rb.services.get(&s.service) {
            Some(Service::Sentry(svc)) => {
                let query = s
                    .query
                    .as_deref()
                    .map(|q| format!(" {}", f(q)))
                    .unwrap_or_default();
                format!(
                    "GET {}/api/0/organizations/{}/issues/?project={}&query=is:unresolved firstSeen:>=<{}>{query} every {}s for {} min; fail above {} new issue(s); then compare the event rate with the {} min before and with last week",
                    svc.url.trim_end_matches('/'),
                    svc.org,
                    svc.project,
                    soak_start(s.since.as_deref()),
                    s.poll_seconds,
                    s.soak_minutes,
                    s.max_new_issues,
                    s.baseline_minutes
                )
            }
            _ => format!("check Sentry service `{}`", s.service),
        },
        StepKind::MetricsCheck(m) => {
            let (url, series) = match rb.services.get(&m.service) {
                Some(Service::Graphite(g)) => (
                    format!("{}/render?format=json&target=", g.url.trim_end_matches('/')),
                    &g.series,
                ),
                Some(Service::Prometheus(p)) => (
                    format!("{}/api/v1/query_range?query=", p.url.trim_end_matches('/')),
                    &p.series,
                ),
                _ => return format!("check metrics service `{}`", m.service),
            };
            let names: Vec<&str> = series.iter().map(|s| s.name.as_str()).collect();
            format!(
                "GET {url}<each of: {}>; compare the {} min from <{}> with the {} min before and with the same {} min a week earlier",
                names.join(", "),
                m.soak_minutes,
                soak_start(m.since.as_deref()),
                m.baseline_minutes,
                m.soak_minutes
            )
        }
        StepKind::Template(t) => format!(
            "render {} to {}{}",
            t.template,
            f(&t.output),
            if t.edit {
                " after you edit it in $EDITOR"
            } else {
                ""
            }
        ),
        StepKind::NotesPublish(n) => match rb.services.get(&n.service) {
            Some(Service::Etherpad(e)) => format!(
                "create pad `{}` on {} from {} (createPad; an existing pad is replaced only if you choose `replace`)",
                f(&e.pad),
                e.url,
                n.template
            ),
            Some(Service::MarkdownNotes(m)) => format!(
                "write {} from {} after you read and edit it (an existing file is replaced only if you choose `replace`)",
                f(&m.path),
                n.template
            ),
            Some(Service::Github(g)) => {
                let repo = n.repo.as_deref().unwrap_or_default();
                format!(
                    "draft the GitHub release of {} in {} from {} ({}; an existing release is updated only if you choose `replace`)",
                    fl.repo(repo, "tag"),
                    fl.repo(repo, "github"),
                    n.template,
                    g.api_url
                )
            }
            _ => format!("publish notes through `{}`", n.service),
        },
        StepKind::NotesAppend(a) => {
            let page = match rb.services.get(&a.service) {
                Some(Service::Etherpad(e)) => format!(
                    "pad `{}` on {}",
                    f(a.pad.as_deref().unwrap_or(&e.pad)),
                    e.url
                ),
                Some(Service::MarkdownNotes(m)) => f(a.path.as_deref().unwrap_or(&m.path)),
                _ => format!("the notes of `{}`", a.service),
            };
            format!(
                "append to {page}: {} (not again if it is there already)",
                f(&a.text)
            )
        }
        StepKind::EmailSend(e) => match rb.services.get(&e.service) {
            Some(Service::Smtp(s)) => {
                let to = e.to.as_ref().map_or_else(
                    || s.to.join(", "),
                    |t| t.iter().map(|x| f(x)).collect::<Vec<_>>().join(", "),
                );
                format!(
                    "send \"{}\" to {to} from {} via {}:{} ({})",
                    f(&e.subject),
                    s.from,
                    s.host,
                    s.port,
                    e.template
                )
            }
            _ => format!("send email through `{}`", e.service),
        },
        StepKind::GithubBlockers(b) => {
            let api = match rb.services.get(&b.service) {
                Some(Service::Github(g)) => g.api_url.clone(),
                _ => return format!("read the blockers from GitHub service `{}`", b.service),
            };
            let urls: Vec<String> = rb
                .repos
                .values()
                .map(|r| {
                    format!(
                        "GET {}",
                        crate::urls::github_issues_url(&api, &r.github, &b.label)
                    )
                })
                .collect();
            format!(
                "{} (pull requests left out); ask what happened to each open blocker (resolved, \
                 cherry-pick with the fix's commits, or deferred) and take any typed by hand; \
                 changes nothing on GitHub",
                urls.join("; ")
            )
        }
        StepKind::Shell(s) => {
            let dir = s
                .repo
                .as_deref()
                .map(|r| format!(" in {}", repo_dir(ctx, r)))
                .unwrap_or_default();
            // Quoted as it will run; where it cannot be (a value not set yet), the filler
            // says why and shows the placeholders.
            let command = command_line(&s.command, ctx).unwrap_or_else(|_| f(&s.command));
            format!(
                "sh -c {}{dir} (timeout {}s)",
                shell_quote(&command),
                s.timeout_secs
            )
        }
    }
}

/// Where a watch's soak starts, as a preview names it.
fn soak_start(since: Option<&str>) -> String {
    match since {
        Some(step) => format!("when `{step}` happened"),
        None => "when this step starts".to_string(),
    }
}
