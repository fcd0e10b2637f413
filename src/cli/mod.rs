//! The command line: global options, subcommands, and what each prints.

pub mod add;
pub mod auto;
pub mod briefing;
pub mod check;
pub mod completions;
pub mod do_step;
pub mod doctor;
pub mod follow;
pub mod headless;
pub mod history;
pub mod judge;
pub mod man;
pub mod plan;
pub mod push_log;
pub mod rehearse;
pub mod render;
pub mod replay;
pub mod report;
pub mod run;
pub mod schema;
pub mod session;
pub mod show;
pub mod signals;
pub mod status;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::config::{self, Config};
use crate::diag::Diagnostics;
use crate::overrides::Override;
use crate::runbook::{self, Loaded, vars::Now};
use crate::sanitize::clean;

/// The crate version and the commit it was built from (see build.rs).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("PUSHDUTY_COMMIT"),
    ")"
);

#[derive(Debug, Parser)]
#[command(
    name = "pushduty",
    version = VERSION,
    about = "A terminal runbook for a team's weekly push"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args, Clone)]
pub struct Global {
    /// The runbook (default: the bundled AMO push runbook).
    #[arg(long, global = true, value_name = "PATH")]
    pub runbook: Option<PathBuf>,
    /// The operator's settings (default: <config dir>/pushduty/config.toml).
    #[arg(long, global = true, value_name = "PATH", env = "PUSHDUTY_CONFIG")]
    pub config: Option<PathBuf>,
    /// Where sessions, journals and locks live (default: <data dir>/pushduty).
    #[arg(long, global = true, value_name = "PATH", env = "PUSHDUTY_STATE_DIR")]
    pub state_dir: Option<PathBuf>,
    /// Act as if now were this instant: YYYY-MM-DD or RFC 3339.
    #[arg(long, global = true, value_name = "DATETIME", env = "PUSHDUTY_NOW")]
    pub now: Option<Now>,
    /// Override a runbook or config value by dotted path (repeatable).
    #[arg(long = "set", global = true, value_name = "KEY=VALUE")]
    pub set: Vec<Override>,
    /// Who is at the keyboard (default: config `operator`, else the OS user).
    #[arg(long, global = true, value_name = "NAME")]
    pub operator: Option<String>,
    /// More detail in the log file (repeatable: -v debug, -vv trace); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate the runbook: every problem as PATH:LINE:COL: error: MESSAGE.
    Check {
        /// Machine-readable output: `{"ok", "problems": [{"path", "line", "column", "message"}]}`.
        #[arg(long)]
        json: bool,
    },
    /// The session as it would start now: variables and every step with what it would do.
    Plan {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// One snapshot of every live source (git state per repo, CI, errors, metrics).
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Reads every remote, service, series and link the runbook names with your config,
    /// and says per item ok or what to fix. Writes nothing, prints no token; each check has
    /// `--timeout` and all run at once.
    Doctor {
        /// Machine-readable output: `{"ok", "items": [{"item", "kind", "ok", "detail", "fix",
        /// "ms"}], "slowest": {"item", "ms"}}`.
        #[arg(long)]
        json: bool,
        /// Seconds each check may take (they run at once).
        #[arg(long, value_name = "SECS", default_value_t = doctor::DEFAULT_TIMEOUT_SECS,
              value_parser = doctor::parse_timeout)]
        timeout: f64,
    },
    /// The runbook as documentation.
    Render {
        #[arg(long, default_value = "markdown", value_parser = ["markdown", "json"])]
        format: String,
        /// The runbook as loaded, in JSON (the same as `--format json`).
        #[arg(long)]
        json: bool,
    },
    /// The interactive push: a step executes only when you confirm it. `--auto`: headless,
    /// the automated steps in order, stopping (exit 3) at the first that needs a person.
    Run(RunArgs),
    /// The same screens, read-only: each step shows what it would do; nothing runs.
    /// `--replay [PUSH_DATE]`: step through a past push from its journal.
    Learn(LearnArgs),
    /// Execute one step outside the TUI, recorded in the same session journal.
    Do(DoArgs),
    /// Past and current sessions: runbook, push date, operator, steps done, outcome.
    History {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
        /// Read from the team's push log (`[log]`), not this machine's state dir: pushes
        /// someone else drove. Read access to the log is enough.
        #[arg(long)]
        from_log: bool,
    },
    /// This push's session from its journal: every step's status, what it did or will do,
    /// who, when, note, outputs, and why a done step must run again.
    Show {
        /// Only this step (or ad-hoc item), e.g. `tag-master`.
        step: Option<String>,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
        /// Read from the team's push log (`[log]`), not this machine's state dir: pushes
        /// someone else drove. Read access to the log is enough.
        #[arg(long)]
        from_log: bool,
    },
    /// What changed since your last push of this runbook: steps added, removed or changed,
    /// services that moved, and the one-off items of the pushes since.
    Briefing {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// An ad-hoc manual item for this push only (or the next push), journaled; prints its id.
    Add(AddArgs),
    /// The push as it happened, from its journal: timeline, durations, what each step did,
    /// notes, skips, failures, overrides, items and blockers.
    Report(ReportArgs),
    /// The runbook's JSON Schema, for editors (e.g. `pushduty schema > pushduty.schema.json`).
    Schema {
        /// Accepted for symmetry with the other read commands: the schema is JSON already.
        #[arg(long)]
        json: bool,
    },
    /// Shell completions on stdout, e.g. `source <(pushduty completions bash)`; bash, zsh and
    /// fish complete step ids after `do`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// The man page (roff) on stdout, e.g. `pushduty man > pushduty.1`.
    Man,
    /// The runbook's step ids, one a line: what the completion scripts offer after `do`.
    #[command(name = "step-ids", hide = true)]
    StepIds,
    /// The runbook's metrics checks on past pushes with today's thresholds (and any `--set`):
    /// per push and series the verdict, its score, the points it rested on, and the allowed
    /// change at which it would flip. Reads the metrics servers only; writes nothing.
    Judge(JudgeArgs),
    /// A whole push in a local sandbox (git repo, bare remote, stand-ins for every service),
    /// opened in `run`: practise before the first real push.
    Rehearse(rehearse::RehearseArgs),
    /// This push live from the team's push log, on the screen and read-only (as in learn):
    /// who drives, each step's status, by whom and when, read again every few seconds.
    /// Needs read access to the log only; `--once` or `--json` print it once.
    Follow {
        /// Print the push once, as text, and exit (what `follow` does when its output is not
        /// a terminal); without it the screen opens.
        #[arg(long)]
        once: bool,
        /// How often the screen reads the log, in seconds.
        #[arg(long, value_name = "SECS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=3600))]
        interval: u64,
        /// Machine-readable output, printed once: `{"runbook", "push_date", "log", "driver": {"since",
        /// "operator", "host", "reason", "from"} | null, "steps": [{"id", "title", "status",
        /// "by", "host", "at"}]}`.
        #[arg(long)]
        json: bool,
    },
    /// Take the driver's seat of this push in the team's push log, saying why (journaled
    /// there): from then on only you act on its steps with a side effect.
    Takeover {
        /// Why you take over: the team and the old driver read it.
        #[arg(long, value_name = "WHY")]
        reason: String,
    },
    /// The team's push log (`[log]` in your config): `log init` makes its branch, once;
    /// `log sync` sends this push's lines it has not heard yet.
    #[command(subcommand)]
    Log(LogCommand),
}

