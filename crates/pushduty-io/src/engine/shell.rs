//! `shell`: run a command (shown in full before confirmation), stream its output, enforce its
//! timeout. It runs in its own process group so a cancel kills everything it started, and that
//! group is journaled the moment it exists so a restarted pushduty never starts a second copy
//! while the first still runs. Values reach the command in environment variables (see
//! `pushduty_core::shell`), a value not known yet stops the step, and the command sees a
//! minimal environment: no token leaks into it.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use super::{Executor, InputSpec, Job};
use crate::group::{Ended, kill_group};
use crate::runbook::model::{Outputs, Step, StepKind};

pub struct Shell;

/// Checkpoint keys: the command's process group, and when its leader started (in the
/// system's own unit), so a reused pid is not taken for it.
pub const PGID: &str = "pgid";
pub const STARTED: &str = "pgid_started";

/// The question after a pushduty stopped while its command was let go: the command may have
/// run to its end, outliving it; and its answers.
pub const MAYBE_RAN: &str = "maybe_ran";
pub const MARK_DONE: &str = "mark_done";
pub const RUN_AGAIN: &str = "run_again";

/// The process group a stopped run let go and never saw end: its command may have run.
fn in_doubt(step: &Step, ctx: &Value) -> Option<u64> {
    ctx["resume"][&step.id][PGID].as_u64()
}

/// The shell that holds a command until its group is journaled: it stops itself, and once
/// continued becomes the command (`$1`).
const HOLD: &str = "kill -STOP $$ && exec sh -c \"$1\"";

/// When a process started (see [`pushduty_platform::process::started`]).
pub fn process_started(pid: u64) -> Option<u64> {
    pushduty_platform::process::started(pid)
}

