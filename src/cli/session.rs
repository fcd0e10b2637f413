//! What `run`, `learn` and `do` share: the runbook, config, operator and variables, and the
//! session opened (and locked) on disk.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Result;

use super::{Global, fail, report};
use crate::config::Config;
use crate::engine::{Console, Engine, Notify};
use crate::git::tags::checkout_release_tags;
use crate::runbook::Loaded;
use crate::runbook::vars::Vars;
use crate::session::lock::LockError;
use crate::session::{Opened, Session, SessionState};

pub struct Prepared {
    pub loaded: Loaded,
    pub config: Config,
    pub operator: String,
    pub vars: Vars,
}

impl Global {
    /// `--state-dir`, else `<data dir>/pushduty`.
    pub fn state_dir(&self) -> Result<PathBuf> {
        match &self.state_dir {
            Some(d) => Ok(d.clone()),
            None => directories::ProjectDirs::from("", "", "pushduty")
                .map(|d| d.data_dir().to_path_buf())
                .ok_or_else(|| anyhow::anyhow!("no data folder for this user: pass --state-dir")),
        }
    }
}

/// What a read command of this push needs: the session's makings and the state dir.
pub fn prepare_to_read(g: &Global) -> Result<(Prepared, PathBuf), ExitCode> {
    let (p, _) = prepare(g, "run", false)?;
    let state_dir = g.state_dir().map_err(|e| super::fail(&e))?;
    Ok((p, state_dir))
}

/// Loads what a session needs. `lenient`: a broken or missing config is replaced by an
/// empty one (learn mode needs none); the notice says so.
pub fn prepare(
    g: &Global,
    mode: &str,
    lenient: bool,
) -> Result<(Prepared, Option<String>), ExitCode> {
    let loaded = g.load_runbook().map_err(|d| report(&d))?;
    let (config, notice) = match g.load_config_for(&loaded.runbook) {
        Ok((c, warnings)) => {
            // Said on stderr for the commands that print, and handed to the screens' logs.
            for w in &warnings {
                eprintln!("{}", crate::sanitize::clean(w));
            }
            (c, (!warnings.is_empty()).then(|| warnings.join("\n")))
        }
        Err(d) if lenient => (
            Config::default(),
            Some(format!("config not used: {}", d.to_string().trim())),
        ),
        Err(d) => return Err(report(&d)),
    };
    let operator = config.operator(g.operator.as_deref());
    let vars = Vars::compute(
        &loaded,
        &config,
        g.now(),
        &operator,
        mode,
        &checkout_release_tags,
    )
    .map_err(|e| fail(&e))?;
    Ok((
        Prepared {
            loaded,
            config,
            operator,
            vars,
        },
        notice,
    ))
}

/// Opens (or resumes) this push's session on disk, holding its lock, and builds the engine.
/// Refusal by a live lock holder is an error exit naming who holds it.
pub fn open_engine(
    g: &Global,
    p: Prepared,
    console: Arc<dyn Console>,
    notify: Notify,
) -> Result<(Engine, Opened), ExitCode> {
    let state_dir = g.state_dir().map_err(|e| fail(&e))?;
    tracing::info!(
        runbook = %p.loaded.runbook.name,
        push_date = %p.vars.push_date,
        operator = %p.operator,
        "opening the session"
    );
    let fresh = SessionState::new(&p.loaded.runbook, &p.vars, &p.operator);
    let (session, opened) = match Session::open(&state_dir, fresh, &p.loaded.runbook) {
        Ok(x) => x,
        Err(e @ LockError::Held(_)) => {
            eprintln!("pushduty: {e}");
            eprintln!("pushduty: wait for them to finish, or ask them to quit pushduty");
            return Err(ExitCode::from(1));
        }
        Err(LockError::Io(e)) => return Err(fail(&e)),
    };
    let services = crate::services::Services::resolve(&p.loaded.runbook, &p.config);
    let p_config = p.config.clone();
    let mut engine = Engine::new(p.loaded, p.vars, session, &p.operator, console, notify)
        .map_err(|e| fail(&e))?;
    engine.use_services(services);
    engine.live_clock = g.now.is_none();
    super::push_log::attach(g, &p_config, &mut engine).map_err(|e| fail(&e))?;
    Ok((engine, opened))
}

/// Notices about the session just opened, one per line.
/// What opening the session found worth saying. That it resumed is said only on the screen
/// (`run`): every `do` of a push resumes its session, and saying so each time was noise.
pub fn notices(opened: &Opened) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(n) = &opened.lock_notice {
        out.push(n.clone());
    }
    out.extend(opened.warnings.iter().cloned());
    for id in &opened.interrupted {
        out.push(format!(
            "`{id}` was running when pushduty stopped: it shows as interrupted; check it before running it again"
        ));
    }
    out.extend(opened.changes.lines());
    for (id, text) in &opened.carried {
        out.push(format!("carried in from the previous push: `{id}` {text}"));
    }
    out
}
