//! Property test over hostile runbooks: the bundled runbook and mutated copies of it (byte
//! flips, truncations, spliced-in template syntax, deep nesting, control characters) go
//! through what `check` runs (load and validate) and what `plan` renders. None may panic or
//! hang. A few dozen cases by default; `PUSHDUTY_FUZZ_CASES=100000` for a long run.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
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

/// Where to insert: any byte, or (`quoted`) just after one of the text's `"`.
fn position(text: &[u8], at: usize, quoted: bool) -> usize {
    let quotes: Vec<usize> = (0..text.len()).filter(|&i| text[i] == b'"').collect();
    if quoted && !quotes.is_empty() {
        quotes[at % quotes.len()] + 1
    } else {
        at % (text.len() + 1)
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

/// Cases that got past `check`, and that rendered a plan.
static LOADED: AtomicUsize = AtomicUsize::new(0);
static PLANNED: AtomicUsize = AtomicUsize::new(0);

/// What `check` and `plan` do with one runbook text; any panic fails the property.
fn check_and_plan(dir: &Path, text: &[u8]) {
    let path = dir.join("runbooks/amo-push.toml");
    std::fs::write(&path, text).unwrap();
    let started = Instant::now();
    if let Ok(loaded) = pushduty::runbook::load(Some(&path), &[]) {
        LOADED.fetch_add(1, Ordering::Relaxed);
        let now: Now = "2015-09-08".parse().unwrap();
        if let Ok(vars) = Vars::compute(&loaded, &UserConfig::default(), now, "tester", "plan") {
            let plan = pushduty::plan::plan(&loaded, &vars);
            let text = pushduty::sanitize::clean(&plan.to_text()).into_owned();
            assert!(!text.contains('\u{1b}'));
            PLANNED.fetch_add(1, Ordering::Relaxed);
        }
    }
    // Each render stops at its deadline; a whole case stays well inside this.
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "a case took {:?}",
        started.elapsed()
    );
}

#[test]
fn mutated_runbooks_never_panic_or_hang() {
    let cases: u32 = std::env::var("PUSHDUTY_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(48);
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
    check_and_plan(dir.path(), &original);
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    let started = Instant::now();
    let mut runner = TestRunner::new(config);
    runner
        .run(&prop::collection::vec(mutation(), 1..5), |ms| {
            let text = ms.iter().fold(original.clone(), |t, m| apply(&t, m));
            check_and_plan(dir.path(), &text);
            Ok(())
        })
        .unwrap();
    eprintln!(
        "fuzz: {cases} cases in {:?}; {} passed check, {} planned",
        started.elapsed(),
        LOADED.load(Ordering::Relaxed),
        PLANNED.load(Ordering::Relaxed)
    );
}
