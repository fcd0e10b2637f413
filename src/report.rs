//! `pushduty report`: a push as it happened, added up from its journal. The state says where
//! each step ended; the journal's transitions say how it got there (each run with its start,
//! end and what it did, each skip, reopen and override, who did it). Pure: the caller reads
//! the journal and gives the steps as the engine sees them (titles filled in).

use std::collections::BTreeMap;

use indexmap::IndexMap;
use serde::Serialize;
use serde_json::Value;

use crate::runbook::model::Runbook;
use crate::sanitize::clean_line;
use crate::session::SessionState;
use crate::session::journal::{Entry, Event, ItemFor, Origin};

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub runbook: String,
    pub push_date: String,
    pub tags: IndexMap<String, String>,
    /// Everyone who wrote to the journal, in the order they first did.
    pub operators: Vec<String>,
    pub started: String,
    /// When the last step finished, once every step is finished; else `null`.
    pub finished: Option<String>,
    pub outcome: String,
    pub done: usize,
    pub total: usize,
    pub steps: Vec<ReportStep>,
    /// Ad-hoc items of this push (also among `steps`, by id).
    pub items: Vec<ReportItem>,
    /// Items left for the next push.
    pub next_push: Vec<ReportItem>,
    pub blockers: Vec<Blocker>,
    /// Journal lines passed over.
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReportStep {
    pub id: String,
    pub title: String,
    pub section: String,
    pub kind: String,
    /// An ad-hoc item rather than a runbook step.
    pub item: bool,
    pub status: String,
    /// The last transition's operator and time.
    pub by: Option<String>,
    pub at: Option<String>,
    /// What it did (its last run's action).
    pub action: Option<String>,
    pub note: Option<String>,
    pub runs: Vec<Run>,
    pub skips: Vec<Reasoned>,
    pub reopens: Vec<Reasoned>,
    /// Done steps put back to pending because what they would do changed.
    pub stale: Vec<Reasoned>,
    /// Scalars as they are (text to its first line), lists and tables by their size.
    pub outputs: BTreeMap<String, Value>,
}

/// One run: from `running` to how it ended.
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    pub started: String,
    /// `null` while it runs (or if the journal ends there).
    pub ended: Option<String>,
    pub seconds: Option<i64>,
    /// `done`, `failed`, `interrupted` or `running`.
    pub result: String,
    pub by: String,
    pub action: Option<String>,
    pub note: Option<String>,
    /// A failure's or an interruption's first line.
    pub reason: Option<String>,
    /// Why the operator acted although a check failed.
    #[serde(rename = "override")]
    pub override_reason: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Reasoned {
    pub at: String,
    pub by: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReportItem {
    pub id: String,
    pub text: String,
    pub section: String,
    pub by: String,
    pub at: String,
    /// The item's step status (`null` for the next push's items).
    pub status: Option<String>,
    pub from: Option<Origin>,
}

/// What a step recorded about blockers: the `blockers` step, or any step with a `blockers`
/// output.
#[derive(Debug, Clone, Serialize)]
pub struct Blocker {
    pub step: String,
    pub status: String,
    pub blockers: Option<Value>,
    pub note: Option<String>,
}

const OVERRIDDEN: &str = "preconditions overridden: ";
const REOPENED: &str = "reopened: ";

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().to_string()
}

/// An output as the report keeps it: enough to know what happened; `show --json` has it
/// whole.
fn summarise(v: &Value) -> Value {
    match v {
        Value::String(s) => {
            let line = first_line(s);
            if line.chars().count() > 160 {
                Value::from(format!("{}…", line.chars().take(159).collect::<String>()))
            } else if s.lines().nth(1).is_some() {
                Value::from(format!("{line} …"))
            } else {
                Value::from(line)
            }
        }
        Value::Array(a) => Value::from(format!("{} entries", a.len())),
        Value::Object(m) => Value::from(format!("{} fields", m.len())),
        other => other.clone(),
    }
}

fn seconds(from: &str, to: &str) -> Option<i64> {
    let a = chrono::DateTime::parse_from_rfc3339(from).ok()?;
    let b = chrono::DateTime::parse_from_rfc3339(to).ok()?;
    Some((b - a).num_seconds())
}

