//! The session log: what ran, its output, notices (resume, runbook changes, stale lock).
//! Focused (Tab), it opens full-size with its scrollback, and `/` searches it.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget};

use crate::tui::app::{App, Focus, Level};
use crate::tui::logbuf;

/// The rows the log's lines get in `area` (less the search line, when searching).
pub fn text_height(app: &App, area: Rect) -> usize {
    let inner = Block::new().borders(Borders::ALL).inner(area);
    let search = app.focus == Focus::Log && app.log_view.search.is_some();
    usize::from(inner.height).saturating_sub(usize::from(search))
}

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let t = &app.theme;
    let focused = app.focus == Focus::Log;
    let view = &app.log_view;
    let n = text_height(app, area);
    let total = app.log.len();
    let first = view.first(total, n);
    let title = if focused {
        let end = (first + n).min(total);
        format!(
            " Log {}-{end} of {total} · j/k PgUp/PgDn g/G · / search · Tab: back ",
            (first + 1).min(total)
        )
    } else {
        " Log ".to_string()
    };
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(if focused { t.border_focus } else { t.border })
        .title(Span::styled(title, t.heading));
    let inner = block.inner(area);
    block.render(area, buf);
    // Matches are marked only while the log is focused and a query is set.
    let search = view.search.as_ref().filter(|_| focused);
    let query = search.map_or("", |s| s.query.as_str());
    let current = search.and_then(|s| s.current);
    let lines: Vec<Line> = app
        .log
        .iter()
        .enumerate()
        .skip(first)
        .take(n)
        .map(|(i, l)| {
            let style = match l.level {
                Level::Info => t.text,
                Level::Progress => t.dim,
                Level::Warn => t.interrupted,
                Level::Error => t.error,
            };
            marked(&l.text, query, style, current == Some(i))
        })
        .collect();
    let text_area = Rect::new(
        inner.x,
        inner.y,
        inner.width,
        u16::try_from(n).unwrap_or(inner.height),
    );
    Paragraph::new(lines).render(text_area, buf);
    if let Some(s) = search {
        let found = logbuf::matches(app.log.iter().map(|l| l.text.as_str()), &s.query);
        let status = if s.typing {
            "  Enter: find · Esc: stop searching".to_string()
        } else if found.is_empty() {
            "  no match · / another search · Esc: stop searching".to_string()
        } else {
            let at = s
                .current
                .and_then(|c| found.iter().position(|f| *f == c))
                .map_or(0, |p| p + 1);
            format!(
                "  match {at} of {} · n/N next/previous · Esc: stop searching",
                found.len()
            )
        };
        let bar = Line::from(vec![
            Span::styled("/", t.key),
            Span::raw(s.query.clone()),
            Span::styled(status, t.dim),
        ]);
        let y = inner.y + u16::try_from(n).unwrap_or(0);
        Paragraph::new(bar).render(Rect::new(inner.x, y, inner.width, 1), buf);
    }
}

/// A log line with each match of `query` in reverse video (the current match's line also
/// bold), so matches show without colour too.
fn marked<'a>(text: &str, query: &str, style: Style, current: bool) -> Line<'a> {
    let hits = logbuf::spans_of(text, query);
    if hits.is_empty() {
        return Line::styled(text.to_string(), style);
    }
    let hit = style.add_modifier(if current {
        Modifier::REVERSED | Modifier::BOLD
    } else {
        Modifier::REVERSED
    });
    let mut spans = Vec::new();
    let mut at = 0;
    for (a, b) in hits {
        if a > at {
            spans.push(Span::styled(text[at..a].to_string(), style));
        }
        spans.push(Span::styled(text[a..b].to_string(), hit));
        at = b;
    }
    if at < text.len() {
        spans.push(Span::styled(text[at..].to_string(), style));
    }
    let mut line = Line::from(spans);
    if current {
        line.push_span(Span::styled(" ◀", style.add_modifier(Modifier::BOLD)));
    }
    line
}
