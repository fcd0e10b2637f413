//! Sending one email over SMTP: the message as the operator sees and edits it (a [`Draft`]:
//! plain headers, a blank line, the body), checked back into a message, and sent with the
//! service's security. Every failure says what to fix; none carries the password.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, anyhow, bail};
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Mailboxes};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};

use crate::secret::{self, Secret};

pub use pushduty_core::runbook::model::SmtpSecurity as Security;

/// Whether `host` is this machine (where plain SMTP cannot be read on the way).
pub fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost") || h.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// An SMTP relay as this operator reaches it.
#[derive(Debug, Clone)]
pub struct SmtpConf {
    pub name: String,
    pub host: String,
    pub port: u16,
    /// As written; [`SmtpConf::security`] checks it.
    pub security: String,
    pub from: String,
    pub to: Vec<String>,
    pub user: Option<String>,
    /// Needed only with a `user`; the reason when there is none.
    pub password: Result<Secret, String>,
    /// Certificates (PEM) trusted for this server beside the bundled roots.
    pub ca_file: Option<PathBuf>,
}

impl SmtpConf {
    /// The security mode, refused when plain text would leave this machine.
    pub fn security(&self) -> Result<Security, String> {
        let s =
            Security::parse(&self.security).map_err(|e| format!("service `{}`: {e}", self.name))?;
        if s == Security::None && !is_loopback(&self.host) {
            return Err(format!(
                "service `{}`: `security = \"none\"` sends the email (and any password) in \
                 plain text, so it is allowed only to this machine (127.0.0.1, ::1, localhost), \
                 not to {}: use `starttls` or `tls`",
                self.name, self.host
            ));
        }
        Ok(s)
    }

    /// The user and password to log in with, if the service has a user.
    pub fn credentials(&self) -> Result<Option<(String, Secret)>, String> {
        let Some(user) = &self.user else {
            return Ok(None);
        };
        let password = self.password.clone().map_err(|e| {
            format!(
                "service `{}` has user `{user}` but no password: {e} (name it with \
                 `services.{}.password = {{ env = \"NAME\" }}` or `{{ keyring = \"service/user\" }}`)",
                self.name, self.name
            )
        })?;
        Ok(Some((user.clone(), password)))
    }

    /// Everything that can be known without connecting: security, sender, recipients,
    /// password.
    pub fn problems(&self, to: &[String]) -> Vec<String> {
        let mut out = self.setting_problems();
        if to.is_empty() {
            out.push("no recipient: give the service or the step a `to`".into());
        }
        for t in to {
            if let Err(e) = mailbox("To", t) {
                out.push(format!("{e:#}"));
            }
        }
        out
    }

