//! The rehearsal's week: the runbook's week moved so that its push day is today. The tag day
//! and every step planned on a weekday keep their distance from the push (with Tuesday's tag,
//! Wednesday's blockers and Thursday's push, a rehearsal on a Saturday tags on Thursday and
//! checks the blockers on Friday), so no step is planned before the tag it follows.

use chrono::{Datelike, Days, NaiveDate, Weekday};

use crate::runbook::model::Runbook;
use crate::runbook::schedule::parse_weekday;

/// Days from `day` back to the last `push` weekday on or after it: 0 on the push day itself.
fn days_before(push: Weekday, day: Weekday) -> u64 {
    u64::from((7 + push.num_days_from_monday() - day.num_days_from_monday()) % 7)
}

/// The weekday names the runbook's schedule uses.
pub fn weekday_name(d: NaiveDate) -> &'static str {
    match d.weekday() {
        Weekday::Mon => "monday",
        Weekday::Tue => "tuesday",
        Weekday::Wed => "wednesday",
        Weekday::Thu => "thursday",
        Weekday::Fri => "friday",
        Weekday::Sat => "saturday",
        Weekday::Sun => "sunday",
    }
}

pub struct Week {
    pub push: NaiveDate,
    pub tag: NaiveDate,
    /// The `--set`s that move the schedule and the steps planned on weekdays.
    pub sets: Vec<String>,
}

/// The week of a rehearsal pushing on `today`. A runbook without weekly days tags the day
/// before.
pub fn of(rb: &Runbook, today: NaiveDate) -> Week {
    let day = |d: &Option<String>| d.as_deref().and_then(|d| parse_weekday(d).ok());
    let push_day = day(&rb.schedule.push_day);
    // The tag day is the last one strictly before the push: a week before when they coincide.
    let tag_back = match (push_day, day(&rb.schedule.tag_day)) {
        (Some(push), Some(tag)) => match days_before(push, tag) {
            0 => 7,
            n => n,
        },
        _ => 1,
    };
    let back = |n: u64| today.checked_sub_days(Days::new(n)).unwrap_or(today);
    let tag = back(tag_back);
    let mut sets = vec![
        format!("schedule.push_day={}", weekday_name(today)),
        format!("schedule.tag_day={}", weekday_name(tag)),
    ];
    if let Some(push) = push_day {
        for step in &rb.steps {
            let Some(planned) = step.day.as_deref().and_then(|d| parse_weekday(d).ok()) else {
                continue; // `tag_day`, `push_day`, or none: they move with the schedule
            };
            let moved = back(days_before(push, planned));
            sets.push(format!("steps.{}.day={}", step.id, weekday_name(moved)));
        }
    }
    Week {
        push: today,
        tag,
        sets,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runbook() -> Runbook {
        crate::runbook::load(None, &[]).unwrap().runbook
    }

    #[test]
    fn the_runbooks_week_moves_whole_to_a_saturday_push() {
        let saturday = NaiveDate::from_ymd_opt(2026, 12, 5).unwrap();
        let week = of(&runbook(), saturday);
        // Tuesday's tag is two days before Thursday's push: Thursday before a Saturday one.
        assert_eq!(week.tag, NaiveDate::from_ymd_opt(2026, 12, 3).unwrap());
        assert!(
            week.sets
                .contains(&"schedule.push_day=saturday".to_string())
        );
        assert!(week.sets.contains(&"schedule.tag_day=thursday".to_string()));
        // Wednesday's steps come the day after the tag, not three days before it.
        assert!(week.sets.contains(&"steps.blockers.day=friday".to_string()));
        assert!(
            week.sets
                .contains(&"steps.notes-blockers.day=friday".to_string())
        );
    }

    #[test]
    fn a_push_on_the_runbooks_own_day_keeps_its_days() {
        let thursday = NaiveDate::from_ymd_opt(2026, 12, 10).unwrap();
        let week = of(&runbook(), thursday);
        assert_eq!(week.tag, NaiveDate::from_ymd_opt(2026, 12, 8).unwrap());
        assert!(
            week.sets
                .contains(&"steps.blockers.day=wednesday".to_string())
        );
    }
}
