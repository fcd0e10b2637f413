//! The session log: what ran, its output, notices (resume, runbook changes, stale lock).

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget};

use crate::tui::app::{App, Level};

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let t = &app.theme;
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(t.border)
        .title(Span::styled(" Log ", t.heading));
    let inner = block.inner(area);
    block.render(area, buf);
    let n = inner.height as usize;
    let skip = app.log.len().saturating_sub(n);
    let lines: Vec<Line> = app.log[skip..]
        .iter()
        .map(|l| {
            let style = match l.level {
                Level::Info => t.text,
                Level::Progress => t.dim,
                Level::Warn => t.interrupted,
                Level::Error => t.error,
            };
            Line::styled(l.text.clone(), style)
        })
        .collect();
    Paragraph::new(lines).render(inner, buf);
}
