//! `doctor`'s model: one finding per thing a runbook names (a remote, a service, a series, a
//! link), the report they make, and the checks that need no request (the URLs in a text, and
//! what is wrong with one before anyone asks it).

use serde::Serialize;

/// One thing checked: ok, or what is wrong and how to fix it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Finding {
    /// What was checked, as the operator names it: `jenkins stage-deploy`, `link links.stage`.
    pub item: String,
    /// `git`, `jenkins`, `sentry`, `graphite`, `link`, ...
    pub kind: String,
    pub ok: bool,
    /// What was found (an ok says what answered; a failure what went wrong).
    pub detail: String,
    /// What to do; `None` when ok.
    pub fix: Option<String>,
    /// How long the check took, in milliseconds.
    pub ms: u64,
}

impl Finding {
    pub fn ok(item: &str, kind: &str, detail: impl Into<String>) -> Self {
        Self {
            item: item.to_string(),
            kind: kind.to_string(),
            ok: true,
            detail: detail.into(),
            fix: None,
            ms: 0,
        }
    }

    pub fn broken(
        item: &str,
        kind: &str,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Self {
            item: item.to_string(),
            kind: kind.to_string(),
            ok: false,
            detail: detail.into(),
            fix: Some(fix.into()),
            ms: 0,
        }
    }
}

/// The slowest check: the one that set how long `doctor` took.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Slowest {
    pub item: String,
    pub ms: u64,
}

/// Every finding, in the runbook's order.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Report {
    pub ok: bool,
    pub items: Vec<Finding>,
    pub slowest: Option<Slowest>,
}

impl Report {
    pub fn new(items: Vec<Finding>) -> Self {
        let slowest = items.iter().max_by_key(|f| f.ms).map(|f| Slowest {
            item: f.item.clone(),
            ms: f.ms,
        });
        Self {
            ok: items.iter().all(|f| f.ok),
            items,
            slowest,
        }
    }

    /// One line per item (`ok  ` or `FAIL`), the fix indented under a failure, and a summary.
    pub fn text(&self) -> String {
        let mut s = String::new();
        for f in &self.items {
            let mark = if f.ok { "ok  " } else { "FAIL" };
            s.push_str(&format!("{mark}  {}: {}\n", f.item, f.detail));
            if let Some(fix) = &f.fix {
                s.push_str(&format!("      fix: {fix}\n"));
            }
        }
        let broken = self.items.iter().filter(|f| !f.ok).count();
        s.push_str(&format!(
            "{}: {}",
            crate::words::count(self.items.len() as u64, "item"),
            if broken == 0 {
                "all ok".to_string()
            } else {
                format!("{broken} to fix")
            }
        ));
        if let Some(w) = &self.slowest {
            s.push_str(&format!(
                "; slowest: {} ({:.1} s)",
                w.item,
                w.ms as f64 / 1000.0
            ));
        }
        s.push('\n');
        s
    }
}

/// The `http://` and `https://` URLs in a text (Markdown links and bare ones), in order, each
/// once. A doubled scheme stays part of its URL, so that it is reported, not half-read.
pub fn urls_in(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(at) = find_scheme(rest) {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| c.is_whitespace() || "<>\"'`)]".contains(c))
            .unwrap_or(tail.len());
        let url = tail[..end].trim_end_matches(['.', ',', ';', ':', '!', '?']);
        if !out.iter().any(|u| u == url) {
            out.push(url.to_string());
        }
        rest = &tail[end.max(1)..];
    }
    out
}

fn find_scheme(text: &str) -> Option<usize> {
    let lower = text.to_ascii_lowercase();
    match (lower.find("http://"), lower.find("https://")) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// What is wrong with a URL that no request is needed to see, and how to write it instead.
pub fn malformed(url: &str) -> Option<String> {
    let lower = url.to_ascii_lowercase();
    let Some(after) = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
    else {
        return Some("it does not start with http:// or https://".into());
    };
    if after.starts_with("http:") || after.starts_with("https:") {
        return Some("its scheme is written twice (`https://https://`): keep one".into());
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some(
            "it holds a space or a control character: encode it (%20) or remove it".into(),
        );
    }
    let authority = after.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host_port.split(':').next().unwrap_or_default(),
    };
    if host.is_empty() {
        return Some("it names no host".into());
    }
    if !host_port.starts_with('[')
        && let Some((_, port)) = host_port.split_once(':')
        && !port.is_empty()
        && port.parse::<u16>().is_err()
    {
        return Some(format!("`{port}` is not a port number"));
    }
    if host
        .chars()
        .any(|c| !(c.is_alphanumeric() || "-._:%".contains(c)))
    {
        return Some(format!("`{host}` is not a host name"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_found_in_markdown_and_bare_text() {
        let text = "See [the dashboard](https://grafana.example/d/1?x=1). Or \
                    <http://a.example/b>, then https://https://monitor.example/x, and \
                    https://a.example/b again; `https://c.example`.";
        assert_eq!(
            urls_in(text),
            [
                "https://grafana.example/d/1?x=1",
                "http://a.example/b",
                "https://https://monitor.example/x",
                "https://a.example/b",
                "https://c.example"
            ]
        );
        assert!(urls_in("no links here: http:/ nor ftp://x").is_empty());
    }

    #[test]
    fn malformed_urls_are_named_without_a_request() {
        for (url, says) in [
            ("https://https://monitor.example", "scheme is written twice"),
            ("http://http://x", "scheme is written twice"),
            ("https:///path", "names no host"),
            ("https://", "names no host"),
            ("https://a.example:80x/", "not a port number"),
            ("https://a b.example/", "space"),
            ("https://a_b!.example/", "not a host name"),
        ] {
            let why = malformed(url).unwrap_or_default();
            assert!(why.contains(says), "{url}: {why}");
        }
        for url in [
            "https://addons.allizom.org",
            "http://127.0.0.1:8080/render?target=a.b",
            "https://user@host.example/x",
            "http://[::1]:80/",
            "https://www.google.com/calendar/embed?src=a%40b",
        ] {
            assert_eq!(malformed(url), None, "{url}");
        }
    }

    #[test]
    fn the_report_names_each_failure_with_its_fix_and_the_slowest() {
        let mut slow = Finding::broken("jenkins deploy", "jenkins", "no answer within 8s", "ask");
        slow.ms = 8000;
        let report = Report::new(vec![Finding::ok("git olympia", "git", "reachable"), slow]);
        assert!(!report.ok);
        assert_eq!(
            report.text(),
            "ok    git olympia: reachable\n\
             FAIL  jenkins deploy: no answer within 8s\n      fix: ask\n\
             2 items: 1 to fix; slowest: jenkins deploy (8.0 s)\n"
        );
        assert!(Report::new(vec![]).ok);
    }
}
