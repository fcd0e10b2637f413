//! Reading a runbook: TOML with spans, then each part deserialized on its own so that one
//! broken step does not hide the problems of the next.

use std::ops::Range;

use serde::de::{DeserializeOwned, IntoDeserializer};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::model::*;
use crate::diag::{Diagnostics, Source};
use crate::overrides::Override;

pub type Value = Spanned<DeValue<'static>>;
pub type Table = DeTable<'static>;

/// A parsed TOML document that remembers where everything came from.
pub struct Doc {
    pub source: Source,
    pub root: Value,
}

/// One step of a path into a document.
#[derive(Debug, Clone, Copy)]
pub enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

impl Doc {
    /// Parses TOML; syntax errors come back with their positions.
    pub fn parse(source: Source) -> Result<Self, Diagnostics> {
        // The spanned tree borrows its input; a runbook is parsed once or twice per process, so
        // its text is leaked rather than threading a lifetime through every consumer.
        let text: &'static str = Box::leak(source.text.clone().into_boxed_str());
        let (mut table, errors) = DeTable::parse_recoverable(text);
        if !errors.is_empty() {
            let mut diags = Diagnostics::default();
            for e in errors {
                let span = e.span().unwrap_or(0..0);
                diags.push(source.diag(&span, syntax_message(e.message())));
            }
            return Err(diags);
        }
        table.get_mut().make_owned();
        let span = table.span();
        Ok(Self {
            source,
            root: Spanned::new(span, DeValue::Table(table.into_inner())),
        })
    }

    /// The value at `path`, or its nearest ancestor that exists.
    fn at(&self, path: &[Seg]) -> &Value {
        let mut here = &self.root;
        for seg in path {
            let next = match (seg, here.get_ref()) {
                (Seg::Key(k), DeValue::Table(t)) => t.get(*k),
                (Seg::Index(i), DeValue::Array(a)) => a.get(*i),
                _ => None,
            };
            match next {
                Some(v) => here = v,
                None => return here,
            }
        }
        here
    }

    /// The span of the value at `path`, or of its nearest ancestor that exists.
    pub fn span(&self, path: &[Seg]) -> Range<usize> {
        self.at(path).span()
    }

    pub fn apply_overrides<'o>(&mut self, overrides: impl IntoIterator<Item = &'o Override>) {
        for o in overrides {
            o.apply(&mut self.root);
        }
    }

    pub fn table(&self) -> Option<&Table> {
        match self.root.get_ref() {
            DeValue::Table(t) => Some(t),
            _ => None,
        }
    }
}

/// toml's syntax messages are good; make the first letter lower case to match ours.
fn syntax_message(m: &str) -> String {
    let m = m.trim();
    format!("invalid TOML: {m}")
}

/// Deserializes one value, reporting a failure at the value's position.
pub fn de<T: DeserializeOwned>(
    doc: &Doc,
    value: &Value,
    what: &str,
    diags: &mut Diagnostics,
) -> Option<T> {
    match T::deserialize(value.clone().into_deserializer()) {
        Ok(v) => Some(v),
        Err(e) => {
            let span = e.span().unwrap_or_else(|| value.span());
            diags.push(doc.source.diag(&span, explain(e.message(), what)));
            None
        }
    }
}

/// Makes serde's messages say where the problem sits and what was expected.
fn explain(message: &str, what: &str) -> String {
    let message = message.trim();
    if let Some(rest) = message.strip_prefix("unknown field ") {
        let (key, expected) = rest.split_once(", expected").unwrap_or((rest, ""));
        let expected = expected
            .trim_start_matches(" one of")
            .replace('`', "")
            .replace(" or ", ", ")
            .trim()
            .to_string();
        if expected.is_empty() || expected.contains("there are no fields") {
            return format!("unknown key {key} in {what}; it takes no other keys");
        }
        return format!("unknown key {key} in {what}; expected one of: {expected}");
    }
    if let Some(field) = message.strip_prefix("missing field ") {
        return format!("missing key {field} in {what}");
    }
    format!("{message} (in {what})")
}

