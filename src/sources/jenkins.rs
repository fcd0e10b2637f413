//! The Jenkins pane's source: each Jenkins service's last builds, the running one with its
//! progress, polled on an interval and right after the deploy step moves.

use std::time::Duration;

use crate::services::JenkinsConf;
use crate::services::http::{all, block_on};
use crate::services::jenkins::JobSnapshot;

/// How often Jenkins is read when nothing asks sooner.
pub const INTERVAL: Duration = Duration::from_secs(15);

/// How often while a build runs: its bar and elapsed time move.
pub const BUILDING_INTERVAL: Duration = Duration::from_secs(2);

/// The wait before the next read: short while the last one saw a build running.
pub fn pace(last: &Result<Vec<String>, String>) -> Duration {
    let building = last
        .as_ref()
        .is_ok_and(|lines| lines.iter().any(|l| JobSnapshot::is_building_line(l)));
    if building {
        BUILDING_INTERVAL
    } else {
        INTERVAL
    }
}

/// How many builds the pane lists per job.
const SHOWN: usize = 5;

/// The pane's lines for every Jenkins service; an error only when none could be read.
pub fn snapshot(confs: &[JenkinsConf]) -> Result<Vec<String>, String> {
    let reads = block_on(all(confs.iter().map(|c| JobSnapshot::read(c, SHOWN))))
        .map_err(|e| format!("{e:#}"))?;
    let now = chrono::Utc::now().timestamp_millis();
    let mut lines = Vec::new();
    let mut errors = Vec::new();
    for (conf, read) in confs.iter().zip(reads) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::jenkins::Build;

    fn build(number: u64, building: bool) -> Build {
        Build {
            number,
            result: (!building).then(|| "SUCCESS".to_string()),
            building,
            tag: Some("2015.09.10".into()),
            url: String::new(),
            started: Some("2015-09-08T14:00:00Z".into()),
            duration_ms: 60_000,
            estimated_ms: 100_000,
            queue_id: None,
            params: Vec::new(),
        }
    }

    #[test]
    fn a_running_build_is_followed_closely_and_an_idle_job_slowly() {
        let now = chrono::DateTime::parse_from_rfc3339("2015-09-08T14:00:30Z")
            .unwrap()
            .timestamp_millis();
        let lines = |builds| {
            Ok(JobSnapshot {
                job: "deploy".into(),
                builds,
            }
            .lines(now))
        };
        let running = lines(vec![build(12, true), build(11, false)]);
        assert_eq!(pace(&running), BUILDING_INTERVAL, "{running:?}");
        assert_eq!(pace(&lines(vec![build(11, false)])), INTERVAL);
        assert_eq!(pace(&lines(Vec::new())), INTERVAL);
        assert_eq!(pace(&Err("timed out".into())), INTERVAL);
    }
}
