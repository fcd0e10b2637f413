//! Property test over hostile runbooks: the bundled runbook and mutated copies of it (byte
//! flips, truncations, spliced-in template syntax, deep nesting, control characters) go
//! through what `check` runs (load and validate) and what `plan` renders. None may panic or
//! hang, and enough of them must get through `check` that `plan` is really tried. About a
//! hundred cases by default; `PUSHDUTY_FUZZ_CASES=100000` for a long run.

use std::cell::Cell;
use std::path::Path;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use pushduty::config::Config as UserConfig;
use pushduty::runbook::vars::{Now, Vars};

const SNIPPETS: &[&str] = &[
    "{{",
    "}}",
    "{%",
    "%}",
    "{{ tag }}",
    "{{ nope }}",
    "{% for x in range(end=100000) %}{% for y in range(end=100000) %}.{% endfor %}{% endfor %}",
    "{% for x in range(end=10, step_by=0) %}{% endfor %}",
    "{% macro m() %}{{ self::m() }}{% endmacro m %}{{ self::m() }}",
    "{% macro a() %}{{ self::b() }}{% endmacro a %}{% macro b() %}{{ self::a() }}{% endmacro b %}{{ self::a() }}",
    "{% if true %}",
    "{% endif %}",
    "{% raw %}",
    "{% endraw %}",
    "{# ",
    "{{ get_env(name=\"HOME\") }}",
    "\u{1b}]0;pwned\u{7}",
    "\u{1b}[2J",
    "\u{0}",
    "\"\"\"",
    "'''",
    "[[steps]]\nid = \"x\"\nkind = \"manual\"\nsection = \"prep\"\ntitle = \"{{ (((tag))) }}\"\n",
    "only_if = \"tag == \"\n",
    "\\u001b",
    "\n[repos.x]\n",
];

#[derive(Debug, Clone)]
enum Mutation {
    Flip {
        at: usize,
        byte: u8,
    },
    Truncate {
        at: usize,
    },
    /// `quoted`: just inside a TOML string (escaped as TOML needs), where templates live.
    Splice {
        at: usize,
        snippet: usize,
        quoted: bool,
    },
    Nest {
        at: usize,
        open: usize,
        depth: usize,
        quoted: bool,
    },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Flip { at, byte }),
        any::<usize>().prop_map(|at| Mutation::Truncate { at }),
        (any::<usize>(), 0..SNIPPETS.len(), any::<bool>()).prop_map(|(at, snippet, quoted)| {
            Mutation::Splice {
                at,
                snippet,
                quoted,
            }
        }),
        (any::<usize>(), 0..4usize, 1..6000usize, any::<bool>()).prop_map(
            |(at, open, depth, quoted)| Mutation::Nest {
                at,
                open,
                depth,
                quoted
            }
        ),
    ]
}

/// Text as the inside of a TOML basic string.
fn toml_escaped(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '"' => "\\\"".to_string(),
            '\\' => "\\\\".to_string(),
            c if c.is_control() => format!("\\u{:04x}", c as u32),
            c => c.to_string(),
        })
        .collect()
}

/// Where each basic string of a TOML text starts: just after its opening `"` or `"""`.
/// Comments, literal strings and escaped quotes are stepped over, so a closing quote is never
/// taken for an opening one (text after it would be outside the string).
fn string_starts(text: &[u8]) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let quote = match text[i] {
            b'#' => {
                while i < text.len() && text[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            q @ (b'"' | b'\'') => q,
            _ => {
                i += 1;
                continue;
            }
        };
        let triple = [quote; 3];
        let multi = text[i..].starts_with(&triple);
        let close: &[u8] = if multi { &triple } else { &triple[..1] };
        i += close.len();
        if quote == b'"' {
            starts.push(i);
        }
        while i < text.len() && !text[i..].starts_with(close) && (multi || text[i] != b'\n') {
            if quote == b'"' && text[i] == b'\\' {
                i += 1;
            }
            i += 1;
        }
        i += close.len();
    }
    starts
}

/// Where to insert: any byte, or (`quoted`) at the start of one of the text's basic strings.
fn position(text: &[u8], at: usize, quoted: bool) -> usize {
    let starts = if quoted {
        string_starts(text)
    } else {
        Vec::new()
    };
    if starts.is_empty() {
        at % (text.len() + 1)
    } else {
        starts[at % starts.len()].min(text.len())
    }
}

fn insert(out: &mut Vec<u8>, at: usize, quoted: bool, text: &str) {
    let i = position(out, at, quoted);
    let text = if quoted {
        toml_escaped(text)
    } else {
        text.to_string()
    };
    out.splice(i..i, text.bytes());
}

