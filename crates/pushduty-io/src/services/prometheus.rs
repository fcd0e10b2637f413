//! Prometheus' HTTP API: one series over a window, on a grid of `step` seconds. A query must
//! come down to exactly one series; anything else is a [`BadQuery`] that says how to fix it.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Result, anyhow};
use serde::Deserialize;

use super::http::{SERIES, Transient, client, read_body};
use super::metrics::{BadQuery, Point, first_line, some_of, unreachable};

pub struct Prometheus {
    base: String,
    step: u64,
    /// Overrides the shared client's time limit for these requests.
    timeout: Option<Duration>,
}

#[derive(Deserialize)]
struct Answer {
    status: String,
    #[serde(default)]
    data: Option<Data>,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct Data {
    #[serde(rename = "resultType")]
    result_type: String,
    result: serde_json::Value,
}

#[derive(Deserialize)]
struct RawSeries {
    metric: BTreeMap<String, String>,
    /// `[unix seconds, "value"]`; the value is a string so that NaN and infinities fit.
    values: Vec<(f64, String)>,
}

impl Prometheus {
    /// `step_secs` is the grid's spacing (0 counts as 1).
    pub fn new(url: &str, step_secs: u64) -> Self {
        Self {
            base: url.trim_end_matches('/').to_string(),
            step: step_secs.max(1),
            timeout: None,
        }
    }

    /// A time limit for each request of this client, instead of the shared one.
    pub fn with_timeout(mut self, limit: Duration) -> Self {
        self.timeout = Some(limit);
        self
    }

    /// The points of `query` at `from`, `from + step`, ... up to `until` (unix seconds), gaps as
    /// `None`.
    pub async fn range(&self, query: &str, from: i64, until: i64) -> Result<Vec<Point>> {
        let (start, end, step) = (from.to_string(), until.to_string(), self.step.to_string());
        let mut req = client()?
            .get(format!("{}/api/v1/query_range", self.base))
            .query(&[
                ("query", query),
                ("start", &start),
                ("end", &end),
                ("step", &step),
            ]);
        if let Some(limit) = self.timeout {
            req = req.timeout(limit);
        }
        let resp = req.send().await.map_err(|e| self.unreachable(&e))?;
        let status = resp.status();
        let what = format!("reading `{query}`");
        let body = read_body(resp, SERIES, "Prometheus", &what, |e| self.unreachable(e)).await?;
        let answer: Option<Answer> = serde_json::from_str(&body).ok();
        if status.is_server_error() {
            // 503: the query timed out or was cancelled, or the server is overloaded.
            let why = answer
                .and_then(|a| a.error)
                .unwrap_or_else(|| first_line(&body));
            return Err(Transient(format!(
                "Prometheus at {} failed (HTTP {status}: {why}); try again, and ask ops if it keeps failing",
                self.base
            ))
            .into());
        }
        let Some(answer) = answer else {
            return Err(anyhow!(
                "Prometheus at {} answered HTTP {status} with something that is not the API's JSON ({}): is the URL a Prometheus server's?",
                self.base,
                first_line(&body)
            ));
        };
        if answer.status != "success" {
            // 400 bad_data (does not parse, too many points), 422 execution (cannot be run).
            return Err(BadQuery(format!(
                "Prometheus rejected `{query}` ({}: {}): check the expression",
                answer.error_type.as_deref().unwrap_or("error"),
                answer.error.as_deref().unwrap_or("no reason given")
            ))
            .into());
        }
        let data = answer.data.ok_or_else(|| {
            anyhow!(
                "Prometheus at {} answered success without data: is the URL a Prometheus server's?",
                self.base
            )
        })?;
        if data.result_type != "matrix" {
            return Err(BadQuery(format!(
                "`{query}` gives a {}, not a series over time: query a vector (a metric, or a function of one)",
                data.result_type
            ))
            .into());
        }
        let mut series: Vec<RawSeries> = serde_json::from_value(data.result).map_err(|e| {
            anyhow!(
                "Prometheus at {} answered a matrix that does not read as one ({e})",
                self.base
            )
        })?;
        match series.len() {
            0 => Err(BadQuery(format!(
                "`{query}` returns no series: check the metric name and labels"
            ))
            .into()),
            1 => Ok(series
                .pop()
                .map(|s| self.grid(from, until, s.values))
                .unwrap_or_default()),
            n => {
                let labels: Vec<String> = series.iter().map(|s| label_set(&s.metric)).collect();
                Err(BadQuery(format!(
                    "`{query}` returns {n} series ({}): combine them, e.g. sum({query}), or pick one by its labels",
                    some_of(&labels)
                ))
                .into())
            }
        }
    }

    /// Every step of the window, with the value Prometheus gave there or `None`: it leaves out
    /// the steps without a sample (none within its lookback, 5 minutes by default).
    fn grid(&self, from: i64, until: i64, values: Vec<(f64, String)>) -> Vec<Point> {
        let step = i64::try_from(self.step).unwrap_or(i64::MAX);
        let mut points: BTreeMap<i64, Option<f64>> = BTreeMap::new();
        let mut t = from;
        while t <= until {
            points.insert(t, None);
            t = match t.checked_add(step) {
                Some(next) => next,
                None => break,
            };
        }
        for (ts, value) in values {
            // Steps are whole seconds from a whole-second start, so stamps are whole too.
            points.insert(ts.round() as i64, number(&value));
        }
        points.into_iter().collect()
    }

    fn unreachable(&self, e: &reqwest::Error) -> anyhow::Error {
        unreachable("Prometheus", &self.base, self.timeout, e)
    }
}

/// A sample's value; NaN and infinities are no number to draw, so gaps.
fn number(s: &str) -> Option<f64> {
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// `name{a="1", b="2"}`, as PromQL writes a series.
fn label_set(metric: &BTreeMap<String, String>) -> String {
    let name = metric.get("__name__").map_or("", String::as_str);
    let labels: Vec<String> = metric
        .iter()
        .filter(|(k, _)| *k != "__name__")
        .map(|(k, v)| format!("{k}={v:?}"))
        .collect();
    format!("{name}{{{}}}", labels.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_steps_become_gaps_and_odd_values_too() {
        let p = Prometheus::new("http://x", 60);
        let values = vec![
            (60.0, "1".to_string()),
            (180.0, "NaN".to_string()),
            (240.0, "+Inf".to_string()),
        ];
        assert_eq!(
            p.grid(0, 250, values),
            vec![
                (0, None),
                (60, Some(1.0)),
                (120, None),
                (180, None),
                (240, None)
            ]
        );
    }

    #[test]
    fn label_sets_read_like_promql() {
        let m: BTreeMap<String, String> = [("__name__", "up"), ("job", "a"), ("code", "5\"")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(label_set(&m), r#"up{code="5\"", job="a"}"#);
    }
}
