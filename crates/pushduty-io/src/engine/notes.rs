//! `notes.publish` makes the next push's notes page from a template and this push's values
//! (an Etherpad pad, a Markdown file, or a GitHub release draft); `notes.append` adds a line
//! to this push's page. Both read the page first: the same text already there is done, other
//! text is replaced only when the operator chose `replace`. Publishing is shown in full, and
//! editable, before it is sent.

use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Value, json};

use super::{ByHand, Check, Executor, InputSpec, Job};
use crate::preview::fill;
use crate::runbook::model::{Outputs, Runbook, Step, StepKind};
use crate::services::Services;
use crate::services::etherpad::{Created, Etherpad};
use crate::services::github::Releases;
use crate::templates::Base;

/// The input that says what to do when the page exists with other text.
pub const IF_EXISTS: &str = "if_exists";
pub const KEEP: &str = "keep";
pub const REPLACE: &str = "replace";

/// Where notes go, resolved for this push.
enum Page {
    Pad { client: Etherpad, pad: String },
    File { path: PathBuf },
    Release { client: Releases, tag: String },
}

impl Page {
    /// How the page is named to people (and its output `notes_url`).
    fn url(&self) -> String {
        match self {
            Page::Pad { client, pad } => client.pad_url(pad),
            Page::File { path } => path.display().to_string(),
            Page::Release { client, tag } => {
                format!("the release of {tag} ({})", client.releases_url())
            }
        }
    }

    fn what(&self) -> String {
        match self {
            Page::Pad { pad, .. } => format!("pad `{pad}`"),
            Page::File { path } => path.display().to_string(),
            Page::Release { tag, .. } => format!("the release of {tag}"),
        }
    }

    /// The page's text now; `None` when it does not exist. Reading only.
    fn read(&self, wait: Wait<'_>) -> Result<Option<String>> {
        match self {
            Page::Pad { client, pad } => wait.on(client.get_text(pad)),
            Page::File { path } => match open_file(path, std::fs::OpenOptions::new().read(true))
                .and_then(std::io::read_to_string)
            {
                Ok(t) => Ok(Some(t)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
            },
            Page::Release { client, tag } => Ok(wait
                .on(client.by_tag(tag))?
                .map(|r| r.body.unwrap_or_default())),
        }
    }
}

/// How a service call is waited for: cancellable in a step run, plainly in a check (bounded
/// by the HTTP time limit either way).
#[derive(Clone, Copy)]
enum Wait<'a> {
    Step(&'a Job),
    Plain,
}

impl Wait<'_> {
    fn on<T>(self, f: impl std::future::Future<Output = Result<T>>) -> Result<T> {
        match self {
            Wait::Step(job) => job.call(f),
            Wait::Plain => crate::services::http::block_on(f)?,
        }
    }
}

/// Text as Etherpad keeps it (CRLF as LF, tabs as eight spaces, one closing newline), so
/// that what was sent and what is read back compare equal.
pub fn normalize(text: &str) -> String {
    let t = text.replace("\r\n", "\n").replace('\t', "        ");
    format!("{}\n", t.trim_end())
}

/// Hex SHA-256 of the normalized text: the same notes give the same `notes_sha256`.
pub fn sha256(text: &str) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, normalize(text).as_bytes());
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// A markdown notes path: in the repo's checkout, else beside the runbook, and never outside
/// it (see [`inside`]).
fn notes_file(template: &str, repo: Option<&str>, base: &Base, ctx: &Value) -> Result<PathBuf> {
    let rendered =
        crate::templates::render(template, ctx).context("rendering the notes file's path")?;
    let p = PathBuf::from(rendered.trim());
    if let Some(repo) = repo {
        return match &ctx["repos"][repo]["path"] {
            Value::String(dir) => inside(Path::new(dir), &p, &format!("the checkout of `{repo}`")),
            _ => bail!(
                "the notes go in the checkout of `{repo}`, and your config does not say where it \
                 is: set `repos.{repo}.path` (or `--set repos.{repo}.path=DIR`)"
            ),
        };
    }
    match base {
        Base::Dir(dir) => inside(dir, &p, "the runbook's folder"),
        Base::Bundled => bail!(
            "the bundled runbook has no folder for `{}`: give the notes service a `repo`",
            p.display()
        ),
    }
}

