//! The prompt: a one-line editor in a small modal, with an optional list to pick from.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

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
    },
    /// Why a watch has seen enough.
    EndEarly {
        step: String,
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
        override_reason: Option<String>,
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
    /// In chars.
    pub cursor: usize,
    pub error: Option<String>,
    pub purpose: Purpose,
    /// A list to pick the answer from (a choice's options, a cherry-pick's commits).
    /// Boxed: most prompts have none, and the modal stays small.
    pub picker: Option<Box<Picker>>,
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

    fn byte(&self, chars: usize) -> usize {
        self.buffer
            .char_indices()
            .nth(chars)
            .map_or(self.buffer.len(), |(i, _)| i)
    }

    pub(super) fn edit(&mut self, key: &KeyEvent) {
        let len = self.buffer.chars().count();
        match key.code {
            KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.buffer.clear();
                self.cursor = 0;
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                let at = self.byte(self.cursor);
                self.buffer.insert(at, c);
                self.cursor += 1;
            }
            KeyCode::Backspace if self.cursor > 0 => {
                self.cursor -= 1;
                let at = self.byte(self.cursor);
                self.buffer.remove(at);
            }
            KeyCode::Delete if self.cursor < len => {
                let at = self.byte(self.cursor);
                self.buffer.remove(at);
            }
            KeyCode::Left => self.cursor = self.cursor.saturating_sub(1),
            KeyCode::Right => self.cursor = (self.cursor + 1).min(len),
            KeyCode::Home => self.cursor = 0,
            KeyCode::End => self.cursor = len,
            _ => {}
        }
        self.error = None;
    }
}
