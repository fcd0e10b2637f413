//! A shell step's command as a script and its values, kept apart: every `{{ value }}` becomes
//! a reference to an environment variable (`"$PUSHDUTY_BUILD_ID"`) and the value travels in
//! that variable, so no value is ever read as shell code, whatever quotes or `$(...)` it holds.
//! A value must stand outside quotes, heredocs and expansions (see [`place`]); `check` says so
//! before a push, and the renderer refuses again on what it actually produced.
//!
//! How the values are found in the output: each `{{ expr }}` is rewritten to pass its value
//! through a filter that wraps it, hex-encoded, between two private-use characters. A value
//! cannot forge the wrapping (it is hex), and the command's own text may not hold those
//! characters, so what lies between them is exactly one value.

pub mod place;

use std::collections::HashMap;

use anyhow::{Result, anyhow, bail};
use serde_json::Value;

use crate::preview::{Filler, missing_name, placeholder, shell_quote};
use crate::templates::guard::{at, find_endraw, scan_tag};
use crate::templates::refs::TemplateError;
use place::{Piece, Place};

/// The filter the rewritten command passes each value through.
pub const MARK_FILTER: &str = "pushduty_value";
const OPEN: char = '\u{e000}';
const CLOSE: char = '\u{e001}';
/// The local the rewritten command evaluates each value into.
const LOCAL: &str = "__pushduty_value";
/// Blocks that could rewrite or hide the values' output: not in a shell command.
const REFUSED_BLOCKS: &[&str] = &["filter", "macro", "include", "import", "extends", "block"];

/// A command written by a person elsewhere (a release body) as a shell step's template that
/// renders to exactly it: no value is filled in. `None` when it cannot be said so (it holds
/// the end of a raw block, or the characters that mark values).
pub fn literal(command: &str) -> Option<String> {
    if command.contains(OPEN) || command.contains(CLOSE) || command.trim().is_empty() {
        return None;
    }
    if !["{{", "{%", "{#"].iter().any(|d| command.contains(d)) {
        return Some(command.to_string());
    }
    if command.contains("endraw") {
        return None;
    }
    Some(format!("{{% raw %}}{command}{{% endraw %}}"))
}

/// A command ready to run: `sh -c script` with `values` in its environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShellCommand {
    pub script: String,
    /// Environment variables and their values, in the order the script first uses them.
    pub values: Vec<(String, String)>,
}

impl ShellCommand {
    /// The command as one shell line that does exactly what pushduty runs:
    /// `PUSHDUTY_TAG=2026.12.10 sh -c 'git push origin "$PUSHDUTY_TAG"'`.
    /// A placeholder shows as it is.
    pub fn shown(&self) -> String {
        let mut out = String::new();
        for (name, value) in &self.values {
            let v = if is_placeholder(value) {
                value.clone()
            } else {
                shell_quote(value)
            };
            out.push_str(&format!("{name}={v} "));
        }
        out.push_str("sh -c ");
        out.push_str(&shell_quote(&self.script));
        out
    }
}

/// A value a preview put in for one not known yet (`⟨build_id⟩`): shown as it is, so that
/// nobody takes it for a quoted value.
fn is_placeholder(v: &str) -> bool {
    v.strip_prefix('\u{27e8}')
        .and_then(|v| v.strip_suffix('\u{27e9}'))
        .is_some_and(|name| {
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_alphanumeric() || "_.-: ".contains(c))
        })
}

/// A command template read once: the pieces a shell sees, the template tera renders, and each
/// value's tag and variable name.
struct Source<'a> {
    pieces: Vec<Piece<'a>>,
    /// Where each value's tag starts, and its text.
    tags: Vec<(usize, &'a str)>,
    names: Vec<String>,
    template: String,
}