    /// What is wrong with the service's own settings, whatever is sent: security, sender,
    /// password, `ca_file`.
    pub fn setting_problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Err(e) = self.security() {
            out.push(e);
        }
        if let Err(e) = mailbox("From", &self.from) {
            out.push(format!("service `{}`: {e}", self.name));
        }
        if let Err(e) = self.credentials() {
            out.push(e);
        }
        if let Err(e) = self.trusted() {
            out.push(format!("{e:#}"));
        }
        out
    }

    /// The certificates of `ca_file`, if one is named.
    fn trusted(&self) -> Result<Option<Certificate>> {
        let Some(path) = &self.ca_file else {
            return Ok(None);
        };
        let what = format!("service `{}`: `ca_file` {}", self.name, path.display());
        let pem = std::fs::read(path).with_context(|| format!("{what} cannot be read"))?;
        // An empty or non-PEM file parses as no certificate: trusting nothing more is not
        // what the operator asked for.
        if !pem
            .windows(b"-----BEGIN CERTIFICATE-----".len())
            .any(|w| w == b"-----BEGIN CERTIFICATE-----")
        {
            bail!("{what} holds no PEM certificate (`-----BEGIN CERTIFICATE-----`)");
        }
        Certificate::from_pem(&pem)
            .map(Some)
            .map_err(|e| anyhow!("{what} is not readable as PEM certificates: {e}"))
    }

    /// TLS for this host: the bundled roots, and `ca_file`'s certificates if it names one.
    fn tls(&self) -> Result<TlsParameters> {
        let mut b = TlsParameters::builder(self.host.clone());
        if let Some(cert) = self.trusted()? {
            b = b.add_root_certificate(cert);
        }
        b.build_rustls()
            .with_context(|| format!("setting up TLS for {}", self.host))
    }

    /// `host:port (security)`, for previews and progress.
    pub fn describe(&self) -> String {
        format!("{}:{} ({})", self.host, self.port, self.security)
    }

    /// Sends `draft`; returns the server's acceptance line. `before_data` runs once the
    /// server has taken the sender and every recipient, right before the message itself goes
    /// (SMTP `DATA`): the caller journals there that it is sending, and an error from it ends
    /// the session with nothing sent. The password is cut out of any error text.
    pub async fn send(
        &self,
        draft: &Draft,
        before_data: &dyn Fn() -> Result<()>,
    ) -> Result<String> {
        let security = self.security().map_err(anyhow::Error::msg)?;
        let creds = self.credentials().map_err(anyhow::Error::msg)?;
        let message = draft.to_message()?;
        let result = self
            .deliver(security, creds.as_ref(), &message, before_data)
            .await;
        scrubbed(result, creds.as_ref())
    }

    async fn deliver(
        &self,
        security: Security,
        creds: Option<&(String, Secret)>,
        message: &lettre::Message,
        before_data: &dyn Fn() -> Result<()>,
    ) -> Result<String> {
        let limit = crate::services::http::request_timeout();
        let (mut conn, at, hello) = self.connect(security, limit).await?;
        let mut usable = true;
        let result = self
            .session(
                &mut conn,
                security,
                creds,
                message,
                (&at, limit, &hello),
                before_data,
                &mut usable,
            )
            .await;
        match (&result, usable) {
            (Ok(_), _) => {
                let _ = tokio::time::timeout(limit, conn.quit()).await;
            }
            (Err(_), true) => {
                let _ = tokio::time::timeout(limit, conn.abort()).await;
            }
            // A failed TLS upgrade leaves lettre's connection without a stream, which it must
            // not be asked to write to again: it is only dropped.
            (Err(_), false) => {}
        }
        result
    }

    /// Connects and reads the greeting (TLS first for `tls`): the connection, the server as
    /// errors name it, and the EHLO name.
    async fn connect(
        &self,
        security: Security,
        limit: Duration,
    ) -> Result<(AsyncSmtpConnection, String, ClientId)> {
        let at = format!("{}:{}", self.host, self.port);
        let hello = hello_name(&self.from);
        let implicit = match security {
            Security::Tls => Some(self.tls()?),
            _ => None,
        };
        let conn = within(
            limit,
            AsyncSmtpConnection::connect_tokio1(
                (self.host.as_str(), self.port),
                Some(limit),
                &hello,
                implicit,
                None,
            ),
        )
        .await
        .map_err(|e| anyhow!("{}", connect_error(&e, &at, security)))?;
        Ok((conn, at, hello))
    }

    /// Connects, says EHLO, upgrades to TLS and logs in as a send would, then quits: no
    /// envelope, no message. Each exchange has `limit`. Says what the server agreed to.
    pub async fn probe(&self, limit: Duration) -> Result<String> {
        let security = self.security().map_err(anyhow::Error::msg)?;
        let creds = self.credentials().map_err(anyhow::Error::msg)?;
        let result = async {
            let (mut conn, at, hello) = self.connect(security, limit).await?;
            let mut usable = true;
            let r = self
                .secure_and_login(
                    &mut conn,
                    security,
                    creds.as_ref(),
                    (&at, limit, &hello),
                    &mut usable,
                )
                .await;
            if usable {
                let _ = tokio::time::timeout(limit, conn.quit()).await;
            }
            r?;
            let tls = if conn.is_encrypted() {
                "TLS"
            } else {
                "no TLS (loopback)"
            };
            let login = match &creds {
                Some((user, _)) => format!("logged in as `{user}`"),
                None => "no login configured".to_string(),
            };
            Ok::<_, anyhow::Error>(format!("{at} answered EHLO; {tls}; {login}"))
        }
        .await;
        scrubbed(result, creds.as_ref())
    }

    /// TLS as `security` asks, then the login when there are credentials.
    async fn secure_and_login(
        &self,
        conn: &mut AsyncSmtpConnection,
        security: Security,
        creds: Option<&(String, Secret)>,
        (at, limit, hello): (&str, Duration, &ClientId),
        usable: &mut bool,
    ) -> Result<()> {
        let offers_starttls = conn.can_starttls();
        match security {
            Security::StartTls if !offers_starttls => bail!(
                "{at} does not offer STARTTLS, and `security = \"starttls\"` requires it: \
                 nothing was sent (use `tls` if the server speaks TLS from the start, \
                 usually on port 465)"
            ),
            Security::StartTls | Security::Opportunistic if offers_starttls => {
                let params = self.tls()?;
                within(limit, conn.starttls(params, hello))
                    .await
                    .map_err(|e| {
                        *usable = false;
                        anyhow!(
                            "TLS with {at} failed: {}: nothing was sent (a certificate from \
                             an authority of your own is trusted through the service's \
                             `ca_file`)",
                            smtp_words(&e)
                        )
                    })?;
            }
            _ => {}
        }
        if let Some((user, password)) = creds {
            // A password never crosses the network in the clear: only to this machine.
            if !conn.is_encrypted() && !is_loopback(&self.host) {
                bail!(
                    "{at} did not offer STARTTLS, so the connection is not encrypted: \
                     not sending the password of `{user}` in the clear (use `starttls` or `tls`)"
                );
            }
            let c = Credentials::new(user.clone(), password.expose().to_string());
            let r = within(limit, conn.auth(&[Mechanism::Plain, Mechanism::Login], &c)).await;
            match r {
                Ok(resp) if resp.is_positive() => {}
                Ok(resp) => bail!(
                    "{at} rejected the login of `{user}` ({} {}): check `services.{}.user` and \
                     the password it names",
                    resp.code(),
                    resp.message().collect::<Vec<_>>().join(" "),
                    self.name
                ),
                Err(e) if e.is_client() => bail!(
                    "{at} offers no login this client can use (PLAIN or LOGIN): {}",
                    smtp_words(&e)
                ),
                Err(e) => bail!(
                    "{at} rejected the login of `{user}`: {}: check `services.{}.user` and \
                     the password it names",
                    smtp_words(&e),
                    self.name
                ),
            }
        }
        Ok(())
    }

    /// From the greeting on: TLS, login, envelope, message. `where_` is the server as said in
    /// errors, the time limit of each exchange and the EHLO name; `usable` is cleared when the
    /// connection can no longer be spoken on (a failed TLS upgrade).
    #[allow(clippy::too_many_arguments)]
    async fn session(
        &self,
        conn: &mut AsyncSmtpConnection,
        security: Security,
        creds: Option<&(String, Secret)>,
        message: &lettre::Message,
        (at, limit, hello): (&str, Duration, &ClientId),
        before_data: &dyn Fn() -> Result<()>,
        usable: &mut bool,
    ) -> Result<String> {
        self.secure_and_login(conn, security, creds, (at, limit, hello), usable)
            .await?;
        let envelope = message.envelope();
        let bytes = message.formatted();
        let mut params = Vec::new();
        if !bytes.is_ascii() {
            if !conn.server_info().supports_feature(Extension::EightBitMime) {
                bail!("the message is not plain ASCII and {at} does not accept 8-bit messages");
            }
            params.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        within(
            limit,
            conn.command(Mail::new(envelope.from().cloned(), params)),
        )
        .await
        .map_err(|e| anyhow!("{at} refused the sender {}: {}", self.from, smtp_words(&e)))?;
        for rcpt in envelope.to() {
            within(limit, conn.command(Rcpt::new(rcpt.clone(), Vec::new())))
                .await
                .map_err(|e| {
                    anyhow!(
                        "{at} refused the recipient {rcpt}: {}: nothing was sent",
                        smtp_words(&e)
                    )
                })?;
        }
        before_data().map_err(|e| anyhow!("{e:#}: so the message was not sent"))?;
        within(limit, conn.command(Data))
            .await
            .map_err(|e| anyhow!("{at} refused to take the message: {}", smtp_words(&e)))?;
        let done = within(limit, conn.message(&bytes)).await.map_err(|e| {
            anyhow!(
                "{at} did not accept the message: {} (it may or may not have been sent)",
                smtp_words(&e)
            )
        })?;
        Ok(format!(
            "{} {}",
            done.code(),
            done.message().collect::<Vec<_>>().join(" ")
        ))
    }
}

