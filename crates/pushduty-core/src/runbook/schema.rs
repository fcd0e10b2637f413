//! The runbook's JSON Schema, for editors (taplo / Even Better TOML) and CI checks.
//!
//! `load` does not deserialize a runbook in one go: it reads a step's common keys, then the
//! keys of its `kind`, each table denying unknown keys, and likewise a service's `kind` then
//! its keys. A derived schema of `Step` (two flattened parts, each closed) would reject every
//! real step, so the parts are derived with schemars and joined here into what `load` accepts:
//! per kind, one closed object of the common keys, `kind` and that kind's keys, chosen by
//! `if`/`then` on `kind` so an editor reports the missing key rather than "no branch matched".

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::{Map, Value, json};

use super::model::*;

/// The schema as a JSON value (draft 2020-12).
pub fn runbook_schema() -> Value {
    let mut g = SchemaGenerator::new(SchemaSettings::draft2020_12());
    let string_map = json!({ "type": "object", "additionalProperties": { "type": "string" } });
    let services = tagged("kind", "The service's kind.", service_kinds(&mut g), None);
    let common = StepCommon::json_schema(&mut g);
    let steps = tagged(
        "kind",
        "What the step does.",
        step_kinds(&mut g),
        Some(common),
    );
    let schedule = g.subschema_for::<Schedule>().to_value();
    let rotation = g.subschema_for::<Rotation>().to_value();
    let var = g.subschema_for::<VarValue>().to_value();
    let repo = g.subschema_for::<Repo>().to_value();
    let section = g.subschema_for::<Section>().to_value();
    let defs = g.take_definitions(true);
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "pushduty runbook",
        "description": "A team's push procedure, read by pushduty (`pushduty check` validates it fully).",
        "type": "object",
        "additionalProperties": false,
        "required": ["name", "schedule", "steps"],
        // A weekly schedule needs its rotation; an on-demand one has none.
        "if": { "properties": { "schedule": { "properties": { "on_demand": { "const": true } }, "required": ["on_demand"] } } },
        "then": { "not": { "required": ["rotation"] } },
        "else": {
            "required": ["rotation"],
            "properties": { "schedule": { "required": ["push_day", "tag_day"] } },
        },
        "properties": {
            "name": { "type": "string", "description": "The runbook's name." },
            "summary": { "type": "string" },
            "links": string_map,
            "vars": { "type": "object", "additionalProperties": var },
            "schedule": schedule,
            "rotation": rotation,
            "repos": { "type": "object", "additionalProperties": repo },
            "services": { "type": "object", "additionalProperties": services },
            "sections": { "type": "array", "items": section },
            "steps": { "type": "array", "items": steps },
        },
        "$defs": defs,
    })
}

/// One closed object per kind, picked by the `tag` key: `common`'s keys (if any), the tag
/// and the kind's own keys, as `load` reads them.
fn tagged(
    tag: &str,
    about: &str,
    kinds: Vec<(&'static str, Option<&'static str>, Schema)>,
    common: Option<Schema>,
) -> Value {
    let names: Vec<&str> = kinds.iter().map(|(n, _, _)| *n).collect();
    let common = common.map(Schema::to_value).unwrap_or_else(|| json!({}));
    let branches: Vec<Value> = kinds
        .into_iter()
        .map(|(name, summary, schema)| {
            let schema = schema.to_value();
            let mut properties = Map::new();
            let mut required: Vec<Value> = vec![json!(tag)];
            for part in [&common, &schema] {
                if let Some(p) = part.get("properties").and_then(Value::as_object) {
                    properties.extend(p.clone());
                }
                if let Some(r) = part.get("required").and_then(Value::as_array) {
                    required.extend(r.iter().cloned());
                }
            }
            let mut tag_schema = json!({ "const": name });
            if let Some(s) = summary {
                tag_schema["description"] = json!(s);
            }
            properties.insert(tag.to_string(), tag_schema);
            json!({
                "if": { "properties": { tag: { "const": name } }, "required": [tag] },
                "then": {
                    "properties": properties,
                    "required": required,
                    "additionalProperties": false,
                },
            })
        })
        .collect();
    json!({
        "type": "object",
        "required": [tag],
        "properties": { tag: { "enum": names, "description": about } },
        "allOf": branches,
    })
}

/// Each step kind and the type `load` reads its keys into.
fn step_kinds(g: &mut SchemaGenerator) -> Vec<(&'static str, Option<&'static str>, Schema)> {
    super::kinds::schemas(g)
}

/// Each service kind and its type (keep in step with `load::service`).
fn service_kinds(g: &mut SchemaGenerator) -> Vec<(&'static str, Option<&'static str>, Schema)> {
    vec![
        ("jenkins", None, JenkinsService::json_schema(g)),
        ("sentry", None, SentryService::json_schema(g)),
        ("graphite", None, GraphiteService::json_schema(g)),
        ("prometheus", None, PrometheusService::json_schema(g)),
        ("etherpad", None, EtherpadService::json_schema(g)),
        ("markdown_notes", None, MarkdownNotesService::json_schema(g)),
        ("smtp", None, SmtpService::json_schema(g)),
        ("github", None, GithubService::json_schema(g)),
        ("github_actions", None, GithubActionsService::json_schema(g)),
        ("matrix", None, MatrixService::json_schema(g)),
        ("slack", None, SlackService::json_schema(g)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A kind added to the model without a branch here would be rejected by editors.
    #[test]
    fn every_kind_has_a_branch() {
        let mut g = SchemaGenerator::new(SchemaSettings::draft2020_12());
        let steps: Vec<&str> = step_kinds(&mut g).iter().map(|(n, _, _)| *n).collect();
        let all: Vec<&str> = KINDS.iter().map(|k| k.name).collect();
        assert_eq!(steps, all);
        let services: Vec<&str> = service_kinds(&mut g).iter().map(|(n, _, _)| *n).collect();
        assert_eq!(services, Service::KINDS);
    }
}