/// Reads a command template; refuses what the script/values split cannot keep apart.
fn read<'a>(text: &'a str) -> Result<Source<'a>, TemplateError> {
    let mut s = Source {
        pieces: Vec::new(),
        tags: Vec::new(),
        names: Vec::new(),
        template: String::with_capacity(text.len() * 2),
    };
    let b = text.as_bytes();
    let mut i = 0;
    let mut literal = 0;
    let flush = |s: &mut Source<'a>, from: usize, to: usize| -> Result<(), TemplateError> {
        let t = &text[from..to];
        if let Some(off) = t.find([OPEN, CLOSE]) {
            return Err(at(
                text,
                from + off,
                "a shell command cannot hold the characters U+E000 and U+E001",
            ));
        }
        if !t.is_empty() {
            s.pieces.push(Piece::Text(t));
            s.template.push_str(t);
        }
        Ok(())
    };
    while i + 1 < b.len() {
        if b[i] != b'{' || !matches!(b[i + 1], b'{' | b'%' | b'#') {
            i += 1;
            continue;
        }
        flush(&mut s, literal, i)?;
        let close = match b[i + 1] {
            b'{' => "}}",
            b'%' => "%}",
            _ => "#}",
        };
        let end = if close == "#}" {
            text[i + 2..].find("#}").map(|n| i + 2 + n)
        } else {
            scan_tag(text, i, close)?
        };
        let Some(end) = end else {
            // Unclosed: tera reports it, with its position, when the template is parsed.
            s.template.push_str(&text[i..]);
            return Ok(s);
        };
        let tag = &text[i..end + 2];
        let inner = &text[i + 2..end];
        match close {
            "}}" => {
                let left = inner.starts_with('-');
                let right = inner.ends_with('-') && inner.len() > 1;
                let expr = inner.trim_start_matches('-');
                let expr = if right { &expr[..expr.len() - 1] } else { expr };
                let k = s.names.len();
                s.names.push(variable_name(expr));
                s.tags.push((i, tag));
                s.pieces.push(Piece::Value);
                let (l, r) = (if left { "-" } else { "" }, if right { "-" } else { "" });
                s.template.push_str(&format!(
                    "{{%{l} set {LOCAL} = {expr} %}}{{{{ {LOCAL} | {MARK_FILTER}(n={k}) {r}}}}}"
                ));
                i = end + 2;
            }
            "%}" => {
                let word = inner
                    .trim_start_matches('-')
                    .split_whitespace()
                    .next()
                    .unwrap_or("");
                if REFUSED_BLOCKS.contains(&word) {
                    return Err(at(
                        text,
                        i,
                        format!(
                            "`{{% {word} %}}` cannot be used in a shell command: the values must \
                             reach the command as they are"
                        ),
                    ));
                }
                if word == "raw" {
                    let after = find_endraw(text, end).unwrap_or(text.len());
                    let body = &text[end + 2..after];
                    // The body ends with its `{% endraw %}`; what precedes it is text.
                    let inside = body.rfind("{%").map_or(body, |n| &body[..n]);
                    if !inside.is_empty() {
                        s.pieces.push(Piece::Text(inside));
                    }
                    s.template.push_str(&text[i..after]);
                    i = after;
                } else {
                    s.template.push_str(tag);
                    i = end + 2;
                }
            }
            _ => {
                s.template.push_str(tag);
                i = end + 2;
            }
        }
        literal = i;
    }
    flush(&mut s, literal, text.len())?;
    Ok(s)
}

/// `PUSHDUTY_` and the value's variable path (`repos.olympia.tag` gives
/// `PUSHDUTY_REPOS_OLYMPIA_TAG`); `PUSHDUTY_VALUE` for anything else.
fn variable_name(expr: &str) -> String {
    let head = expr.split('|').next().unwrap_or("").trim();
    let path = !head.is_empty()
        && !head.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && head
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        && !head.contains("..")
        && !head.ends_with('.');
    let body = if path {
        head.replace('.', "_").to_ascii_uppercase()
    } else {
        "VALUE".to_string()
    };
    format!("PUSHDUTY_{body}")
}

/// The values a command's text cannot take safely, with where they are: what `check` says.
pub fn check(command: &str) -> Vec<TemplateError> {
    match read(command) {
        Ok(s) => refusals(command, &s),
        Err(e) => vec![e],
    }
}

/// The values of a read command that stand where the shell would read them again.
fn refusals(command: &str, s: &Source<'_>) -> Vec<TemplateError> {
    place::places(&s.pieces)
        .into_iter()
        .zip(&s.tags)
        .filter(|(p, _)| !p.allowed())
        .map(|(p, (off, tag))| at(command, *off, p.refusal(tag)))
        .collect()
}

