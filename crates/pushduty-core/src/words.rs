//! Words for numbers and times, as people read them: "1 commit", "2 commits", never
//! "1 commits" or "commit(s)"; "Tue 2015-09-08 03:00 PDT", not "2015-09-08T10:00:00Z".

/// `n` and the noun, singular for one: `count(1, "commit")` is "1 commit". Only regular
/// plurals (add an s): every noun pushduty counts has one.
pub fn count(n: impl Into<u64>, noun: &str) -> String {
    let n = n.into();
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// An RFC 3339 instant (as the journal keeps it) in the runbook's timezone, for a person:
/// `Tue 2015-09-08 03:00 PDT`. Anything else is given back as it is.
pub fn when(at: &str, tz: chrono_tz::Tz) -> String {
    match chrono::DateTime::parse_from_rfc3339(at) {
        Ok(t) => t
            .with_timezone(&tz)
            .format("%a %Y-%m-%d %H:%M %Z")
            .to_string(),
        Err(_) => at.to_string(),
    }
}

/// An RFC 3339 instant in the operator's own timezone (where no runbook's applies, as in a
/// list of several runbooks' pushes): `Tue 2015-09-08 03:00 -07:00`. Anything else is given
/// back as it is.
pub fn when_here(at: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(at) {
        Ok(t) => t
            .with_timezone(&chrono::Local)
            .format("%a %Y-%m-%d %H:%M %:z")
            .to_string(),
        Err(_) => at.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_instant_reads_in_the_runbooks_timezone_with_its_weekday() {
        let tz: chrono_tz::Tz = "America/Los_Angeles".parse().unwrap();
        assert_eq!(when("2015-09-08T10:00:00Z", tz), "Tue 2015-09-08 03:00 PDT");
        assert_eq!(when("not a time", tz), "not a time");
    }

    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        assert_eq!(count(1u32, "commit"), "1 commit");
        assert_eq!(count(0u32, "commit"), "0 commits");
        assert_eq!(count(12u64, "new issue"), "12 new issues");
    }
}
