//! What a template may ask of the renderer. tera has no budget of its own: its parser recurses
//! once per bracket (5,000 of them overflow the stack), a macro that calls itself never
//! returns, and nested `range` loops run for hours. So a template is first scanned as raw text
//! (before tera's parser sees it), then its parsed tree is vetted, and rendering runs with a
//! budget of `range` items, a cap on output size and a time bound as the backstop.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};

use super::fuel::{self, Capped, Fuel};
use super::refs::{self, TemplateError};

/// Brackets inside one tag, or blocks inside blocks: far above any real template, far below
/// what overflows tera's parser.
pub const MAX_NESTING: usize = 32;
/// Calls inside the arguments of calls (`f(x=g(y=h()))`): tera's parser backtracks on each
/// and takes about sixteen times as long per level (ten levels, seconds; twelve, minutes).
pub const MAX_CALL_NESTING: usize = 4;
/// `for` loops inside `for` loops: two are common (repos, then their commits); each level
/// multiplies the work.
pub const MAX_LOOP_NESTING: usize = 3;
/// Operators and filters in one tag: a long `a ~ b ~ c ...` chain becomes a tree as deep as it
/// is long, and rendering it recurses as deep.
pub const MAX_OPERATORS: usize = 256;
/// A template's own text.
pub const MAX_TEMPLATE_BYTES: usize = 256 * 1024;
/// What one render may produce.
pub const MAX_OUTPUT_BYTES: usize = 4 * 1024 * 1024;
/// Items all the `range(...)` calls of one render may make together.
pub const MAX_RANGE_ITEMS: usize = 100_000;
/// The backstop for work the static bounds cannot see (loops over large arrays).
pub const DEADLINE: Duration = Duration::from_secs(3);
/// Renders that ran past the deadline and are still burning a core; past this, refuse more.
const MAX_RUNAWAYS: usize = 2;
/// tera recurses per node; the renderer's thread gets room for any template the scan lets in.
const STACK_BYTES: usize = 64 * 1024 * 1024;

/// What `check` says about `get_env`.
pub const NO_ENV: &str = "templates cannot read the environment (`get_env`); name a secret in \
    its service with `{ env = \"NAME\" }` or `{ keyring = \"service/user\" }`";

/// Scans, parses and vets a template: what `check` and the renderer both accept.
pub fn parse(text: &str) -> Result<tera::Template, TemplateError> {
    prescan(text)?;
    let tpl = tera::Template::new("t", None, text).map_err(refs::parse_error)?;
    vet(&tpl, text)?;
    Ok(tpl)
}

/// Rules on the parsed tree: no `get_env`, no macro that reaches itself again.
pub fn vet(tpl: &tera::Template, text: &str) -> Result<(), TemplateError> {
    let reads = refs::reads(&tpl.ast);
    if reads.functions.iter().any(|f| f == "get_env") {
        return Err(at(text, text.find("get_env").unwrap_or(0), NO_ENV));
    }
    if let Some(name) = recursive_macro(&reads.calls) {
        let off = find_macro(text, &name);
        return Err(at(
            text,
            off,
            format!(
                "macro `{name}` calls itself (directly or through other macros); a template cannot recurse"
            ),
        ));
    }
    if let Some((set, nth, n)) = super::growth::self_feeding(&tpl.ast) {
        let key = &set.key;
        return Err(at(
            text,
            find_set(text, key, nth),
            format!(
                "`set {key}` reads the template's own variables {n} times (through a macro, \
                 twice); a value built from itself more than once doubles on every pass. Build \
                 it from one earlier value at a time"
            ),
        ));
    }
    Ok(())
}

/// Where the `nth` (from 0) `{% set NAME =` (or `set_global`) is, for the error's position.
fn find_set(text: &str, name: &str, nth: usize) -> usize {
    text.match_indices("set")
        .map(|(i, _)| i)
        .filter(|&i| {
            let rest = text[i + 3..]
                .strip_prefix("_global")
                .unwrap_or(&text[i + 3..]);
            rest.starts_with(char::is_whitespace)
                && rest
                    .trim_start()
                    .strip_prefix(name)
                    .is_some_and(|r| r.trim_start().starts_with('='))
        })
        .nth(nth)
        .unwrap_or(0)
}