/// The filter behind [`MARK_FILTER`]: wraps a value so the split can find it.
pub fn mark(value: &tera::Value, args: &HashMap<String, tera::Value>) -> tera::Result<tera::Value> {
    let n = args
        .get("n")
        .and_then(tera::Value::as_u64)
        .ok_or_else(|| tera::Error::msg(format!("`{MARK_FILTER}` needs `n`")))?;
    let text = match value {
        tera::Value::String(s) => s.clone(),
        tera::Value::Null => String::new(),
        tera::Value::Bool(_) | tera::Value::Number(_) => value.to_string(),
        other => serde_json::to_string(other).map_err(tera::Error::json)?,
    };
    let mut out = String::with_capacity(text.len() * 2 + 16);
    out.push(OPEN);
    out.push_str(&n.to_string());
    out.push(':');
    for byte in text.bytes() {
        out.push_str(&format!("{byte:02x}"));
    }
    out.push(CLOSE);
    Ok(tera::Value::String(out))
}

enum Part {
    Text(String),
    Value { name: usize, value: String },
}

/// Splits a rendered command into its text and its values.
fn split(rendered: &str, names: usize) -> Result<Vec<Part>> {
    let mut parts = Vec::new();
    let mut rest = rendered;
    while let Some(open) = rest.find(OPEN) {
        if open > 0 {
            parts.push(Part::Text(rest[..open].to_string()));
        }
        let after = &rest[open + OPEN.len_utf8()..];
        let close = after
            .find(CLOSE)
            .ok_or_else(|| anyhow!("a value's end is missing from the rendered command"))?;
        let (n, hex) = after[..close]
            .split_once(':')
            .ok_or_else(|| anyhow!("a value in the rendered command is malformed"))?;
        let name: usize = n
            .parse()
            .ok()
            .filter(|n| *n < names)
            .ok_or_else(|| anyhow!("a value in the rendered command is malformed"))?;
        let bytes = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(hex.get(i..i + 2).unwrap_or("zz"), 16))
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|_| anyhow!("a value in the rendered command is malformed"))?;
        let value = String::from_utf8(bytes)
            .map_err(|_| anyhow!("a value in the rendered command is not UTF-8"))?;
        parts.push(Part::Value { name, value });
        rest = &after[close + CLOSE.len_utf8()..];
    }
    if rest.contains(CLOSE) {
        bail!("a value's start is missing from the rendered command");
    }
    if !rest.is_empty() {
        parts.push(Part::Text(rest.to_string()));
    }
    Ok(parts)
}

/// Renders a shell step's command: the script with every value replaced by a reference to
/// its variable, and the variables. `avoid` are names the step passes through itself (its
/// `env`), which the values must not shadow. Fails on a value not known yet (tera names
/// it), on a value where the shell would read it again, and on a value holding a NUL byte.
pub fn prepare(command: &str, ctx: &Value, avoid: &[String]) -> Result<ShellCommand> {
    let src = read(command).map_err(|e| {
        anyhow!(
            "the command is refused at {}:{}: {}",
            e.line,
            e.col,
            e.message
        )
    })?;
    if let Some(e) = refusals(command, &src).into_iter().next() {
        bail!(
            "the command is refused at {}:{}: {}",
            e.line,
            e.col,
            e.message
        );
    }
    let rendered = crate::templates::render(&src.template, ctx)?;
    let parts = split(&rendered, src.names.len())?;
    let pieces: Vec<Piece<'_>> = parts
        .iter()
        .map(|p| match p {
            Part::Text(t) => Piece::Text(t),
            Part::Value { .. } => Piece::Value,
        })
        .collect();
    // What a `{% if %}` put around a value counts too.
    let places = place::places(&pieces);
    let mut places = places.into_iter();
    let mut cmd = ShellCommand {
        script: String::with_capacity(rendered.len()),
        values: Vec::new(),
    };
    for part in parts {
        match part {
            Part::Text(t) => cmd.script.push_str(&t),
            Part::Value { name, value } => {
                let (_, tag) = src.tags[name];
                let place = places.next().unwrap_or(Place::Word);
                if !place.allowed() {
                    bail!("the command is refused: {}", place.refusal(tag));
                }
                if value.contains('\0') {
                    bail!("the value of `{tag}` holds a NUL byte, which no command can receive");
                }
                let var = cmd.variable(&src.names[name], value, avoid);
                cmd.script.push_str(&format!("\"${var}\""));
            }
        }
    }
    Ok(cmd)
}

