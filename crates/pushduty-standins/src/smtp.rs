//! A small SMTP receiver: enough of RFC 5321 for lettre's plain-text session (EHLO or HELO,
//! MAIL, RCPT, DATA, RSET, NOOP, QUIT, and AUTH PLAIN or LOGIN (RFC 4954) when given a login;
//! no STARTTLS). Every message it accepts is kept, in memory and, when given a folder, as a
//! file there (`0001.eml`, ...), so a rehearsal can show the announcement that would have gone
//! out. Faults a real server shows too can be asked for: one that repeats a login it refuses
//! (what it received, base64 and all), one slow to take recipients, one that takes a message
//! and never says so.

use super::Server;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// One accepted message: its envelope and its text (dot-stuffing undone, CRLF kept).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
}

#[derive(Clone, Debug, Default)]
pub struct Config {
    /// The loopback port to listen on; 0 (or a taken one): any free port.
    pub port: u16,
    /// Where each accepted message is also written; none: memory only.
    pub dir: Option<PathBuf>,
    /// The one login accepted, `(user, password)`; none: AUTH is not offered.
    pub login: Option<(String, String)>,
    /// The AUTH mechanisms offered with a login, as EHLO lists them; empty: `PLAIN LOGIN`.
    pub mechanisms: String,
    pub fault: Fault,
}

/// How the stand-in misbehaves, as real servers do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Fault {
    #[default]
    None,
    /// Every login is refused with a 535 that repeats what the client sent.
    EchoLogin,
    /// Each recipient is taken only after this long (a relay checking its lists).
    SlowRecipients(Duration),
    /// The message is kept, and the 250 that says so never comes (the connection stays open
    /// until the client leaves): the client cannot know that it went.
    SilentAccept,
}

pub struct Smtp {
    server: Server<Shared>,
}

struct Shared {
    cfg: Config,
    messages: Mutex<Vec<Message>>,
}

/// The largest message taken: an announcement is a few kilobytes.
const MAX_BYTES: usize = 1 << 20;

impl Smtp {
    /// On a free loopback port; for tests, where a stand-in that cannot start ends the test.
    #[cfg(any(test, feature = "testing"))]
    pub fn start(cfg: Config) -> Self {
        super::started("SMTP", Self::try_start(cfg))
    }

    /// On a free loopback port.
    pub fn try_start(cfg: Config) -> std::io::Result<Self> {
        let port = cfg.port;
        if let Some(dir) = &cfg.dir {
            std::fs::create_dir_all(dir)?;
        }
        Server::start(
            port,
            |_| Shared {
                cfg,
                messages: Mutex::new(Vec::new()),
            },
            serve,
        )
        .map(|server| Self { server })
    }

    pub fn port(&self) -> u16 {
        self.server.addr.port()
    }

    /// Every message accepted, oldest first.
    pub fn messages(&self) -> Vec<Message> {
        self.server.shared.lock().clone()
    }

    /// Every message accepted, as JSON; a stand-in started later takes them up with
    /// [`Smtp::restore`].
    pub fn snapshot(&self) -> serde_json::Value {
        let all: Vec<_> = self
            .messages()
            .into_iter()
            .map(|m| serde_json::json!({"from": m.from, "to": m.to, "data": m.data}))
            .collect();
        serde_json::json!({ "messages": all })
    }

