//! The flows that ask before acting: the confirmation of a step (its checks, `y`, `f`), the
//! prompts that ask why (skip, reopen, override, end early) or what (an ad-hoc item, a step's
//! inputs), and what a submitted prompt does.

use super::prompt::{Prompt, Purpose, Then};
use super::views::off_the_ui;
use super::{App, Level, Modal, Mode};
use crate::engine::{self, Confirmation, InputSpec, Inputs};
use crate::session::Status;
use crate::tui::Msg;
use crate::tui::action::Action;
use crate::tui::picker::{Item, Pick, Picker};

impl App {
    pub(super) fn open(&mut self, retry: bool) {
        let Some(id) = self.selected_id() else {
            return;
        };
        if self.mode == Mode::Learn {
            if retry {
                self.log(Level::Info, "learn mode is read-only: nothing is retried");
            } else {
                self.modal = Modal::Explain { step: id };
            }
            return;
        }
        let status = self.engine.status(&id);
        if retry && !matches!(status, Status::Failed { .. } | Status::Interrupted { .. }) {
            self.log(
                Level::Info,
                format!("`{id}` has not failed: nothing to retry (Enter runs a step)"),
            );
            return;
        }
        if let Some(why) = self.engine.refusal(&id) {
            self.log(Level::Info, format!("`{id}` cannot run: {why}"));
            self.modal = Modal::Refused { step: id, why };
            return;
        }
        self.yes_pending = false;
        // Read when the dialog opens (and again by the engine right before acting); they
        // read the repository, so off the UI thread when there is a loop to send them to.
        let check = match self.engine.checker(&id) {
            Ok(c) => c,
            Err(e) => {
                self.log(Level::Error, format!("{e:#}"));
                return;
            }
        };
        match &self.previewer {
            Some(tx) => {
                let step = id.clone();
                let spawned = off_the_ui(tx, "checks", move || Msg::Confirmation {
                    step,
                    read: check(),
                });
                if !spawned {
                    self.log(Level::Error, "could not start a thread for the checks");
                    return;
                }
                self.modal = Modal::Confirm {
                    step: id,
                    read: None,
                };
            }
            None => {
                self.modal = Modal::Confirm {
                    step: id,
                    read: Some(check()),
                }
            }
        }
    }

    /// The confirmation of the step whose dialog is open, read off the UI thread.
    /// A `y` pressed while it was read counts now, if its checks passed.
    pub fn on_confirmation(&mut self, step: &str, read: Confirmation) {
        let Modal::Confirm {
            step: open,
            read: pending @ None,
        } = &mut self.modal
        else {
            return;
        };
        if open != step {
            return;
        }
        *pending = Some(read);
        if std::mem::take(&mut self.yes_pending) {
            self.update(Action::Yes);
        }
    }

    /// `h`: what to do by hand instead of the selected step, read off the UI thread; `y`
    /// then ticks it off. Learn mode shows it too (it writes nothing).
    pub(super) fn show_by_hand(&mut self) {
        let Some(id) = self.selected_id() else {
            return;
        };
        let read = match self.engine.by_hand_reader(&id) {
            Ok(r) => r,
            Err(e) => {
                self.log(Level::Info, format!("{e:#}"));
                return;
            }
        };
        match &self.previewer {
            Some(tx) => {
                let step = id.clone();
                let spawned = off_the_ui(tx, "by-hand", move || Msg::ByHand {
                    step,
                    shown: read().map_err(|e| format!("{e:#}")),
                });
                if !spawned {
                    self.log(Level::Error, "could not start a thread to read it");
                    return;
                }
                self.modal = Modal::ByHand {
                    step: id,
                    shown: None,
                };
            }
            None => {
                self.modal = Modal::ByHand {
                    step: id.clone(),
                    shown: None,
                };
                self.on_by_hand(&id, read().map_err(|e| format!("{e:#}")));
            }
        }
    }

    /// What to do by hand, read for the open dialog; a step that cannot say closes it.
    pub fn on_by_hand(&mut self, step: &str, shown: Result<engine::ByHand, String>) {
        let Modal::ByHand {
            step: open,
            shown: pending @ None,
        } = &mut self.modal
        else {
            return;
        };
        if open != step {
            return;
        }
        match shown {
            Ok(s) => *pending = Some(s),
            Err(e) => {
                self.modal = Modal::None;
                self.log(Level::Error, format!("`{step}` by hand: {e}"));
            }
        }
    }

