//! Text that came from data (a runbook, a config, a commit subject, an operator name, a
//! service's answer) is printed to a terminal only through [`clean`]: control characters
//! become visible escapes, so a string cannot retitle the terminal, clear it or move the cursor.

use std::borrow::Cow;

/// Whether `c` must not reach a terminal as it is. Newlines and tabs are layout, not control.
pub fn is_hostile(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `s` with every control character (C0 but newline and tab, DEL, C1, bidi overrides)
/// written as a Rust-style escape (`\u{1b}`). Borrowed when there is nothing to escape.
pub fn clean(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_hostile) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_hostile(c) {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// The same for one line: newlines and tabs are escaped too (a name, a title, a subject).
pub fn clean_line(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c == '\n' || c == '\t' || is_hostile(c)) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| {
                if c == '\n' || c == '\t' || is_hostile(c) {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

/// JSON text with every hostile character that JSON allows raw (DEL, C1, bidi overrides)
/// written as a `\uXXXX` escape: the same values for a program, nothing a terminal obeys
/// when a person prints it. (C0 controls are escaped by every JSON writer already; all the
/// others are in the Basic Multilingual Plane and can only stand inside strings.)
pub fn json_escaped(text: String) -> String {
    if !text.chars().any(is_hostile) {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_hostile(c) {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_a_terminal_would_obey() {
        assert_eq!(clean("plain\ttext\n"), "plain\ttext\n");
        assert!(matches!(clean("plain"), Cow::Borrowed(_)));
        assert_eq!(clean("\x1b]0;pwned\x07x"), "\\u{1b}]0;pwned\\u{7}x");
        assert_eq!(clean("a\u{9b}2J"), "a\\u{9b}2J");
        assert_eq!(clean("\r\x7f"), "\\u{d}\\u{7f}");
        assert_eq!(clean("\u{202e}abc"), "\\u{202e}abc");
        assert_eq!(clean_line("a\nb\x1b"), "a\\nb\\u{1b}");
    }

    #[test]
    fn json_keeps_its_values_and_loses_what_a_terminal_obeys() {
        let value = serde_json::json!({ "t": "a\u{9b}2J \u{202e}cba \u{7f} \x1b[31m é" });
        let text = json_escaped(value.to_string());
        assert!(!text.chars().any(is_hostile), "{text}");
        assert!(
            text.contains("\\u009b") && text.contains("\\u202e"),
            "{text}"
        );
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, value);
    }
}
