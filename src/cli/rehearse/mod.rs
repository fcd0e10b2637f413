//! `pushduty rehearse`: builds the sandbox, starts the stand-ins, runs the real `run` (or
//! `run --auto` as the scenario's hero) on the bundled runbook pointed at them, then prints
//! the push report and what a real push would have done differently.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};

mod hero;

use super::{Global, ReportArgs, fail};
use crate::overrides::Override;
use crate::rehearse::rig::{self, Rig, Setup};
use crate::rehearse::{self as rh, Sandbox, Scenario, sandbox};
use crate::runbook::model::Service;
use crate::sanitize::clean;

#[derive(Debug, clap::Args, Clone)]
pub struct RehearseArgs {
    /// What to practise.
    #[arg(long, value_enum, default_value = "normal")]
    pub scenario: Scenario,
    /// Build the sandbox here and keep it: a later rehearsal of the same scenario on the same
    /// day resumes it, its stand-ins as they were; default: a temporary folder removed at the
    /// end.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// No screen: the scenario's hero answers every gate, choice and manual step.
    #[arg(long)]
    pub auto: bool,
}

/// How long a rehearsal's watches soak, where the runbook watches for half an hour: each as
/// little as still gives its judge enough points for a verdict. A soak this short reads
/// Sentry's counts every 10 seconds, and its judge wants five points after the push;
/// Graphite's stand-in has a point a second.
const SENTRY_SOAK_MINUTES: &str = "1";
const GRAPHITE_SOAK_MINUTES: &str = "0.1";

pub fn run(g: &Global, args: &RehearseArgs) -> ExitCode {
    let loaded = match load_runbook(g, args.scenario) {
        Ok(Ok(l)) => l,
        Ok(Err(d)) => return super::report(&d),
        Err(e) => return fail(&e),
    };
    let rb = &loaded.runbook;
    // The push is today, in the runbook's timezone; the tag and the steps planned on
    // weekdays keep their distance from it as the runbook sets them.
    let tz: chrono_tz::Tz = rb.schedule.timezone.parse().unwrap_or(chrono_tz::UTC);
    let today = chrono::Utc::now().with_timezone(&tz).date_naive();
    let week = rh::week::of(rb, today);
    let push_date = today.format("%Y-%m-%d").to_string();
    let (root, temporary) = match &args.dir {
        Some(d) => (crate::config::expand_home(d), false),
        None => match temp_root() {
            Ok(r) => (r, true),
            Err(e) => return fail(&e),
        },
    };
    let code = match rehearse(g, args, &root, &week, &push_date, rb) {
        Ok(code) => code,
        Err(e) => fail(&e),
    };
    if temporary {
        // The sandbox holds only what the rehearsal made: nothing to keep.
        let _ = std::fs::remove_dir_all(&root);
        println!(
            "The sandbox {} was removed; `--dir DIR` keeps one to look at.",
            root.display()
        );
    }
    code
}

/// The runbook rehearsed: `--runbook`'s, else the scenario's bundled one. The 2026 runbook
/// is read from a copy written out with its templates (they are named relative to it), then
/// written again into the sandbox for the push itself.
fn load_runbook(
    g: &Global,
    scenario: Scenario,
) -> Result<Result<crate::runbook::Loaded, crate::diag::Diagnostics>> {
    if scenario != Scenario::Releases || g.runbook.is_some() {
        return Ok(g.load_runbook());
    }
    let dir = temp_root()?;
    let path = rh::releases::write_runbook(&dir)?;
    let loaded = crate::runbook::load(Some(&path), &g.set);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(loaded)
}

fn temp_root() -> Result<PathBuf> {
    let name = format!(
        "pushduty-rehearsal-{}-{}",
        std::process::id(),
        &rig::fresh_secret()?[..8]
    );
    Ok(std::env::temp_dir().join(name))
}

