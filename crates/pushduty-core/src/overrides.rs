//! `--set KEY=VALUE`: override any runbook or config value by its dotted path.

use std::str::FromStr;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::diag::OVERRIDE_SPAN_START;

/// One `--set` override.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    pub path: Vec<String>,
    pub raw: String,
}

impl FromStr for Override {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (key, value) = s.split_once('=').ok_or_else(|| {
            format!("`{s}` is not KEY=VALUE (e.g. repos.olympia.path=/src/olympia)")
        })?;
        let path: Vec<String> = key.trim().split('.').map(str::to_string).collect();
        if path.iter().any(|p| p.is_empty()) {
            return Err(format!(
                "`{key}` is not a dotted path (e.g. schedule.timezone)"
            ));
        }
        Ok(Self {
            path,
            raw: value.to_string(),
        })
    }
}

/// Keys that belong to the operator's config rather than the runbook.
const CONFIG_ROOTS: &[&str] = &[
    "operator",
    "editor",
    "background_fetch_secs",
    "opener",
    "notify",
    "notify_after_secs",
    "mouse",
    "hyperlinks",
];
const CONFIG_REPO_KEYS: &[&str] = &["path"];
const CONFIG_SERVICE_KEYS: &[&str] = &["user", "token", "password", "key", "webhook"];
/// The team's push log (`[log]`), top-level or for one runbook.
const CONFIG_LOG_KEYS: &[&str] = &["repo", "branch"];

impl Override {
    /// Whether this override targets the operator's config (paths, users, secret references).
    pub fn is_config(&self) -> bool {
        match self.path.as_slice() {
            [root] => CONFIG_ROOTS.contains(&root.as_str()),
            [r, _, k, ..] if r == "repos" => CONFIG_REPO_KEYS.contains(&k.as_str()),
            [r, _, k, ..] if r == "services" => CONFIG_SERVICE_KEYS.contains(&k.as_str()),
            [r, k] if r == "log" => CONFIG_LOG_KEYS.contains(&k.as_str()),
            [r, _, l, k] if r == "runbooks" && l == "log" => CONFIG_LOG_KEYS.contains(&k.as_str()),
            // `runbooks.SLUG.repos.NAME.path`: one runbook's own config section.
            [r, _, k, name, f, ..] if r == "runbooks" && (k == "repos" || k == "services") => {
                let keys = if k == "repos" {
                    CONFIG_REPO_KEYS
                } else {
                    CONFIG_SERVICE_KEYS
                };
                !name.is_empty() && keys.contains(&f.as_str())
            }
            _ => false,
        }
    }

