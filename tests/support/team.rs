//! What the team's push-log tests share: a runbook's head for a push of Thu 2015-09-10 by
//! ann or bob, and an operator's home (a git identity, a config naming the push log).
#![allow(dead_code)]

use std::path::Path;

/// A runbook's first lines: `name`, the weekly schedule and the rotation of ann and bob.
/// Services (if any), then [`ONLY_SECTION`] and the steps follow.
pub fn runbook_head(name: &str) -> String {
    format!(
        "name = \"{name}\"\n\n[schedule]\npush_day = \"thursday\"\ntag_day = \"tuesday\"\n\
         timezone = \"UTC\"\n\n[rotation]\npeople = [\"ann\", \"bob\"]\nstart = \"2015-09-10\"\n\n"
    )
}

/// The one section the tests' steps are in.
pub const ONLY_SECTION: &str = "[[sections]]\nid = \"only\"\ntitle = \"Only section\"\n\n";

/// `name`'s home `home`: their git identity, and at `config` a config naming them and the
/// push log at `log` (a path or a URL).
pub fn operator_home(home: &Path, config: &Path, name: &str, log: &str) {
    std::fs::create_dir_all(home).unwrap();
    std::fs::write(
        home.join(".gitconfig"),
        format!("[user]\n\tname = {name}\n\temail = {name}@example.com\n"),
    )
    .unwrap();
    std::fs::write(
        config,
        format!("operator = \"{name}\"\nnotify = \"off\"\n\n[log]\nrepo = \"{log}\"\n"),
    )
    .unwrap();
}