/// Whether a process group lives: some process of it is more than a zombie, and (when known)
/// its leader is the one that was journaled, not a later process that got the same pid.
pub fn group_alive(pgid: u64, started: Option<u64>) -> bool {
    pushduty_platform::process::group_alive(pgid, started)
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

/// How the just-started command's shell came to its stop.
enum Start {
    /// Stopped itself: the command runs once its group is continued.
    Stopped,
    /// Ended (and reaped): its pid may already be another process's.
    Ended,
}

/// Waits until the just-started command has stopped itself, or ended.
fn wait_stopped(pid: u32) -> Result<Start> {
    let stopped = pushduty_platform::process::wait_stopped(pid)
        .context("waiting for the command's shell to start")?;
    Ok(if stopped {
        Start::Stopped
    } else {
        Start::Ended
    })
}

impl Executor for Shell {
    /// After a pushduty that stopped while the command ran: whether it ran to its end.
    fn inputs(&self, step: &Step, ctx: &Value) -> Vec<InputSpec> {
        let Some(pgid) = in_doubt(step, ctx) else {
            return Vec::new();
        };
        let look = "look for what the command does (its files, its service, its log)".to_string();
        vec![InputSpec {
            key: MAYBE_RAN.into(),
            prompt: format!(
                "pushduty stopped while the command ran (process group {pgid}), which went on \
                 without it and has ended: did it do its work? ({look})"
            ),
            required: true,
            options: vec![
                (
                    MARK_DONE.into(),
                    "it did: mark the step done, run nothing".into(),
                ),
                (RUN_AGAIN.into(), "it did not: run the command again".into()),
            ],
            hints: vec![look],
            default: None,
            commits: Vec::new(),
            check: None,
        }]
    }

    fn run(&self, job: &Job) -> Result<Outputs> {
        let StepKind::Shell(s) = &job.step.kind else {
            bail!("not a shell step");
        };
        if let Some(pgid) = job.resume.get(PGID).and_then(Value::as_u64) {
            match job.inputs.get(MAYBE_RAN).map(String::as_str) {
                Some(MARK_DONE) => {
                    job.progress(
                        "not run again: you found its work done, so the step is marked done",
                    );
                    return Ok(Outputs::from([(
                        "marked_done".to_string(),
                        json!("by the operator, after a run that stopped while the command ran"),
                    )]));
                }
                Some(RUN_AGAIN) => job.progress("running the command again, as you chose"),
                _ => bail!(
                    "the command may have run already (process group {pgid} went on after \
                     pushduty stopped): check what it does, then run the step again with \
                     `{MAYBE_RAN}` = `{MARK_DONE}` or `{RUN_AGAIN}`"
                ),
            }
        }
        let prepared = pushduty_core::shell::prepare(&s.command, &job.ctx, &s.env)?;
        let command = prepared.shown();
        // The command starts stopped: `sh` stops itself before it runs anything, its process
        // group is journaled, and only then does it go on (`exec`, so the group's leader runs
        // the script). A pushduty killed before the journal line leaves a stopped group with
        // no parent, which the kernel hangs up: the command never runs unjournaled.
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(HOLD)
            .arg("pushduty-step")
            .arg(&prepared.script)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        super::child_env::minimal(&mut cmd, s.env.iter().map(String::as_str));
        for (name, value) in &prepared.values {
            cmd.env(name, value);
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
        match wait_stopped(pgid) {
            Ok(Start::Stopped) => {}
            // Reaped already: its pid is free, and no group is left to end (the shell exits
            // when it cannot stop itself).
            Ok(Start::Ended) => {
                bail!("the command's shell ended before it could start the command")
            }
            Err(e) => {
                kill_group(pgid);
                let _ = child.wait();
                return Err(e);
            }
        }
        let mut handle = Outputs::new();
        handle.insert(PGID.into(), Value::from(pgid));
        if let Some(t) = process_started(u64::from(pgid)) {
            handle.insert(STARTED.into(), Value::from(t));
        }
        if let Err(e) = job.checkpoint_synced(handle) {
            kill_group(pgid);
            let _ = child.wait();
            return Err(e.context("the command was not run: its process group is not journaled"));
        }
        pushduty_platform::process::continue_group(pgid);
        let readers: Vec<_> = [
            child.stdout.take().map(|o| forward(job, o)),
            child.stderr.take().map(|e| forward(job, e)),
        ]
        .into_iter()
        .flatten()
        .collect();
        let deadline = Instant::now() + Duration::from_secs(s.timeout_secs);
        let ended = crate::group::supervise(
            &mut child,
            &|| job.cancel.is_cancelled(),
            Some(deadline),
            &mut || {},
        );
        for r in readers {
            let _ = r.join();
        }
        let status = match ended? {
            Ended::Exited(st) => st,
            Ended::Cancelled => {
                // Killed here, not let go: the next run need not ask whether it ran.
                job.checkpoint(Outputs::from([(PGID.to_string(), Value::Null)]));
                bail!("cancelled by the operator: the command and its children were killed")
            }
            Ended::TimedOut => bail!(
                "timed out after {}s: the command and its children were killed",
                s.timeout_secs
            ),
        };
        let code = status.code().unwrap_or(-1);
        if !status.success() {
            bail!("`{}` exited with code {code}", prepared.script);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// What the write-ahead rests on: a command held stopped in a group of its own, whose
    /// pushduty is killed before its group was journaled, is hung up by the kernel (its group
    /// is orphaned with a stopped member) and never runs.
    #[test]
    fn a_held_command_whose_parent_dies_never_runs() {
        let dir = tempfile::tempdir().unwrap();
        let ran = dir.path().join("ran");
        // Python plays pushduty: it starts the held command as the executor does (a group of
        // its own, nothing of ours on its stdio), says its pid, and dies by SIGKILL.
        let script = format!(
            "import os, signal, subprocess, sys, time\n\
             p = subprocess.Popen(['sh', '-c', {hold:?}, 'pushduty-step', {cmd:?}], \
             process_group=0, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, \
             stderr=subprocess.DEVNULL)\n\
             print(p.pid, flush=True)\n\
             time.sleep(0.3)\n\
             os.kill(os.getpid(), signal.SIGKILL)\n",
            hold = HOLD,
            cmd = format!("touch {}", ran.display()),
        );
        let out = Command::new("python3")
            .arg("-c")
            .arg(script)
            .output()
            .unwrap();
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&out.status),
            Some(9),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let held: u64 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
        // Hung up, it ends; not left stopped for ever.
        let deadline = Instant::now() + Duration::from_secs(5);
        while group_alive(held, None) {
            assert!(Instant::now() < deadline, "the held command {held} lingers");
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(!ran.exists(), "the held command ran after its parent died");
    }
}