/// Every step's runs in the journal `entries`, in order: each from `running` to how it ended
/// (`report`, `learn --replay` and the durations across pushes all read them from here).
pub fn runs(entries: &[Entry]) -> IndexMap<String, Vec<Run>> {
    let mut runs: IndexMap<String, Vec<Run>> = IndexMap::new();
    for e in entries {
        let Event::Step(t) = &e.event else {
            continue;
        };
        match t.to.as_str() {
            "running" => runs.entry(t.step.clone()).or_default().push(Run {
                started: e.time.clone(),
                ended: None,
                seconds: None,
                result: "running".into(),
                by: e.operator.clone(),
                action: t.action.clone(),
                note: t.note.clone(),
                reason: None,
                override_reason: t
                    .reason
                    .as_deref()
                    .and_then(|r| r.strip_prefix(OVERRIDDEN))
                    .map(str::to_string),
            }),
            to @ ("done" | "failed" | "interrupted") => {
                if let Some(run) = runs
                    .get_mut(&t.step)
                    .and_then(|r| r.last_mut())
                    .filter(|r| r.ended.is_none())
                {
                    run.ended = Some(e.time.clone());
                    run.seconds = seconds(&run.started, &e.time);
                    run.result = to.to_string();
                    if t.action.is_some() {
                        run.action = t.action.clone();
                    }
                    if t.note.is_some() {
                        run.note = t.note.clone();
                    }
                    if to != "done" {
                        run.reason = t.reason.as_deref().map(first_line);
                    }
                }
            }
            _ => {}
        }
    }
    runs
}

/// Adds up the journal `entries` of the session `state`. `rb` is the runbook as the engine
/// sees it (ad-hoc items among its steps) and `titles` each step's title filled in.
pub fn build(
    entries: &[Entry],
    state: &SessionState,
    rb: &Runbook,
    titles: &IndexMap<String, String>,
    warnings: Vec<String>,
) -> Report {
    let mut operators: Vec<String> = Vec::new();
    let mut runs = runs(entries);
    let mut skips: IndexMap<String, Vec<Reasoned>> = IndexMap::new();
    let mut reopens: IndexMap<String, Vec<Reasoned>> = IndexMap::new();
    let mut stale: IndexMap<String, Vec<Reasoned>> = IndexMap::new();
    let mut last_finish: Option<String> = None;
    for e in entries {
        if !operators.contains(&e.operator) {
            operators.push(e.operator.clone());
        }
        let Event::Step(t) = &e.event else {
            continue;
        };
        let said = |r: &Option<String>| Reasoned {
            at: e.time.clone(),
            by: e.operator.clone(),
            reason: r.clone().unwrap_or_default(),
        };
        match t.to.as_str() {
            "done" => last_finish = Some(e.time.clone()),
            "skipped" => {
                skips
                    .entry(t.step.clone())
                    .or_default()
                    .push(said(&t.reason));
                last_finish = Some(e.time.clone());
            }
            "pending" if t.stale => stale
                .entry(t.step.clone())
                .or_default()
                .push(said(&t.reason)),
            "pending" if t.reason.as_deref().is_some_and(|r| r.starts_with(REOPENED)) => {
                let mut r = said(&t.reason);
                r.reason = r.reason[REOPENED.len()..].to_string();
                reopens.entry(t.step.clone()).or_default().push(r);
            }
            _ => {}
        }
    }
    let mut ids: Vec<(String, String, String)> = rb
        .steps
        .iter()
        .map(|s| (s.id.clone(), s.section.clone(), s.kind.name().to_string()))
        .collect();
    // Steps the runbook has dropped since: what they did still happened.
    for id in state.steps.keys() {
        if !ids.iter().any(|(i, _, _)| i == id) {
            ids.push((id.clone(), String::new(), "removed from the runbook".into()));
        }
    }
    let steps: Vec<ReportStep> = ids
        .into_iter()
        .filter_map(|(id, section, kind)| {
            let st = state.steps.get(&id)?;
            Some(ReportStep {
                title: titles.get(&id).cloned().unwrap_or_else(|| id.clone()),
                section,
                kind,
                item: state.items.contains_key(&id),
                status: st.status.name().to_string(),
                by: st.by.clone(),
                at: st.at.clone(),
                action: st.action.clone(),
                note: st.note.clone(),
                runs: runs.shift_remove(&id).unwrap_or_default(),
                skips: skips.shift_remove(&id).unwrap_or_default(),
                reopens: reopens.shift_remove(&id).unwrap_or_default(),
                stale: stale.shift_remove(&id).unwrap_or_default(),
                outputs: st
                    .outputs
                    .iter()
                    .map(|(k, v)| (k.clone(), summarise(v)))
                    .collect(),
                id,
            })
        })
        .collect();
    let item = |(id, it): (&String, &crate::session::ItemState)| ReportItem {
        id: id.clone(),
        text: it.text.clone(),
        section: it.section.clone(),
        by: it.by.clone(),
        at: it.at.clone(),
        status: state.steps.get(id).map(|s| s.status.name().to_string()),
        from: it.from.clone(),
    };
    let blockers = steps
        .iter()
        .filter(|s| s.id == "blockers" || s.outputs.contains_key("blockers"))
        .map(|s| Blocker {
            step: s.id.clone(),
            status: s.status.clone(),
            blockers: state
                .steps
                .get(&s.id)
                .and_then(|st| st.outputs.get("blockers").cloned()),
            note: s.note.clone(),
        })
        .collect();
    let (done, total) = state.progress();
    let all_finished = state.steps.values().all(|s| s.status.is_finished());
    Report {
        runbook: state.runbook.clone(),
        push_date: state.push_date.clone(),
        tags: state.repo_tags.clone(),
        operators,
        started: state.started.clone(),
        finished: if all_finished { last_finish } else { None },
        outcome: state.outcome().to_string(),
        done,
        total,
        steps,
        items: state
            .items
            .iter()
            .filter(|(_, it)| it.push == ItemFor::This)
            .map(item)
            .collect(),
        next_push: state
            .items
            .iter()
            .filter(|(_, it)| it.push == ItemFor::Next)
            .map(item)
            .collect(),
        blockers,
        warnings,
    }
}

