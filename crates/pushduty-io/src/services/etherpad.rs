//! Etherpad's HTTP API: `createPad`, `setText`, `getText`, `appendText`. Every answer is
//! `{code, message, data}`, and a refusal may come with HTTP 200 (code 1: "padID does already
//! exist"), so the code decides, not the status. The key travels in the POST body, never in a
//! URL, and every failure is scrubbed of it.

use anyhow::{Result, anyhow};
use serde::Deserialize;
use serde_json::Value;

use super::EtherpadConf;
use super::http::{API_ANSWER, Transient, client, read_body};
use crate::secret::{Secret, scrub};
use pushduty_core::urls::encode;

pub struct Etherpad {
    name: String,
    url: String,
    api: String,
    version: String,
    key: Secret,
}

/// What the API said, when it said it in its own terms.
#[derive(Debug, Deserialize)]
struct Answer {
    code: i64,
    #[serde(default)]
    message: String,
    #[serde(default)]
    data: Value,
}

/// How `createPad` went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    New,
    /// The pad was there already; nothing was written.
    Exists,
}

impl Etherpad {
    pub fn new(conf: &EtherpadConf, key: Secret) -> Self {
        let url = conf.url.trim_end_matches('/').to_string();
        Self {
            name: conf.name.clone(),
            api: format!("{url}/api/{}", encode(&conf.api_version)),
            version: conf.api_version.clone(),
            url,
            key,
        }
    }

    /// Where people read a pad.
    pub fn pad_url(&self, pad: &str) -> String {
        format!("{}/p/{}", self.url, encode(pad))
    }

    /// The endpoint of one API function, for previews and progress lines (no key in it).
    pub fn endpoint(&self, function: &str) -> String {
        format!("{}/{function}", self.api)
    }

    fn scrub(&self, text: &str) -> String {
        scrub(text, &[&self.key])
    }

    /// Calls one function; returns `data` on code 0, the code and message otherwise (code 1
    /// is the caller's to read: it is how "exists" and "does not exist" are said).
    async fn call(&self, function: &str, params: &[(&str, &str)]) -> Result<Result<Value, Answer>> {
        let what = format!("Etherpad `{function}`");
        let mut form: Vec<(&str, &str)> = vec![("apikey", self.key.expose())];
        form.extend_from_slice(params);
        let resp = client()?
            .post(self.endpoint(function))
            .form(&form)
            .send()
            .await
            .map_err(|e| self.unreachable(&what, &e))?;
        let status = resp.status();
        let asked = format!("`{function}`");
        let body = read_body(resp, API_ANSWER, "Etherpad", &asked, |e| {
            self.unreachable(&what, e)
        })
        .await?;
        let answer: Answer = match serde_json::from_str(&body) {
            Ok(a) => a,
            Err(_) if status.is_server_error() => {
                return Err(anyhow::Error::new(Transient(self.scrub(&format!(
                    "{what}: HTTP {status} from {}; try again, and look at the server's log if it keeps failing",
                    self.url
                )))));
            }
            Err(e) => {
                let hint = if status == reqwest::StatusCode::NOT_FOUND {
                    format!(
                        "no Etherpad API version {} there: check the service's `url` and `api_version`",
                        self.version
                    )
                } else {
                    "is it an Etherpad (the service's `url`)?".to_string()
                };
                return Err(anyhow!(self.scrub(&format!(
                    "{what}: {} answered HTTP {status} with something that is not the API's JSON ({e}); {hint}",
                    self.url
                ))));
            }
        };
        match answer.code {
            0 => Ok(Ok(answer.data)),
            1 => Ok(Err(answer)),
            2 => Err(anyhow::Error::new(Transient(self.scrub(&format!(
                "{what}: Etherpad failed inside (code 2, internal error: {}); try again, and look at the server's log if it keeps failing",
                answer.message
            ))))),
            3 => Err(anyhow!(self.scrub(&format!(
                "{what}: Etherpad at {} has no such function in API version {} (code 3: {}); check the service's `api_version`",
                self.url, self.version, answer.message
            )))),
            4 => Err(anyhow!(
                "{what}: Etherpad refused the API key of service `{}` (code 4: {}); check the key it names (`services.{}.key`): it must be the server's APIKEY.txt",
                self.name,
                self.scrub(&answer.message),
                self.name
            )),
            other => Err(anyhow!(self.scrub(&format!(
                "{what}: Etherpad answered code {other} ({}), which its API does not define",
                answer.message
            )))),
        }
    }

    fn unreachable(&self, what: &str, e: &reqwest::Error) -> anyhow::Error {
        super::http::unanswered(what, "Etherpad", &self.url, e, |t| self.scrub(t))
    }

    /// A wrong-parameters answer (code 1) the caller did not expect, said with its message.
    fn refused(&self, function: &str, pad: &str, a: &Answer) -> anyhow::Error {
        anyhow!(self.scrub(&format!(
            "Etherpad `{function}` of pad `{pad}`: {} (code 1: wrong parameters)",
            a.message
        )))
    }

    /// The pad's text, or `None` when there is no such pad.
    pub async fn get_text(&self, pad: &str) -> Result<Option<String>> {
        match self.call("getText", &[("padID", pad)]).await? {
            Ok(data) => match data["text"].as_str() {
                Some(t) => Ok(Some(t.to_string())),
                None => Err(anyhow!(
                    "Etherpad `getText` of pad `{pad}`: the answer has no `data.text`"
                )),
            },
            Err(a) if a.message.contains("does not exist") => Ok(None),
            Err(a) => Err(self.refused("getText", pad, &a)),
        }
    }

    /// Makes the pad with `text`, unless it exists (then nothing is written).
    pub async fn create_pad(&self, pad: &str, text: &str) -> Result<Created> {
        match self
            .call("createPad", &[("padID", pad), ("text", text)])
            .await?
        {
            Ok(_) => Ok(Created::New),
            Err(a) if a.message.contains("already exist") => Ok(Created::Exists),
            Err(a) => Err(self.refused("createPad", pad, &a)),
        }
    }

    /// Replaces the pad's whole text.
    pub async fn set_text(&self, pad: &str, text: &str) -> Result<()> {
        match self
            .call("setText", &[("padID", pad), ("text", text)])
            .await?
        {
            Ok(_) => Ok(()),
            Err(a) => Err(self.refused("setText", pad, &a)),
        }
    }

    /// Adds `text` at the end of the pad. Etherpad inserts it before the pad's closing
    /// newline: to start a new line, begin `text` with one.
    pub async fn append_text(&self, pad: &str, text: &str) -> Result<()> {
        match self
            .call("appendText", &[("padID", pad), ("text", text)])
            .await?
        {
            Ok(_) => Ok(()),
            Err(a) => Err(self.refused("appendText", pad, &a)),
        }
    }
}
