//! The services a push talks to, resolved once: the runbook's `services.*` with the operator's
//! config on top (user names, URL overrides, which variable or keyring entry holds which
//! secret), secrets read at that moment and kept redacted. The steps, the panes and `status`
//! all use this one set.

pub mod http;
pub mod jenkins;

use indexmap::IndexMap;

use crate::config::Config;
use crate::runbook::model::{Runbook, SecretRef, Service};
use crate::secret::{self, Secret};

/// A Jenkins job as this operator reaches it.
#[derive(Debug, Clone)]
pub struct JenkinsConf {
    pub name: String,
    pub url: String,
    /// `folder/job` path.
    pub job: String,
    pub tag_param: String,
    pub user: Option<String>,
    /// The API token, or why there is none (said when it is needed, never before).
    pub token: Result<Secret, String>,
}

impl JenkinsConf {
    /// A client, or what to configure first.
    pub fn client(&self) -> Result<jenkins::Jenkins, String> {
        let user = self.user.clone().ok_or_else(|| {
            format!(
                "service `{}` has no user: set `services.{}.user` in your config",
                self.name, self.name
            )
        })?;
        let token = self.token.clone().map_err(|e| {
            format!(
                "service `{}` has no API token: {e} (name it with `services.{}.token = {{ env = \"NAME\" }}` or `{{ keyring = \"service/user\" }}`)",
                self.name, self.name
            )
        })?;
        Ok(jenkins::Jenkins::new(&self.url, &self.job, user, token))
    }
}

/// One service of the runbook, resolved.
#[derive(Debug, Clone)]
pub enum Resolved {
    Jenkins(JenkinsConf),
    /// A kind whose client is not in this build yet.
    Other {
        kind: &'static str,
    },
}

#[derive(Debug, Clone, Default)]
pub struct Services(pub IndexMap<String, Resolved>);

impl Services {
    pub fn resolve(rb: &Runbook, config: &Config) -> Self {
        let mut out = IndexMap::new();
        for (name, svc) in &rb.services {
            let mine = config.services.get(name);
            let resolved = match svc {
                Service::Jenkins(j) => Resolved::Jenkins(JenkinsConf {
                    name: name.clone(),
                    url: mine
                        .and_then(|c| c.url.clone())
                        .unwrap_or_else(|| j.url.clone())
                        .trim_end_matches('/')
                        .to_string(),
                    job: j.job.clone(),
                    tag_param: j.tag_param.clone(),
                    user: mine.and_then(|c| c.user.clone()).or_else(|| j.user.clone()),
                    token: read(mine.and_then(|c| c.token.as_ref()).unwrap_or(&j.token)),
                }),
                other => Resolved::Other { kind: other.kind() },
            };
            out.insert(name.clone(), resolved);
        }
        Services(out)
    }

    pub fn jenkins(&self, name: &str) -> Result<&JenkinsConf, String> {
        match self.0.get(name) {
            Some(Resolved::Jenkins(j)) => Ok(j),
            Some(Resolved::Other { kind }) => {
                Err(format!("service `{name}` is a {kind} service, not Jenkins"))
            }
            None => Err(format!("the runbook has no service `{name}`")),
        }
    }
}

fn read(r: &SecretRef) -> Result<Secret, String> {
    secret::resolve(r).map_err(|e| format!("{e:#}"))
}
