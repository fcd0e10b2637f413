//! The help overlay, generated from the keymap, with the status marks.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget};

use super::{clear, popup};
use crate::session::Status;
use crate::tui::action::Action;
use crate::tui::app::{App, LOG_KEYS, Mode};
use crate::tui::keys::{DIALOG, MAIN};

/// What learn mode cannot do (it runs and records nothing): its help leaves these out.
const NOT_IN_LEARN: &[Action] = &[
    Action::Skip,
    Action::Retry,
    Action::Reopen,
    Action::Add,
    Action::EndEarly,
    Action::Yes,
    Action::Override,
];

/// How far the help can scroll on this screen (0: it fits).
pub fn most_scroll(app: &App, area: Rect) -> usize {
    let lines = lines(app);
    let height = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX);
    let shown = usize::from(popup(area, 76, height).height.saturating_sub(2));
    lines.len().saturating_sub(shown)
}

fn lines(app: &App) -> Vec<Line<'static>> {
    let t = &app.theme;
    let learn = app.mode == Mode::Learn;
    // `follow`'s screen: `r` reads the push log now.
    let follows = learn && app.following.as_ref().is_some_and(|f| !f.taken_over);
    let mut lines = Vec::new();
    for b in MAIN
        .iter()
        .chain(DIALOG)
        .filter(|b| !b.help.is_empty())
        .filter(|b| {
            !(learn && NOT_IN_LEARN.contains(&b.action)) || (follows && b.action == Action::Retry)
        })
    {
        // Learn mode explains a step on Enter and never runs it.
        let help = match b.action {
            Action::Open if learn => "what it does and why",
            Action::Retry if follows => "read the team's push log now",
            _ => b.help,
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{:>7}  ", b.label), t.key),
            Span::raw(help),
        ]));
    }
    if !learn {
        lines.push(Line::from(vec![
            Span::styled(format!("{:>7}  ", "Ctrl-C"), t.key),
            Span::raw("cancel the running step"),
        ]));
    }
    lines.push(Line::styled("In the open log (Tab to it):", t.heading));
    for (keys, what) in LOG_KEYS {
        lines.push(Line::from(vec![
            Span::styled(format!("{keys:>13}  "), t.key),
            Span::raw(*what),
        ]));
    }
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
        // The newcomer's next question: will my config work on push day?
        lines.push(Line::raw(
            "Before pushing: `pushduty doctor` checks every remote, service and link.",
        ));
    }
    lines
}

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let t = &app.theme;
    let lines = lines(app);
    let height = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX);
    let r = popup(area, 76, height);
    // Taller than the screen (80x24): it scrolls, and its title says so.
    let shown = usize::from(r.height.saturating_sub(2));
    let most = lines.len().saturating_sub(shown);
    let scroll = app.dialog_scroll.min(most);
    let title = if most == 0 {
        " Keys (Esc closes) ".to_string()
    } else {
        format!(
            " Keys ({}–{} of {}; j/k, PgDn/PgUp scroll; Esc closes) ",
            scroll + 1,
            scroll + shown,
            lines.len()
        )
    };
    clear(r, buf);
    Paragraph::new(lines)
        .wrap(ratatui::widgets::Wrap { trim: false })
        .scroll((u16::try_from(scroll).unwrap_or(u16::MAX), 0))
        .block(
            Block::new()
                .borders(Borders::ALL)
                .border_style(t.border_focus)
                .title(Span::styled(title, t.heading)),
        )
        .render(r, buf);
}