/// A macro on a cycle of `self::` calls, if there is one.
fn recursive_macro(calls: &[(Option<String>, String)]) -> Option<String> {
    let mut graph: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (from, to) in calls {
        if let Some(from) = from {
            graph.entry(from.as_str()).or_default().insert(to.as_str());
        }
    }
    // A macro is recursive when it can reach itself; templates hold a handful of macros.
    graph
        .keys()
        .copied()
        .find(|start| {
            let mut seen = BTreeSet::new();
            let mut todo: Vec<&str> = graph[start].iter().copied().collect();
            while let Some(m) = todo.pop() {
                if m == *start {
                    return true;
                }
                if seen.insert(m) {
                    todo.extend(graph.get(m).into_iter().flatten().copied());
                }
            }
            false
        })
        .map(str::to_string)
}

/// Where `{% macro NAME(` is defined, for the error's position.
fn find_macro(text: &str, name: &str) -> usize {
    text.match_indices("macro")
        .map(|(i, _)| i)
        .find(|&i| text[i + 5..].trim_start().starts_with(name))
        .unwrap_or(0)
}

/// A problem at a byte offset of a template, as a 1-based line and column.
pub(crate) fn at(text: &str, offset: usize, message: impl Into<String>) -> TemplateError {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    TemplateError {
        line,
        col,
        message: message.into(),
    }
}

/// Scans the raw text for nesting that tera's recursive parser or renderer cannot survive.
/// Only the inside of `{{ }}` and `{% %}` counts; strings inside tags are skipped.
pub fn prescan(text: &str) -> Result<(), TemplateError> {
    if text.len() > MAX_TEMPLATE_BYTES {
        return Err(at(
            text,
            0,
            format!(
                "template is {} bytes; at most {MAX_TEMPLATE_BYTES}",
                text.len()
            ),
        ));
    }
    let b = text.as_bytes();
    // Open blocks, innermost last: (keyword, offset).
    let mut blocks: Vec<(&str, usize)> = Vec::new();
    let mut i = 0;
    while i + 1 < b.len() {
        if b[i] != b'{' {
            i += 1;
            continue;
        }
        match b[i + 1] {
            b'#' => match text[i + 2..].find("#}") {
                Some(n) => i += n + 4,
                None => return Ok(()), // tera reports the unclosed comment
            },
            open @ (b'{' | b'%') => {
                let close = if open == b'{' { "}}" } else { "%}" };
                let Some(end) = scan_tag(text, i, close)? else {
                    return Ok(()); // unclosed: tera reports it with its own position
                };
                if open == b'%' {
                    let word = text[i + 2..end]
                        .trim_start_matches('-')
                        .split_whitespace()
                        .next()
                        .unwrap_or("");
                    if word == "raw" {
                        // The body of `raw` is text; resume at its `endraw`.
                        i = find_endraw(text, end).unwrap_or(b.len());
                        continue;
                    }
                    block(text, &mut blocks, word, i)?;
                }
                i = end + 2;
            }
            _ => i += 1,
        }
    }
    Ok(())
}

/// Follows one tag from its opening at `start`; returns the offset of its closing delimiter,
/// `None` when the tag never closes.
pub(crate) fn scan_tag(
    text: &str,
    start: usize,
    close: &str,
) -> Result<Option<usize>, TemplateError> {
    let b = text.as_bytes();
    // One entry per open bracket: whether it opens a call's arguments.
    let mut open: Vec<bool> = Vec::new();
    let mut operators = 0usize;
    let mut quote: Option<u8> = None;
    let mut j = start + 2;
    while j < b.len() {
        let c = b[j];
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            j += 1;
            continue;
        }
        match c {
            b'"' | b'\'' | b'`' => quote = Some(c),
            b'(' | b'[' => {
                let before = text[start + 2..j].trim_end().as_bytes();
                open.push(c == b'(' && before.last().is_some_and(|b| continues_word(&[*b], 0)));
                if open.len() > MAX_NESTING {
                    return Err(at(
                        text,
                        j,
                        format!("template nests brackets more than {MAX_NESTING} deep"),
                    ));
                }
                if open.iter().filter(|call| **call).count() > MAX_CALL_NESTING {
                    return Err(at(
                        text,
                        j,
                        format!(
                            "template nests calls more than {MAX_CALL_NESTING} deep; set the inner \
                             values first (`{{% set v = f(x=1) %}}`)"
                        ),
                    ));
                }
            }
            b')' | b']' => {
                open.pop();
            }
            b'+' | b'-' | b'*' | b'/' | b'%' | b'~' | b'|' | b'=' | b'<' | b'>' | b'!' => {
                if text[j..].starts_with(close) {
                    return Ok(Some(j));
                }
                operators += 1;
            }
            b'}' if text[j..].starts_with(close) => return Ok(Some(j)),
            _ if c.is_ascii_alphabetic() && starts_word(b, j) => {
                let word = &text[j..];
                if ["not", "and", "or", "in", "is"]
                    .iter()
                    .any(|k| word.starts_with(k) && !continues_word(b, j + k.len()))
                {
                    operators += 1;
                }
            }
            _ => {}
        }
        if operators > MAX_OPERATORS {
            return Err(at(
                text,
                start,
                format!("a template tag has more than {MAX_OPERATORS} operators and filters"),
            ));
        }
        j += 1;
    }
    Ok(None)
}

