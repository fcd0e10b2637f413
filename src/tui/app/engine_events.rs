//! News from the engine: a running step's progress, checkpoints and end; and a signal that
//! ends pushduty.

use super::{App, Level, Modal};
use crate::engine;

impl App {
    /// News from a running step.
    pub fn on_engine(&mut self, ev: engine::Event) {
        match ev {
            engine::Event::Progress { step, line } => {
                self.log(Level::Progress, format!("{step}: {line}"));
            }
            engine::Event::LogWritten => {
                self.engine.log_back();
                for w in std::mem::take(&mut self.engine.log_warnings) {
                    self.log(Level::Warn, w);
                }
            }
            engine::Event::Checkpoint { step, values, ack } => {
                self.poke_sources(&step);
                if let Err(e) = self.engine.checkpoint(&step, values, &ack) {
                    self.log(
                        Level::Error,
                        format!("could not journal {step}'s handle: {e:#}"),
                    );
                }
            }
            engine::Event::Finished { step, result } => {
                self.poke_sources(&step);
                let ran = self.running_for(&step);
                let msg = match &result {
                    Ok(_) => (Level::Info, format!("done: {step}")),
                    // The first line: the rest (a health check's table) is in the
                    // details and was logged as it came.
                    // What can be done next, where a missing token or a refusing service
                    // would leave the hero looking for it.
                    Err(e) => (
                        Level::Error,
                        format!(
                            "failed: {step}: {} (r retries, h does it by hand)",
                            e.lines().next().unwrap_or_default()
                        ),
                    ),
                };
                match self.engine.finish(&step, result) {
                    Ok(()) => self.log(msg.0, msg.1),
                    Err(e) => self.log(Level::Error, format!("could not record {step}: {e:#}")),
                }
                // A result the team's push log could not take yet: it goes with the next write.
                for w in std::mem::take(&mut self.engine.log_warnings) {
                    self.log(Level::Warn, w);
                }
                self.call_for_finished(&step, ran);
                self.refresh_views();
                self.move_on_from(&step);
                self.note_push_moment();
            }
        }
    }

    /// After `step` finished, the cursor goes on to the step to do next, if it was on `step`
    /// (one that failed keeps it, for a retry; one the operator looks at elsewhere is left).
    pub(super) fn move_on_from(&mut self, step: &str) {
        let on_it = self.selected_id().as_deref() == Some(step);
        if on_it
            && self.engine.status(step).is_finished()
            && let Some(i) = self.next_index()
        {
            self.select(i);
        }
    }

    /// A signal ends pushduty: the running step is cancelled and journaled as interrupted
    /// by it, then the loop ends and the terminal is restored.
    pub fn on_signal(&mut self, name: &str, exit_code: u8) {
        if self.engine.is_running() {
            self.engine.interrupt_all(name);
            self.log(
                Level::Warn,
                format!("{name}: interrupting the running step"),
            );
        }
        self.exit_code = Some(exit_code);
        self.modal = Modal::None;
        self.quit = true;
    }
}
