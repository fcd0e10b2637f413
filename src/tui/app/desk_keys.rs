//! The hero's desk from the screen: `o` opens the link of what is selected, `c` copies the
//! step's text or link, and the moments worth calling the operator for (a long step ended,
//! a watch's verdict, a new blocker, a gate waiting past its follow-up). Only [`Effect`]s
//! are queued here; the loop does them.

use super::prompt::{Prompt, Purpose};
use super::{App, Level, Modal};
use crate::session::Status;
use crate::tui::desk::Effect;
use crate::tui::links::{self, Link};
use crate::tui::picker::{Item, Pick, Picker};

impl App {
    /// `o`: the one link there is opens at once; several are offered to pick from.
    pub(super) fn open_link(&mut self) {
        let offered = links::offered(self);
        match offered.as_slice() {
            [] => self.log(Level::Info, nothing_to("open", self)),
            [one] => {
                let url = one.url.clone();
                self.open_url(url);
            }
            _ => self.pick_link(offered),
        }
    }

    fn pick_link(&mut self, offered: Vec<Link>) {
        let items = offered
            .iter()
            .map(|l| Item {
                value: l.url.clone(),
                label: l.label.clone(),
                note: String::new(),
            })
            .collect();
        let mut prompt = Prompt::new(
            "Open a link".into(),
            "which (arrows or its number, Enter)".into(),
            Vec::new(),
            Purpose::OpenLink { links: offered },
        );
        prompt.picker = Some(Box::new(Picker::new(Pick::One, items)));
        self.modal = Modal::Prompt(prompt);
    }