fn starts_word(b: &[u8], j: usize) -> bool {
    j == 0 || !continues_word(b, j - 1)
}

fn continues_word(b: &[u8], j: usize) -> bool {
    b.get(j)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

/// Tracks `{% if %}`...`{% endif %}` nesting and `for` nesting.
fn block<'t>(
    text: &str,
    blocks: &mut Vec<(&'t str, usize)>,
    word: &'t str,
    at_offset: usize,
) -> Result<(), TemplateError> {
    match word {
        "if" | "for" | "macro" | "block" | "filter" => {
            blocks.push((word, at_offset));
            if blocks.len() > MAX_NESTING {
                return Err(at(
                    text,
                    at_offset,
                    format!("template nests blocks more than {MAX_NESTING} deep"),
                ));
            }
            let loops = blocks.iter().filter(|(w, _)| *w == "for").count();
            if loops > MAX_LOOP_NESTING {
                return Err(at(
                    text,
                    at_offset,
                    format!("template nests `for` loops more than {MAX_LOOP_NESTING} deep"),
                ));
            }
        }
        w if w.starts_with("end") => {
            blocks.pop();
        }
        _ => {}
    }
    Ok(())
}

/// The offset just past `{% endraw %}` (any whitespace control), searching from `from`.
pub(crate) fn find_endraw(text: &str, from: usize) -> Option<usize> {
    let mut k = from;
    while let Some(n) = text[k..].find("{%") {
        let tag = k + n;
        let rest = text[tag + 2..].trim_start_matches('-').trim_start();
        if rest.starts_with("endraw") {
            return text[tag..].find("%}").map(|e| tag + e + 2);
        }
        k = tag + 2;
    }
    None
}

/// The tera instance of this thread: no `get_env`, and `range` and the growing filters drawing
/// on the budget of the render they run in (see [`fuel::fueled`]).
fn tera() -> tera::Tera {
    let mut t = tera::Tera::default();
    fuel::register(&mut t);
    t.register_function("get_env", |_: &HashMap<String, tera::Value>| {
        Err(tera::Error::msg(NO_ENV))
    });
    t.register_function("range", |args: &HashMap<String, tera::Value>| {
        range(args, &*fuel::current()?)
    });
    t.register_filter(crate::shell::MARK_FILTER, crate::shell::mark);
    t
}

thread_local! {
    /// Built once per thread: building one per render cost more than most renders.
    static ENGINE: RefCell<Option<tera::Tera>> = const { RefCell::new(None) };
}

/// tera's `range`, refusing a zero step (tera's loops forever) and drawing on the budget.
fn range(args: &HashMap<String, tera::Value>, fuel: &Fuel) -> tera::Result<tera::Value> {
    let arg = |name: &str, default: Option<u64>| -> tera::Result<u64> {
        match args.get(name) {
            Some(v) => v.as_u64().ok_or_else(|| {
                tera::Error::msg(format!(
                    "`range` received {name}={v}; it takes a whole number"
                ))
            }),
            None => default.ok_or_else(|| tera::Error::msg(format!("`range` needs `{name}`"))),
        }
    };
    let (start, end, step) = (
        arg("start", Some(0))?,
        arg("end", None)?,
        arg("step_by", Some(1))?,
    );
    if step == 0 {
        return Err(tera::Error::msg("`range` needs a `step_by` above 0"));
    }
    if start > end {
        return Err(tera::Error::msg("`range` has `start` after `end`"));
    }
    let count = usize::try_from((end - start).div_ceil(step)).unwrap_or(usize::MAX);
    fuel.take_range(count)?;
    Ok(tera::Value::from(
        (start..end).step_by(step as usize).collect::<Vec<u64>>(),
    ))
}

/// A template of plain values no longer than this renders on the caller's thread (see
/// [`plain_values`]).
const INLINE_MAX_BYTES: usize = 16 * 1024;

/// Filters whose output is at most a constant times their input and arguments.
const LINEAR_FILTERS: &[&str] = &[
    "default",
    "upper",
    "lower",
    "trim",
    "capitalize",
    "title",
    "length",
    "first",
    "last",
    "urlencode",
    "safe",
];

/// Whether every tag of `text` is a plain value: `{{ a.b.c }}`, optionally through filters of
/// [`LINEAR_FILTERS`] with plain arguments, and no `{% %}` block. Such a template has no loop,
/// no macro and nothing that grows its output faster than its values, so its work is linear
/// and it needs neither a thread of its own nor a deadline. Anything else (`range`,
/// `replace`, operators, calls, a `{{` this cannot read) is not plain.
fn plain_values(text: &str) -> bool {
    if text.len() > INLINE_MAX_BYTES || text.contains("{%") {
        return false;
    }
    let path = |p: &str| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
    };
    let filter = |f: &str| {
        let (name, args) = match f.split_once('(') {
            Some((name, rest)) => match rest.strip_suffix(')') {
                Some(args) => (name.trim(), Some(args)),
                None => return false,
            },
            None => (f, None),
        };
        LINEAR_FILTERS.contains(&name) && args.is_none_or(|a| !a.contains(['(', ')', '{', '}']))
    };
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            return false;
        };
        let inner = after[..close].trim_matches('-').trim();
        let mut parts = inner.split('|').map(str::trim);
        if !parts.next().is_some_and(path) || !parts.all(filter) {
            return false;
        }
        rest = &after[close + 2..];
    }
    true
}