/// `rel` under `root`, its folders resolved (`..` and symbolic links) one at a time, each
/// still under `root` once resolved: a value such as `../../x` or a link in the checkout to a
/// folder elsewhere cannot put the notes outside it. The file itself must not be a link;
/// [`open_file`] opens it without following one, should a link appear meanwhile.
fn inside(root: &Path, rel: &Path, what: &str) -> Result<PathBuf> {
    let outside = |why: String| {
        anyhow!(
            "the notes file `{}` would be outside {what} ({}): {why}; name a file inside it",
            rel.display(),
            root.display()
        )
    };
    let top = root.canonicalize().with_context(|| {
        format!(
            "{what} ({}) is not there: the notes go in a folder that exists",
            root.display()
        )
    })?;
    let name = match rel.file_name() {
        Some(name) if !rel.ends_with("..") => name,
        _ => bail!("the notes file `{}` names no file", rel.display()),
    };
    let mut dir = top.clone();
    for part in rel.parent().into_iter().flat_map(Path::components) {
        match part {
            Component::Normal(p) => {
                dir.push(p);
                // A folder not made yet is made by the step, under one that was checked.
                if dir.exists() {
                    dir = dir
                        .canonicalize()
                        .with_context(|| format!("resolving {}", dir.display()))?;
                }
            }
            Component::ParentDir => {
                dir.pop();
            }
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => {
                return Err(outside("an absolute path".into()));
            }
        }
        if !dir.starts_with(&top) {
            return Err(outside(format!("it leads to {}", dir.display())));
        }
    }
    let file = dir.join(name);
    if file
        .symlink_metadata()
        .is_ok_and(|m| m.file_type().is_symlink())
    {
        return Err(outside(format!(
            "{} is a symbolic link, and notes are written to a plain file",
            file.display()
        )));
    }
    Ok(file)
}

/// Opens a notes file without following a symbolic link in its last place (`O_NOFOLLOW`).
fn open_file(path: &Path, how: &mut std::fs::OpenOptions) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    how.custom_flags(pushduty_platform::fs::NO_FOLLOW)
        .open(path)
}

/// The page a step writes to, from the services as this operator reaches them.
fn page(services: &Services, base: &Base, step: &Step, ctx: &Value) -> Result<Page> {
    let (service, pad_override, path_override, repo) = match &step.kind {
        StepKind::NotesPublish(n) => (&n.service, None, None, n.repo.as_deref()),
        StepKind::NotesAppend(a) => (&a.service, a.pad.as_deref(), a.path.as_deref(), None),
        _ => bail!("not a notes step"),
    };
    match services.0.get(service) {
        Some(crate::services::Resolved::Etherpad(conf)) => {
            let template = pad_override.unwrap_or(&conf.pad);
            let pad = crate::templates::render(template, ctx).context("rendering the pad's id")?;
            let client = conf.client().map_err(anyhow::Error::msg)?;
            Ok(Page::Pad {
                client,
                pad: pad.trim().to_string(),
            })
        }
        Some(crate::services::Resolved::MarkdownNotes(conf)) => {
            let template = path_override.unwrap_or(&conf.path);
            Ok(Page::File {
                path: notes_file(template, conf.repo.as_deref(), base, ctx)?,
            })
        }
        Some(crate::services::Resolved::Github(conf)) => {
            let repo = repo.context("a release draft needs the step's `repo`")?;
            let owner_name = ctx["repos"][repo]["github"]
                .as_str()
                .with_context(|| format!("the runbook has no repo `{repo}`"))?;
            let tag = ctx["repos"][repo]["tag"]
                .as_str()
                .with_context(|| format!("this push has no tag for `{repo}` yet"))?;
            let client = conf.releases(owner_name).map_err(anyhow::Error::msg)?;
            Ok(Page::Release {
                client,
                tag: tag.to_string(),
            })
        }
        Some(other) => bail!(
            "service `{service}` is a {} service: notes go to etherpad, markdown_notes or github",
            other.kind()
        ),
        None => bail!("the runbook has no service `{service}`"),
    }
}

