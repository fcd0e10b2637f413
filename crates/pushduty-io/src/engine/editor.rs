//! The operator's editor, lent the terminal for one text (a template, notes, an email). It
//! gets the minimal environment every child gets, and it is ended when the step is cancelled
//! or pushduty is stopped by a signal, rather than holding the step (and whatever it would do
//! next) until the operator closes it.

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// Beyond [`super::child_env::PASSED`]: what a terminal editor needs for its colours, and a
/// graphical one (`code --wait`) to reach the desktop.
const EDITOR_PASSED: &[&str] = &[
    "COLORTERM",
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "XAUTHORITY",
    "XDG_RUNTIME_DIR",
];

/// How long an ended editor gets to restore the terminal (and keep its swap file) before it
/// is killed outright.
const GRACE: Duration = Duration::from_secs(2);

/// The editor: the config's, else `$VISUAL`, `$EDITOR`, `vi`.
pub fn editor(config: Option<&str>) -> String {
    config
        .map(str::to_string)
        .or_else(|| std::env::var("VISUAL").ok().filter(|s| !s.is_empty()))
        .or_else(|| std::env::var("EDITOR").ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "vi".into())
}

/// Runs the operator's editor on a copy of `text` kept in `dir`; returns the saved text. While
/// it runs, `stop` is asked every few milliseconds: when it says yes, the editor is ended and
/// nothing it saved is taken.
pub fn run_editor(
    editor: &str,
    text: &str,
    name: &str,
    dir: &Path,
    stop: &dyn Fn() -> bool,
) -> Result<String> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(format!("editing-{name}"));
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    // The editor setting may carry arguments (`code --wait`): the shell splits it, then
    // becomes the editor (`exec`), so ending the child ends the editor itself.
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("exec {editor} \"$1\""))
        .arg("sh")
        .arg(&path);
    super::child_env::minimal(&mut cmd, EDITOR_PASSED.iter().copied());
    let mut child = cmd
        .spawn()
        .with_context(|| format!("starting the editor `{editor}`"))?;
    let status = loop {
        if let Some(st) = child.try_wait().context("waiting for the editor")? {
            break st;
        }
        if stop() {
            end(&mut child);
            let _ = std::fs::remove_file(&path);
            bail!(
                "stopped while the editor `{editor}` was open: the editor was ended and \
                 nothing was taken from it"
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let edited = std::fs::read_to_string(&path);
    let _ = std::fs::remove_file(&path);
    if !status.success() {
        let how = status
            .signal()
            .map_or_else(|| status.to_string(), |s| format!("signal {s}"));
        bail!("the editor `{editor}` exited with {how}; nothing written");
    }
    edited.with_context(|| format!("reading back {}", path.display()))
}

/// SIGTERM, then SIGKILL if it is still there after [`GRACE`]; reaped either way.
fn end(child: &mut Child) {
    // Our own child, not reaped yet: the pid is still its.
    pushduty_platform::process::terminate(child.id());
    let deadline = Instant::now() + GRACE;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stop_ends_the_editor_at_once_and_takes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("pid");
        // An editor that saves, then waits for its operator forever.
        let editor = format!(
            "sh -c 'echo $$ > {}; echo saved > \"$1\"; sleep 30' editor",
            pidfile.display()
        );
        let asked = std::sync::atomic::AtomicUsize::new(0);
        let began = Instant::now();
        let stop =
            || pidfile.exists() && asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst) > 2;
        let e = run_editor(&editor, "text", "t.txt", dir.path(), &stop).unwrap_err();
        assert!(format!("{e:#}").contains("the editor was ended"), "{e:#}");
        assert!(
            began.elapsed() < Duration::from_secs(5),
            "{:?}",
            began.elapsed()
        );
        let pid: u32 = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert!(
            !pushduty_platform::process::alive(pid),
            "the editor {pid} outlived the stop"
        );
        assert!(!dir.path().join("editing-t.txt").exists());
    }

    #[test]
    fn the_editor_sees_no_token() {
        let dir = tempfile::tempdir().unwrap();
        // What the editor's environment holds, written into the text it saves.
        let e = run_editor(
            "sh -c 'env > \"$1\"' editor",
            "",
            "env.txt",
            dir.path(),
            &|| false,
        )
        .unwrap();
        let names: Vec<&str> = e.lines().filter_map(|l| l.split('=').next()).collect();
        for n in &names {
            assert!(
                super::super::child_env::PASSED.contains(n)
                    || EDITOR_PASSED.contains(n)
                    // Set by sh itself.
                    || ["PWD", "SHLVL", "_", "OLDPWD"].contains(n),
                "the editor inherited {n}: {names:?}"
            );
        }
        assert!(names.contains(&"PATH"), "{names:?}");
    }
}