/// `result` with the password cut out of its error's text.
fn scrubbed<T>(result: Result<T>, creds: Option<&(String, Secret)>) -> Result<T> {
    result.map_err(|e| {
        let text = format!("{e:#}");
        match creds {
            Some((_, p)) => anyhow!("{}", secret::scrub(&text, &[p])),
            None => anyhow!("{text}"),
        }
    })
}

/// The EHLO name: the sender's domain, a plain name the server can read.
fn hello_name(from: &str) -> ClientId {
    from.parse::<Mailbox>()
        .map(|m| ClientId::Domain(m.email.domain().to_string()))
        .unwrap_or_else(|_| ClientId::Domain("localhost".into()))
}

/// Errors a server or the network can give while talking SMTP.
enum Failed {
    Smtp(lettre::transport::smtp::Error),
    Timeout { limit: Duration },
}

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failed::Smtp(e) => f.write_str(&smtp_error_words(e)),
            Failed::Timeout { limit } => write!(f, "no answer within {}s", limit.as_secs()),
        }
    }
}

impl Failed {
    fn is_client(&self) -> bool {
        matches!(self, Failed::Smtp(e) if e.is_client())
    }
}

/// One exchange, bounded in time.
async fn within<T>(
    limit: Duration,
    f: impl std::future::Future<Output = Result<T, lettre::transport::smtp::Error>>,
) -> Result<T, Failed> {
    match tokio::time::timeout(limit, f).await {
        Ok(r) => r.map_err(Failed::Smtp),
        Err(_) => Err(Failed::Timeout { limit }),
    }
}