/// Where a notes step writes, as a person reaches it: `(what, address)`. Needs no
/// credentials (a hero without the pad's API key still knows the pad).
fn by_hand_place(
    services: &Services,
    base: &Base,
    step: &Step,
    ctx: &Value,
) -> Result<(String, String)> {
    let (service, pad_override) = match &step.kind {
        StepKind::NotesPublish(n) => (&n.service, None),
        StepKind::NotesAppend(a) => (&a.service, a.pad.as_deref()),
        _ => bail!("not a notes step"),
    };
    if let Some(crate::services::Resolved::Etherpad(conf)) = services.0.get(service) {
        let template = pad_override.unwrap_or(&conf.pad);
        let pad = crate::templates::render(template, ctx).context("rendering the pad's id")?;
        let pad = pad.trim();
        return Ok((format!("pad `{pad}`"), conf.pad_url(pad)));
    }
    let page = page(services, base, step, ctx)?;
    Ok((page.what(), page.url()))
}

/// What the operator chose for a page that exists with other text.
fn choice(job: &Job) -> Result<bool> {
    match job.inputs.get(IF_EXISTS).map(|s| s.trim()) {
        None | Some("") | Some(KEEP) => Ok(false),
        Some(REPLACE) => Ok(true),
        Some(other) => bail!("`{IF_EXISTS}` is `{KEEP}` or `{REPLACE}`, not `{other}`"),
    }
}

/// Shows a text in full, one progress line per line, so the log holds what was sent.
fn show(job: &Job, text: &str) {
    for line in text.trim_end().lines() {
        job.progress(format!("| {line}"));
    }
}

/// `notes.publish`. Remembers the pages its checks found in place, so that it asks whether
/// to replace one only when there is one.
pub struct NotesPublish {
    services: Arc<Services>,
    base: Base,
    existing: Mutex<HashSet<String>>,
}

impl NotesPublish {
    pub fn new(services: Arc<Services>, base: Base) -> Self {
        Self {
            services,
            base,
            existing: Mutex::new(HashSet::new()),
        }
    }

    fn remember(&self, key: String, exists: bool) {
        // A poisoned set only loses a hint: the step still refuses to overwrite.
        if let Ok(mut set) = self.existing.lock() {
            if exists {
                set.insert(key);
            } else {
                set.remove(&key);
            }
        }
    }

    fn known_to_exist(&self, key: &str) -> bool {
        self.existing.lock().is_ok_and(|s| s.contains(key))
    }

    fn publish(&self, job: &Job, page: &Page, text: &str) -> Result<()> {
        match page {
            // Etherpad adds a closing newline of its own.
            Page::Pad { client, pad } => match job.call(client.create_pad(pad, text.trim_end()))? {
                Created::New => Ok(()),
                Created::Exists => bail!(
                    "pad `{pad}` appeared while this step ran: someone else made it; run the \
                     step again to see what it holds"
                ),
            },
            Page::File { path } => {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)
                        .with_context(|| format!("creating {}", dir.display()))?;
                }
                // create_new: a file made meanwhile is not overwritten.
                let mut f = open_file(
                    path,
                    std::fs::OpenOptions::new().write(true).create_new(true),
                )
                .with_context(|| format!("creating {}", path.display()))?;
                std::io::Write::write_all(&mut f, text.as_bytes())
                    .with_context(|| format!("writing {}", path.display()))
            }
            Page::Release { client, tag } => job
                .call(client.create_draft(tag, None, tag, text))
                .map(drop),
        }
    }

    fn replace(&self, job: &Job, page: &Page, text: &str) -> Result<()> {
        match page {
            Page::Pad { client, pad } => job.call(client.set_text(pad, text.trim_end())),
            Page::File { path } => open_file(
                path,
                std::fs::OpenOptions::new()
                    .write(true)
                    .create(true)
                    .truncate(true),
            )
            .and_then(|mut f| std::io::Write::write_all(&mut f, text.as_bytes()))
            .with_context(|| format!("writing {}", path.display())),
            Page::Release { client, tag } => {
                let r = job
                    .call(client.by_tag(tag))?
                    .with_context(|| format!("the release of {tag} is gone"))?;
                job.call(client.update(r.id, tag, text)).map(drop)
            }
        }
    }

    /// The release's web page, once it exists.
    fn release_url(&self, job: &Job, page: &Page) -> Result<Option<String>> {
        match page {
            Page::Release { client, tag } => Ok(job.call(client.by_tag(tag))?.map(|r| r.html_url)),
            _ => Ok(None),
        }
    }
}