impl ShellCommand {
    /// The variable that carries `value`: the name its expression gives, or that name with a
    /// number when the name already carries another value (a loop's items).
    fn variable(&mut self, base: &str, value: String, avoid: &[String]) -> String {
        let mut n = 1;
        loop {
            let name = if n == 1 {
                base.to_string()
            } else {
                format!("{base}_{n}")
            };
            n += 1;
            if avoid.contains(&name) {
                continue;
            }
            match self.values.iter().find(|(k, _)| *k == name) {
                Some((_, v)) if *v == value => return name,
                Some(_) => continue,
                None => {
                    self.values.push((name.clone(), value));
                    return name;
                }
            }
        }
    }
}

/// The command for a preview: as [`prepare`], with a placeholder for each value not known yet
/// (noted on the filler). A command that cannot be prepared shows as written.
pub fn preview(command: &str, fl: &Filler<'_>, avoid: &[String]) -> String {
    let mut ctx: Option<Value> = None;
    // One missing value per try; a command reads a handful.
    for _ in 0..32 {
        match prepare(command, ctx.as_ref().unwrap_or(fl.ctx), avoid) {
            Ok(cmd) => return cmd.shown(),
            Err(e) => {
                let msg = format!("{e:#}");
                let Some(name) = missing_name(&msg).map(str::to_string) else {
                    return fl.miss(msg, format!("sh -c {}", shell_quote(command)));
                };
                let ph = fl.miss(format!("`{name}` is not set yet"), placeholder(&name));
                let c = ctx.get_or_insert_with(|| fl.ctx.clone());
                if !set_path(c, &name, Value::String(ph)) {
                    return format!("sh -c {}", shell_quote(command));
                }
            }
        }
    }
    format!("sh -c {}", shell_quote(command))
}