    /// What to do by hand is read again off the UI thread (it reads the runbook's files),
    /// then the step is ticked off if it did not change.
    fn read_again_to_tick_off(&mut self, step: String, note: String, shown: engine::ByHand) {
        let read = match self.engine.by_hand_reader(&step) {
            Ok(r) => r,
            Err(e) => {
                self.log(Level::Error, format!("{e:#}"));
                return;
            }
        };
        match &self.previewer {
            Some(tx) => {
                let msg_step = step.clone();
                let spawned = off_the_ui(tx, "by-hand", move || Msg::TickOff {
                    step: msg_step,
                    note,
                    shown,
                    again: read().map_err(|e| format!("{e:#}")),
                });
                if !spawned {
                    self.log(Level::Error, "could not start a thread to read it");
                }
            }
            None => {
                let again = read().map_err(|e| format!("{e:#}"));
                self.tick_off(&step, &note, &shown, again);
            }
        }
    }

    /// Ticks `step` off as done by hand with `note`, having read again what to do.
    pub fn tick_off(
        &mut self,
        step: &str,
        note: &str,
        shown: &engine::ByHand,
        again: Result<engine::ByHand, String>,
    ) {
        let done = again
            .map_err(|e| anyhow::anyhow!(e))
            .and_then(|again| self.engine.done_by_hand_as_read(step, note, shown, &again));
        match done {
            Ok(()) => self.log(Level::Info, format!("{step} done by hand: {note}")),
            Err(e) => self.log(Level::Error, format!("{e:#}")),
        }
        self.refresh_views();
        self.move_on_from(step);
    }

    pub(super) fn ask_skip(&mut self) {
        self.ask_reason(false);
    }

    pub(super) fn ask_reopen(&mut self) {
        self.ask_reason(true);
    }

    /// A running watch (Sentry, metrics) ends now and is judged on what it saw; the note
    /// says why, for the journal.
    pub(super) fn ask_end_early(&mut self) {
        let Some(id) = self.selected_id() else {
            return;
        };
        let watches = self
            .engine
            .step(&id)
            .is_ok_and(|s| matches!(s.kind.name(), "sentry.check" | "metrics.check"));
        if !watches || !self.engine.running().any(|r| *r == id) {
            self.log(
                Level::Info,
                format!("`{id}` is not a running watch: only a running Sentry or metrics check can end early"),
            );
            return;
        }
        self.modal = Modal::Prompt(Prompt::new(
            format!("End {id} now"),
            "why it has watched enough".into(),
            vec!["it is judged on the data it has seen so far".into()],
            Purpose::EndEarly { step: id },
        ));
    }

    /// An ad-hoc item for the selected step's section: asks for its text.
    pub(super) fn ask_item(&mut self) {
        if self.mode == Mode::Learn {
            self.log(
                Level::Info,
                "learn mode is read-only: nothing is added or recorded",
            );
            return;
        }
        let Some(section) = self
            .selected_id()
            .and_then(|id| self.engine.step(&id).ok().map(|s| s.section.clone()))
        else {
            return;
        };
        let title = crate::sanitize::clean_line(self.engine.loaded.runbook.section_title(&section))
            .into_owned();
        self.modal = Modal::Prompt(Prompt::new(
            format!("Add an item to {title}"),
            "what to do (a manual step of this push only)".into(),
            vec!["journaled; tick it off like any manual step".into()],
            Purpose::AddItem { section },
        ));
    }

