//! Secrets: a runbook or config only names where one lives (`{ env = "NAME" }` or
//! `{ keyring = "service/user" }`); the value is read when a step needs it, never printed, and
//! cut out of any text that could carry it (an error from a server, a command's output).

use std::fmt;

use anyhow::{Context, Result, bail};

use pushduty_platform::secret_store;

use crate::runbook::model::SecretRef;

/// What is written in place of a secret.
pub const REDACTED: &str = "[redacted]";

/// A secret value. `Debug` and `Display` print [`REDACTED`]; the value is reached only
/// through [`Secret::expose`], so every use of it is visible in the code.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself, for the one place that sends it (a header, a login).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// Reads the secret a reference names: an environment variable or a system keyring entry.
/// Errors name the place, never the value.
pub fn resolve(r: &SecretRef) -> Result<Secret> {
    match (&r.env, &r.keyring) {
        (Some(_), Some(_)) => bail!("name the secret once: `env` or `keyring`, not both"),
        (Some(name), None) => from_env(name),
        (None, Some(entry)) => from_keyring(entry),
        (None, None) => bail!(
            "no secret configured: set `{{ env = \"NAME\" }}` or `{{ keyring = \"service/user\" }}`"
        ),
    }
}

/// Values this process itself supplies for the environment variables secrets are read from,
/// consulted before the environment: `rehearse` hands its fresh tokens to the engine this way
/// instead of changing the process environment, which is unsound once threads run.
static SUPPLIED: std::sync::OnceLock<std::collections::HashMap<String, Secret>> =
    std::sync::OnceLock::new();

/// Supplies `values` (variable name, secret) for the rest of the process; once only.
pub fn supply(values: impl IntoIterator<Item = (String, Secret)>) -> Result<()> {
    SUPPLIED
        .set(values.into_iter().collect())
        .map_err(|_| anyhow::anyhow!("secrets were already supplied to this process"))
}

fn from_env(name: &str) -> Result<Secret> {
    if let Some(v) = SUPPLIED.get().and_then(|m| m.get(name)) {
        return Ok(v.clone());
    }
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => Ok(Secret(v)),
        Ok(_) => bail!("environment variable `{name}` is empty"),
        Err(std::env::VarError::NotPresent) => bail!("environment variable `{name}` is not set"),
        Err(std::env::VarError::NotUnicode(_)) => {
            bail!("environment variable `{name}` is not valid UTF-8")
        }
    }
}

/// `service/user`: the user is after the last `/`, so a service may itself hold slashes.
fn keyring_entry(entry: &str) -> Result<secret_store::Entry> {
    let (service, user) = entry
        .rsplit_once('/')
        .filter(|(s, u)| !s.is_empty() && !u.is_empty())
        .with_context(|| format!("keyring entry `{entry}` is not `service/user`"))?;
    secret_store::Entry::new(service, user)
        .with_context(|| format!("opening keyring entry `{entry}`"))
}

fn from_keyring(entry: &str) -> Result<Secret> {
    let e = keyring_entry(entry)?;
    match e.get_password() {
        Ok(v) => Ok(Secret(v)),
        Err(secret_store::Error::NoEntry) => bail!("the keyring has no entry `{entry}`"),
        Err(err) => Err(err).with_context(|| format!("reading keyring entry `{entry}`")),
    }
}

/// `text` with each secret cut out and [`REDACTED`] in its place: the value itself, and the
/// forms it travels in (percent-encoded, base64 as in a basic-auth header or an SMTP login;
/// see [`crate::redact`]).
pub fn scrub(text: &str, secrets: &[&Secret]) -> String {
    let spans = secrets
        .iter()
        .flat_map(|s| crate::redact::spans(text, s.expose()))
        .collect();
    crate::redact::cut(text, spans, REDACTED)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_ref(name: &str) -> SecretRef {
        SecretRef {
            env: Some(name.into()),
            keyring: None,
        }
    }

    #[test]
    fn a_supplied_secret_is_read_without_touching_the_environment() {
        let name = "PUSHDUTY_TEST_SUPPLIED_TOKEN";
        supply([(name.to_string(), Secret::new("s3cret"))]).unwrap();
        assert_eq!(resolve(&env_ref(name)).unwrap().expose(), "s3cret");
        assert!(std::env::var_os(name).is_none());
        assert!(supply([]).is_err(), "once only");
        // Other variables still come from the environment.
        let err = resolve(&env_ref("PUSHDUTY_TEST_NOT_SUPPLIED")).unwrap_err();
        assert!(err.to_string().contains("is not set"), "{err}");
    }

    #[test]
    fn never_printed() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s}"), REDACTED);
        assert_eq!(format!("{s:?}"), REDACTED);
        assert_eq!(format!("{:?}", Some(&s)), "Some([redacted])");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn resolves_from_the_environment() {
        // PATH is set in any test run; its value stands in for a token.
        let path = std::env::var("PATH").unwrap();
        assert_eq!(resolve(&env_ref("PATH")).unwrap().expose(), path);
        let e = resolve(&env_ref("PUSHDUTY_TEST_NO_SUCH_VAR")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "environment variable `PUSHDUTY_TEST_NO_SUCH_VAR` is not set"
        );
        assert!(resolve(&SecretRef::default()).is_err());
        let both = SecretRef {
            env: Some("PATH".into()),
            keyring: Some("a/b".into()),
        };
        assert!(resolve(&both).is_err());
    }

    #[test]
    fn resolves_from_the_keyring() {
        let bad = SecretRef {
            env: None,
            keyring: Some("no-user".into()),
        };
        assert!(format!("{:#}", resolve(&bad).unwrap_err()).contains("service/user"));
        let name = format!("pushduty-test-{}/tester", std::process::id());
        let r = SecretRef {
            env: None,
            keyring: Some(name.clone()),
        };
        let e = resolve(&r).unwrap_err();
        assert!(format!("{e:#}").contains(&name), "{e:#}");
        let entry = keyring_entry(&name).unwrap();
        match entry.set_password("s3cret-from-keyring") {
            Ok(()) => {
                let got = resolve(&r);
                let _ = entry.delete_credential();
                assert_eq!(got.unwrap().expose(), "s3cret-from-keyring");
            }
            // A sandbox may forbid the kernel keyring; then only the errors can be tested.
            Err(e) => eprintln!("keyring not writable here: {e}"),
        }
    }

    #[test]
    fn scrubs_every_occurrence() {
        let a = Secret::new("tok");
        let b = Secret::new("tok-longer");
        let empty = Secret::new("");
        assert_eq!(
            scrub("x tok-longer y tok z", &[&a, &b, &empty]),
            "x [redacted] y [redacted] z"
        );
        assert_eq!(scrub("nothing here", &[&a]), "nothing here");
        // Encoded, as an echoing server sends it back: `andym:tok-longer` in base64.
        assert_eq!(
            scrub("Authorization: Basic YW5keW06dG9rLWxvbmdlcg==", &[&b]),
            "Authorization: Basic [redacted]"
        );
    }
}