fn smtp_words(e: &Failed) -> String {
    e.to_string()
}

/// lettre's error with its cause (the I/O error, the server's reply) on one line.
fn smtp_error_words(e: &lettre::transport::smtp::Error) -> String {
    let mut words = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        let s_text = s.to_string();
        if !words.contains(&s_text) {
            words.push_str(": ");
            words.push_str(&s_text);
        }
        src = s.source();
    }
    words
}

/// A failed connection, with what to check.
fn connect_error(e: &Failed, at: &str, security: Security) -> String {
    let io = match e {
        Failed::Smtp(s) => {
            let mut src = std::error::Error::source(s);
            let mut found = None;
            while let Some(x) = src {
                if let Some(io) = x.downcast_ref::<std::io::Error>() {
                    found = Some(io.kind());
                    break;
                }
                src = x.source();
            }
            found
        }
        Failed::Timeout { .. } => None,
    };
    match (e, io) {
        (_, Some(std::io::ErrorKind::ConnectionRefused)) => format!(
            "cannot connect to {at}: connection refused (is the SMTP server running, and are \
             the service's `host` and `port` right?)"
        ),
        (Failed::Timeout { limit }, _) => format!(
            "no answer from {at} within {}s (a firewall, or the wrong host or port?)",
            limit.as_secs()
        ),
        // It spoke TLS, and its certificate was not one to trust.
        (Failed::Smtp(_), _) if e.to_string().contains("invalid peer certificate") => format!(
            "TLS with {at} failed: {e} (a certificate from an authority of your own is \
             trusted through the service's `ca_file`)"
        ),
        (Failed::Smtp(s), _) if s.is_tls() || security == Security::Tls => format!(
            "TLS with {at} failed: {e} (does the server speak TLS from the start? else use \
             `starttls`)"
        ),
        _ => format!("cannot talk SMTP with {at}: {e}"),
    }
}

