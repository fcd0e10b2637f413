//! The git pane's background fetch: the remote-tracking branch kept current with the
//! operator's own `git`, so what lands upstream (a blocker's fix) shows without reopening the
//! fetch step. Only `refs/remotes/REMOTE/BRANCH` moves: no local branch, no tag, no
//! `FETCH_HEAD`. It never asks for anything (no terminal prompt, ssh in batch mode) and is
//! ended after a bounded time; a failure is a line in the pane, never fatal.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

use super::spec::RepoSpec;

/// How long one background fetch may take before it is ended.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// How much of git's error output the pane shows: its last lines say why.
const TAIL_LINES: usize = 4;

/// The process group of the fetch running now (0: none), so that it ends with pushduty: it
/// runs in a group of its own, which a terminal's signals do not reach. The git pane's one
/// fetching thread runs one fetch at a time.
static RUNNING: AtomicI32 = AtomicI32::new(0);

/// Ends the fetch running now, if any (pushduty is quitting).
pub fn end_running() {
    let group = RUNNING.swap(0, Ordering::SeqCst);
    if group > 0 {
        // SAFETY: signals the process group made for that fetch alone.
        unsafe {
            libc::kill(-group, libc::SIGKILL);
        }
    }
}

/// The command line, as arguments after `git`.
pub fn args(spec: &RepoSpec) -> Vec<String> {
    vec![
        "-C".into(),
        spec.path.display().to_string(),
        "fetch".into(),
        "--quiet".into(),
        "--no-write-fetch-head".into(),
        "--no-tags".into(),
        spec.remote.clone(),
        format!("+{}:{}", spec.branch_ref(), spec.tracking_ref()),
    ]
}

