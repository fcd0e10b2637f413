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
    let (shown, _) = p.visible(line_width(width));
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

/// The columns the typed text has: the dialog's inside less its borders and the "> ".
fn line_width(width: u16) -> usize {
    usize::from(width.saturating_sub(4))
}

/// Draws the prompt; returns where the cursor goes, by display width (a CJK character or an
/// emoji takes two columns).
pub fn render(app: &App, p: &Prompt, area: Rect, buf: &mut Buffer) -> Option<Position> {
    let c = content(app, p, area);
    let footer = dialog::render(&app.theme, &c, app.dialog_scroll, area, buf);
    let (_, column) = p.visible(line_width(c.width));
    let column = u16::try_from(column).unwrap_or(u16::MAX);
    let x = footer.x.saturating_add(2).saturating_add(column);
    (footer.height > 0 && x < footer.right()).then_some(Position::new(x, footer.y))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    use crate::config::Config;
    use crate::engine::Engine;
    use crate::runbook::vars::{Now, Vars};
    use crate::tui::action::Action;
    use crate::tui::app::{App, Modal, Mode};
    use crate::tui::theme::Theme;

    /// The bundled runbook on a Tuesday, with the skip prompt of the first step open.
    fn skipping() -> App {
        let loaded = crate::runbook::load(None, &[]).expect("the bundled runbook");
        let day = chrono::NaiveDate::from_ymd_opt(2015, 9, 8).expect("a date");
        let vars = Vars::compute(
            &loaded,
            &Config::default(),
            Now::Date(day),
            "tester",
            "run",
            &crate::git::tags::checkout_release_tags,
        )
        .expect("vars");
        let engine =
            Engine::in_memory(loaded, vars, "tester", Arc::new(|_| {})).expect("an engine");
        let mut app = App::new(engine, Mode::Run, Theme::color());
        app.update(Action::Skip);
        assert!(matches!(app.modal, Modal::Prompt(_)), "{:?}", app.modal);
        app
    }

    fn key(app: &mut App, code: KeyCode) {
        app.handle_key(&KeyEvent::new(code, KeyModifiers::NONE));
    }

    fn typed(app: &mut App, s: &str) {
        s.chars().for_each(|c| key(app, KeyCode::Char(c)));
    }

    /// Draws on an 80x24 test terminal: where the input line's text starts (after "> ") and
    /// where the terminal's cursor was put.
    fn drawn(app: &mut App) -> ((u16, u16), (u16, u16)) {
        let mut t = Terminal::new(TestBackend::new(80, 24)).expect("a terminal");
        t.draw(|f| super::super::draw(f, app)).expect("a frame");
        let buf = t.backend().buffer().clone();
        let row = |y: u16| (0..80).map(|x| buf[(x, y)].symbol()).collect::<String>();
        // The input line is right above the keys.
        let keys = (0..24)
            .find(|&y| row(y).contains("[Enter] accept"))
            .expect("the prompt's keys");
        let y = keys - 1;
        let x = (1..80)
            .find(|&x| buf[(x - 1, y)].symbol() == ">" && buf[(x, y)].symbol() == " ")
            .expect("the input line");
        let cursor = t.get_cursor_position().expect("a cursor");
        ((x + 1, y), (cursor.x, cursor.y))
    }

    #[test]
    fn the_cursor_stands_after_what_was_typed_by_display_width() {
        let mut app = skipping();
        let ((x, y), cursor) = drawn(&mut app);
        assert_eq!(cursor, (x, y), "empty: at the start");
        typed(&mut app, "abc");
        assert_eq!(drawn(&mut app).1, (x + 3, y));
        app.handle_key(&KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
        // CJK characters and an emoji take two columns each.
        typed(&mut app, "発表");
        assert_eq!(drawn(&mut app).1, (x + 4, y));
        typed(&mut app, "🚀");
        assert_eq!(drawn(&mut app).1, (x + 6, y));
        key(&mut app, KeyCode::Left);
        assert_eq!(drawn(&mut app).1, (x + 4, y));
        key(&mut app, KeyCode::Home);
        assert_eq!(drawn(&mut app).1, (x, y));
        key(&mut app, KeyCode::End);
        let mut t = Terminal::new(TestBackend::new(80, 24)).expect("a terminal");
        t.draw(|f| super::super::draw(f, &app)).expect("a frame");
        let buf = t.backend().buffer();
        assert_eq!(buf[(x, y)].symbol(), "発");
        assert_eq!(buf[(x + 2, y)].symbol(), "表");
        assert_eq!(buf[(x + 4, y)].symbol(), "🚀");
    }

    #[test]
    fn a_long_wide_line_scrolls_and_keeps_the_cursor_inside() {
        let mut app = skipping();
        let ((x, y), _) = drawn(&mut app);
        typed(&mut app, &"漢字".repeat(40));
        let (_, (cx, cy)) = drawn(&mut app);
        assert_eq!(cy, y, "one line: the text does not wrap");
        assert!(cx > x + 60 && cx < 80, "{cx}");
    }
}
