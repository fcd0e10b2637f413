//! `pushduty run --auto`: the push without a screen. The steps that need no person run in
//! runbook order, in the same session, journal and lock as `run` and `do`; the first step
//! that needs a person (and has no `--answer`) stops it with exit 3, saying which and why.
//!
//! A step needs a person when it is `manual`, a `gate` or a `choice`, or when any of its
//! inputs is required and not answered (a cherry-pick's commits, say), or when it is planned
//! for a later day of the push week than today: an `--answer` does not make it due, only a
//! person does (`do STEP --override REASON`, or running on that day). Preconditions are
//! never overridden here: a failed check stops the run with exit 1, and the operator decides
//! with `do STEP --override REASON`.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use super::headless::{Ended, Headless};
use super::session::{notices, prepare};
use super::{Global, fail};
use crate::engine::{self, Engine, InputSpec, Inputs, NOTE};
use crate::runbook::model::{Step, StepKind};
use crate::sanitize::{clean, clean_line};
use crate::session::Status;

/// Exit code: stopped at a step that needs a person.
const NEEDS_PERSON: u8 = 3;

/// One line on stdout, whole: a closed stdout must not turn a journaled step into a panic.
fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// The `--answer`s of one step: `(None, v)` for `STEP=VALUE`, `(Some(key), v)` for
/// `STEP.KEY=VALUE`.
type Answers = BTreeMap<String, Vec<(Option<String>, String)>>;

/// Sorts the answers by step. A step id may itself hold a dot, so the whole left side is
/// tried as a step first.
fn by_step(engine: &Engine, given: &[(String, String)]) -> Result<Answers, String> {
    let rb = &engine.loaded.runbook;
    let mut out = Answers::new();
    for (lhs, value) in given {
        // The key may hold dots too (`blockers.blocker.1187`): the longest step id wins.
        let split = lhs
            .rmatch_indices('.')
            .map(|(i, _)| (&lhs[..i], &lhs[i + 1..]))
            .find(|(s, k)| rb.step(s).is_some() && !k.is_empty());
        let (step, key) = match split {
            _ if rb.step(lhs).is_some() => (lhs.as_str(), None),
            Some((s, k)) => (s, Some(k.to_string())),
            None => {
                let ids: Vec<&str> = rb.steps.iter().map(|s| s.id.as_str()).collect();
                return Err(format!(
                    "--answer {}: no such step; the steps: {}",
                    clean_line(lhs),
                    ids.join(", ")
                ));
            }
        };
        out.entry(step.to_string())
            .or_default()
            .push((key, value.clone()));
    }
    Ok(out)
}