/// The `kind` of a tagged table, split from the table's other keys.
fn kind_of<'d>(
    doc: &Doc,
    value: &'d Value,
    what: &str,
    diags: &mut Diagnostics,
) -> Option<(&'d str, Range<usize>, &'d Table)> {
    let DeValue::Table(table) = value.get_ref() else {
        diags.push(
            doc.source
                .diag(&value.span(), format!("{what} must be a table")),
        );
        return None;
    };
    let Some(kind) = table.get("kind") else {
        diags.push(
            doc.source
                .diag(&value.span(), format!("missing key `kind` in {what}")),
        );
        return None;
    };
    let Some(name) = kind.get_ref().as_str() else {
        diags.push(
            doc.source
                .diag(&kind.span(), format!("`kind` of {what} must be a string")),
        );
        return None;
    };
    Some((name, kind.span(), table))
}

/// A table holding only the listed keys (`keep = true`) or all the others.
fn partition(table: &Table, keys: &[&str], keep: bool, span: Range<usize>) -> Value {
    let mut out = Table::default();
    for (k, v) in table.iter() {
        if keys.contains(&k.get_ref().as_ref()) == keep {
            out.insert(k.clone(), v.clone());
        }
    }
    Spanned::new(span, DeValue::Table(out))
}

const STEP_COMMON: &[&str] = &[
    "id", "title", "section", "doc", "day", "confirm", "only_if", "outputs", "after", "tell",
];

/// A near spelling among `options`, for "did you mean".
pub fn closest<'a>(word: &str, options: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    options
        .into_iter()
        .map(|o| (edit_distance(word, o), o))
        .filter(|(d, o)| *d <= 2.max(o.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, o)| o)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

