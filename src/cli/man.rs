//! `man`: one page for pushduty and all its subcommands. clap_mangen's full page would point
//! at a `pushduty-check(1)` for each subcommand, pages nobody installs; its title, name,
//! synopsis, description, options and version are used, the rest is written here.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::CommandFactory;
use clap_mangen::Man;
use clap_mangen::roff::{Inline, Roff, bold, italic, roman};

use super::{Cli, fail};
use crate::tui::app::{LOG_KEYS, PROMPT_KEYS};
use crate::tui::keys::{Binding, DIALOG, MAIN};

pub fn run() -> ExitCode {
    let written = page().and_then(|p| {
        std::io::stdout()
            .write_all(&p)
            .context("writing the man page to stdout")
    });
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

/// The page, in roff.
pub fn page() -> Result<Vec<u8>> {
    let mut cmd = Cli::command();
    cmd.build();
    let man = Man::new(cmd.clone());
    let mut out = Vec::new();
    man.render_title(&mut out)
        .and_then(|()| man.render_name_section(&mut out))
        .and_then(|()| man.render_synopsis_section(&mut out))
        .and_then(|()| man.render_description_section(&mut out))
        .and_then(|()| man.render_options_section(&mut out))
        .context("rendering the man page's options")?;
    let mut roff = Roff::new();
    commands(&mut roff, &cmd);
    keys(&mut roff);
    exit_status(&mut roff);
    environment(&mut roff);
    files(&mut roff);
    roff.to_writer(&mut out)
        .context("rendering the man page's sections")?;
    man.render_version_section(&mut out)
        .context("rendering the man page's version")?;
    Ok(out)
}

/// Each subcommand: its usage, what it does, and its own options (the global ones are under
/// OPTIONS).
fn commands(roff: &mut Roff, cmd: &clap::Command) {
    roff.control("SH", ["COMMANDS"]);
    // clap's own `help` subcommand is left out: -h is under OPTIONS.
    let shown = cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help");
    for sub in shown {
        let own: Vec<&clap::Arg> = sub
            .get_arguments()
            .filter(|a| !a.is_hide_set() && !a.is_global_set())
            .filter(|a| !matches!(a.get_id().as_str(), "help" | "version"))
            .collect();
        let mut usage = vec![bold(format!("pushduty {}", sub.get_name()))];
        for a in &own {
            usage.push(roman(" "));
            if a.is_required_set() {
                usage.extend(synopsis_of(a));
            } else {
                usage.push(roman("["));
                usage.extend(synopsis_of(a));
                usage.push(roman("]"));
            }
        }
        roff.control("SS", [sub.get_name()]);
        roff.text(usage);
        if let Some(about) = sub.get_long_about().or_else(|| sub.get_about()) {
            roff.control("PP", []);
            roff.text([roman(about.to_string())]);
        }
        for a in own {
            roff.control("TP", []);
            roff.text(synopsis_of(a));
            let mut help = a
                .get_long_help()
                .or_else(|| a.get_help())
                .map(ToString::to_string)
                .unwrap_or_default();
            let values: Vec<String> = a
                .get_possible_values()
                .iter()
                .filter(|v| !v.is_hide_set())
                .map(|v| v.get_name().to_string())
                .collect();
            if !values.is_empty() && a.get_action().takes_values() {
                let list = values.join(", ");
                help = if help.is_empty() {
                    format!("One of: {list}.")
                } else {
                    format!("{help} (one of: {list})")
                };
            }
            roff.text([roman(ascii(&help))]);
        }
    }
}

/// How an argument is written: `--json`, `--note TEXT`, `STEP`, `[SHELL]`.
fn synopsis_of(a: &clap::Arg) -> Vec<Inline> {
    let value = a
        .get_value_names()
        .and_then(|v| v.first())
        .map_or_else(|| a.get_id().as_str().to_uppercase(), ToString::to_string);
    if a.is_positional() {
        return vec![italic(value)];
    }
    let mut out = Vec::new();
    match (a.get_short(), a.get_long()) {
        (Some(s), Some(l)) => out.push(bold(format!("-{s}, --{l}"))),
        (None, Some(l)) => out.push(bold(format!("--{l}"))),
        (Some(s), None) => out.push(bold(format!("-{s}"))),
        (None, None) => {}
    }
    if a.get_action().takes_values() {
        out.push(roman(" "));
        out.push(italic(value));
    }
    out
}

/// The keymap's arrows as words: groff reads its input as Latin-1 unless told otherwise.
fn ascii(text: &str) -> String {
    text.replace('↑', "Up")
        .replace('↓', "Down")
        .replace('←', "Left")
        .replace('→', "Right")
}

fn key_list(roff: &mut Roff, keys: impl IntoIterator<Item = (&'static str, &'static str)>) {
    for (k, what) in keys {
        roff.control("TP", []);
        roff.text([bold(ascii(k))]);
        roff.text([roman(ascii(what))]);
    }
}

/// A paragraph after a list, so that it is not taken for the last item's text.
fn paragraph(roff: &mut Roff, text: &str) {
    roff.control("PP", []);
    roff.text([roman(ascii(text))]);
}

/// Bindings as the help overlay lists them: a pair folded into one line (j/k).
fn bindings(table: &'static [Binding]) -> impl Iterator<Item = (&'static str, &'static str)> {
    table
        .iter()
        .filter(|b| !b.help.is_empty())
        .map(|b| (b.label, b.help))
}

/// The screen's keys (`run`, `learn`), from the tables that dispatch them.
fn keys(roff: &mut Roff) {
    roff.control("SH", ["KEYS"]);
    roff.text([roman(
        "The keys of the screen of pushduty run and pushduty learn (? shows them there too).",
    )]);
    roff.control("SS", ["Checklist"]);
    key_list(roff, bindings(MAIN));
    key_list(
        roff,
        [("Ctrl-C", "cancel the running step (quit when none runs)")],
    );
    paragraph(
        roff,
        "A click selects a step; the mouse wheel moves through the steps, or scrolls the open log.",
    );
    roff.control("SS", ["Confirmations"]);
    key_list(roff, bindings(DIALOG));
    key_list(roff, [("PgUp/PgDn, ↑/↓, j/k", "scroll a long dialog")]);
    roff.control("SS", ["Prompts"]);
    paragraph(
        roff,
        "Reasons, notes and a step's inputs are typed on one line. A choice lists its options (↑/↓ and Enter, or type the number); a cherry-pick lists its commits (Space picks).",
    );
    key_list(roff, PROMPT_KEYS.iter().copied());
    roff.control("SS", ["The open log (Tab until it has the focus)"]);
    key_list(roff, LOG_KEYS.iter().copied());
    roff.control("SS", ["The overview (i) and the help (?)"]);
    key_list(
        roff,
        [
            ("j/k, Down/Up", "scroll the overview a line"),
            ("PgDn/Space, PgUp", "scroll the overview ten lines"),
            ("g/Home", "the overview's top"),
            ("Esc, q, Enter", "close (i closes the overview, ? the help)"),
        ],
    );
}

fn exit_status(roff: &mut Roff) {
    roff.control("SH", ["EXIT STATUS"]);
    key_list(
        roff,
        [
            ("0", "Success."),
            (
                "1",
                "The work failed: an invalid runbook or config, a step that failed or was not run, a source that could not be read where that was the question (status), a session another operator holds.",
            ),
            (
                "2",
                "Wrong usage: an unknown option or subcommand, a step id the runbook does not have (do), a bad --answer (run --auto), an input or a confirmation that only a terminal could give.",
            ),
            (
                "3",
                "run --auto stopped at a step that needs a person (a manual step, a gate, a choice, an input nobody gave).",
            ),
            (
                "129, 130, 143",
                "Ended by SIGHUP, SIGINT or SIGTERM: the running step was cancelled and journaled as interrupted, and the terminal restored.",
            ),
        ],
    );
}

fn environment(roff: &mut Roff) {
    roff.control("SH", ["ENVIRONMENT"]);
    key_list(
        roff,
        [
            ("PUSHDUTY_CONFIG", "The config file, as --config."),
            ("PUSHDUTY_STATE_DIR", "The state folder, as --state-dir."),
            (
                "PUSHDUTY_NOW",
                "The instant to act as if it were now, as --now.",
            ),
            (
                "PUSHDUTY_HTTP_TIMEOUT",
                "Seconds a request to a service may take (default 20).",
            ),
            (
                "RUST_LOG",
                "What the log file records (a tracing filter); overrides -v.",
            ),
            (
                "NO_COLOR",
                "Set to anything non-empty: the screen has no colour (marks stay distinct).",
            ),
            (
                "VISUAL, EDITOR",
                "The editor for templates when the config names none (else vi).",
            ),
            (
                "BROWSER",
                "The program that opens links (o) when the config names no opener (else xdg-open, or open on macOS).",
            ),
            (
                "USER, LOGNAME",
                "The operator when neither --operator nor the config's operator says.",
            ),
            (
                "XDG_CONFIG_HOME, XDG_DATA_HOME",
                "Where the default config and state folders are (see FILES).",
            ),
            (
                "SSL_CERT_FILE, SSL_CERT_DIR",
                "The certificates git trusts when it reaches a remote over HTTPS.",
            ),
        ],
    );
    paragraph(
        roff,
        "Tokens and passwords are read from the variables (or keyring entries) the runbook or the config names for each service (token = { env = \"NAME\" }). A shell step runs with only PATH, HOME, USER, LOGNAME, LANG, LC_ALL, LC_CTYPE, TERM, TZ, TMPDIR and SHELL, and the variables its step lists in env.",
    );
}

fn files(roff: &mut Roff) {
    roff.control("SH", ["FILES"]);
    key_list(
        roff,
        [
            (
                "~/.config/pushduty/config.toml",
                "The operator's config (--config, PUSHDUTY_CONFIG; under XDG_CONFIG_HOME when set). May be absent: the config is then empty.",
            ),
            (
                "~/.local/share/pushduty/",
                "The state folder (--state-dir, PUSHDUTY_STATE_DIR; under XDG_DATA_HOME when set).",
            ),
            (
                "STATE/sessions/RUNBOOK/PUSH_DATE/journal.jsonl",
                "A push's journal, a line per event as it happens: each step's change of status (who, when, why, outputs), a running step's handle, ad-hoc items. The truth about the push; show, history, report and learn --replay read it.",
            ),
            (
                "STATE/sessions/RUNBOOK/PUSH_DATE/session.json",
                "What the journal adds up to, kept to open the session fast; rebuilt from the journal when it disagrees.",
            ),
            (
                "STATE/sessions/RUNBOOK/PUSH_DATE/lock",
                "Held while run, do or add has the session open: who holds it, since when. Another pushduty is refused the session meanwhile.",
            ),
            (
                "STATE/logs/pushduty.log.YYYY-MM-DD",
                "The log file, one a day, the last 14 kept (-v, RUST_LOG).",
            ),
        ],
    );
    paragraph(
        roff,
        "The bundled runbook (runbooks/amo-push.toml) is built into the binary; --runbook reads another.",
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_lists_every_visible_subcommand_once() {
        let page = String::from_utf8(page().expect("a page")).expect("UTF-8");
        for sub in Cli::command()
            .get_subcommands()
            .filter(|s| !s.is_hide_set())
        {
            let heading = format!(".SS {}\n", sub.get_name());
            assert_eq!(page.matches(&heading).count(), 1, "{heading}");
        }
        assert!(!page.contains("step-ids"));
    }
}
