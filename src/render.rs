//! The runbook as a document (Markdown), for the team's wiki: generic, with placeholders
//! (`⟨tag⟩`, as previews mark a value not known yet) where a push fills in its own values.
//! Not `<tag>`: a wiki reads that as an HTML tag and drops it.

use serde_json::{Map, Value, json};

use crate::plan::step_variables;
use crate::preview::{fill, placeholder, preview};
use crate::runbook::Loaded;
use crate::runbook::model::{DEFAULT_TAG_FORMAT, StepKind, VarValue};

/// A context where every variable reads as its own name, marked as a placeholder.
fn placeholders(loaded: &Loaded) -> Value {
    let rb = &loaded.runbook;
    let mut ctx = Map::new();
    for name in crate::runbook::validate::BUILTINS {
        ctx.insert(name.to_string(), json!(placeholder(name)));
    }
    ctx.insert("runbook".into(), json!(rb.name));
    let repos: Map<String, Value> = rb
        .repos
        .iter()
        .map(|(name, r)| {
            let mut m = Map::new();
            for field in crate::runbook::validate::REPO_FIELDS {
                m.insert(
                    field.to_string(),
                    json!(placeholder(&format!("{name}.{field}"))),
                );
            }
            // No checkout in a document: previews then say `<name checkout>`.
            m.remove("path");
            m.insert("name".into(), json!(name));
            m.insert("github".into(), json!(r.github));
            m.insert("branch".into(), json!(r.branch));
            m.insert("remote".into(), json!(r.remote));
            (name.clone(), Value::Object(m))
        })
        .collect();
    ctx.insert("repos".into(), Value::Object(repos));
    ctx.insert("people".into(), json!(loaded.calendar.people));
    let vars: Map<String, Value> = rb
        .vars
        .iter()
        .map(|(k, v)| match v {
            VarValue::Text(t) => (k.clone(), json!(t)),
            // Read from the checkout when a push starts; a document names where from.
            VarValue::File(f) => (
                k.clone(),
                json!(placeholder(&format!("{} of {}", f.key, f.toml))),
            ),
        })
        .collect();
    ctx.insert("vars".into(), Value::Object(vars));
    let links: Map<String, Value> = rb
        .links
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    ctx.insert("links".into(), Value::Object(links));
    for name in step_variables(&loaded.runbook) {
        ctx.insert(name.clone(), json!(placeholder(&name)));
    }
    // Links and constants may themselves use variables.
    let base = Value::Object(ctx.clone());
    for key in ["vars", "links"] {
        if let Some(Value::Object(m)) = ctx.get_mut(key) {
            for v in m.values_mut() {
                if let Value::String(s) = v {
                    *s = fill(s, &base);
                }
            }
        }
    }
    Value::Object(ctx)
}

pub fn markdown(loaded: &Loaded) -> String {
    let rb = &loaded.runbook;
    let ctx = placeholders(loaded);
    let f = |t: &str| fill(t, &ctx);
    let mut out = format!("# {}\n\n", rb.name);
    if !rb.summary.trim().is_empty() {
        out.push_str(&format!("{}\n\n", f(rb.summary.trim())));
    }
    let s = &rb.schedule;
    out.push_str("## Schedule\n\n");
    match (
        &loaded.calendar.weekly,
        s.push_day.as_deref(),
        s.tag_day.as_deref(),
    ) {
        (Some(w), Some(push_day), Some(tag_day)) => {
            let every = if w.every_weeks == 1 {
                "every week".to_string()
            } else {
                format!("every {} weeks", w.every_weeks)
            };
            out.push_str(&format!(
                "- Push {every} on **{}**; the tag is made on the **{}** before it (times in {}).\n",
                capital(push_day),
                capital(tag_day),
                s.timezone
            ));
        }
        _ => out.push_str(&format!(
            "- On demand: a release is made when someone starts it (dates in {}).\n",
            s.timezone
        )),
    }
    match (&s.version, s.date_format()) {
        (Some(version), _) => out.push_str(&format!(
            "- Tags name the version: `{}` (the version is `{}`); a re-tag of the same release adds `-1`, `-2`, ... and never moves a tag.\n",
            loaded.calendar.tag_format.pattern(),
            f(version)
        )),
        (None, format) => out.push_str(&format!(
            "- Tags name the push date: `{}`; a re-tag of the same push adds `-1`, `-2`, ... and never moves a tag.\n",
            format.unwrap_or(DEFAULT_TAG_FORMAT)
        )),
    }
    if !s.skip.is_empty() {
        out.push_str(&format!("- No push on: {}.\n", s.skip.join(", ")));
    }
    if let Some(r) = &rb.rotation {
        out.push_str(&format!(
            "- Rotation, one hero per push, starting with the first on {}: {}.\n",
            r.start,
            r.people.join(", ")
        ));
    }
    if !rb.repos.is_empty() {
        out.push_str(
            "\n## Repositories\n\n| name | GitHub | branch | remote |\n| --- | --- | --- | --- |\n",
        );
        for (name, r) in &rb.repos {
            out.push_str(&format!(
                "| {name} | [{0}](https://github.com/{0}) | `{1}` | `{2}` |\n",
                r.github, r.branch, r.remote
            ));
        }
    }
    if !rb.links.is_empty() {
        out.push_str("\n## Links\n\n");
        for (name, url) in &rb.links {
            out.push_str(&format!("- {name}: {}\n", f(url)));
        }
    }
    let mut n = 0;
    for section in &rb.sections {
        let steps: Vec<_> = rb
            .steps
            .iter()
            .filter(|s| s.section == section.id)
            .collect();
        out.truncate(out.trim_end().len());
        out.push_str(&format!("\n\n## {}\n\n", f(&section.title)));
        if !section.doc.trim().is_empty() {
            out.push_str(&format!("{}\n\n", f(section.doc.trim())));
        }
        for step in steps {
            n += 1;
            out.push_str(&format!("### {n}. {}\n\n", f(&step.title)));
            let mut facts = vec![format!("`{}`", step.kind.name())];
            if let Some(day) = &step.day {
                facts.push(day.replace('_', " "));
            }
            if step.needs_confirm() {
                facts.push("asks before it runs".into());
            }
            if let Some(cond) = &step.only_if {
                facts.push(format!("only when `{cond}`"));
            }
            if !step.after.is_empty() {
                let deps: Vec<String> = step.after.iter().map(|d| format!("`{d}`")).collect();
                facts.push(format!("after {}", deps.join(", ")));
            }
            out.push_str(&format!("*{}* · id `{}`\n\n", facts.join(" · "), step.id));
            if !step.doc.trim().is_empty() {
                out.push_str(&format!("{}\n\n", f(step.doc.trim())));
            }
            out.push_str(&format!(
                "**What it does:** {}\n\n",
                preview(step, rb, &ctx)
            ));
            if let StepKind::Choice(c) = &step.kind {
                for o in &c.options {
                    out.push_str(&format!("- `{}`: {}\n", o.value, f(&o.label)));
                }
                out.push('\n');
            }
            if !step.outputs.is_empty() {
                out.push_str(&format!(
                    "**Records:** {}\n\n",
                    step.outputs
                        .iter()
                        .map(|o| format!("`{o}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}
