//! Yes/no dialogs: run a step (exactly what will happen), learn mode's explanation, quitting
//! while a step runs.

use ratatui::text::{Line, Span};

use super::dialog::{Content, keys_line};
use super::markdown;
use crate::engine::{ByHand, Confirmation};
use crate::session::Status;
use crate::tui::app::App;

const WIDTH: u16 = 72;

pub fn confirm<'a>(app: &'a App, id: &str, read: Option<&Confirmation>) -> Option<Content<'a>> {
    let t = &app.theme;
    app.engine.step(id).ok()?;
    let view = app.view(id);
    let mut lines = vec![
        Line::styled(view.title.as_str(), t.heading),
        Line::default(),
        Line::styled("This will:", t.heading),
    ];
    // A step whose action depends on the repository shows it as read now, never the pane's
    // older snapshot: what is shown is what the worker is held to.
    match read.and_then(|r| r.shown.as_deref()) {
        Some(shown) => lines.extend(shown.lines().map(|l| Line::raw(l.to_string()))),
        None if read.is_none() && app.engine.pins(id) => {
            lines.push(Line::styled("reading the repository…", t.dim));
        }
        None => lines.extend(view.preview.lines().map(|l| Line::raw(l.to_string()))),
    }
    let checks = read.map(|r| r.checks.as_slice());
    if let Some(why) = app
        .engine
        .session
        .state
        .steps
        .get(id)
        .and_then(|s| s.stale_reason.as_ref())
    {
        lines.push(Line::styled(format!("Again: {why}"), t.interrupted));
    }
    match checks {
        None => {
            lines.push(Line::default());
            lines.push(Line::styled("Checking first…", t.dim));
        }
        Some(checks) if !checks.is_empty() => {
            lines.push(Line::default());
            lines.push(Line::styled("Checked first:", t.heading));
            for c in checks {
                lines.push(if c.warn {
                    Line::from(vec![
                        Span::styled("  ! ", t.interrupted),
                        Span::styled(c.text.clone(), t.interrupted),
                    ])
                } else if c.ok {
                    Line::from(vec![
                        Span::styled("  ✓ ", t.done),
                        Span::raw(c.text.clone()),
                    ])
                } else {
                    Line::from(vec![
                        Span::styled("  ✗ ", t.failed),
                        Span::styled(c.text.clone(), t.failed),
                    ])
                });
            }
        }
        Some(_) => {}
    }
    match app.engine.status(id) {
        Status::Interrupted { since } => {
            lines.push(Line::default());
            lines.push(Line::styled(
                format!(
                    "It was running (since {}) when pushduty stopped: it may have partly happened. Check before running it again.",
                    crate::words::when(&since, app.engine.loaded.calendar.tz)
                ),
                t.interrupted,
            ));
        }
        Status::Failed { error } => {
            lines.push(Line::default());
            lines.push(Line::styled(
                format!("Last attempt failed: {error}"),
                t.failed,
            ));
        }
        _ => {}
    }
    let asks: Vec<String> = app
        .engine
        .inputs(id)
        .unwrap_or_default()
        .iter()
        .map(|s| s.prompt.clone())
        .collect();
    if !asks.is_empty() {
        lines.push(Line::default());
        lines.push(Line::raw(format!("Then asks for: {}", asks.join("; "))));
    }
    let failed = checks.is_some_and(|c| c.iter().any(|c| !c.ok));
    let keys = if checks.is_none() {
        keys_line(t, &[("n/Esc", "cancel")])
    } else if !failed {
        keys_line(t, &[("y", "yes, run it"), ("n/Esc", "cancel")])
    } else if by_hand_possible(app, id) {
        keys_line(
            t,
            &[
                ("f", "act anyway (asks why)"),
                ("h", "do it by hand"),
                ("n/Esc", "cancel"),
            ],
        )
    } else {
        keys_line(t, &[("f", "act anyway (asks why)"), ("n/Esc", "cancel")])
    };
    Some(Content {
        title: format!("Run {id}?"),
        width: WIDTH,
        body: lines,
        footer: vec![Line::default(), keys],
        focus: None,
    })
}

