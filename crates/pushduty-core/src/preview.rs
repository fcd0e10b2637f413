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

/// The first line of a text (an error, a reason, an output), for one-line summaries.
pub(crate) fn first_line(s: &str) -> &str {
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

/// Fills templates for one description, keeping what could not be filled; `finish` says what
/// was missing.
pub struct Filler<'a> {
    pub ctx: &'a Value,
    problems: RefCell<Vec<String>>,
}

impl<'a> Filler<'a> {
    pub fn new(ctx: &'a Value) -> Self {
        Self {
            ctx,
            problems: RefCell::new(Vec::new()),
        }
    }

    /// Notes that `what` is missing, showing `shown` in its place.
    pub fn miss(&self, what: String, shown: String) -> String {
        let mut p = self.problems.borrow_mut();
        if !p.contains(&what) {
            p.push(what);
        }
        shown
    }

    /// A template filled in, or as written with the reason noted.
    pub fn text(&self, t: &str) -> String {
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
    pub fn repo(&self, repo: &str, field: &str) -> String {
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
    step.kind.describe(step, rb, &Filler::new(ctx))
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
pub fn repo_dir(ctx: &Value, repo: &str) -> String {
    match &ctx["repos"][repo]["path"] {
        Value::String(s) => shell_quote(s),
        _ => placeholder(&format!("{repo} checkout")),
    }
}

/// What the step will do, every value resolved: the text journaled with it and compared
/// later. Fails, naming them, while values it needs are not known. No I/O.
pub fn action(step: &Step, rb: &Runbook, ctx: &Value) -> Result<String> {
    let fl = Filler::new(ctx);
    let text = match step.kind.action(step, &fl) {
        Some(text) => text,
        None => step.kind.describe(step, rb, &fl),
    };
    fl.finish(text)
}