impl Executor for NotesPublish {
    fn inputs(&self, step: &Step, ctx: &Value) -> Vec<InputSpec> {
        let Ok(page) = page(&self.services, &self.base, step, ctx) else {
            return Vec::new();
        };
        let exists = match &page {
            Page::File { path } => path.exists(),
            _ => self.known_to_exist(&page.url()),
        };
        if !exists {
            return Vec::new();
        }
        vec![InputSpec {
            key: IF_EXISTS.into(),
            prompt: format!(
                "{} exists already: keep it, or replace its text?",
                page.what()
            ),
            required: false,
            options: vec![
                (
                    KEEP.into(),
                    "leave it as it is (the step fails if its text differs)".into(),
                ),
                (REPLACE.into(), "replace its text with these notes".into()),
            ],
            hints: vec!["the same text already there is simply done".into()],
            default: None,
            commits: Vec::new(),
            check: None,
        }]
    }

    fn check(&self, step: &Step, ctx: &Value) -> Vec<Check> {
        let page = match page(&self.services, &self.base, step, ctx) {
            Ok(p) => p,
            Err(e) => return vec![Check::fail(format!("{e:#}"))],
        };
        match page.read(Wait::Plain) {
            Ok(found) => {
                self.remember(page.url(), found.is_some());
                vec![Check::ok(match found {
                    None => format!("{} does not exist yet: it will be made", page.what()),
                    Some(t) => format!(
                        "{} exists already ({} lines): the same text is done; other text is \
                         replaced only if you choose `{REPLACE}`",
                        page.what(),
                        t.lines().count()
                    ),
                })]
            }
            Err(e) => vec![Check::fail(format!("{e:#}"))],
        }
    }

    fn preview(&self, step: &Step, rb: &Runbook, ctx: &Value) -> String {
        let generic = crate::preview::preview(step, rb, ctx);
        // The address this operator's config points to, not the runbook's default.
        match (&step.kind, page(&self.services, &self.base, step, ctx)) {
            (StepKind::NotesPublish(_), Ok(Page::Pad { client, pad })) => format!(
                "create pad `{pad}` at {} from {} after you read and edit it (createPad; an \
                 existing pad is replaced only if you choose `{REPLACE}`)",
                client.pad_url(&pad),
                self.base
                    .display(step.kind.template_file().unwrap_or_default())
            ),
            _ => generic,
        }
    }

    /// Make the page with the notes as rendered now; its address becomes `notes_url`.
    fn by_hand(&self, step: &Step, _rb: &Runbook, ctx: &Value) -> Result<ByHand> {
        let StepKind::NotesPublish(n) = &step.kind else {
            bail!("not a notes.publish step");
        };
        let (what, url) = by_hand_place(&self.services, &self.base, step, ctx)?;
        let (name, template) = self.base.read(&n.template)?;
        let text = crate::templates::render(&template, ctx)
            .with_context(|| format!("rendering {name}"))?;
        Ok(ByHand {
            steps: vec![
                format!("open {what}: {url}"),
                "make it hold these notes (edit them as you would in the editor):".into(),
            ],
            copy: Some(text.trim_end().to_string()),
            link: Some(url.clone()),
            outputs: Outputs::from([("notes_url".to_string(), json!(url))]),
        })
    }

