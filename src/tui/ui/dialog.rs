//! The frame every dialog and prompt is drawn in: sized to its content, at most the screen;
//! the body scrolls and the footer (the input line, an error, the key hints) is always shown.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget};

use super::{clear, popup, scroll};
use crate::tui::theme::Theme;

/// What a dialog shows.
pub struct Content<'a> {
    pub title: String,
    /// At most this wide (less on a small screen).
    pub width: u16,
    pub body: Vec<Line<'a>>,
    pub footer: Vec<Line<'a>>,
    /// A body line that must stay in view (the highlighted item of a list).
    pub focus: Option<usize>,
}

/// Where a dialog's parts go on this screen, its body wrapped.
pub struct Placed<'a> {
    pub outer: Rect,
    pub body_area: Rect,
    pub footer_area: Rect,
    pub rows: Vec<Line<'a>>,
    pub footer: Vec<Line<'a>>,
    /// The rows the focused body line takes.
    focus_rows: Option<(usize, usize)>,
}

impl Placed<'_> {
    /// The body's first row shown for a requested `offset`: within the body, and moved as
    /// little as needed to show the focused line.
    pub fn offset(&self, offset: usize) -> usize {
        let view = usize::from(self.body_area.height);
        let o = offset.min(scroll::max_offset(self.rows.len(), view));
        match self.focus_rows {
            Some((first, last)) => scroll::follow(o, first, last, view),
            None => o,
        }
    }
}

pub fn place<'a>(c: &Content<'a>, area: Rect) -> Placed<'a> {
    let width = c.width.min(area.width.saturating_sub(4)).max(3);
    let inner_w = usize::from(width.saturating_sub(2)).max(1);
    let rows = scroll::wrap(&c.body, inner_w);
    let footer = scroll::wrap(&c.footer, inner_w);
    let focus_rows = c.focus.filter(|i| *i < c.body.len()).map(|i| {
        let first = scroll::wrap(&c.body[..i], inner_w).len();
        let n = scroll::wrap(&c.body[i..=i], inner_w).len();
        (first, first + n.saturating_sub(1))
    });
    let want = rows.len() + footer.len() + 2;
    let outer = popup(area, width, u16::try_from(want).unwrap_or(u16::MAX));
    let inner = Block::new().borders(Borders::ALL).inner(outer);
    // The footer first: a screen too short for both still shows the keys.
    let footer_h = u16::try_from(footer.len())
        .unwrap_or(u16::MAX)
        .min(inner.height);
    let body_h = inner.height - footer_h;
    let body_area = Rect::new(inner.x, inner.y, inner.width, body_h);
    let footer_area = Rect::new(inner.x, inner.y + body_h, inner.width, footer_h);
    Placed {
        outer,
        body_area,
        footer_area,
        rows,
        footer,
        focus_rows,
    }
}

/// Draws the dialog with its body scrolled to `offset` (as far as it goes); returns where
/// the footer went (a prompt puts its cursor there).
pub fn render(t: &Theme, c: &Content, offset: usize, area: Rect, buf: &mut Buffer) -> Rect {
    let p = place(c, area);
    clear(p.outer, buf);
    let first = p.offset(offset);
    let view = usize::from(p.body_area.height);
    let mut block = Block::new()
        .borders(Borders::ALL)
        .border_style(t.border_focus)
        .title(Span::styled(format!(" {} ", c.title), t.heading));
    if p.rows.len() > view {
        // Where the view is, and that there is more: the keys to see it are PgUp/PgDn.
        let last = (first + view).min(p.rows.len());
        block = block.title_bottom(
            Line::styled(
                format!(" PgUp/PgDn {}-{last} of {} ", first + 1, p.rows.len()),
                t.key,
            )
            .right_aligned(),
        );
    }
    block.render(p.outer, buf);
    let shown: Vec<Line> = p.rows.iter().skip(first).take(view).cloned().collect();
    Paragraph::new(shown).render(p.body_area, buf);
    Paragraph::new(p.footer.clone()).render(p.footer_area, buf);
    p.footer_area
}

/// The key hints line: `[k] what` for each.
pub fn keys_line<'a>(t: &Theme, items: &[(&'a str, &'a str)]) -> Line<'a> {
    let mut spans = Vec::new();
    for (i, (k, what)) in items.iter().enumerate() {
        if i > 0 {
            spans.push(Span::raw("   "));
        }
        spans.push(Span::styled(format!("[{k}]"), t.key));
        spans.push(Span::raw(format!(" {what}")));
    }
    Line::from(spans)
}