/// Whether `text` has no block that repeats work: its only blocks are `if`, `set` and `raw`
/// (no `for`, no macro, no filter section), so its work is bounded by its length and by the
/// fuel each filter draws, and a render past the deadline stops at its next filter or write.
fn loop_free(text: &str) -> bool {
    const ALLOWED: &[&str] = &[
        "if",
        "elif",
        "else",
        "endif",
        "set",
        "set_global",
        "raw",
        "endraw",
    ];
    if text.len() > INLINE_MAX_BYTES {
        return false;
    }
    text.match_indices("{%").all(|(i, _)| {
        let rest = text[i + 2..].trim_start_matches('-').trim_start();
        let word = rest
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .next()
            .unwrap_or("");
        ALLOWED.contains(&word)
    })
}

/// Renders a vetted template with the budget. A template whose work is bounded by its length
/// ([`plain_values`], [`loop_free`]) renders on the caller's thread, its deadline kept by its
/// fuel (a screen or `show` renders thousands of titles, docs and commands: a thread each cost
/// more than the rendering); any other on a thread with room and a deadline.
pub fn render(text: &str, ctx: tera::Context) -> Result<String> {
    prescan(text).map_err(refused)?;
    let inline = plain_values(text) || loop_free(text);
    let text = text.to_string();
    let fuel = Arc::new(Fuel::default());
    let theirs = Arc::clone(&fuel);
    let work = move || {
        fuel::fueled(&theirs, || {
            with_engine(|t| render_on(t, &text, &ctx, &theirs))
        })
    };
    if inline { work() } else { bounded(work, &fuel) }
}

/// Lends this thread's tera instance to `f` (a fresh one if it is lent out already).
fn with_engine<T>(f: impl FnOnce(&mut tera::Tera) -> T) -> T {
    let mut t = ENGINE.with(|e| e.borrow_mut().take()).unwrap_or_else(tera);
    let out = f(&mut t);
    ENGINE.with(|e| *e.borrow_mut() = Some(t));
    out
}

