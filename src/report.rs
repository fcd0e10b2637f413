//! `pushduty report` as Markdown: what [`pushduty_core::report`] added up from a journal,
//! written for a pad, an issue or an email.

pub use pushduty_core::report::*;

use serde_json::Value;

use crate::runbook::model::Runbook;
use crate::sanitize::clean_line;

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Data in a Markdown line: one line, no control characters, and no character that would
/// start markup where it stands (a backtick; a `<`, escaped with a backslash, which reads as
/// itself in the raw text too, where an entity (`&lt;`) did not).
fn md(s: &str) -> String {
    clean_line(s).replace('`', "'").replace('<', "\\<")
}

/// What a step recorded about blockers, for people: each blocker on a line of its own with
/// what happened to it and its commits, not the JSON it is kept as.
fn blocker_lines(v: &Value) -> Vec<String> {
    let Value::Array(list) = v else {
        return vec![md(&value_text(v))];
    };
    if list.is_empty() {
        return vec!["none".into()];
    }
    list.iter()
        .map(|b| {
            let text = |k: &str| b[k].as_str().map(str::to_string);
            let title = text("title").unwrap_or_else(|| value_text(b));
            let number = b["number"]
                .as_u64()
                .map(|n| format!(" (#{n})"))
                .unwrap_or_default();
            let outcome = text("outcome").unwrap_or_default();
            let commits: Vec<String> = b["commits"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| c.as_str().map(|c| format!("`{}`", md(c))))
                .collect();
            let url = text("url")
                .map(|u| format!(" {}", md(&u)))
                .unwrap_or_default();
            format!(
                "{}{number}: {}{}{url}",
                md(&title),
                md(&outcome),
                if commits.is_empty() {
                    String::new()
                } else {
                    format!(" {}", commits.join(" "))
                }
            )
        })
        .collect()
}

/// The checklist's mark of a status name.
fn mark(status: &str) -> &'static str {
    match status {
        "done" => "[x]",
        "running" => "[>]",
        "skipped" => "[-]",
        "failed" => "[!]",
        "not_applicable" => "[/]",
        "interrupted" => "[?]",
        _ => "[ ]",
    }
}

