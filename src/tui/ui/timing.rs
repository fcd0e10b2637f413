//! How long steps take: the selected step's usual duration and, while it runs, its elapsed
//! time and last progress line; and in `learn --replay`, what the step did in that push (each
//! run with who, when and how long, skips, reopens), in the order it happened.

use ratatui::text::{Line, Span};

use crate::report::{ReportStep, duration, overdue};
use crate::sanitize::clean_line;
use crate::session::timing as progress;
use crate::tui::app::{App, Level};

/// The details' lines about time: "Running: 1m 20s of ~3m 00s", the step's last progress
/// line, and "usually takes 3 min".
pub fn lines(app: &App, id: &str) -> Vec<Line<'static>> {
    let t = &app.theme;
    let usual = app.usual.get(id);
    let mut out = Vec::new();
    if let Some(secs) = app.running_for(id) {
        let far = usual.is_some_and(|u| overdue(secs, u));
        out.push(Line::from(vec![
            Span::styled("Running: ", t.heading),
            Span::styled(
                progress::elapsed(secs, usual),
                if far { t.interrupted } else { t.running },
            ),
        ]));
        if let Some(last) = last_progress(app, id) {
            out.push(Line::from(vec![
                Span::styled("Last: ", t.heading),
                Span::raw(last),
            ]));
        }
    }
    if let Some(u) = usual {
        out.push(Line::styled(progress::usually(u), t.dim));
    }
    out
}

/// What a running step said last (its progress lines are in the log as `ID: LINE`).
fn last_progress(app: &App, id: &str) -> Option<String> {
    let prefix = format!("{id}: ");
    app.log
        .iter()
        .rev()
        .filter(|l| l.level == Level::Progress)
        .find_map(|l| l.text.strip_prefix(&prefix).map(str::to_string))
}

/// The checklist's word on a running step: its elapsed time, marked when far over the usual.
pub fn checklist_tag(app: &App, id: &str) -> Option<(String, bool)> {
    let secs = app.running_for(id)?;
    let far = app.usual.get(id).is_some_and(|u| overdue(secs, u));
    Some((
        format!(" {}{}", duration(secs), if far { " (slow!)" } else { "" }),
        far,
    ))
}

/// The status line's word on the running step: "deploy 1m 20s".
pub fn status_tag(app: &App, id: &str) -> String {
    app.running_for(id)
        .map_or_else(String::new, |secs| format!(" {}", duration(secs)))
}

/// In a replay: the step's story in that push, oldest first.
pub fn replayed(app: &App, id: &str) -> Vec<Line<'static>> {
    let Some(step) = app
        .replay
        .as_ref()
        .and_then(|r| r.steps.iter().find(|s| s.id == id))
    else {
        return Vec::new();
    };
    let t = &app.theme;
    let heading = if app.following.is_some() {
        "In the team's push log:"
    } else {
        "In that push:"
    };
    let mut out = vec![Line::styled(heading, t.heading)];
    let story = story(step);
    if story.is_empty() {
        out.push(Line::styled("  nothing was done", t.dim));
    }
    for (_, text, bad) in story {
        let style = if bad { t.failed } else { t.text };
        out.push(Line::styled(format!("  {text}"), style));
    }
    out.push(Line::default());
    out
}

/// An RFC 3339 instant with its weekday, as people say when something happened.
fn clock(at: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(at).map_or_else(
        |_| clean_line(at).into_owned(),
        |t| t.format("%a %Y-%m-%d %H:%M:%S").to_string(),
    )
}

/// Runs, skips, reopens and "had to run again" as (time, text, is it bad news), in order.
fn story(s: &ReportStep) -> Vec<(String, String, bool)> {
    let mut out: Vec<(String, String, bool)> = Vec::new();
    let mut last_action: Option<&String> = None;
    for (i, run) in s.runs.iter().enumerate() {
        let n = if s.runs.len() > 1 {
            format!(" {}", i + 1)
        } else {
            String::new()
        };
        let took = run
            .seconds
            .map_or(String::new(), |x| format!(" in {}", duration(x)));
        let bad = run.result != "done";
        let mut text = format!(
            "run{n}: {} by {} at {}{took}",
            run.result,
            clean_line(&run.by),
            clock(&run.started)
        );
        // What it did, said again only when it changed from the run before.
        let did = run.action.as_ref().filter(|a| last_action != Some(*a));
        last_action = run.action.as_ref().or(last_action);
        for (label, v) in [
            ("did", &did.cloned()),
            ("note", &run.note),
            ("checks overridden", &run.override_reason),
            ("why", &run.reason),
        ] {
            if let Some(v) = v {
                // A text of several lines (a failure and what it names) stays lines.
                let mut lines = v.lines().filter(|l| !l.trim().is_empty());
                let first = lines.next().unwrap_or_default();
                text.push_str(&format!("\n    {label}: {}", clean_line(first)));
                for more in lines {
                    text.push_str(&format!("\n      {}", clean_line(more.trim())));
                }
            }
        }
        out.push((run.started.clone(), text, bad));
    }
    for (what, list, bad) in [
        ("skipped", &s.skips, false),
        ("reopened", &s.reopens, false),
        ("had to run again", &s.stale, true),
    ] {
        for r in list {
            out.push((
                r.at.clone(),
                format!(
                    "{what} by {} at {}: {}",
                    clean_line(&r.by),
                    clock(&r.at),
                    clean_line(&r.reason)
                ),
                bad,
            ));
        }
    }
    // RFC 3339 times in UTC sort as text; the sort is stable for equal times.
    out.sort_by(|a, b| a.0.cmp(&b.0));
    // A text of several lines is several lines on screen.
    out.into_iter()
        .flat_map(|(at, text, bad)| {
            text.lines()
                .map(|l| (at.clone(), l.to_string(), bad))
                .collect::<Vec<_>>()
        })
        .collect()
}
