//! Reading a file whole, up to a size: a runbook, a session or a value file of gigabytes (a
//! mistake or a hostile checkout) is refused with its size named instead of being read.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result, bail};

/// The most a runbook file may hold: far above any real procedure (the bundled runbook is
/// 30 KiB; 100,000 generated steps are 18 MiB), far below what would take minutes to check.
pub const MAX_RUNBOOK_BYTES: u64 = 32 * 1024 * 1024;
/// The most a session's state file or a value file read by a runbook may hold.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Reads `path` as UTF-8 text, refusing it past `max` bytes; `what` names it in errors.
pub fn read_text(path: &Path, max: u64, what: &str) -> Result<String> {
    let file = File::open(path).with_context(|| format!("reading {what} {}", path.display()))?;
    let mut bytes = Vec::new();
    // One byte past the limit tells a file at the limit from one over it, whatever its
    // metadata says (a pipe or a growing file has no reliable length).
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {what} {}", path.display()))?;
    if bytes.len() as u64 > max {
        bail!(
            "{what} {} is over {} MiB; pushduty reads at most that much (is it the right file?)",
            path.display(),
            max / (1024 * 1024)
        );
    }
    String::from_utf8(bytes).with_context(|| format!("{what} {} is not UTF-8 text", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_over_the_limit_is_refused_with_its_limit_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big.toml");
        std::fs::write(&p, "x".repeat(2 * 1024 * 1024 + 1)).unwrap();
        let e = read_text(&p, 2 * 1024 * 1024, "the runbook").unwrap_err();
        assert!(format!("{e:#}").contains("over 2 MiB"), "{e:#}");
        std::fs::write(&p, "x".repeat(2 * 1024 * 1024)).unwrap();
        assert_eq!(
            read_text(&p, 2 * 1024 * 1024, "the runbook").unwrap().len(),
            2 << 20
        );
    }
}
