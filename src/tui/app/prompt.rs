//! The prompt: a one-line editor in a small modal, with an optional list to pick from.
//! Editing is `tui-input`'s (grapheme-aware moves and deletes); the line and cursor are kept
//! here as plain data so a prompt can be built and inspected without the editor's types.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tui_input::{Input, InputRequest};
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

use crate::engine::{InputSpec, Inputs};
use crate::tui::picker::{Pick, Picker};

#[derive(Debug, Clone, PartialEq)]
pub enum Purpose {
    Skip {
        step: String,
    },
    Reopen {
        step: String,
    },
    /// Why to act although a check failed.
    Override {
        step: String,
        /// The confirmation whose checks are overridden: what it showed is still what runs.
        read: crate::engine::Confirmation,
    },
    /// Why a watch has seen enough.
    EndEarly {
        step: String,
    },
    /// What was done by hand, to tick the step off with what it was shown.
    ByHand {
        step: String,
        shown: crate::engine::ByHand,
    },
    /// Which of several links to open.
    OpenLink {
        links: Vec<crate::tui::links::Link>,
    },
    /// Why to run `step` without the team's push log, which could not be reached (the
    /// claim waits in [`crate::tui::app::App::offline`]).
    OfflineLog {
        step: String,
    },
    /// Why the follower takes the driver's seat from `from` (the team reads it).
    TakeOver {
        from: String,
    },
    /// The text of an ad-hoc item for `section`.
    AddItem {
        section: String,
    },
    /// Asking `specs[index]`; `answers` holds the ones before it.
    Inputs {
        step: String,
        specs: Vec<InputSpec>,
        index: usize,
        answers: Inputs,
        then: Then,
    },
}

/// A one-line editor in a small modal.
#[derive(Debug, Clone, PartialEq)]
pub struct Prompt {
    pub title: String,
    pub label: String,
    /// Listed under the line, e.g. a choice's options.
    pub hints: Vec<String>,
    pub buffer: String,
    /// In chars (Unicode scalar values), as `tui_input::Input::cursor` counts.
    pub cursor: usize,
    pub error: Option<String>,
    pub purpose: Purpose,
    /// A list to pick the answer from (a choice's options, a cherry-pick's commits).
    /// Boxed: most prompts have none, and the modal stays small.
    pub picker: Option<Box<Picker>>,
}

/// The editing keys, as the man page lists them (the dispatch is [`request`]).
pub const KEYS: &[(&str, &str)] = &[
    ("←/→", "move one character"),
    ("Home/Ctrl-A, End/Ctrl-E", "start / end of the line"),
    ("Backspace/Delete", "delete before / under the cursor"),
    ("Ctrl-W", "delete the word before the cursor"),
    ("Ctrl-K", "delete to the end of the line"),
    ("Ctrl-U", "clear the line"),
    ("Enter", "accept"),
    ("Esc", "cancel"),
];

/// What an editing key asks of the line; `None` for keys the editor ignores. Translated here
/// rather than by `tui-input`'s crossterm backend: that one ignores Alt-typed characters and
/// modified Backspace, which this editor has always taken as plain ones.
fn request(key: &KeyEvent) -> Option<InputRequest> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    Some(match key.code {
        KeyCode::Char('u') if ctrl => InputRequest::DeleteLine,
        KeyCode::Char('w') if ctrl => InputRequest::DeletePrevWord,
        KeyCode::Char('a') if ctrl => InputRequest::GoToStart,
        KeyCode::Char('e') if ctrl => InputRequest::GoToEnd,
        KeyCode::Char('k') if ctrl => InputRequest::DeleteTillEnd,
        KeyCode::Char(c) if !ctrl => InputRequest::InsertChar(c),
        KeyCode::Backspace => InputRequest::DeletePrevChar,
        KeyCode::Delete => InputRequest::DeleteNextChar,
        KeyCode::Left => InputRequest::GoToPrevChar,
        KeyCode::Right => InputRequest::GoToNextChar,
        KeyCode::Home => InputRequest::GoToStart,
        KeyCode::End => InputRequest::GoToEnd,
        _ => return None,
    })
}

impl Prompt {
    pub(super) fn new(title: String, label: String, hints: Vec<String>, purpose: Purpose) -> Self {
        Prompt {
            title,
            label,
            hints,
            buffer: String::new(),
            cursor: 0,
            error: None,
            purpose,
            picker: None,
        }
    }

