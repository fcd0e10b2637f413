//! What the approver saw: when a gate is approved (QA, ops), the facts of the push at that
//! moment are kept with the approval, so that a later reader knows what "go" was given on:
//! the tags and their commits, the deploy and what stage answered, the blockers, the watches'
//! verdicts with their numbers, earlier approvals; and, from the screen, its panes' first
//! lines. Read from the session only: gathering it does no I/O.

use serde_json::{Value, json};

use super::state::{SessionState, Status};
use crate::runbook::model::Runbook;

/// The output key a gate keeps its evidence under.
pub const KEY: &str = "evidence";

/// The kinds whose outcome a gate's approver would look at.
const TELLING: &[&str] = &[
    "git.tag",
    "git.push_tag",
    "jenkins.build",
    "http.check",
    "github.blockers",
    "sentry.check",
    "metrics.check",
    "gate",
];

/// The evidence for approving `gate` now: a fact per telling step before it, and `screen`
/// (the panes' lines, when approved on the screen).
pub fn gather(
    rb: &Runbook,
    state: &SessionState,
    gate: &str,
    at: &str,
    screen: &[String],
) -> Value {
    let mut facts = Vec::new();
    for step in rb.steps.iter().take_while(|s| s.id != gate) {
        let kind = step.kind.name();
        if !TELLING.contains(&kind) {
            continue;
        }
        let Some(st) = state.steps.get(&step.id) else {
            continue;
        };
        let fact = match &st.status {
            Status::Done { .. } => done_fact(kind, &st.outputs, state, step.kind.repo()),
            Status::NotApplicable => continue,
            Status::Skipped { reason } => format!("skipped: {}", first_line(reason)),
            Status::Failed { error } => format!("failed: {}", first_line(error)),
            Status::Pending => "not done yet".into(),
            Status::Running { .. } => "still running".into(),
            Status::Interrupted { .. } => "interrupted".into(),
        };
        facts.push(json!({ "step": step.id, "fact": fact }));
    }
    json!({
        "at": at,
        "tags": state.repo_tags,
        "facts": facts,
        "screen": screen,
    })
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or_default()
}

fn text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => first_line(s).chars().take(160).collect(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn done_fact(
    kind: &str,
    out: &crate::runbook::model::Outputs,
    state: &SessionState,
    repo: Option<&str>,
) -> String {
    let get = |k: &str| text(out.get(k));
    match kind {
        "git.tag" => {
            let tag = match out.get("tag_name") {
                Some(Value::String(t)) => t.clone(),
                _ => repo
                    .and_then(|r| state.repo_tags.get(r).cloned())
                    .unwrap_or_default(),
            };
            let commit: String = get("tag_commit").chars().take(12).collect();
            format!("tagged {tag} at {commit}")
        }
        "git.push_tag" => "pushed to its remote".into(),
        "jenkins.build" => format!(
            "build #{} {} {}",
            get("build_number"),
            get("build_result"),
            get("build_url")
        ),
        "http.check" => format!("answered: {}", get("http_body")),
        "github.blockers" => get("blockers_summary"),
        "sentry.check" => format!(
            "{}: {} new issues",
            get("sentry_verdict"),
            get("new_issues")
        ),
        "metrics.check" => format!(
            "{} (score {})",
            get("metrics_verdict"),
            get("metrics_score")
        ),
        "gate" => format!(
            "approved by {} at {}",
            get("approved_by"),
            get("approved_at")
        ),
        _ => "done".into(),
    }
    .trim_end()
    .to_string()
}

/// The evidence as lines for a person (`show`, the report): one per fact, then the screen's.
pub fn lines(evidence: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(tags) = evidence["tags"].as_object() {
        let tags: Vec<String> = tags
            .iter()
            .map(|(repo, tag)| format!("{repo} {}", tag.as_str().unwrap_or_default()))
            .collect();
        if !tags.is_empty() {
            out.push(format!("tags: {}", tags.join(", ")));
        }
    }
    for f in evidence["facts"].as_array().into_iter().flatten() {
        out.push(format!(
            "{}: {}",
            f["step"].as_str().unwrap_or_default(),
            f["fact"].as_str().unwrap_or_default()
        ));
    }
    for l in evidence["screen"].as_array().into_iter().flatten() {
        out.push(format!("on screen: {}", l.as_str().unwrap_or_default()));
    }
    out
}
