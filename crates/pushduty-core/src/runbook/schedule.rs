//! The push calendar: which day is the push, which day the tag, and whose turn it is.

use std::collections::BTreeSet;

use chrono::{Datelike, Days, NaiveDate, Weekday};
use chrono_tz::Tz;

use super::model::{DEFAULT_TAG_FORMAT, Rotation, Schedule};
use crate::tags::TagFormat;

/// A schedule with every field parsed; built only from a validated runbook.
#[derive(Debug, Clone)]
pub struct Calendar {
    pub tz: Tz,
    /// The weekly cadence; `None` for an on-demand schedule (a release when someone starts it).
    pub weekly: Option<Weekly>,
    pub tag_format: TagFormat,
    /// The `schedule.version` template, for version tags.
    pub version: Option<String>,
    pub people: Vec<String>,
}

/// When a weekly push happens.
#[derive(Debug, Clone)]
pub struct Weekly {
    pub push_day: Weekday,
    pub tag_day: Weekday,
    pub every_weeks: u32,
    pub anchor: NaiveDate,
    pub skip: BTreeSet<NaiveDate>,
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
    pub fn new(schedule: &Schedule, rotation: Option<&Rotation>) -> Result<Self, String> {
        let tag_format = match (&schedule.version, schedule.date_format()) {
            (Some(_), _) => TagFormat::version(schedule.tag_prefix.as_deref().unwrap_or(""))?,
            (None, Some(pattern)) => TagFormat::new(pattern)?,
            (None, None) => TagFormat::new(DEFAULT_TAG_FORMAT)?,
        };
        let weekly = if schedule.on_demand {
            None
        } else {
            let rotation = rotation.ok_or("a weekly schedule needs a [rotation]")?;
            let day = |d: &Option<String>, key: &str| {
                d.as_deref()
                    .ok_or_else(|| format!("missing key `{key}` in [schedule]"))
                    .and_then(parse_weekday)
            };
            Some(Weekly {
                push_day: day(&schedule.push_day, "push_day")?,
                tag_day: day(&schedule.tag_day, "tag_day")?,
                every_weeks: schedule.every_weeks.max(1),
                anchor: parse_date(&rotation.start)?,
                skip: schedule
                    .skip
                    .iter()
                    .map(|s| parse_date(s))
                    .collect::<Result<BTreeSet<_>, _>>()?,
            })
        };
        Ok(Self {
            tz: parse_tz(&schedule.timezone)?,
            weekly,
            tag_format,
            version: schedule.version.clone(),
            people: rotation.map(|r| r.people.clone()).unwrap_or_default(),
        })
    }

    pub fn on_demand(&self) -> bool {
        self.weekly.is_none()
    }

    /// The first push date on or after `day` (a push day that is today counts). On demand,
    /// the release is today's.
    pub fn push_on_or_after(&self, day: NaiveDate) -> Option<NaiveDate> {
        match &self.weekly {
            None => Some(day),
            Some(w) => (0..HORIZON_DAYS)
                .filter_map(|i| day.checked_add_days(Days::new(i)))
                .find(|d| w.is_push_date(*d)),
        }
    }

    /// The next `n` pushes from `push` on (it included) with their heroes, and the push
    /// dates of the cadence skipped among them, in date order: what a biweekly schedule with
    /// a freeze looks like ahead. Empty on demand.
    pub fn upcoming(&self, push: NaiveDate, n: usize) -> Vec<Upcoming> {
        let Some(w) = &self.weekly else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut d = w.push_on_or_after_unbounded(push);
        let mut pushes = 0;
        // A year ahead at most, as `push_on_or_after` looks.
        for _ in 0..HORIZON_DAYS / 7 {
            if pushes == n {
                break;
            }
            if w.is_push_date(d) {
                pushes += 1;
                out.push(Upcoming {
                    date: d.to_string(),
                    hero: self.hero(d).map(str::to_string),
                    skipped: false,
                });
            } else if w.skip.contains(&d) && w.in_cycle(d) {
                out.push(Upcoming {
                    date: d.to_string(),
                    hero: None,
                    skipped: true,
                });
            }
            d = d + Days::new(7);
        }
        out
    }

    /// The push after this one; on demand there is no next one to name.
    pub fn push_after(&self, push: NaiveDate) -> Option<NaiveDate> {
        self.weekly.as_ref()?;
        self.push_on_or_after(push.succ_opt()?)
    }

