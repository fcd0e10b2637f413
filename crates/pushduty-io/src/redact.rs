//! Finding a secret in text in the forms it travels in, not only as itself: percent-encoded
//! (a URL, a form body), and base64 (HTTP basic authentication's `user:token`, SMTP's
//! `AUTH PLAIN` `\0user\0password` and `AUTH LOGIN` lines). A server that echoes what it
//! received puts those forms into its error, and the error goes to the journal, the log and
//! the screen.
//!
//! Base64 is matched without knowing what surrounds the secret: the secret's bytes fall into
//! the encoder's 3-byte groups at one of three offsets, and at each offset the groups that
//! hold only secret bytes encode to the same characters whatever comes before or after. Where
//! one of those runs is found, the whole base64 word around it is cut out, so the user name
//! and the secret's first and last bytes (which share groups with their neighbours) go too.

use std::ops::Range;

const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The byte ranges of `text` that carry `secret`, literally or encoded; overlapping ones may
/// repeat.
pub fn spans(text: &str, secret: &str) -> Vec<Range<usize>> {
    if secret.is_empty() {
        return Vec::new();
    }
    let mut out = percent_spans(text.as_bytes(), secret.as_bytes());
    for alphabet in [STANDARD, URL_SAFE] {
        for core in base64_cores(secret.as_bytes(), alphabet) {
            out.extend(base64_spans(text, &core, alphabet));
        }
    }
    out
}

/// `text` with every range in `spans` replaced by `with` (overlapping ranges cut once).
pub fn cut(text: &str, mut spans: Vec<Range<usize>>, with: &str) -> String {
    spans.sort_by_key(|r| r.start);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for r in spans {
        if r.end <= at {
            continue;
        }
        if r.start >= at {
            out.push_str(&text[at..r.start]);
            out.push_str(with);
        }
        at = r.end;
    }
    out.push_str(&text[at..]);
    out
}

/// Where `secret` stands with any of its bytes written as `%HH` (either case), or a space as
/// `+`: the literal secret is the case where none is encoded. Each match starts and ends on a
/// character boundary: an encoded byte is ASCII, and a literal one is the secret's own.
fn percent_spans(text: &[u8], secret: &[u8]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < text.len() {
        match match_at(text, start, secret) {
            Some(end) => {
                out.push(start..end);
                start = end;
            }
            None => start += 1,
        }
    }
    out
}

/// The end of `secret` matched at `start`, if it is there.
fn match_at(text: &[u8], start: usize, secret: &[u8]) -> Option<usize> {
    let mut i = start;
    for &want in secret {
        let got = *text.get(i)?;
        if got == want || (want == b' ' && got == b'+') {
            i += 1;
        } else if got == b'%' && hex_byte(text.get(i + 1..i + 3)?) == Some(want) {
            i += 3;
        } else {
            return None;
        }
    }
    Some(i)
}

fn hex_byte(two: &[u8]) -> Option<u8> {
    let digit = |c: u8| (c as char).to_digit(16);
    u8::try_from(digit(two[0])? * 16 + digit(two[1])?).ok()
}

/// For each of the three offsets the secret can start at within base64's 3-byte groups, the
/// characters its whole groups encode to; offsets that leave no whole group give none.
fn base64_cores(secret: &[u8], alphabet: &[u8; 64]) -> Vec<String> {
    (0..3)
        .filter_map(|skip| {
            let rest = secret.get(skip..)?;
            let whole = rest.len() / 3 * 3;
            (whole > 0).then(|| encode(&rest[..whole], alphabet))
        })
        .collect()
}

/// Base64 of `bytes`, whose length is a multiple of 3 (so no padding).
fn encode(bytes: &[u8], alphabet: &[u8; 64]) -> String {
    let mut out = String::with_capacity(bytes.len() / 3 * 4);
    for g in bytes.chunks_exact(3) {
        let n = u32::from(g[0]) << 16 | u32::from(g[1]) << 8 | u32::from(g[2]);
        for shift in [18, 12, 6, 0] {
            out.push(char::from(alphabet[(n >> shift & 63) as usize]));
        }
    }
    out
}

