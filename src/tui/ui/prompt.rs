//! The modal line editor used for notes, reasons, output values, choices and cherry-picks.
//! A choice lists its options (arrows and Enter, or the number); a cherry-pick lists the
//! commits it can take (Space toggles). The input line and the keys stay at the bottom.

use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};

use super::dialog::{self, Content, keys_line};
use crate::tui::app::{App, Prompt};
use crate::tui::picker::Pick;

/// Wide enough for a commit's sha, subject and author on one row on most screens.
const WIDTH: u16 = 84;

pub fn content<'a>(app: &'a App, p: &'a Prompt, area: Rect) -> Content<'a> {
    let t = &app.theme;
    let width = WIDTH.min(area.width.saturating_sub(4));
    let mut body = vec![Line::styled(format!("{}:", p.label), t.heading)];
    body.extend(
        p.hints
            .iter()
            .map(|h| Line::styled(format!("  {h}"), t.dim)),
    );
    let mut focus = None;
    if let Some(picker) = &p.picker {
        let chosen = picker.chosen(&p.buffer);
        let lit = picker.highlighted(&p.buffer);
        for (i, (item, on)) in picker.items.iter().zip(chosen).enumerate() {
            let mark = match (picker.pick, on) {
                (Pick::One, _) => format!("{}. ", i + 1),
                (Pick::Many, true) => "[x] ".to_string(),
                (Pick::Many, false) => "[ ] ".to_string(),
            };
            let pointer = if i == lit { "› " } else { "  " };
            let mut spans = vec![
                Span::styled(pointer, t.key),
                Span::raw(mark),
                Span::styled(item.value.clone(), t.code),
                Span::raw(match picker.pick {
                    Pick::One => format!(": {}", item.label),
                    Pick::Many => format!("  {}", item.label),
                }),
            ];
            if !item.note.is_empty() {
                spans.push(Span::styled(format!(" — {}", item.note), t.dim));
            }
            let mut line = Line::from(spans);
            if i == lit {
                line = line.patch_style(t.selected);
                focus = Some(body.len());
            }
            body.push(line);
        }
    }
    // The input line scrolls its text so the cursor stays visible.
    let inner_w = usize::from(width.saturating_sub(4));
    let start = p.cursor.saturating_sub(inner_w.saturating_sub(1));
    let shown: String = p.buffer.chars().skip(start).take(inner_w).collect();
    let mut footer = vec![Line::from(vec![
        Span::styled("> ", t.key),
        Span::raw(shown),
    ])];
    if let Some(e) = &p.error {
        footer.push(Line::styled(e.clone(), t.error));
    }
    footer.push(match p.picker.as_ref().map(|k| k.pick) {
        Some(Pick::One) => keys_line(
            t,
            &[("↑/↓", "choose"), ("Enter", "accept"), ("Esc", "cancel")],
        ),
        Some(Pick::Many) => keys_line(
            t,
            &[
                ("↑/↓", "move"),
                ("Space", "pick"),
                ("Enter", "accept"),
                ("Esc", "cancel"),
            ],
        ),
        None => keys_line(t, &[("Enter", "accept"), ("Esc", "cancel")]),
    });
    Content {
        title: p.title.clone(),
        width,
        body,
        footer,
        focus,
    }
}

/// Draws the prompt; returns where the cursor goes.
pub fn render(app: &App, p: &Prompt, area: Rect, buf: &mut Buffer) -> Option<Position> {
    let c = content(app, p, area);
    let footer = dialog::render(&app.theme, &c, app.dialog_scroll, area, buf);
    let inner_w = usize::from(c.width.saturating_sub(4));
    let start = p.cursor.saturating_sub(inner_w.saturating_sub(1));
    let x = footer.x + 2 + u16::try_from(p.cursor - start).unwrap_or(0);
    (footer.height > 0 && x < footer.right()).then_some(Position::new(x, footer.y))
}
