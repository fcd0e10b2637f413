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
    let Some(cfg) = p.config.log.as_ref() else {
        eprintln!(
            "pushduty: your config names no push log: add `[log] repo = \"...\"` (and \
             `branch`, default `{}`) to it first",
            crate::config::DEFAULT_LOG_BRANCH
        );
        return ExitCode::from(2);
    };
    let made = g
        .state_dir()
        .and_then(|d| Store::open(&d, cfg))
        .and_then(|s| s.init());
    match made {
        Ok(commit) => {
            println!(
                "made the push log: branch `{}` of {} ({commit})",
                clean_line(cfg.branch()),
                clean_line(&cfg.repo)
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

/// `pushduty log sync`: sends what this push's journal has and the log has not.
pub fn sync(g: &Global) -> ExitCode {
    let (p, _) = match prepare(g, "run", false) {
        Ok(p) => p,
        Err(code) => return code,
    };
    if p.config.log.is_none() {
        eprintln!("pushduty: your config names no push log (`[log] repo = \"...\"`)");
        return ExitCode::from(2);
    }
    let (mut engine, _) = match open_engine(g, p, Arc::new(NoEdit), Arc::new(|_| {})) {
        Ok(x) => x,
        Err(code) => return code,
    };
    match engine.sync_log() {
        Ok(()) => {
            let where_ = engine.push_log.as_ref().map(PushLog::describe);
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

/// The report as `pushduty report` writes it, titles filled in as this session has them.
fn render(engine: &Engine) -> Render {
    let ctx = engine.context();
    let titles: IndexMap<String, String> = engine
        .loaded
        .runbook
        .steps
        .iter()
        .map(|s| (s.id.clone(), crate::preview::fill(&s.title, &ctx)))
        .collect();
    Arc::new(move |entries, state, rb| {
        let report = crate::report::build(entries, state, rb, &titles, Vec::new());
        Some(crate::report::markdown(&report, rb))
    })
}
