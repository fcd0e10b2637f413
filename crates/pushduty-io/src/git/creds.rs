//! Credentials for fetch and push, shared by both.
//!
//! ssh URLs use the ssh agent, https URLs a token when one is given and the git credential
//! helper otherwise. Each kind of credential is offered a few times at most: libgit2 asks again
//! after a rejected credential, and an unlimited callback would loop forever on a bad one.
//! Secrets never appear in `Debug` output or in error messages.

use std::cell::Cell;

use git2::{Config, Cred, CredentialType, RemoteCallbacks};

use crate::secret::Secret;

/// How many times each kind of credential may be tried for one connection.
const MAX_ATTEMPTS: u32 = 3;

/// Optional explicit credentials; the default uses the ssh agent and git's credential helper.
#[derive(Clone, Default, Debug)]
pub struct Credentials {
    /// User name for https when the URL has none (GitHub accepts any with a token).
    pub username: Option<String>,
    token: Option<Secret>,
}

impl Credentials {
    /// Agent for ssh, credential helper for https.
    pub fn from_environment() -> Self {
        Self::default()
    }

    /// An https token (e.g. a GitHub personal access token) used instead of the helper.
    pub fn with_token(username: Option<String>, token: Secret) -> Self {
        Self {
            username,
            token: Some(token),
        }
    }

    /// Remote callbacks whose credential callback follows the rules above. `config` is the
    /// repository's configuration, where the credential helper is set.
    pub fn callbacks<'a>(&'a self, config: &'a Config) -> RemoteCallbacks<'a> {
        let mut callbacks = RemoteCallbacks::new();
        let attempts = Cell::new(0u32);
        callbacks.credentials(move |url, username_from_url, allowed| {
            attempts.set(attempts.get() + 1);
            if attempts.get() > MAX_ATTEMPTS {
                return Err(git2::Error::from_str(&format!(
                    "authentication to {} failed after {MAX_ATTEMPTS} attempts",
                    redact_url(url)
                )));
            }
            self.credential(config, url, username_from_url, allowed)
        });
        callbacks
    }

    fn credential(
        &self,
        config: &Config,
        url: &str,
        username_from_url: Option<&str>,
        allowed: CredentialType,
    ) -> Result<Cred, git2::Error> {
        let user = username_from_url.or(self.username.as_deref());
        if allowed.contains(CredentialType::USERNAME) {
            return Cred::username(user.unwrap_or("git"));
        }
        if allowed.contains(CredentialType::SSH_KEY) {
            return Cred::ssh_key_from_agent(user.unwrap_or("git"));
        }
        if allowed.contains(CredentialType::USER_PASS_PLAINTEXT) {
            return match &self.token {
                Some(token) => {
                    Cred::userpass_plaintext(user.unwrap_or("x-access-token"), token.expose())
                }
                None => Cred::credential_helper(config, url, user).map_err(|_| {
                    git2::Error::from_str(&format!(
                        "no credentials for {} (configure a git credential helper)",
                        redact_url(url)
                    ))
                }),
            };
        }
        if allowed.contains(CredentialType::DEFAULT) {
            return Cred::default();
        }
        Err(git2::Error::from_str(&format!(
            "{} asks for a kind of credential pushduty does not support",
            redact_url(url)
        )))
    }
}

/// The URL without any `user:password@` part, for messages.
pub(crate) fn redact_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            format!("{scheme}://{host}/{path}")
        }
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_urls_hide_secrets() {
        let c = Credentials::with_token(Some("me".into()), Secret::new("s3cret"));
        assert!(!format!("{c:?}").contains("s3cret"));
        assert_eq!(
            redact_url("https://me:s3cret@github.com/o/r.git"),
            "https://github.com/o/r.git"
        );
        assert_eq!(
            redact_url("git@github.com:o/r.git"),
            "git@github.com:o/r.git"
        );
    }
}
