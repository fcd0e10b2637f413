//! Prints the JSON `repo_state` of a repository.
//!
//! `repo_state PATH [REMOTE] [BRANCH] [OWNER/REPO]`; with `REPEAT=N` in the environment it also
//! calls `repo_state` N more times in this process and prints the mean time per call to stderr
//! (the first call in a process also pays libgit2's one-time global initialisation).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use pushduty::git::{RepoSpec, state::repo_state, tags::TagFormat};

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let path = PathBuf::from(
        args.next()
            .context("usage: repo_state PATH [REMOTE] [BRANCH] [OWNER/REPO]")?,
    );
    let spec = RepoSpec {
        name: path.display().to_string(),
        path,
        remote: args.next().unwrap_or_else(|| "origin".into()),
        branch: args.next().unwrap_or_else(|| "master".into()),
        github: args.next(),
    };
    let format = TagFormat::new("%Y.%m.%d").map_err(anyhow::Error::msg)?;
    let state = repo_state(&spec, &format);
    println!("{}", serde_json::to_string_pretty(&state)?);
    let repeat: u32 = std::env::var("REPEAT")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    if repeat > 0 {
        let start = Instant::now();
        for _ in 0..repeat {
            repo_state(&spec, &format);
        }
        let mean = start.elapsed().as_secs_f64() * 1000.0 / f64::from(repeat);
        eprintln!("repo_state in-process: {mean:.2} ms per call (mean of {repeat})");
    }
    Ok(())
}