    /// The line as `tui-input` edits it.
    fn input(&self) -> Input {
        Input::new(self.buffer.clone()).with_cursor(self.cursor)
    }

    /// Keys a list picks with; false when the key is for the line editor.
    pub(super) fn pick(&mut self, key: &KeyEvent) -> bool {
        let Some(picker) = &mut self.picker else {
            return false;
        };
        match (key.code, picker.pick) {
            (KeyCode::Up, _) => picker.up(),
            (KeyCode::Down, _) => picker.down(),
            (KeyCode::PageUp, _) => (0..5).for_each(|_| picker.up()),
            (KeyCode::PageDown, _) => (0..5).for_each(|_| picker.down()),
            (KeyCode::Char(' '), Pick::Many) => {
                self.buffer = picker.toggle(&self.buffer);
                self.cursor = self.buffer.chars().count();
            }
            _ => return false,
        }
        // Moving through a choice's options: Enter takes the highlighted one, not a
        // number typed before.
        if picker.pick == Pick::One
            && matches!(
                key.code,
                KeyCode::Up | KeyCode::Down | KeyCode::PageUp | KeyCode::PageDown
            )
        {
            self.buffer.clear();
            self.cursor = 0;
        }
        self.error = None;
        true
    }

    /// An editing key: the line changes, and the last error goes (it was about the old line).
    pub(super) fn edit(&mut self, key: &KeyEvent) {
        if let Some(req) = request(key) {
            let mut input = self.input();
            input.handle(req);
            self.cursor = input.cursor();
            self.buffer = input.into();
        }
        self.error = None;
    }

