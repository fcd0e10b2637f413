//! Fuel for one render. tera has no budget of its own and its builtin filters allocate
//! whatever they are asked for: ten chained `replace` filters make gigabytes from a line. Each
//! filter that can make more than it was given is replaced here, under its tera name, by one
//! that works out the size of its result before making it and draws that from the render's
//! budget; the output goes through a writer with the same cap. Both also stop as soon as the
//! render is abandoned or past its deadline, so a render ends at its next filter or write.
//!
//! The filters find their render's fuel through the thread they run on ([`fueled`]), so one
//! tera instance per thread serves every render on it (building one per render cost more than
//! most renders).

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use tera::Value;

use super::guard::{DEADLINE, MAX_OUTPUT_BYTES, MAX_RANGE_ITEMS};

/// Bytes the growing filters of one render may make together.
pub const MAX_WORK_BYTES: usize = 64 * 1024 * 1024;

/// One render's budget, its deadline and its stop flag, shared by its filters and its writer.
#[derive(Debug)]
pub struct Fuel {
    made: AtomicUsize,
    /// Items `range` may still make in this render.
    range_left: AtomicUsize,
    stopped: AtomicBool,
    deadline: Instant,
}

impl Default for Fuel {
    fn default() -> Self {
        Fuel::until(Instant::now() + DEADLINE)
    }
}

thread_local! {
    /// The fuel of the render running on this thread.
    static CURRENT: RefCell<Option<Arc<Fuel>>> = const { RefCell::new(None) };
}

/// Runs `render` with `fuel` as this thread's current fuel, for the filters to draw on.
pub fn fueled<T>(fuel: &Arc<Fuel>, render: impl FnOnce() -> T) -> T {
    let before = CURRENT.with(|c| c.replace(Some(Arc::clone(fuel))));
    let out = render();
    CURRENT.with(|c| c.replace(before));
    out
}

/// The current render's fuel: a filter called outside [`fueled`] is refused.
pub fn current() -> tera::Result<Arc<Fuel>> {
    CURRENT
        .with(|c| c.borrow().clone())
        .ok_or_else(|| tera::Error::msg("a bounded filter ran outside a render"))
}

impl Fuel {
    /// A full budget for a render that must end by `deadline`.
    pub fn until(deadline: Instant) -> Fuel {
        Fuel {
            made: AtomicUsize::new(0),
            range_left: AtomicUsize::new(MAX_RANGE_ITEMS),
            stopped: AtomicBool::new(false),
            deadline,
        }
    }

    /// Takes `count` items from the render's `range` budget, or says why not.
    pub fn take_range(&self, count: usize) -> tera::Result<()> {
        self.running()?;
        self.range_left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                n.checked_sub(count)
            })
            .map(drop)
            .map_err(|_| {
                tera::Error::msg(format!(
                    "`range` loops may make at most {MAX_RANGE_ITEMS} items in one template"
                ))
            })
    }

    /// Tells the render to stop at its next filter or write.
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
    }

    /// Grants `bytes` more for a value `what` is about to make, or says why not.
    fn draw(&self, what: &str, bytes: usize) -> tera::Result<()> {
        self.running()?;
        if bytes > MAX_OUTPUT_BYTES {
            return Err(tera::Error::msg(format!(
                "`{what}` would make {bytes} bytes; one value may hold at most {MAX_OUTPUT_BYTES}"
            )));
        }
        self.made
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                n.checked_add(bytes).filter(|t| *t <= MAX_WORK_BYTES)
            })
            .map(drop)
            .map_err(|_| {
                tera::Error::msg(format!(
                    "the template's filters made more than {MAX_WORK_BYTES} bytes in one render"
                ))
            })
    }

    fn running(&self) -> tera::Result<()> {
        if self.stopped.load(Ordering::SeqCst) || Instant::now() > self.deadline {
            return Err(tera::Error::msg(format!(
                "stopped: the template ran past its {}s limit",
                DEADLINE.as_secs()
            )));
        }
        Ok(())
    }
}

/// Registers the bounded filters on `t`, each drawing on the fuel of the render it runs in.
pub fn register(t: &mut tera::Tera) {
    type Bounded = fn(&Value, &HashMap<String, Value>, &Fuel) -> tera::Result<Value>;
    let filters: [(&str, Bounded); 6] = [
        ("replace", replace),
        ("join", join),
        ("indent", indent),
        ("concat", concat),
        ("addslashes", addslashes),
        ("json_encode", json_encode),
    ];
    for (name, f) in filters {
        t.register_filter(name, move |v: &Value, args: &HashMap<String, Value>| {
            f(v, args, &*current()?)
        });
    }
}

fn string<'v>(filter: &str, what: &str, v: &'v Value) -> tera::Result<&'v str> {
    v.as_str().ok_or_else(|| {
        tera::Error::msg(format!(
            "filter `{filter}` received {what}={v}; it takes a string"
        ))
    })
}

fn arg<'a>(
    filter: &str,
    args: &'a HashMap<String, Value>,
    name: &str,
) -> tera::Result<Option<&'a str>> {
    args.get(name).map(|v| string(filter, name, v)).transpose()
}

fn required<'a>(
    filter: &str,
    args: &'a HashMap<String, Value>,
    name: &str,
) -> tera::Result<&'a str> {
    arg(filter, args, name)?
        .ok_or_else(|| tera::Error::msg(format!("filter `{filter}` needs `{name}`")))
}