    /// The value, typed like the one it replaces (`existing`): a string field takes the text
    /// as written (`2015-09-17` stays a date string), any other field its TOML reading (`3`,
    /// `true`, `["a"]`). With nothing to replace, a TOML value when the text reads as one,
    /// except a bare date or time, since every date in a runbook or config is a string.
    fn value(&self, existing: Option<&DeValue<'_>>) -> DeValue<'static> {
        let text: &'static str = Box::leak(self.raw.clone().into_boxed_str());
        let quoted = self.raw.starts_with('"') || self.raw.starts_with('\'');
        let parsed = DeValue::parse(text).ok().filter(|v| match existing {
            Some(DeValue::String(_)) => quoted,
            Some(_) => true,
            None => quoted || !matches!(v.get_ref(), DeValue::String(_) | DeValue::Datetime(_)),
        });
        match parsed {
            Some(mut v) => {
                v.get_mut().make_owned();
                respan(v.into_inner())
            }
            None => DeValue::String(self.raw.clone().into()),
        }
    }

    /// Sets the value in a document, making tables on the way as needed.
    pub fn apply(&self, root: &mut Spanned<DeValue<'static>>) {
        let mut here = root;
        for (i, seg) in self.path.iter().enumerate() {
            // An array of tables (`[[steps]]`, `[[sections]]`) is entered by an element's
            // `id`: `steps.watch-graphite.soak_minutes`; one without ids (a metrics service's
            // `series`) by its `name`: `services.graphite.series.server errors.max_rise_percent`.
            let by_id = match here.get_ref() {
                DeValue::Array(items) => ["id", "name"].iter().find_map(|key| {
                    items.iter().position(|item| {
                        matches!(item.get_ref(), DeValue::Table(t) if t.get(*key).is_some_and(
                            |id| matches!(id.get_ref(), DeValue::String(s) if s == seg.as_str())))
                    })
                }),
                _ => None,
            };
            if let Some(pos) = by_id
                && i + 1 < self.path.len()
            {
                let DeValue::Array(items) = here.get_mut() else {
                    return;
                };
                let Some(item) = items.get_mut(pos) else {
                    return;
                };
                here = item;
                continue;
            }
            if !matches!(here.get_ref(), DeValue::Table(_)) {
                *here = marked(DeValue::Table(DeTable::default()));
            }
            let DeValue::Table(t) = here.get_mut() else {
                return;
            };
            let last = i + 1 == self.path.len();
            if last {
                let value = self.value(t.get(seg.as_str()).map(|v| v.get_ref()));
                t.insert(marked(seg.clone().into()), marked(value));
                return;
            }
            if t.get(seg.as_str()).is_none() {
                t.insert(
                    marked(seg.clone().into()),
                    marked(DeValue::Table(DeTable::default())),
                );
            }
            match t.get_mut(seg.as_str()) {
                Some(next) => here = next,
                None => return,
            }
        }
    }
}

fn marked<T>(v: T) -> Spanned<T> {
    Spanned::new(OVERRIDE_SPAN_START..OVERRIDE_SPAN_START, v)
}

/// Gives every nested value the override marker, so problems in it name the `--set`.
fn respan(v: DeValue<'static>) -> DeValue<'static> {
    match v {
        DeValue::Array(a) => {
            let mut out = toml::de::DeArray::new();
            for item in a.into_iter() {
                out.push(marked(respan(item.into_inner())));
            }
            DeValue::Array(out)
        }
        DeValue::Table(t) => {
            let mut out = DeTable::default();
            for (k, item) in t.into_iter() {
                out.insert(marked(k.into_inner()), marked(respan(item.into_inner())));
            }
            DeValue::Table(out)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_array_of_tables_is_entered_by_id() {
        let text =
            "[[steps]]\nid = \"a\"\nsoak_minutes = 30\n[[steps]]\nid = \"b\"\nsoak_minutes = 30\n";
        let mut root = Spanned::new(
            0..0,
            DeValue::Table(DeTable::parse(text).unwrap().into_inner()),
        );
        root.get_mut().make_owned();
        let o: Override = "steps.b.soak_minutes=0.25".parse().unwrap();
        o.apply(&mut root);
        let DeValue::Table(t) = root.get_ref() else {
            panic!()
        };
        let Some(DeValue::Array(steps)) = t.get("steps").map(|v| v.get_ref()) else {
            panic!("steps is no longer an array")
        };
        let soak = |n: usize| match steps.get(n).map(|s| s.get_ref()) {
            Some(DeValue::Table(s)) => s.get("soak_minutes").map(|v| format!("{:?}", v.get_ref())),
            _ => None,
        };
        assert!(
            soak(0).is_some_and(|s| s.contains("30") && !s.contains('.')),
            "{:?}",
            soak(0)
        );
        assert!(soak(1).is_some_and(|s| s.contains("0.25")), "{:?}", soak(1));
    }

    #[test]
    fn an_array_of_tables_without_ids_is_entered_by_name() {
        let text = "[services.g]\nseries = [{ name = \"all responses\", max_drop_percent = 30.0 }, { name = \"server errors\", max_rise_percent = 20.0 }]\n";
        let mut root = Spanned::new(
            0..0,
            DeValue::Table(DeTable::parse(text).unwrap().into_inner()),
        );
        root.get_mut().make_owned();
        let o: Override = "services.g.series.server errors.max_rise_percent=35"
            .parse()
            .unwrap();
        o.apply(&mut root);
        let DeValue::Table(t) = root.get_ref() else {
            panic!()
        };
        let Some(DeValue::Table(g)) = t
            .get("services")
            .and_then(|s| match s.get_ref() {
                DeValue::Table(s) => s.get("g"),
                _ => None,
            })
            .map(|g| g.get_ref())
        else {
            panic!("services.g is gone")
        };
        let Some(DeValue::Array(series)) = g.get("series").map(|v| v.get_ref()) else {
            panic!("series is no longer an array")
        };
        let field = |n: usize, key: &str| match series.get(n).map(|s| s.get_ref()) {
            Some(DeValue::Table(s)) => s.get(key).map(|v| format!("{:?}", v.get_ref())),
            _ => None,
        };
        assert!(
            field(1, "max_rise_percent").is_some_and(|v| v.contains("35")),
            "{:?}",
            field(1, "max_rise_percent")
        );
        assert!(
            field(0, "max_drop_percent").is_some_and(|v| v.contains("30")),
            "{:?}",
            field(0, "max_drop_percent")
        );
        assert_eq!(field(0, "max_rise_percent"), None);
    }

    #[test]
    fn parses_and_routes_overrides() {
        let o: Override = "repos.olympia.path=/src/o".parse().unwrap();
        assert!(o.is_config());
        let o: Override = "schedule.timezone=UTC".parse().unwrap();
        assert!(!o.is_config());
        for push_log in [
            "log.repo=/srv/team.git",
            "log.branch=pushes",
            "runbooks.amo-weekly-push.log.repo=/srv/team.git",
        ] {
            let o: Override = push_log.parse().unwrap();
            assert!(o.is_config(), "{push_log}");
        }
        assert!("novalue".parse::<Override>().is_err());
        assert!("a..b=1".parse::<Override>().is_err());
    }

    #[test]
    fn values_are_toml_when_they_read_as_toml() {
        let o: Override = "x.y=3".parse().unwrap();
        assert!(matches!(o.value(None), DeValue::Integer(_)));
        let o: Override = "x.y=/src/olympia".parse().unwrap();
        assert!(matches!(o.value(None), DeValue::String(_)));
        let o: Override = "x.y=[\"a\", \"b\"]".parse().unwrap();
        assert!(matches!(o.value(None), DeValue::Array(_)));
        let o: Override = "x.y=2015-09-17".parse().unwrap();
        assert!(matches!(o.value(None), DeValue::String(_)));
    }

    #[test]
    fn values_take_the_type_of_the_field_they_replace() {
        let string = DeValue::String("a".into());
        let o: Override = "x.y=123".parse().unwrap();
        assert!(matches!(o.value(Some(&string)), DeValue::String(_)));
        let o: Override = "x.y=\"q\"".parse().unwrap();
        assert!(matches!(o.value(Some(&string)), DeValue::String(s) if s == "q"));
        let array = DeValue::Array(toml::de::DeArray::new());
        let o: Override = "x.y=[\"a\"]".parse().unwrap();
        assert!(matches!(o.value(Some(&array)), DeValue::Array(_)));
        let o: Override = "x.y=true".parse().unwrap();
        assert!(matches!(
            o.value(Some(&DeValue::Boolean(false))),
            DeValue::Boolean(true)
        ));
    }
}