    /// Skip (a step not finished) or reopen (a finished one): both ask why, for the journal.
    fn ask_reason(&mut self, reopen: bool) {
        let Some(id) = self.selected_id() else {
            return;
        };
        let verb = if reopen { "reopened" } else { "skipped" };
        if self.mode == Mode::Learn {
            self.log(
                Level::Info,
                format!("learn mode is read-only: nothing is {verb} or recorded"),
            );
            return;
        }
        // The engine's rules, asked before the prompt so nobody types a reason in vain.
        let status = self.engine.status(&id);
        let refused = match (reopen, &status) {
            (
                true,
                Status::Done { .. }
                | Status::Skipped { .. }
                | Status::Failed { .. }
                | Status::Interrupted { .. },
            ) => None,
            (true, _) => Some("is not finished: nothing to reopen".to_string()),
            (false, Status::Pending | Status::Failed { .. } | Status::Interrupted { .. }) => None,
            (false, Status::Done { .. }) => {
                Some("is done: it can only be reopened (O), not skipped".to_string())
            }
            (false, other) => Some(format!("is {}: it cannot be skipped", other.name())),
        };
        if let Some(why) = refused {
            self.log(Level::Info, format!("`{id}` {why}"));
            return;
        }
        let (title, prompt, purpose) = if reopen {
            (
                format!("Reopen {id}"),
                "why it must run again",
                Purpose::Reopen { step: id },
            )
        } else {
            (format!("Skip {id}"), "reason", Purpose::Skip { step: id })
        };
        self.modal = Modal::Prompt(Prompt::new(title, prompt.into(), Vec::new(), purpose));
    }

    fn confirmed(&mut self, step: &str, read: &Confirmation, override_reason: Option<String>) {
        // An approval keeps what the panes showed when it was given.
        if self
            .engine
            .step(step)
            .is_ok_and(|s| s.kind.name() == "gate")
        {
            self.engine.on_screen = self.panes_at_a_glance();
        }
        let then = Then {
            override_reason,
            pinned: read.pinned(),
        };
        match self.engine.inputs(step) {
            Ok(mut specs) => {
                // Reopened for a blocker's fix: the choice that picks it is offered first.
                if let Some((var, value)) = self
                    .engine
                    .blocker_follow_up()
                    .filter(|f| f.step == step)
                    .and_then(|f| f.choose)
                {
                    for spec in specs.iter_mut().filter(|s| s.key == var) {
                        spec.default = Some(value.clone());
                    }
                }
                self.ask_input(step.to_string(), specs, 0, Inputs::new(), then)
            }
            Err(e) => self.log(Level::Error, format!("{e:#}")),
        }
    }

    fn ask_input(
        &mut self,
        step: String,
        specs: Vec<InputSpec>,
        index: usize,
        answers: Inputs,
        then: Then,
    ) {
        let Some(spec) = specs.get(index) else {
            self.start(&step, answers, then);
            return;
        };
        let hints = spec.hints.clone();
        let picker = if !spec.options.is_empty() {
            let items = spec.options.iter().map(|(v, l)| Item {
                value: v.clone(),
                label: l.clone(),
                note: String::new(),
            });
            Some(Box::new(Picker::new(Pick::One, items.collect())))
        } else if !spec.commits.is_empty() {
            let items = spec.commits.iter().map(|c| Item {
                value: c.sha.clone(),
                label: c.subject.clone(),
                note: c.author.clone(),
            });
            Some(Box::new(Picker::new(Pick::Many, items.collect())))
        } else {
            None
        };
        let default = spec.default.clone();
        let mut prompt = Prompt::new(
            format!("{step} ({}/{})", index + 1, specs.len()),
            spec.prompt.clone(),
            hints,
            Purpose::Inputs {
                step,
                specs,
                index,
                answers,
                then,
            },
        );
        prompt.picker = picker;
        // A suggestion is typed in already: Enter takes it, Ctrl-U clears it.
        if let Some(d) = default {
            prompt.cursor = d.chars().count();
            prompt.buffer = d;
        }
        self.modal = Modal::Prompt(prompt);
    }