    /// The part of the line shown in `width` columns and the cursor's column in it, both in
    /// display columns (a CJK character or an emoji takes two). It scrolls only as far as
    /// keeping the cursor in view needs, with a column kept for the cursor at the end.
    pub fn visible(&self, width: usize) -> (String, usize) {
        let input = self.input();
        let scroll = input.visual_scroll(width.saturating_sub(1));
        let mut shown = String::new();
        let (mut at, mut used) = (0, 0);
        for g in self.buffer.graphemes(true) {
            let w = g.width();
            if at >= scroll {
                if used + w > width {
                    break;
                }
                shown.push_str(g);
                used += w;
            }
            at += w;
        }
        (shown, input.visual_cursor().saturating_sub(scroll))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prompt() -> Prompt {
        Prompt::new(
            "t".into(),
            "l".into(),
            Vec::new(),
            Purpose::Skip { step: "s".into() },
        )
    }

    fn press(p: &mut Prompt, code: KeyCode, modifiers: KeyModifiers) {
        p.edit(&KeyEvent::new(code, modifiers));
    }

    fn typed(p: &mut Prompt, s: &str) {
        for c in s.chars() {
            press(p, KeyCode::Char(c), KeyModifiers::NONE);
        }
    }

    #[test]
    fn editing_keys_move_and_delete_as_before() {
        let mut p = prompt();
        typed(&mut p, "hello world");
        assert_eq!((p.buffer.as_str(), p.cursor), ("hello world", 11));
        press(&mut p, KeyCode::Left, KeyModifiers::NONE);
        press(&mut p, KeyCode::Left, KeyModifiers::NONE);
        assert_eq!(p.cursor, 9);
        press(&mut p, KeyCode::Backspace, KeyModifiers::NONE);
        assert_eq!((p.buffer.as_str(), p.cursor), ("hello wold", 8));
        press(&mut p, KeyCode::Delete, KeyModifiers::NONE);
        assert_eq!((p.buffer.as_str(), p.cursor), ("hello wod", 8));
        press(&mut p, KeyCode::Home, KeyModifiers::NONE);
        assert_eq!(p.cursor, 0);
        // Nothing before the start, nothing past the end.
        press(&mut p, KeyCode::Left, KeyModifiers::NONE);
        press(&mut p, KeyCode::Backspace, KeyModifiers::NONE);
        assert_eq!((p.buffer.as_str(), p.cursor), ("hello wod", 0));
        press(&mut p, KeyCode::Right, KeyModifiers::NONE);
        assert_eq!(p.cursor, 1);
        typed(&mut p, "X");
        assert_eq!((p.buffer.as_str(), p.cursor), ("hXello wod", 2));
        press(&mut p, KeyCode::End, KeyModifiers::NONE);
        press(&mut p, KeyCode::Right, KeyModifiers::NONE);
        press(&mut p, KeyCode::Delete, KeyModifiers::NONE);
        assert_eq!((p.buffer.as_str(), p.cursor), ("hXello wod", 10));
        // Shifted and Alt-typed characters are text; other Ctrl keys are not.
        press(&mut p, KeyCode::Char('Y'), KeyModifiers::SHIFT);
        press(&mut p, KeyCode::Char('z'), KeyModifiers::ALT);
        press(&mut p, KeyCode::Char('x'), KeyModifiers::CONTROL);
        assert_eq!(p.buffer, "hXello wodYz");
        press(&mut p, KeyCode::Char('u'), KeyModifiers::CONTROL);
        assert_eq!((p.buffer.as_str(), p.cursor), ("", 0));
    }

    #[test]
    fn readline_keys_edit_words_and_ends() {
        let mut p = prompt();
        typed(&mut p, "deploy to stage");
        press(&mut p, KeyCode::Char('w'), KeyModifiers::CONTROL);
        assert_eq!((p.buffer.as_str(), p.cursor), ("deploy to ", 10));
        press(&mut p, KeyCode::Char('a'), KeyModifiers::CONTROL);
        assert_eq!(p.cursor, 0);
        press(&mut p, KeyCode::Right, KeyModifiers::NONE);
        press(&mut p, KeyCode::Char('k'), KeyModifiers::CONTROL);
        assert_eq!((p.buffer.as_str(), p.cursor), ("d", 1));
        press(&mut p, KeyCode::Char('e'), KeyModifiers::CONTROL);
        assert_eq!(p.cursor, 1);
    }

    #[test]
    fn an_edit_clears_the_error() {
        let mut p = prompt();
        p.error = Some("a reason is required".into());
        press(&mut p, KeyCode::Left, KeyModifiers::NONE);
        assert_eq!(p.error, None);
    }

    #[test]
    fn wide_characters_move_the_cursor_by_their_width() {
        let mut p = prompt();
        typed(&mut p, "発表");
        assert_eq!(p.cursor, 2, "chars");
        assert_eq!(p.visible(40), ("発表".to_string(), 4), "columns");
        typed(&mut p, "🚀");
        assert_eq!(p.visible(40).1, 6);
        press(&mut p, KeyCode::Left, KeyModifiers::NONE);
        assert_eq!(p.visible(40).1, 4);
        press(&mut p, KeyCode::Backspace, KeyModifiers::NONE);
        assert_eq!((p.buffer.as_str(), p.visible(40).1), ("発🚀", 2));
    }

    #[test]
    fn one_grapheme_of_many_chars_is_one_step() {
        let mut p = prompt();
        // A family: four people joined by zero-width joiners, two columns wide.
        typed(&mut p, "a👩\u{200d}👩\u{200d}👧\u{200d}👦b");
        press(&mut p, KeyCode::Left, KeyModifiers::NONE);
        press(&mut p, KeyCode::Left, KeyModifiers::NONE);
        assert_eq!(p.visible(40).1, 1);
        press(&mut p, KeyCode::Delete, KeyModifiers::NONE);
        assert_eq!(p.buffer, "ab");
    }

    #[test]
    fn a_long_line_scrolls_to_keep_the_cursor_in_view() {
        let mut p = prompt();
        typed(&mut p, "abcdefghij");
        // Ten columns: the cursor past the end needs one, so "b".."j" show.
        assert_eq!(p.visible(10), ("bcdefghij".to_string(), 9));
        press(&mut p, KeyCode::Home, KeyModifiers::NONE);
        assert_eq!(p.visible(10), ("abcdefghij".to_string(), 0));
        let mut wide = prompt();
        typed(&mut wide, "一二三四五六");
        // Twelve columns in ten, a column kept for the cursor: the view starts at a whole
        // character, never half of one.
        assert_eq!(wide.visible(10), ("三四五六".to_string(), 8));
    }
}

/// What a confirmed step carries through its input prompts to its start: why its failed
/// checks are overridden, and the action as the dialog showed it.
#[derive(Debug, Clone, PartialEq)]
pub struct Then {
    pub override_reason: Option<String>,
    pub pinned: Option<crate::engine::Pinned>,
}