    /// Takes up an [`Smtp::snapshot`]: its messages replace this stand-in's, and the next one
    /// kept is numbered after them (its file does not overwrite theirs).
    pub fn restore(&self, saved: &serde_json::Value) -> Result<(), String> {
        use crate::saved::{list, str_of};
        let messages = list(saved, "messages")
            .and_then(|all| {
                all.iter()
                    .map(|v| {
                        let to = list(v, "to")?
                            .iter()
                            .map(|t| t.as_str().map(str::to_string))
                            .collect::<Option<Vec<_>>>()
                            .ok_or_else(|| "`to` holds something that is not text".to_string())?;
                        Ok(Message {
                            from: str_of(v, "from")?,
                            to,
                            data: str_of(v, "data")?,
                        })
                    })
                    .collect::<Result<Vec<_>, String>>()
            })
            .map_err(|e| format!("the SMTP state: {e}"))?;
        *self.server.shared.lock() = messages;
        Ok(())
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Vec<Message>> {
        super::lock(&self.messages)
    }

    /// Keeps `m`; the queue id for the 250 answer.
    fn keep(&self, m: Message) -> usize {
        let mut all = self.lock();
        let n = all.len() + 1;
        if let Some(dir) = &self.cfg.dir {
            // A message that cannot be written is still kept in memory: the sender was told 250.
            let _ = std::fs::write(dir.join(format!("{n:04}.eml")), &m.data);
        }
        all.push(m);
        n
    }
}

fn serve(sh: &Shared, stream: TcpStream, stop: &AtomicBool) {
    if stop.load(Ordering::SeqCst) {
        return;
    }
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let Ok(mut out) = stream.try_clone() else {
        return;
    };
    let mut input = BufReader::new(stream);
    let mut say = |line: &str| {
        let _ = out.write_all(line.as_bytes());
        let _ = out.write_all(b"\r\n");
        let _ = out.flush();
    };
    say("220 pushduty-standin ESMTP ready");
    let mut from: Option<String> = None;
    let mut to: Vec<String> = Vec::new();
    loop {
        let Some(line) = read_line(&mut input) else {
            return;
        };
        let verb = line
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" => {
                say("250-pushduty-standin greets you");
                say("250-8BITMIME");
                if sh.cfg.login.is_some() {
                    let offered = match sh.cfg.mechanisms.trim() {
                        "" => "PLAIN LOGIN",
                        m => m,
                    };
                    say(&format!("250-AUTH {offered}"));
                }
                say(&format!("250 SIZE {MAX_BYTES}"));
            }
            "AUTH" => {
                let reply = login(sh, &line, &mut input, &mut say);
                say(reply
                    .as_deref()
                    .unwrap_or("501 5.5.2 the login was cut off"));
                if reply.is_none() {
                    return;
                }
            }
            "HELO" => say("250 pushduty-standin"),
            "MAIL" => match address(&line, "FROM:") {
                Some(a) => {
                    from = Some(a);
                    to.clear();
                    say("250 2.1.0 Ok");
                }
                None => say("501 5.5.4 Syntax: MAIL FROM:<address>"),
            },
            "RCPT" if from.is_none() => say("503 5.5.1 Error: need MAIL command"),
            "RCPT" => match address(&line, "TO:") {
                Some(a) if !a.is_empty() => {
                    if let Fault::SlowRecipients(d) = sh.cfg.fault {
                        std::thread::sleep(d);
                    }
                    to.push(a);
                    say("250 2.1.5 Ok");
                }
                _ => say("501 5.5.4 Syntax: RCPT TO:<address>"),
            },
            "DATA" if to.is_empty() => say("503 5.5.1 Error: need RCPT command"),
            "DATA" => {
                say("354 End data with <CR><LF>.<CR><LF>");
                let Some(data) = read_data(&mut input) else {
                    say("552 5.3.4 Message too big, or the connection broke");
                    return;
                };
                let m = Message {
                    from: from.take().unwrap_or_default(),
                    to: std::mem::take(&mut to),
                    data,
                };
                let n = sh.keep(m);
                if sh.cfg.fault == Fault::SilentAccept {
                    // Kept, and never said: wait for the client to give up (or the end).
                    while !stop.load(Ordering::SeqCst) && read_line(&mut input).is_some() {}
                    return;
                }
                say(&format!("250 2.0.0 Ok: queued as {n:04}"));
            }
            "RSET" => {
                from = None;
                to.clear();
                say("250 2.0.0 Ok");
            }
            "NOOP" => say("250 2.0.0 Ok"),
            "QUIT" => {
                say("221 2.0.0 Bye");
                return;
            }
            "" => say("500 5.5.2 Error: bad syntax"),
            _ => say("502 5.5.2 Error: command not recognized"),
        }
    }
}

/// One AUTH exchange (`AUTH PLAIN [initial]` or `AUTH LOGIN`); the final reply, or `None`
/// when the client left in the middle.
fn login(
    sh: &Shared,
    line: &str,
    input: &mut impl BufRead,
    say: &mut impl FnMut(&str),
) -> Option<String> {
    let Some((user, password)) = &sh.cfg.login else {
        return Some("502 5.5.1 AUTH not offered".into());
    };
    let mut words = line.split_whitespace().skip(1);
    let mechanism = words.next().unwrap_or_default().to_ascii_uppercase();
    let initial = words.next().map(str::to_string);
    // What the client sent for its credentials, as it sent them (base64).
    let (sent, good) = match mechanism.as_str() {
        "PLAIN" => {
            let given = match initial {
                Some(i) => i,
                None => {
                    say("334 ");
                    read_line(input)?
                }
            };
            let want = base64(format!("\0{user}\0{password}").as_bytes());
            (given.clone(), given == want)
        }
        "LOGIN" => {
            say(&format!("334 {}", base64(b"Username:")));
            let u = read_line(input)?;
            say(&format!("334 {}", base64(b"Password:")));
            let p = read_line(input)?;
            let good = u == base64(user.as_bytes()) && p == base64(password.as_bytes());
            (format!("{u} {p}"), good)
        }
        _ => return Some("504 5.5.4 unrecognized authentication type".into()),
    };
    Some(match (sh.cfg.fault, good) {
        (Fault::EchoLogin, _) => format!("535 5.7.8 refused AUTH {mechanism} {sent}"),
        (_, true) => "235 2.7.0 Authentication successful".into(),
        (_, false) => "535 5.7.8 Authentication credentials invalid".into(),
    })
}

/// Base64 (RFC 4648, with padding), as SMTP logins are written.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// One line without its CRLF; `None` when the peer left.
fn read_line(input: &mut impl BufRead) -> Option<String> {
    let mut buf = Vec::new();
    match input.read_until(b'\n', &mut buf) {
        Ok(0) | Err(_) => None,
        Ok(_) => {
            while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                buf.pop();
            }
            Some(String::from_utf8_lossy(&buf).into_owned())
        }
    }
}

