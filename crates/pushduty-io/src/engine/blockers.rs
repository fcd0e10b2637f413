//! `github.blockers`: the issues labelled as blocking the push, read from GitHub, and what
//! happened to each (resolved, cherry-picked with its fix, or deferred to a later push), plus
//! any blocker the operator types by hand. The fixes to cherry-pick become `blocker_commits`,
//! which the cherry-pick step offers first.
//!
//! The issues are read by the step's checks (off the UI thread, before the prompts), so the
//! prompts ask about exactly what was read; the check right before acting reads them again,
//! and a blocker opened in between, without an outcome, stops the step rather than being
//! left out.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use anyhow::{Result, anyhow, bail};
use serde_json::{Value, json};

use super::blocker_fixes::{self, Fixable};
use super::{AnswerCheck, Check, Executor, InputSpec, Job};
use crate::git::tags::TagFormat;
use crate::runbook::model::{GithubBlockersStep, Outputs, Step, StepKind};
use crate::services::Services;
use crate::services::github::Blocker;
use crate::services::http::block_on;

/// The input of the blockers typed by hand: `title | url | outcome`, several separated by `;`.
pub const MANUAL: &str = "manual";
/// The prefix of each listed blocker's input: `blocker.N` (`blocker.REPO.N` with several repos).
pub const KEY_PREFIX: &str = "blocker.";
/// Outputs.
pub const BLOCKERS: &str = "blockers";
pub const BLOCKER_COMMITS: &str = "blocker_commits";
/// Output key: the blockers as one line, for notes and emails.
pub const BLOCKERS_SUMMARY: &str = "blockers_summary";

const OUTCOMES: &str = "resolved, deferred, or cherry-pick:SHA[,SHA...]";

pub struct Blockers {
    services: Arc<Services>,
    format: TagFormat,
    /// What each step's last check read, by step id: the prompts ask about these.
    seen: Mutex<HashMap<String, Result<Vec<Listed>, String>>>,
    /// The fixes each step's last check found to offer, by step id.
    fixes: Mutex<HashMap<String, Vec<Fixable>>>,
}

/// A blocker read from GitHub, with the runbook's name of its repo (for its input key).
#[derive(Debug, Clone)]
struct Listed {
    key: String,
    blocker: Blocker,
}

/// What happened to a blocker.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// `resolved`, `cherry-pick` or `deferred`.
    pub name: &'static str,
    pub commits: Vec<String>,
}

/// Reads an outcome: `resolved`, `deferred`, or `cherry-pick` with the fix's commits (short
/// or full shas, or GitHub commit links), as `cherry-pick:abc1234,def5678` or with spaces.
/// Commits alone are a cherry-pick (what picking them from the list gives), in any order
/// with the word.
pub fn parse_outcome(text: &str) -> Result<Outcome, String> {
    let mut name: Option<&'static str> = None;
    let mut rest: Vec<&str> = Vec::new();
    for token in text
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|w| !w.is_empty())
    {
        // `cherry-pick:abc1234`, but a link's `https:` is not a word.
        let (word, after) = match token.split_once([':', '=']) {
            Some((w, a)) if outcome_word(w).is_some() => (w, a),
            _ => (token, ""),
        };
        match outcome_word(word) {
            Some(o) if name.is_some_and(|n| n != o) => {
                return Err(format!("give one outcome, not several: {OUTCOMES}"));
            }
            Some(o) => {
                name = Some(o);
                rest.extend(Some(after).filter(|a| !a.is_empty()));
            }
            None => rest.push(token),
        }
    }
    let commits: Vec<String> = rest.iter().map(|c| c.to_string()).collect();
    let name = match name {
        Some(n) => n,
        None if commits.is_empty() => return Err(format!("no outcome: give {OUTCOMES}")),
        None if commits.iter().all(|c| looks_like_commit(c)) => "cherry-pick",
        None => return Err(format!("`{}` is not an outcome: give {OUTCOMES}", rest[0])),
    };
    if name == "cherry-pick" {
        if commits.is_empty() {
            return Err("cherry-pick needs the commits that fix it: cherry-pick:abc1234".into());
        }
        if let Some(bad) = commits.iter().find(|c| !looks_like_commit(c)) {
            return Err(format!(
                "`{bad}` is not a commit: give short or full shas, or GitHub commit links"
            ));
        }
    } else if !commits.is_empty() {
        return Err(format!("`{name}` takes no commits (only cherry-pick does)"));
    }
    Ok(Outcome { name, commits })
}

