//! `completions SHELL`: clap's static script for the shell, with step ids offered after `do`
//! and `show`.
//!
//! Step ids come from the runbook, which the operator chooses at run time (`--runbook`), so
//! they cannot be baked into the script. clap_complete's dynamic completion would find them,
//! but it sits behind its `unstable-dynamic` feature (its API, and the registration line users
//! put in their shell rc, may change in any minor release) and needs the binary to answer a
//! `COMPLETE=bash` environment variable before it parses its arguments. Instead, the static
//! script gets a small shell function that asks the hidden `step-ids` subcommand, passing on
//! the `--runbook` given on the line; everything else stays clap's. Only the runbook's steps
//! are offered: an ad-hoc item's id would need the session read.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::CommandFactory;
use clap_complete::Shell;

use super::{Cli, Global, fail, print_block, report};
use crate::sanitize::clean;

/// The hidden subcommand the completion functions call.
pub const STEP_IDS: &str = "step-ids";

pub fn run(shell: Shell) -> ExitCode {
    let written = script(shell).and_then(|text| {
        std::io::stdout()
            .write_all(text.as_bytes())
            .context("writing the completions to stdout")
    });
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

/// `step-ids`: the runbook's step ids, one a line, in the runbook's order.
pub fn step_ids(g: &Global) -> ExitCode {
    match g.load_runbook() {
        Ok(loaded) => {
            let ids: Vec<&str> = loaded.runbook.steps.iter().map(|s| s.id.as_str()).collect();
            print_block(&clean(&ids.join("\n")));
            ExitCode::SUCCESS
        }
        Err(d) => report(&d),
    }
}

/// The command as completions offer it: without hidden subcommands, which clap_complete
/// would list among the others.
fn shown_command() -> clap::Command {
    let full = Cli::command();
    let subcommands: Vec<clap::Command> = full
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .cloned()
        .collect();
    // Rebuilt rather than edited: clap has no way to remove a subcommand.
    let mut cmd = clap::Command::new("pushduty")
        .version(super::VERSION)
        .args(full.get_arguments().cloned())
        .subcommands(subcommands);
    if let Some(a) = full.get_about() {
        cmd = cmd.about(a.clone());
    }
    cmd
}

/// Every option that takes a value (`--runbook PATH`), in any subcommand: the shell functions
/// skip the word after one when they look for the step's position.
fn options_with_values(cmd: &clap::Command) -> Vec<String> {
    let mut out: Vec<String> = cmd
        .get_arguments()
        .filter(|a| !a.is_positional() && a.get_action().takes_values())
        .flat_map(|a| {
            let long = a.get_long().map(|l| format!("--{l}"));
            let short = a.get_short().map(|s| format!("-{s}"));
            long.into_iter().chain(short)
        })
        .collect();
    for sub in cmd.get_subcommands() {
        out.extend(options_with_values(sub));
    }
    out.sort();
    out.dedup();
    out
}

fn script(shell: Shell) -> Result<String> {
    let mut cmd = shown_command();
    let mut raw = Vec::new();
    clap_complete::generate(shell, &mut cmd, "pushduty", &mut raw);
    let text = String::from_utf8(raw).context("clap's completion script is not UTF-8")?;
    Ok(match shell {
        Shell::Bash => bash_with_steps(&text, &options_with_values(&cmd)),
        Shell::Zsh => zsh_with_steps(&text),
        Shell::Fish => text + FISH,
        // Elvish and PowerShell: clap's script alone, without step ids.
        _ => text,
    })
}

/// The bash script with clap's `_pushduty` renamed `_pushduty_clap` and a `_pushduty` in its
/// place that offers step ids after `do` and leaves the rest to clap's: the script's own
/// `complete -F _pushduty` lines then register it. Without that definition line (a clap that
/// writes its script otherwise, which the tests would catch) the script stays clap's.
fn bash_with_steps(text: &str, valued: &[String]) -> String {
    const DEFINITION: &str = "_pushduty() {\n";
    if !text.starts_with(DEFINITION) && !text.contains(&format!("\n{DEFINITION}")) {
        return text.to_string();
    }
    let renamed = text.replacen(DEFINITION, "_pushduty_clap() {\n", 1);
    renamed + &BASH.replace("@VALUED@", &valued.join("|"))
}

/// The zsh script with `do`'s step argument completed by `_pushduty_step_ids`, defined before
/// the script's last lines run `_pushduty` (an autoloaded file runs them on the first Tab).
/// clap completes the step with `_default` (files); the tests check that the id list took its
/// place, so a clap that words its script otherwise is caught.
fn zsh_with_steps(text: &str) -> String {
    let mut out = String::new();
    let mut defined = false;
    for line in text.lines() {
        if !defined && line.starts_with("if [ \"$funcstack[1]\" = \"_pushduty\" ]") {
            out.push_str(ZSH);
            defined = true;
        }
        if line.trim_start().starts_with("':step -- ") && line.contains(":_default'") {
            out.push_str(&line.replace(":_default'", ":_pushduty_step_ids'"));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    if !defined {
        out.push_str(ZSH);
    }
    out
}

const BASH: &str = r#"
# Step ids after `do` and `show`, from the runbook named on the line (else the bundled one).
_pushduty_step_ids() {
    local i runbook=()
    for ((i = 1; i < COMP_CWORD; i++)); do
        case "${COMP_WORDS[i]}" in
            --runbook)
                # `--runbook=PATH` is split at the `=` by bash.
                if [[ ${COMP_WORDS[i+1]} == = ]]; then
                    runbook=(--runbook "${COMP_WORDS[i+2]}")
                else
                    runbook=(--runbook "${COMP_WORDS[i+1]}")
                fi
                ;;
        esac
    done
    "${COMP_WORDS[0]}" "${runbook[@]}" step-ids 2>/dev/null
}

# The step's place after `do` or `show`: step ids; anywhere else, clap's completion.
_pushduty() {
    local i word sub="" positional=0 skip=0
    for ((i = 1; i < COMP_CWORD; i++)); do
        word="${COMP_WORDS[i]}"
        if ((skip)); then
            [[ $word == = ]] || skip=0
            continue
        fi
        case "$word" in
            @VALUED@) skip=1 ;;
            -*) ;;
            *) if [[ -z $sub ]]; then sub="$word"; else positional=$((positional + 1)); fi ;;
        esac
    done
    local cur="${COMP_WORDS[COMP_CWORD]}"
    if [[ ( $sub == do || $sub == show ) && $positional -eq 0 && $skip -eq 0 && $cur != -* ]]; then
        local IFS=$'\n'
        COMPREPLY=($(compgen -W "$(_pushduty_step_ids)" -- "$cur"))
        return 0
    fi
    _pushduty_clap "$@"
}
"#;