    fn run(&self, job: &Job) -> Result<Outputs> {
        let StepKind::NotesPublish(n) = &job.step.kind else {
            bail!("not a notes.publish step");
        };
        let replace = choice(job)?;
        let page = page(&self.services, &job.base, &job.step, &job.ctx)?;
        let (name, template) = job.base.read(&n.template)?;
        let rendered = crate::templates::render(&template, &job.ctx)
            .with_context(|| format!("rendering {name}"))?;
        job.progress(format!(
            "the notes for {} ({} lines):",
            page.what(),
            rendered.lines().count()
        ));
        show(job, &rendered);
        let hint = match &page {
            Page::File { path } => path
                .file_name()
                .map_or_else(|| "notes.md".into(), |f| f.to_string_lossy().into_owned()),
            _ => "notes.md".into(),
        };
        let text = job.console.edit(&rendered, &hint, &job.cancel)?;
        if normalize(&text) != normalize(&rendered) {
            job.progress(format!("edited: {} lines now", text.lines().count()));
        }
        if text.trim().is_empty() {
            bail!("the notes are empty after editing: nothing published");
        }
        if job.cancel.is_cancelled() {
            bail!("cancelled before publishing");
        }
        let sha = sha256(&text);
        let existing = page.read(Wait::Step(job))?;
        match existing {
            None => {
                self.publish(job, &page, &text)?;
                job.progress(format!("made {}", page.what()));
            }
            Some(old) if normalize(&old) == normalize(&text) => {
                job.progress(format!(
                    "{} already holds exactly these notes: nothing to do",
                    page.what()
                ));
            }
            Some(old) => {
                let ours = job.ctx["notes_sha256"].as_str() == Some(sha256(&old).as_str());
                let whose = if ours {
                    "it still holds what this step published before"
                } else {
                    "someone wrote other text there"
                };
                if !replace {
                    bail!(
                        "{} exists already with other text ({whose}); it was left as it is. To \
                         replace it with these notes, run the step again choosing \
                         `{IF_EXISTS}` = `{REPLACE}` (`pushduty do {} --input {IF_EXISTS}={REPLACE}`)",
                        page.what(),
                        job.step.id
                    );
                }
                self.replace(job, &page, &text)?;
                job.progress(format!("replaced the text of {} ({whose})", page.what()));
            }
        }
        self.remember(page.url(), true);
        let url = self.release_url(job, &page)?.unwrap_or_else(|| page.url());
        job.progress(format!("notes: {url}"));
        let mut out = Outputs::new();
        out.insert("notes_url".into(), json!(url));
        out.insert("notes_sha256".into(), json!(sha));
        Ok(out)
    }
}

/// `notes.append`.
pub struct NotesAppend {
    services: Arc<Services>,
    base: Base,
}

impl NotesAppend {
    pub fn new(services: Arc<Services>, base: Base) -> Self {
        Self { services, base }
    }
}

/// The text a `notes.append` step adds, rendered.
fn append_text(step: &Step, ctx: &Value) -> Result<String> {
    let StepKind::NotesAppend(a) = &step.kind else {
        bail!("not a notes.append step");
    };
    let text = crate::templates::render(&a.text, ctx).context("rendering the text to append")?;
    let text = text.trim_end().to_string();
    if text.trim().is_empty() {
        bail!("the text to append is empty once filled in");
    }
    Ok(text)
}

impl Executor for NotesAppend {
    fn preview(&self, step: &Step, rb: &Runbook, ctx: &Value) -> String {
        let generic = crate::preview::preview(step, rb, ctx);
        let StepKind::NotesAppend(a) = &step.kind else {
            return generic;
        };
        match page(&self.services, &self.base, step, ctx) {
            Ok(p) => format!(
                "append to {} ({}): {} (not again if it is there already)",
                p.what(),
                p.url(),
                fill(&a.text, ctx)
            ),
            Err(_) => generic,
        }
    }

    fn check(&self, step: &Step, ctx: &Value) -> Vec<Check> {
        let page = match page(&self.services, &self.base, step, ctx) {
            Ok(p) => p,
            Err(e) => return vec![Check::fail(format!("{e:#}"))],
        };
        let text = match append_text(step, ctx) {
            Ok(t) => t,
            Err(e) => return vec![Check::fail(format!("{e:#}"))],
        };
        match page.read(Wait::Plain) {
            Ok(None) => vec![Check::fail(format!(
                "{} does not exist: this push's notes page is made by the push before it (check \
                 the step's `{}`)",
                page.what(),
                if matches!(page, Page::Pad { .. }) {
                    "pad"
                } else {
                    "path"
                }
            ))],
            Ok(Some(now)) if normalize(&now).contains(normalize(&text).trim_end()) => {
                vec![Check::ok(format!(
                    "{} has this text already: nothing will be appended",
                    page.what()
                ))]
            }
            Ok(Some(now)) => vec![Check::ok(format!(
                "{} exists ({} lines); the text is not in it yet",
                page.what(),
                now.lines().count()
            ))],
            Err(e) => vec![Check::fail(format!("{e:#}"))],
        }
    }