/// What to do by hand instead of a step: each instruction, the page to open, the text to
/// paste whole (the body scrolls), and `y` to tick it off.
pub fn by_hand<'a>(app: &'a App, id: &str, shown: Option<&ByHand>) -> Content<'a> {
    let t = &app.theme;
    let mut body = Vec::new();
    let keys = match shown {
        None => {
            body.push(Line::styled("reading…", t.dim));
            keys_line(t, &[("n/Esc", "cancel")])
        }
        Some(s) => {
            body.extend(s.steps.iter().map(|l| Line::raw(l.clone())));
            if let Some(link) = &s.link {
                // A `mailto:` carries the whole message; the text below shows it readably.
                const SHOWN: usize = 160;
                let shown = match link.char_indices().nth(SHOWN) {
                    Some((i, _)) => format!("{}…", &link[..i]),
                    None => link.clone(),
                };
                body.push(Line::default());
                body.push(Line::from(vec![
                    Span::styled("open: ", t.heading),
                    Span::raw(shown),
                ]));
            }
            if let Some(copy) = &s.copy {
                body.push(Line::default());
                body.push(Line::styled("The text:", t.heading));
                body.extend(copy.lines().map(|l| Line::raw(l.to_string())));
            }
            let mut keys = Vec::new();
            if s.link.is_some() {
                keys.push(("o", "open it"));
            }
            if s.copy.is_some() || s.link.is_some() {
                keys.push(("c", "copy"));
            }
            if app.mode == crate::tui::app::Mode::Learn {
                keys.push(("n/Esc", "close"));
            } else {
                keys.extend([
                    ("y", "done: tick it off (asks what you did)"),
                    ("n/Esc", "cancel"),
                ]);
            }
            keys_line(t, &keys)
        }
    };
    Content {
        title: format!("Do {id} by hand"),
        width: WIDTH,
        body,
        footer: vec![Line::default(), keys],
        focus: None,
    }
}

pub fn explain<'a>(app: &'a App, id: &str) -> Option<Content<'a>> {
    let t = &app.theme;
    let step = app.engine.step(id).ok()?;
    let view = app.view(id);
    let mut lines = vec![
        Line::styled(view.title.as_str(), t.heading),
        Line::default(),
        Line::styled("Would do:", t.heading),
    ];
    lines.extend(view.preview.lines().map(|l| Line::raw(l.to_string())));
    if let Some(c) = &step.only_if {
        lines.push(Line::raw(format!("Only when: {c}")));
    }
    let doc = &view.doc;
    if !doc.trim().is_empty() {
        lines.push(Line::default());
        lines.push(Line::styled("Why:", t.heading));
        // The first paragraph: the dialog stays small; the details pane has the rest.
        let first = doc.split("\n\n").next().unwrap_or_default();
        lines.extend(markdown::render(first, t));
    }
    Some(Content {
        title: format!("What `{id}` does"),
        width: WIDTH,
        body: lines,
        footer: vec![
            Line::default(),
            Line::styled(
                "Learn mode: nothing is executed and nothing is recorded.",
                t.read_only,
            ),
            keys_line(t, &[("Esc", "close")]),
        ],
        focus: None,
    })
}

pub fn quit(app: &App) -> Content<'_> {
    let t = &app.theme;
    let running: Vec<String> = app.engine.running().cloned().collect();
    Content {
        title: "Quit?".into(),
        width: WIDTH,
        body: vec![
            Line::styled(format!("{} is running.", running.join(", ")), t.running),
            Line::raw("Quit anyway? The step is cancelled and shows as failed."),
        ],
        footer: vec![
            Line::default(),
            keys_line(t, &[("y", "cancel it and quit"), ("n/Esc", "stay")]),
        ],
        focus: None,
    }
}

/// What `c` copied, whole: a terminal without OSC 52 still lets the operator select it.
/// Why a step cannot run now; what was typed for the dialog that did not open lands here.
pub fn refused<'a>(app: &'a App, id: &str, why: &str) -> Content<'a> {
    let t = &app.theme;
    Content {
        title: format!("{id} cannot run yet"),
        width: WIDTH,
        body: vec![Line::raw(format!("{id} cannot run: {why}"))],
        footer: vec![Line::default(), keys_line(t, &[("Esc/Enter", "close")])],
        focus: None,
    }
}

pub fn copied<'a>(app: &'a App, text: &str) -> Content<'a> {
    let t = &app.theme;
    let mut body = vec![
        Line::styled(
            "On the clipboard, if the terminal allows it (OSC 52); else select it here:",
            t.dim,
        ),
        Line::default(),
    ];
    body.extend(text.lines().map(|l| Line::raw(l.to_string())));
    Content {
        title: "Copied".into(),
        width: WIDTH,
        body,
        footer: vec![Line::default(), keys_line(t, &[("Esc", "close")])],
        focus: None,
    }
}

/// What changed since the hero's last push: read once, then journaled as seen.
pub fn briefing<'a>(app: &'a App, lines: &[String]) -> Content<'a> {
    let t = &app.theme;
    let mut body: Vec<Line> = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        body.push(if i == 0 {
            Line::styled(l.clone(), t.heading)
        } else {
            Line::raw(l.clone())
        });
    }
    Content {
        title: "Briefing".into(),
        width: WIDTH,
        body,
        footer: vec![
            Line::default(),
            keys_line(t, &[("Enter/Esc", "seen: go on (journaled)")]),
        ],
        focus: None,
    }
}

/// Whether `h` can offer `id` by hand: steps that are done by hand anyway (a manual step, a
/// choice, a gate) have nothing else to offer.
pub fn by_hand_possible(app: &App, id: &str) -> bool {
    app.engine
        .step(id)
        .is_ok_and(|s| !matches!(s.kind.name(), "manual" | "choice" | "gate"))
}