fn apply(text: &[u8], m: &Mutation) -> Vec<u8> {
    let mut out = text.to_vec();
    match *m {
        Mutation::Flip { at, byte } if !out.is_empty() => {
            let i = at % out.len();
            out[i] = byte;
        }
        Mutation::Flip { .. } => {}
        Mutation::Truncate { at } => out.truncate(at % (out.len() + 1)),
        Mutation::Splice {
            at,
            snippet,
            quoted,
        } => insert(&mut out, at, quoted, SNIPPETS[snippet]),
        Mutation::Nest {
            at,
            open,
            depth,
            quoted,
        } => {
            let (o, c) = [
                ("(", ")"),
                ("[", "]"),
                ("{% if true %}", "{% endif %}"),
                ("{% for a in [1] %}", "{% endfor %}"),
            ][open];
            let nested = format!("{{{{ {}tag{} }}}}", o.repeat(depth), c.repeat(depth));
            insert(&mut out, at, quoted, &nested);
        }
    }
    out
}

/// How far one runbook text got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Reached {
    /// `check` refused it.
    Refused,
    /// It passed `check`, but its variables could not be computed.
    Checked,
    /// `plan` rendered it.
    Planned,
}

/// What `check` and `plan` do with one runbook text; any panic fails the property.
fn check_and_plan(dir: &Path, text: &[u8]) -> Reached {
    let path = dir.join("runbooks/amo-push.toml");
    std::fs::write(&path, text).unwrap();
    let started = Instant::now();
    let mut reached = Reached::Refused;
    if let Ok(loaded) = pushduty::runbook::load(Some(&path), &[]) {
        reached = Reached::Checked;
        let now: Now = "2015-09-08".parse().unwrap();
        if let Ok(vars) = Vars::compute(
            &loaded,
            &UserConfig::default(),
            now,
            "tester",
            "plan",
            &pushduty::git::tags::checkout_release_tags,
        ) {
            let plan = pushduty::plan::plan(&loaded, &vars);
            let text = pushduty::sanitize::clean(&plan.to_text()).into_owned();
            assert!(!text.contains('\u{1b}'));
            reached = Reached::Planned;
        }
    }
    // Each render stops at its deadline; a whole case stays well inside this.
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "a case took {:?}",
        started.elapsed()
    );
    reached
}

#[test]
fn mutated_runbooks_never_panic_or_hang() {
    let cases: u32 = std::env::var("PUSHDUTY_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(96);
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::create_dir_all(dir.path().join("runbooks")).unwrap();
    std::fs::create_dir_all(dir.path().join("templates")).unwrap();
    for entry in std::fs::read_dir(root.join("templates")).unwrap() {
        let p = entry.unwrap().path();
        std::fs::copy(
            &p,
            dir.path().join("templates").join(p.file_name().unwrap()),
        )
        .unwrap();
    }
    let original = pushduty::templates::bundled_runbook().1.as_bytes().to_vec();
    assert_eq!(
        check_and_plan(dir.path(), &original),
        Reached::Planned,
        "the bundled runbook itself must plan"
    );
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    let started = Instant::now();
    // Texts tried, how many of them passed `check` and reached `plan`, and the cases in which
    // some text reached `plan`.
    let (tried, checked, planned) = (Cell::new(0u32), Cell::new(0u32), Cell::new(0u32));
    let planned_cases = Cell::new(0u32);
    let mut runner = TestRunner::new(config);
    runner
        .run(&prop::collection::vec(mutation(), 1..5), |ms| {
            // The text after each mutation in turn, the last one holding them all.
            let mut text = original.clone();
            let mut case_planned = false;
            for m in &ms {
                text = apply(&text, m);
                let reached = check_and_plan(dir.path(), &text);
                tried.set(tried.get() + 1);
                if reached >= Reached::Checked {
                    checked.set(checked.get() + 1);
                }
                if reached == Reached::Planned {
                    planned.set(planned.get() + 1);
                    case_planned = true;
                }
            }
            if case_planned {
                planned_cases.set(planned_cases.get() + 1);
            }
            Ok(())
        })
        .unwrap();
    let (tried, checked, planned) = (tried.get(), checked.get(), planned.get());
    let planned_cases = planned_cases.get();
    eprintln!(
        "fuzz: {cases} cases ({tried} texts) in {:?}; {checked} texts passed check, {planned} \
         planned; {planned_cases} cases reached plan",
        started.elapsed(),
    );
    // A fuzz whose texts all stop at `check` never tries `plan`. About one case in five
    // reaches it (391 of 2,000 in a long run); 96 cases with fewer than two that do happen
    // about once in fifty million runs.
    assert!(
        planned_cases >= cases / 48,
        "only {planned_cases} of {cases} cases reached plan ({planned} of {tried} texts; \
         {checked} passed check)"
    );
}