fn unknown(what: &str, word: &str, options: &[&str]) -> String {
    let hint = closest(word, options.iter().copied())
        .map(|c| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default();
    format!(
        "unknown {what} `{word}`{hint}; expected one of: {}",
        options.join(", ")
    )
}

fn step(doc: &Doc, value: &Value, index: usize, diags: &mut Diagnostics) -> Option<Step> {
    let what = format!("step {}", index + 1);
    let (kind, kind_span, table) = kind_of(doc, value, &what, diags)?;
    let id = table
        .get("id")
        .and_then(|v| v.get_ref().as_str())
        .map(str::to_string);
    let what = match &id {
        Some(id) => format!("step `{id}`"),
        None => what,
    };
    let common_v = partition(table, STEP_COMMON, true, value.span());
    let specific = partition(
        table,
        &[STEP_COMMON, &["kind"]].concat(),
        false,
        value.span(),
    );
    let common: Option<StepCommon> = de(doc, &common_v, &what, diags);
    let kw = format!("a `{kind}` step ({what})");
    let kind = match super::kinds::read(kind, doc, &specific, &kw, diags) {
        Some(kind) => kind,
        None => {
            let names: Vec<&str> = KINDS.iter().map(|k| k.name).collect();
            diags.push(
                doc.source
                    .diag(&kind_span, unknown("step kind", kind, &names)),
            );
            None
        }
    };
    Some(Step {
        common: common?,
        kind: kind?,
    })
}

fn service(doc: &Doc, name: &str, value: &Value, diags: &mut Diagnostics) -> Option<Service> {
    let what = format!("service `{name}`");
    let (kind, kind_span, table) = kind_of(doc, value, &what, diags)?;
    let rest = partition(table, &["kind"], false, value.span());
    match kind {
        "jenkins" => de(doc, &rest, &what, diags).map(Service::Jenkins),
        "sentry" => de(doc, &rest, &what, diags).map(Service::Sentry),
        "graphite" => de(doc, &rest, &what, diags).map(Service::Graphite),
        "prometheus" => de(doc, &rest, &what, diags).map(Service::Prometheus),
        "etherpad" => de(doc, &rest, &what, diags).map(Service::Etherpad),
        "markdown_notes" => de(doc, &rest, &what, diags).map(Service::MarkdownNotes),
        "smtp" => de(doc, &rest, &what, diags).map(Service::Smtp),
        "github" => de(doc, &rest, &what, diags).map(Service::Github),
        "github_actions" => de(doc, &rest, &what, diags).map(Service::GithubActions),
        "matrix" => de(doc, &rest, &what, diags).map(Service::Matrix),
        "slack" => de(doc, &rest, &what, diags).map(Service::Slack),
        other => {
            diags.push(
                doc.source
                    .diag(&kind_span, unknown("service kind", other, Service::KINDS)),
            );
            None
        }
    }
}

/// Step ids are checked on the raw tables, so a step with other problems still counts.
fn duplicate_ids(doc: &Doc, items: &[Value], diags: &mut Diagnostics) {
    // Where each id first stands; its line is found only for a duplicate (finding a line
    // reads the text up to it).
    let mut seen: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for item in items {
        let DeValue::Table(t) = item.get_ref() else {
            continue;
        };
        let Some(id) = t.get("id") else { continue };
        let Some(name) = id.get_ref().as_str() else {
            continue;
        };
        match seen.get(name) {
            Some(&first) => {
                let line = doc.source.line_col(first).0;
                diags.push(doc.source.diag(
                    &id.span(),
                    format!("duplicate step id `{name}` (first defined on line {line})"),
                ));
            }
            None => {
                seen.insert(name, id.span().start);
            }
        }
    }
}

/// A repo's keys in the runbook, and the one the operator's config adds.
const REPO_KEYS: &[&str] = &["github", "remote", "branch", "migrations"];
const REPO_CONFIG_KEYS: &[&str] = &["path"];

/// Reports a repo's unknown keys against every key a repo can have (runbook and config), so a
/// `--set repos.NAME.pth` hears about `path` too; returns the table without them.
fn repo_keys(doc: &Doc, value: &Value, what: &str, diags: &mut Diagnostics) -> Value {
    let DeValue::Table(t) = value.get_ref() else {
        return value.clone();
    };
    let all = [REPO_KEYS, REPO_CONFIG_KEYS].concat();
    for (k, _) in t.iter() {
        let key = k.get_ref().as_ref();
        if REPO_CONFIG_KEYS.contains(&key) {
            let m = format!("`{key}` of {what} belongs in the operator's config, not the runbook");
            diags.push(doc.source.diag(&k.span(), m));
        } else if !REPO_KEYS.contains(&key) {
            let hint = closest(key, all.iter().copied())
                .map(|c| format!(" (did you mean `{c}`?)"))
                .unwrap_or_default();
            let m = format!(
                "unknown key `{key}` in {what}{hint}; expected one of: {}",
                all.join(", ")
            );
            diags.push(doc.source.diag(&k.span(), m));
        }
    }
    partition(t, REPO_KEYS, true, value.span())
}

const TOP_KEYS: &[&str] = &[
    "name", "summary", "links", "vars", "schedule", "rotation", "repos", "services", "sections",
    "steps",
];

/// `[vars]`: each entry a template string or a `{ toml, key, repo }` file source.
fn var_values(doc: &Doc, value: &Value, diags: &mut Diagnostics) -> Option<Ordered<VarValue>> {
    let DeValue::Table(t) = value.get_ref() else {
        diags.push(doc.source.diag(
            &value.span(),
            "`vars` must be a table of values, e.g. [vars] qa = \"Krupa\"",
        ));
        return None;
    };
    let mut out = Ordered::default();
    let mut ok = true;
    for (k, v) in t.iter() {
        let name = k.get_ref().to_string();
        let what = format!("vars.{name}");
        let parsed = match v.get_ref() {
            DeValue::String(_) => de::<String>(doc, v, &what, diags).map(VarValue::Text),
            DeValue::Table(_) => de::<FileVar>(doc, v, &what, diags).map(VarValue::File),
            _ => {
                diags.push(doc.source.diag(
                    &v.span(),
                    format!("`{what}` must be a string, or a file value {{ toml = \"FILE\", key = \"a.b\", repo = \"REPO\" }}"),
                ));
                None
            }
        };
        match parsed {
            Some(p) => {
                out.insert(name, p);
            }
            None => ok = false,
        }
    }
    ok.then_some(out)
}

/// Builds the typed runbook from a parsed document; every structural problem is collected.
pub fn runbook(doc: &Doc) -> Result<Runbook, Diagnostics> {
    let mut diags = Diagnostics::default();
    let Some(top) = doc.table() else {
        diags.push(doc.source.whole("a runbook must be a TOML table"));
        return Err(diags);
    };
    for (k, _) in top.iter() {
        let key = k.get_ref().as_ref();
        if !TOP_KEYS.contains(&key) {
            diags.push(
                doc.source
                    .diag(&k.span(), unknown("top-level key", key, TOP_KEYS)),
            );
        }
    }
    let missing = |key: &str, diags: &mut Diagnostics| {
        diags.push(
            doc.source
                .diag(&(0..0), format!("missing top-level key `{key}`")),
        );
    };
    let field = |key: &str, required: bool, diags: &mut Diagnostics| -> Option<&Value> {
        let v = top.get(key);
        if v.is_none() && required {
            missing(key, diags);
        }
        v
    };
    let name: Option<String> =
        field("name", true, &mut diags).and_then(|v| de(doc, v, "`name`", &mut diags));
    let summary: Option<String> = match field("summary", false, &mut diags) {
        Some(v) => de(doc, v, "`summary`", &mut diags),
        None => Some(String::new()),
    };
    let links: Option<Ordered<String>> = match field("links", false, &mut diags) {
        Some(v) => de(doc, v, "[links]", &mut diags),
        None => Some(Ordered::default()),
    };
    let vars: Option<Ordered<VarValue>> = match field("vars", false, &mut diags) {
        Some(v) => var_values(doc, v, &mut diags),
        None => Some(Ordered::default()),
    };
    let schedule: Option<Schedule> =
        field("schedule", true, &mut diags).and_then(|v| de(doc, v, "[schedule]", &mut diags));
    // A weekly schedule turns on its rotation; an on-demand one has none to turn.
    let on_demand = schedule.as_ref().is_some_and(|s| s.on_demand);
    let rotation: Option<Option<Rotation>> = match field("rotation", !on_demand, &mut diags) {
        Some(v) => de(doc, v, "[rotation]", &mut diags).map(Some),
        None if on_demand => Some(None),
        None => None,
    };

    let mut repos = Ordered::default();
    if let Some(v) = field("repos", false, &mut diags) {
        match v.get_ref() {
            DeValue::Table(t) => {
                for (k, v) in t.iter() {
                    let name = k.get_ref().to_string();
                    let what = format!("repo `{name}`");
                    let v = repo_keys(doc, v, &what, &mut diags);
                    if let Some(r) = de::<Repo>(doc, &v, &what, &mut diags) {
                        repos.insert(name, r);
                    }
                }
            }
            _ => diags.push(doc.source.diag(
                &v.span(),
                "`repos` must be a table of repos, e.g. [repos.olympia]",
            )),
        }
    }
    let mut services = Ordered::default();
    if let Some(v) = field("services", false, &mut diags) {
        match v.get_ref() {
            DeValue::Table(t) => {
                for (k, v) in t.iter() {
                    let name = k.get_ref().to_string();
                    if let Some(s) = service(doc, &name, v, &mut diags) {
                        services.insert(name, s);
                    }
                }
            }
            _ => diags.push(doc.source.diag(
                &v.span(),
                "`services` must be a table of services, e.g. [services.jenkins]",
            )),
        }
    }
    let sections: Option<Vec<Section>> = match field("sections", false, &mut diags) {
        Some(v) => de(doc, v, "[[sections]]", &mut diags),
        None => Some(Vec::new()),
    };
    let mut steps = Vec::new();
    match field("steps", true, &mut diags).map(|v| (v, v.get_ref())) {
        Some((_, DeValue::Array(items))) => {
            let written: std::collections::HashSet<&str> = items
                .iter()
                .filter_map(|v| v.get_ref().as_table()?.get("id")?.get_ref().as_str())
                .collect();
            for (i, item) in items.iter().enumerate() {
                if let Some(s) = step(doc, item, i, &mut diags) {
                    let told = super::tell::step_for(doc, &services, &s, i, &written, &mut diags);
                    steps.push(s);
                    steps.extend(told);
                }
            }
            duplicate_ids(doc, items, &mut diags);
        }
        Some((v, _)) => diags.push(
            doc.source
                .diag(&v.span(), "`steps` must be an array of tables: [[steps]]"),
        ),
        None => {}
    }
    match (name, summary, links, vars, schedule, rotation, sections) {
        (
            Some(name),
            Some(summary),
            Some(links),
            Some(vars),
            Some(schedule),
            Some(rotation),
            Some(sections),
        ) if diags.is_empty() => Ok(Runbook {
            name,
            summary,
            links,
            vars,
            schedule,
            rotation,
            repos,
            services,
            sections,
            steps,
        }),
        _ => Err(diags),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_suggests_near_spellings() {
        let kinds: Vec<&str> = KINDS.iter().map(|k| k.name).collect();
        assert_eq!(
            closest("jenkins.bild", kinds.iter().copied()),
            Some("jenkins.build")
        );
        assert_eq!(closest("zzzz", kinds.iter().copied()), None);
    }

    #[test]
    fn every_kind_has_a_row() {
        for k in KINDS {
            assert!(!k.summary.is_empty(), "{}", k.name);
        }
        assert_eq!(KINDS.len(), 20);
    }
}
