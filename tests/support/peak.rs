//! A process's memory while it runs: its peak resident set, and a kill past a ceiling, so that
//! a process reading without limit fails its test instead of taking the machine's memory.
#![allow(dead_code)]

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How a measured run ended.
pub struct Measured {
    /// `None` when a signal ended it.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// The kernel's figure for the child's peak resident set (`ru_maxrss`), in MiB.
    pub peak_mib: u64,
    /// Killed for passing the ceiling.
    pub killed: bool,
    pub elapsed: Duration,
}

/// The resident set of `pid` now, in KiB (`None` once it is gone).
fn rss_kib(pid: i32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn drain(mut from: impl Read + Send + 'static) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = from.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    })
}

/// Runs `cmd` to its end, killing it if its resident set passes `ceiling_mib`; reaps it with
/// `wait4` to read its own peak resident set (not that of the test's other children).
// Reaped by `wait4`, which std's `Child` does not see.
#[allow(clippy::zombie_processes)]
pub fn run(cmd: &mut Command, ceiling_mib: u64) -> Measured {
    let started = Instant::now();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = drain(child.stdout.take().unwrap());
    let err = drain(child.stderr.take().unwrap());
    let pid = i32::try_from(child.id()).unwrap();
    let mut killed = false;
    let (status, usage) = loop {
        let mut status = 0;
        // SAFETY: rusage is plain old data, filled by the kernel.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: waits (without blocking) on our own child only; one thread reaps it.
        let reaped = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        assert!(reaped >= 0, "wait4: {}", std::io::Error::last_os_error());
        if reaped == pid {
            break (status, usage);
        }
        if !killed && rss_kib(pid).is_some_and(|k| k > ceiling_mib * 1024) {
            // SAFETY: our own child, not yet reaped, so the pid is still its.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            killed = true;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    Measured {
        code,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
        peak_mib: u64::try_from(usage.ru_maxrss).unwrap_or(0) / 1024,
        killed,
        elapsed: started.elapsed(),
    }
}

/// Watches a process the test did not start (the TUI in tmux): samples its resident set,
/// keeps the highest, and kills it past `ceiling_mib`. Stops when dropped or the process ends.
pub struct Watch {
    peak_kib: Arc<AtomicU64>,
    killed: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Watch {
    pub fn start(pid: i32, ceiling_mib: u64) -> Self {
        let peak_kib = Arc::new(AtomicU64::new(0));
        let killed = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let (p, k, s) = (
            Arc::clone(&peak_kib),
            Arc::clone(&killed),
            Arc::clone(&stop),
        );
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                let Some(kib) = rss_kib(pid) else { return };
                p.fetch_max(kib, Ordering::SeqCst);
                if kib > ceiling_mib * 1024 && !k.swap(true, Ordering::SeqCst) {
                    // SAFETY: the process is still there (just read); a test's own.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        Self {
            peak_kib,
            killed,
            stop,
            thread: Some(thread),
        }
    }

    /// The highest resident set seen so far, in MiB.
    pub fn peak_mib(&self) -> u64 {
        self.peak_kib.load(Ordering::SeqCst) / 1024
    }

    pub fn killed(&self) -> bool {
        self.killed.load(Ordering::SeqCst)
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
