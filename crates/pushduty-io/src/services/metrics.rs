//! What the metrics clients (Graphite, Prometheus) share: a point, the error for a query that
//! cannot be answered as asked, and how a transport failure is said.

use std::time::Duration;

use super::http::Transient;

/// A point: unix seconds and the value there; `None` is a gap (no data), never a zero.
pub use pushduty_core::health::Point;

/// A query the server rejected, or one that matched no series or several: asking again will
/// not help; the text says what to fix in the query.
#[derive(Debug)]
pub struct BadQuery(pub String);

impl std::fmt::Display for BadQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadQuery {}

/// Whether the query itself is at fault (as opposed to the server or the network).
pub fn is_bad_query(e: &anyhow::Error) -> bool {
    e.downcast_ref::<BadQuery>().is_some()
}

/// A request that got no answer, or not all of it: no connection, none within the time
/// limit, a body that broke off or did not end.
pub(crate) fn unreachable(
    service: &str,
    base: &str,
    limit: Option<Duration>,
    e: &reqwest::Error,
) -> anyhow::Error {
    anyhow::Error::new(Transient(super::http::unanswered_text(
        service, base, e, limit,
    )))
}

/// The first non-blank line of a body, cut short: enough to quote in an error.
pub(crate) fn first_line(body: &str) -> String {
    let line = body
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or_default();
    line.chars().take(300).collect()
}

/// Names for an error message: the first few, then how many more.
pub(crate) fn some_of(names: &[String]) -> String {
    const SHOWN: usize = 4;
    let mut out = names
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        out.push_str(&format!(", ... {} more", names.len() - SHOWN));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_cut_after_a_few() {
        let names: Vec<String> = (1..=6).map(|i| format!("s{i}")).collect();
        assert_eq!(some_of(&names[..2]), "s1, s2");
        assert_eq!(some_of(&names), "s1, s2, s3, s4, ... 2 more");
    }

    #[test]
    fn the_first_real_line_is_quoted() {
        assert_eq!(first_line("\n  \n  oops: bad\nmore"), "oops: bad");
        assert_eq!(first_line(""), "");
    }
}
