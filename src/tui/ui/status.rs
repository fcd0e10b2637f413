//! The status line (runbook, push date, tag, hero, elapsed, mode), the learn-mode banner and
//! the key hints.

use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use crate::runbook::schedule::{text_with_weekday, with_weekday};
use crate::tui::action::Action;
use crate::tui::app::{App, Mode};
use crate::tui::keys::{self, MAIN};

const SPINNER: &[&str] = &["|", "/", "-", "\\"];

pub fn banner(app: &App, area: Rect, buf: &mut Buffer) {
    let text = match (app.seat_line(), &app.replay) {
        (Some(seat), _) => {
            let how = match &app.following {
                Some(f) if f.taken_over => "",
                _ => "following the team's push log · ",
            };
            format!(" READ-ONLY · {how}{seat} ")
        }
        (None, Some(r)) => format!(
            " READ-ONLY · replay of the push of {}: what was done, nothing is executed ",
            r.push_date
        ),
        (None, None) => {
            " READ-ONLY · learn mode: nothing is executed, nothing is written ".to_string()
        }
    };
    Paragraph::new(text)
        .style(app.theme.read_only)
        .alignment(Alignment::Center)
        .render(area, buf);
}

pub fn status_line(app: &App, area: Rect, buf: &mut Buffer) {
    let t = &app.theme;
    let v = &app.engine.vars;
    let clock = app.clock();
    let running: Vec<&String> = app.engine.running().collect();
    let hero = v.hero.as_deref().unwrap_or("?");
    let spin = running
        .first()
        .map(|r| {
            format!(
                " │ {} {r}{}",
                SPINNER[app.spinner % SPINNER.len()],
                super::timing::status_tag(app, r)
            )
        })
        .unwrap_or_default();
    let (mode, mode_style) = match app.mode {
        Mode::Run => (" RUN ", t.status_bar.patch(t.key)),
        Mode::Learn => match &app.following {
            Some(f) if f.taken_over => (" TAKEN OVER · READ-ONLY ", t.read_only),
            Some(_) => (" FOLLOW · READ-ONLY ", t.read_only),
            None => (" LEARN · READ-ONLY ", t.read_only),
        },
    };
    let room = (area.width as usize).saturating_sub(mode.chars().count());
    let push = text_with_weekday(&v.push_date);
    let next = next_label(app);
    // An on-demand release has no rotation (no hero) and is that day's release, not a push.
    let (day, hero_full, hero_bare) = if v.people.is_empty() {
        ("release", String::new(), String::new())
    } else {
        ("push", format!(" │ hero {hero}"), format!(" │ {hero}"))
    };
    // The labelled form when it fits, else the bare values, else without the runbook's
    // name (the overview has it), then without the clock, else cut.
    let forms = [
        format!(
            " {} │ {day} {push} │ tag {}{hero_full} │ now {clock}{spin} │ {next}",
            v.runbook, v.tag
        ),
        format!(
            " {} │ {push} │ {}{hero_bare} │ {clock}{spin} │ {next}",
            v.runbook, v.tag
        ),
        format!(" {push} │ {}{hero_bare} │ {clock}{spin} │ {next}", v.tag),
        format!(" {push} │ {}{hero_bare}{spin} │ {next}", v.tag),
    ];
    let left = forms
        .iter()
        .find(|f| f.chars().count() <= room)
        .cloned()
        .unwrap_or_else(|| super::checklist::truncate(&forms[3], room));
    let pad = room.saturating_sub(left.chars().count());
    let line = Line::from(vec![
        Span::styled(left, t.status_bar),
        Span::styled(" ".repeat(pad), t.status_bar),
        Span::styled(mode, mode_style),
    ]);
    Paragraph::new(line).style(t.status_bar).render(area, buf);
}

/// What is next and when: "next: deploy-stage (Tue)", "next on Thu 2015-09-10: qa-approval",
/// or "all done". A blocker's fix waiting to be picked comes first: "next: reopen strategy
/// (O), choose cherry_pick: the blockers' fixes abc1234".
pub fn next_label(app: &App) -> String {
    if let Some(f) = app.engine.blocker_follow_up() {
        return format!("next: {}", f.label());
    }
    let Some(id) = app.engine.next_actionable() else {
        return if app.engine.is_running() {
            "nothing else to start".into()
        } else {
            "all done".into()
        };
    };
    match app.engine.planned_date(&id) {
        Some(d) if app.engine.too_early(&id).is_some() => {
            format!("next on {}: {id}", with_weekday(d))
        }
        Some(d) => format!("next: {id} ({})", d.format("%a")),
        None => format!("next: {id}"),
    }
}

pub fn hints(app: &App, area: Rect, buf: &mut Buffer) {
    let t = &app.theme;
    // Learn mode offers only what it can do: nothing there runs, skips or retries.
    let items: &[(Action, &str)] = match app.mode {
        Mode::Run => &[
            (Action::Open, "run"),
            (Action::Skip, "skip"),
            (Action::Retry, "retry"),
            (Action::FocusNext, "panes"),
            (Action::Overview, "procedure"),
            (Action::Help, "help"),
            (Action::Quit, "quit"),
        ],
        // `follow`: the log can be read now.
        Mode::Learn if app.following.as_ref().is_some_and(|f| !f.taken_over) => &[
            (Action::Next, "move"),
            (Action::Open, "explain"),
            (Action::Retry, "read the log now"),
            (Action::FocusNext, "panes"),
            (Action::Overview, "procedure"),
            (Action::Help, "help"),
            (Action::Quit, "quit"),
        ],
        Mode::Learn => &[
            (Action::Next, "move"),
            (Action::Open, "explain"),
            (Action::FocusNext, "panes"),
            (Action::Overview, "procedure"),
            (Action::Help, "help"),
            (Action::Quit, "quit"),
        ],
    };
    let mut spans = Vec::new();
    for (a, what) in items {
        spans.push(Span::styled(format!(" {}", keys::label(MAIN, *a)), t.key));
        spans.push(Span::styled(format!(" {what} "), t.text));
    }
    Paragraph::new(Line::from(spans)).render(area, buf);
}