/// tera's `replace`, sized first: `{{ x | replace(from="a", to=x) }}` squares.
fn replace(v: &Value, args: &HashMap<String, Value>, fuel: &Fuel) -> tera::Result<Value> {
    let s = string("replace", "value", v)?;
    let (from, to) = (
        required("replace", args, "from")?,
        required("replace", args, "to")?,
    );
    let hits = if from.is_empty() {
        s.chars().count() + 1
    } else {
        s.matches(from).count()
    };
    let size = (s.len() - hits * from.len()).saturating_add(hits.saturating_mul(to.len()));
    fuel.draw("replace", size)?;
    Ok(Value::String(s.replace(from, to)))
}

/// How tera shows a value inside text.
fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Bool(_) | Value::Number(_) => v.to_string(),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

/// tera's `join`, sized first: a long `sep` between many items multiplies.
fn join(v: &Value, args: &HashMap<String, Value>, fuel: &Fuel) -> tera::Result<Value> {
    let items = v.as_array().ok_or_else(|| {
        tera::Error::msg(format!("filter `join` received {v}; it takes an array"))
    })?;
    // As tera does: a `sep` written in a file as `\n` means a newline.
    let sep = arg("join", args, "sep")?
        .unwrap_or("")
        .replace("\\n", "\n")
        .replace("\\t", "\t");
    let seps = items.len().saturating_sub(1).saturating_mul(sep.len());
    fuel.draw("join", seps)?;
    let mut out = String::new();
    for (i, item) in items.iter().enumerate() {
        let text = shown(item);
        fuel.draw("join", text.len())?;
        if i > 0 {
            out.push_str(&sep);
        }
        out.push_str(&text);
    }
    Ok(Value::String(out))
}

/// tera's `indent`, sized first: a long `prefix` on every line multiplies.
fn indent(v: &Value, args: &HashMap<String, Value>, fuel: &Fuel) -> tera::Result<Value> {
    let s = string("indent", "value", v)?;
    let prefix = arg("indent", args, "prefix")?.unwrap_or("    ");
    let flag = |name: &str| match args.get(name) {
        None => Ok(false),
        Some(b) => b.as_bool().ok_or_else(|| {
            tera::Error::msg(format!(
                "filter `indent` received {name}={b}; it takes true or false"
            ))
        }),
    };
    let (first, blank) = (flag("first")?, flag("blank")?);
    let lines = s.lines().count();
    fuel.draw(
        "indent",
        s.len().saturating_add(lines.saturating_mul(prefix.len())),
    )?;
    let mut out = String::new();
    for (i, line) in s.lines().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if (i == 0 && first) || (i > 0 && (blank || !line.trim_start().is_empty())) {
            out.push_str(prefix);
        }
        out.push_str(line);
    }
    Ok(Value::String(out))
}

/// tera's `concat`, sized first: `xs | concat(with=xs)` doubles.
fn concat(v: &Value, args: &HashMap<String, Value>, fuel: &Fuel) -> tera::Result<Value> {
    let mut items = v
        .as_array()
        .ok_or_else(|| {
            tera::Error::msg(format!("filter `concat` received {v}; it takes an array"))
        })?
        .clone();
    let with = args
        .get("with")
        .ok_or_else(|| tera::Error::msg("filter `concat` needs `with`"))?;
    let more = match with {
        Value::Array(more) => more.clone(),
        one => vec![one.clone()],
    };
    items.extend(more);
    let out = Value::Array(items);
    fuel.draw("concat", size(&out))?;
    Ok(out)
}

/// About how many bytes a value holds, counted without making it again.
fn size(v: &Value) -> usize {
    match v {
        Value::String(s) => s.len() + 8,
        Value::Array(a) => a.iter().map(size).fold(8, usize::saturating_add),
        Value::Object(o) => o
            .iter()
            .map(|(k, v)| k.len().saturating_add(size(v)))
            .fold(8, usize::saturating_add),
        _ => 8,
    }
}

/// tera's `addslashes`: each pass doubles the slashes of the last, so chained it grows
/// exponentially.
fn addslashes(v: &Value, _: &HashMap<String, Value>, fuel: &Fuel) -> tera::Result<Value> {
    let s = string("addslashes", "value", v)?;
    let quoted = s.matches(['\\', '"', '\'']).count();
    fuel.draw("addslashes", s.len().saturating_add(quoted))?;
    Ok(Value::String(
        s.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\'', "\\'"),
    ))
}

/// tera's `json_encode`: chained, each pass escapes the quotes of the last.
fn json_encode(v: &Value, args: &HashMap<String, Value>, fuel: &Fuel) -> tera::Result<Value> {
    fuel.draw("json_encode", size(v))?;
    let pretty = args.get("pretty").and_then(Value::as_bool).unwrap_or(false);
    let text = if pretty {
        serde_json::to_string_pretty(v)
    } else {
        serde_json::to_string(v)
    };
    let text = text.map_err(tera::Error::json)?;
    fuel.draw("json_encode", text.len())?;
    Ok(Value::String(text))
}

/// Where a render writes: refuses past [`MAX_OUTPUT_BYTES`], and stops once abandoned.
pub struct Capped<'f> {
    pub out: Vec<u8>,
    pub fuel: &'f Fuel,
}

impl Write for Capped<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.fuel.running().map_err(io::Error::other)?;
        if self.out.len() + buf.len() > MAX_OUTPUT_BYTES {
            return Err(io::Error::other(format!(
                "template output is over {MAX_OUTPUT_BYTES} bytes"
            )));
        }
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
