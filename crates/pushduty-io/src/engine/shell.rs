//! `shell`: run a command (shown in full before confirmation), stream its output, enforce its
//! timeout. It runs in its own process group so a cancel kills everything it started, and that
//! group is journaled the moment it exists so a restarted pushduty never starts a second copy
//! while the first still runs. Values are substituted as quoted shell words, a value not known
//! yet stops the step, and the command sees a minimal environment: no token leaks into it.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use super::child_env::PASSED;
use super::{Executor, Job};
use crate::runbook::model::{Outputs, StepKind};

pub struct Shell;

/// Checkpoint keys: the command's process group, and when its leader started (clock ticks
/// since boot), so a reused pid is not taken for it.
pub const PGID: &str = "pgid";
pub const STARTED: &str = "pgid_started";

/// When a process started, in clock ticks since boot (`/proc/PID/stat`, field 22).
pub fn process_started(pid: u64) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: count from its end.
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split(' ').nth(19)?.parse().ok()
}

/// Whether some process of group `pgid` is more than a zombie: a killed command whose parent
/// (a pushduty killed with it) is gone waits as a zombie until someone reaps it, and a zombie
/// runs nothing. Without `/proc` to read, every member counts.
fn has_live_member(pgid: u64) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return true;
    };
    let mut read_any = false;
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        read_any = true;
        // After the command name: state, ppid, pgrp.
        let Some(rest) = stat.rfind(')').map(|i| &stat[i + 2..]) else {
            continue;
        };
        let mut fields = rest.split(' ');
        let state = fields.next();
        if fields.nth(1).and_then(|g| g.parse::<u64>().ok()) == Some(pgid) && state != Some("Z") {
            return true;
        }
    }
    !read_any
}

/// Whether a process group lives: some process is in it, and (when known) its leader is the
/// one that was journaled, not a later process that got the same pid.
pub fn group_alive(pgid: u64, started: Option<u64>) -> bool {
    let Ok(id) = libc::pid_t::try_from(pgid) else {
        return false;
    };
    // SAFETY: signal 0 to a group only checks that it exists.
    let exists = unsafe { libc::kill(-id, 0) } == 0
        || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
    if !exists || !has_live_member(pgid) {
        return false;
    }
    match (started, process_started(pgid)) {
        (Some(want), Some(now)) => want == now,
        // The leader is gone but members remain, or /proc says nothing: alive.
        _ => true,
    }
}

fn forward(job: &Job, r: impl Read + Send + 'static) -> std::thread::JoinHandle<()> {
    let progress = job.progress.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines() {
            match line {
                Ok(l) => progress(l),
                Err(_) => break,
            }
        }
    })
}

fn kill_group(pgid: u32) {
    if let Ok(pid) = libc::pid_t::try_from(pgid) {
        // SAFETY: a negative pid signals the whole process group the child leads.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
}

impl Executor for Shell {
    fn run(&self, job: &Job) -> Result<Outputs> {
        let StepKind::Shell(s) = &job.step.kind else {
            bail!("not a shell step");
        };
        let command = crate::preview::command_line(&s.command, &job.ctx)?;
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(&command)
            .env_clear()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        for name in PASSED
            .iter()
            .copied()
            .chain(s.env.iter().map(String::as_str))
        {
            if let Some(v) = std::env::var_os(name) {
                cmd.env(name, v);
            }
        }
        if let Some(repo) = &s.repo {
            match &job.ctx["repos"][repo]["path"] {
                Value::String(p) => {
                    cmd.current_dir(p);
                }
                _ => bail!("repo `{repo}` has no local checkout in the config (repos.{repo}.path)"),
            }
        }
        job.progress(format!("$ {command}"));
        let mut child = cmd
            .spawn()
            .with_context(|| format!("starting `{command}`"))?;
        let pgid = child.id();
        let mut handle = Outputs::new();
        handle.insert(PGID.into(), Value::from(pgid));
        if let Some(t) = process_started(u64::from(pgid)) {
            handle.insert(STARTED.into(), Value::from(t));
        }
        job.checkpoint(handle);
        let readers: Vec<_> = [
            child.stdout.take().map(|o| forward(job, o)),
            child.stderr.take().map(|e| forward(job, e)),
        ]
        .into_iter()
        .flatten()
        .collect();
        let deadline = Instant::now() + Duration::from_secs(s.timeout_secs);
        let status = loop {
            if let Some(st) = child.try_wait().context("waiting for the command")? {
                break Ok(st);
            }
            if job.cancel.is_cancelled() {
                kill_group(pgid);
                let _ = child.wait();
                break Err(
                    "cancelled by the operator: the command and its children were killed"
                        .to_string(),
                );
            }
            if Instant::now() >= deadline {
                kill_group(pgid);
                let _ = child.wait();
                break Err(format!(
                    "timed out after {}s: the command and its children were killed",
                    s.timeout_secs
                ));
            }
            // Polling only while a command runs; a short sleep keeps cancel responsive.
            std::thread::sleep(Duration::from_millis(20));
        };
        // Whatever the command left in the background dies with it, so the pipes close and
        // the readers end.
        kill_group(pgid);
        for r in readers {
            let _ = r.join();
        }
        let status = status.map_err(anyhow::Error::msg)?;
        let code = status.code().unwrap_or(-1);
        if !status.success() {
            bail!("`{command}` exited with code {code}");
        }
        let mut out = Outputs::new();
        out.insert("exit_code".into(), Value::from(code));
        Ok(out)
    }
}

impl super::Execute for pushduty_core::runbook::kinds::shell::Shell {
    fn executor(_: &super::Setup<'_>) -> std::sync::Arc<dyn Executor> {
        std::sync::Arc::new(Shell)
    }
}
