//! The checklist: steps by section, a status mark each, progress in the title.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget};

use crate::sanitize::clean_line;
use crate::tui::app::{App, Focus};

pub enum Row {
    /// A section's title, and its days ("Tue", "Tue–Wed") when its steps say.
    Section(String, Option<String>),
    Step(usize),
}

pub fn rows(app: &App) -> Vec<Row> {
    let rb = &app.engine.loaded.runbook;
    let mut out = Vec::new();
    let mut section = None;
    for (i, s) in rb.steps.iter().enumerate() {
        if section != Some(&s.section) {
            section = Some(&s.section);
            let days =
                super::overview::section_days(app, &s.section).map(super::overview::days_short);
            out.push(Row::Section(
                clean_line(rb.section_title(&s.section)).into_owned(),
                days,
            ));
        }
        out.push(Row::Step(i));
    }
    out
}

/// First row shown: keeps the selection near the middle, without a stored scroll state.
fn offset(rows: &[Row], selected: usize, height: usize) -> usize {
    let sel = rows
        .iter()
        .position(|r| matches!(r, Row::Step(i) if *i == selected))
        .unwrap_or(0);
    let max = rows.len().saturating_sub(height);
    sel.saturating_sub(height / 2).min(max)
}

fn inner(area: Rect) -> Rect {
    Block::new().borders(Borders::ALL).inner(area)
}

/// The step under a mouse click, if any.
pub fn hit(app: &App, area: Rect, col: u16, row: u16) -> Option<usize> {
    let inner = inner(area);
    if col < inner.x || col >= inner.right() || row < inner.y || row >= inner.bottom() {
        return None;
    }
    let rows = rows(app);
    let first = offset(&rows, app.selected, inner.height as usize);
    match rows.get(first + usize::from(row - inner.y)) {
        Some(Row::Step(i)) => Some(*i),
        _ => None,
    }
}

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let t = &app.theme;
    let (done, total) = app.engine.session.state.progress();
    let focused = app.focus == Focus::Checklist;
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(if focused { t.border_focus } else { t.border })
        .title(Span::styled(
            format!(" Checklist {done}/{total} "),
            t.heading,
        ));
    let inner_area = block.inner(area);
    block.render(area, buf);
    let rows = rows(app);
    let first = offset(&rows, app.selected, inner_area.height as usize);
    let steps = &app.engine.loaded.runbook.steps;
    let width = inner_area.width as usize;
    let lines: Vec<Line> = rows
        .iter()
        .skip(first)
        .take(inner_area.height as usize)
        .map(|r| match r {
            Row::Section(title, None) => Line::styled(truncate(title, width), t.heading),
            Row::Section(title, Some(days)) => {
                let room = width.saturating_sub(days.chars().count() + 1);
                let title = truncate(title, room);
                let pad = width.saturating_sub(title.chars().count() + days.chars().count());
                Line::from(vec![
                    Span::styled(title, t.heading),
                    Span::raw(" ".repeat(pad)),
                    Span::styled(days.clone(), t.dim),
                ])
            }
            Row::Step(i) => {
                let s = &steps[*i];
                let status = app.engine.status(&s.id);
                // Not due yet: a later day of the push week (the details say which).
                let later = status == crate::session::Status::Pending
                    && app.engine.too_early(&s.id).is_some();
                let style = if later { t.dim } else { t.status(&status) };
                let tag = super::timing::checklist_tag(app, &s.id);
                let tag_width = tag.as_ref().map_or(0, |(t, _)| t.chars().count());
                let title = truncate(&app.view(&s.id).title, width.saturating_sub(5 + tag_width));
                let mut line = Line::from(vec![
                    Span::raw(" "),
                    Span::styled(status.mark(), style),
                    Span::raw(" "),
                    Span::styled(title, style),
                ]);
                if let Some((tag, far)) = tag {
                    line.push_span(Span::styled(tag, if far { t.interrupted } else { t.dim }));
                }
                if *i == app.selected {
                    let sel = if focused {
                        t.selected
                    } else {
                        t.dim.patch(t.selected)
                    };
                    line = line.patch_style(sel);
                    let pad = width.saturating_sub(line.width());
                    line.push_span(Span::styled(" ".repeat(pad), sel));
                }
                line
            }
        })
        .collect();
    Paragraph::new(lines).render(inner_area, buf);
}

pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}