/// How long a step usually takes: the median of its finished runs across pushes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Usual {
    pub median_seconds: i64,
    /// How many finished runs the median is taken from.
    pub runs: usize,
}

/// Each step's usual duration over the runs of many pushes (one [`runs`] map per push). Only
/// runs that ended `done` count: a failure or an interruption says nothing about how long the
/// work takes. Of an even count, the lower middle and upper middle are averaged.
pub fn usual<'a>(
    pushes: impl IntoIterator<Item = &'a IndexMap<String, Vec<Run>>>,
) -> BTreeMap<String, Usual> {
    let mut all: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for push in pushes {
        for (step, runs) in push {
            let secs = runs
                .iter()
                .filter(|r| r.result == "done")
                .filter_map(|r| r.seconds)
                .filter(|s| *s >= 0);
            all.entry(step.clone()).or_default().extend(secs);
        }
    }
    all.into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(step, mut v)| {
            v.sort_unstable();
            let n = v.len();
            let median = if n % 2 == 1 {
                v[n / 2]
            } else {
                (v[n / 2 - 1] + v[n / 2]) / 2
            };
            (
                step,
                Usual {
                    median_seconds: median,
                    runs: n,
                },
            )
        })
        .collect()
}

/// Whether a run of `secs` is far longer than usual: more than twice the median and more than
/// a minute over it (a 5 s step taking 15 s is no news).
pub fn overdue(secs: i64, usual: &Usual) -> bool {
    secs > 2 * usual.median_seconds && secs > usual.median_seconds + 60
}

