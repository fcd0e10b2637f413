//! The Jenkins pane's source: each Jenkins service's last builds, the running one with its
//! progress, polled on an interval and right after the deploy step moves.

use std::time::Duration;

use crate::services::JenkinsConf;
use crate::services::http::block_on;
use crate::services::jenkins::JobSnapshot;

/// How often Jenkins is read when nothing asks sooner.
pub const INTERVAL: Duration = Duration::from_secs(15);

/// How many builds the pane lists per job.
const SHOWN: usize = 5;

/// The pane's lines for every Jenkins service; an error only when none could be read.
pub fn snapshot(confs: &[JenkinsConf]) -> Result<Vec<String>, String> {
    let now = chrono::Utc::now().timestamp_millis();
    let mut lines = Vec::new();
    let mut errors = Vec::new();
    for conf in confs {
        let read = block_on(JobSnapshot::read(conf, SHOWN)).and_then(|r| r);
        match read {
            Ok(s) => {
                if confs.len() > 1 {
                    lines.push(format!("{}:", conf.name));
                }
                lines.extend(s.lines(now));
            }
            Err(e) => {
                lines.push(format!("{}: {e:#}", conf.name));
                errors.push(format!("{}: {e:#}", conf.name));
            }
        }
    }
    if !confs.is_empty() && errors.len() == confs.len() {
        return Err(errors.join("; "));
    }
    Ok(lines)
}
