//! The open log's keys: scrolling, and `/` search with n/N.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::App;
use crate::tui::logbuf::{self, Search};

/// The open log's keys, as the man page lists them (the dispatch is `App::log_key`).
pub const KEYS: &[(&str, &str)] = &[
    ("j/k, ↓/↑", "scroll a line"),
    ("PgDn/PgUp", "scroll a page"),
    ("g/Home, G/End", "the first / last line"),
    ("/", "search: type the text, Enter finds it, Esc drops it"),
    ("n/N", "the next / previous match"),
    ("Esc", "end the search"),
];

impl App {
    /// The log's line count and the rows it is shown in (open full-size).
    pub(super) fn log_size(&self) -> (usize, usize) {
        let a = crate::tui::ui::areas(self, self.area);
        let full = crate::tui::ui::log_full_area(&a);
        (self.log.len(), crate::tui::ui::log::text_height(self, full))
    }

    /// Keys of the open log: scrolling, and `/` search with n/N. False for keys it leaves
    /// to the main keymap (Tab, ?, q).
    pub(super) fn log_key(&mut self, key: &KeyEvent) -> bool {
        let (total, height) = self.log_size();
        let page = isize::try_from(height.saturating_sub(1).max(1)).unwrap_or(1);
        let typing = self.log_view.search.as_ref().is_some_and(|s| s.typing);
        if typing {
            let Some(s) = self.log_view.search.as_mut() else {
                return false;
            };
            match key.code {
                KeyCode::Enter => {
                    s.typing = false;
                    self.jump_match(None, true);
                }
                KeyCode::Esc => self.log_view.search = None,
                KeyCode::Backspace => {
                    s.query.pop();
                }
                KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                    s.query.push(c)
                }
                _ => return !key.modifiers.contains(KeyModifiers::CONTROL),
            }
            return true;
        }
        let v = &mut self.log_view;
        match key.code {
            KeyCode::Char('j') | KeyCode::Down => v.scroll(1, total, height),
            KeyCode::Char('k') | KeyCode::Up => v.scroll(-1, total, height),
            KeyCode::PageDown => v.scroll(page, total, height),
            KeyCode::PageUp => v.scroll(-page, total, height),
            KeyCode::Char('g') | KeyCode::Home => v.home(),
            KeyCode::Char('G') | KeyCode::End => v.end(),
            KeyCode::Char('/') => {
                v.search = Some(Search {
                    typing: true,
                    ..Search::default()
                })
            }
            KeyCode::Char('n') if v.search.is_some() => {
                let from = v.search.as_ref().and_then(|s| s.current);
                self.jump_match(from, true);
            }
            KeyCode::Char('N') if v.search.is_some() => {
                let from = v.search.as_ref().and_then(|s| s.current);
                self.jump_match(from, false);
            }
            KeyCode::Esc if v.search.is_some() => v.search = None,
            _ => return false,
        }
        true
    }

    /// Moves the search to the match after (before) `from` and scrolls to it.
    fn jump_match(&mut self, from: Option<usize>, forward: bool) {
        let (total, height) = self.log_size();
        let Some(s) = self.log_view.search.as_mut() else {
            return;
        };
        let found = logbuf::matches(self.log.iter().map(|l| l.text.as_str()), &s.query);
        s.current = logbuf::next_match(&found, from, forward);
        if let Some(line) = s.current {
            self.log_view.show(line, total, height);
        }
    }
}
