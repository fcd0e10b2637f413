//! Addresses built from runbook values: one place, so a preview and the call that follows it
//! name the same URL, and every value is encoded as one path segment.

/// Percent-encodes one URL path segment; `.` and `..` too, so a value never climbs the URL.
pub fn encode(segment: &str) -> String {
    if segment.bytes().all(|b| b == b'.') {
        return "%2E".repeat(segment.len());
    }
    let mut out = String::new();
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Each segment of a Jenkins job path as a URL path part (`a/b` -> `job/a/job/b`).
pub fn jenkins_job_path(job: &str) -> String {
    job.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| format!("job/{}", encode(s)))
        .collect::<Vec<_>>()
        .join("/")
}

/// `owner/repo`, each part encoded.
pub fn github_repo_path(repo: &str) -> String {
    repo.split('/').map(encode).collect::<Vec<_>>().join("/")
}

/// The first page of `repo`'s open GitHub issues labelled `label`.
pub fn github_issues_url(api: &str, repo: &str, label: &str) -> String {
    format!(
        "{}/repos/{}/issues?labels={}&state=open&per_page=100",
        api.trim_end_matches('/'),
        github_repo_path(repo),
        encode(label)
    )
}

/// GitHub's page of what changed between two revisions.
pub fn github_compare_url(github: &str, from: &str, to: &str) -> String {
    format!("https://github.com/{github}/compare/{from}...{to}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_never_climb() {
        assert_eq!(encode(".."), "%2E%2E");
        assert_eq!(encode("a b/c"), "a%20b%2Fc");
        assert_eq!(
            jenkins_job_path("/amo/../deploy/"),
            "job/amo/job/%2E%2E/job/deploy"
        );
        assert_eq!(
            github_issues_url("https://api.github.com/", "mozilla/olympia", "push blocker"),
            "https://api.github.com/repos/mozilla/olympia/issues?labels=push%20blocker&state=open&per_page=100"
        );
    }
}