/// Each occurrence of `core`, widened to the whole base64 word around it.
fn base64_spans(text: &str, core: &str, alphabet: &[u8; 64]) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let in_word = |b: u8| alphabet.contains(&b);
    text.match_indices(core)
        .map(|(at, m)| {
            let mut start = at;
            while start > 0 && in_word(bytes[start - 1]) {
                start -= 1;
            }
            let mut end = at + m.len();
            while end < bytes.len() && in_word(bytes[end]) {
                end += 1;
            }
            // Padding ends a word; it never starts one (`key=...` keeps its `=`).
            while end < bytes.len() && bytes[end] == b'=' {
                end += 1;
            }
            start..end
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Base64 with padding, as a client sends it.
    fn b64(s: &[u8]) -> String {
        let mut padded = s.to_vec();
        let pad = (3 - s.len() % 3) % 3;
        padded.extend(std::iter::repeat_n(0, pad));
        let mut e = encode(&padded, STANDARD);
        e.truncate(e.len() - pad);
        e.extend(std::iter::repeat_n('=', pad));
        e
    }

    fn redacted(text: &str, secret: &str) -> String {
        cut(text, spans(text, secret), "[redacted]")
    }

    #[test]
    fn the_encoder_agrees_with_the_known_answers() {
        // RFC 4648's test vectors.
        assert_eq!(b64(b"foobar"), "Zm9vYmFy");
        assert_eq!(b64(b"fooba"), "Zm9vYmE=");
        assert_eq!(b64(b"f"), "Zg==");
    }

    #[test]
    fn basic_auth_is_cut_whatever_the_user_name() {
        let token = "tok-jenkins-7f3a91";
        for user in ["a", "ab", "abc", "andym", "someone.else@example.org"] {
            let header = format!(
                "Authorization: Basic {}",
                b64(format!("{user}:{token}").as_bytes())
            );
            assert_eq!(
                redacted(&format!("got {header}\r\n"), token),
                "got Authorization: Basic [redacted]\r\n",
                "{user}"
            );
        }
    }

    #[test]
    fn smtp_logins_are_cut() {
        let password = "hunter2-but-longer";
        let plain = b64(format!("\0hero\0{password}").as_bytes());
        assert_eq!(
            redacted(&format!("535 5.7.8 AUTH PLAIN {plain} rejected"), password),
            "535 5.7.8 AUTH PLAIN [redacted] rejected"
        );
        // AUTH LOGIN: the user and the password on lines of their own.
        let login = format!("{}\r\n{}\r\n", b64(b"hero"), b64(password.as_bytes()));
        assert_eq!(
            redacted(&login, password),
            format!("{}\r\n[redacted]\r\n", b64(b"hero"))
        );
    }

    #[test]
    fn percent_encoded_forms_are_cut() {
        let key = "k3y/with+chars&more=yes é";
        let forms = [
            key.to_string(),
            "k3y%2Fwith%2Bchars%26more%3Dyes%20%C3%A9".to_string(),
            "k3y%2fwith%2bchars%26more%3dyes+%c3%a9".to_string(),
            // Every byte encoded, as some clients do.
            key.bytes().map(|b| format!("%{b:02X}")).collect(),
        ];
        for form in forms {
            assert_eq!(
                redacted(&format!("POST apikey={form}&padID=x"), key),
                "POST apikey=[redacted]&padID=x",
                "{form}"
            );
        }
    }

    #[test]
    fn url_safe_base64_is_cut_too() {
        // Bytes whose base64 holds `+` and `/` in the standard alphabet.
        let secret = "\u{fb}\u{ff}secret>>>?";
        let standard = b64(secret.as_bytes());
        let url_safe = standard.replace('+', "-").replace('/', "_");
        assert_ne!(standard, url_safe);
        assert_eq!(redacted(&format!("t={url_safe};"), secret), "t=[redacted];");
        assert_eq!(redacted(&format!("t={standard};"), secret), "t=[redacted];");
    }

    #[test]
    fn other_text_is_left_as_it_was() {
        let text = "HTTP 500: Basic realm=\"jenkins\" user=andym sha=0f3a9e1";
        assert_eq!(redacted(text, "tok-jenkins-7f3a91"), text);
        assert_eq!(redacted(text, ""), text);
        // A percent sign that is not an encoding of the secret is not eaten.
        assert_eq!(redacted("100%25 done", "abc"), "100%25 done");
    }

    #[test]
    fn overlapping_finds_are_cut_once() {
        assert_eq!(cut("abcdef", vec![1..3, 2..4, 5..6], "#"), "a#e#");
    }
}