/// The headers a draft may hold, in the order they are written.
pub const HEADERS: &[&str] = &[
    "From",
    "To",
    "Cc",
    "Reply-To",
    "Subject",
    "Date",
    "Message-ID",
];

/// The email as the operator sees it: headers, a blank line, the body. Parsed and checked;
/// [`Draft::to_message`] makes the message that is sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub from: Mailbox,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    pub reply_to: Option<Mailbox>,
    pub subject: String,
    /// As written (RFC 2822).
    pub date: String,
    /// With its angle brackets.
    pub message_id: String,
    pub body: String,
}

/// Refuses a header value with a line break or another control character: one from the
/// data could add headers of its own (header injection).
pub fn clean_header(name: &str, value: &str) -> Result<()> {
    if let Some(c) = value.chars().find(|c| c.is_control() && *c != '\t') {
        bail!(
            "the `{name}` header holds a control character ({}): a line break there could \
             add headers of its own (header injection), so the message is refused",
            c.escape_unicode()
        );
    }
    Ok(())
}

/// One address, as a mailbox (`name <a@b>` or `a@b`).
pub fn mailbox(header: &str, text: &str) -> Result<Mailbox> {
    clean_header(header, text)?;
    text.trim().parse::<Mailbox>().map_err(|e| {
        anyhow!(
            "`{header}`: `{}` is not an email address ({e})",
            text.trim()
        )
    })
}

/// A list of addresses separated by commas.
fn mailboxes(header: &str, text: &str) -> Result<Vec<Mailbox>> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    match text.parse::<Mailboxes>() {
        Ok(m) => Ok(m.into_iter().collect()),
        // Name the bad one rather than the whole list.
        Err(_) => text
            .split(',')
            .filter(|p| !p.trim().is_empty())
            .map(|p| mailbox(header, p))
            .collect(),
    }
}

/// A new Message-ID: the time and a random number, at the sender's domain.
pub fn new_message_id(from: &Mailbox) -> String {
    use std::hash::{BuildHasher, Hasher};
    // `RandomState` is seeded from the OS for every instance: random enough for a unique id.
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format!("<pushduty.{now}.{random:016x}@{}>", from.email.domain())
}

fn check_message_id(id: &str) -> Result<()> {
    let inner = id
        .strip_prefix('<')
        .and_then(|s| s.strip_suffix('>'))
        .filter(|s| {
            let ok = |p: &str| !p.is_empty() && !p.contains(['<', '>', '@', ' ', '\t']);
            s.split_once('@').is_some_and(|(l, d)| ok(l) && ok(d))
        });
    if inner.is_none() {
        bail!("`Message-ID`: `{id}` is not `<id@domain>`");
    }
    Ok(())
}

impl Draft {
    /// A new draft dated `date` (RFC 2822); every value checked as a header would be.
    pub fn compose(
        from: &str,
        to: &[String],
        subject: &str,
        date: &str,
        body: &str,
    ) -> Result<Self> {
        let from = mailbox("From", from)?;
        clean_header("Subject", subject)?;
        let to = to
            .iter()
            .map(|t| mailbox("To", t))
            .collect::<Result<Vec<_>>>()?;
        let draft = Self {
            message_id: new_message_id(&from),
            from,
            to,
            cc: Vec::new(),
            reply_to: None,
            subject: subject.trim().to_string(),
            date: date.to_string(),
            body: body.to_string(),
        };
        draft.validate()?;
        Ok(draft)
    }

    /// The draft as the operator edits it.
    pub fn text(&self) -> String {
        let list = |m: &[Mailbox]| m.iter().map(Mailbox::to_string).collect::<Vec<_>>();
        let mut out = format!("From: {}\n", self.from);
        out.push_str(&format!("To: {}\n", list(&self.to).join(", ")));
        if !self.cc.is_empty() {
            out.push_str(&format!("Cc: {}\n", list(&self.cc).join(", ")));
        }
        if let Some(r) = &self.reply_to {
            out.push_str(&format!("Reply-To: {r}\n"));
        }
        out.push_str(&format!("Subject: {}\n", self.subject));
        out.push_str(&format!("Date: {}\n", self.date));
        out.push_str(&format!("Message-ID: {}\n", self.message_id));
        out.push('\n');
        out.push_str(&self.body);
        out
    }

