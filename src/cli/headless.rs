//! What `do` and `run --auto` share: a session opened without a screen, signals that
//! interrupt the running step properly, and the loop that runs one step to its end.

use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, mpsc};
use std::time::Duration;

use anyhow::{Context, Result};

use super::session::{Prepared, open_engine};
use super::{Global, fail, signals};
use crate::engine::{self, Cancel, Console, Engine, Event, Inputs, NoEdit};
use crate::runbook::model::Outputs;
use crate::session::Opened;

/// Runs `$EDITOR` directly: a headless command owns the terminal.
struct EditorConsole {
    editor: String,
    dir: std::path::PathBuf,
}

impl Console for EditorConsole {
    fn edit(&self, text: &str, name: &str, cancel: &Cancel) -> Result<String> {
        engine::editor::run_editor(&self.editor, text, name, &self.dir, &|| {
            cancel.is_cancelled()
        })
    }
}

/// A console set once the session's folder is known.
struct Deferred(Arc<OnceLock<Arc<dyn Console>>>);

impl Console for Deferred {
    fn edit(&self, text: &str, name: &str, cancel: &Cancel) -> Result<String> {
        match self.0.get() {
            Some(c) => c.edit(text, name, cancel),
            None => NoEdit.edit(text, name, cancel),
        }
    }
}

/// How a step run by [`Headless::run_step`] ended (journaled already).
pub enum Ended {
    Done(Outputs),
    Failed(String),
    /// A signal interrupted it; pushduty must exit with this signal's code.
    Stopped(signals::Stop),
}

/// An engine on this push's session (locked), with its events and the stopping signals.
pub struct Headless {
    pub engine: Engine,
    pub opened: Opened,
    events: mpsc::Receiver<Event>,
    stops: mpsc::Receiver<signals::Stop>,
    /// False while no step runs: a signal then ends pushduty at once (the lock is the
    /// kernel's, nothing is half-written); true from the moment a step starts until its end
    /// is journaled.
    started: Arc<AtomicBool>,
    /// How long each step usually takes (past pushes of the runbook), for the heartbeat.
    usual: std::collections::BTreeMap<String, crate::report::Usual>,
}

/// How often a long step says it is still running when it says nothing itself.
const HEARTBEAT: Duration = Duration::from_secs(10);

impl Headless {
    /// `--offline-log REASON`: steps may run without the team's push log when it cannot be
    /// reached, the reason journaled with each. An empty reason is a usage error.
    pub fn go_on_without_the_log(&mut self, why: Option<&str>) -> Result<(), ExitCode> {
        match why.map(str::trim) {
            Some("") => {
                eprintln!("pushduty: --offline-log needs a reason: it is journaled with the step");
                Err(ExitCode::from(2))
            }
            why => {
                self.engine.offline_log = why.map(str::to_string);
                Ok(())
            }
        }
    }

    /// Opens the session. `editor`: templates open `$EDITOR` (a terminal is there to use
    /// it); otherwise a template is written as rendered.
    pub fn open(g: &Global, p: Prepared, editor: bool) -> Result<Self, ExitCode> {
        let editor_cmd = engine::editor::editor(p.config.editor.as_deref());
        let (tx, events) = mpsc::channel();
        let notify: engine::Notify = Arc::new(move |e| {
            let _ = tx.send(e);
        });
        let started = Arc::new(AtomicBool::new(false));
        let (sig_tx, stops) = mpsc::channel();
        if let Err(e) = signals::watch(started.clone(), move |s| sig_tx.send(s).is_ok()) {
            return Err(fail(&e));
        }
        // The console needs the session folder, known once the session is open.
        let holder: Arc<OnceLock<Arc<dyn Console>>> = Arc::default();
        let console = Arc::new(Deferred(holder.clone()));
        let (engine, opened) = open_engine(g, p, console, notify)?;
        let usual = g.state_dir().map_or_else(
            |_| Default::default(),
            |d| {
                crate::session::usual_durations(
                    &d,
                    &crate::session::slug(&engine.loaded.runbook.name),
                )
            },
        );
        let real: Arc<dyn Console> = if editor {
            let dir = engine
                .session
                .dir()
                .map_or_else(std::env::temp_dir, Path::to_path_buf);
            Arc::new(EditorConsole {
                editor: editor_cmd,
                dir,
            })
        } else {
            Arc::new(NoEdit)
        };
        let _ = holder.set(real);
        Ok(Self {
            engine,
            opened,
            events,
            stops,
            started,
            usual,
        })
    }