/// The outcome a word names, if it names one.
fn outcome_word(word: &str) -> Option<&'static str> {
    match word.to_ascii_lowercase().replace('_', "-").as_str() {
        "resolved" | "fixed" => Some("resolved"),
        "deferred" | "later" => Some("deferred"),
        "cherry-pick" | "pick" => Some("cherry-pick"),
        _ => None,
    }
}

fn looks_like_commit(c: &str) -> bool {
    (c.len() >= 4 && c.len() <= 40 && c.chars().all(|ch| ch.is_ascii_hexdigit()))
        || (c.starts_with("https://") && c.contains("/commit/"))
}

/// One blocker typed by hand: `title | url | outcome` (the url may be left empty).
fn parse_manual(entry: &str) -> Result<(String, String, Outcome), String> {
    let parts: Vec<&str> = entry.split('|').map(str::trim).collect();
    let [title, url, outcome] = parts.as_slice() else {
        return Err(format!(
            "`{entry}`: a blocker typed by hand is `title | url | outcome` (the url may be empty)"
        ));
    };
    if title.is_empty() {
        return Err(format!("`{entry}`: the title is empty"));
    }
    if !url.is_empty() && !url.starts_with("https://") && !url.starts_with("http://") {
        return Err(format!("`{entry}`: `{url}` is not a link"));
    }
    let outcome = parse_outcome(outcome).map_err(|e| format!("`{entry}`: {e}"))?;
    Ok((title.to_string(), url.to_string(), outcome))
}

