//! The keymap: one table that both dispatches keys and generates the help overlay, so the
//! two cannot disagree.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;

pub struct Binding {
    pub codes: &'static [KeyCode],
    /// How the keys are written in help and hints. An empty help line folds a binding into
    /// the one before it in the help (a pair like next/previous), which names both.
    pub label: &'static str,
    pub action: Action,
    pub help: &'static str,
}

const fn b(
    codes: &'static [KeyCode],
    label: &'static str,
    action: Action,
    help: &'static str,
) -> Binding {
    Binding {
        codes,
        label,
        action,
        help,
    }
}

/// Keys of the main screen.
pub const MAIN: &[Binding] = &[
    b(
        &[KeyCode::Char('j'), KeyCode::Down],
        "j/k ↓/↑",
        Action::Next,
        "next / previous step",
    ),
    b(&[KeyCode::Char('k'), KeyCode::Up], "k/↑", Action::Prev, ""),
    b(
        &[KeyCode::Char('g'), KeyCode::Home],
        "g/Home",
        Action::First,
        "first step",
    ),
    b(
        &[KeyCode::Char('G'), KeyCode::End],
        "G/End",
        Action::Last,
        "last step",
    ),
    b(
        &[KeyCode::Enter],
        "Enter",
        Action::Open,
        "what it does; y runs it",
    ),
    b(
        &[KeyCode::Char('s')],
        "s",
        Action::Skip,
        "skip (asks for a reason)",
    ),
    b(
        &[KeyCode::Char('r')],
        "r",
        Action::Retry,
        "retry failed/interrupted",
    ),
    b(
        &[KeyCode::Char('o')],
        "o",
        Action::OpenLink,
        "open the step's or the pane's link (asks which of several)",
    ),
    b(
        &[KeyCode::Char('c')],
        "c",
        Action::Copy,
        "copy the step's text or link (and show it)",
    ),
    b(
        &[KeyCode::Char('O')],
        "O",
        Action::Reopen,
        "reopen a finished step (asks why)",
    ),
    b(
        &[KeyCode::Char('a')],
        "a",
        Action::Add,
        "add an ad-hoc item to this section",
    ),
    b(
        &[KeyCode::Char('h')],
        "h",
        Action::ByHand,
        "do it by hand: exactly what, then tick it off",
    ),
    b(
        &[KeyCode::Char('e')],
        "e",
        Action::EndEarly,
        "end a running watch now (asks why)",
    ),
    b(
        &[KeyCode::Char('T')],
        "T",
        Action::TakeOver,
        "follow, or taken over: take the driver's seat (asks why)",
    ),
    b(
        &[KeyCode::Tab],
        "Tab",
        Action::FocusNext,
        "focus the next pane, then the log, then the checklist",
    ),
    b(
        &[KeyCode::PageDown],
        "PgDn/Up",
        Action::ScrollDown,
        "scroll details down / up",
    ),
    b(&[KeyCode::PageUp], "PgUp", Action::ScrollUp, ""),
    b(
        &[KeyCode::Char('i')],
        "i",
        Action::Overview,
        "the whole procedure: summary, sections, days",
    ),
    b(&[KeyCode::Char('?')], "?", Action::Help, "this help"),
    b(
        &[KeyCode::Char('q')],
        "q",
        Action::Quit,
        "quit (asks if a step runs)",
    ),
];

/// Keys of yes/no dialogs.
pub const DIALOG: &[Binding] = &[
    b(&[KeyCode::Char('y')], "y", Action::Yes, "yes: do it"),
    b(
        &[KeyCode::Char('f')],
        "f",
        Action::Override,
        "act although a check failed (asks why)",
    ),
    b(
        &[KeyCode::Char('o')],
        "o",
        Action::OpenLink,
        "open its link (the page to use by hand)",
    ),
    b(
        &[KeyCode::Char('c')],
        "c",
        Action::Copy,
        "copy its text (what to paste by hand) or link",
    ),
    b(
        &[KeyCode::Char('n'), KeyCode::Esc],
        "n/Esc",
        Action::No,
        "no: cancel",
    ),
];

pub fn lookup(table: &[Binding], key: &KeyEvent) -> Option<Action> {
    if key.modifiers.contains(KeyModifiers::CONTROL) {
        return (key.code == KeyCode::Char('c')).then_some(Action::Interrupt);
    }
    table
        .iter()
        .find(|b| b.codes.contains(&key.code))
        .map(|b| b.action)
}

pub fn label(table: &[Binding], action: Action) -> &'static str {
    table
        .iter()
        .find(|b| b.action == action)
        .map_or("", |b| b.label)
}