    /// The tag day before the push: the last `tag_day` strictly before it (on demand, the
    /// release's own day).
    pub fn tag_date(&self, push: NaiveDate) -> NaiveDate {
        match &self.weekly {
            None => push,
            Some(w) => w.tag_date(push),
        }
    }

    /// The date of `weekday` in the push week: the seven days that end on the push date, so
    /// no step is planned after the push itself whatever the weekdays (the tag day is always
    /// in them: it is the last one before the push). On demand, the release's own day.
    pub fn date_of_weekday(&self, push: NaiveDate, weekday: Weekday) -> NaiveDate {
        match &self.weekly {
            None => push,
            Some(_) => {
                let back = (7 + push.weekday().num_days_from_monday()
                    - weekday.num_days_from_monday())
                    % 7;
                push - Days::new(u64::from(back))
            }
        }
    }

    /// The hero of a push date: pushes are counted from the rotation's start, skipped ones not.
    /// On demand there is no rotation: whoever starts the release does it.
    pub fn hero(&self, push: NaiveDate) -> Option<&str> {
        let w = self.weekly.as_ref()?;
        if self.people.is_empty() {
            return None;
        }
        let index = w.pushes_between(w.anchor, push);
        let n = self.people.len() as i64;
        self.people
            .get(index.rem_euclid(n) as usize)
            .map(String::as_str)
    }
}

/// One date of the calendar ahead: a push and its hero, or a push date skipped.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Upcoming {
    pub date: String,
    pub hero: Option<String>,
    pub skipped: bool,
}

impl Weekly {
    /// Whether a push happens on this date.
    pub fn is_push_date(&self, d: NaiveDate) -> bool {
        d.weekday() == self.push_day && !self.skip.contains(&d) && self.in_cycle(d)
    }

    /// Whether the cadence (every N weeks from the anchor) lands on this date's week.
    fn in_cycle(&self, d: NaiveDate) -> bool {
        let weeks = (d - self.anchor).num_days().div_euclid(7);
        weeks.rem_euclid(i64::from(self.every_weeks)) == 0
    }

    fn tag_date(&self, push: NaiveDate) -> NaiveDate {
        let back =
            (7 + push.weekday().num_days_from_monday() - self.tag_day.num_days_from_monday()) % 7;
        let back = if back == 0 { 7 } else { back };
        push - Days::new(u64::from(back))
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
            on_demand: false,
            push_day: Some("thursday".into()),
            tag_day: Some("tuesday".into()),
            timezone: "America/Los_Angeles".into(),
            tag_format: None,
            version: None,
            tag_prefix: None,
            every_weeks: every,
            skip: skip.iter().map(|s| s.to_string()).collect(),
        };
        let rotation = Rotation {
            people: ["andym", "kumar", "magopian"].map(String::from).to_vec(),
            start: "2015-09-10".into(),
        };
        Calendar::new(&schedule, Some(&rotation)).unwrap()
    }

    #[test]
    fn a_weekday_is_in_the_seven_days_that_end_on_the_push() {
        let c = cal(1, &[]);
        let push = d("2015-09-10");
        assert_eq!(c.date_of_weekday(push, Weekday::Tue), d("2015-09-08"));
        assert_eq!(c.date_of_weekday(push, Weekday::Wed), d("2015-09-09"));
        assert_eq!(c.date_of_weekday(push, Weekday::Thu), push);
        // Never after the push: a Friday is the one that starts the push week.
        assert_eq!(c.date_of_weekday(push, Weekday::Fri), d("2015-09-04"));
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
        c.weekly.as_mut().unwrap().tag_day = Weekday::Thu;
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

    #[test]
    fn on_demand_releases_today_with_no_rotation() {
        let schedule = Schedule {
            on_demand: true,
            push_day: None,
            tag_day: None,
            timezone: "UTC".into(),
            tag_format: None,
            version: Some("{{ vars.version }}".into()),
            tag_prefix: Some("v".into()),
            every_weeks: 1,
            skip: vec![],
        };
        let c = Calendar::new(&schedule, None).unwrap();
        assert!(c.on_demand());
        assert_eq!(c.push_on_or_after(d("2026-11-27")), Some(d("2026-11-27")));
        assert_eq!(c.push_after(d("2026-11-27")), None);
        assert_eq!(c.tag_date(d("2026-11-27")), d("2026-11-27"));
        assert_eq!(
            c.date_of_weekday(d("2026-11-27"), Weekday::Mon),
            d("2026-11-27")
        );
        assert_eq!(c.hero(d("2026-11-27")), None);
        assert!(c.tag_format.is_version());
    }
}