/// The runbook's repos as `(name, owner/name)`, from the session context.
fn repos(ctx: &Value) -> Vec<(String, String)> {
    ctx["repos"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(name, r)| Some((name.clone(), r["github"].as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// The input key of a blocker: by number alone when the runbook has one repo.
fn key(repo: &str, number: u64, several: bool) -> String {
    if several {
        format!("{KEY_PREFIX}{repo}.{number}")
    } else {
        format!("{KEY_PREFIX}{number}")
    }
}

impl Blockers {
    pub fn new(services: Arc<Services>, format: TagFormat) -> Self {
        Self {
            services,
            format,
            seen: Mutex::new(HashMap::new()),
            fixes: Mutex::new(HashMap::new()),
        }
    }

    /// The fixes the last check found, else read now (local reads of the checkouts).
    fn fixable(&self, id: &str, ctx: &Value) -> Vec<Fixable> {
        let kept = self.fixes.lock().ok().and_then(|f| f.get(id).cloned());
        kept.unwrap_or_else(|| Fixable::read_all(ctx, &self.format))
    }

    fn spec(step: &Step) -> Result<&GithubBlockersStep> {
        match &step.kind {
            StepKind::GithubBlockers(b) => Ok(b),
            _ => bail!("not a github.blockers step"),
        }
    }

    /// Every repo's open blockers, read now.
    fn read(&self, step: &Step, ctx: &Value) -> Result<Vec<Listed>> {
        let b = Self::spec(step)?;
        let conf = self.services.github(&b.service).map_err(|e| anyhow!(e))?;
        let client = conf.client().map_err(|e| anyhow!(e))?;
        let repos = repos(ctx);
        if repos.is_empty() {
            bail!("the runbook has no repo on GitHub to read blockers from");
        }
        let several = repos.len() > 1;
        let mut out = Vec::new();
        for (name, github) in &repos {
            let found = block_on(client.open_blockers(github, &b.label))??;
            out.extend(found.into_iter().map(|blocker| Listed {
                key: key(name, blocker.number, several),
                blocker,
            }));
        }
        Ok(out)
    }

    fn remember(&self, id: &str, read: Result<Vec<Listed>, String>) {
        if let Ok(mut seen) = self.seen.lock() {
            seen.insert(id.to_string(), read);
        }
    }

    fn recalled(&self, id: &str) -> Option<Result<Vec<Listed>, String>> {
        self.seen.lock().ok().and_then(|s| s.get(id).cloned())
    }
}

impl Executor for Blockers {
    fn check(&self, step: &Step, ctx: &Value) -> Vec<Check> {
        let label = Self::spec(step).map_or("blocker", |b| b.label.as_str());
        let names: Vec<String> = repos(ctx).into_iter().map(|(_, g)| g).collect();
        let read = self.read(step, ctx).map_err(|e| format!("{e:#}"));
        self.remember(&step.id, read.clone());
        // What a `cherry-pick:` answer can name, read here, off the screen's thread.
        let fixable = Fixable::read_all(ctx, &self.format);
        let said: Vec<Check> = fixable
            .iter()
            .filter_map(|f| Some(std::iter::once(f.header()?).chain(f.lines(5))))
            .flatten()
            .map(Check::ok)
            .collect();
        if let Ok(mut f) = self.fixes.lock() {
            f.insert(step.id.clone(), fixable);
        }
        let mut checks = self.read_checks(label, &names, read);
        checks.extend(said);
        checks
    }

    fn inputs(&self, step: &Step, ctx: &Value) -> Vec<InputSpec> {
        let fixable = self.fixable(&step.id, ctx);
        let mut specs = self.prompts(step);
        let offered: Vec<crate::git::state::CommitInfo> = fixable
            .iter()
            .flat_map(|f| f.commits.iter().map(|(_, c)| c.clone()))
            .collect();
        let headers: Vec<String> = fixable
            .iter()
            .filter_map(|f| {
                let more = if f.commits.is_empty() {
                    ""
                } else {
                    ": Space picks one"
                };
                Some(format!("{}{more}", f.header()?))
            })
            .collect();
        let fixes = Arc::new(fixable);
        for spec in &mut specs {
            let manual = spec.key == MANUAL;
            let fixes = fixes.clone();
            spec.check = Some(AnswerCheck(Arc::new(move |answer: &str| {
                check_answer(answer, manual, &fixes)
            })));
            if !manual {
                spec.hints.extend(headers.iter().cloned());
                spec.commits = offered.clone();
            }
        }
        specs
    }

    fn run(&self, job: &Job) -> Result<Outputs> {
        self.record(job)
    }
}

impl Blockers {
    /// The checks that say what GitHub's read found.
    fn read_checks(
        &self,
        label: &str,
        names: &[String],
        read: Result<Vec<Listed>, String>,
    ) -> Vec<Check> {
        match read {
            Ok(list) if list.is_empty() => vec![Check::ok(format!(
                "no open issue labelled `{label}` in {}",
                names.join(", ")
            ))],
            Ok(list) => {
                let mut out = vec![Check::ok(format!(
                    "{} labelled `{label}` in {}: say what happened to each",
                    crate::words::count(list.len() as u64, "open issue"),
                    names.join(", ")
                ))];
                out.extend(list.iter().map(|l| Check::ok(l.blocker.line())));
                out
            }
            Err(e) => vec![Check::fail(format!(
                "{e} (override to record the blockers by hand, in `{MANUAL}`)"
            ))],
        }
    }

    /// A prompt for each blocker read, and one for those typed by hand.
    fn prompts(&self, step: &Step) -> Vec<InputSpec> {
        // No network here: the TUI asks on its own thread. The checks have just read them.
        let mut out = Vec::new();
        let mut manual_hints = vec![
            "`title | url | outcome`, several separated by `;`; empty: none".to_string(),
            format!("outcome: {OUTCOMES}"),
        ];
        match self.recalled(&step.id) {
            Some(Ok(list)) => {
                for l in list {
                    let b = &l.blocker;
                    let mut spec = InputSpec::text(
                        &l.key,
                        format!("#{} {}: {OUTCOMES}", b.number, b.title),
                        true,
                    );
                    spec.hints = vec![format!("{} ({})", b.url, b.repo)];
                    out.push(spec);
                }
            }
            Some(Err(e)) => manual_hints.push(format!("GitHub could not be read: {e}")),
            None => manual_hints.push("GitHub is read when the step's checks run".into()),
        }
        let mut manual = InputSpec::text(
            MANUAL,
            "blockers found elsewhere, typed by hand (optional)".into(),
            false,
        );
        manual.hints = manual_hints;
        out.push(manual);
        out
    }
}

impl Blockers {
    /// Records what happened to each blocker.
    fn record(&self, job: &Job) -> Result<Outputs> {
        // The check right before acting has just read GitHub; it failed only if overridden.
        let listed = match self.recalled(&job.step.id) {
            Some(Ok(list)) => list,
            Some(Err(e)) => {
                job.progress(format!(
                    "GitHub could not be read ({e}): recording the blockers typed by hand"
                ));
                Vec::new()
            }
            None => self.read(&job.step, &job.ctx)?,
        };
        let mut problems = Vec::new();
        for k in job.inputs.keys().filter(|k| k.starts_with(KEY_PREFIX)) {
            if !listed.iter().any(|l| &l.key == k) {
                problems.push(format!(
                    "`{k}` is not one of the open blockers read from GitHub (closed since? type \
                     other blockers in `{MANUAL}`)"
                ));
            }
        }
        let mut blockers = Vec::new();
        let mut commits: Vec<String> = Vec::new();
        let mut record = |number: Option<u64>,
                          title: &str,
                          url: &str,
                          repo: Option<&str>,
                          o: &Outcome,
                          job: &Job| {
            let said = if o.commits.is_empty() {
                o.name.to_string()
            } else {
                format!("{} {}", o.name, o.commits.join(" "))
            };
            let num = number.map(|n| format!("#{n} ")).unwrap_or_default();
            let place = repo.map(|r| format!(" ({r})")).unwrap_or_default();
            job.progress(
                format!("{num}{title}{place}: {said} {url}")
                    .trim_end()
                    .to_string(),
            );
            blockers.push(json!({
                "number": number, "title": title, "url": url, "repo": repo,
                "outcome": o.name, "commits": o.commits,
            }));
            for c in &o.commits {
                if !commits.contains(c) {
                    commits.push(c.clone());
                }
            }
        };
        for l in &listed {
            let b = &l.blocker;
            match job.inputs.get(&l.key).map(|s| parse_outcome(s)) {
                Some(Ok(o)) => record(Some(b.number), &b.title, &b.url, Some(&b.repo), &o, job),
                Some(Err(e)) => problems.push(format!("`{}` (#{}): {e}", l.key, b.number)),
                None => problems.push(format!(
                    "#{} {} has no outcome (opened since the prompts?): pass --input {}=OUTCOME \
                     ({OUTCOMES})",
                    b.number, b.title, l.key
                )),
            }
        }
        let typed = job.inputs.get(MANUAL).map_or("", |s| s.trim());
        for entry in typed.split(';').map(str::trim).filter(|e| !e.is_empty()) {
            match parse_manual(entry) {
                Ok((title, url, o)) => record(None, &title, &url, None, &o, job),
                Err(e) => problems.push(e),
            }
        }
        if !problems.is_empty() {
            bail!("{}", problems.join("; "));
        }
        if blockers.is_empty() {
            job.progress("no blockers");
        } else if !commits.is_empty() {
            job.progress(format!(
                "to cherry-pick: {} (the cherry-pick step offers them)",
                commits.join(" ")
            ));
        }
        let mut out = Outputs::new();
        out.insert(BLOCKERS_SUMMARY.into(), json!(summary(&blockers)));
        out.insert(BLOCKERS.into(), Value::Array(blockers));
        out.insert(BLOCKER_COMMITS.into(), json!(commits));
        Ok(out)
    }
}

/// Checks an answer as typed: an outcome (or the blockers typed by hand), and the commits of
/// a cherry-pick against the checkouts.
fn check_answer(answer: &str, manual: bool, fixable: &[Fixable]) -> Result<(), String> {
    let outcomes: Vec<Outcome> = if manual {
        answer
            .split(';')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(|e| parse_manual(e).map(|(_, _, o)| o))
            .collect::<Result<_, _>>()?
    } else {
        vec![parse_outcome(answer)?]
    };
    let commits: Vec<String> = outcomes.into_iter().flat_map(|o| o.commits).collect();
    match blocker_fixes::refuse(fixable, &commits) {
        Some(why) => Err(why),
        None => Ok(()),
    }
}

/// The recorded blockers as one line: `title (#N): outcome [commits] URL; ...`, or `none`.
/// A cherry-pick keeps its commits: the notes and the email say what was picked.
fn summary(blockers: &[Value]) -> String {
    let parts: Vec<String> = blockers
        .iter()
        .map(|b| {
            let mut s = b["title"].as_str().unwrap_or("?").to_string();
            if let Some(n) = b["number"].as_u64() {
                s.push_str(&format!(" (#{n})"));
            }
            s.push_str(&format!(": {}", b["outcome"].as_str().unwrap_or("?")));
            for c in b["commits"].as_array().into_iter().flatten() {
                s.push_str(&format!(" {}", c.as_str().unwrap_or("?")));
            }
            if let Some(u) = b["url"].as_str().filter(|u| !u.is_empty()) {
                s.push_str(&format!(" {u}"));
            }
            s
        })
        .collect();
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join("; ")
    }
}

impl super::Execute for pushduty_core::runbook::kinds::blockers::Blockers {
    fn executor(s: &super::Setup<'_>) -> Arc<dyn Executor> {
        s.with_services("github.blockers", |services| {
            Arc::new(Blockers::new(services, s.format.clone()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_is_one_line_or_none() {
        assert_eq!(summary(&[]), "none");
        let b = vec![
            json!({"title": "Stage is slow", "number": 12, "outcome": "deferred", "url": "https://x/12"}),
            json!({"title": "Login loops", "number": null, "outcome": "resolved", "url": ""}),
            json!({"title": "Search crashes", "number": 1187, "outcome": "cherry-pick",
                   "commits": ["abc1234", "def5678"], "url": "https://x/1187"}),
        ];
        assert_eq!(
            summary(&b),
            "Stage is slow (#12): deferred https://x/12; Login loops: resolved; \
             Search crashes (#1187): cherry-pick abc1234 def5678 https://x/1187"
        );
    }

    #[test]
    fn outcomes_are_read_strictly() {
        assert_eq!(parse_outcome("resolved").unwrap().name, "resolved");
        assert_eq!(parse_outcome(" Deferred ").unwrap().name, "deferred");
        let o = parse_outcome("cherry-pick:abc1234,def5678").unwrap();
        assert_eq!((o.name, o.commits.len()), ("cherry-pick", 2));
        let o = parse_outcome("cherry_pick abc1234 https://github.com/o/r/commit/abc1234").unwrap();
        assert_eq!(o.commits.len(), 2);
        assert!(parse_outcome("cherry-pick").unwrap_err().contains("commit"));
        assert!(
            parse_outcome("cherry-pick:nothex!")
                .unwrap_err()
                .contains("not a commit")
        );
        assert!(
            parse_outcome("resolved:abc1234")
                .unwrap_err()
                .contains("no commits")
        );
        assert!(
            parse_outcome("wontfix")
                .unwrap_err()
                .contains("not an outcome")
        );
        assert!(parse_outcome("").is_err());
        // Commits picked from the list, with or without the word, in any order.
        let o = parse_outcome("abc1234 def5678").unwrap();
        assert_eq!((o.name, o.commits.len()), ("cherry-pick", 2));
        let o = parse_outcome("abc1234 cherry-pick").unwrap();
        assert_eq!(
            (o.name, o.commits),
            ("cherry-pick", vec!["abc1234".to_string()])
        );
        let o = parse_outcome("pick https://github.com/o/r/commit/abc1234").unwrap();
        assert_eq!(o.commits, ["https://github.com/o/r/commit/abc1234"]);
        assert!(
            parse_outcome("resolved deferred")
                .unwrap_err()
                .contains("one outcome")
        );
    }

    #[test]
    fn blockers_typed_by_hand_need_three_parts() {
        let (title, url, o) =
            parse_manual("Login broken | https://bugzil.la/1 | cherry-pick:abc1234").unwrap();
        assert_eq!(
            (title.as_str(), url.as_str()),
            ("Login broken", "https://bugzil.la/1")
        );
        assert_eq!(o.commits, ["abc1234"]);
        assert!(parse_manual("Slow search |  | deferred").is_ok());
        assert!(parse_manual("Slow search | deferred").is_err());
        assert!(parse_manual(" | | resolved").is_err());
        assert!(parse_manual("x | not a link | resolved").is_err());
    }

    #[test]
    fn the_email_quotes_what_was_recorded() {
        let email = include_str!("../../../../templates/push-email.txt");
        let start = email.find("Blockers:").unwrap();
        let end = email[start..].find("{% endfor %}").unwrap() + start + "{% endfor %}".len();
        let part = &email[start..end];
        let ctx = json!({ "blockers": [
            { "number": 12, "title": "Uploads fail", "url": "https://github.com/o/r/issues/12",
              "repo": "o/r", "outcome": "cherry-pick", "commits": ["abc1234"] },
            { "number": null, "title": "Slow admin", "url": "", "repo": null,
              "outcome": "deferred", "commits": [] },
        ]});
        assert_eq!(
            crate::templates::render(part, &ctx).unwrap(),
            "Blockers:\n- Uploads fail (#12): cherry-pick abc1234 https://github.com/o/r/issues/12\n- Slow admin: deferred"
        );
        let none = crate::templates::render(part, &json!({ "blockers": [] })).unwrap();
        assert_eq!(none, "Blockers: none");
    }
}
