//! `pushduty do STEP_ID`: one step outside the TUI, in the same session and journal.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use super::headless::{Ended, Headless};
use super::session::{notices, prepare};
use super::{DoArgs, Global, fail};
use crate::engine::{self, Inputs, NOTE};
use crate::sanitize::{clean, clean_line};
use crate::session::Status;

/// Asks on the terminal; `None` when stdin ends (Ctrl-D) or fails.
fn ask(prompt: &str) -> Option<String> {
    eprint!("{prompt}");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    match std::io::stdin().lock().read_line(&mut line) {
        // Nothing echoed a newline: end the prompt's line so what follows starts its own.
        Ok(0) | Err(_) => {
            eprintln!();
            None
        }
        Ok(_) => Some(line.trim_end_matches(['\n', '\r']).to_string()),
    }
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
    let mut h = match Headless::open(g, p, tty) {
        Ok(h) => h,
        Err(code) => return code,
    };
    for n in notices(&h.opened) {
        eprintln!("pushduty: {}", clean(&n));
    }
    if let Err(code) = h.go_on_without_the_log(args.offline_log.as_deref()) {
        return code;
    }
    if h.engine.step(id).is_err() {
        eprintln!(
            "pushduty: no step or ad-hoc item `{}` in this push",
            clean_line(id)
        );
        return ExitCode::from(2);
    }
    if let Some(reason) = &args.reopen {
        if let Err(e) = h.engine.reopen(id, reason) {
            return fail(&e);
        }
        eprintln!("pushduty: reopened `{id}`: {}", clean_line(reason));
    }
    if let Some(why) = h.engine.refusal(id) {
        eprintln!("pushduty: cannot run `{id}`: {}", clean(&why));
        return ExitCode::from(1);
    }
    if args.by_hand {
        return by_hand(&mut h, id, args, tty);
    }
    let mut given: Inputs = args.inputs.iter().cloned().collect();
    if let Some(n) = &args.note {
        given.insert(NOTE.into(), n.clone());
    }
    // Read once: the action shown is the one acted on (a tag's commit, as the checkout has
    // it now), and the worker refuses if the repository moved meanwhile. Inputs given already
    // (the commits to pick) are part of what is checked and shown.
    let read = match h.engine.confirmation_given(id, &given) {
        Ok(r) => r,
        Err(e) => return fail(&e),
    };
    let preview = match &read.shown {
        Some(shown) => shown.clone(),
        None => match h.engine.preview(id) {
            Ok(p) => p,
            Err(e) => return fail(&e),
        },
    };
    eprintln!("{id}: {}", clean(&preview));
    if let Some(reason) = h
        .engine
        .session
        .state
        .steps
        .get(id)
        .and_then(|s| s.stale_reason.clone())
    {
        eprintln!("pushduty: `{id}` must run again: {}", clean(&reason));
    }
    if let Status::Interrupted { since } = h.engine.status(id) {
        eprintln!(
            "pushduty: `{id}` was running (since {since}) when pushduty stopped: it may have partly happened"
        );
    }
    let checks = &read.checks;
    for c in checks {
        eprintln!("  {} {}", check_mark(c), clean(&c.text));
    }
    if let Some(failed) = engine::failed_checks(checks)
        && args.override_reason.is_none()
    {
        eprintln!(
            "pushduty: `{id}` was not run: {}. Fix it, or pass --override REASON to act anyway",
            clean(&failed)
        );
        return ExitCode::from(1);
    }
    let specs = match h.engine.inputs(id) {
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
        for c in &spec.commits {
            eprintln!(
                "    {}  {} — {}",
                c.sha,
                clean_line(&c.subject),
                clean_line(&c.author)
            );
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
    // A manual step, a choice or a gate changes nothing outside: the answer just typed is
    // the operator's say-so, and asking "Run it?" after it asked twice.
    let answered = !specs.is_empty()
        && h.engine.step(id).is_ok_and(|s| {
            matches!(
                s.kind,
                crate::runbook::model::StepKind::Manual(_)
                    | crate::runbook::model::StepKind::Choice(_)
                    | crate::runbook::model::StepKind::Gate(_)
            )
        });
    let confirmed = args.yes || (tty && answered);
    if !confirmed {
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
    let progress = &mut |line: &str| eprintln!("  {}", clean(line));
    match h.run_step(
        id,
        given,
        args.override_reason.as_deref(),
        read.pinned(),
        progress,
    ) {
        Err(e) => fail(&e),
        Ok(Ended::Stopped(sig)) => ExitCode::from(sig.exit_code()),
        Ok(Ended::Failed(e)) => {
            eprintln!("pushduty: `{id}` failed: {}", clean(&e));
            ExitCode::from(1)
        }
        Ok(Ended::Done(outputs)) => {
            // The step is journaled: a reader that went away must not turn it into a panic,
            // so write errors are ignored. Each line is written whole, newline included, so
            // what comes next (on stdout or on stderr, in a shared pane) starts a line.
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "done: {id}");
            for (k, v) in &outputs {
                for line in output_lines(k, v) {
                    let _ = writeln!(out, "{line}");
                }
            }
            let _ = out.flush();
            ExitCode::SUCCESS
        }
    }
}

/// How `do` and `run --auto` mark a check: passed, a warning to read, or failed.
pub(super) fn check_mark(c: &engine::Check) -> &'static str {
    match (c.ok, c.warn) {
        (true, false) => "ok:  ",
        (true, true) => "warn:",
        (false, _) => "FAIL:",
    }
}

/// One output as `do` prints it, as lines without their newline: a scalar on its line, a
/// list of lines (a table) below its name, anything bigger by its size (`show --json` has
/// it whole).
fn output_lines(key: &str, v: &serde_json::Value) -> Vec<String> {
    use serde_json::Value;
    match v {
        Value::Array(items) if items.iter().all(Value::is_string) => {
            let mut lines = vec![format!("  {key}:")];
            lines.extend(
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(|line| format!("    {}", clean_line(line))),
            );
            lines
        }
        Value::Array(items) if items.iter().any(|i| i.is_object() || i.is_array()) => {
            vec![format!(
                "  {key}: {} entries (`pushduty show --json` has them)",
                items.len()
            )]
        }
        Value::Object(m) if m.values().any(|i| i.is_object() || i.is_array()) => {
            vec![format!(
                "  {key}: {} fields (`pushduty show --json` has them)",
                m.len()
            )]
        }
        Value::String(text) => vec![format!("  {key} = {}", clean_line(text))],
        other => vec![format!("  {key} = {}", clean_line(&other.to_string()))],
    }
}

/// `do STEP --by-hand`: what to do, exactly, then the step ticked off as done by hand with
/// the operator's note (asked on a terminal, else `--note`) once they say it is done.
fn by_hand(h: &mut Headless, id: &str, args: &DoArgs, tty: bool) -> ExitCode {
    let shown = match h.engine.by_hand(id) {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    eprintln!("{id}: by hand:");
    for line in &shown.steps {
        eprintln!("  {}", clean_line(line));
    }
    if let Some(link) = &shown.link {
        eprintln!("  open: {}", clean_line(link));
    }
    // The text goes to stdout alone, so `| pbcopy` or `> message.txt` takes exactly it.
    if let Some(copy) = &shown.copy {
        eprintln!("--- the text (on stdout) ---");
        println!("{}", clean(copy));
        eprintln!("---");
    }
    let note = match (&args.note, tty) {
        (Some(n), _) => n.clone(),
        (None, true) => match ask("What did you do (journaled)? ") {
            Some(n) => n,
            None => return ExitCode::from(1),
        },
        (None, false) => {
            eprintln!("pushduty: say what you did with --note to tick `{id}` off by hand");
            return ExitCode::from(2);
        }
    };
    if !args.yes {
        if !tty {
            eprintln!("pushduty: not a terminal: pass --yes once it is done by hand");
            return ExitCode::from(2);
        }
        match ask(&format!("Done `{id}` by hand? [y/N] ")) {
            Some(a)
                if a.trim().eq_ignore_ascii_case("y") || a.trim().eq_ignore_ascii_case("yes") => {}
            _ => {
                eprintln!("not ticked off");
                return ExitCode::from(1);
            }
        }
    }
    match h.engine.done_by_hand(id, &note, &shown) {
        Ok(()) => {
            eprintln!("pushduty: `{id}` done by hand: {}", clean_line(&note));
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}
