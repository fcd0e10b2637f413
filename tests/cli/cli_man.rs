//! `man` and `completions` through the binary: the page's sections, no pointers to pages that
//! do not exist, and bash offering the runbook's step ids after `do` and `show`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::cli::output_ok;

const BIN: &str = env!("CARGO_BIN_EXE_pushduty");

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn pushduty(args: &[&str]) -> Output {
    output_ok(
        Command::new(BIN)
            .args(args)
            .current_dir(root())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default()),
        format_args!("{args:?}"),
    )
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn step_ids(runbook: Option<&Path>) -> Vec<String> {
    let mut args = Vec::new();
    if let Some(r) = runbook {
        args.extend(["--runbook", r.to_str().unwrap()]);
    }
    args.push("step-ids");
    stdout(&pushduty(&args))
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn the_man_page_has_its_sections_and_names_no_missing_pages() {
    let page = stdout(&pushduty(&["man"]));
    for section in [
        ".SH NAME",
        ".SH SYNOPSIS",
        ".SH OPTIONS",
        ".SH COMMANDS",
        ".SH KEYS",
        ".SH \"EXIT STATUS\"",
        ".SH ENVIRONMENT",
        ".SH FILES",
    ] {
        assert!(page.contains(section), "no {section} in:\n{page}");
    }
    assert!(!page.contains("pushduty-check(1)"), "{page}");
    // No page per subcommand is installed: none is pointed at.
    assert!(
        !page.contains("pushduty\\-") && !page.contains("pushduty-"),
        "{page}"
    );
    for sub in [".SS do", ".SS run", ".SS completions", ".SS man"] {
        assert!(page.contains(sub), "no {sub}");
    }
    // The keys come from the keymap, the exit codes and variables from the code.
    for text in [
        "retry failed/interrupted",
        "reopen a finished step",
        "Ctrl\\-W",
        "PUSHDUTY_STATE_DIR",
        "PUSHDUTY_HTTP_TIMEOUT",
        "NO_COLOR",
        "journal.jsonl",
        "pushduty.log.YYYY\\-MM\\-DD",
        "129, 130, 143",
    ] {
        assert!(page.contains(text), "no {text} in:\n{page}");
    }
    assert!(
        !page.contains("step\\-ids"),
        "the hidden subcommand is not documented"
    );
}

/// What bash's completion offers for `words`, the last being the word under the cursor.
fn bash_complete(words: &[&str]) -> Vec<String> {
    let script = stdout(&pushduty(&["completions", "bash"]));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pushduty.bash");
    std::fs::write(&file, script).unwrap();
    let quoted: Vec<String> = words
        .iter()
        .map(|w| format!("'{}'", w.replace('\'', "'\\''")))
        .collect();
    let cword = words.len();
    let prev = if cword >= 2 { words[cword - 2] } else { BIN };
    let cur = words.last().copied().unwrap_or("");
    let line = format!(
        "source '{file}'\n\
         COMP_WORDS=('{BIN}' {words})\n\
         COMP_CWORD={cword}\n\
         COMP_LINE=\"${{COMP_WORDS[*]}}\"\n\
         COMP_POINT=${{#COMP_LINE}}\n\
         _pushduty '{BIN}' '{cur}' '{prev}'\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        file = file.display(),
        words = quoted.join(" "),
    );
    let out = output_ok(
        Command::new("bash")
            .args(["--norc", "--noprofile", "-c", &line])
            .current_dir(root()),
        "bash completion",
    );
    stdout(&out)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn bash_completes_step_ids_after_do() {
    let ids = step_ids(None);
    assert!(ids.iter().any(|i| i == "tag-master"), "{ids:?}");
    assert_eq!(bash_complete(&["do", ""]), ids, "every step, in order");
    assert_eq!(bash_complete(&["show", ""]), ids, "show takes a step too");
    assert_eq!(bash_complete(&["show", "--json", ""]), ids);
    let tags: Vec<String> = ids
        .iter()
        .filter(|i| i.starts_with("tag-"))
        .cloned()
        .collect();
    assert!(!tags.is_empty());
    assert_eq!(bash_complete(&["do", "tag-"]), tags);
    // Options before the step, with their values, are skipped.
    assert_eq!(
        bash_complete(&["--now", "2015-09-08", "do", "--note", "by hand", "tag-"]),
        tags
    );
    // The step is given: what follows is not another step.
    let after = bash_complete(&["do", "tag-master", ""]);
    assert!(!after.iter().any(|w| w == "tag-master"), "{after:?}");
    // Options are still clap's.
    assert!(bash_complete(&["do", "--"]).iter().any(|w| w == "--yes"));
}

#[test]
fn bash_reads_the_runbook_named_on_the_line() {
    let runbook = root().join("tests/fixtures/runbooks/valid/minimal.toml");
    let r = runbook.to_str().unwrap();
    assert_eq!(step_ids(Some(&runbook)), ["tag", "push"]);
    assert_eq!(bash_complete(&["--runbook", r, "do", ""]), ["tag", "push"]);
    assert_eq!(bash_complete(&["do", "--runbook", r, "p"]), ["push"]);
}

#[test]
fn subcommands_complete_without_the_hidden_one() {
    let words = bash_complete(&[""]);
    assert!(words.iter().any(|w| w == "do"), "{words:?}");
    assert!(!words.iter().any(|w| w == "step-ids"), "{words:?}");
}

#[test]
fn zsh_and_fish_scripts_list_step_ids_for_do() {
    let zsh = stdout(&pushduty(&["completions", "zsh"]));
    assert!(zsh.contains(":_pushduty_step_ids'"), "{zsh}");
    let fish = stdout(&pushduty(&["completions", "fish"]));
    assert!(
        fish.contains("__fish_seen_subcommand_from do") && fish.contains("step-ids"),
        "{fish}"
    );
}