    pub(super) fn submit_prompt(&mut self) {
        let Modal::Prompt(mut p) = std::mem::replace(&mut self.modal, Modal::None) else {
            return;
        };
        // Nothing typed in a choice: the highlighted option is the answer.
        if let Some(k) = p.picker.as_ref().filter(|k| k.pick == Pick::One)
            && p.buffer.trim().is_empty()
            && let Some(item) = k.items.get(k.cursor)
        {
            p.buffer = item.value.clone();
        }
        let reason = p.buffer.trim().to_string();
        let needs_reason = !matches!(p.purpose, Purpose::Inputs { .. });
        if needs_reason && reason.is_empty() {
            let what = match p.purpose {
                Purpose::AddItem { .. } => "the item needs a text",
                _ => "a reason is required",
            };
            self.modal = Modal::Prompt(Prompt {
                error: Some(what.into()),
                ..p
            });
            return;
        }
        match p.purpose.clone() {
            Purpose::Override { step, read } => {
                self.log(
                    Level::Warn,
                    format!("overriding the checks of {step}: {reason}"),
                );
                self.confirmed(&step, &read, Some(reason));
            }
            Purpose::ByHand { step, shown } => self.read_again_to_tick_off(step, reason, shown),
            Purpose::OpenLink { links } => {
                if let Err(e) = self.picked_link(&links, &reason) {
                    self.modal = Modal::Prompt(Prompt {
                        error: Some(e),
                        ..p
                    });
                }
            }
            Purpose::OfflineLog { step } => match self.offline.take() {
                Some(claim) => {
                    let started = self.engine.end_start_offline(*claim, &reason);
                    self.started(&step, started);
                }
                None => self.log(Level::Error, format!("`{step}`: nothing waits to run")),
            },
            Purpose::TakeOver { from } => {
                self.log(
                    Level::Info,
                    format!("taking the seat from {from}: {reason}"),
                );
                self.take_over = Some(reason);
                self.quit = true;
            }
            Purpose::EndEarly { step } => match self.engine.end_early(&step, &reason) {
                Ok(()) => self.log(Level::Info, format!("ending {step} early: {reason}")),
                Err(e) => self.log(Level::Error, format!("{e:#}")),
            },
            Purpose::AddItem { section } => {
                match self.engine.add_item(&p.buffer, Some(&section), false) {
                    Ok(id) => {
                        self.log(Level::Info, format!("added {id}: {reason}"));
                        self.refresh_views();
                        if let Some(i) = self.step_index(&id) {
                            self.select(i);
                        }
                    }
                    // A text the engine refuses (a control character, too long): fix it.
                    Err(e) => {
                        self.modal = Modal::Prompt(Prompt {
                            error: Some(format!("{e:#}")),
                            ..p
                        });
                    }
                }
            }
            Purpose::Skip { step } | Purpose::Reopen { step } => {
                let (done, verb) = match p.purpose {
                    Purpose::Skip { .. } => (self.engine.skip(&step, &reason), "skipped"),
                    _ => (self.engine.reopen(&step, &reason), "reopened"),
                };
                match done {
                    Ok(()) => self.log(Level::Info, format!("{verb} {step}: {reason}")),
                    Err(e) => self.log(Level::Error, format!("{e:#}")),
                }
                self.refresh_views();
                self.move_on_from(&step);
            }
            Purpose::Inputs {
                step,
                specs,
                index,
                mut answers,
                then,
            } => {
                let Some(spec) = specs.get(index) else {
                    return;
                };
                match spec.accept(&p.buffer) {
                    Ok(v) => {
                        answers.insert(spec.key.clone(), v);
                        self.ask_input(step, specs, index + 1, answers, then);
                    }
                    Err(e) => {
                        self.modal = Modal::Prompt(Prompt {
                            error: Some(e),
                            ..p
                        });
                    }
                }
            }
        }
    }

    fn start(&mut self, step: &str, inputs: Inputs, then: Then) {
        match self
            .engine
            .begin_start(step, inputs, then.override_reason.as_deref(), then.pinned)
        {
            Ok(None) => self.log(Level::Info, format!("running {step}")),
            Ok(Some(claim)) => {
                self.log(
                    Level::Info,
                    format!("writing {step} to the team's push log first…"),
                );
                match self.previewer.clone() {
                    Some(tx) => {
                        self.claiming = Some(step.to_string());
                        let spawned = super::views::off_the_ui(&tx, "push-log", move || {
                            super::super::Msg::Claimed(Box::new(claim.run()))
                        });
                        if !spawned {
                            self.claiming = None;
                            self.log(Level::Error, "could not start a thread for the push log");
                        }
                    }
                    // Tests without a loop: in place.
                    None => self.on_claimed(claim.run()),
                }
            }
            Err(e) => self.log(Level::Error, format!("{e:#}")),
        }
    }

    /// Whether a step's start is being written to the push log.
    pub fn claiming(&self) -> bool {
        self.claiming.is_some()
    }

