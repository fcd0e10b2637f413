//! A step's outputs as the details pane shows them: readable lines, not JSON. A list of
//! strings is a line each, a link is a link, an object is `key: value` lines.

use ratatui::text::{Line, Span};
use serde_json::Value;

use crate::tui::theme::Theme;

/// One output, named `key`, as lines indented under the "Outputs:" heading.
pub fn lines<'a>(t: &Theme, key: &str, v: &Value) -> Vec<Line<'a>> {
    // An approval's evidence reads as `show` and the report give it.
    if key == crate::session::evidence::KEY && v.is_object() {
        let mut out = vec![Line::raw("  what the approver saw:")];
        out.extend(
            crate::session::evidence::lines(v)
                .into_iter()
                .map(|l| Line::raw(format!("    {l}"))),
        );
        return out;
    }
    match scalar(t, v) {
        Some(span) => vec![Line::from(vec![Span::raw(format!("  {key}: ")), span])],
        None => {
            let mut out = vec![Line::raw(format!("  {key}:"))];
            nested(t, v, 4, &mut out);
            out
        }
    }
}

/// A value that fits on its name's line: a number, a word, a one-line text, a link, an
/// empty list.
fn scalar<'a>(t: &Theme, v: &Value) -> Option<Span<'a>> {
    Some(match v {
        Value::Null => Span::styled("(none)", t.dim),
        Value::Bool(b) => Span::styled(if *b { "yes" } else { "no" }, t.code),
        Value::Number(n) => Span::styled(n.to_string(), t.code),
        Value::String(s) if s.contains('\n') => return None,
        Value::String(s) if is_link(s) => Span::styled(s.clone(), t.link),
        Value::String(s) => Span::styled(s.clone(), t.code),
        Value::Array(a) if a.is_empty() => Span::styled("(none)", t.dim),
        Value::Object(m) if m.is_empty() => Span::styled("(none)", t.dim),
        _ => return None,
    })
}

fn is_link(s: &str) -> bool {
    (s.starts_with("https://") || s.starts_with("http://")) && !s.contains(char::is_whitespace)
}

/// The lines of a list or an object (or a text of several lines), `indent` cells in.
fn nested<'a>(t: &Theme, v: &Value, indent: usize, out: &mut Vec<Line<'a>>) {
    let pad = " ".repeat(indent);
    match v {
        Value::String(s) => out.extend(s.lines().map(|l| Line::raw(format!("{pad}{l}")))),
        Value::Array(items) => {
            for item in items {
                match (item, scalar(t, item)) {
                    // A list of strings: a line each, as they read.
                    (_, Some(span)) => out.push(Line::from(vec![Span::raw(pad.clone()), span])),
                    // An entry of several fields: its fields, the first marked as a new entry.
                    (Value::Object(_), None) => {
                        let from = out.len();
                        nested(t, item, indent + 2, out);
                        if let Some(first) = out.get_mut(from)
                            && let Some(s) = first.spans.first_mut()
                        {
                            s.content = format!("{pad}- {}", s.content.trim_start()).into();
                        }
                    }
                    (_, None) => nested(t, item, indent + 2, out),
                }
            }
        }
        Value::Object(m) => {
            for (k, item) in m {
                match scalar(t, item) {
                    Some(span) => {
                        out.push(Line::from(vec![Span::raw(format!("{pad}{k}: ")), span]))
                    }
                    None => {
                        out.push(Line::raw(format!("{pad}{k}:")));
                        nested(t, item, indent + 2, out);
                    }
                }
            }
        }
        other => {
            if let Some(span) = scalar(t, other) {
                out.push(Line::from(vec![Span::raw(pad), span]));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn text(t: &Theme, key: &str, v: Value) -> Vec<String> {
        lines(t, key, &v).iter().map(ToString::to_string).collect()
    }

    #[test]
    fn outputs_read_as_lines_links_and_fields() {
        let t = Theme::color();
        assert_eq!(text(&t, "build_id", json!(5)), ["  build_id: 5"]);
        assert_eq!(
            text(&t, "compare", json!("https://github.com/o/r/compare/a...b")),
            ["  compare: https://github.com/o/r/compare/a...b"]
        );
        let link = lines(&t, "compare", &json!("https://example.com/x"));
        assert_eq!(link[0].spans[1].style, t.link);
        assert_eq!(
            text(
                &t,
                "picked",
                json!(["abc1234 Fix search", "def5678 Fix login"])
            ),
            [
                "  picked:",
                "    abc1234 Fix search",
                "    def5678 Fix login"
            ]
        );
        assert_eq!(
            text(
                &t,
                "build",
                json!({"number": 12, "url": "https://ci/12", "ok": true})
            ),
            [
                "  build:",
                "    number: 12",
                "    ok: yes",
                "    url: https://ci/12"
            ]
        );
        assert_eq!(
            text(
                &t,
                "blockers",
                json!([
                    {"number": 7, "outcome": "resolved"},
                    {"number": 9, "commits": ["abc1234"]}
                ])
            ),
            [
                "  blockers:",
                "    - number: 7",
                "      outcome: resolved",
                "    - commits:",
                "        abc1234",
                "      number: 9",
            ]
        );
        assert_eq!(text(&t, "none", json!([])), ["  none: (none)"]);
        assert_eq!(
            text(&t, "table", json!("a\nb")),
            ["  table:", "    a", "    b"]
        );
    }
}