/// Sets a dotted path in a JSON tree, making the tables on the way; false where a value that
/// is not a table is in the way.
fn set_path(v: &mut Value, path: &str, to: Value) -> bool {
    let mut cur = v;
    let mut segs = path.split('.').peekable();
    while let Some(seg) = segs.next() {
        if cur.is_null() {
            *cur = Value::Object(serde_json::Map::new());
        }
        let Some(map) = cur.as_object_mut() else {
            return false;
        };
        if segs.peek().is_none() {
            map.insert(seg.to_string(), to);
            return true;
        }
        cur = map.entry(seg.to_string()).or_insert(Value::Null);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_command_from_a_release_renders_to_exactly_itself() {
        for cmd in [
            "./manage.py addnewversion firefox '109.0'",
            "echo {{ build_id }} {% if x %}y{% endif %} {# no #} ${HOME} $(date)",
            "awk '{print $1}' < list",
        ] {
            let template = literal(cmd).unwrap();
            let c = prepare(&template, &ctx(), &[]).unwrap();
            assert_eq!(c.script, cmd, "{template}");
            assert!(c.values.is_empty(), "no value is filled in: {c:?}");
        }
        assert_eq!(literal("echo {% endraw %}{{ build_id }}"), None);
        assert_eq!(literal("echo \u{e000}"), None);
        assert_eq!(literal("  "), None);
    }

    fn ctx() -> Value {
        json!({
            "build_id": "$(touch PWNED)",
            "tag": "2026.12.10",
            "repos": {"olympia": {"tag": "2026.12.10"}},
            "commits": [{"subject": "Fix typo \"$(touch PWNED_commit)\""}, {"subject": "b'c"}],
            "n": 3,
        })
    }

    #[test]
    fn values_travel_in_variables_never_in_the_script() {
        let c = prepare("echo deploying {{ build_id }} v{{ tag }}.tgz", &ctx(), &[]).unwrap();
        assert_eq!(
            c.script,
            "echo deploying \"$PUSHDUTY_BUILD_ID\" v\"$PUSHDUTY_TAG\".tgz"
        );
        assert_eq!(
            c.values,
            [
                (
                    "PUSHDUTY_BUILD_ID".to_string(),
                    "$(touch PWNED)".to_string()
                ),
                ("PUSHDUTY_TAG".to_string(), "2026.12.10".to_string()),
            ]
        );
        assert_eq!(
            c.shown(),
            "PUSHDUTY_BUILD_ID='$(touch PWNED)' PUSHDUTY_TAG=2026.12.10 sh -c 'echo deploying \
             \"$PUSHDUTY_BUILD_ID\" v\"$PUSHDUTY_TAG\".tgz'"
        );
    }

    #[test]
    fn loops_filters_and_expressions_each_get_a_variable() {
        let c = prepare(
            "{% for c in commits %}echo {{ c.subject }};{% endfor %} echo {{ tag ~ '-' ~ n }} {{ repos.olympia.tag | upper }} {{ n }} {{ tag }}",
            &ctx(),
            &["PUSHDUTY_TAG".to_string()],
        )
        .unwrap();
        assert_eq!(
            c.script,
            "echo \"$PUSHDUTY_C_SUBJECT\";echo \"$PUSHDUTY_C_SUBJECT_2\"; echo \"$PUSHDUTY_VALUE\" \
             \"$PUSHDUTY_REPOS_OLYMPIA_TAG\" \"$PUSHDUTY_N\" \"$PUSHDUTY_TAG_2\""
        );
        let v: HashMap<_, _> = c.values.iter().cloned().collect();
        assert_eq!(
            v["PUSHDUTY_C_SUBJECT"],
            "Fix typo \"$(touch PWNED_commit)\""
        );
        assert_eq!(v["PUSHDUTY_C_SUBJECT_2"], "b'c");
        assert_eq!(v["PUSHDUTY_VALUE"], "2026.12.10-3");
        assert_eq!(v["PUSHDUTY_N"], "3");
    }

    #[test]
    fn whitespace_control_raw_and_comments_keep_their_meaning() {
        let c = prepare(
            "echo a  {{- tag }} {# note #}{% raw %}{{ x }}{% endraw %}",
            &ctx(),
            &[],
        )
        .unwrap();
        assert_eq!(c.script, "echo a\"$PUSHDUTY_TAG\" {{ x }}");
    }

    #[test]
    fn values_inside_quotes_are_refused_with_the_fix() {
        for (cmd, line, col) in [
            ("echo \"deploying {{ build_id }}\"", 1, 17),
            ("echo 'deploying {{ build_id }}'", 1, 17),
            ("cat <<EOF\nsubject: {{ build_id }}\nEOF", 2, 10),
            ("echo `echo {{ build_id }}`", 1, 12),
        ] {
            let e = check(cmd);
            assert_eq!(e.len(), 1, "{cmd}");
            assert_eq!((e[0].line, e[0].col), (line, col), "{cmd}");
            assert!(e[0].message.contains("`{{ build_id }}` is inside"), "{e:?}");
            let run = prepare(cmd, &ctx(), &[]).unwrap_err().to_string();
            assert!(run.contains("refused"), "{run}");
        }
        // A block that opens a quote around a value is caught on what it produced.
        let e = prepare(
            "echo {% if n %}\"{% endif %}{{ build_id }}{% if n %}\"{% endif %}",
            &ctx(),
            &[],
        )
        .unwrap_err();
        assert!(e.to_string().contains("inside double quotes"), "{e}");
        assert!(check("echo {{ tag }} # {{ tag }} is fine").is_empty());
    }

    #[test]
    fn blocks_that_could_rewrite_values_and_the_marks_are_refused() {
        let e = check("{% filter upper %}echo {{ tag }}{% endfilter %}");
        assert!(e[0].message.contains("`{% filter %}` cannot"), "{e:?}");
        let e = check("echo \u{e000}0:41\u{e001}");
        assert!(e[0].message.contains("U+E000"), "{e:?}");
        // A value cannot forge a mark: it is hex inside one.
        let c = prepare(
            "echo {{ v }}",
            &json!({"v": "\u{e000}0:24282978297a\u{e001}"}),
            &[],
        )
        .unwrap();
        assert_eq!(c.values[0].1, "\u{e000}0:24282978297a\u{e001}");
        assert!(prepare("echo {{ v }}", &json!({"v": "a\0b"}), &[]).is_err());
    }

    #[test]
    fn a_preview_shows_what_is_missing_as_a_placeholder() {
        let empty = json!({});
        let fl = Filler::new(&empty);
        let shown = preview("echo {{ build_id }} {{ repos.x.tag }}", &fl, &[]);
        assert_eq!(
            shown,
            "PUSHDUTY_BUILD_ID=\u{27e8}build_id\u{27e9} PUSHDUTY_REPOS_X_TAG=\u{27e8}repos.x.tag\u{27e9} \
             sh -c 'echo \"$PUSHDUTY_BUILD_ID\" \"$PUSHDUTY_REPOS_X_TAG\"'"
        );
    }
}