#[derive(Debug, Subcommand, Clone)]
pub enum LogCommand {
    /// Make the push log's branch in the repository your config names (only its marker
    /// file); refused when it is there already.
    Init,
    /// Send this push's journal lines the push log has not heard yet (after going on
    /// without it); refused when the log moved on differently meanwhile.
    Sync {
        /// Once you settled with the team what happened where the log and this journal
        /// differ: journal why, and send this journal's lines after the log's (both kept).
        #[arg(long, value_name = "WHY")]
        settled: Option<String>,
    },
}

#[derive(Debug, Args, Clone)]
pub struct RunArgs {
    /// No screen: run the steps that need no person, in order; stop with exit 3 at the first
    /// step that needs one (a manual step, a gate, a choice, an input nobody gave).
    #[arg(long)]
    pub auto: bool,
    /// Answer a step for `--auto`: STEP=VALUE gives its one required input (a gate's
    /// approver, a choice, a manual step's note); STEP.KEY=VALUE a named input (repeatable).
    #[arg(long = "answer", value_name = "STEP=VALUE", value_parser = parse_key_value, requires = "auto")]
    pub answers: Vec<(String, String)>,
    /// With `--auto`: when the team's push log cannot be reached, run the steps anyway,
    /// without it; the reason is journaled with each, and the log hears of them with its
    /// next write (`log sync`).
    #[arg(long, value_name = "REASON", requires = "auto")]
    pub offline_log: Option<String>,
}

