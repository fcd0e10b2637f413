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
const CONFIG_ROOTS: &[&str] = &["operator", "editor"];
const CONFIG_REPO_KEYS: &[&str] = &["path"];
const CONFIG_SERVICE_KEYS: &[&str] = &["user", "token", "password", "key"];

impl Override {
    /// Whether this override targets the operator's config (paths, users, secret references).
    pub fn is_config(&self) -> bool {
        match self.path.as_slice() {
            [root] => CONFIG_ROOTS.contains(&root.as_str()),
            [r, _, k, ..] if r == "repos" => CONFIG_REPO_KEYS.contains(&k.as_str()),
            [r, _, k, ..] if r == "services" => CONFIG_SERVICE_KEYS.contains(&k.as_str()),
            _ => false,
        }
    }

    /// The value: a TOML value when it reads as one (`true`, `3`, `["a"]`), else a string.
    fn value(&self) -> DeValue<'static> {
        let text: &'static str = Box::leak(self.raw.clone().into_boxed_str());
        match DeValue::parse(text) {
            Ok(mut v)
                if !matches!(v.get_ref(), DeValue::String(_))
                    || self.raw.starts_with('"')
                    || self.raw.starts_with('\'') =>
            {
                v.get_mut().make_owned();
                respan(v.into_inner())
            }
            _ => DeValue::String(self.raw.clone().into()),
        }
    }

    /// Sets the value in a document, making tables on the way as needed.
    pub fn apply(&self, root: &mut Spanned<DeValue<'static>>) {
        let mut here = root;
        for (i, seg) in self.path.iter().enumerate() {
            if !matches!(here.get_ref(), DeValue::Table(_)) {
                *here = marked(DeValue::Table(DeTable::default()));
            }
            let DeValue::Table(t) = here.get_mut() else {
                return;
            };
            let last = i + 1 == self.path.len();
            if last {
                t.insert(marked(seg.clone().into()), marked(self.value()));
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
    fn parses_and_routes_overrides() {
        let o: Override = "repos.olympia.path=/src/o".parse().unwrap();
        assert!(o.is_config());
        let o: Override = "schedule.timezone=UTC".parse().unwrap();
        assert!(!o.is_config());
        assert!("novalue".parse::<Override>().is_err());
        assert!("a..b=1".parse::<Override>().is_err());
    }

    #[test]
    fn values_are_toml_when_they_read_as_toml() {
        let o: Override = "x.y=3".parse().unwrap();
        assert!(matches!(o.value(), DeValue::Integer(_)));
        let o: Override = "x.y=/src/olympia".parse().unwrap();
        assert!(matches!(o.value(), DeValue::String(_)));
        let o: Override = "x.y=[\"a\", \"b\"]".parse().unwrap();
        assert!(matches!(o.value(), DeValue::Array(_)));
    }
}
