//! `shell`: run a command (shown in full before confirmation), stream its output, enforce its
//! timeout. It runs in its own process group so a cancel kills everything it started.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use super::{Executor, Job};
use crate::preview::fill;
use crate::runbook::model::{Outputs, StepKind};

pub struct Shell;

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
        let command = fill(&s.command, &job.ctx);
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(&command)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
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
