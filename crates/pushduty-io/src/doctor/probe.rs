//! One read request of a check: sent within the check's time limit, its status, headers and
//! the start of its body; a request that got no answer is already a [`Broken`].

use std::time::Duration;

use reqwest::header::HeaderMap;

use super::Broken;
use crate::services::http::{ERROR_HEAD, client, read_head, unanswered_text};

/// What a service answered.
pub(crate) struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    /// The body as JSON (`Null` when it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// The first line of the body, short: for a message quoting what the server said.
    pub fn said(&self) -> String {
        let line = self.body.lines().next().unwrap_or_default().trim();
        let cut: String = line.chars().take(160).collect();
        if cut.is_empty() {
            "no text".to_string()
        } else {
            cut
        }
    }

    /// `Broken` for an answer a check did not expect.
    pub fn unexpected(&self, service: &str, base: &str) -> Broken {
        Broken::new(
            format!(
                "{service} at {base} answered HTTP {} ({})",
                self.status,
                self.said()
            ),
            format!("check that `{base}` is the {service} server's address and that it is healthy"),
        )
    }
}

/// Sends `req` (built on the shared client) within `limit`; `service` at `base` names it in
/// a failure, and `fix` says what to do when it got no answer.
pub(crate) async fn send(
    req: reqwest::RequestBuilder,
    service: &str,
    base: &str,
    limit: Duration,
    fix: &str,
) -> Result<Answer, Broken> {
    let broken = |e: &reqwest::Error| {
        Broken::new(
            unanswered_text(service, base, e, Some(limit)),
            fix.to_string(),
        )
    };
    let resp = req.timeout(limit).send().await.map_err(|e| broken(&e))?;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    // A check reads a small answer (a job, a project, `{"ok": true}`); the start is enough.
    let body = read_head(resp, ERROR_HEAD).await.map_err(|e| broken(&e))?;
    Ok(Answer {
        status,
        headers,
        body,
    })
}

/// A GET of `url` on the shared client, or why there is no client.
pub(crate) fn get(url: &str) -> Result<reqwest::RequestBuilder, Broken> {
    request(reqwest::Method::GET, url)
}

/// A POST of `url` (a read all the same: Slack's methods and Etherpad's calls are POSTs).
pub(crate) fn post(url: &str) -> Result<reqwest::RequestBuilder, Broken> {
    request(reqwest::Method::POST, url)
}

fn request(method: reqwest::Method, url: &str) -> Result<reqwest::RequestBuilder, Broken> {
    client().map(|c| c.request(method, url)).map_err(|e| {
        Broken::new(
            format!("no HTTP client: {e:#}"),
            "this is a fault of pushduty's own: please report it",
        )
    })
}
