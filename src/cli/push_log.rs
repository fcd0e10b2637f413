//! `pushduty log init`, and the push log as a session opens it: the team's push log named
//! by the operator's config (`[log]`), wired into the engine with the report it renders.

use std::process::ExitCode;
use std::sync::Arc;

use indexmap::IndexMap;

use super::session::{open_engine, prepare};
use super::{Global, fail};
use crate::engine::{Engine, NoEdit};
use crate::sanitize::clean_line;
use crate::teamlog::{PushLog, Render, Store};

/// `pushduty log init`: makes the push log's branch (only the marker in it). Making it is
/// an act of its own, never a side effect of a push: a wrong `[log]` must not make a branch.
pub fn init(g: &Global) -> ExitCode {
    let (p, _) = match prepare(g, "run", false) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let cfg = match log_config(&p) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let made = g
        .state_dir()
        .and_then(|d| Store::open(&d, cfg))
        .and_then(|s| Ok((s.init()?, s.shown())));
    match made {
        Ok((commit, shown)) => {
            println!(
                "made the push log: branch `{}` of {} ({commit})",
                clean_line(cfg.branch()),
                clean_line(&shown)
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

/// `pushduty log sync`: sends what this push's journal has and the log has not.
pub fn sync(g: &Global, settled: Option<&str>) -> ExitCode {
    if settled.is_some_and(|w| w.trim().is_empty()) {
        eprintln!("pushduty: --settled needs why (the team reads it)");
        return ExitCode::from(2);
    }
    let (p, _) = match prepare(g, "run", false) {
        Ok(p) => p,
        Err(code) => return code,
    };
    if let Err(code) = log_config(&p) {
        return code;
    }
    let (mut engine, _) = match open_engine(g, p, Arc::new(NoEdit), Arc::new(|_| {})) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let synced = engine.sync_log(settled.map(str::trim));
    for w in std::mem::take(&mut engine.log_warnings) {
        eprintln!("pushduty: warning: {}", clean_line(&w));
    }
    match synced {
        Ok(steps) => {
            let where_ = engine.push_log.as_ref().map(PushLog::describe);
            if !steps.is_empty() {
                println!(
                    "settled {}: both histories are in the push log, this one's after the \
                     log's, with why",
                    steps
                        .iter()
                        .map(|s| format!("`{}`", clean_line(s)))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            println!(
                "the push log ({}) has this push's journal",
                clean_line(&where_.unwrap_or_default())
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

/// Gives `engine` the config's push log, if it names one: from here on a step with a side
/// effect is journaled there before it acts.
pub fn attach(
    g: &Global,
    config: &crate::config::Config,
    engine: &mut Engine,
) -> anyhow::Result<()> {
    let Some(cfg) = config.log.as_ref() else {
        return Ok(());
    };
    let state_dir = g.state_dir()?;
    let Some(dir) = engine.session.dir().map(std::path::Path::to_path_buf) else {
        return Ok(());
    };
    let state = &engine.session.state;
    let log = PushLog::open(
        &state_dir,
        cfg,
        &engine.operator,
        &state.slug,
        &state.push_date,
        &dir,
    )?;
    engine.push_log = Some(log.with_render(render(engine)));
    Ok(())
}

/// Each step's title with this session's values filled in, as the report has them.
pub fn titles(engine: &Engine) -> IndexMap<String, String> {
    let ctx = engine.context();
    engine
        .loaded
        .runbook
        .steps
        .iter()
        .map(|s| (s.id.clone(), crate::preview::fill(&s.title, &ctx)))
        .collect()
}

/// The report as `pushduty report` writes it, titles filled in as this session has them.
fn render(engine: &Engine) -> Render {
    let titles = titles(engine);
    Arc::new(move |entries, state, rb| {
        let report = crate::report::build(entries, state, rb, &titles, Vec::new());
        Some(crate::report::markdown(&report, rb))
    })
}

/// The journal of the push of `push_date` as the team's push log has it, as one journal: its
/// first session line, then every operator's lines in the order the log took them.
pub fn entries(
    g: &Global,
    p: &super::session::Prepared,
    push_date: &str,
) -> Result<Vec<crate::session::journal::Entry>, ExitCode> {
    let log = open_at(g, p, push_date)?;
    let (lines, _) = log.view().map_err(|e| fail(&e))?;
    let entries = crate::teamlog::as_journal(lines);
    if entries.is_empty() {
        eprintln!(
            "pushduty: the push log ({}) has no push of {push_date} of {}",
            clean_line(&log.describe()),
            clean_line(&p.loaded.runbook.name)
        );
        return Err(ExitCode::from(1));
    }
    Ok(entries)
}

/// The config's push log for this push (`--now`'s), without a session opened: for the
/// commands that only read the log.
pub fn open_for(g: &Global, p: &super::session::Prepared) -> Result<PushLog, ExitCode> {
    open_at(g, p, &p.vars.push_date)
}

/// The push log the config (or the runbook) names; none is a usage error that says how to
/// name one.
fn log_config(p: &super::session::Prepared) -> Result<&crate::config::LogConfig, ExitCode> {
    p.config.log.as_ref().ok_or_else(|| {
        eprintln!(
            "pushduty: your config names no push log: add `[log] repo = \"...\"` to it (the \
             team's repository, and `branch`, default `{}`)",
            crate::config::DEFAULT_LOG_BRANCH
        );
        ExitCode::from(2)
    })
}

/// The config's push log as a whole (every push in it), for reading.
pub fn store(g: &Global, p: &super::session::Prepared) -> Result<Store, ExitCode> {
    let cfg = log_config(p)?;
    g.state_dir()
        .and_then(|d| Store::open(&d, cfg))
        .map_err(|e| fail(&e))
}

/// The config's push log for this push, to watch the driver's seat from a `run` screen;
/// `None` without one (a log that cannot be opened is said when the session attaches it).
pub fn watcher(g: &Global, p: &super::session::Prepared) -> Option<PushLog> {
    let cfg = p.config.log.as_ref()?;
    open_log(g, p, cfg, &p.vars.push_date).ok()
}

/// The config's push log for the push of `push_date`.
fn open_at(g: &Global, p: &super::session::Prepared, push_date: &str) -> Result<PushLog, ExitCode> {
    let cfg = log_config(p)?;
    open_log(g, p, cfg, push_date).map_err(|e| fail(&e))
}

/// The push of `push_date` in the log `cfg`, as this operator writes to it.
fn open_log(
    g: &Global,
    p: &super::session::Prepared,
    cfg: &crate::config::LogConfig,
    push_date: &str,
) -> anyhow::Result<PushLog> {
    let state_dir = g.state_dir()?;
    let slug = crate::session::slug(&p.loaded.runbook.name);
    let dir = crate::session::session_dir(&state_dir, &slug, push_date);
    PushLog::open(&state_dir, cfg, &p.operator, &slug, push_date, &dir)
}

/// `pushduty takeover --reason WHY`: the driver's seat of this push moves here, journaled in
/// the log with the reason and who had it; this push's journal here takes in what the log has
/// of it, so the new driver goes on from the old one's checkpoints.
pub fn takeover(g: &Global, reason: &str) -> ExitCode {
    let reason = reason.trim();
    if reason.is_empty() {
        eprintln!("pushduty: takeover needs a reason (--reason WHY): the team reads it");
        return ExitCode::from(2);
    }
    let (p, _) = match prepare(g, "run", false) {
        Ok(p) => p,
        Err(code) => return code,
    };
    if p.config.log.is_none() {
        eprintln!(
            "pushduty: your config names no push log: add `[log] repo = \"...\"` to it \
             (the team's repository and branch)"
        );
        return ExitCode::from(2);
    }
    let push_date = p.vars.push_date.clone();
    let (mut engine, _) = match open_engine(g, p, Arc::new(NoEdit), Arc::new(|_| {})) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let taken = engine.take_over(reason);
    for w in engine.log_warnings.drain(..) {
        eprintln!("pushduty: warning: {}", clean_line(&w));
    }
    let taken = match taken {
        Ok(t) => t,
        Err(e) => return fail(&e),
    };
    let mut out = vec![format!(
        "you drive the push of {push_date} now{}",
        taken
            .was
            .as_ref()
            .map(|w| format!(" (from {}, who had it since {})", w.who(), w.since))
            .unwrap_or_default()
    )];
    if taken.lines > 0 {
        out.push(format!(
            "took in {} line(s) of the team's push log that this machine did not have (by {})",
            taken.lines,
            taken.from.join(", ")
        ));
    }
    for left in &taken.interrupted {
        out.push(format!(
            "`{}` was left running by {} on {} (since {}): it is interrupted here; {}",
            left.step,
            left.operator,
            left.host,
            left.since,
            going_on(&engine, &left.step)
        ));
    }
    for line in out {
        println!("{}", clean_line(&line));
    }
    ExitCode::SUCCESS
}

/// How a step taken over interrupted goes on: from its checkpoint, or not before its driver
/// decides.
fn going_on(engine: &Engine, id: &str) -> String {
    if let Some(why) = engine.running_elsewhere(id) {
        return why;
    }
    let checkpoint = engine
        .session
        .state
        .steps
        .get(id)
        .map(|s| s.checkpoint.clone())
        .unwrap_or_default();
    let build = checkpoint
        .get(crate::engine::jenkins::BUILD_NUMBER)
        .and_then(serde_json::Value::as_u64);
    let queued = checkpoint
        .get(crate::engine::jenkins::QUEUE_ITEM)
        .and_then(serde_json::Value::as_str);
    let jenkins = engine
        .step(id)
        .is_ok_and(|s| matches!(s.kind, crate::runbook::model::StepKind::JenkinsBuild(_)));
    match (build, queued) {
        (Some(n), _) if jenkins => format!(
            "`pushduty do {id}` follows Jenkins build #{n}, which it started, and triggers none"
        ),
        (None, Some(q)) if jenkins => format!(
            "`pushduty do {id}` follows the Jenkins queue item it left ({q}), and triggers none"
        ),
        // Killed before Jenkins named the build: the run again looks before it triggers.
        (None, None) if jenkins => format!(
            "`pushduty do {id}` looks in Jenkins for a build of it started since it began, and \
             follows that one instead of triggering another"
        ),
        _ if checkpoint.values().any(|v| !v.is_null()) => {
            format!("`pushduty do {id}` goes on from where it was")
        }
        _ => format!("check what it did, then `pushduty do {id}` runs it again"),
    }
}

/// One step as `follow` prints it.
#[derive(serde::Serialize)]
struct Followed {
    id: String,
    title: String,
    status: String,
    by: Option<String>,
    host: Option<String>,
    at: Option<String>,
}

/// `pushduty follow`: this push as the team's push log has it, read-only: who drives and
/// each step's status, by whom and when. Needs read access to the log only.
pub fn follow(g: &Global, json: bool) -> ExitCode {
    let (p, _) = match prepare(g, "run", false) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let log = match open_for(g, &p) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let (entries, seats) = match log.view() {
        Ok(v) => v,
        Err(e) => return fail(&e),
    };
    let last = crate::teamlog::decide::last_moves(&entries);
    let (runbook, push_date) = (p.loaded.runbook.name.clone(), p.vars.push_date.clone());
    // Titles as the push has them (its tags, its items), from the log's journal.
    let mut engine = match Engine::in_memory(p.loaded, p.vars, &p.operator, Arc::new(|_| {})) {
        Ok(e) => e,
        Err(e) => return fail(&e),
    };
    let journal = crate::teamlog::as_journal(entries.clone());
    if let Ok(state) = crate::session::SessionState::rebuild(&journal) {
        engine.show_state(state);
    }
    let titles = titles(&engine);
    let steps: Vec<Followed> = engine
        .loaded
        .runbook
        .steps
        .iter()
        .map(|s| {
            let moved = last.get(s.id.as_str());
            Followed {
                id: s.id.clone(),
                title: titles
                    .get(&s.id)
                    .cloned()
                    .unwrap_or_else(|| s.title.clone()),
                status: moved.map_or("pending".into(), |(to, _)| to.to_string()),
                by: moved.map(|(_, e)| e.entry.operator.clone()),
                host: moved.map(|(_, e)| e.host.clone()),
                at: moved.map(|(_, e)| e.entry.time.clone()),
            }
        })
        .collect();
    let driver = seats.last();
    if json {
        let out = serde_json::json!({
            "runbook": runbook,
            "push_date": push_date,
            "log": log.describe(),
            "driver": driver,
            "steps": steps,
        });
        return match super::json_text(&out) {
            Ok(s) => {
                println!("{s}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e),
        };
    }
    let mut out = vec![format!(
        "{runbook}, push of {push_date} ({})",
        log.describe()
    )];
    out.push(match driver {
        Some(d) => format!(
            "driver: {} since {}{}",
            d.who(),
            d.since,
            d.reason
                .as_ref()
                .map(|r| format!(
                    " (took over from {}: {r})",
                    d.from.as_deref().unwrap_or("?")
                ))
                .unwrap_or_default()
        ),
        None => "driver: nobody yet (the first to act takes the seat)".into(),
    });
    for s in &steps {
        let who = match (&s.by, &s.host, &s.at) {
            (Some(by), Some(host), Some(at)) => format!("  {by} on {host} at {at}"),
            _ => String::new(),
        };
        out.push(format!("  {:<11} {}  {}{who}", s.status, s.id, s.title));
    }
    for line in out {
        println!("{}", clean_line(&line));
    }
    ExitCode::SUCCESS
}