#[derive(Debug, Args, Clone)]
pub struct LearnArgs {
    /// Step through a past push from its journal, read-only: what each step did, by whom,
    /// when, how long it took (default: the latest finished push).
    #[arg(long, value_name = "PUSH_DATE", num_args = 0..=1,
          default_missing_value = replay::LATEST, value_parser = parse_replay)]
    pub replay: Option<String>,
    /// With `--replay`: the push as JSON (the report's keys and `durations`), no screen.
    #[arg(long, requires = "replay")]
    pub json: bool,
    /// With `--replay`: the push from the team's push log (`[log]`), not this machine's
    /// state dir, e.g. last week's push on the next hero's machine. Read access is enough.
    #[arg(long, requires = "replay")]
    pub from_log: bool,
}

fn parse_replay(s: &str) -> Result<String, String> {
    if s == replay::LATEST {
        Ok(s.to_string())
    } else {
        parse_date(s)
    }
}

#[derive(Debug, Args, Clone)]
#[command(group(clap::ArgGroup::new("when").required(true).multiple(true).args(["backtest", "at"])))]
pub struct JudgeArgs {
    /// Judge the production pushes of this runbook in the history (the state dir's sessions).
    #[arg(long)]
    pub backtest: bool,
    /// Judge a push at this moment too, RFC 3339, e.g. 2026-11-26T14:00:00Z (repeatable).
    #[arg(long, value_name = "TIME", value_parser = parse_moment)]
    pub at: Vec<chrono::DateTime<chrono::Utc>>,
    /// Machine-readable output: `{"runbook", "rows", "checks", "not_judged"}`.
    #[arg(long)]
    pub json: bool,
}

fn parse_moment(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|_| format!("`{s}` is not an RFC 3339 moment (e.g. 2026-11-26T14:00:00Z)"))
}

#[derive(Debug, Args, Clone)]
pub struct AddArgs {
    /// What to do, as one checklist line.
    pub text: String,
    /// The id of the runbook section it goes in (default: the last section).
    #[arg(long, value_name = "SECTION")]
    pub section: Option<String>,
    /// For the next push: listed now, carried into the next push's session when it begins.
    #[arg(long)]
    pub next_push: bool,
}

#[derive(Debug, Args, Clone)]
pub struct ReportArgs {
    #[arg(long, default_value = "markdown", value_parser = ["markdown", "json"])]
    pub format: String,
    /// The same as `--format json`.
    #[arg(long)]
    pub json: bool,
    /// A past (or the current) push, YYYY-MM-DD (default: this push).
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub push_date: Option<String>,
    /// Read the push from the team's push log (`[log]`), not this machine's journal: a push
    /// someone else drove. Read access to the log is enough.
    #[arg(long)]
    pub from_log: bool,
}

fn parse_date(s: &str) -> Result<String, String> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map(|d| d.to_string())
        .map_err(|_| format!("`{s}` is not a date (YYYY-MM-DD)"))
}

#[derive(Debug, Args, Clone)]
pub struct DoArgs {
    /// The step's id.
    pub step: String,
    /// Do not ask for confirmation (required when stdin is not a terminal).
    #[arg(long)]
    pub yes: bool,
    /// A note for the journal (manual steps, gates).
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
    /// A value the step asks for, e.g. an output of a manual step (repeatable).
    #[arg(long = "input", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub inputs: Vec<(String, String)>,
    /// Run a finished step again (e.g. a new choice after a blocker); the reason is journaled.
    #[arg(long, value_name = "REASON")]
    pub reopen: Option<String>,
    /// Act although a precondition failed (e.g. a push that ships nothing); the reason is
    /// journaled.
    #[arg(long = "override", value_name = "REASON")]
    pub override_reason: Option<String>,
    /// Do it by hand instead (no API key, no SMTP login, or by choice): prints exactly what
    /// to do, then ticks the step off as done by hand with `--note` saying what you did.
    #[arg(long, conflicts_with_all = ["inputs", "override_reason"])]
    pub by_hand: bool,
    /// When the team's push log cannot be reached, run the step anyway, without it; the
    /// reason is journaled, and the log hears of it with its next write (`log sync`).
    #[arg(long, value_name = "REASON")]
    pub offline_log: Option<String>,
}

fn parse_key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("`{s}` is not KEY=VALUE")),
    }
}

