//! The driver's seat of a push: one driver at a time, kept in the push's folder of the log as
//! `seats.jsonl`, one line each time the seat changed hands (the first to act takes it;
//! `pushduty takeover --reason WHY` moves it). The last line is the driver.

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};

use super::decide::Me;

/// One change of driver.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Seat {
    /// When they took the seat (RFC 3339).
    pub since: String,
    pub operator: String,
    pub host: String,
    /// Why they took it over; `null` for the first driver.
    #[serde(default)]
    pub reason: Option<String>,
    /// Who drove before (`operator on host`); `null` for the first driver.
    #[serde(default)]
    pub from: Option<String>,
}

impl Seat {
    pub fn is(&self, me: &Me) -> bool {
        self.operator == me.operator && self.host == me.host
    }

    pub fn who(&self) -> String {
        format!("{} on {}", self.operator, self.host)
    }
}

/// The lines of `seats.jsonl`; `name` says where one that does not parse is.
pub fn parse(name: &str, text: &str) -> Result<Vec<Seat>> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str(line) {
            Ok(s) => out.push(s),
            Err(e) => bail!(
                "{name}:{}: this line of the push log is not a driver's seat ({e}); nothing \
                 was written. Whoever edited it by hand must put it right",
                i + 1
            ),
        }
    }
    Ok(out)
}

/// Why `me` may not act on the push: someone else drives it.
pub fn refusal(seats: &[Seat], me: &Me) -> Option<String> {
    let driver = seats.last().filter(|d| !d.is(me))?;
    let how = match &driver.reason {
        Some(r) => format!(" (took over: {r})"),
        None => String::new(),
    };
    Some(format!(
        "{} drives this push since {}{how}: ask them, or take the seat with `pushduty \
         takeover --reason WHY`",
        driver.who(),
        driver.since
    ))
}

/// The seat that took the push from `me`, while someone else still drives it: lines `me`
/// journaled after its `since` are not the log's any more.
pub fn taken_from<'a>(seats: &'a [Seat], me: &Me) -> Option<&'a Seat> {
    seats.last().filter(|d| !d.is(me))?;
    let me = format!("{} on {}", me.operator, me.host);
    seats
        .iter()
        .rev()
        .find(|s| s.from.as_deref() == Some(me.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seat_taken_from_me_is_found_while_someone_else_drives() {
        let me = Me {
            operator: "ann".into(),
            host: "desk".into(),
        };
        let mut bob = seat("bob", Some("ann is ill"));
        bob.from = Some("ann on desk".into());
        bob.since = "2015-09-10T14:00:00Z".into();
        assert_eq!(taken_from(&[seat("ann", None)], &me), None);
        let seats = [seat("ann", None), bob.clone()];
        assert_eq!(
            taken_from(&seats, &me).map(|s| s.since.as_str()),
            Some(bob.since.as_str())
        );
        // Taken back: the push is hers again.
        let mut back = seat("ann", Some("back"));
        back.from = Some("bob on desk".into());
        assert_eq!(
            taken_from(&[seat("ann", None), bob.clone(), back], &me),
            None
        );
        // Someone else drives, but never took it from her.
        assert_eq!(taken_from(&[seat("bob", None)], &me), None);
    }

    fn seat(who: &str, reason: Option<&str>) -> Seat {
        Seat {
            since: "2015-09-10T14:00:00Z".into(),
            operator: who.into(),
            host: "desk".into(),
            reason: reason.map(str::to_string),
            from: None,
        }
    }

    #[test]
    fn only_the_last_driver_may_act_and_the_others_are_told_who_and_why() {
        let me = Me {
            operator: "ann".into(),
            host: "desk".into(),
        };
        assert_eq!(refusal(&[], &me), None);
        assert_eq!(refusal(&[seat("ann", None)], &me), None);
        let seats = [seat("ann", None), seat("bob", Some("ann is ill"))];
        let why = refusal(&seats, &me).unwrap();
        assert!(why.contains("bob on desk drives"), "{why}");
        assert!(why.contains("took over: ann is ill"), "{why}");
        let back = [seat("bob", None), seat("ann", Some("back"))];
        assert_eq!(refusal(&back, &me), None);
    }
}
