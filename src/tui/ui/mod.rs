//! Drawing: pure functions of `App`, one file per widget. No I/O here.

pub mod checklist;
pub mod confirm;
pub mod detail;
pub mod dialog;
pub mod help;
pub mod log;
pub mod markdown;
pub mod outputs;
pub mod overview;
pub mod panes;
pub mod prompt;
pub mod scroll;
pub mod status;
pub mod timing;

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::widgets::Clear;

use super::app::{App, Focus, Modal, Mode};

/// Where each widget goes for a terminal of this size.
pub struct Areas {
    pub banner: Option<Rect>,
    pub status: Rect,
    /// The selected step's section: its title, days and doc.
    pub section: Rect,
    pub checklist: Rect,
    pub detail: Rect,
    pub log: Rect,
    pub panes: Rect,
    pub hints: Rect,
}

pub fn areas(app: &App, area: Rect) -> Areas {
    let banner = u16::from(app.mode == Mode::Learn);
    let tall = area.height >= 32;
    let [banner_a, status, section, main, log, panes, hints] = Layout::vertical([
        Constraint::Length(banner),
        Constraint::Length(1),
        Constraint::Length(if tall { 2 } else { 1 }),
        Constraint::Min(6),
        Constraint::Length(if tall { 7 } else { 4 }),
        Constraint::Length(if tall { 5 } else { 3 }),
        Constraint::Length(1),
    ])
    .areas(area);
    let left = (area.width * 2 / 5).clamp(30.min(area.width), 48);
    let [checklist, detail] =
        Layout::horizontal([Constraint::Length(left), Constraint::Min(20)]).areas(main);
    Areas {
        banner: (banner > 0).then_some(banner_a),
        status,
        section,
        checklist,
        detail,
        log,
        panes,
        hints,
    }
}

/// The log open full-size: over the checklist, the details and its own place.
pub fn log_full_area(a: &Areas) -> Rect {
    a.checklist.union(a.detail).union(a.log)
}

/// Centred popup of at most `w` x `h` cells.
pub fn popup(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width.saturating_sub(2)).max(1);
    let h = h.min(area.height.saturating_sub(2)).max(1);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    let a = areas(app, area);
    let buf = frame.buffer_mut();
    if let Some(b) = a.banner {
        status::banner(app, b, buf);
    }
    status::status_line(app, a.status, buf);
    overview::header(app, a.section, buf);
    checklist::render(app, a.checklist, buf);
    if app.focus == Focus::Panes {
        panes::render_full(app, a.detail, buf);
    } else {
        detail::render(app, a.detail, buf);
    }
    if app.focus == Focus::Log {
        let full = log_full_area(&a);
        clear(full, buf);
        log::render(app, full, buf);
    } else {
        log::render(app, a.log, buf);
    }
    panes::render(app, a.panes, buf);
    status::hints(app, a.hints, buf);
    match &app.modal {
        Modal::None => {}
        Modal::Confirm { .. }
        | Modal::Explain { .. }
        | Modal::QuitRunning
        | Modal::ByHand { .. }
        | Modal::Copied { .. }
        | Modal::Refused { .. }
        | Modal::Briefing { .. } => {
            if let Some(c) = dialog_content(app, area) {
                dialog::render(&app.theme, &c, app.dialog_scroll, area, buf);
            }
        }
        Modal::Help => help::render(app, area, buf),
        Modal::Overview { scroll } => overview::render(app, *scroll, area, buf),
        Modal::Prompt(p) => {
            if let Some(pos) = prompt::render(app, p, area, frame.buffer_mut()) {
                frame.set_cursor_position(pos);
            }
        }
    }
    scrub(frame.buffer_mut());
}

/// The last guard: a control or bidi character that reached a cell unescaped (text drawn
/// from a source no view cleaned) becomes a replacement mark, so the terminal never gets one.
fn scrub(buf: &mut Buffer) {
    for cell in &mut buf.content {
        if cell.symbol().chars().any(crate::sanitize::is_hostile) {
            cell.set_symbol("\u{fffd}");
        }
    }
}

/// The open dialog's content (not the help, which is a page of its own).
pub fn dialog_content(app: &App, area: Rect) -> Option<dialog::Content<'_>> {
    match &app.modal {
        Modal::Confirm { step, read } => confirm::confirm(app, step, read.as_ref()),
        Modal::Explain { step } => confirm::explain(app, step),
        Modal::ByHand { step, shown } => Some(confirm::by_hand(app, step, shown.as_ref())),
        Modal::QuitRunning => Some(confirm::quit(app)),
        Modal::Copied { text } => Some(confirm::copied(app, text)),
        Modal::Refused { step, why } => Some(confirm::refused(app, step, why)),
        Modal::Briefing { lines, .. } => Some(confirm::briefing(app, lines)),
        Modal::Prompt(p) => Some(prompt::content(app, p, area)),
        Modal::None | Modal::Help | Modal::Overview { .. } => None,
    }
}

/// The open dialog's body offset moved by `pages` pages or `rows` rows, from where it is
/// drawn now (within its content, its highlighted item in view).
pub fn dialog_scrolled(app: &App, pages: isize, rows: isize) -> usize {
    dialog_content(app, app.area).map_or(0, |c| {
        let p = dialog::place(&c, app.area);
        let view = usize::from(p.body_area.height);
        let page = isize::try_from(view.saturating_sub(1).max(1)).unwrap_or(1);
        scroll::moved(
            p.offset(app.dialog_scroll),
            pages * page + rows,
            p.rows.len(),
            view,
        )
    })
}

/// Clears a popup's area before drawing into it.
pub fn clear(area: Rect, buf: &mut ratatui::buffer::Buffer) {
    use ratatui::widgets::Widget;
    Clear.render(area, buf);
}
