//! Values a runbook reads from files in a repo's checkout (`[vars] version = { toml =
//! "Cargo.toml", key = "package.version" }`). The file is data, named by a relative path that
//! must stay inside the checkout: no absolute paths, no `..`, no symlink leading out.

use std::path::{Component, Path};

use anyhow::{Context, Result, bail};

/// Checks that `file` is a plain relative path that cannot climb out of the directory.
pub fn relative_inside(file: &str) -> Result<(), String> {
    let path = Path::new(file);
    if file.is_empty() {
        return Err("the file is empty: name a file in the repo, e.g. `Cargo.toml`".into());
    }
    if path.is_absolute() {
        return Err(format!(
            "`{file}` is an absolute path; name the file relative to the repo's checkout"
        ));
    }
    if path
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(format!(
            "`{file}` leaves the repo's checkout (`..`); name a file inside it"
        ));
    }
    Ok(())
}

/// The value at the dotted `key` of the TOML file `file` inside `checkout`, as text.
pub fn read_toml_value(checkout: &Path, file: &str, key: &str) -> Result<String> {
    relative_inside(file).map_err(anyhow::Error::msg)?;
    let root = checkout
        .canonicalize()
        .with_context(|| format!("the checkout {} cannot be read", checkout.display()))?;
    let path = root.join(file);
    let real = path
        .canonicalize()
        .with_context(|| format!("{file} is not in the checkout {}", root.display()))?;
    if !real.starts_with(&root) {
        bail!(
            "{file} in {} is a link to a file outside the checkout; it is not read",
            root.display()
        );
    }
    let text = crate::bounded::read_text(&real, crate::bounded::MAX_FILE_BYTES, "the value file")
        .with_context(|| format!("reading {file} in {}", root.display()))?;
    let doc: toml::Table =
        toml::from_str(&text).with_context(|| format!("{file} is not valid TOML"))?;
    let mut here: Option<&toml::Value> = None;
    let mut table = &doc;
    let parts: Vec<&str> = key.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        let Some(v) = table.get(*part) else {
            bail!("{file} has no `{key}` (no `{}`)", parts[..=i].join("."));
        };
        here = Some(v);
        if i + 1 < parts.len() {
            match v {
                toml::Value::Table(t) => table = t,
                _ => bail!(
                    "{file} has no `{key}`: `{}` is not a table",
                    parts[..=i].join(".")
                ),
            }
        }
    }
    match here {
        Some(toml::Value::String(s)) => Ok(s.clone()),
        Some(toml::Value::Integer(n)) => Ok(n.to_string()),
        Some(toml::Value::Float(n)) => Ok(n.to_string()),
        Some(toml::Value::Boolean(b)) => Ok(b.to_string()),
        Some(toml::Value::Datetime(d)) => Ok(d.to_string()),
        Some(other) => bail!(
            "`{key}` in {file} is a {}, not a single value",
            other.type_str()
        ),
        None => bail!("{file}: an empty key"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_must_stay_inside() {
        assert!(relative_inside("Cargo.toml").is_ok());
        assert!(relative_inside("./crates/a/Cargo.toml").is_ok());
        assert!(
            relative_inside("../Cargo.toml")
                .unwrap_err()
                .contains("leaves")
        );
        assert!(relative_inside("a/../../b").is_err());
        assert!(
            relative_inside("/etc/passwd")
                .unwrap_err()
                .contains("absolute")
        );
        assert!(relative_inside("").is_err());
    }

    #[test]
    fn reads_a_dotted_key_and_names_what_is_missing() {
        let dir = std::env::temp_dir().join(format!("pushduty-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("Cargo.toml"),
            "[package]\nname = \"x\"\nversion = \"0.2.0\"\n[workspace]\nmembers = []\n",
        )
        .unwrap();
        assert_eq!(
            read_toml_value(&dir, "Cargo.toml", "package.version").unwrap(),
            "0.2.0"
        );
        let e = read_toml_value(&dir, "Cargo.toml", "package.edition").unwrap_err();
        assert!(format!("{e:#}").contains("no `package.edition`"), "{e:#}");
        let e = read_toml_value(&dir, "Cargo.toml", "package.name.x").unwrap_err();
        assert!(format!("{e:#}").contains("not a table"), "{e:#}");
        let e = read_toml_value(&dir, "Cargo.toml", "workspace").unwrap_err();
        assert!(format!("{e:#}").contains("is a table"), "{e:#}");
        let e = read_toml_value(&dir, "Missing.toml", "a").unwrap_err();
        assert!(format!("{e:#}").contains("not in the checkout"), "{e:#}");
        #[cfg(unix)]
        {
            let outside = dir.with_extension("outside.toml");
            std::fs::write(&outside, "a = 1\n").unwrap();
            std::os::unix::fs::symlink(&outside, dir.join("link.toml")).unwrap();
            let e = read_toml_value(&dir, "link.toml", "a").unwrap_err();
            assert!(format!("{e:#}").contains("outside the checkout"), "{e:#}");
            std::fs::remove_file(&outside).unwrap();
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