    /// A stopping signal that came between steps, if one did.
    pub fn signal_between_steps(&self) -> Option<signals::Stop> {
        self.stops.try_recv().ok()
    }

    /// Starts `id` and waits for it to end, journaling its checkpoints and its end. Each
    /// progress line goes to `progress`. A stopping signal interrupts it (journaled as
    /// interrupted by that signal).
    /// What could not be written to the team's push log, said once on stderr.
    fn say_log_warnings(&mut self) {
        for w in self.engine.log_warnings.drain(..) {
            eprintln!("pushduty: warning: {}", crate::sanitize::clean(&w));
        }
    }

    pub fn run_step(
        &mut self,
        id: &str,
        inputs: Inputs,
        override_reason: Option<&str>,
        pinned: Option<engine::Pinned>,
        progress: &mut dyn FnMut(&str),
    ) -> Result<Ended> {
        // From here a signal must reach the loop below, not end pushduty mid-journal.
        self.started.store(true, Ordering::SeqCst);
        self.engine
            .start_confirmed(id, inputs, override_reason, pinned)?;
        self.say_log_warnings();
        let mut stopped: Option<signals::Stop> = None;
        let began = std::time::Instant::now();
        let mut last_said = began;
        let mut last_line = String::new();
        loop {
            // A long step that has said nothing for a while: how long, and what it said last.
            if last_said.elapsed() >= HEARTBEAT {
                last_said = std::time::Instant::now();
                let secs = i64::try_from(began.elapsed().as_secs()).unwrap_or(i64::MAX);
                let last = last_line
                    .lines()
                    .last()
                    .map_or(String::new(), |l| format!(": {l}"));
                progress(&format!(
                    "… {id}{last}, {}",
                    crate::session::timing::elapsed(secs, self.usual.get(id))
                ));
            }
            if stopped.is_none()
                && let Ok(sig) = self.stops.try_recv()
            {
                eprintln!("pushduty: {}: interrupting `{id}`", sig.name());
                self.engine.interrupt_all(sig.name());
                stopped = Some(sig);
            }
            match self.events.recv_timeout(Duration::from_millis(50)) {
                Err(mpsc::RecvTimeoutError::Timeout) => continue,
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    anyhow::bail!("the worker of `{id}` stopped without a result")
                }
                Ok(Event::Progress { line, .. }) => {
                    progress(&line);
                    last_said = std::time::Instant::now();
                    last_line = line;
                }
                // Headless front ends write to the push log in place: nothing comes back.
                Ok(Event::LogWritten) => self.engine.log_back(),
                Ok(Event::Checkpoint { step, values, ack }) => {
                    if let Err(e) = self.engine.checkpoint(&step, values, &ack) {
                        eprintln!("pushduty: could not journal the handle of `{step}`: {e:#}");
                    }
                }
                Ok(Event::Finished { step, result }) => {
                    let ended = match (&result, stopped) {
                        (_, Some(sig)) => Ended::Stopped(sig),
                        (Ok(outputs), None) => Ended::Done(outputs.clone()),
                        (Err(e), None) => Ended::Failed(e.clone()),
                    };
                    // Said with how the step ended: when the journal cannot take it, this is
                    // the only place the operator learns why it stopped.
                    let how = match &result {
                        Ok(_) => String::new(),
                        Err(e) => format!(", which failed: {e}"),
                    };
                    self.engine
                        .finish(&step, result)
                        .with_context(|| format!("journaling the end of `{step}`{how}"))?;
                    self.say_log_warnings();
                    // Nothing runs until the next step starts: a signal may end pushduty at
                    // once again (one that came meanwhile waits in `signal_between_steps`).
                    self.started.store(false, Ordering::SeqCst);
                    return Ok(ended);
                }
            }
        }
    }
}
