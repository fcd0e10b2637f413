//! The live panes; each source's state is in its pane's title.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget};

use crate::tui::app::{App, Focus};
use crate::tui::pane::SourceState;

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let t = &app.theme;
    if app.panes.is_empty() {
        return;
    }
    let cols = Layout::horizontal(app.panes.iter().map(|_| Constraint::Fill(1))).split(area);
    for (i, (pane, a)) in app.panes.iter().zip(cols.iter()).enumerate() {
        let focused = app.focus == Focus::Panes && i == app.pane_selected;
        let title_style = title_style(t, &pane.state);
        let block = Block::new()
            .borders(Borders::ALL)
            .border_style(if focused { t.border_focus } else { t.border })
            .title(Span::styled(title(pane, a.width), title_style));
        let body: Vec<Line> = match &pane.state {
            SourceState::NotConfigured if pane.hint.is_empty() => {
                vec![Line::styled("not configured", t.dim)]
            }
            SourceState::NotConfigured => vec![Line::styled(pane.hint.clone(), t.dim)],
            SourceState::Loading => vec![Line::styled("…", t.dim)],
            SourceState::Error(e) => {
                let mut v = vec![Line::styled(e.clone(), t.error)];
                v.extend(pane.lines.iter().map(|l| Line::raw(l.clone())));
                v
            }
            SourceState::Ready { .. } => pane.lines.iter().map(|l| Line::raw(l.clone())).collect(),
        };
        Paragraph::new(body).block(block).render(*a, buf);
    }
}

/// The pane's title with its padding, shortened to fit inside the borders.
fn title(pane: &crate::tui::pane::Pane, width: u16) -> String {
    let room = usize::from(width.saturating_sub(2));
    let t = pane.title_in(room.saturating_sub(2));
    if t.chars().count() + 2 <= room {
        format!(" {t} ")
    } else {
        pane.title_in(room)
    }
}

/// The focused pane in full, in the details area: the whole snapshot (for git, every commit
/// shipping), wrapped, scrolled with PgUp/PgDn.
pub fn render_full(app: &App, area: Rect, buf: &mut Buffer) {
    let t = &app.theme;
    let Some(pane) = app.panes.get(app.pane_selected) else {
        return;
    };
    let title_style = title_style(t, &pane.state);
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(t.border_focus)
        .title(Span::styled(title(pane, area.width), title_style));
    let mut body: Vec<Line> = match &pane.state {
        SourceState::NotConfigured => vec![Line::styled(
            format!("{} is not configured: {}", pane.name, pane.hint),
            t.dim,
        )],
        SourceState::Loading => vec![Line::styled("loading…", t.dim)],
        SourceState::Error(e) => vec![Line::styled(e.clone(), t.error)],
        SourceState::Ready { .. } => Vec::new(),
    };
    body.extend(pane.lines.iter().map(|l| Line::raw(l.clone())));
    // In full, nothing is cut: a long subject or error wraps, hanging under its line's text.
    let body = super::scroll::wrap(&body, usize::from(area.width.saturating_sub(2)));
    Paragraph::new(body)
        .block(block)
        .scroll((app.detail_scroll, 0))
        .render(area, buf);
}

fn title_style(t: &crate::tui::theme::Theme, state: &SourceState) -> ratatui::style::Style {
    match state {
        SourceState::Error(_) => t.error,
        SourceState::NotConfigured => t.dim,
        _ => t.heading,
    }
}
