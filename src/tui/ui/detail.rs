//! The selected step: what it is, its status, what it will do, its doc, its outputs.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget, Wrap};

use super::markdown;
use crate::session::Status;
use crate::tui::app::App;
use crate::tui::theme::describe;

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let t = &app.theme;
    let Some(id) = app.selected_id() else {
        Block::new().borders(Borders::ALL).render(area, buf);
        return;
    };
    let Ok(step) = app.engine.step(&id) else {
        return;
    };
    let view = app.view(&id);
    let status = app.engine.status(&id);
    let state = app.engine.session.state.steps.get(&id);
    let mut lines: Vec<Line> = Vec::new();
    let date = app
        .engine
        .planned_date(&id)
        .map(|d| format!(" · {}", crate::runbook::schedule::with_weekday(d)))
        .unwrap_or_default();
    lines.push(Line::styled(
        format!(
            "{id} · {}{date} · {}",
            step.kind.name(),
            if step.needs_confirm() {
                "confirm"
            } else {
                "no side effect"
            }
        ),
        t.dim,
    ));
    // A failure may carry a table (a health check's): its lines stay lines.
    let said = describe(&status, app.engine.loaded.calendar.tz);
    let mut said = said.lines();
    lines.push(Line::from(vec![
        Span::styled("Status: ", t.heading),
        Span::styled(
            said.next().unwrap_or_default().to_string(),
            t.status(&status),
        ),
    ]));
    for more in said {
        lines.push(Line::styled(more.to_string(), t.status(&status)));
    }
    // Not due yet: running it now asks why (the day rule is a check like the others).
    if let (Status::Pending, Some(why)) = (&status, app.engine.too_early(&id)) {
        lines.push(Line::styled(format!("Not yet: {why}"), t.interrupted));
    }
    if let Some(why) = state.and_then(|s| s.stale_reason.as_ref()) {
        lines.push(Line::from(vec![
            Span::styled("Must run again: ", t.heading),
            Span::styled(why.clone(), t.interrupted),
        ]));
    }
    if let Some(why) = &view.elsewhere {
        lines.push(Line::styled(why.clone(), t.running));
    }
    if let (Status::Done { .. }, Some(did)) = (&status, state.and_then(|s| s.action.as_ref())) {
        lines.push(Line::from(vec![
            Span::styled("Did: ", t.heading),
            Span::styled(did.clone(), t.code),
        ]));
    }
    if let Some(note) = state.and_then(|s| s.note.as_ref()) {
        lines.push(Line::from(vec![
            Span::styled("Note: ", t.heading),
            Span::raw(note.clone()),
        ]));
    }
    lines.extend(super::timing::lines(app, &id));
    lines.extend(super::timing::replayed(app, &id));
    if let Some(cond) = &step.only_if {
        lines.push(Line::from(vec![
            Span::styled("Only if: ", t.heading),
            Span::styled(cond.clone(), t.code),
        ]));
    }
    lines.push(Line::default());
    lines.push(Line::styled(
        // A done step already did its part ("Did:" above); this is what a reopen would do.
        if matches!(status, Status::Done { .. }) {
            "If run again:"
        } else if app.mode == crate::tui::app::Mode::Learn {
            "Would do:"
        } else {
            "Will do:"
        },
        t.heading,
    ));
    lines.extend(view.preview.lines().map(|l| Line::raw(l.to_string())));
    let doc = &view.doc;
    if !doc.trim().is_empty() {
        lines.push(Line::default());
        lines.extend(markdown::render(doc, t));
    }
    // The declared outputs (set or not yet), then whatever else the step recorded.
    let recorded = state.map(|s| &s.outputs);
    let others: Vec<(&String, &serde_json::Value)> = recorded
        .into_iter()
        .flatten()
        .filter(|(k, _)| !step.outputs.contains(k))
        .collect();
    if !step.outputs.is_empty() || !others.is_empty() {
        lines.push(Line::default());
        lines.push(Line::styled("Outputs:", t.heading));
        for o in &step.outputs {
            match recorded.and_then(|r| r.get(o)) {
                Some(v) => lines.extend(super::outputs::lines(t, o, v)),
                None => lines.push(Line::styled(format!("  {o}: not yet"), t.dim)),
            }
        }
        for (k, v) in others {
            lines.extend(super::outputs::lines(t, k, v));
        }
    }
    // Its links whole (the doc may show only a link's words), numbered as `o` offers them.
    let links = crate::tui::links::own_links(app, &id);
    if !links.is_empty() {
        lines.push(Line::default());
        lines.push(Line::styled(
            "Links (o opens, c copies the first):",
            t.heading,
        ));
        for (i, l) in links.iter().enumerate() {
            lines.push(Line::from(vec![
                Span::styled(format!("  {}. {}: ", i + 1, l.label), t.dim),
                Span::raw(l.url.clone()),
            ]));
        }
    }
    let title = &view.title;
    // What does not fit says so on the bottom border, with the key that shows it: the
    // details of a long step (its doc, its links) ran past the pane with no sign.
    let inner_w = usize::from(area.width.saturating_sub(2)).max(1);
    let inner_h = usize::from(area.height.saturating_sub(2));
    let rows: usize = lines
        .iter()
        .map(|l| l.width().div_ceil(inner_w).max(1))
        .sum();
    let below = rows.saturating_sub(inner_h + usize::from(app.detail_scroll));
    let mut block = Block::new()
        .borders(Borders::ALL)
        .border_style(t.border)
        .title(Span::styled(format!(" {title} "), t.heading));
    if below > 0 {
        block = block.title_bottom(Span::styled(format!(" ↓ {below} more lines: PgDn "), t.dim));
    } else if app.detail_scroll > 0 {
        block = block.title_bottom(Span::styled(" ↑ PgUp ", t.dim));
    }
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .scroll((app.detail_scroll, 0))
        .block(block)
        .render(area, buf);
}
