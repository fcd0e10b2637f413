//! `pushduty takeover`: the driver's seat moves here, and this session takes in what the team's
//! push log knows of the push and the local journal does not, so that the new driver goes on
//! from the old one's checkpoints instead of starting over.

use anyhow::{Context, Result};
use serde_json::Value;

use super::{Engine, shell};
use crate::session::journal::Transition;
use crate::session::{SessionState, Status};
use crate::teamlog::{Seat, takein::Left};

/// Checkpoint key: the host whose process group the checkpoint's `pgid` is, when it is not
/// this machine's (a step taken over from another driver).
pub const PGID_HOST: &str = "pgid_host";

/// What a takeover did.
pub struct TakenOver {
    /// Who drove before; `None` when nobody did, or this operator did already.
    pub was: Option<Seat>,
    /// How many lines were taken in, and from whom.
    pub lines: usize,
    pub from: Vec<String>,
    /// Steps the old driver left running, now interrupted here.
    pub interrupted: Vec<Left>,
}

impl Engine {
    /// Takes the push's seat in the team's push log (`reason` journaled there) and takes in
    /// its lines this journal lacks. A step someone else left running becomes interrupted
    /// here: run again, it goes on from their checkpoint (a Jenkins build is followed, not
    /// triggered again); a command's process group on their machine is left for the driver
    /// to decide ([`Engine::running_elsewhere`]).
    pub fn take_over(&mut self, reason: &str) -> Result<TakenOver> {
        let log = self
            .push_log
            .as_mut()
            .context("no push log is configured (`[log]` in the config)")?;
        let (was, plan) = log.takeover(reason, &self.session.state, &self.loaded.runbook)?;
        let lines = plan.entries.len();
        if lines > 0 {
            let from = format!("{} ({})", log.describe(), plan.from.join(", "));
            self.session
                .take_in(&self.operator, &from, plan.entries, plan.tags)?;
        }
        log.taken_in(plan.upto)?;
        // The push's tag names and items as the old driver left them.
        for (repo, tag) in self.session.state.repo_tags.clone() {
            self.vars.set_repo_tag(&repo, &tag);
        }
        self.sync_items();
        let mut interrupted = Vec::new();
        for left in plan.left_running {
            if !matches!(self.status(&left.step), Status::Running { .. }) {
                continue;
            }
            self.interrupt_left(&left, reason)?;
            interrupted.push(left);
        }
        self.refresh()?;
        if let Some(log) = self.push_log.as_mut()
            && let Err(e) = log.publish("took over", &self.session.state, &self.loaded.runbook)
        {
            self.log_warnings.push(format!(
                "the takeover is journaled here but not all of it is in the team's push log yet: \
                 {e:#}; it is sent with the next write"
            ));
        }
        Ok(TakenOver {
            was,
            lines,
            from: plan.from,
            interrupted,
        })
    }

    /// A step `left` running by a driver who no longer drives: interrupted here (its
    /// checkpoint kept, to go on from), and where its process group is, if it has one.
    pub(super) fn interrupt_left(&mut self, left: &Left, reason: &str) -> Result<()> {
        let mut t = Transition::new(&left.step, "", "");
        t.reason = Some(format!(
            "left running by {} on {} (since {}), who no longer drives this push (taken over: \
             {reason})",
            left.operator, left.host, left.since
        ));
        let to = Status::Interrupted {
            since: String::new(),
        };
        self.session.record(&left.step, to, &self.operator, t)?;
        let pgid = self
            .session
            .state
            .steps
            .get(&left.step)
            .and_then(|s| s.checkpoint.get(shell::PGID).and_then(Value::as_u64));
        if pgid.is_some() {
            let at = crate::runbook::model::Outputs::from([(
                PGID_HOST.to_string(),
                Value::from(left.host.clone()),
            )]);
            self.session.checkpoint(&left.step, &self.operator, at)?;
        }
        Ok(())
    }

    /// An interrupted step whose command's process group is on another driver's machine: it
    /// may still be running there, and this machine cannot look. Refused until the driver
    /// decides: reopen it to run it again, or skip it.
    pub fn running_elsewhere(&self, id: &str) -> Option<String> {
        elsewhere(&self.session.state, id).map(|(pgid, host)| {
            format!(
                "it may still be running elsewhere (on {host}: process group {pgid}, started \
                 there by a driver who no longer drives this push); check there, then reopen it \
                 to run it again (`do {id} --reopen WHY`) or skip it with a reason"
            )
        })
    }
}

/// The process group and host of an interrupted step's command on another machine.
pub fn elsewhere(state: &SessionState, id: &str) -> Option<(u64, String)> {
    let st = state.steps.get(id)?;
    if !matches!(st.status, Status::Interrupted { .. }) {
        return None;
    }
    let pgid = st.checkpoint.get(shell::PGID)?.as_u64()?;
    let host = st.checkpoint.get(PGID_HOST)?.as_str()?;
    Some((pgid, host.to_string()))
}
