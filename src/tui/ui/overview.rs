//! The procedure as a story: the section header above the checklist (the selected step's
//! section, its days and its doc cut to fit) and the overview (`i`): the runbook's summary
//! and every section with its doc and days, in full.

use chrono::NaiveDate;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget, Wrap};

use super::checklist::truncate;
use super::{clear, markdown, popup};
use crate::runbook::schedule::with_weekday;
use crate::sanitize::clean_line;
use crate::tui::app::App;

/// The first and last day the section's steps are planned for, when any says.
pub fn section_days(app: &App, section: &str) -> Option<(NaiveDate, NaiveDate)> {
    let dates: Vec<NaiveDate> = app
        .engine
        .loaded
        .runbook
        .steps
        .iter()
        .filter(|s| s.section == section)
        .filter_map(|s| app.engine.planned_date(&s.id))
        .collect();
    Some((*dates.iter().min()?, *dates.iter().max()?))
}

/// "Tue 2015-09-08", or "Tue 2015-09-08 – Wed 2015-09-09" for a section over two days.
pub fn days_label((first, last): (NaiveDate, NaiveDate)) -> String {
    if first == last {
        with_weekday(first)
    } else {
        format!("{} – {}", with_weekday(first), with_weekday(last))
    }
}

/// The short form the checklist's section rows use: "Tue", "Tue–Wed".
pub fn days_short((first, last): (NaiveDate, NaiveDate)) -> String {
    if first == last {
        first.format("%a").to_string()
    } else {
        format!("{}–{}", first.format("%a"), last.format("%a"))
    }
}

/// A doc as one plain line: the header has no room for paragraphs or Markdown marks.
fn one_line(doc: &str) -> String {
    doc.replace("**", "")
        .replace('`', "")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The selected step's section: title and days on the first line, its doc after it (on the
/// next line when there is one), cut to fit; `i` shows it whole.
pub fn header(app: &App, area: Rect, buf: &mut Buffer) {
    if area.height == 0 {
        return;
    }
    let t = &app.theme;
    let rb = &app.engine.loaded.runbook;
    let Some(step) = app.selected_id().and_then(|id| rb.step(&id)) else {
        return;
    };
    let index = rb.sections.iter().position(|s| s.id == step.section);
    let title = clean_line(rb.section_title(&step.section));
    let doc = index
        .and_then(|i| app.procedure.section_docs.get(i))
        .map(|d| one_line(d))
        .unwrap_or_default();
    let days = section_days(app, &step.section)
        .map(|d| format!(" · {}", days_label(d)))
        .unwrap_or_default();
    let width = usize::from(area.width);
    let more = " i: the whole procedure ";
    let head = format!(" {title}{days}");
    let mut lines = Vec::new();
    if area.height >= 2 {
        let pad = width.saturating_sub(head.chars().count() + more.chars().count());
        let mut first = vec![Span::styled(truncate(&head, width), t.heading)];
        if pad > 0 {
            first.push(Span::raw(" ".repeat(pad)));
            first.push(Span::styled(more, t.dim));
        }
        lines.push(Line::from(first));
        lines.push(Line::styled(truncate(&format!(" {doc}"), width), t.text));
    } else {
        let head = truncate(&head, width);
        let room = width.saturating_sub(head.chars().count() + 3);
        let mut spans = vec![Span::styled(head, t.heading)];
        if room > 1 && !doc.is_empty() {
            spans.push(Span::styled(" · ", t.dim));
            spans.push(Span::styled(truncate(&doc, room), t.text));
        }
        lines.push(Line::from(spans));
    }
    Paragraph::new(lines).render(area, buf);
}

/// The whole procedure in a popup, scrolled by `scroll` lines.
pub fn render(app: &App, scroll: u16, area: Rect, buf: &mut Buffer) {
    let t = &app.theme;
    let rb = &app.engine.loaded.runbook;
    let v = &app.engine.vars;
    let current = app
        .selected_id()
        .and_then(|id| rb.step(&id))
        .map(|s| s.section.clone());
    let mut lines: Vec<Line> = Vec::new();
    let dates = [
        ("push", &v.push_date),
        ("tag", &v.tag_date),
        ("today", &v.today),
    ]
    .iter()
    .map(|(what, d)| format!("{what} {}", crate::runbook::schedule::text_with_weekday(d)))
    .collect::<Vec<_>>()
    .join(" · ");
    lines.push(Line::styled(dates, t.dim));
    if !app.procedure.summary.trim().is_empty() {
        lines.push(Line::default());
        lines.extend(markdown::render(&app.procedure.summary, t));
    }
    for (i, section) in rb.sections.iter().enumerate() {
        let steps: Vec<&str> = rb
            .steps
            .iter()
            .filter(|s| s.section == section.id)
            .map(|s| s.id.as_str())
            .collect();
        if steps.is_empty() {
            continue;
        }
        let done = steps
            .iter()
            .filter(|id| app.engine.status(id).is_finished())
            .count();
        let here = current.as_deref() == Some(section.id.as_str());
        let days = section_days(app, &section.id)
            .map(|d| format!(" · {}", days_label(d)))
            .unwrap_or_default();
        lines.push(Line::default());
        lines.push(Line::from(vec![
            Span::styled(if here { "▶ " } else { "  " }, t.key),
            Span::styled(format!("{}{days}", clean_line(&section.title)), t.heading),
            Span::styled(format!("  {done}/{} done", steps.len()), t.dim),
        ]));
        if let Some(doc) = app.procedure.section_docs.get(i)
            && !doc.trim().is_empty()
        {
            // Indented under its title, so the sections stand out.
            lines.extend(markdown::render(doc, t).into_iter().map(|mut l| {
                l.spans.insert(0, Span::raw("  "));
                l
            }));
        }
    }
    // As tall as its text (lines counted as wrapped by width; word wrapping may add a few,
    // hence the spare line), and scrolled no further than the last screenful.
    let width = 96.min(area.width.saturating_sub(2));
    let inner = usize::from(width.saturating_sub(2)).max(1);
    let wrapped: usize = lines.iter().map(|l| l.width().div_ceil(inner).max(1)).sum();
    let tall = u16::try_from(wrapped + 3).unwrap_or(u16::MAX);
    let r = popup(area, width, tall.min(area.height.saturating_sub(2)));
    let shown = usize::from(r.height.saturating_sub(2));
    let last = u16::try_from(wrapped.saturating_sub(shown)).unwrap_or(u16::MAX);
    let scroll = scroll.min(last.saturating_add(1));
    clear(r, buf);
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .scroll((scroll, 0))
        .block(
            Block::new()
                .borders(Borders::ALL)
                .border_style(t.border_focus)
                .title(Span::styled(
                    format!(" {} ", clean_line(&rb.name)),
                    t.heading,
                ))
                .title_bottom(Span::styled(" j/k PgDn/PgUp scroll · Esc closes ", t.dim)),
        )
        .render(r, buf);
}