    /// The push log answered a step's start: it runs, or is refused.
    pub fn on_claimed(&mut self, claim: crate::engine::LogClaim) {
        self.claiming = None;
        let step = claim.step().to_string();
        // The log is away: going on without it is the operator's choice, with a reason.
        if let Some(why) = claim.unreachable() {
            self.offline = Some(Box::new(claim));
            self.modal = Modal::Prompt(Prompt::new(
                format!("Run {step} without the team's push log?"),
                "why (journaled with the step; Esc: do not run it)".into(),
                vec![
                    format!("the push log cannot be reached: {why}"),
                    "its lines go to the log with the next step that writes there, or \
                     `pushduty log sync`"
                        .into(),
                ],
                Purpose::OfflineLog { step },
            ));
            return;
        }
        let started = self.engine.end_start(claim);
        self.started(&step, started);
    }

    /// Says how a start that waited for the push log ended, and what the log has not heard.
    fn started(&mut self, step: &str, started: anyhow::Result<()>) {
        match started {
            Ok(()) => self.log(Level::Info, format!("running {step}")),
            Err(e) => self.log(Level::Error, format!("{e:#}")),
        }
        for w in std::mem::take(&mut self.engine.log_warnings) {
            self.log(Level::Warn, w);
        }
    }

    /// The operator did not go on without the push log: the step is not run.
    pub(super) fn not_offline(&mut self) {
        if let Some(claim) = self.offline.take() {
            let step = claim.step().to_string();
            self.engine.abandon_start(*claim);
            self.log(
                Level::Info,
                format!("`{step}` was not run: the team's push log cannot be reached"),
            );
        }
    }

    /// `y`: a confirmation whose checks passed runs its step (after its inputs); one whose
    /// checks are still being read runs once they pass; quitting while a step runs cancels it.
    pub(super) fn yes(&mut self) {
        match std::mem::replace(&mut self.modal, Modal::None) {
            Modal::Confirm { step, read: None } => {
                // Taken as said: it runs as soon as the checks pass.
                self.yes_pending = true;
                self.modal = Modal::Confirm { step, read: None };
            }
            Modal::Confirm {
                step,
                read: Some(read),
            } => {
                if let Some(failed) = engine::failed_checks(&read.checks) {
                    self.log(
                        Level::Warn,
                        format!("`{step}` is not run: {failed} (f overrides it, with a reason)"),
                    );
                    self.modal = Modal::Confirm {
                        step,
                        read: Some(read),
                    };
                } else {
                    self.confirmed(&step, &read, None);
                }
            }
            Modal::ByHand {
                step,
                shown: Some(shown),
            } => {
                if self.mode == Mode::Learn {
                    self.log(
                        Level::Info,
                        "learn mode is read-only: nothing is ticked off",
                    );
                    self.modal = Modal::ByHand {
                        step,
                        shown: Some(shown),
                    };
                    return;
                }
                self.modal = Modal::Prompt(Prompt::new(
                    format!("{step} done by hand"),
                    "what you did (journaled with what was shown)".into(),
                    Vec::new(),
                    Purpose::ByHand { step, shown },
                ));
            }
            Modal::QuitRunning => {
                self.engine.cancel_all();
                self.log(Level::Warn, "quitting: the running step was cancelled");
                self.quit = true;
            }
            other => self.modal = other,
        }
    }

    /// `f`: a confirmation whose checks failed asks why to act anyway.
    pub(super) fn override_checks(&mut self) {
        match std::mem::replace(&mut self.modal, Modal::None) {
            Modal::Confirm {
                step,
                read: Some(read),
            } if engine::failed_checks(&read.checks).is_some() => {
                self.modal = Modal::Prompt(Prompt::new(
                    format!("Override the checks of {step}"),
                    "why act anyway (journaled)".into(),
                    read.checks
                        .iter()
                        .filter(|c| !c.ok)
                        .map(|c| c.text.clone())
                        .collect(),
                    Purpose::Override { step, read },
                ));
            }
            other => self.modal = other,
        }
    }

    /// `n` or Esc: the dialog closes, and a `y` given while its checks were read is dropped.
    pub(super) fn no(&mut self) {
        self.yes_pending = false;
        self.modal = Modal::None;
    }
}
