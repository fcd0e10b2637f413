//! Semantic styles. With `NO_COLOR` every style keeps its modifiers (bold, reverse, dim,
//! underline) but no colour, and status marks differ by their symbol, so nothing depends on
//! colour alone.

use ratatui::style::{Color, Modifier, Style};

use crate::session::Status;

#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub text: Style,
    pub dim: Style,
    pub heading: Style,
    pub selected: Style,
    pub border: Style,
    pub border_focus: Style,
    pub pending: Style,
    pub running: Style,
    pub done: Style,
    pub skipped: Style,
    pub failed: Style,
    pub not_applicable: Style,
    pub interrupted: Style,
    pub read_only: Style,
    pub key: Style,
    pub code: Style,
    pub link: Style,
    pub error: Style,
    pub status_bar: Style,
}

impl Theme {
    pub fn color() -> Self {
        let s = Style::new();
        Theme {
            text: s,
            dim: s.fg(Color::DarkGray),
            heading: s.fg(Color::Cyan).add_modifier(Modifier::BOLD),
            // A background, not reversed video, so the status colour stays readable.
            selected: s.bg(Color::Indexed(237)).add_modifier(Modifier::BOLD),
            border: s.fg(Color::DarkGray),
            border_focus: s.fg(Color::Cyan),
            pending: s,
            running: s.fg(Color::Yellow).add_modifier(Modifier::BOLD),
            done: s.fg(Color::Green),
            skipped: s.fg(Color::Blue),
            failed: s.fg(Color::Red).add_modifier(Modifier::BOLD),
            not_applicable: s.fg(Color::DarkGray).add_modifier(Modifier::CROSSED_OUT),
            interrupted: s.fg(Color::Magenta).add_modifier(Modifier::BOLD),
            read_only: s
                .fg(Color::Black)
                .bg(Color::Yellow)
                .add_modifier(Modifier::BOLD),
            key: s.fg(Color::Cyan).add_modifier(Modifier::BOLD),
            code: s.fg(Color::Yellow),
            link: s.fg(Color::Blue).add_modifier(Modifier::UNDERLINED),
            error: s.fg(Color::Red),
            status_bar: s.fg(Color::Black).bg(Color::Gray),
        }
    }

    pub fn no_color() -> Self {
        let s = Style::new();
        let bold = s.add_modifier(Modifier::BOLD);
        Theme {
            text: s,
            dim: s.add_modifier(Modifier::DIM),
            heading: bold.add_modifier(Modifier::UNDERLINED),
            selected: s.add_modifier(Modifier::REVERSED),
            border: s,
            border_focus: bold,
            pending: s,
            running: bold,
            done: s,
            skipped: s.add_modifier(Modifier::DIM),
            failed: bold,
            not_applicable: s.add_modifier(Modifier::DIM | Modifier::CROSSED_OUT),
            interrupted: bold,
            read_only: s.add_modifier(Modifier::REVERSED | Modifier::BOLD),
            key: bold,
            code: s.add_modifier(Modifier::ITALIC),
            link: s.add_modifier(Modifier::UNDERLINED),
            error: bold,
            status_bar: s.add_modifier(Modifier::REVERSED),
        }
    }

    /// `NO_COLOR` set to anything non-empty turns colour off (no-color.org).
    pub fn from_env() -> Self {
        match std::env::var_os("NO_COLOR") {
            Some(v) if !v.is_empty() => Self::no_color(),
            _ => Self::color(),
        }
    }

    pub fn status(&self, s: &Status) -> Style {
        match s {
            Status::Pending => self.pending,
            Status::Running { .. } => self.running,
            Status::Done { .. } => self.done,
            Status::Skipped { .. } => self.skipped,
            Status::Failed { .. } => self.failed,
            Status::NotApplicable => self.not_applicable,
            Status::Interrupted { .. } => self.interrupted,
        }
    }
}

/// How a status reads in the details, its times in the team's timezone (`tz`).
pub fn describe(s: &Status, tz: chrono_tz::Tz) -> String {
    let when = |at: &str| crate::words::when(at, tz);
    match s {
        Status::Pending => "pending".into(),
        Status::Running { since } => format!("running since {}", when(since)),
        Status::Done { at } => format!("done at {}", when(at)),
        Status::Skipped { reason } => format!("skipped: {reason}"),
        Status::Failed { error } => format!("failed: {error}"),
        Status::NotApplicable => "does not apply to the choices made".into(),
        Status::Interrupted { since } => format!(
            "interrupted: it was running (since {}) when pushduty stopped; it may have partly happened",
            when(since)
        ),
    }
}
