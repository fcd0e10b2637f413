//! What a child process (a shell step's command, the operator's editor) inherits of
//! pushduty's environment: what programs need to run (where they are, who and where the user
//! is, the locale, the terminal) and nothing else, so the tokens pushduty reads from its
//! environment never reach them.

use std::process::Command;

/// Passed to every child; anything more is named where the child is started.
pub const PASSED: &[&str] = &[
    "PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TERM", "TZ", "TMPDIR",
    "SHELL",
];

/// Clears `cmd`'s environment, then gives it [`PASSED`] and `extra` as pushduty has them.
pub fn minimal<'a>(cmd: &mut Command, extra: impl IntoIterator<Item = &'a str>) {
    cmd.env_clear();
    for name in PASSED.iter().copied().chain(extra) {
        if let Some(v) = std::env::var_os(name) {
            cmd.env(name, v);
        }
    }
}
