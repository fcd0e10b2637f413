//! Template files: found next to the runbook (or inside the binary for the bundled runbook),
//! rendered with tera over the session variables.

pub mod fuel;
pub mod growth;
pub mod guard;
pub mod refs;

use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, anyhow};

/// The bundled runbook and the templates it names, so `pushduty learn` works from any folder.
pub const BUNDLED_RUNBOOK_PATH: &str = "runbooks/amo-push.toml";
const BUNDLED: &[(&str, &str)] = &[
    (
        "runbooks/amo-push.toml",
        include_str!("../../../runbooks/amo-push.toml"),
    ),
    (
        "templates/push-notes.md",
        include_str!("../../../templates/push-notes.md"),
    ),
    (
        "templates/push-email.txt",
        include_str!("../../../templates/push-email.txt"),
    ),
];

/// Where a runbook's relative paths start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Base {
    /// The folder of a runbook file on disk.
    Dir(PathBuf),
    /// The bundled runbook: paths resolve inside the binary.
    Bundled,
}

impl Base {
    /// Reads a file named relative to the runbook; returns a display name and its text.
    pub fn read(&self, rel: &str) -> Result<(String, String)> {
        match self {
            Base::Dir(dir) => {
                let path = dir.join(rel);
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading template {}", path.display()))?;
                Ok((path.display().to_string(), text))
            }
            Base::Bundled => {
                let key = normalize(Path::new("runbooks").join(rel).as_path());
                BUNDLED
                    .iter()
                    .find(|(name, _)| *name == key)
                    .map(|(name, text)| (format!("<bundled>/{name}"), text.to_string()))
                    .ok_or_else(|| anyhow!("template `{rel}` is not bundled with pushduty"))
            }
        }
    }

    /// How a file named by the runbook is shown to the operator.
    pub fn display(&self, rel: &str) -> String {
        match self {
            Base::Dir(dir) => dir.join(rel).display().to_string(),
            Base::Bundled => format!(
                "<bundled>/{}",
                normalize(Path::new("runbooks").join(rel).as_path())
            ),
        }
    }
}

pub fn bundled_runbook() -> (&'static str, &'static str) {
    BUNDLED[0]
}

/// Folds `a/../b` without touching the file system.
fn normalize(p: &Path) -> String {
    let mut out: Vec<String> = Vec::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(s) => out.push(s.to_string_lossy().into_owned()),
            _ => {}
        }
    }
    out.join("/")
}

/// Renders a template string over the variables. Nothing is escaped: output is Markdown or text.
/// Every render is bounded (see [`guard`]): a hostile template fails with an error instead of
/// hanging or overflowing the stack, and no template can read the environment.
pub fn render(text: &str, vars: &serde_json::Value) -> Result<String> {
    if !text.contains('{') {
        // No tag, no comment: the text is its own rendering.
        return Ok(text.to_string());
    }
    let ctx = tera::Context::from_value(read_by(text, vars))
        .context("template variables must be a table")?;
    guard::render(text, ctx)
}

/// Above this many top-level variables, a render gets only those its template reads.
const NARROW_ABOVE: usize = 64;

/// The variables a render is given: a long runbook has a value per step output, and copying
/// them all into every render made its cost the square of the runbook's length. Only the
/// names the template reads are copied then; any other template gets them all.
fn read_by(text: &str, vars: &serde_json::Value) -> serde_json::Value {
    let serde_json::Value::Object(all) = vars else {
        return vars.clone();
    };
    if all.len() <= NARROW_ABOVE {
        return vars.clone();
    }
    let Ok(read) = refs::variables(text) else {
        // The render reports the template's error itself.
        return vars.clone();
    };
    let mut some = serde_json::Map::new();
    for path in &read {
        let name = path.split(['.', '[']).next().unwrap_or(path);
        if let Some(v) = all.get(name)
            && !some.contains_key(name)
        {
            some.insert(name.to_string(), v.clone());
        }
    }
    serde_json::Value::Object(some)
}

/// Evaluates an `only_if` expression.
pub fn condition(expr: &str, vars: &serde_json::Value) -> Result<bool> {
    let out = render(&refs::condition_template(expr), vars)?;
    Ok(out == "true")
}

/// tera nests the useful message in its error chain; join it into one line.
pub fn flatten(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(err) = cur {
        parts.push(err.to_string());
        cur = err.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_render_over_many_values_gets_those_it_reads_and_renders_the_same() {
        let mut vars = serde_json::Map::new();
        for i in 0..200 {
            vars.insert(format!("v{i}"), serde_json::json!(i));
        }
        vars.insert(
            "repos".into(),
            serde_json::json!({ "web": { "tag": "t1" } }),
        );
        vars.insert("list".into(), serde_json::json!(["a", "b"]));
        let vars = serde_json::Value::Object(vars);
        let text = "{{ v7 }} {{ repos.web.tag }}{% for x in list %} {{ x }}{% endfor %}";
        let read = read_by(text, &vars);
        let mut names: Vec<_> = read.as_object().unwrap().keys().collect();
        names.sort();
        assert_eq!(names, ["list", "repos", "v7"]);
        assert_eq!(render(text, &vars).unwrap(), "7 t1 a b");
        assert!(condition("v3 == 3 and v9 > 2", &vars).unwrap());
        // A name that is not there is still an error, not an empty value.
        assert!(render("{{ nope }}", &vars).is_err());
    }

    #[test]
    fn bundled_paths_resolve_like_files() {
        assert!(Base::Bundled.read("../templates/push-notes.md").is_ok());
        assert!(Base::Bundled.read("../templates/nope.md").is_err());
        assert_eq!(
            Base::Bundled.display("../templates/push-notes.md"),
            "<bundled>/templates/push-notes.md"
        );
    }

    #[test]
    fn renders_and_evaluates_conditions() {
        let vars = serde_json::json!({"tag": "2015.09.10", "strategy": "master"});
        assert_eq!(render("tag {{ tag }}", &vars).unwrap(), "tag 2015.09.10");
        assert!(condition("strategy == 'master'", &vars).unwrap());
        assert!(!condition("strategy == 'cherry_pick'", &vars).unwrap());
        assert!(render("{{ nope }}", &vars).is_err());
    }
}