/// Fetches `spec`'s branch into its remote-tracking branch, ending git (and its ssh) after
/// `timeout`. The error is what to show: git's own last words, or why it did not finish.
pub fn fetch(spec: &RepoSpec, timeout: Duration) -> Result<(), String> {
    let mut cmd = Command::new("git");
    cmd.args(args(spec))
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        // Its own group: ending it on a timeout ends the ssh it started too.
        .process_group(0);
    if std::env::var_os("GIT_SSH_COMMAND").is_none() {
        cmd.env("GIT_SSH_COMMAND", "ssh -o BatchMode=yes");
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("could not run git ({e}): is git installed and on PATH?"))?;
    let pid = child.id() as i32;
    RUNNING.store(pid, Ordering::SeqCst);
    let mut stderr = child.stderr.take();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(s) = stderr.as_mut() {
            let _ = s.read_to_string(&mut text);
        }
        text
    });
    let end = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() < end => std::thread::sleep(Duration::from_millis(50)),
            _ => break None,
        }
    };
    let _ = RUNNING.compare_exchange(pid, 0, Ordering::SeqCst, Ordering::SeqCst);
    let Some(status) = status else {
        // SAFETY: signals the process group made for this child alone.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
        let _ = child.wait();
        return Err(format!(
            "git fetch {} did not finish within {} s and was ended",
            spec.remote,
            timeout.as_secs()
        ));
    };
    let said = reader.join().unwrap_or_default();
    if status.success() {
        return Ok(());
    }
    let lines: Vec<&str> = said.lines().filter(|l| !l.trim().is_empty()).collect();
    let tail = lines[lines.len().saturating_sub(TAIL_LINES)..].join(" / ");
    let how = status
        .code()
        .map_or_else(|| "was stopped".to_string(), |c| format!("exited {c}"));
    Err(if tail.is_empty() {
        format!("git fetch {} {how}", spec.remote)
    } else {
        format!("git fetch {} {how}: {tail}", spec.remote)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::sync::Mutex;

    /// One fetch at a time, as in pushduty: [`RUNNING`] names one.
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

    fn serial() -> std::sync::MutexGuard<'static, ()> {
        ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn git(dir: &Path, args: &[&str]) {
        let st = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .unwrap();
        assert!(st.status.success(), "git {args:?}: {st:?}");
    }

    fn rev(dir: &Path, name: &str) -> Option<String> {
        let o = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["rev-parse", "--verify", "--quiet", name])
            .output()
            .unwrap();
        o.status
            .success()
            .then(|| String::from_utf8_lossy(&o.stdout).trim().to_string())
    }

    /// An upstream with a commit and a tag, and a clone of it.
    fn pair() -> (tempfile::TempDir, RepoSpec) {
        let d = tempfile::tempdir().unwrap();
        let up = d.path().join("up");
        std::fs::create_dir(&up).unwrap();
        git(&up, &["init", "-q", "-b", "master"]);
        for c in [
            "user.name=T",
            "user.email=t@example.org",
            "commit.gpgsign=false",
        ] {
            let (k, v) = c.split_once('=').unwrap();
            git(&up, &["config", k, v]);
        }
        git(&up, &["commit", "-q", "--allow-empty", "-m", "one"]);
        let clone = d.path().join("clone");
        git(
            d.path(),
            &[
                "clone",
                "-q",
                "-o",
                "upstream",
                up.to_str().unwrap(),
                "clone",
            ],
        );
        let spec = RepoSpec {
            name: "olympia".into(),
            path: clone,
            github: None,
            remote: "upstream".into(),
            branch: "master".into(),
        };
        (d, spec)
    }

    #[test]
    fn only_the_remote_tracking_branch_moves() {
        let _one = serial();
        let (d, spec) = pair();
        let up = d.path().join("up");
        let local_before = rev(&spec.path, "refs/heads/master");
        git(&up, &["commit", "-q", "--allow-empty", "-m", "the fix"]);
        git(&up, &["tag", "2026.12.10"]);
        fetch(&spec, TIMEOUT).unwrap();
        assert_eq!(
            rev(&spec.path, "refs/remotes/upstream/master"),
            rev(&up, "refs/heads/master")
        );
        assert_eq!(rev(&spec.path, "refs/heads/master"), local_before);
        assert_eq!(rev(&spec.path, "refs/tags/2026.12.10"), None, "no tags");
        assert!(!spec.path.join(".git/FETCH_HEAD").exists());
    }

    #[test]
    fn a_failure_says_gits_last_words() {
        let _one = serial();
        let (_d, mut spec) = pair();
        spec.remote = "nowhere".into();
        let e = fetch(&spec, TIMEOUT).unwrap_err();
        assert!(e.starts_with("git fetch nowhere exited 128: "), "{e}");
        assert!(e.contains("nowhere"), "{e}");
    }

    #[test]
    fn a_fetch_that_hangs_is_ended_in_time() {
        let _one = serial();
        let (_d, spec) = pair();
        // A remote that never answers: a transport command that only sleeps.
        git(&spec.path, &["config", "protocol.ext.allow", "always"]);
        git(
            &spec.path,
            &["remote", "set-url", "upstream", "ext::sh -c sleep% 30"],
        );
        let began = Instant::now();
        let e = fetch(&spec, Duration::from_millis(500)).unwrap_err();
        assert!(began.elapsed() < Duration::from_secs(5), "{e}");
        assert!(e.contains("did not finish within"), "{e}");
    }

    #[test]
    fn a_fetch_running_when_pushduty_quits_is_ended() {
        let _one = serial();
        let (_d, spec) = pair();
        git(&spec.path, &["config", "protocol.ext.allow", "always"]);
        git(
            &spec.path,
            &["remote", "set-url", "upstream", "ext::sh -c sleep% 30"],
        );
        let began = Instant::now();
        let fetching = std::thread::spawn(move || fetch(&spec, TIMEOUT));
        while RUNNING.load(Ordering::SeqCst) == 0 {
            assert!(began.elapsed() < Duration::from_secs(5), "never started");
            std::thread::sleep(Duration::from_millis(10));
        }
        end_running();
        let e = fetching.join().unwrap().unwrap_err();
        assert!(began.elapsed() < Duration::from_secs(5), "{e}");
        assert!(e.contains("was stopped"), "{e}");
    }
}