    /// The picked link: its number, or its address as the picker fills it in.
    pub(super) fn picked_link(&mut self, offered: &[Link], answer: &str) -> Result<(), String> {
        let by_number = answer
            .parse::<usize>()
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| offered.get(i));
        match by_number.or_else(|| offered.iter().find(|l| l.url == answer)) {
            Some(l) => {
                self.open_url(l.url.clone());
                Ok(())
            }
            None => Err(format!("pick one of the {} links", offered.len())),
        }
    }

    fn open_url(&mut self, url: String) {
        self.log(Level::Info, format!("opening {url}"));
        self.effects.push(Effect::Open(url));
    }

    /// `c`: the by-hand text (or page) when its dialog is open, else the step's (or the
    /// focused pane's) first link; copied with OSC 52 and shown whole to select by hand.
    pub(super) fn copy(&mut self) {
        let text = match &self.modal {
            Modal::ByHand { shown: Some(s), .. } => s.copy.clone().or_else(|| s.link.clone()),
            _ => links::offered(self).into_iter().next().map(|l| l.url),
        };
        let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
            self.log(Level::Info, nothing_to("copy", self));
            return;
        };
        let lines = text.lines().count();
        self.log(
            Level::Info,
            if lines > 1 {
                format!("copied {lines} lines to the clipboard")
            } else {
                format!("copied {text}")
            },
        );
        self.effects.push(Effect::Copy(text.clone()));
        // The by-hand dialog shows the text already; elsewhere a dialog shows what was copied.
        if !matches!(self.modal, Modal::ByHand { .. }) {
            self.modal = Modal::Copied { text };
        }
    }

    /// Calls the operator (the loop decides how, by the config).
    fn call(&mut self, body: String) {
        self.effects.push(Effect::Notify {
            title: "pushduty".into(),
            body,
        });
    }

    /// After `step` ended: a watch's verdict, or any step that ran long, calls the operator.
    /// `ran`: how long it ran, in seconds, when known.
    pub(super) fn call_for_finished(&mut self, step: &str, ran: Option<i64>) {
        let watch = self
            .engine
            .step(step)
            .is_ok_and(|s| matches!(s.kind.name(), "sentry.check" | "metrics.check"));
        let long = ran.is_some_and(|s| s >= self.long_step_secs);
        if !watch && !long {
            return;
        }
        let said = match self.engine.status(step) {
            Status::Done { .. } if watch => "passed",
            Status::Done { .. } => "done",
            Status::Failed { .. } => "failed",
            Status::Interrupted { .. } => "interrupted",
            _ => "ended",
        };
        self.call(format!("{step} {said}"));
    }

    /// Each gate that has waited past its `follow_up_after_minutes` calls the operator, once:
    /// waited since the steps it follows were done. Run only (learn calls no one).
    pub(super) fn call_for_waiting_gates(&mut self) {
        if self.mode != super::Mode::Run {
            return;
        }
        let now = self.fixed_now.unwrap_or_else(chrono::Utc::now);
        let rb = &self.engine.loaded.runbook;
        let mut due = Vec::new();
        for (i, step) in rb.steps.iter().enumerate() {
            let pushduty_core::runbook::kinds::StepKind::Gate(g) = &step.kind else {
                continue;
            };
            let Some(minutes) = g.follow_up_after_minutes else {
                continue;
            };
            if self.gates_called.contains(&step.id)
                || !matches!(self.engine.status(&step.id), Status::Pending)
            {
                continue;
            }
            let followed: Vec<&str> = if step.after.is_empty() {
                rb.steps[..i].iter().map(|s| s.id.as_str()).collect()
            } else {
                step.after.iter().map(String::as_str).collect()
            };
            let Some(since) = waiting_since(self, &followed) else {
                continue;
            };
            let waited = (now - since).num_seconds();
            if waited >= i64::try_from(minutes.saturating_mul(60)).unwrap_or(i64::MAX) {
                let who = g
                    .who
                    .as_deref()
                    .and_then(|w| crate::templates::render(w, &self.engine.context()).ok())
                    .map(|w| format!(" with {w}"))
                    .unwrap_or_default();
                due.push((
                    step.id.clone(),
                    format!(
                        "{} has waited {}: follow up{who}",
                        step.id,
                        crate::session::timing::duration(waited)
                    ),
                ));
            }
        }
        for (id, body) in due {
            self.gates_called.insert(id);
            self.call(body);
        }
    }

    /// Each pane read so far, as its name and first two lines: what a glance at the screen
    /// gives.
    pub(super) fn panes_at_a_glance(&self) -> Vec<String> {
        self.panes
            .iter()
            .filter(|p| !p.lines.is_empty())
            .map(|p| {
                let first: Vec<&str> = p
                    .lines
                    .iter()
                    .map(|l| l.trim())
                    .filter(|l| !l.is_empty())
                    .take(2)
                    .collect();
                format!("{}: {}", p.name, first.join(" · "))
            })
            .collect()
    }

    /// A blockers pane's read: each blocker not in the previous read calls the operator.
    /// The first read calls no one (what is open at the start is on the screen already).
    pub(super) fn call_for_blockers(&mut self, before: Option<&[String]>, now: &[String]) {
        let Some(before) = before else {
            return;
        };
        let new: Vec<&String> = now
            .iter()
            .filter(|l| l.starts_with('#') && !before.contains(l))
            .collect();
        if let Some(first) = new.first() {
            let more = match new.len() {
                1 => String::new(),
                n => format!(" (and {} more)", n - 1),
            };
            self.call(format!("new blocker: {first}{more}"));
        }
    }
}

/// What `o` or `c` says when there is nothing to act on here.
fn nothing_to(verb: &str, app: &App) -> String {
    if app.focus == super::Focus::Panes {
        format!("this pane shows no link to {verb}")
    } else {
        format!("this step has no link or text to {verb}")
    }
}

/// When the last of `steps` was done, if each is finished and one has a time: a gate waits
/// from then. A step still to do means the gate is not waiting yet.
fn waiting_since(app: &App, steps: &[&str]) -> Option<chrono::DateTime<chrono::Utc>> {
    let mut since = None;
    for id in steps {
        match app.engine.status(id) {
            Status::Done { at } => {
                let t = chrono::DateTime::parse_from_rfc3339(&at).ok()?.to_utc();
                since = since.max(Some(t));
            }
            Status::Skipped { .. } | Status::NotApplicable => {}
            _ => return None,
        }
    }
    since
}
