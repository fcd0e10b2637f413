//! Prints the JSON `repo_state` of a repository: `repo_state PATH [REMOTE] [BRANCH] [OWNER/REPO]`.

use std::path::PathBuf;

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
    Ok(())
}