/// The inputs a step's answers give. `STEP=VALUE` goes to its one required input, or to its
/// note when it requires none.
fn inputs_from(
    id: &str,
    specs: &[InputSpec],
    answers: &[(Option<String>, String)],
) -> Result<Inputs, String> {
    let required: Vec<&InputSpec> = specs.iter().filter(|s| s.required).collect();
    let mut inputs = Inputs::new();
    for (key, value) in answers {
        let key = match key {
            Some(k) => k.clone(),
            None => match required.as_slice() {
                [] => NOTE.to_string(),
                [one] => one.key.clone(),
                many => {
                    return Err(format!(
                        "--answer {id}=...: `{id}` needs {}; answer each as --answer {id}.KEY=VALUE",
                        many.iter()
                            .map(|s| format!("`{}`", s.key))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            },
        };
        let value = match specs.iter().find(|s| s.key == key) {
            Some(spec) => spec
                .accept(value)
                .map_err(|e| format!("--answer for `{id}`: {e}"))?,
            None if key == NOTE => value.clone(),
            None => {
                return Err(format!(
                    "--answer {id}.{}: `{id}` asks for no such input; it asks for: {}",
                    clean_line(&key),
                    specs
                        .iter()
                        .map(|s| s.key.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        };
        inputs.insert(key, value);
    }
    Ok(inputs)
}

/// Why `step` needs a person, given what was answered; `None` when it can run alone.
fn needs_person(step: &Step, specs: &[InputSpec], given: &Inputs) -> Option<String> {
    let id = &step.id;
    let required: Vec<&InputSpec> = specs.iter().filter(|s| s.required).collect();
    let how = |spec: &InputSpec| {
        if required.len() == 1 {
            format!("--answer {id}=VALUE")
        } else {
            format!("--answer {id}.{}=VALUE", spec.key)
        }
    };
    if let Some(spec) = required.iter().find(|s| !given.contains_key(&s.key)) {
        let options = if spec.options.is_empty() {
            String::new()
        } else {
            let values: Vec<&str> = spec.options.iter().map(|(v, _)| v.as_str()).collect();
            format!(", one of {}", values.join(", "))
        };
        let what = match &step.kind {
            StepKind::Gate(_) => "a gate",
            StepKind::Choice(_) => "a choice",
            StepKind::Manual(_) => "a manual step",
            _ => "it",
        };
        return Some(format!(
            "{what} needs `{}` ({}{options}): {}",
            spec.key,
            clean_line(&spec.prompt),
            how(spec)
        ));
    }
    // A manual step asks for nothing required, yet a person must do it: an answer (its
    // note) says it was done.
    if matches!(step.kind, StepKind::Manual(_)) && given.is_empty() {
        return Some(format!(
            "a manual step: do it, then tick it off with --answer {id}=NOTE"
        ));
    }
    // An item's command comes from outside the runbook (a release's body, which anyone who
    // may edit the release can change): it runs headless only when answered.
    if step.id.starts_with(crate::session::ITEM_PREFIX) && given.is_empty() {
        return Some(format!(
            "an ad-hoc item's command, as written outside the runbook: read it              (`pushduty show {id}`), then run it with --answer {id}=NOTE"
        ));
    }
    None
}

/// What the run did, for the summary.
#[derive(Default)]
struct Tally {
    ran: usize,
    already: usize,
    passed_over: usize,
}

pub fn run(g: &Global, given: &[(String, String)], offline_log: Option<&str>) -> ExitCode {
    let (p, _) = match prepare(g, "run", false) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let mut h = match Headless::open(g, p, false) {
        Ok(h) => h,
        Err(code) => return code,
    };
    for n in notices(&h.opened) {
        eprintln!("pushduty: {}", clean(&n));
    }
    if let Err(code) = h.go_on_without_the_log(offline_log) {
        return code;
    }
    let answers = match by_step(&h.engine, given) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("pushduty: {e}");
            return ExitCode::from(2);
        }
    };
    // Every answer is checked before anything runs: a typo must not surface after an hour.
    let mut inputs: BTreeMap<String, Inputs> = BTreeMap::new();
    for (id, a) in &answers {
        // Some steps ask about what their checks read (the blockers open on GitHub): read
        // them first, so an answer about one of those is known. Checks only read.
        let _ = h.engine.checks(id);
        let specs = match h.engine.inputs(id) {
            Ok(s) => s,
            Err(e) => return fail(&e),
        };
        match inputs_from(id, &specs, a) {
            Ok(i) => {
                inputs.insert(id.clone(), i);
            }
            Err(e) => {
                eprintln!("pushduty: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let mut tally = Tally::default();
    loop {
        match next_step(&h.engine, &inputs) {
            Next::Run(id) => {
                let given = inputs.get(&id).cloned().unwrap_or_default();
                if let Some(code) = run_one(&mut h, &id, given) {
                    return code;
                }
                tally.ran += 1;
                // A signal that came while the step's end was being journaled.
                if let Some(sig) = h.signal_between_steps() {
                    eprintln!("pushduty: {}: stopping", sig.name());
                    return ExitCode::from(sig.exit_code());
                }
            }
            Next::Person(id, why) => {
                let title = title(&h.engine, &id);
                say(&format!(
                    "needs a person: {id} ({}): {}",
                    clean_line(&title),
                    clean_line(&why)
                ));
                return ExitCode::from(NEEDS_PERSON);
            }
            Next::Finished => break,
        }
    }
    for step in &h.engine.loaded.runbook.steps {
        match h.engine.status(&step.id) {
            Status::Done { .. } => tally.already += 1,
            Status::Skipped { .. } | Status::NotApplicable => tally.passed_over += 1,
            _ => {}
        }
    }
    say(&format!(
        "all done: {} run now, {} done in all, {} skipped or not applicable",
        tally.ran, tally.already, tally.passed_over
    ));
    ExitCode::SUCCESS
}

enum Next {
    Run(String),
    Person(String, String),
    Finished,
}

/// The first step, in runbook order, that is still to do and not waiting for another: it
/// runs, or needs a person. Chosen afresh after every step, since a step's end changes which
/// later steps apply.
fn next_step(engine: &Engine, inputs: &BTreeMap<String, Inputs>) -> Next {
    let mut waiting = None;
    for step in &engine.loaded.runbook.steps {
        let id = &step.id;
        match engine.status(id) {
            Status::Pending | Status::Failed { .. } | Status::Interrupted { .. } => {}
            _ => continue,
        }
        // A step that comes after a later one waits for it; the later one may run now.
        if let Some(why) = engine.waiting_for(id) {
            waiting.get_or_insert_with(|| (id.clone(), why));
            continue;
        }
        // Early is a person's decision, answered or not: `do STEP --override REASON`.
        if let Some(why) = engine.too_early(id) {
            return Next::Person(
                id.clone(),
                format!(
                    "{why}: `run --auto` never runs a step before its day; run it on that day, or decide with `pushduty do {id} --override REASON`"
                ),
            );
        }
        let specs = engine.inputs(id).unwrap_or_default();
        let empty = Inputs::new();
        let given = inputs.get(id).unwrap_or(&empty);
        if let Some(why) = needs_person(step, &specs, given) {
            return Next::Person(id.clone(), why);
        }
        return Next::Run(id.clone());
    }
    // Only steps waiting for each other (or for a step a person must finish) are left.
    match waiting {
        Some((id, why)) => Next::Person(id, why),
        None => Next::Finished,
    }
}

fn title(engine: &Engine, id: &str) -> String {
    engine.step(id).map_or_else(
        |_| id.to_string(),
        |s| crate::preview::fill(&s.title, &engine.context()),
    )
}

/// Runs one step with its progress on stdout; the exit code when the run must stop here.
fn run_one(h: &mut Headless, id: &str, given: Inputs) -> Option<ExitCode> {
    say(&format!("▶ {id} {}", clean_line(&title(&h.engine, id))));
    if let Status::Interrupted { since } = h.engine.status(id) {
        say(&format!(
            "  was running (since {since}) when pushduty stopped: it may have partly happened; running it again"
        ));
    }
    if let Some(why) = h.engine.refusal(id) {
        say(&format!("✗ {id} not run: {}", clean_line(&why)));
        return Some(ExitCode::from(1));
    }
    let read = match h.engine.confirmation_given(id, &given) {
        Ok(r) => r,
        Err(e) => return Some(fail(&e)),
    };
    // A warning stops nothing, and is said where the run is read.
    for c in read.checks.iter().filter(|c| c.warn) {
        say(&format!("  warn: {}", clean_line(&c.text)));
    }
    if let Some(failed) = engine::failed_checks(&read.checks) {
        for c in read.checks.iter().filter(|c| !c.ok) {
            say(&format!("  FAIL: {}", clean_line(&c.text)));
        }
        say(&format!("✗ {id} not run: {}", clean_line(&failed)));
        eprintln!(
            "pushduty: `{id}` was not run: its checks failed. `run --auto` never overrides them: fix it, or run `pushduty do {id} --override REASON`"
        );
        return Some(ExitCode::from(1));
    }
    // The checks may have found more to ask (a blocker listed on GitHub): without an
    // answer, a person must give it.
    if let (Ok(step), Ok(specs)) = (h.engine.step(id), h.engine.inputs(id))
        && let Some(why) = needs_person(step, &specs, &given)
    {
        say(&format!(
            "needs a person: {id} ({}): {}",
            clean_line(&title(&h.engine, id)),
            clean_line(&why)
        ));
        return Some(ExitCode::from(NEEDS_PERSON));
    }
    let began = Instant::now();
    let progress = &mut |line: &str| {
        for l in line.lines() {
            say(&format!("  {}", clean_line(l)));
        }
    };
    // What the step was resolved to act on (a tag's commit) is said first, and held to.
    if let Some(shown) = &read.shown {
        for l in shown.lines() {
            say(&format!("  will: {}", clean_line(l)));
        }
    }
    match h.run_step(id, given, None, read.pinned(), progress) {
        Err(e) => Some(fail(&e)),
        Ok(Ended::Stopped(sig)) => {
            say(&format!("✗ {id} interrupted by {}", sig.name()));
            Some(ExitCode::from(sig.exit_code()))
        }
        Ok(Ended::Failed(e)) => {
            say(&format!("✗ {id} failed: {}", clean_line(&e)));
            Some(ExitCode::from(1))
        }
        Ok(Ended::Done(_)) => {
            say(&format!("✓ {id} done ({}s)", began.elapsed().as_secs()));
            None
        }
    }
}