/// The rehearsal in `root`, in `week` (pushing today); `rb` is the runbook as written, for
/// what a real push would do.
fn rehearse(
    g: &Global,
    args: &RehearseArgs,
    root: &Path,
    week: &rh::week::Week,
    push_date: &str,
    rb: &crate::runbook::model::Runbook,
) -> Result<ExitCode> {
    let tag_format = rb
        .schedule
        .date_format()
        .unwrap_or(crate::runbook::model::DEFAULT_TAG_FORMAT);
    let real = &rb.services;
    let releases = args.scenario == Scenario::Releases;
    let has = |name: &str| rb.repos.iter().any(|(n, _)| n == name);
    if releases && !rh::releases::REPOS.iter().all(|(name, _)| has(name)) {
        anyhow::bail!(
            "the `releases` scenario rehearses a runbook with the repos `server` and `frontend` (the bundled 2026 one): leave out --runbook, or give one that has both"
        );
    }
    let (sb, new) = Sandbox::open(root, args.scenario, push_date)?;
    let operator = rh::operator(g.operator.as_deref(), &sb.root);
    let name = |d: chrono::NaiveDate| d.format(tag_format).to_string();
    // The runbook's repos: (its name for one, the seed of its history, checkout, remote).
    let repos: Vec<(&str, &sandbox::Seed, PathBuf, PathBuf)> = if releases {
        [
            ("server", &sandbox::ADDONS_SERVER),
            ("frontend", &sandbox::ADDONS_FRONTEND),
        ]
        .into_iter()
        .map(|(key, seed)| {
            (
                key,
                seed,
                sb.repo_named(seed.name),
                sb.upstream_named(seed.name),
            )
        })
        .collect()
    } else {
        vec![("olympia", &sandbox::OLYMPIA, sb.repo(), sb.upstream())]
    };
    if new {
        let gap = (week.push - week.tag).num_days();
        for (_, seed, repo, upstream) in &repos {
            let built = sandbox::build(seed, upstream, repo, week.push, gap, &name)?;
            println!(
                "Sandbox {}: {} with {} commits by 5 authors, release tags {} … {}, and its bare remote `upstream` ({}).",
                root.display(),
                seed.name,
                built.commits,
                built.tags.first().map_or("", String::as_str),
                built.tags.last().map_or("", String::as_str),
                upstream.display(),
            );
        }
    } else {
        println!(
            "Sandbox {}: reused; the rehearsal goes on where it stopped.",
            root.display()
        );
    }
    // The team's channels are stood in for: a rehearsal never reaches a real one.
    let rooms: Vec<String> = rb
        .services
        .iter()
        .filter(|(_, s)| matches!(s, Service::Matrix(_)))
        .map(|(n, _)| n.clone())
        .collect();
    let channels: Vec<(String, bool)> = rb
        .services
        .iter()
        .filter_map(|(n, s)| match s {
            Service::Slack(sl) => Some((
                n.clone(),
                sl.channel.is_some() || sl.token != Default::default(),
            )),
            _ => None,
        })
        .collect();
    let slack_names: Vec<String> = channels.iter().map(|(n, _)| n.clone()).collect();
    let checkouts: Vec<(String, PathBuf)> = repos
        .iter()
        .map(|(key, _, repo, _)| (key.to_string(), repo.clone()))
        .collect();
    let services: Vec<String> = rb.services.iter().map(|(n, _)| n.clone()).collect();
    std::fs::write(
        sb.config(),
        rh::config_text(&operator, &checkouts, &services, &rooms, &channels),
    )
    .context("writing the sandbox's config")?;
    // The scenario's own runbook is the sandbox's: a resumed rehearsal reads the same one.
    let runbook = match (releases, &g.runbook) {
        (true, None) => Some(rh::releases::write_runbook(&sb.runbooks())?),
        (_, given) => given.clone(),
    };
    std::fs::create_dir_all(sb.state()).context("creating the sandbox's state dir")?;
    let secrets = [
        rig::fresh_secret()?,
        rig::fresh_secret()?,
        rig::fresh_secret()?,
        rig::fresh_secret()?,
        rig::fresh_secret()?,
        rig::fresh_secret()?,
        rig::fresh_secret()?,
    ];
    let runbook_slug = crate::session::slug(&rb.name);
    let session = crate::session::session_dir(&sb.state(), &runbook_slug, push_date);
    let journal = session.join("journal.jsonl");
    let rig = Rig::start(&Setup {
        scenario: args.scenario,
        operator: &operator,
        secrets: &secrets,
        push_date,
        mail_dir: sb.mail(),
        upstream: repos[0].3.clone(),
        tag: name(week.push),
        remotes: if releases {
            rh::releases::REPOS
                .iter()
                .zip(&repos)
                .map(|((_, github), (_, _, _, upstream))| (github.to_string(), upstream.clone()))
                .collect()
        } else {
            Vec::new()
        },
        journal,
        // A reused sandbox asks for the ports it had, so its services keep their addresses.
        ports: if new {
            rig::Ports::default()
        } else {
            rig::Ports::read(&sb.ports())
        },
        kept: sb.standins(),
    })?;
    rig.ports().write(&sb.ports())?;
    // The engine reads them where the runbook says, from these variables: supplied to it
    // directly, so the process environment (and any command a step runs) never holds them.
    // The last is the Slack stand-in's webhook, known once it listens.
    let values = secrets.iter().cloned().chain([rig.slack.webhook_url()]);
    crate::secret::supply(
        rig::TOKEN_VARS
            .iter()
            .zip(values)
            .map(|(name, value)| (name.to_string(), crate::secret::Secret::new(value))),
    )?;
    let mut sets: Vec<String> = week.sets.clone();
    sets.extend([
        format!("rotation.people=[{}, \"kumar\"]", toml_str(&operator)),
        format!("rotation.start={push_date}"),
        "steps.verify-stage.interval_secs=1".into(),
        "steps.verify-stage.timeout_secs=60".into(),
        format!("steps.watch-sentry.soak_minutes={SENTRY_SOAK_MINUTES}"),
        "steps.watch-sentry.poll_seconds=1".into(),
        "steps.watch-sentry.baseline_minutes=5".into(),
    ]);
    // The metrics watch is `watch-graphite` in the 2015 runbook, `watch-metrics` in 2026's.
    for watch in ["watch-graphite", "watch-metrics"] {
        sets.extend([
            format!("steps.{watch}.soak_minutes={GRAPHITE_SOAK_MINUTES}"),
            format!("steps.{watch}.poll_seconds=1"),
            format!("steps.{watch}.baseline_minutes=2"),
            format!("steps.{watch}.min_points=3"),
        ]);
    }
    // Only what the runbook has: a setting of a step it lacks is an error.
    sets.retain(|s| {
        s.strip_prefix("steps.")
            .and_then(|rest| rest.split_once('.'))
            .is_none_or(|(id, _)| rb.step(id).is_some())
    });
    sets.extend(rig.sets(&services, &rooms, &slack_names));
    let handover = args.scenario == Scenario::Handover;
    if handover {
        if new {
            git2::Repository::init_bare(sb.push_log()).context("making the sandbox's push log")?;
        }
        sets.push(format!(
            "log.repo={}",
            toml_str(&sb.push_log().display().to_string())
        ));
    }
    let mut g2 = g.clone();
    g2.config = Some(sb.config());
    g2.runbook = runbook;
    g2.state_dir = Some(sb.state());
    g2.operator = Some(operator.clone());
    let mut all: Vec<Override> = Vec::new();
    for s in &sets {
        all.push(
            s.parse()
                .map_err(|e: String| anyhow::anyhow!("a rehearsal setting: {e}"))?,
        );
    }
    // The operator's own --set come last: they win.
    all.extend(g.set.iter().cloned());
    g2.set = all;
    if handover && new && super::push_log::init(&g2) != ExitCode::SUCCESS {
        anyhow::bail!("the sandbox's push log could not be made (said above)");
    }
    println!(
        "Scenario `{}`: {}\nStand-ins on loopback: Jenkins {}, Sentry {}, Graphite {}, GitHub {}, Etherpad {}, SMTP 127.0.0.1:{}, Matrix {}, Slack {}, stage {}.\nThe Sentry watch soaks {SENTRY_SOAK_MINUTES} min (judged on Sentry's 10-second counts: go on with the other steps meanwhile), Graphite's {GRAPHITE_SOAK_MINUTES} min, instead of the runbook's 30.\n",
        args.scenario.name(),
        args.scenario.story(),
        rig.jenkins.url(),
        rig.sentry.url(),
        rig.graphite.url(),
        rig.github.url(),
        rig.etherpad.url(),
        rig.smtp.port(),
        rig.matrix.url(),
        rig.slack.api_url(),
        rig.stage.url(),
    );
    let code = if args.auto {
        hero::play(&g2, args.scenario, &rig, &repos[0].3, &sb, &session)
    } else if handover {
        // You drive on the screen; once you quit it, the next hero takes over.
        let _ = super::run::run(&g2);
        hero::takes_over(&g2, &sb)
    } else {
        super::run::run(&g2)
    };
    println!("\n# The push as it happened\n");
    let _ = super::report::run(
        &g2,
        &ReportArgs {
            format: "markdown".into(),
            json: false,
            push_date: None,
            // Two machines drove it: the log has the whole push.
            from_log: handover,
        },
    );
    let remotes: Vec<(String, PathBuf)> = rb
        .repos
        .iter()
        .zip(&repos)
        .map(|((_, repo), (_, _, _, upstream))| (repo.github.clone(), upstream.clone()))
        .collect();
    println!("{}", differences(real, &rig, &sb, &remotes));
    if releases {
        println!("{}", clean(&rh::releases::summary(&rig.github)));
    }
    if handover {
        println!(
            "{}",
            hero::handover_summary(&g2, &rig, &repos[0].3, &name(week.push))
        );
    }
    if args.dir.is_some() {
        println!(
            "{}",
            replay_line(&sb, g2.runbook.as_deref(), &sets, handover)
        );
    }
    let ops = match rb.vars.get("ops") {
        Some(crate::runbook::model::VarValue::Text(o)) => o.as_str(),
        _ => "ops",
    };
    let last_week = week.push - chrono::Days::new(7);
    if let Some(next) = args.scenario.aftermath(&rh::Aftermath {
        tag: &name(week.push),
        previous: &name(last_week),
        ops,
        issue_url: &rig.spike_issue_url(),
    }) {
        println!("\n{next}");
    }
    Ok(code)
}