/// "3s", "2m 05s", "1h 02m".
pub fn duration(secs: i64) -> String {
    let s = secs.max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {:02}s", s / 60, s % 60),
        _ => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Data in a Markdown line: one line, no control characters, and no character that would
/// start markup where it stands (a backtick, a `<`).
fn md(s: &str) -> String {
    clean_line(s).replace('`', "'").replace('<', "&lt;")
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
    line(format!("- **Started:** {}", md(&r.started)));
    line(format!(
        "- **Finished:** {}",
        r.finished.as_deref().map_or("not yet".into(), md)
    ));
    if let Some(secs) = r.finished.as_deref().and_then(|f| seconds(&r.started, f)) {
        line(format!("- **Took:** {}", duration(secs)));
    }
    line(String::new());
    line("## Blockers".into());
    line(String::new());
    if r.blockers.is_empty() {
        line("No step records blockers.".into());
    }
    for b in &r.blockers {
        let what = b
            .blockers
            .as_ref()
            .map_or("(not recorded)".to_string(), |v| md(&value_text(v)));
        let note = b
            .note
            .as_deref()
            .map_or(String::new(), |n| format!("; note: {}", md(n)));
        line(format!("- `{}` ({}): {what}{note}", b.step, b.status));
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
                format!(" ({} by {}, {})", s.status, md(by), md(at))
            }
            _ => String::new(),
        };
        let item = if s.item { " *(ad-hoc item)*" } else { "" };
        line(format!(
            "- {} **{}**: {}{item}{who}",
            mark(&s.status),
            s.id,
            md(&s.title)
        ));
        // Runs, skips, reopens and stale marks in the order they happened.
        let mut timeline: Vec<(&str, Vec<String>)> = Vec::new();
        for (i, run) in s.runs.iter().enumerate() {
            let took = run
                .seconds
                .map_or(String::new(), |x| format!(", {}", duration(x)));
            let ended = run.ended.as_deref().map_or("…".into(), md);
            let n = if s.runs.len() > 1 {
                format!(" {}", i + 1)
            } else {
                String::new()
            };
            let mut lines = vec![format!(
                "  - run{n}: {} → {ended}{took}: {} by {}",
                md(&run.started),
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
                lines.push(format!("    - **{}:** {}", run.result, md(why)));
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
                        md(&r.at),
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
                md(&it.at)
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

    fn entry(time: &str, who: &str, t: crate::session::journal::Transition) -> Entry {
        Entry {
            time: time.into(),
            operator: who.into(),
            event: Event::Step(t),
        }
    }

    #[test]
    fn runs_keep_their_overrides_failures_and_interruptions() {
        use crate::session::journal::{Header, Transition};
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
        assert_eq!(push.runs[1].reason.as_deref(), Some("remote said no"));
        assert_eq!(push.runs[1].seconds, Some(125));
        assert_eq!(r.operators, ["ana", "bo"]);
        assert_eq!(r.finished, None);
        let md = markdown(&r, &rb);
        assert!(
            md.contains("**checks overridden**: ships nothing, on purpose"),
            "{md}"
        );
        assert!(md.contains("**failed:** remote said no"), "{md}");
    }

    /// One push's journal: `tag` runs `tag_secs`, `deploy` fails once after 5 s then takes
    /// `deploy_secs`.
    fn push_entries(date: &str, tag_secs: i64, deploy_secs: i64) -> Vec<Entry> {
        use crate::session::journal::Transition;
        let at = |secs: i64| {
            let t = chrono::DateTime::parse_from_rfc3339(&format!("{date}T10:00:00Z")).unwrap()
                + chrono::Duration::seconds(secs);
            t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        };
        let step = |secs: i64, id: &str, from: &str, to: &str| {
            entry(&at(secs), "ana", Transition::new(id, from, to))
        };
        let d = tag_secs + 10;
        vec![
            step(0, "tag", "pending", "running"),
            step(tag_secs, "tag", "running", "done"),
            step(d, "deploy", "pending", "running"),
            step(d + 5, "deploy", "running", "failed"),
            step(d + 100, "deploy", "failed", "running"),
            step(d + 100 + deploy_secs, "deploy", "running", "done"),
        ]
    }

    #[test]
    fn usual_durations_are_medians_of_finished_runs_across_pushes() {
        let pushes = [
            runs(&push_entries("2015-09-03", 10, 300)),
            runs(&push_entries("2015-09-10", 30, 100)),
            runs(&push_entries("2015-09-17", 20, 200)),
            runs(&push_entries("2015-09-24", 40, 400)),
        ];
        let u = usual(&pushes);
        // 10, 20, 30, 40: the middle two averaged.
        assert_eq!(
            u["tag"],
            Usual {
                median_seconds: 25,
                runs: 4
            }
        );
        // The 5 s failures do not count.
        assert_eq!(
            u["deploy"],
            Usual {
                median_seconds: 250,
                runs: 4
            }
        );
        let u = usual(&pushes[..3]);
        assert_eq!(u["tag"].median_seconds, 20);
        assert_eq!(u["deploy"].median_seconds, 200);
        // A step never finished has no usual duration.
        let unfinished = runs(&push_entries("2015-10-01", 10, 10)[..1]);
        assert!(usual([&unfinished]).is_empty());
    }

    #[test]
    fn far_longer_means_twice_and_a_minute_over() {
        let u = Usual {
            median_seconds: 180,
            runs: 3,
        };
        assert!(!overdue(360, &u));
        assert!(overdue(361, &u));
        let short = Usual {
            median_seconds: 10,
            runs: 3,
        };
        assert!(!overdue(70, &short));
        assert!(overdue(71, &short));
    }

    #[test]
    fn durations_read_like_a_clock() {
        assert_eq!(duration(3), "3s");
        assert_eq!(duration(125), "2m 05s");
        assert_eq!(duration(3720), "1h 02m");
        assert_eq!(duration(-5), "0s");
    }

    #[test]
    fn long_and_structured_outputs_are_summarised() {
        assert_eq!(summarise(&Value::from("a\nb")), Value::from("a …"));
        assert_eq!(
            summarise(&serde_json::json!([1, 2, 3])),
            Value::from("3 entries")
        );
        assert_eq!(summarise(&Value::from(412)), Value::from(412));
    }
}
