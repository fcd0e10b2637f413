//! `pushduty do STEP_ID`: one step outside the TUI, in the same session and journal.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use super::session::{notices, open_engine, prepare};
use super::{DoArgs, Global, fail, signals};
use crate::engine::{self, Console, Event, Inputs, NOTE, NoEdit};
use crate::sanitize::{clean, clean_line};
use crate::session::Status;

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

pub fn run(g: &Global, args: &DoArgs) -> ExitCode {
    let id = args.step.as_str();
    let tty = std::io::stdin().is_terminal();
    let (p, _) = match prepare(g, "run", false) {
        Ok(p) => p,
        Err(code) => return code,
    };
    // An ad-hoc item is known once the session is read (below).
    if p.loaded.runbook.step(id).is_none() && !id.starts_with(crate::session::ITEM_PREFIX) {
        eprintln!(
            "pushduty: no step `{}` in {}",
            clean_line(id),
            p.loaded.display_path()
        );
        return ExitCode::from(2);
    }
    let editor = engine::template::editor(p.config.editor.as_deref());
    let (tx, rx) = mpsc::channel();
    let notify: engine::Notify = Arc::new(move |e| {
        let _ = tx.send(e);
    });
    // Signals before the step starts end pushduty at once (nothing to clean up: the lock is
    // the kernel's); once it runs they come here, to interrupt it properly.
    let started = Arc::new(AtomicBool::new(false));
    let (sig_tx, sig_rx) = mpsc::channel();
    if let Err(e) = signals::watch(started.clone(), move |s| sig_tx.send(s).is_ok()) {
        return fail(&e);
    }
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
        eprintln!("pushduty: {}", clean(&n));
    }
    if engine.step(id).is_err() {
        eprintln!(
            "pushduty: no step or ad-hoc item `{}` in this push",
            clean_line(id)
        );
        return ExitCode::from(2);
    }
    if let Some(reason) = &args.reopen {
        if let Err(e) = engine.reopen(id, reason) {
            return fail(&e);
        }
        eprintln!("pushduty: reopened `{id}`: {}", clean_line(reason));
    }
    if let Some(why) = engine.refusal(id) {
        eprintln!("pushduty: cannot run `{id}`: {}", clean(&why));
        return ExitCode::from(1);
    }
    let preview = match engine.preview(id) {
        Ok(p) => p,
        Err(e) => return fail(&e),
    };
    eprintln!("{id}: {}", clean(&preview));
    if let Some(reason) = engine
        .session
        .state
        .steps
        .get(id)
        .and_then(|s| s.stale_reason.clone())
    {
        eprintln!("pushduty: `{id}` must run again: {}", clean(&reason));
    }
    if let Status::Interrupted { since } = engine.status(id) {
        eprintln!(
            "pushduty: `{id}` was running (since {since}) when pushduty stopped: it may have partly happened"
        );
    }
    let checks = match engine.checks(id) {
        Ok(c) => c,
        Err(e) => return fail(&e),
    };
    for c in &checks {
        eprintln!(
            "  {} {}",
            if c.ok { "ok:  " } else { "FAIL:" },
            clean(&c.text)
        );
    }
    if let Some(failed) = engine::failed_checks(&checks)
        && args.override_reason.is_none()
    {
        eprintln!(
            "pushduty: `{id}` was not run: {}. Fix it, or pass --override REASON to act anyway",
            clean(&failed)
        );
        return ExitCode::from(1);
    }
    let mut given: Inputs = args.inputs.iter().cloned().collect();
    if let Some(n) = &args.note {
        given.insert(NOTE.into(), n.clone());
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
                spec.key,
                clean_line(&spec.prompt),
                spec.key
            );
            if let Some(d) = &spec.default {
                eprintln!("  suggested: --input '{}={}'", spec.key, clean_line(d));
            }
        }
        for (i, (v, l)) in spec.options.iter().enumerate() {
            eprintln!("  {}. {v}: {}", i + 1, clean_line(l));
        }
        for h in &spec.hints {
            eprintln!("  {}", clean_line(h));
        }
        if !tty {
            return ExitCode::from(2);
        }
        let prompt = match &spec.default {
            Some(d) => format!("{} [{}]: ", spec.prompt, clean_line(d)),
            None => format!("{}: ", spec.prompt),
        };
        match ask(&prompt) {
            // An empty answer takes the suggestion the operator was just shown.
            Some(a) if a.trim().is_empty() && spec.default.is_some() => {
                given.insert(spec.key.clone(), spec.default.clone().unwrap_or_default());
            }
            Some(a) => {
                given.insert(spec.key.clone(), a);
            }
            None => return ExitCode::from(1),
        }
    }
    if !args.yes {
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
    started.store(true, Ordering::SeqCst);
    if let Err(e) = engine.start(id, given, args.override_reason.as_deref()) {
        return fail(&e);
    }
    let mut stopped: Option<signals::Stop> = None;
    loop {
        if stopped.is_none()
            && let Ok(sig) = sig_rx.try_recv()
        {
            eprintln!("pushduty: {}: interrupting `{id}`", sig.name());
            engine.interrupt_all(sig.name());
            stopped = Some(sig);
        }
        match rx.recv_timeout(Duration::from_millis(50)) {
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
            Ok(Event::Progress { line, .. }) => eprintln!("  {}", clean(&line)),
            Ok(Event::Checkpoint { step, values }) => {
                if let Err(e) = engine.checkpoint(&step, values) {
                    eprintln!("pushduty: could not journal the handle of `{step}`: {e:#}");
                }
            }
            Ok(Event::Finished { step, result }) => {
                let ok = result.clone();
                if let Err(e) = engine.finish(&step, result) {
                    return fail(&e);
                }
                if let Some(sig) = stopped {
                    return ExitCode::from(sig.exit_code());
                }
                return match ok {
                    Ok(outputs) => {
                        // The step is journaled: a reader that went away must not turn it
                        // into a panic, so write errors are ignored.
                        let mut out = std::io::stdout().lock();
                        let _ = writeln!(out, "done: {step}");
                        for (k, v) in outputs {
                            let _ = write!(out, "{}", output_text(&k, &v));
                        }
                        ExitCode::SUCCESS
                    }
                    Err(e) => {
                        eprintln!("pushduty: `{step}` failed: {}", clean(&e));
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

/// One output as `do` prints it: a scalar on its line, a list of lines (a table) below its
/// name, anything bigger by its size (`show --json` has it whole).
fn output_text(key: &str, v: &serde_json::Value) -> String {
    use serde_json::Value;
    match v {
        Value::Array(items) if items.iter().all(Value::is_string) => {
            let mut s = format!("  {key}:\n");
            for line in items.iter().filter_map(Value::as_str) {
                s.push_str(&format!("    {}\n", clean_line(line)));
            }
            s
        }
        Value::Array(items) if items.iter().any(|i| i.is_object() || i.is_array()) => {
            format!(
                "  {key}: {} entries (`pushduty show --json` has them)\n",
                items.len()
            )
        }
        Value::Object(m) if m.values().any(|i| i.is_object() || i.is_array()) => {
            format!(
                "  {key}: {} fields (`pushduty show --json` has them)\n",
                m.len()
            )
        }
        Value::String(text) => format!("  {key} = {}\n", clean_line(text)),
        other => format!("  {key} = {}\n", clean_line(&other.to_string())),
    }
}
