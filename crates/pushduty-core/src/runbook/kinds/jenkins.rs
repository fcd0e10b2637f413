//! `jenkins.build`: triggers the deploy job with this push's tag and follows the build (on
//! Jenkins, or a GitHub Actions workflow run).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Kind, KindInfo, Rules};
use crate::preview::Filler;
use crate::runbook::model::{Ordered, Runbook, Service, Step};

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JenkinsBuildStep {
    pub service: String,
    /// Extra build parameters; the service's `tag_param` gets the tag unless given here.
    #[serde(default)]
    pub params: Ordered<String>,
}

pub struct Build;

impl Kind for Build {
    type Fields = JenkinsBuildStep;
    const INFO: KindInfo = KindInfo {
        name: "jenkins.build",
        side_effect: true,
        outputs: Some(&["build_number", "build_url", "build_result"]),
        summary: "trigger a parameterised Jenkins job and follow it",
    };

    fn check(_: &JenkinsBuildStep, _: &mut Rules<'_, '_>) {}

    fn strings(j: &JenkinsBuildStep) -> Vec<(&'static str, &str)> {
        j.params.values().map(|v| ("params", v.as_str())).collect()
    }

    fn describe(j: &JenkinsBuildStep, _: &Step, rb: &Runbook, fl: &Filler<'_>) -> String {
        // The tag goes in as the service's parameter unless the step sets it itself.
        let values = |tag_key: &str, sep: &str| {
            let mut out: Vec<String> = Vec::new();
            if !j.params.contains_key(tag_key) {
                out.push(format!("{tag_key}={}", fl.text("{{ tag }}")));
            }
            out.extend(j.params.iter().map(|(k, v)| format!("{k}={}", fl.text(v))));
            out.join(sep)
        };
        match rb.services.get(&j.service) {
            Some(Service::Jenkins(svc)) => format!(
                "POST {}/{}/buildWithParameters {}; follow the queue item to the build and stream its console",
                svc.url.trim_end_matches('/'),
                crate::urls::jenkins_job_path(&svc.job),
                values(&svc.tag_param, "&")
            ),
            Some(Service::GithubActions(svc)) => format!(
                "POST {}/repos/{}/actions/workflows/{}/dispatches ref={} {}; follow the run it starts and its jobs",
                svc.api_url.trim_end_matches('/'),
                svc.repo,
                svc.workflow,
                svc.git_ref,
                values(&svc.tag_input, " ")
            ),
            _ => format!("trigger the deploy service `{}`", j.service),
        }
    }

    fn service(j: &JenkinsBuildStep) -> Option<(&str, &'static [&'static str])> {
        Some((&j.service, &["jenkins", "github_actions"]))
    }
}
