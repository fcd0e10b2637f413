//! `pushduty do STEP_ID`: one step outside the TUI, in the same session and journal.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use super::session::{notices, open_engine, prepare};
use super::{Global, fail};
use crate::engine::{self, Console, Event, Inputs, NOTE, NoEdit};
use crate::session::Status;

/// Set by SIGINT: the step's command runs in its own process group, so Ctrl-C reaches only
/// us, and we cancel the step (killing its group) instead of dying and orphaning it.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigint(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Runs `$EDITOR` directly: `do` owns the terminal.
struct EditorConsole {
    editor: String,
    dir: std::path::PathBuf,
}

impl Console for EditorConsole {
    fn edit(&self, text: &str, name: &str) -> anyhow::Result<String> {
        engine::template::run_editor(&self.editor, text, name, &self.dir)
    }
}

fn ask(prompt: &str) -> Option<String> {
    eprint!("{prompt}");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).ok()?;
    Some(line.trim_end_matches(['\n', '\r']).to_string())
}

pub fn run(
    g: &Global,
    id: &str,
    yes: bool,
    note: Option<&str>,
    inputs: &[(String, String)],
    reopen: Option<&str>,
) -> ExitCode {
    let tty = std::io::stdin().is_terminal();
    let (p, _) = match prepare(g, "run", false) {
        Ok(p) => p,
        Err(code) => return code,
    };
    if p.loaded.runbook.step(id).is_none() {
        eprintln!("pushduty: no step `{id}` in {}", p.loaded.display_path());
        return ExitCode::from(2);
    }
    let editor = engine::template::editor(p.config.editor.as_deref());
    let (tx, rx) = mpsc::channel();
    let notify: engine::Notify = Arc::new(move |e| {
        let _ = tx.send(e);
    });
    // The console needs the session folder, known once the session is open.
    let holder: Arc<std::sync::OnceLock<Arc<dyn Console>>> = Arc::default();
    let console = Arc::new(Deferred(holder.clone()));
    let (mut engine, opened) = match open_engine(g, p, console, notify) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let dir = engine
        .session
        .dir()
        .map_or_else(std::env::temp_dir, Path::to_path_buf);
    let real: Arc<dyn Console> = if tty {
        Arc::new(EditorConsole { editor, dir })
    } else {
        Arc::new(NoEdit)
    };
    let _ = holder.set(real);
    for n in notices(&opened) {
        eprintln!("pushduty: {n}");
    }
    if let Some(reason) = reopen {
        if let Err(e) = engine.reopen(id, reason) {
            return fail(&e);
        }
        eprintln!("pushduty: reopened `{id}`: {reason}");
    }
    if let Some(why) = engine.refusal(id) {
        eprintln!("pushduty: cannot run `{id}`: {why}");
        return ExitCode::from(1);
    }
    let preview = match engine.preview(id) {
        Ok(p) => p,
        Err(e) => return fail(&e),
    };
    eprintln!("{id}: {preview}");
    if let Status::Interrupted { since } = engine.status(id) {
        eprintln!(
            "pushduty: `{id}` was running (since {since}) when pushduty stopped: it may have partly happened"
        );
    }
    let mut given: Inputs = inputs.iter().cloned().collect();
    if let Some(n) = note {
        given.insert(NOTE.into(), n.to_string());
    }
    let specs = match engine.inputs(id) {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    for spec in &specs {
        if given.contains_key(&spec.key) || !spec.required {
            continue;
        }
        if !tty {
            eprintln!(
                "pushduty: `{id}` needs `{}` ({}): pass --input {}=VALUE",
                spec.key, spec.prompt, spec.key
            );
            return ExitCode::from(2);
        }
        for (i, (v, l)) in spec.options.iter().enumerate() {
            eprintln!("  {}. {v}: {l}", i + 1);
        }
        match ask(&format!("{}: ", spec.prompt)) {
            Some(a) => {
                given.insert(spec.key.clone(), a);
            }
            None => return ExitCode::from(1),
        }
    }
    if !yes {
        if !tty {
            eprintln!("pushduty: not a terminal: pass --yes to confirm running `{id}`");
            return ExitCode::from(2);
        }
        match ask(&format!("Run `{id}`? [y/N] ")) {
            Some(a)
                if a.trim().eq_ignore_ascii_case("y") || a.trim().eq_ignore_ascii_case("yes") => {}
            _ => {
                eprintln!("not run");
                return ExitCode::from(1);
            }
        }
    }
    let handler: extern "C" fn(libc::c_int) = on_sigint;
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGINT, handler as libc::sighandler_t);
    }
    if let Err(e) = engine.start(id, given) {
        return fail(&e);
    }
    let mut cancelled = false;
    loop {
        if !cancelled && INTERRUPTED.load(Ordering::SeqCst) {
            cancelled = true;
            eprintln!("pushduty: interrupted: cancelling `{id}`");
            engine.cancel(id);
        }
        match rx.recv_timeout(Duration::from_millis(100)) {
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
            Ok(Event::Progress { line, .. }) => eprintln!("  {line}"),
            Ok(Event::Finished { step, result }) => {
                let ok = result.clone();
                if let Err(e) = engine.finish(&step, result) {
                    return fail(&e);
                }
                return match ok {
                    Ok(outputs) => {
                        println!("done: {step}");
                        for (k, v) in outputs {
                            println!(
                                "  {k} = {}",
                                v.as_str().map_or_else(|| v.to_string(), str::to_string)
                            );
                        }
                        ExitCode::SUCCESS
                    }
                    Err(e) => {
                        eprintln!("pushduty: `{step}` failed: {e}");
                        ExitCode::from(1)
                    }
                };
            }
            Err(_) => {
                return fail(&anyhow::anyhow!(
                    "the step's worker stopped without a result"
                ));
            }
        }
    }
}

/// A console set once the session's folder is known.
struct Deferred(Arc<std::sync::OnceLock<Arc<dyn Console>>>);

impl Console for Deferred {
    fn edit(&self, text: &str, name: &str) -> anyhow::Result<String> {
        match self.0.get() {
            Some(c) => c.edit(text, name),
            None => NoEdit.edit(text, name),
        }
    }
}