const ZSH: &str = r#"
# Step ids after `do` and `show`, from the runbook named on the line (else the bundled one). The line is
# read from LBUFFER: in a subcommand's context clap's script has cut `words` down to it.
_pushduty_step_ids() {
    local -a all ids runbook
    local i
    all=(${(Q)${(z)LBUFFER}})
    for ((i = 2; i < ${#all}; i++)); do
        case "${all[i]}" in
            --runbook) runbook=(--runbook "${all[i+1]}") ;;
            --runbook=*) runbook=("${all[i]}") ;;
        esac
    done
    ids=(${(f)"$("${all[1]}" "${runbook[@]}" step-ids 2>/dev/null)"})
    compadd -V steps -a ids
}

"#;

const FISH: &str = r#"
# Step ids after `do` and `show`, from the runbook named on the line (else the bundled one).
function __pushduty_step_ids
    set -l words (commandline -opc)
    set -l runbook
    for i in (seq 2 (count $words))
        if test "$words[$i]" = --runbook; and test $i -lt (count $words)
            set runbook --runbook $words[(math $i + 1)]
        else if string match -q -- '--runbook=*' $words[$i]
            set runbook $words[$i]
        end
    end
    command $words[1] $runbook step-ids 2>/dev/null
end
complete -c pushduty -n "__fish_seen_subcommand_from do show" -f -k -a "(__pushduty_step_ids)"
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hidden_subcommand_exists_and_is_left_out_of_completions() {
        assert!(
            Cli::command()
                .get_subcommands()
                .any(|s| s.get_name() == STEP_IDS && s.is_hide_set())
        );
        assert!(
            shown_command()
                .get_subcommands()
                .all(|s| s.get_name() != STEP_IDS)
        );
    }

    #[test]
    fn options_that_take_values_are_known() {
        let valued = options_with_values(&Cli::command());
        for o in ["--runbook", "--note", "--input", "--set"] {
            assert!(valued.iter().any(|v| v == o), "{o}: {valued:?}");
        }
        assert!(!valued.iter().any(|v| v == "--yes" || v == "-v"));
    }

    #[test]
    fn every_shell_script_is_generated() {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let text = script(shell).expect("a script");
            assert!(text.contains("step-ids"), "{shell}");
        }
    }

    #[test]
    fn bash_completes_the_step_through_clap_s_registration() {
        let text = script(Shell::Bash).expect("a script");
        let defined = |f: &str| text.lines().filter(|l| *l == format!("{f}() {{")).count();
        assert_eq!(defined("_pushduty_clap"), 1, "{text}");
        assert_eq!(defined("_pushduty"), 1, "{text}");
        assert!(text.contains("complete -F _pushduty "), "{text}");
    }

    #[test]
    fn zsh_completes_the_step_with_ids() {
        let text = script(Shell::Zsh).expect("a script");
        assert!(text.contains(":_pushduty_step_ids'"), "{text}");
    }
}