impl Command {
    /// Commands that read and print, and run nothing: a closed stdout may simply end them.
    pub fn only_prints(&self) -> bool {
        self.is_offline() || matches!(self, Command::History { .. } | Command::Report(_))
    }

    /// Commands that only describe pushduty itself: they read no runbook, state or config.
    pub fn is_meta(&self) -> bool {
        matches!(
            self,
            Command::Schema { .. } | Command::Completions { .. } | Command::Man
        )
    }

    /// Commands worth a line in the log file: those that open a session or ask services.
    /// The others only read and print; logging them would create the state dir for nothing,
    /// and `learn` promises to write nothing at all.
    fn is_logged(&self) -> bool {
        matches!(
            self,
            Command::Run(_)
                | Command::Do(_)
                | Command::Add(_)
                | Command::Status { .. }
                | Command::Log(_)
                | Command::Takeover { .. }
        )
    }

    /// The name the log gives the command.
    fn name(&self) -> &'static str {
        match self {
            Command::Check { .. } => "check",
            Command::Plan { .. } => "plan",
            Command::Status { .. } => "status",
            Command::Doctor { .. } => "doctor",
            Command::Render { .. } => "render",
            Command::Run(a) if a.auto => "run --auto",
            Command::Run(_) => "run",
            Command::Learn(a) if a.replay.is_some() => "learn --replay",
            Command::Learn(_) => "learn",
            Command::Do(_) => "do",
            Command::History { .. } => "history",
            Command::Show { .. } => "show",
            Command::Briefing { .. } => "briefing",
            Command::Add(_) => "add",
            Command::Report(_) => "report",
            Command::Schema { .. } => "schema",
            Command::Completions { .. } => "completions",
            Command::Man => "man",
            Command::StepIds => completions::STEP_IDS,
            Command::Rehearse(_) => "rehearse",
            Command::Judge(_) => "judge",
            Command::Follow { .. } => "follow",
            Command::Takeover { .. } => "takeover",
            Command::Log(LogCommand::Init) => "log init",
            Command::Log(LogCommand::Sync { .. }) => "log sync",
        }
    }

    /// Commands that open no git network connection, so libgit2's TLS trust store need not be
    /// loaded. (`status` may still ask HTTP services; their client carries its own roots.)
    pub fn is_offline(&self) -> bool {
        matches!(
            self,
            Command::Check { .. }
                | Command::Plan { .. }
                | Command::Render { .. }
                | Command::Status { .. }
                | Command::Doctor { .. }
                | Command::Show { .. }
                | Command::Briefing { .. }
                | Command::History { .. }
                | Command::Report(_)
                | Command::Judge(_)
                | Command::Add(_)
                | Command::Schema { .. }
                | Command::Completions { .. }
                | Command::Man
                | Command::StepIds
        )
    }
}

impl Global {
    pub fn now(&self) -> Now {
        self.now.unwrap_or_else(Now::real)
    }

    pub fn load_runbook(&self) -> Result<Loaded, Diagnostics> {
        runbook::load(self.runbook.as_deref(), &self.set)
    }

    pub fn load_config(&self) -> Result<Config, Diagnostics> {
        config::load(self.config.as_deref(), &self.set)
    }

    /// The config as the runbook sees it (its own `[runbooks.SLUG]` entries in), and a
    /// warning for each repo or service it names that the runbook does not have.
    pub fn load_config_for(
        &self,
        rb: &runbook::model::Runbook,
    ) -> Result<(Config, Vec<String>), Diagnostics> {
        let slug = crate::session::slug(&rb.name);
        let config = self.load_config()?.for_runbook(&slug);
        let unknown = config::unknown_names(self.config.as_deref(), &self.set, rb, &slug);
        if !unknown.errors.is_empty() {
            return Err(unknown.errors);
        }
        Ok((config, unknown.warnings))
    }

    /// The runbook and the config, or the exit after reporting their problems; the config's
    /// warnings go to stderr.
    pub fn load_both(&self) -> Result<(Loaded, Config), ExitCode> {
        let loaded = self.load_runbook().map_err(|d| report(&d))?;
        let (config, warnings) = self
            .load_config_for(&loaded.runbook)
            .map_err(|d| report(&d))?;
        for w in warnings {
            eprintln!("{}", clean(&w));
        }
        Ok((loaded, config))
    }

    /// `~` in the path options means the home folder (a quoted `~` never met a shell).
    fn expand_home(mut self) -> Self {
        for p in [&mut self.runbook, &mut self.config, &mut self.state_dir]
            .into_iter()
            .flatten()
        {
            *p = config::expand_home(p);
        }
        self
    }
}