    /// Reads a draft back from the text the operator saved; headers may have been edited.
    pub fn parse(text: &str) -> Result<Self> {
        let (head, body) = split_head(text).context(
            "the message has no blank line between its headers and its body: keep the \
             headers at the top, then one empty line",
        )?;
        let mut fields: Vec<(String, String)> = Vec::new();
        for (n, line) in head.split('\n').enumerate() {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.starts_with([' ', '\t']) {
                // A folded header goes on; unfolding drops only the line break.
                match fields.last_mut() {
                    Some((_, v)) => v.push_str(line),
                    None => bail!("line {} of the headers starts with a space", n + 1),
                }
                continue;
            }
            let Some((name, value)) = line.split_once(':') else {
                bail!(
                    "line {} of the headers is not `Name: value`: `{line}`",
                    n + 1
                );
            };
            let Some(known) = HEADERS.iter().find(|h| h.eq_ignore_ascii_case(name.trim())) else {
                bail!(
                    "the header `{}` is not one pushduty sends (it may have: {}); remove it",
                    name.trim(),
                    HEADERS.join(", ")
                );
            };
            if fields.iter().any(|(k, _)| k == known) {
                bail!("the `{known}` header is given twice");
            }
            fields.push(((*known).to_string(), value.to_string()));
        }
        for (k, v) in &fields {
            clean_header(k, v)?;
        }
        let get = |k: &str| {
            fields
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.trim().to_string())
        };
        let need = |k: &str| get(k).with_context(|| format!("the message has no `{k}` header"));
        let draft = Self {
            from: mailbox("From", &need("From")?)?,
            to: mailboxes("To", &get("To").unwrap_or_default())?,
            cc: mailboxes("Cc", &get("Cc").unwrap_or_default())?,
            reply_to: get("Reply-To")
                .filter(|r| !r.is_empty())
                .map(|r| mailbox("Reply-To", &r))
                .transpose()?,
            subject: need("Subject")?,
            date: need("Date")?,
            message_id: need("Message-ID")?,
            body: body.to_string(),
        };
        draft.validate()?;
        Ok(draft)
    }

    fn validate(&self) -> Result<()> {
        if self.to.is_empty() && self.cc.is_empty() {
            bail!("the message has no recipient: name at least one in `To`");
        }
        if self.subject.trim().is_empty() {
            bail!("the `Subject` header is empty");
        }
        chrono::DateTime::parse_from_rfc2822(&self.date)
            .map_err(|e| anyhow!("`Date`: `{}` is not an RFC 2822 date ({e})", self.date))?;
        check_message_id(&self.message_id)
    }

    /// Everyone the message goes to.
    pub fn recipients(&self) -> Vec<String> {
        self.to
            .iter()
            .chain(&self.cc)
            .map(|m| m.email.to_string())
            .collect()
    }

    /// The message to send; lettre encodes the subject and the body as SMTP needs.
    pub fn to_message(&self) -> Result<lettre::Message> {
        let date = chrono::DateTime::parse_from_rfc2822(&self.date)
            .map_err(|e| anyhow!("`Date`: `{}` is not an RFC 2822 date ({e})", self.date))?;
        let mut b = lettre::Message::builder()
            .from(self.from.clone())
            .subject(self.subject.clone())
            .date(SystemTime::from(date))
            .message_id(Some(self.message_id.clone()));
        for m in &self.to {
            b = b.to(m.clone());
        }
        for m in &self.cc {
            b = b.cc(m.clone());
        }
        if let Some(r) = &self.reply_to {
            b = b.reply_to(r.clone());
        }
        b.header(ContentType::TEXT_PLAIN)
            .body(self.body.replace("\r\n", "\n"))
            .context("building the message")
    }
}