    /// Paste the lines at the end of the page, unless they are there already.
    fn by_hand(&self, step: &Step, _rb: &Runbook, ctx: &Value) -> Result<ByHand> {
        let (what, url) = by_hand_place(&self.services, &self.base, step, ctx)?;
        let text = append_text(step, ctx)?;
        Ok(ByHand {
            steps: vec![
                format!("open {what}: {url}"),
                "add these lines at its end, unless they are there already:".into(),
            ],
            copy: Some(text),
            link: Some(url),
            outputs: Outputs::new(),
        })
    }

    fn run(&self, job: &Job) -> Result<Outputs> {
        let page = page(&self.services, &job.base, &job.step, &job.ctx)?;
        let text = append_text(&job.step, &job.ctx)?;
        job.progress(format!("to append to {}:", page.what()));
        show(job, &text);
        let now = page.read(Wait::Step(job))?.ok_or_else(|| {
            anyhow!(
                "{} does not exist: this push's notes page is made by the push before it; make \
                 it, or point the step at the right one",
                page.what()
            )
        })?;
        if normalize(&now).contains(normalize(&text).trim_end()) {
            job.progress(format!(
                "{} has this text already: not appended again",
                page.what()
            ));
        } else {
            if job.cancel.is_cancelled() {
                bail!("cancelled before appending");
            }
            match &page {
                Page::Pad { client, pad } => {
                    // Etherpad inserts before the pad's closing newline: start a line of our own.
                    let inner = now.strip_suffix('\n').unwrap_or(&now);
                    let sep = if inner.is_empty() || inner.ends_with('\n') {
                        ""
                    } else {
                        "\n"
                    };
                    job.call(client.append_text(pad, &format!("{sep}{text}")))?;
                }
                Page::File { path } => {
                    let sep = if now.is_empty() || now.ends_with('\n') {
                        ""
                    } else {
                        "\n"
                    };
                    let mut f = open_file(path, std::fs::OpenOptions::new().append(true))
                        .with_context(|| format!("opening {}", path.display()))?;
                    std::io::Write::write_all(&mut f, format!("{sep}{text}\n").as_bytes())
                        .with_context(|| format!("appending to {}", path.display()))?;
                }
                Page::Release { .. } => bail!("notes are appended to a pad or a file"),
            }
            job.progress(format!("appended to {}", page.what()));
        }
        let mut out = Outputs::new();
        out.insert("appended_to".into(), json!(page.url()));
        Ok(out)
    }
}

impl super::Execute for pushduty_core::runbook::kinds::notes::Publish {
    fn executor(s: &super::Setup<'_>) -> Arc<dyn Executor> {
        s.with_services("notes.publish", |services| {
            Arc::new(NotesPublish::new(services, s.base.clone()))
        })
    }
}

impl super::Execute for pushduty_core::runbook::kinds::notes::Append {
    fn executor(s: &super::Setup<'_>) -> Arc<dyn Executor> {
        s.with_services("notes.append", |services| {
            Arc::new(NotesAppend::new(services, s.base.clone()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_compares_as_etherpad_keeps_it() {
        assert_eq!(normalize("a\r\nb\tc\n\n\n"), "a\nb        c\n");
        assert_eq!(normalize("x"), normalize("x\n"));
        assert_ne!(normalize("x"), normalize("x y"));
    }

    #[test]
    fn the_hash_is_sha256_of_the_normalized_text() {
        let abc = "edeaaff3f1774ad2888673770c6d64097e391bc362d7d6fb34982ddf0efd18cb";
        assert_eq!(sha256("abc"), abc);
        assert_eq!(sha256("abc\n\n"), abc);
    }
}
