//! The git pane's background fetch: the remote-tracking branch kept current with the
//! operator's own `git`, so what lands upstream (a blocker's fix) shows without reopening the
//! fetch step. Only `refs/remotes/REMOTE/BRANCH` moves: no local branch, no tag, no
//! `FETCH_HEAD`. It never asks for anything (no terminal prompt, ssh in batch mode) and is
//! ended after a bounded time; a failure is a line in the pane, never fatal.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::net::{Net, fetch_refspecs};
use super::spec::RepoSpec;

/// How long one background fetch may take before it is ended.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// How much of git's error output the pane shows: its last lines say why.
const TAIL_LINES: usize = 4;

/// pushduty is quitting: a fetch still running is ended (its group is its own, which a
/// terminal's signals do not reach), and no other starts.
static QUITTING: AtomicBool = AtomicBool::new(false);

/// Ends the fetch running now, if any, and any later one (pushduty is quitting).
pub fn end_running() {
    QUITTING.store(true, Ordering::SeqCst);
}

/// The refspec: the branch into its remote-tracking ref, and nothing else.
pub fn refspec(spec: &RepoSpec) -> String {
    format!("+{}:{}", spec.branch_ref(), spec.tracking_ref())
}

/// Fetches `spec`'s branch into its remote-tracking branch with the operator's `git` (as the
/// fetch step does: no prompt, ssh in batch mode, its own process group), ended after
/// `timeout`. The error is what to show: git's own last words, or why it did not finish.
pub fn fetch(spec: &RepoSpec, timeout: Duration) -> Result<(), String> {
    let mut net = Net::new(|_| {}, || QUITTING.load(Ordering::SeqCst)).with_limit(timeout);
    fetch_refspecs(spec, &[refspec(spec)], &mut net).map_err(|e| {
        let text = format!("{e:#}");
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        lines[lines.len().saturating_sub(TAIL_LINES)..].join(" / ")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::process::Command;
    use std::sync::Mutex;
    use std::time::Instant;

    /// One fetch at a time, as in pushduty; and [`QUITTING`] is the whole process's.
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

    /// Points the clone's upstream at a transport that only sleeps: a remote that never
    /// answers.
    fn never_answers(spec: &RepoSpec) {
        git(&spec.path, &["config", "protocol.ext.allow", "always"]);
        git(
            &spec.path,
            &["remote", "set-url", "upstream", "ext::sh -c sleep% 30"],
        );
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
        assert!(e.contains("remote 'nowhere' does not exist"), "{e}");
    }

    #[test]
    fn a_fetch_that_hangs_is_ended_in_time() {
        let _one = serial();
        let (_d, spec) = pair();
        never_answers(&spec);
        let began = Instant::now();
        let e = fetch(&spec, Duration::from_millis(500)).unwrap_err();
        assert!(began.elapsed() < Duration::from_secs(5), "{e}");
        assert!(e.contains("did not finish within 0 s"), "{e}");
    }

    #[test]
    fn a_fetch_running_when_pushduty_quits_is_ended() {
        let _one = serial();
        let (_d, spec) = pair();
        never_answers(&spec);
        let began = Instant::now();
        let fetching = std::thread::spawn(move || fetch(&spec, TIMEOUT));
        // Started or not, a fetch under way when pushduty quits ends.
        std::thread::sleep(Duration::from_millis(300));
        end_running();
        let e = fetching.join().unwrap().unwrap_err();
        QUITTING.store(false, Ordering::SeqCst);
        assert!(began.elapsed() < Duration::from_secs(5), "{e}");
        assert!(e.contains("was stopped"), "{e}");
    }
}