/// The message up to the lone dot, dot-stuffing undone; `None` if too big or cut off.
fn read_data(input: &mut impl BufRead) -> Option<String> {
    let mut data = String::new();
    loop {
        let line = read_line(input)?;
        if line == "." {
            return Some(data);
        }
        data.push_str(line.strip_prefix('.').unwrap_or(&line));
        data.push_str("\r\n");
        if data.len() > MAX_BYTES {
            return None;
        }
    }
}

/// The address in `MAIL FROM:<a> PARAMS` or `RCPT TO:<a>`.
fn address(line: &str, key: &str) -> Option<String> {
    let upper = line.to_ascii_uppercase();
    let at = upper.find(key)? + key.len();
    let rest = line[at..].trim_start();
    let inner = rest.strip_prefix('<')?;
    let end = inner.find('>')?;
    Some(inner[..end].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn talk(port: u16, lines: &[&str]) -> String {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        for l in lines {
            s.write_all(l.as_bytes()).unwrap();
            s.write_all(b"\r\n").unwrap();
        }
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }

    #[test]
    fn a_message_is_accepted_kept_and_written_with_dots_unstuffed() {
        let dir = tempfile::tempdir().unwrap();
        let smtp = Smtp::start(Config {
            dir: Some(dir.path().join("mail")),
            ..Config::default()
        });
        let out = talk(
            smtp.port(),
            &[
                "EHLO example.org",
                "MAIL FROM:<hero@example.org> BODY=8BITMIME",
                "RCPT TO:<list@example.org>",
                "DATA",
                "Subject: done",
                "",
                "..a line that began with a dot",
                ".",
                "QUIT",
            ],
        );
        assert!(out.starts_with("220 "), "{out}");
        assert!(out.contains("250-8BITMIME"), "{out}");
        assert!(out.contains("354 "), "{out}");
        assert!(out.contains("250 2.0.0 Ok: queued as 0001"), "{out}");
        assert!(out.trim_end().ends_with("221 2.0.0 Bye"), "{out}");
        let m = smtp.messages();
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].from, "hero@example.org");
        assert_eq!(m[0].to, vec!["list@example.org".to_string()]);
        assert_eq!(
            m[0].data,
            "Subject: done\r\n\r\n.a line that began with a dot\r\n"
        );
        let file = std::fs::read_to_string(dir.path().join("mail/0001.eml")).unwrap();
        assert_eq!(file, m[0].data);
    }

    #[test]
    fn logins_are_checked_and_an_echoing_server_repeats_them() {
        let login = Some(("hero".to_string(), "hunter2".to_string()));
        let smtp = Smtp::start(Config {
            login: login.clone(),
            ..Config::default()
        });
        let plain = base64(b"\0hero\0hunter2");
        assert_eq!(plain, "AGhlcm8AaHVudGVyMg==");
        let out = talk(
            smtp.port(),
            &[
                "EHLO x",
                &format!("AUTH PLAIN {plain}"),
                "AUTH PLAIN AAAA",
                "QUIT",
            ],
        );
        assert!(out.contains("250-AUTH PLAIN LOGIN"), "{out}");
        assert!(out.contains("235 2.7.0"), "{out}");
        assert!(
            out.contains("535 5.7.8 Authentication credentials invalid"),
            "{out}"
        );

        let echo = Smtp::start(Config {
            login,
            fault: Fault::EchoLogin,
            ..Config::default()
        });
        let out = talk(
            echo.port(),
            &["EHLO x", "AUTH LOGIN", "aGVybw==", "aHVudGVyMg==", "QUIT"],
        );
        assert!(out.contains("334 VXNlcm5hbWU6"), "{out}");
        assert!(
            out.contains("535 5.7.8 refused AUTH LOGIN aGVybw== aHVudGVyMg=="),
            "{out}"
        );
    }

    #[test]
    fn a_silent_accept_keeps_the_message_and_never_says_so() {
        let smtp = Smtp::start(Config {
            fault: Fault::SilentAccept,
            ..Config::default()
        });
        let mut s = TcpStream::connect(("127.0.0.1", smtp.port())).unwrap();
        for l in [
            "HELO x",
            "MAIL FROM:<a@b>",
            "RCPT TO:<c@d>",
            "DATA",
            "hi",
            ".",
        ] {
            s.write_all(format!("{l}\r\n").as_bytes()).unwrap();
        }
        s.set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        let out = String::from_utf8_lossy(&out);
        assert!(out.contains("354 "), "{out}");
        assert!(!out.contains("queued"), "{out}");
        assert_eq!(smtp.messages().len(), 1);
    }

    #[test]
    fn commands_out_of_order_and_unknown_ones_are_refused() {
        let smtp = Smtp::start(Config::default());
        let out = talk(
            smtp.port(),
            &["HELO x", "RCPT TO:<a@b>", "DATA", "STARTTLS", "QUIT"],
        );
        assert!(out.contains("503 5.5.1 Error: need MAIL"), "{out}");
        assert!(out.contains("503 5.5.1 Error: need RCPT"), "{out}");
        assert!(out.contains("502 "), "{out}");
        assert!(smtp.messages().is_empty());
    }
}
