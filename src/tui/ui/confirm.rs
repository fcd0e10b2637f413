//! Yes/no dialogs: run a step (exactly what will happen), learn mode's explanation, quitting
//! while a step runs.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget, Wrap};

use super::{clear, markdown, popup};
use crate::engine::Check;
use crate::session::Status;
use crate::tui::app::App;
use crate::tui::theme::Theme;

fn dialog(t: &Theme, title: String, lines: Vec<Line>, area: Rect, buf: &mut Buffer) {
    let width = 72.min(area.width.saturating_sub(4));
    // Wrapped height: rough count of rows each line takes at this width.
    let inner_w = usize::from(width.saturating_sub(2)).max(1);
    let rows: usize = lines
        .iter()
        .map(|l| l.width().max(1).div_ceil(inner_w))
        .sum();
    let height = u16::try_from(rows + 2).unwrap_or(u16::MAX);
    let r = popup(area, width, height);
    clear(r, buf);
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .block(
            Block::new()
                .borders(Borders::ALL)
                .border_style(t.border_focus)
                .title(Span::styled(format!(" {title} "), t.heading)),
        )
        .render(r, buf);
}

fn keys_line<'a>(t: &Theme, items: &[(&'a str, &'a str)]) -> Line<'a> {
    let mut spans = Vec::new();
    for (k, what) in items {
        spans.push(Span::styled(format!("[{k}]"), t.key));
        spans.push(Span::raw(format!(" {what}   ")));
    }
    Line::from(spans)
}

pub fn confirm(app: &App, id: &str, checks: Option<&[Check]>, area: Rect, buf: &mut Buffer) {
    let t = &app.theme;
    if app.engine.step(id).is_err() {
        return;
    }
    let view = app.view(id);
    let mut lines = vec![
        Line::styled(view.title.as_str(), t.heading),
        Line::default(),
        Line::styled("This will:", t.heading),
    ];
    lines.extend(view.preview.lines().map(|l| Line::raw(l.to_string())));
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
                lines.push(if c.ok {
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
                format!("It was running (since {since}) when pushduty stopped: it may have partly happened. Check before running it again."),
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
    lines.push(Line::default());
    let failed = checks.is_some_and(|c| c.iter().any(|c| !c.ok));
    if checks.is_none() {
        lines.push(keys_line(t, &[("n/Esc", "cancel")]));
    } else if !failed {
        lines.push(keys_line(t, &[("y", "yes, run it"), ("n/Esc", "cancel")]));
    } else {
        lines.push(keys_line(
            t,
            &[("f", "act anyway (asks why)"), ("n/Esc", "cancel")],
        ));
    }
    dialog(t, format!("Run {id}?"), lines, area, buf);
}

pub fn explain(app: &App, id: &str, area: Rect, buf: &mut Buffer) {
    let t = &app.theme;
    let Ok(step) = app.engine.step(id) else {
        return;
    };
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
    lines.push(Line::default());
    lines.push(Line::styled(
        "Learn mode: nothing is executed and nothing is recorded.",
        t.read_only,
    ));
    lines.push(keys_line(t, &[("Esc", "close")]));
    dialog(t, format!("What `{id}` does"), lines, area, buf);
}

pub fn quit(app: &App, area: Rect, buf: &mut Buffer) {
    let t = &app.theme;
    let running: Vec<String> = app.engine.running().cloned().collect();
    let lines = vec![
        Line::styled(format!("{} is running.", running.join(", ")), t.running),
        Line::raw("Quit anyway? The step is cancelled and shows as failed."),
        Line::default(),
        keys_line(t, &[("y", "cancel it and quit"), ("n/Esc", "stay")]),
    ];
    dialog(t, "Quit?".into(), lines, area, buf);
}
