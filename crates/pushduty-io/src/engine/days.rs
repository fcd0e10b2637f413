//! The day rule: a step the runbook plans for a later day of the push week than today is a
//! failed precondition (overridable with a reason, like any other check). A step planned for
//! an earlier day is late, never refused: a push that slipped must still be finishable.

use chrono::NaiveDate;

use super::{Check, Engine};
use crate::runbook::schedule::{parse_date, with_weekday};
use crate::session::Status;

impl Engine {
    /// Today in the runbook's timezone: by the wall clock now when the clock is live, else as
    /// the session's clock (`--now`) had it when it began.
    pub fn today(&self) -> Option<NaiveDate> {
        if self.live_clock {
            return Some(
                chrono::Utc::now()
                    .with_timezone(&self.loaded.calendar.tz)
                    .date_naive(),
            );
        }
        parse_date(&self.vars.today).ok()
    }

    /// The date the runbook plans `id` for in this push week, if it says.
    pub fn planned_date(&self, id: &str) -> Option<NaiveDate> {
        let step = self.loaded.runbook.step(id)?;
        let date = crate::plan::step_date(&self.loaded, &self.vars, step)?;
        parse_date(&date).ok()
    }

    /// Why `id` is too early today, if it is: "planned for Thu 2015-09-10 (today is Tue …)".
    pub fn too_early(&self, id: &str) -> Option<String> {
        let (planned, today) = (self.planned_date(id)?, self.today()?);
        (planned > today).then(|| {
            format!(
                "planned for {} (today is {})",
                with_weekday(planned),
                with_weekday(today)
            )
        })
    }

    /// The day rule as a check, to list with the step's own checks.
    pub(super) fn day_check(&self, id: &str) -> Option<Check> {
        self.too_early(id).map(Check::fail)
    }

    /// The step to do next: the first one, in runbook order, that is still to do (pending,
    /// failed or interrupted), not running and not waiting for another step.
    pub fn next_actionable(&self) -> Option<String> {
        self.loaded
            .runbook
            .steps
            .iter()
            .filter(|s| {
                matches!(
                    self.status(&s.id),
                    Status::Pending | Status::Failed { .. } | Status::Interrupted { .. }
                )
            })
            .find(|s| self.waiting_for(&s.id).is_none())
            .map(|s| s.id.clone())
    }
}
