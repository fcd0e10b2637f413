//! The push calendar: which day is the push, which day the tag, and whose turn it is.

use std::collections::BTreeSet;

use chrono::{Datelike, Days, NaiveDate, Weekday};
use chrono_tz::Tz;

use super::model::{Rotation, Schedule};
use crate::git::tags::TagFormat;

/// A schedule with every field parsed; built only from a validated runbook.
#[derive(Debug, Clone)]
pub struct Calendar {
    pub tz: Tz,
    pub push_day: Weekday,
    pub tag_day: Weekday,
    pub every_weeks: u32,
    pub anchor: NaiveDate,
    pub skip: BTreeSet<NaiveDate>,
    pub tag_format: TagFormat,
    pub people: Vec<String>,
}

pub fn parse_weekday(s: &str) -> Result<Weekday, String> {
    s.parse::<Weekday>()
        .map_err(|_| format!("`{s}` is not a weekday; expected one of: monday, tuesday, wednesday, thursday, friday, saturday, sunday"))
}

pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| format!("`{s}` is not a date in the form YYYY-MM-DD"))
}

pub fn parse_tz(s: &str) -> Result<Tz, String> {
    s.parse::<Tz>()
        .map_err(|_| format!("`{s}` is not a known timezone; expected an IANA name such as `America/Los_Angeles` or `UTC`"))
}

/// A date as people read it: with its weekday, `Tue 2015-09-08`.
pub fn with_weekday(d: NaiveDate) -> String {
    d.format("%a %Y-%m-%d").to_string()
}

/// A `YYYY-MM-DD` text with its weekday; anything else is given back as it is.
pub fn text_with_weekday(s: &str) -> String {
    parse_date(s).map_or_else(|_| s.to_string(), with_weekday)
}

/// How far ahead a push date is looked for: a year covers any sane `every_weeks` and holiday list.
const HORIZON_DAYS: u64 = 400;

impl Calendar {
    pub fn new(schedule: &Schedule, rotation: &Rotation) -> Result<Self, String> {
        let skip = schedule
            .skip
            .iter()
            .map(|s| parse_date(s))
            .collect::<Result<BTreeSet<_>, _>>()?;
        Ok(Self {
            tz: parse_tz(&schedule.timezone)?,
            push_day: parse_weekday(&schedule.push_day)?,
            tag_day: parse_weekday(&schedule.tag_day)?,
            every_weeks: schedule.every_weeks.max(1),
            anchor: parse_date(&rotation.start)?,
            skip,
            tag_format: TagFormat::new(&schedule.tag_format)?,
            people: rotation.people.clone(),
        })
    }

    /// Whether a push happens on this date.
    pub fn is_push_date(&self, d: NaiveDate) -> bool {
        if d.weekday() != self.push_day || self.skip.contains(&d) {
            return false;
        }
        let weeks = (d - self.anchor).num_days().div_euclid(7);
        weeks.rem_euclid(i64::from(self.every_weeks)) == 0
    }

    /// The first push date on or after `day` (a push day that is today counts).
    pub fn push_on_or_after(&self, day: NaiveDate) -> Option<NaiveDate> {
        (0..HORIZON_DAYS)
            .filter_map(|i| day.checked_add_days(Days::new(i)))
            .find(|d| self.is_push_date(*d))
    }

    pub fn push_after(&self, push: NaiveDate) -> Option<NaiveDate> {
        self.push_on_or_after(push.succ_opt()?)
    }

    /// The tag day before the push: the last `tag_day` strictly before it.
    pub fn tag_date(&self, push: NaiveDate) -> NaiveDate {
        let back =
            (7 + push.weekday().num_days_from_monday() - self.tag_day.num_days_from_monday()) % 7;
        let back = if back == 0 { 7 } else { back };
        push - Days::new(u64::from(back))
    }

    /// The date of `weekday` in the push week: on or after the tag date, within seven days.
    pub fn date_of_weekday(&self, push: NaiveDate, weekday: Weekday) -> NaiveDate {
        let tag = self.tag_date(push);
        let ahead = (7 + weekday.num_days_from_monday() - tag.weekday().num_days_from_monday()) % 7;
        tag + Days::new(u64::from(ahead))
    }

    /// The hero of a push date: pushes are counted from the rotation's start, skipped ones not.
    pub fn hero(&self, push: NaiveDate) -> Option<&str> {
        if self.people.is_empty() {
            return None;
        }
        let index = self.pushes_between(self.anchor, push);
        let n = self.people.len() as i64;
        self.people
            .get(index.rem_euclid(n) as usize)
            .map(String::as_str)
    }