/// How to step through this rehearsal again with `learn --replay`: its runbook (when not the
/// bundled one), config, state and the schedule it pushed on (the service addresses do not
/// matter to a replay).
/// `from_log`: the push was driven from two machines, so it is replayed from the sandbox's
/// push log.
fn replay_line(sb: &Sandbox, runbook: Option<&Path>, sets: &[String], from_log: bool) -> String {
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let mut line = String::from("Step through it again: pushduty");
    if let Some(rb) = runbook {
        line.push_str(&format!(" --runbook {}", quote(&rb.display().to_string())));
    }
    line.push_str(&format!(
        " --config {} --state-dir {}",
        quote(&sb.config().display().to_string()),
        quote(&sb.state().display().to_string())
    ));
    for s in sets.iter().filter(|s| {
        s.starts_with("schedule.")
            || s.starts_with("rotation.")
            || (s.starts_with("steps.") && s.contains(".day="))
            || (from_log && s.starts_with("log."))
    }) {
        line.push_str(&format!(" --set {}", quote(s)));
    }
    line.push_str(" learn --replay");
    if from_log {
        line.push_str(" --from-log");
    }
    line
}

fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// What a real push would have done differently, and the mail that would have gone out.
/// `remotes`: each repo's GitHub name and the sandbox's remote standing in for it.
fn differences(
    real: &crate::runbook::model::Ordered<Service>,
    rig: &Rig,
    sb: &Sandbox,
    remotes: &[(String, PathBuf)],
) -> String {
    let mut out = String::from("# What a real push would have done differently\n\n");
    for (github, upstream) in remotes {
        out.push_str(&clean(&format!(
            "- git: fetched from and pushed tags to the team's `upstream` (github.com/{github}), not {}\n",
            upstream.display()
        )));
    }
    for (name, svc) in real.iter() {
        let line = match svc {
            Service::Jenkins(j) => format!(
                "- `{name}`: Jenkins at {} really deploys to stage (here {})",
                j.url,
                rig.jenkins.url()
            ),
            Service::Sentry(s) => format!(
                "- `{name}`: Sentry at {} (here {}); the soak lasts the runbook's half hour",
                s.url,
                rig.sentry.url()
            ),
            Service::Graphite(m) => format!(
                "- `{name}`: Graphite at {} (here {})",
                m.url,
                rig.graphite.url()
            ),
            Service::Github(h) => format!(
                "- `{name}`: GitHub at {} lists the real blockers and holds the real releases (here {})",
                h.api_url,
                rig.github.url()
            ),
            Service::Etherpad(e) => format!(
                "- `{name}`: the notes pads at {} (here {})",
                e.url,
                rig.etherpad.url()
            ),
            Service::Smtp(m) => format!(
                "- `{name}`: the email goes to {} through {}:{} with TLS (here 127.0.0.1:{}, kept in {})",
                m.to.join(", "),
                m.host,
                m.port,
                rig.smtp.port(),
                sb.mail().display()
            ),
            Service::Matrix(m) => format!(
                "- `{name}`: the team reads room {} on {} (here {} on {})",
                m.room,
                m.url,
                rig::ROOM,
                rig.matrix.url()
            ),
            Service::Slack(sl) => format!(
                "- `{name}`: the team reads Slack channel {} (here {} on {})",
                sl.channel.as_deref().unwrap_or("of its webhook"),
                rig::CHANNEL,
                rig.slack.api_url()
            ),
            _ => continue,
        };
        out.push_str(&clean(&line));
        out.push('\n');
    }
    out.push_str("- credentials: your own tokens from the environment or the keyring, not ones made up for this rehearsal\n");
    let mail = rig.smtp.messages();
    match mail.last() {
        Some(m) => {
            out.push_str(&format!(
                "\n## The announcement that would have gone out (to {})\n\n",
                m.to.join(", ")
            ));
            for l in m.data.lines() {
                out.push_str("    ");
                out.push_str(&clean(l));
                out.push('\n');
            }
        }
        None => out.push_str("\nNo announcement was sent in this rehearsal.\n"),
    }
    out.push_str(&channel(rig));
    out
}

/// What the team's channel read during the rehearsal: its messages and topic (the Matrix
/// room's, then the Slack channel's).
fn channel(rig: &Rig) -> String {
    let at = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .map(|t| {
                t.with_timezone(&chrono::Local)
                    .format("%a %H:%M")
                    .to_string()
            })
            .unwrap_or_default()
    };
    let mut read: Vec<String> = rig
        .matrix
        .messages()
        .iter()
        .map(|m| format!("    {}  {}: {}", at(m.ts), m.sender, m.body))
        .collect();
    read.extend(rig.matrix.topic().map(|t| format!("    topic: {t}")));
    read.extend(rig.slack.messages().iter().map(|m| {
        // A Slack `ts` is seconds, a dot, then a counter.
        let secs: i64 =
            m.ts.split('.')
                .next()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
        format!("    {}  (Slack): {}", at(secs * 1000), m.text)
    }));
    let topic = rig.slack.topic();
    if !topic.is_empty() {
        read.push(format!("    topic (Slack): {topic}"));
    }
    if read.is_empty() {
        return String::new();
    }
    let mut out = String::from("\n## What the channel read\n\n");
    for l in read {
        out.push_str(&clean(&l));
        out.push('\n');
    }
    out
}