fn render_on(t: &mut tera::Tera, text: &str, ctx: &tera::Context, fuel: &Fuel) -> Result<String> {
    const NAME: &str = "template";
    t.add_raw_template(NAME, text)
        .map_err(|e| anyhow!(super::flatten(&e)))?;
    let tpl = t
        .get_template(NAME)
        .map_err(|e| anyhow!(super::flatten(&e)))?;
    vet(tpl, text).map_err(refused)?;
    let mut out = Capped {
        out: Vec::new(),
        fuel,
    };
    t.render_to(NAME, ctx, &mut out)
        .map_err(|e| anyhow!(super::flatten(&e)))?;
    String::from_utf8(out.out).context("template output is not UTF-8")
}

fn refused(e: TemplateError) -> anyhow::Error {
    anyhow!("template refused at {}:{}: {}", e.line, e.col, e.message)
}

/// Renders still running past their deadline.
static RUNAWAYS: AtomicUsize = AtomicUsize::new(0);
const RUNNING: u8 = 0;
const FINISHED: u8 = 1;
const ABANDONED: u8 = 2;

/// Runs `work` on its own thread and waits at most [`DEADLINE`]. A thread cannot be stopped
/// from outside: one that overruns is told through `fuel` to stop at its next filter or write,
/// and counted until it does; while too many are left, no new render starts (so a bad
/// template cannot pile up busy threads).
fn bounded<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
    fuel: &Fuel,
) -> Result<T> {
    if RUNAWAYS.load(Ordering::SeqCst) >= MAX_RUNAWAYS {
        bail!("earlier templates are still rendering past their time limit; not starting another");
    }
    let state = Arc::new(AtomicU8::new(RUNNING));
    let theirs = Arc::clone(&state);
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("template".into())
        .stack_size(STACK_BYTES)
        .spawn(move || {
            let out = work();
            if theirs
                .compare_exchange(RUNNING, FINISHED, Ordering::SeqCst, Ordering::SeqCst)
                .is_err()
            {
                RUNAWAYS.fetch_sub(1, Ordering::SeqCst);
            }
            // The receiver is gone when the render was abandoned; nothing to tell then.
            let _ = tx.send(out);
        })
        .context("starting the template renderer")?;
    match rx.recv_timeout(DEADLINE) {
        Ok(out) => out,
        Err(RecvTimeoutError::Timeout) => {
            if state
                .compare_exchange(RUNNING, ABANDONED, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
            {
                RUNAWAYS.fetch_add(1, Ordering::SeqCst);
                fuel.stop();
                bail!(
                    "template took longer than {}s to render (loops over too much?)",
                    DEADLINE.as_secs()
                );
            }
            // It finished just as the deadline passed.
            rx.recv().context("the template renderer stopped")?
        }
        Err(RecvTimeoutError::Disconnected) => Err(anyhow!("the template renderer crashed")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn render_str(text: &str) -> Result<String> {
        crate::templates::render(text, &json!({ "tag": "2015.09.10" }))
    }

    #[test]
    fn recursive_macros_are_refused() {
        let direct = "{% macro f(n) %}{{ self::f(n=n) }}{% endmacro f %}{{ self::f(n=1) }}";
        let e = parse(direct).unwrap_err();
        assert!(e.message.contains("macro `f` calls itself"), "{e:?}");
        assert_eq!((e.line, e.col), (1, 4));
        let mutual = "{% macro a() %}{{ self::b() }}{% endmacro a %}\n\
                      {% macro b() %}{{ self::a() }}{% endmacro b %}{{ self::a() }}";
        assert!(parse(mutual).is_err());
        let e = render_str(mutual).unwrap_err().to_string();
        assert!(e.contains("cannot recurse"), "{e}");
        let fine = "{% macro a() %}x{% endmacro a %}{% macro b() %}{{ self::a() }}{% endmacro b %}{{ self::b() }}";
        assert_eq!(render_str(fine).unwrap(), "x");
    }

    #[test]
    fn deep_nesting_is_refused_before_tera_parses_it() {
        let parens = format!("{{{{ {}1{} }}}}", "(".repeat(5000), ")".repeat(5000));
        let e = parse(&parens).unwrap_err();
        assert!(e.message.contains("nests brackets"), "{e:?}");
        assert!(render_str(&parens).is_err());
        let ifs = format!(
            "{}x{}",
            "{% if true %}".repeat(40),
            "{% endif %}".repeat(40)
        );
        assert!(parse(&ifs).unwrap_err().message.contains("nests blocks"));
        let chain = format!("{{{{ 1{} }}}}", " + 1".repeat(5000));
        assert!(parse(&chain).unwrap_err().message.contains("operators"));
        let nots = format!("{{{{ {}true }}}}", "not ".repeat(5000));
        assert!(render_str(&nots).is_err());
        // Brackets in strings, comments and raw blocks are text.
        let quoted = format!(
            "{{{{ \"{}\" }}}}{{# {} #}}",
            "(".repeat(100),
            "(".repeat(100)
        );
        assert!(parse(&quoted).is_ok());
        let raw = format!("{{% raw %}}{}{{% endraw %}}", "{% if x %}".repeat(100));
        assert_eq!(render_str(&raw).unwrap(), "{% if x %}".repeat(100));
        assert_eq!(render_str("{{ ((tag)) }}").unwrap(), "2015.09.10");
        // Found by the fuzz test: a tag opened at the very end of the text.
        for unclosed in ["https://example.org{%", "x{{", "{% if", "{{ (", "{#"] {
            assert!(prescan(unclosed).is_ok(), "{unclosed}");
            assert!(parse(unclosed).is_err(), "{unclosed}");
        }
    }

    #[test]
    fn what_the_scan_lets_in_parses_on_a_small_stack() {
        // Test threads have 2 MiB of stack; `check` parses on the main thread with more.
        let parens = format!("{}1{}", "(".repeat(MAX_NESTING), ")".repeat(MAX_NESTING));
        let chain = " + 1".repeat(MAX_OPERATORS - 1);
        let one = format!("{{% if not {parens} %}}x{{% endif %}}{{{{ {parens}{chain} }}}}");
        let text = format!(
            "{}{one}{}",
            "{% if true %}".repeat(MAX_NESTING - 1),
            "{% endif %}".repeat(MAX_NESTING - 1)
        );
        parse(&text).unwrap();
        // It has no loop, so it renders on the caller's thread: a tokio worker has 2 MiB.
        assert!(loop_free(&text));
        std::thread::Builder::new()
            .stack_size(1024 * 1024)
            .spawn(move || render_str(&text).unwrap())
            .unwrap()
            .join()
            .unwrap();
    }

    #[test]
    fn only_templates_without_loops_render_on_the_callers_thread() {
        for bounded in [
            "{{ a ~ b }}",
            "{% if x %}{{ x | replace(from='a', to='bb') }}{% elif y %}y{% else %}z{% endif %}",
            "{%- set v = 1 -%}{{ v }}{% set_global w = 2 %}",
            "{% raw %}{{ x }}{% endraw %}",
        ] {
            assert!(loop_free(bounded), "{bounded}");
        }
        for repeating in [
            "{% for r in repos %}{{ r }}{% endfor %}",
            "{%-for r in repos %}{% endfor %}",
            "{% macro m() %}x{% endmacro m %}{{ self::m() }}",
            "{% filter upper %}x{% endfilter %}",
            "{% iffy %}",
            &format!("{}{{{{ x }}}}", " ".repeat(INLINE_MAX_BYTES)),
        ] {
            assert!(!loop_free(repeating), "{repeating}");
        }
    }

    #[test]
    fn a_render_past_its_deadline_stops_at_its_next_filter_or_write() {
        let fuel = Fuel::until(std::time::Instant::now());
        std::thread::sleep(Duration::from_millis(5));
        let mut out = Capped {
            out: Vec::new(),
            fuel: &fuel,
        };
        let e = std::io::Write::write(&mut out, b"x")
            .unwrap_err()
            .to_string();
        assert!(e.contains("ran past its 3s limit"), "{e}");
        let fuel = Arc::new(fuel);
        let e = fuel::fueled(&fuel, || {
            range(&HashMap::from([("end".into(), 3.into())]), &fuel)
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("ran past"), "{e}");
    }

    #[test]
    fn only_plain_values_render_without_a_thread_and_a_deadline() {
        for plain in [
            "Tag {{ tag }} on {{ repos.olympia.branch }}",
            "{{- previous_tag | default(value='the previous tag') -}}",
            "{{ vars.list | upper | trim }} {# {{ comment }} #}",
            "no tags at all",
        ] {
            assert!(plain_values(plain), "{plain}");
        }
        for not_plain in [
            "{% for r in repos %}{{ r }}{% endfor %}",
            "{{ range(end=10) | join(sep=',') }}",
            "{{ x | replace(from='a', to='aaaaaaaa') | replace(from='a', to='aaaaaaaa') }}",
            "{{ a ~ b }}",
            "{{ (1 + 2) }}",
            "{{ x | default(value=range(end=5)) }}",
            "{{ unclosed",
            &format!("{}{{{{ x }}}}", " ".repeat(INLINE_MAX_BYTES)),
        ] {
            assert!(!plain_values(not_plain), "{not_plain}");
        }
        let vars = serde_json::json!({"previous_tag": null, "tag": "2015.09.10"});
        assert_eq!(
            crate::templates::render(
                "{{ tag }} after {{ previous_tag | default(value='the first') }}",
                &vars
            )
            .unwrap(),
            "2015.09.10 after the first"
        );
    }

    #[test]
    fn loops_are_bounded() {
        let nested = "{% for a in range(end=100000) %}{% for b in range(end=100000) %}.{% endfor %}{% endfor %}";
        let e = render_str(nested).unwrap_err().to_string();
        assert!(e.contains("at most 100000 items"), "{e}");
        let deep = "{% for a in [1] %}{% for b in [1] %}{% for c in [1] %}{% for d in [1] %}{% endfor %}{% endfor %}{% endfor %}{% endfor %}";
        assert!(parse(deep).unwrap_err().message.contains("`for` loops"));
        assert!(render_str("{% for i in range(end=3, step_by=0) %}{% endfor %}").is_err());
        assert_eq!(
            render_str("{% for i in range(start=1, end=7, step_by=2) %}{{ i }}{% endfor %}")
                .unwrap(),
            "135"
        );
    }

    #[test]
    fn templates_cannot_read_the_environment() {
        let e = parse("{{ get_env(name=\"HOME\") }}").unwrap_err();
        assert!(e.message.contains("{ env = \"NAME\" }"), "{e:?}");
        assert!(render_str("{{ get_env(name=\"HOME\") }}").is_err());
        // Even when the scan is bypassed, the function itself refuses.
        let mut t = tera();
        let out = t.render_str("{{ get_env(name=\"HOME\") }}", &tera::Context::new());
        assert!(out.is_err());
    }

    #[test]
    fn output_is_capped() {
        let big = "{% for a in range(end=1000) %}{% for b in range(end=90) %}xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx{% endfor %}{% endfor %}";
        let e = render_str(big).unwrap_err().to_string();
        assert!(e.contains("output is"), "{e}");
    }

    /// The finding: ten chained `replace` filters, each ten times the last, passed `check`
    /// and made 10^10 bytes before the output cap could look.
    #[test]
    fn chained_filters_stop_at_their_fuel() {
        let ten = "| replace(from=\"a\", to=\"aaaaaaaaaa\") ".repeat(10);
        let text = format!("{{{{ \"aaaaaaaaaa\" {ten}}}}}");
        assert!(parse(&text).is_ok(), "the template itself is fine");
        let e = render_str(&text).unwrap_err().to_string();
        assert!(e.contains("would make") && e.contains("at most"), "{e}");
        let squares = "{{ tag | replace(from='.', to=tag) | replace(from='.', to=tag) }}";
        assert!(render_str(squares).unwrap().starts_with("2015"));
        let sep = "{% set xs = range(end=1000) %}{{ xs | join(sep=xs | join(sep='--------')) }}";
        assert!(
            render_str(sep)
                .unwrap_err()
                .to_string()
                .contains("`join` would make")
        );
        let wide =
            "{{ tag | indent(prefix=tag, first=true) | addslashes | json_encode | join(sep='') }}";
        assert!(
            render_str(wide).is_err(),
            "join takes an array, as tera's does"
        );
        let budget = "{% for i in range(end=1000) %}{% set x = tag | replace(from='', to='0123456789012345678901234567890123456789012345678901234567890123456789') %}{% set y = x | replace(from='', to=x) %}{% endfor %}";
        let e = render_str(budget).unwrap_err().to_string();
        assert!(e.contains("more than"), "{e}");
    }

    #[test]
    fn bounded_filters_behave_like_teras() {
        let cases = [
            ("{{ tag | replace(from='.', to='-') }}", "2015-09-10"),
            ("{{ [1, 'a', true] | join(sep=', ') }}", "1, a, true"),
            ("{{ 'a\nb\n\nc' | indent(prefix='> ') }}", "a\n> b\n\n> c"),
            ("{{ 'a\nb' | indent(first=true, prefix='> ') }}", "> a\n> b"),
            (
                "{{ [1] | concat(with=[2, 3]) | concat(with=4) | join(sep='') }}",
                "1234",
            ),
            (
                "{{ `it's \\ \"q\"` | addslashes }}",
                "it\\'s \\\\ \\\"q\\\"",
            ),
            ("{{ tag | json_encode }}", "\"2015.09.10\""),
        ];
        for (text, want) in cases {
            assert_eq!(render_str(text).unwrap(), want, "{text}");
        }
    }

    /// Found with issue 20: tera's parser takes minutes over a dozen nested calls.
    #[test]
    fn nested_calls_are_refused_before_tera_parses_them() {
        let mut inner = "tag".to_string();
        for _ in 0..30 {
            inner = format!("self::d(x={inner})");
        }
        let text = format!("{{% macro d(x) %}}{{{{ x }}}}{{% endmacro d %}}{{{{ {inner} }}}}");
        let started = std::time::Instant::now();
        let e = parse(&text).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(1));
        assert!(e.message.contains("nests calls more than 4 deep"), "{e:?}");
        assert_eq!((e.line, e.col), (1, 90), "{e:?}");
        let four = "{{ a | default(value=b | default(value=range(end=c | length(x=d)))) }}";
        assert!(prescan(four).is_ok());
        assert!(prescan("{{ (((((((((1))))))))) ~ [[[[[[1]]]]]] }}").is_ok());
    }

    /// The finding: a value built from itself twice in a loop doubles each pass, with no
    /// filter or write for the fuel to count.
    #[test]
    fn values_built_from_themselves_twice_are_refused() {
        let doubling = "{% set_global s = 'x' %}\n{% for i in range(end=64) %}{% set_global s = s ~ s %}{% endfor %}{{ s | length }}";
        let e = parse(doubling).unwrap_err();
        assert!(e.message.contains("`set s` reads"), "{e:?}");
        assert_eq!((e.line, e.col), (2, 32), "{e:?}");
        assert!(
            render_str(doubling)
                .unwrap_err()
                .to_string()
                .contains("doubles")
        );
        for refused in [
            "{% set a = tag %}{% set b = a ~ a %}{% set c = b ~ b %}{{ c }}",
            "{% set_global s = [tag] %}{% for i in range(end=9) %}{% set t = s %}{% set_global s = s | concat(with=t) %}{% endfor %}",
            "{% set_global s = tag %}{% for i in range(end=9) %}{% set_global s = s | replace(from='1', to=s) %}{% endfor %}",
            // A macro can print its argument any number of times.
            "{% macro d(x) %}{{ x }}{{ x }}{% endmacro d %}{% set a = tag %}{% set b = self::d(x=a) %}{% set c = self::d(x=b) %}{{ c }}",
        ] {
            assert!(parse(refused).is_err(), "{refused}");
        }
        for fine in [
            "{% set_global s = '' %}{% for i in range(end=9) %}{% set_global s = s ~ i ~ tag %}{% endfor %}{{ s }}",
            "{% set v = tag ~ tag %}{{ v }}{{ v }}",
            "{% set __pushduty_value = tag ~ '-' ~ tag %}{{ __pushduty_value }}",
        ] {
            parse(fine).unwrap();
            render_str(fine).unwrap();
        }
    }

    /// A render past its deadline is told to stop and does, at its next filter call.
    #[test]
    fn an_abandoned_render_stops() {
        let vars = json!({ "xs": (0..2000).collect::<Vec<_>>() });
        let slow = "{% for a in xs %}{% for b in xs %}{% for c in xs %}{% set_global t = 'a' | replace(from='a', to='b') %}{% endfor %}{% endfor %}{% endfor %}";
        let started = std::time::Instant::now();
        let e = crate::templates::render(slow, &vars)
            .unwrap_err()
            .to_string();
        // Its own fuel or the waiting caller notices first.
        assert!(
            e.contains("longer than") || e.contains("ran past its"),
            "{e}"
        );
        assert!(started.elapsed() < DEADLINE + Duration::from_secs(1));
        let stopped = (0..50).any(|_| {
            std::thread::sleep(Duration::from_millis(100));
            RUNAWAYS.load(Ordering::SeqCst) == 0
        });
        assert!(stopped, "the abandoned render kept running");
    }
}
