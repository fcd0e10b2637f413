//! The status line (runbook, push date, tag, hero, elapsed, mode), the learn-mode banner and
//! the key hints.

use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use crate::tui::action::Action;
use crate::tui::app::{App, Mode};
use crate::tui::keys::{self, MAIN};

const SPINNER: &[&str] = &["|", "/", "-", "\\"];

pub fn banner(app: &App, area: Rect, buf: &mut Buffer) {
    Paragraph::new(" READ-ONLY · learn mode: nothing is executed, nothing is written ")
        .style(app.theme.read_only)
        .alignment(Alignment::Center)
        .render(area, buf);
}

pub fn status_line(app: &App, area: Rect, buf: &mut Buffer) {
    let t = &app.theme;
    let v = &app.engine.vars;
    let secs = app.elapsed().as_secs();
    let elapsed = format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
    let running: Vec<&String> = app.engine.running().collect();
    let hero = v.hero.as_deref().unwrap_or("?");
    let spin = running
        .first()
        .map(|r| format!(" │ {} {r}", SPINNER[app.spinner % SPINNER.len()]))
        .unwrap_or_default();
    let (mode, mode_style) = match app.mode {
        Mode::Run => (" RUN ", t.status_bar.patch(t.key)),
        Mode::Learn => (" LEARN · READ-ONLY ", t.read_only),
    };
    let room = (area.width as usize).saturating_sub(mode.chars().count());
    // The labelled form when it fits, else the bare values, else cut.
    // An on-demand release has no rotation (no hero) and is that day's release, not a push.
    let (day, hero_full, hero_bare) = if v.people.is_empty() {
        ("release", String::new(), String::new())
    } else {
        ("push", format!(" │ hero {hero}"), format!(" │ {hero}"))
    };
    let full = format!(
        " {} │ {day} {} │ tag {}{hero_full} │ {elapsed}{spin}",
        v.runbook, v.push_date, v.tag
    );
    let bare = format!(
        " {} │ {} │ {}{hero_bare} │ {elapsed}{spin}",
        v.runbook, v.push_date, v.tag
    );
    let left = if full.chars().count() <= room {
        full
    } else if bare.chars().count() <= room {
        bare
    } else {
        super::checklist::truncate(&bare, room)
    };
    let pad = room.saturating_sub(left.chars().count());
    let line = Line::from(vec![
        Span::styled(left, t.status_bar),
        Span::styled(" ".repeat(pad), t.status_bar),
        Span::styled(mode, mode_style),
    ]);
    Paragraph::new(line).style(t.status_bar).render(area, buf);
}

pub fn hints(app: &App, area: Rect, buf: &mut Buffer) {
    let t = &app.theme;
    let learn = app.mode == Mode::Learn;
    let items: &[(Action, &str)] = &[
        (Action::Open, if learn { "explain" } else { "run" }),
        (Action::Skip, "skip"),
        (Action::Retry, "retry"),
        (Action::FocusNext, "panes"),
        (Action::Help, "help"),
        (Action::Quit, "quit"),
    ];
    let mut spans = Vec::new();
    for (a, what) in items {
        // In learn mode the actions that would change the session are greyed out.
        let off = learn && matches!(a, Action::Skip | Action::Retry);
        spans.push(Span::styled(
            format!(" {}", keys::label(MAIN, *a)),
            if off { t.dim } else { t.key },
        ));
        spans.push(Span::styled(
            format!(" {what} "),
            if off { t.dim } else { t.text },
        ));
    }
    Paragraph::new(Line::from(spans)).render(area, buf);
}