    /// Signed count of push dates from `from` (inclusive) to `to` (exclusive).
    fn pushes_between(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        let (lo, hi, sign) = if from <= to {
            (from, to, 1)
        } else {
            (to, from, -1)
        };
        // Week by week on the push weekday (is_push_date knows cycles and skips): about 50
        // steps a year, cheap for decades.
        let mut count = 0;
        let mut d = self.push_on_or_after_unbounded(lo);
        while d < hi {
            count += i64::from(self.is_push_date(d));
            d = d + Days::new(7);
        }
        sign * count
    }

    /// The first date on or after `d` with the push weekday (ignoring skips and cycles).
    fn push_on_or_after_unbounded(&self, d: NaiveDate) -> NaiveDate {
        let ahead =
            (7 + self.push_day.num_days_from_monday() - d.weekday().num_days_from_monday()) % 7;
        d + Days::new(u64::from(ahead))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        parse_date(s).unwrap()
    }

    fn cal(every: u32, skip: &[&str]) -> Calendar {
        let schedule = Schedule {
            push_day: "thursday".into(),
            tag_day: "tuesday".into(),
            timezone: "America/Los_Angeles".into(),
            tag_format: "%Y.%m.%d".into(),
            every_weeks: every,
            skip: skip.iter().map(|s| s.to_string()).collect(),
        };
        let rotation = Rotation {
            people: ["andym", "kumar", "magopian"].map(String::from).to_vec(),
            start: "2015-09-10".into(),
        };
        Calendar::new(&schedule, &rotation).unwrap()
    }

    #[test]
    fn push_and_tag_dates() {
        let c = cal(1, &[]);
        assert_eq!(c.push_on_or_after(d("2015-09-08")), Some(d("2015-09-10")));
        assert_eq!(
            c.push_on_or_after(d("2015-09-10")),
            Some(d("2015-09-10")),
            "push day is today"
        );
        assert_eq!(c.push_on_or_after(d("2015-09-11")), Some(d("2015-09-17")));
        assert_eq!(c.tag_date(d("2015-09-10")), d("2015-09-08"));
        // Across the year end.
        assert_eq!(c.push_on_or_after(d("2015-12-30")), Some(d("2015-12-31")));
        assert_eq!(c.push_on_or_after(d("2016-01-01")), Some(d("2016-01-07")));
        assert_eq!(c.tag_date(d("2016-01-07")), d("2016-01-05"));
        assert_eq!(c.tag_date(d("2015-12-31")), d("2015-12-29"));
    }

    #[test]
    fn tag_day_equal_to_push_day_is_a_week_before() {
        let mut c = cal(1, &[]);
        c.tag_day = Weekday::Thu;
        assert_eq!(c.tag_date(d("2015-09-10")), d("2015-09-03"));
    }

    #[test]
    fn rotation_counts_pushes_and_skips() {
        let c = cal(1, &[]);
        assert_eq!(c.hero(d("2015-09-10")), Some("andym"));
        assert_eq!(c.hero(d("2015-09-17")), Some("kumar"));
        assert_eq!(c.hero(d("2015-10-01")), Some("andym"));
        assert_eq!(
            c.hero(d("2015-09-03")),
            Some("magopian"),
            "before the start, backwards"
        );
        let c = cal(1, &["2015-09-17"]);
        assert_eq!(c.push_on_or_after(d("2015-09-11")), Some(d("2015-09-24")));
        assert_eq!(
            c.hero(d("2015-09-24")),
            Some("kumar"),
            "a skipped week does not advance"
        );
    }

    #[test]
    fn every_other_week() {
        let c = cal(2, &[]);
        assert_eq!(c.push_on_or_after(d("2015-09-11")), Some(d("2015-09-24")));
        assert_eq!(c.hero(d("2015-09-24")), Some("kumar"));
        assert_eq!(c.push_after(d("2015-09-24")), Some(d("2015-10-08")));
    }

    #[test]
    fn dates_read_with_their_weekday() {
        assert_eq!(with_weekday(d("2015-09-08")), "Tue 2015-09-08");
        assert_eq!(text_with_weekday("2015-09-10"), "Thu 2015-09-10");
        assert_eq!(text_with_weekday("(unknown)"), "(unknown)");
    }

    #[test]
    fn bad_values_are_named() {
        assert!(
            parse_weekday("thursdy")
                .unwrap_err()
                .contains("`thursdy` is not a weekday")
        );
        assert!(
            parse_tz("Mars/Base")
                .unwrap_err()
                .contains("not a known timezone")
        );
        assert!(parse_date("2015-13-01").unwrap_err().contains("YYYY-MM-DD"));
    }
}
