//! The HTTP/1.1 every HTTP stand-in speaks: a request read off the socket (answering `100
//! Continue` to a client that waits for it), query and form decoding, and one whole answer
//! per connection, `Connection: close`; or, as a failure to play, no answer at all, or one
//! whose body never ends ([`WireFault`]).
//!
//! Bodies are JSON written by serde_json, so every string in them is escaped. `json!` sorts
//! an object's keys; where the real service writes them in another order, the stand-in keeps
//! that order with [`object!`] (serde_json's `preserve_order` would change every crate's maps).

use serde_json::Value;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// One HTTP request as read off the socket.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// The target's path, and its query string (empty without one).
    pub(crate) fn path_and_query(&self) -> (&str, &str) {
        self.target.split_once('?').unwrap_or((&self.target, ""))
    }

    /// "METHOD TARGET", as the stand-ins log what they were asked.
    pub(crate) fn line(&self) -> String {
        format!("{} {}", self.method, self.target)
    }
}

/// A header's value by name, which HTTP compares without case.
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    let found = headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name));
    found.map(|(_, v)| v.as_str())
}

/// The request on `stream`, its body read to its `Content-Length`; `None` when the peer
/// leaves (or stops sending) before it is whole, or sends no HTTP.
pub fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if buf.len() > 64 * 1024 {
            return None;
        }
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = std::str::from_utf8(&buf[..head_end]).ok()?;
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let target = first.next()?.to_string();
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut req = Request {
        method,
        target,
        headers,
        body: buf[head_end + 4..].to_vec(),
    };
    let len: usize = req
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let expects = req
        .header("expect")
        .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"));
    if expects && req.body.len() < len {
        stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").ok()?;
    }
    while req.body.len() < len {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        req.body.extend_from_slice(&chunk[..n]);
    }
    req.body.truncate(len);
    Some(req)
}

/// `application/x-www-form-urlencoded` pairs (a form body or a query string), `+` and `%XX`
/// decoded; a `%` without two hex digits after it is kept as it is.
pub(crate) fn form(raw: &[u8]) -> Vec<(String, String)> {
    raw.split(|&b| b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.iter().position(|&b| b == b'=') {
            Some(eq) => (decode(&pair[..eq]), decode(&pair[eq + 1..])),
            None => (decode(pair), String::new()),
        })
        .collect()
}

