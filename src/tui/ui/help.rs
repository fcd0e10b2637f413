//! The help overlay, generated from the keymap, with the status marks.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget};

use super::{clear, popup};
use crate::session::Status;
use crate::tui::app::{App, Mode};
use crate::tui::keys::{DIALOG, MAIN};

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let t = &app.theme;
    let mut lines = Vec::new();
    for b in MAIN.iter().chain(DIALOG).filter(|b| !b.help.is_empty()) {
        lines.push(Line::from(vec![
            Span::styled(format!("{:>7}  ", b.label), t.key),
            Span::raw(b.help),
        ]));
    }
    lines.push(Line::from(vec![
        Span::styled(format!("{:>7}  ", "Ctrl-C"), t.key),
        Span::raw("cancel the running step"),
    ]));
    let marks = [
        Status::Pending,
        Status::Running {
            since: String::new(),
        },
        Status::Done { at: String::new() },
        Status::Skipped {
            reason: String::new(),
        },
        Status::Failed {
            error: String::new(),
        },
        Status::NotApplicable,
        Status::Interrupted {
            since: String::new(),
        },
    ];
    for row in marks.chunks(4) {
        let mut spans = Vec::new();
        for s in row {
            spans.push(Span::styled(s.mark(), t.status(s)));
            spans.push(Span::raw(format!(" {}  ", s.name().replace('_', " "))));
        }
        lines.push(Line::from(spans));
    }
    if app.mode == Mode::Learn {
        lines.push(Line::styled(
            "Learn mode is read-only: Enter explains a step; nothing runs.",
            t.read_only,
        ));
    }
    let height = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX);
    let r = popup(area, 76, height);
    clear(r, buf);
    Paragraph::new(lines)
        .wrap(ratatui::widgets::Wrap { trim: false })
        .block(
            Block::new()
                .borders(Borders::ALL)
                .border_style(t.border_focus)
                .title(Span::styled(" Keys (Esc closes) ", t.heading)),
        )
        .render(r, buf);
}