/// Headers and body, at the first empty line.
fn split_head(text: &str) -> Option<(&str, &str)> {
    let lf = text.find("\n\n").map(|i| (i, 2));
    let crlf = text.find("\r\n\r\n").map(|i| (i, 4));
    let (i, len) = match (lf, crlf) {
        (Some(a), Some(b)) => a.min(b),
        (a, b) => a.or(b)?,
    };
    Some((&text[..i], &text[i + len..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATE: &str = "Thu, 10 Sep 2015 14:00:00 -0700";

    fn draft() -> Draft {
        Draft::compose(
            "Push Hero <hero@example.org>",
            &["list@example.org".into(), "b@example.org".into()],
            "AMO push 2015.09.10 is done",
            DATE,
            "Hi all,\n\nDone.\n",
        )
        .unwrap()
    }

    #[test]
    fn a_draft_reads_back_as_it_was_written() {
        let d = draft();
        assert!(d.message_id.ends_with("@example.org>"), "{}", d.message_id);
        assert_eq!(Draft::parse(&d.text()).unwrap(), d);
        // An editor that saves CRLF changes nothing.
        assert_eq!(
            Draft::parse(&d.text().replace('\n', "\r\n")).unwrap().to,
            d.to
        );
    }

    #[test]
    fn edited_headers_are_taken() {
        let text = draft()
            .text()
            .replace("Subject: AMO", "Subject: Re: AMO")
            .replace(
                "To: list@example.org, b@example.org",
                "To: only@example.org,\n\tsecond@example.org",
            );
        let d = Draft::parse(&text).unwrap();
        assert_eq!(d.subject, "Re: AMO push 2015.09.10 is done");
        assert_eq!(d.recipients(), ["only@example.org", "second@example.org"]);
    }

    #[test]
    fn header_injection_is_refused_naming_the_header() {
        let e = Draft::compose(
            "hero@example.org",
            &["list@example.org".into()],
            "done\r\nBcc: x@evil.example",
            DATE,
            "body",
        )
        .unwrap_err();
        assert!(
            format!("{e:#}").contains("`Subject` header holds a control character"),
            "{e:#}"
        );
        let e = Draft::compose(
            "hero@example.org",
            &["a@b.org\nBcc: x@evil".into()],
            "s",
            DATE,
            "b",
        )
        .unwrap_err();
        assert!(format!("{e:#}").contains("`To` header"), "{e:#}");
        let text = draft()
            .text()
            .replace("Subject: AMO", "Subject: \u{1b}]0;AMO");
        let e = Draft::parse(&text).unwrap_err();
        assert!(format!("{e:#}").contains("`Subject`"), "{e:#}");
    }

    #[test]
    fn bad_drafts_say_what_is_wrong() {
        let base = draft().text();
        let cases = [
            (
                base.replace("To: list@example.org, b@example.org\n", ""),
                "no recipient",
            ),
            (
                base.replace("list@example.org", "not an address"),
                "`To`: `not an address`",
            ),
            (
                base.replace("From: Push Hero <hero@example.org>\n", ""),
                "no `From` header",
            ),
            (
                base.replacen("Subject:", "Bcc: x@evil.example\nSubject:", 1),
                "`Bcc` is not one",
            ),
            (
                base.replacen("Subject:", "Subject: again\nSubject:", 1),
                "given twice",
            ),
            (base.replace("\n\n", "\n"), "no blank line"),
            (
                base.replacen("Message-ID: <", "Message-ID: ", 1),
                "is not `<id@domain>`",
            ),
            (
                base.replace("Date: ", "Date: yesterday "),
                "not an RFC 2822 date",
            ),
        ];
        for (text, want) in cases {
            let e = format!("{:#}", Draft::parse(&text).unwrap_err());
            assert!(e.contains(want), "{want}: {e}");
        }
    }

    #[test]
    fn the_message_sent_has_the_drafts_headers() {
        let d = draft();
        let sent = String::from_utf8(d.to_message().unwrap().formatted()).unwrap();
        assert!(
            sent.contains(&format!("Message-ID: {}\r\n", d.message_id)),
            "{sent}"
        );
        assert!(
            sent.contains("Subject: AMO push 2015.09.10 is done\r\n"),
            "{sent}"
        );
        assert!(
            sent.contains("To: list@example.org, b@example.org\r\n"),
            "{sent}"
        );
        assert!(sent.ends_with("Hi all,\r\n\r\nDone.\r\n"), "{sent}");
    }

    fn conf(host: &str, security: &str) -> SmtpConf {
        SmtpConf {
            name: "list".into(),
            host: host.into(),
            port: 25,
            security: security.into(),
            from: "hero@example.org".into(),
            to: vec!["list@example.org".into()],
            user: None,
            password: Err("not set".into()),
            ca_file: None,
        }
    }

    #[test]
    fn plain_text_only_to_this_machine() {
        for host in ["127.0.0.1", "::1", "[::1]", "localhost", "127.0.0.2"] {
            assert_eq!(conf(host, "none").security(), Ok(Security::None), "{host}");
        }
        let e = conf("smtp.example.org", "none").security().unwrap_err();
        assert!(e.contains("only to this machine"), "{e}");
        assert!(conf("smtp.example.org", "plain").security().is_err());
        assert_eq!(
            conf("smtp.example.org", "opportunistic").security(),
            Ok(Security::Opportunistic)
        );
    }

    #[test]
    fn a_user_needs_a_password() {
        let mut c = conf("127.0.0.1", "none");
        assert!(c.problems(&c.to.clone()).is_empty());
        c.user = Some("hero".into());
        let p = c.problems(&c.to.clone());
        assert!(
            p.iter().any(|p| p.contains("no password: not set")),
            "{p:?}"
        );
        c.password = Ok(Secret::new("hunter2"));
        assert_eq!(c.credentials().unwrap().unwrap().0, "hero");
        assert!(c.problems(&["nobody".into()])[0].contains("`nobody` is not an email address"));
    }

    /// A scripted SMTP server on loopback: answers each command with the next line of
    /// `replies` (after the greeting), then closes. Returns its port.
    fn scripted(replies: &'static [&'static str]) -> u16 {
        use std::io::{BufRead, BufReader, Write};
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let (s, _) = l.accept().unwrap();
            let mut w = s.try_clone().unwrap();
            let mut r = BufReader::new(s);
            w.write_all(b"220 scripted\r\n").unwrap();
            for reply in replies {
                let mut line = String::new();
                if r.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                w.write_all(reply.as_bytes()).unwrap();
            }
        });
        port
    }

    fn send_to(port: u16, c: impl FnOnce(&mut SmtpConf)) -> String {
        let mut conf = conf("127.0.0.1", "none");
        conf.port = port;
        c(&mut conf);
        let d = draft();
        let r = crate::services::http::block_on(async move { conf.send(&d, &|| Ok(())).await })
            .unwrap();
        format!("{:#}", r.unwrap_err())
    }

    #[test]
    fn a_refused_recipient_is_named() {
        let port = scripted(&[
            "250 scripted\r\n",
            "250 ok\r\n",
            "250 ok\r\n",
            "550 5.1.1 no such user\r\n",
        ]);
        let e = send_to(port, |_| {});
        assert!(e.contains("refused the recipient b@example.org"), "{e}");
        assert!(
            e.contains("no such user") && e.contains("nothing was sent"),
            "{e}"
        );
    }

    #[test]
    fn a_rejected_login_says_so_without_the_password() {
        let port = scripted(&[
            "250-scripted\r\n250 AUTH PLAIN LOGIN\r\n",
            "535 5.7.8 bad credentials\r\n",
        ]);
        let e = send_to(port, |c| {
            c.user = Some("hero".into());
            c.password = Ok(Secret::new("hunter2"));
        });
        assert!(e.contains("rejected the login of `hero`"), "{e}");
        assert!(!e.contains("hunter2"), "{e}");
    }

    #[test]
    fn required_starttls_that_is_not_offered_sends_nothing() {
        let port = scripted(&["250 scripted\r\n"]);
        let e = send_to(port, |c| c.security = "starttls".into());
        assert!(e.contains("does not offer STARTTLS"), "{e}");
    }

    #[test]
    fn a_closed_port_says_connection_refused() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let e = send_to(port, |_| {});
        assert!(e.contains("connection refused"), "{e}");
    }
}
