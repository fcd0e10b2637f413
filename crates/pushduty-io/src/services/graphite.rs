//! Graphite's render API: one series over a window, as points a minute (or whatever the
//! storage keeps) apart. A query must come down to exactly one series; anything else is a
//! [`BadQuery`] that says how to fix it.

use std::time::Duration;

use anyhow::{Result, anyhow};
use serde::Deserialize;

use super::http::{SERIES, Transient, client, read_body};
use super::metrics::{BadQuery, Point, first_line, some_of, unreachable};

pub struct Graphite {
    base: String,
    /// Overrides the shared client's time limit for these requests.
    timeout: Option<Duration>,
}

#[derive(Deserialize)]
struct RawSeries {
    target: String,
    /// `[value or null, unix seconds]`.
    datapoints: Vec<(Option<f64>, i64)>,
}

impl Graphite {
    pub fn new(url: &str) -> Self {
        Self {
            base: url.trim_end_matches('/').to_string(),
            timeout: None,
        }
    }

    /// A time limit for each request of this client, instead of the shared one.
    pub fn with_timeout(mut self, limit: Duration) -> Self {
        self.timeout = Some(limit);
        self
    }

    /// The points of `query` from `from` to `until` (unix seconds, both included), gaps as
    /// `None`.
    pub async fn range(&self, query: &str, from: i64, until: i64) -> Result<Vec<Point>> {
        // Whisper starts a window at the first step *after* `from`: one second earlier keeps a
        // point stamped exactly `from`.
        let (from_s, until_s) = ((from - 1).to_string(), until.to_string());
        let mut req = client()?.get(format!("{}/render", self.base)).query(&[
            ("target", query),
            ("from", &from_s),
            ("until", &until_s),
            ("format", "json"),
        ]);
        if let Some(limit) = self.timeout {
            req = req.timeout(limit);
        }
        let resp = req.send().await.map_err(|e| self.unreachable(&e))?;
        let status = resp.status();
        let what = format!("reading `{query}`");
        let body = read_body(resp, SERIES, "Graphite", &what, |e| self.unreachable(e)).await?;
        if status.as_u16() == 400 {
            return Err(BadQuery(format!(
                "Graphite rejected `{query}`: {}: check the expression",
                first_line(&body)
            ))
            .into());
        }
        if status.as_u16() == 500
            && let Some(exception) = python_exception(&body)
        {
            // Graphite 1.1 answers some malformed expressions (a stray `)`, an argument of the
            // wrong type) with a traceback and a 500: asking again fails the same way.
            return Err(BadQuery(format!(
                "Graphite failed on `{query}` ({exception}): check the expression"
            ))
            .into());
        }
        if status.is_server_error() {
            return Err(Transient(format!(
                "Graphite at {} failed (HTTP {status}: {}); try again, and ask ops if it keeps failing",
                self.base,
                first_line(&body)
            ))
            .into());
        }
        if !status.is_success() {
            return Err(anyhow!(
                "Graphite at {} answered HTTP {status} ({}): is it a Graphite server?",
                self.base,
                first_line(&body)
            ));
        }
        let series = self.parse(&body)?;
        one_series(query, series)
    }

    fn parse(&self, body: &str) -> Result<Vec<RawSeries>> {
        // Graphite writes an infinite value as 1e9999, which no f64 holds: read it as a gap, as
        // Graphite itself does NaN.
        let body = body
            .replace("[1e9999,", "[null,")
            .replace("[-1e9999,", "[null,");
        serde_json::from_str(&body).map_err(|e| {
            anyhow!(
                "Graphite at {} answered something that is not the render API's JSON ({e}): is the URL a Graphite server's?",
                self.base
            )
        })
    }

    fn unreachable(&self, e: &reqwest::Error) -> anyhow::Error {
        unreachable("Graphite", &self.base, self.timeout, e)
    }
}

fn one_series(query: &str, mut series: Vec<RawSeries>) -> Result<Vec<Point>> {
    match series.len() {
        0 if !balanced(query) => Err(BadQuery(format!(
            "no series matches `{query}`: its parentheses do not pair up (Graphite then reads it as a metric name)"
        ))
        .into()),
        0 => Err(BadQuery(format!(
            "no series matches `{query}`: check the name (Graphite's /metrics/find lists them)"
        ))
        .into()),
        1 => Ok(series
            .pop()
            .map(|s| s.datapoints.into_iter().map(|(v, t)| (t, v)).collect())
            .unwrap_or_default()),
        n => {
            let names: Vec<String> = series.into_iter().map(|s| s.target).collect();
            Err(BadQuery(format!(
                "`{query}` matches {n} series ({}): combine them, e.g. sumSeries({query})",
                some_of(&names)
            ))
            .into())
        }
    }
}

/// Whether the parentheses outside quoted strings pair up.
fn balanced(query: &str) -> bool {
    let mut depth = 0i32;
    let mut quote = None;
    for c in query.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0 && quote.is_none()
}

/// The exception line of the traceback page Graphite sends with a 500, if it is one.
fn python_exception(body: &str) -> Option<String> {
    let start = body.find("Traceback (most recent call last)")?;
    let trace = &body[start..];
    let trace = &trace[..trace.find("</pre>").unwrap_or(trace.len())];
    let last = trace.lines().map(str::trim).rfind(|l| !l.is_empty())?;
    let text = last
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    Some(text.chars().take(300).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parentheses_outside_strings_must_pair() {
        assert!(balanced("sumSeries(a.b.*)"));
        assert!(balanced(r#"alias(a.b, "x(")"#));
        assert!(!balanced("sumSeries("));
        assert!(!balanced("a)("));
    }

    #[test]
    fn the_exception_of_a_traceback_page_is_found() {
        let page = "<pre>\nTraceback (most recent call last):\n  File &quot;x.py&quot;\n\
                    ParseException: , found &#x27;)&#x27;\n\n</pre>\n</div>";
        assert_eq!(
            python_exception(page).as_deref(),
            Some("ParseException: , found ')'")
        );
        assert_eq!(python_exception("<h1>Bad gateway</h1>"), None);
    }

    #[test]
    fn infinite_values_read_as_gaps() {
        let g = Graphite::new("http://x");
        let s = g
            .parse(r#"[{"target": "a", "datapoints": [[1e9999, 60], [-1e9999, 120], [2.5, 180]]}]"#)
            .unwrap();
        assert_eq!(
            one_series("a", s).unwrap(),
            vec![(60, None), (120, None), (180, Some(2.5))]
        );
    }
}
