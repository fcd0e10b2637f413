//! The blocker path: once a blocker is recorded with the commits that fix it and the push has
//! a tag already, what comes next is picking those commits onto it: reopening the choice that
//! turns the cherry-pick step on (or the cherry-pick step itself), not the steps after the
//! blockers. Read from the session alone, so the status line can say it on every frame.

use serde_json::Value;

use super::Engine;
use crate::git::cherry_pick::commit_sha_from;
use crate::runbook::model::StepKind;
use crate::session::Status;
use crate::templates::refs::condition_variables;

/// What the blockers' fixes wait for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUp {
    /// The step to act on next.
    pub step: String,
    /// Whether it is finished and must be reopened first.
    pub reopen: bool,
    /// The choice to make in it (`strategy`, `cherry_pick`), when it is the choice.
    pub choose: Option<(String, String)>,
    /// The fixes not picked yet, as recorded.
    pub commits: Vec<String>,
}

impl FollowUp {
    /// For the status line: "reopen strategy (O), choose cherry_pick: picks abc1234".
    pub fn label(&self) -> String {
        let verb = if self.reopen {
            format!("reopen {} (O)", self.step)
        } else {
            self.step.clone()
        };
        let choose = self
            .choose
            .as_ref()
            .map(|(_, v)| format!(", choose {v}"))
            .unwrap_or_default();
        format!(
            "{verb}{choose}: the blockers' fixes {}",
            self.commits.join(" ")
        )
    }
}

impl Engine {
    /// The step the blockers' fixes wait for, if a blocker was recorded with commits that no
    /// done cherry-pick has applied, after this push was tagged.
    pub fn blocker_follow_up(&self) -> Option<FollowUp> {
        let rb = &self.loaded.runbook;
        let done = |id: &str| matches!(self.status(id), Status::Done { .. });
        let outputs = |id: &str| self.session.state.steps.get(id).map(|s| &s.outputs);
        let tagged = rb
            .steps
            .iter()
            .any(|s| matches!(s.kind, StepKind::GitTag(_)) && done(&s.id));
        if !tagged {
            return None;
        }
        let mut fixes: Vec<String> = Vec::new();
        let mut applied: Vec<String> = Vec::new();
        for s in &rb.steps {
            let Some(out) = outputs(&s.id).filter(|_| done(&s.id)) else {
                continue;
            };
            match &s.kind {
                StepKind::GithubBlockers(_) => {
                    let listed = out.get(super::blockers::BLOCKER_COMMITS);
                    for c in listed.and_then(Value::as_array).into_iter().flatten() {
                        if let Some(c) = c.as_str().filter(|c| !fixes.iter().any(|f| f == c)) {
                            fixes.push(c.to_string());
                        }
                    }
                }
                StepKind::GitCherryPick(_) => {
                    let picks = out.get("cherry_picks").map(|p| &p["applied"]);
                    applied.extend(
                        picks
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                            .filter_map(|a| a["original"].as_str().map(str::to_string)),
                    );
                }
                _ => {}
            }
        }
        let waiting: Vec<String> = fixes
            .into_iter()
            .filter(|f| {
                let sha = commit_sha_from(f).unwrap_or(f);
                !applied.iter().any(|a| a.starts_with(sha))
            })
            .collect();
        if waiting.is_empty() {
            return None;
        }
        let pick = rb
            .steps
            .iter()
            .find(|s| matches!(s.kind, StepKind::GitCherryPick(_)))?;
        let at = |id: &str, choose| FollowUp {
            step: id.to_string(),
            reopen: self.status(id).is_finished(),
            choose,
            commits: waiting.clone(),
        };
        if !matches!(self.status(&pick.id), Status::NotApplicable) {
            return Some(at(&pick.id, None));
        }
        // The choice that turns the cherry-pick step on, and the option that does.
        let cond = pick.only_if.as_deref()?;
        let reads = condition_variables(cond).ok()?;
        let ctx = self.run_context();
        rb.steps.iter().find_map(|s| {
            let StepKind::Choice(c) = &s.kind else {
                return None;
            };
            if !reads.contains(&c.var) {
                return None;
            }
            let value = c.options.iter().find_map(|o| {
                let mut with = ctx.clone();
                with[&c.var] = Value::String(o.value.clone());
                crate::templates::condition(cond, &with)
                    .ok()
                    .filter(|on| *on)
                    .map(|_| o.value.clone())
            })?;
            Some(at(&s.id, Some((c.var.clone(), value))))
        })
    }
}
