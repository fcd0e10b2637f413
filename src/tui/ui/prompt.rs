//! The small modal line editor used for notes, reasons, output values and choices.

use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget};

use super::{clear, popup};
use crate::tui::app::{App, Prompt};

/// Draws the prompt; returns where the cursor goes.
pub fn render(app: &App, p: &Prompt, area: Rect, buf: &mut Buffer) -> Option<Position> {
    let t = &app.theme;
    let width = 64.min(area.width.saturating_sub(4));
    let inner_w = usize::from(width.saturating_sub(4));
    let mut lines = vec![Line::styled(format!("{}:", p.label), t.heading)];
    // Scroll the text so the cursor stays visible.
    let start = p.cursor.saturating_sub(inner_w.saturating_sub(1));
    let shown: String = p.buffer.chars().skip(start).take(inner_w).collect();
    lines.push(Line::from(vec![
        Span::styled("> ", t.key),
        Span::raw(shown),
    ]));
    for h in &p.hints {
        lines.push(Line::styled(format!("  {h}"), t.dim));
    }
    if let Some(e) = &p.error {
        lines.push(Line::styled(e.clone(), t.error));
    }
    lines.push(Line::from(vec![
        Span::styled("[Enter]", t.key),
        Span::raw(" accept   "),
        Span::styled("[Esc]", t.key),
        Span::raw(" cancel"),
    ]));
    let height = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX);
    let r = popup(area, width, height);
    clear(r, buf);
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(t.border_focus)
        .title(Span::styled(format!(" {} ", p.title), t.heading));
    let inner = block.inner(r);
    Paragraph::new(lines).block(block).render(r, buf);
    let x = inner.x + 2 + u16::try_from(p.cursor - start).unwrap_or(0);
    (inner.height > 1 && x < inner.right()).then_some(Position::new(x, inner.y + 1))
}