/// Prints diagnostics to stderr (the first few, control characters escaped) and gives the
/// failure exit code.
pub fn report(d: &Diagnostics) -> ExitCode {
    eprint!("{}", clean(&d.shown()));
    ExitCode::from(1)
}

/// Prints a block of text to stdout ending with a newline, so whatever is printed next
/// (here, or on stderr in a shared terminal) starts on a line of its own.
/// A `--json` answer: pretty, with every character a terminal would obey escaped (the
/// values are the same for a program reading them).
pub fn json_text<T: serde::Serialize>(value: &T) -> anyhow::Result<String> {
    let text = serde_json::to_string_pretty(value)?;
    Ok(crate::sanitize::json_escaped(text))
}

pub fn print_block(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    if !text.is_empty() && !text.ends_with('\n') {
        let _ = out.write_all(b"\n");
    }
    let _ = out.flush();
}

/// Prints an error with its causes and gives the failure exit code. Errors quote data (names,
/// paths, commit subjects), so they are printed through [`clean`].
pub fn fail(e: &anyhow::Error) -> ExitCode {
    eprintln!("pushduty: {}", clean(&format!("{e:#}")));
    ExitCode::from(1)
}

pub fn run(cli: Cli) -> ExitCode {
    let g = &cli.global.clone().expand_home();
    // Held to the end of the command: dropping it closes the log file.
    let _log = cli.command.is_logged().then(|| start_log(g, &cli.command));
    match &cli.command {
        Command::Check { json } => check::run(g, *json),
        Command::Plan { json } => plan::run(g, *json),
        Command::Render { format, json } => render::run(g, *json || format == "json"),
        Command::Status { json } => status::run(g, *json),
        Command::Doctor { json, timeout } => doctor::run(g, *json, *timeout),
        Command::Run(args) if args.auto => auto::run(g, &args.answers, args.offline_log.as_deref()),
        Command::Run(_) => run::run(g),
        Command::Learn(LearnArgs {
            replay: Some(which),
            json,
            from_log,
        }) => replay::run(g, which, *json, *from_log),
        Command::Learn(_) => run::learn(g),
        Command::Do(args) => do_step::run(g, args),
        Command::History { json, from_log } => history::run(g, *json, *from_log),
        Command::Show {
            step,
            json,
            from_log,
        } => show::run(g, step.as_deref(), *json, *from_log),
        Command::Briefing { json } => briefing::run(g, *json),
        Command::Add(args) => add::run(g, args),
        Command::Report(args) => report::run(g, args),
        Command::Schema { .. } => schema::run(),
        Command::Completions { shell } => completions::run(*shell),
        Command::Man => man::run(),
        Command::StepIds => completions::step_ids(g),
        Command::Rehearse(args) => rehearse::run(g, args),
        Command::Judge(a) => judge::run(g, a.backtest, &a.at, a.json),
        Command::Follow {
            json,
            once,
            interval,
        } => {
            // Piped or in a script, `follow` prints once, as it always did.
            let screen = std::io::IsTerminal::is_terminal(&std::io::stdout());
            if *json || *once || !screen {
                push_log::follow(g, *json)
            } else {
                follow::screen(g, std::time::Duration::from_secs(*interval))
            }
        }
        Command::Takeover { reason } => push_log::takeover(g, reason),
        Command::Log(LogCommand::Init) => push_log::init(g),
        Command::Log(LogCommand::Sync { settled }) => push_log::sync(g, settled.as_deref()),
    }
}

/// Opens the log file and notes the command in it. The TUI commands say nothing when the log
/// cannot be opened (the screen is about to be ratatui's); the others warn once.
fn start_log(g: &Global, command: &Command) -> Option<crate::logfile::Guard> {
    let guard = match g
        .state_dir()
        .and_then(|d| crate::logfile::init(&d, g.verbose))
    {
        Ok(guard) => Some(guard),
        Err(e) => {
            // The TUI's screen is ratatui's; headless commands can say it.
            if !matches!(command, Command::Run(a) if !a.auto) {
                eprintln!(
                    "pushduty: warning: no log file: {}",
                    clean(&format!("{e:#}"))
                );
            }
            None
        }
    };
    let runbook = g
        .runbook
        .as_ref()
        .map_or_else(|| "<bundled>".to_string(), |p| p.display().to_string());
    tracing::info!(command = command.name(), runbook, "command started");
    guard
}