pub(crate) fn decode(raw: &[u8]) -> String {
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let escaped = match raw.get(i..i + 3) {
            Some([b'%', hi, lo]) => hex(*hi).zip(hex(*lo)).map(|(h, l)| (h * 16 + l) as u8),
            _ => None,
        };
        match (escaped, raw[i]) {
            (Some(byte), _) => {
                out.push(byte);
                i += 3;
                continue;
            }
            (None, b'+') => out.push(b' '),
            (None, other) => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The reason phrase of the statuses the stand-ins answer.
pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// One whole answer: the status line, `Content-Type`, `Content-Length`, `Connection: close`,
/// `headers` in order, then the body.
pub(crate) struct Response {
    pub status: u16,
    content_type: &'static str,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

impl Response {
    pub fn new(status: u16, content_type: &'static str, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            content_type,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// With one more header, after those it has.
    pub fn with(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// With a header before those it has: the one a server puts on every answer.
    pub fn headed(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.insert(0, (name, value.into()));
        self
    }

    /// The body cut in the middle, as a broken proxy or a crashed worker leaves it: on a char
    /// boundary, so that what fails is the JSON, not the UTF-8.
    pub fn cut_in_half(mut self) -> Self {
        let mut end = self.body.len() / 2;
        // Back to the start of a character: UTF-8 continuation bytes are 0b10xx_xxxx.
        while end > 0 && self.body.get(end).is_some_and(|b| b & 0xC0 == 0x80) {
            end -= 1;
        }
        self.body.truncate(end);
        self
    }

    fn bytes(&self) -> Vec<u8> {
        let mut head = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n",
            self.status,
            reason(self.status),
            self.content_type,
            self.body.len()
        );
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        let mut out = head.into_bytes();
        out.extend_from_slice(&self.body);
        out
    }
}

/// What any HTTP stand-in can be made to do on every request, whatever its API (set with the
/// stand-in's `set_wire_fault`): the failures of a broken proxy or a runaway server.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WireFault {
    #[default]
    None,
    /// The request is read and never answered.
    Hang,
    /// 200 with a chunked JSON-looking body sent as fast as the client reads, never ending.
    Endless,
    /// 200 with a chunked body of a few bytes every 100 ms, never ending.
    Trickle,
    /// This status with an endless body, as an error page that never ends.
    EndlessError(u16),
}

/// One piece of an endless body: the start of a JSON array that never closes.
const FLOOD: &[u8] = b"{\"id\":\"0\",\"title\":\"more\"},";

/// The answering side of one connection: it answers once, or never, and closes when dropped.
pub(crate) struct Conn<'a> {
    pub stream: TcpStream,
    /// The server's: set when it stops.
    pub stop: &'a AtomicBool,
}

impl Conn<'_> {
    /// Writes the answer (to a peer that left, nothing).
    pub fn send(&mut self, response: &Response) {
        let _ = self.stream.write_all(&response.bytes());
        let _ = self.stream.flush();
    }

    /// Plays `fault` (for `WireFault::None`, nothing: the stand-in answers).
    pub fn play(mut self, fault: WireFault) {
        match fault {
            WireFault::None => {}
            WireFault::Hang => self.hang(),
            WireFault::Endless => self.endless(200, false),
            WireFault::Trickle => self.endless(200, true),
            WireFault::EndlessError(status) => self.endless(status, false),
        }
    }

    /// A chunked answer whose body never ends, until the peer leaves or the server stops:
    /// big chunks back to back, or (`trickle`) a few bytes every 100 ms.
    fn endless(&mut self, status: u16, trickle: bool) {
        let head = format!(
            "HTTP/1.1 {status} {}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
            reason(status)
        );
        // A stopped server must not wait on a peer that reads nothing.
        let _ = self
            .stream
            .set_write_timeout(Some(Duration::from_millis(100)));
        if !self.push(head.as_bytes()) || !self.push(b"1\r\n[\r\n") {
            return;
        }
        // Some 56 KiB at a time; a trickle sends one piece.
        let body = FLOOD.repeat(if trickle { 1 } else { 2048 });
        let mut chunk = format!("{:x}\r\n", body.len()).into_bytes();
        chunk.extend_from_slice(&body);
        chunk.extend_from_slice(b"\r\n");
        while self.push(&chunk) {
            if trickle {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }

    /// Writes all of `bytes`; false once the peer is gone or the server stops.
    fn push(&mut self, mut bytes: &[u8]) -> bool {
        while !bytes.is_empty() {
            if self.stop.load(Ordering::SeqCst) {
                return false;
            }
            match self.stream.write(bytes) {
                Ok(0) => return false,
                Ok(n) => bytes = &bytes[n..],
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        true
    }

    /// Holds the connection open without answering until the peer leaves or the server stops.
    pub fn hang(&mut self) {
        let _ = self
            .stream
            .set_read_timeout(Some(Duration::from_millis(50)));
        let mut buf = [0u8; 512];
        while !self.stop.load(Ordering::SeqCst) {
            match self.stream.read(&mut buf) {
                Ok(0) => return,
                Ok(_) => {}
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(_) => return,
            }
        }
    }
}

/// JSON text, every key and value of it written by serde_json.
#[derive(Clone, Debug)]
pub(crate) struct Json(String);

impl Json {
    /// `{"key":value,...}` with the keys in the order given.
    pub fn object<'a>(fields: impl IntoIterator<Item = (&'a str, Json)>) -> Self {
        let fields: Vec<String> = fields
            .into_iter()
            .map(|(key, value)| format!("{}:{}", Value::from(key), value.0))
            .collect();
        Self(format!("{{{}}}", fields.join(",")))
    }

    /// `[item,...]`.
    pub fn array(items: impl IntoIterator<Item = Json>) -> Self {
        let items: Vec<String> = items.into_iter().map(|item| item.0).collect();
        Self(format!("[{}]", items.join(",")))
    }
}

impl From<Json> for Vec<u8> {
    fn from(json: Json) -> Self {
        json.0.into_bytes()
    }
}

impl std::fmt::Display for Json {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What an [`object!`] field may hold: a JSON value, or JSON already written.
pub(crate) trait ToJson {
    fn to_json(self) -> Json;
}

impl ToJson for Json {
    fn to_json(self) -> Json {
        self
    }
}

impl ToJson for Vec<Json> {
    fn to_json(self) -> Json {
        Json::array(self)
    }
}

impl<T: ToJson> ToJson for Option<T> {
    fn to_json(self) -> Json {
        self.map_or_else(|| Value::Null.to_json(), ToJson::to_json)
    }
}

impl ToJson for &String {
    fn to_json(self) -> Json {
        self.as_str().to_json()
    }
}

macro_rules! to_json_as_value {
    ($($t:ty),*) => {$(
        impl ToJson for $t {
            fn to_json(self) -> Json {
                Json(Value::from(self).to_string())
            }
        }
    )*};
}

to_json_as_value!(Value, &str, String, bool, u8, i32, i64, u64, usize);

/// `object!{"key": value, ...}`: a JSON object with its keys in the order written. A value
/// is anything `json!` makes, a string, number or bool, an `Option` of one (`None`: null),
/// or JSON made here (an `object!`, a `Vec` of them).
macro_rules! object {
    ($($key:literal: $value:expr),* $(,)?) => {
        $crate::http::Json::object([$(($key, $crate::http::ToJson::to_json($value))),*])
    };
}
pub(crate) use object;

/// The tests' client: `METHOD url` with `headers` and `body`, the whole answer read; its
/// status and body.
#[cfg(test)]
pub(crate) fn call(method: &str, url: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    let rest = url.trim_start_matches("http://");
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let mut s = TcpStream::connect(host).unwrap();
    let mut request = format!(
        "{method} /{path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    s.write_all(format!("{request}\r\n{body}").as_bytes())
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out[9..12].parse().unwrap();
    let body = out.split_once("\r\n\r\n").unwrap().1.to_string();
    (status, body)
}

/// [`call`] for a `GET`.
#[cfg(test)]
pub(crate) fn get(url: &str, headers: &[(&str, &str)]) -> (u16, String) {
    call("GET", url, headers, "")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_object_keeps_its_order_and_escapes_every_string() {
        let nested = object! {"z": 1, "a": None::<&str>};
        let o = object! {
            "b\"": "a \"quote\", a \\ and a\nnewline\u{1}",
            "a": json!({"y": [1, 2], "x": true}),
            "n": nested,
            "l": vec![object! {"k": "v"}],
        };
        let text = o.to_string();
        assert_eq!(
            text,
            r#"{"b\"":"a \"quote\", a \\ and a\nnewline\u0001","a":{"x":true,"y":[1,2]},"n":{"z":1,"a":null},"l":[{"k":"v"}]}"#
        );
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back["b\""], "a \"quote\", a \\ and a\nnewline\u{1}");
    }

    #[test]
    fn a_cut_body_ends_on_a_char_boundary() {
        let cut = Response::new(200, "application/json", "[\"ééééé\"]").cut_in_half();
        assert!(std::str::from_utf8(&cut.body).is_ok());
        assert!(cut.body.len() < 7);
    }

    /// Sends a GET to `url` and reads what comes for `for_ms`, up to `most` bytes.
    fn read_for(url: &str, for_ms: u64, most: usize) -> Vec<u8> {
        let mut s = TcpStream::connect(url.trim_start_matches("http://")).unwrap();
        s.write_all(b"GET /render HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        s.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
        let end = std::time::Instant::now() + Duration::from_millis(for_ms);
        let (mut got, mut buf) = (Vec::new(), vec![0u8; 65536]);
        while std::time::Instant::now() < end && got.len() < most {
            match s.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(_) => {}
            }
        }
        got
    }

    #[test]
    fn a_wire_fault_sends_a_body_that_never_ends_fast_or_slowly() {
        let g = crate::graphite::Graphite::try_start(crate::graphite::Config::default()).unwrap();
        g.set_wire_fault(WireFault::Endless);
        // Far more than any answer holds, and still going.
        let got = read_for(g.url(), 10_000, 32 << 20);
        assert!(got.len() >= 32 << 20, "the body ended");
        let head = String::from_utf8_lossy(&got[..200]);
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        assert!(head.contains("Transfer-Encoding: chunked"), "{head}");

        g.set_wire_fault(WireFault::Trickle);
        let got = read_for(g.url(), 600, usize::MAX);
        let text = String::from_utf8_lossy(&got);
        assert!(text.contains(r#"{"id":"0""#), "{text}");
        assert!(got.len() < 2048, "not a trickle: {} bytes", got.len());

        g.set_wire_fault(WireFault::EndlessError(503));
        let got = read_for(g.url(), 2_000, 1 << 20);
        assert!(got.starts_with(b"HTTP/1.1 503 Service Unavailable\r\n"));
        assert!(got.len() >= 1 << 20);

        // Cleared, the stand-in's own API answers again.
        g.set_wire_fault(WireFault::None);
        assert_eq!(
            get(&format!("{}/metrics/find?query=x", g.url()), &[]).0,
            200
        );
    }

    #[test]
    fn forms_decode_plus_and_escapes_and_keep_bad_escapes() {
        assert_eq!(
            form(b"a=1+2&b=%41%zz%&c"),
            vec![
                ("a".into(), "1 2".into()),
                ("b".into(), "A%zz%".into()),
                ("c".into(), String::new())
            ]
        );
    }
}