/// The report as a document for people: the push at a glance, blockers, then every step by
/// section with its runs, and the ad-hoc items.
pub fn markdown(r: &Report, rb: &Runbook) -> String {
    // Times as the team reads them: in the runbook's timezone, with the weekday.
    let tz: chrono_tz::Tz = rb.schedule.timezone.parse().unwrap_or(chrono_tz::UTC);
    let when = |at: &str| md(&crate::words::when(at, tz));
    let mut out = String::new();
    let mut line = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    line(format!("# {}: the push of {}", md(&r.runbook), r.push_date));
    line(String::new());
    let tags: Vec<String> = r
        .tags
        .iter()
        .map(|(repo, t)| format!("{} `{}`", md(repo), md(t)))
        .collect();
    line(format!(
        "- **Outcome:** {} ({} of {} steps finished)",
        r.outcome, r.done, r.total
    ));
    line(format!("- **Tags:** {}", tags.join(", ")));
    line(format!(
        "- **Operators:** {}",
        r.operators
            .iter()
            .map(|o| md(o))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    line(format!("- **Started:** {}", when(&r.started)));
    line(format!(
        "- **Finished:** {}",
        r.finished.as_deref().map_or("not yet".into(), when)
    ));
    if let Some(secs) = r.finished.as_deref().and_then(|f| seconds(&r.started, f)) {
        line(format!("- **Took:** {}", duration(secs)));
    }
    let by_hand: Vec<String> = r
        .steps
        .iter()
        .filter(|s| s.status == "done" && s.by_hand)
        .map(|s| format!("`{}`", s.id))
        .collect();
    if !by_hand.is_empty() {
        line(format!("- **Done by hand:** {}", by_hand.join(", ")));
    }
    line(String::new());
    line("## Blockers".into());
    line(String::new());
    if r.blockers.is_empty() {
        line("No step records blockers.".into());
    }
    for b in &r.blockers {
        let note = b
            .note
            .as_deref()
            .map_or(String::new(), |n| format!("; note: {}", md(n)));
        match &b.blockers {
            None => line(format!(
                "- `{}` ({}): (not recorded){note}",
                b.step, b.status
            )),
            Some(v) => {
                let lines = blocker_lines(v);
                if let [one] = lines.as_slice() {
                    line(format!("- `{}` ({}): {one}{note}", b.step, b.status));
                } else {
                    line(format!("- `{}` ({}){note}:", b.step, b.status));
                    for l in lines {
                        line(format!("  - {l}"));
                    }
                }
            }
        }
    }
    let mut section: Option<&str> = None;
    for s in &r.steps {
        if section != Some(s.section.as_str()) {
            section = Some(&s.section);
            line(String::new());
            line(format!(
                "## {}",
                if s.section.is_empty() {
                    "No longer in the runbook".to_string()
                } else {
                    md(rb.section_title(&s.section))
                }
            ));
            line(String::new());
        }
        let who = match (&s.by, &s.at) {
            (Some(by), Some(at)) if s.status != "pending" => {
                format!(" ({} by {}, {})", s.status, md(by), when(at))
            }
            _ => String::new(),
        };
        let item = if s.item { " *(ad-hoc item)*" } else { "" };
        let hand = if s.status == "done" && s.by_hand {
            " *(done by hand)*"
        } else {
            ""
        };
        line(format!(
            "- {} **{}**: {}{item}{hand}{who}",
            mark(&s.status),
            s.id,
            md(&s.title)
        ));
        if !s.evidence.is_empty() {
            line("  - what the approver saw:".into());
            for l in &s.evidence {
                line(format!("    - {}", md(l)));
            }
        }
        if let (Some(shown), "done") = (&s.by_hand_shown, s.status.as_str()) {
            let first = shown.lines().next().unwrap_or_default();
            line(format!("  - by hand, as shown: {}", md(first)));
            if let Some(n) = &s.note {
                line(format!("  - what was done: {}", md(n)));
            }
        }
        // Runs, skips, reopens and stale marks in the order they happened.
        let mut timeline: Vec<(&str, Vec<String>)> = Vec::new();
        for (i, run) in s.runs.iter().enumerate() {
            let took = run
                .seconds
                .map_or(String::new(), |x| format!(", {}", duration(x)));
            let ended = run.ended.as_deref().map_or("…".into(), when);
            let n = if s.runs.len() > 1 {
                format!(" {}", i + 1)
            } else {
                String::new()
            };
            let mut lines = vec![format!(
                "  - run{n}: {} → {ended}{took}: {} by {}",
                when(&run.started),
                run.result,
                md(&run.by)
            )];
            let details = [
                ("did", &run.action),
                ("note", &run.note),
                ("**checks overridden**", &run.override_reason),
            ];
            for (label, text) in details {
                if let Some(t) = text {
                    lines.push(format!("    - {label}: {}", md(t)));
                }
            }
            if let Some(why) = &run.reason {
                let mut said = why.lines().filter(|l| !l.trim().is_empty());
                let first = said.next().unwrap_or_default();
                lines.push(format!("    - **{}:** {}", run.result, md(first)));
                // What the first line names (the issue, the failed job), each on its own.
                for more in said.take(20) {
                    lines.push(format!("      - {}", md(more.trim())));
                }
            }
            timeline.push((&run.started, lines));
        }
        for (what, list) in [
            ("skipped", &s.skips),
            ("reopened", &s.reopens),
            ("had to run again", &s.stale),
        ] {
            for r in list {
                timeline.push((
                    &r.at,
                    vec![format!(
                        "  - {what} by {} at {}: {}",
                        md(&r.by),
                        when(&r.at),
                        md(&r.reason)
                    )],
                ));
            }
        }
        // RFC 3339 times in UTC sort as text; the sort is stable for equal times.
        timeline.sort_by(|a, b| a.0.cmp(b.0));
        for l in timeline.into_iter().flat_map(|(_, l)| l) {
            line(l);
        }
        // A note given with a run is shown with it.
        if let Some(n) = s
            .note
            .as_ref()
            .filter(|n| !s.runs.iter().any(|r| r.note.as_ref() == Some(*n)))
        {
            line(format!("  - note: {}", md(n)));
        }
        if !s.outputs.is_empty() {
            let outs: Vec<String> = s
                .outputs
                .iter()
                .map(|(k, v)| format!("{} = {}", md(k), md(&value_text(v))))
                .collect();
            line(format!("  - outputs: {}", outs.join("; ")));
        }
    }
    for (title, items) in [
        ("Ad-hoc items", &r.items),
        ("For the next push", &r.next_push),
    ] {
        if items.is_empty() {
            continue;
        }
        line(String::new());
        line(format!("## {title}"));
        line(String::new());
        for it in items {
            let status = it
                .status
                .as_deref()
                .map_or(String::new(), |s| format!("{} ", mark(s)));
            let from = it.from.as_ref().map_or(String::new(), |o| {
                format!(
                    "; carried from the push of {} (its {})",
                    md(&o.push_date),
                    md(&o.id)
                )
            });
            line(format!(
                "- {status}**{}**: {} (in {}; added by {} at {}{from})",
                it.id,
                md(&it.text),
                md(rb.section_title(&it.section)),
                md(&it.by),
                when(&it.at)
            ));
        }
    }
    if !r.warnings.is_empty() {
        line(String::new());
        line("## Journal warnings".into());
        line(String::new());
        for w in &r.warnings {
            line(format!("- {}", md(w)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use indexmap::IndexMap;
    use pushduty_core::session::SessionState;
    use pushduty_core::session::journal::Entry;
    use pushduty_core::session::journal::Event;

    /// The findings: the report showed the blockers as raw JSON and `<` as `&lt;`.
    #[test]
    fn blockers_read_as_lines_and_a_less_than_as_itself() {
        let v = serde_json::json!([
            { "number": 1187, "title": "Search <crashes>", "url": "https://x/1187",
              "outcome": "cherry-pick", "commits": ["687a29f"] },
            { "number": 12, "title": "Slow", "url": "https://x/12", "outcome": "deferred",
              "commits": [] },
        ]);
        assert_eq!(
            blocker_lines(&v),
            [
                "Search \\<crashes> (#1187): cherry-pick `687a29f` https://x/1187",
                "Slow (#12): deferred https://x/12",
            ]
        );
        assert_eq!(blocker_lines(&serde_json::json!([])), ["none"]);
        assert_eq!(md("a <b>"), "a \\<b>");
    }

    fn entry(time: &str, who: &str, t: pushduty_core::session::journal::Transition) -> Entry {
        Entry {
            time: time.into(),
            operator: who.into(),
            event: Event::Step(t),
        }
    }

    #[test]
    fn runs_keep_their_overrides_failures_and_interruptions() {
        use pushduty_core::session::journal::{Header, Transition};
        let header = Header {
            runbook: "R".into(),
            fingerprint: "f".into(),
            slug: "r".into(),
            push_date: "2015-09-10".into(),
            tag: "2015.09.10".into(),
            tags: IndexMap::new(),
            steps: [("push".to_string(), "h".to_string())]
                .into_iter()
                .collect(),
            services: IndexMap::new(),
        };
        let t = |from: &str, to: &str, reason: Option<&str>| {
            let mut t = Transition::new("push", from, to);
            t.reason = reason.map(str::to_string);
            t
        };
        let entries = vec![
            Entry {
                time: "2015-09-10T10:00:00Z".into(),
                operator: "ana".into(),
                event: Event::Session(header),
            },
            entry("2015-09-10T10:00:00Z", "ana", t("pending", "running", None)),
            entry(
                "2015-09-10T10:01:00Z",
                "ana",
                t("running", "interrupted", Some("stopped by SIGTERM: x")),
            ),
            entry(
                "2015-09-10T10:05:00Z",
                "bo",
                t(
                    "interrupted",
                    "running",
                    Some("preconditions overridden: ships nothing, on purpose"),
                ),
            ),
            entry(
                "2015-09-10T10:07:05Z",
                "bo",
                t("running", "failed", Some("remote said no\nmore detail")),
            ),
        ];
        let state = SessionState::rebuild(&entries).unwrap();
        // The bundled runbook has no step `push`: one the runbook has dropped since.
        let rb = crate::runbook::load(None, &[]).unwrap().runbook;
        let r = build(&entries, &state, &rb, &IndexMap::new(), Vec::new());
        let push = r.steps.iter().find(|s| s.id == "push").unwrap();
        assert_eq!(push.kind, "removed from the runbook");
        assert_eq!(push.runs.len(), 2);
        assert_eq!(push.runs[0].result, "interrupted");
        assert_eq!(push.runs[0].seconds, Some(60));
        assert_eq!(push.runs[1].by, "bo");
        assert_eq!(
            push.runs[1].override_reason.as_deref(),
            Some("ships nothing, on purpose")
        );
        // Kept whole: what the first line announces follows it.
        assert_eq!(
            push.runs[1].reason.as_deref(),
            Some("remote said no\nmore detail")
        );
        assert_eq!(push.runs[1].seconds, Some(125));
        assert_eq!(r.operators, ["ana", "bo"]);
        assert_eq!(r.finished, None);
        let md = markdown(&r, &rb);
        assert!(
            md.contains("**checks overridden**: ships nothing, on purpose"),
            "{md}"
        );
        assert!(
            md.contains("**failed:** remote said no\n      - more detail"),
            "{md}"
        );
    }
}
