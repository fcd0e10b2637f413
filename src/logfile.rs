//! The log file: `<state dir>/logs/pushduty.log.YYYY-MM-DD`, one per day, the last
//! [`KEEP`] kept. Never the terminal: in `run` the screen belongs to ratatui.
//!
//! What is logged names steps, commands and services, never a secret: step reasons and
//! errors go through the same secret scrubbing as the journal before they get here, and
//! service failures are logged without their URL's credentials or query.

use std::fs::DirBuilder;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::Path;

use std::io::Write;

use anyhow::{Context, Result};
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::sanitize::clean_line;

/// Daily files kept; older ones are deleted when a new day's file is opened.
pub const KEEP: usize = 14;

pub const PREFIX: &str = "pushduty.log";

/// The log is open. Writes are not buffered (a step may end the process by a signal), so
/// there is nothing to flush; the value only says that logging started.
#[derive(Debug)]
pub struct Guard(());

/// The filter: `RUST_LOG` when set, else pushduty's own events at info, raised by `-v`;
/// other crates at warn (their debug output may carry request headers).
fn filter(verbose: u8) -> EnvFilter {
    if let Ok(f) = EnvFilter::try_from_default_env() {
        return f;
    }
    let level = match verbose {
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    EnvFilter::new(format!("warn,pushduty={level}"))
}

/// Opens the log under `state_dir` and sends this process's events to it.
pub fn init(state_dir: &Path, verbose: u8) -> Result<Guard> {
    let dir = state_dir.join("logs");
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .with_context(|| format!("creating {}", dir.display()))?;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
        .with_context(|| format!("making {} private", dir.display()))?;
    let appender = RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix(PREFIX)
        .max_log_files(KEEP)
        .build(&dir)
        .with_context(|| format!("opening the log in {}", dir.display()))?;
    // The appender creates files with the process umask; the folder is private already,
    // and the files are made so too (a day that began while pushduty ran is fixed here).
    make_files_private(&dir)?;
    let subscriber = tracing_subscriber::fmt()
        .with_writer(Escaping(appender))
        .with_ansi(false)
        .with_target(false)
        .with_env_filter(filter(verbose))
        .finish();
    // Global, so the engine's worker threads log too.
    if tracing::subscriber::set_global_default(subscriber).is_err() {
        anyhow::bail!("a log is already open in this process");
    }
    Ok(Guard(()))
}

fn make_files_private(dir: &Path) -> Result<()> {
    let entries = std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?;
    for e in entries.flatten() {
        let p = e.path();
        if p.is_file() {
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600))
                .with_context(|| format!("making {} private", p.display()))?;
        }
    }
    Ok(())
}

/// The log's writer: values in an event (a step's output, an error, a name) come from data,
/// and a person reads the log with `less` or `cat`; so every control and bidi character but
/// the newline that ends the event is written as a visible escape, as on the screen.
struct Escaping<M>(M);

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for Escaping<M> {
    type Writer = EscapingWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        EscapingWriter(self.0.make_writer())
    }
}

struct EscapingWriter<W>(W);

impl<W: Write> Write for EscapingWriter<W> {
    /// The formatter writes each event whole in one call, so its last newline is its end.
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let (body, end) = match text.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (&*text, ""),
        };
        let line = clean_line(body);
        self.0.write_all(line.as_bytes())?;
        self.0.write_all(end.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_one_line_with_no_control_or_bidi_character() {
        let mut out = Vec::new();
        EscapingWriter(&mut out)
            .write_all("step failed error=\"a\x1b[2Jb\0c\u{202e}d\ne\"\n".as_bytes())
            .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "step failed error=\"a\\u{1b}[2Jb\\u{0}c\\u{202e}d\\ne\"\n"
        );
    }
}
