//! The log's scrollback and search: where the view is (the end, or a line scrolled back
//! to) and what is searched for. Pure state; the log pane draws it.

/// Lines kept; older ones are dropped in chunks (the view follows what it showed).
pub const KEEP: usize = 5000;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogView {
    /// The first line shown when scrolled back; `None` follows the newest lines.
    pub top: Option<usize>,
    pub search: Option<Search>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Search {
    pub query: String,
    /// The query is being typed (Enter ends it).
    pub typing: bool,
    /// The line of the match n/N moved to.
    pub current: Option<usize>,
}

/// Lines containing `query`, ignoring case.
pub fn matches<'a>(lines: impl Iterator<Item = &'a str>, query: &str) -> Vec<usize> {
    if query.is_empty() {
        return Vec::new();
    }
    let q = query.to_ascii_lowercase();
    lines
        .enumerate()
        .filter(|(_, l)| l.to_ascii_lowercase().contains(&q))
        .map(|(i, _)| i)
        .collect()
}

/// Byte ranges of `query` in `line`, ignoring case (ASCII case only for offsets to stay
/// exact; other letters match as typed).
pub fn spans_of(line: &str, query: &str) -> Vec<(usize, usize)> {
    if query.is_empty() {
        return Vec::new();
    }
    let hay = line.to_ascii_lowercase();
    let q = query.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = hay[from..].find(&q) {
        out.push((from + i, from + i + q.len()));
        from += i + q.len();
    }
    out
}

/// The match after (`forward`) or before `from`, wrapping around; the newest one when there
/// is no `from`.
pub fn next_match(found: &[usize], from: Option<usize>, forward: bool) -> Option<usize> {
    let (first, last) = (found.first()?, found.last()?);
    let Some(from) = from else {
        return Some(*last);
    };
    Some(if forward {
        *found.iter().find(|i| **i > from).unwrap_or(first)
    } else {
        *found.iter().rev().find(|i| **i < from).unwrap_or(last)
    })
}

impl LogView {
    /// The first line shown of `total` in a view of `height` rows.
    pub fn first(&self, total: usize, height: usize) -> usize {
        let bottom = total.saturating_sub(height);
        self.top.map_or(bottom, |t| t.min(bottom))
    }

    /// Scrolls by `delta` lines; reaching the end follows new lines again.
    pub fn scroll(&mut self, delta: isize, total: usize, height: usize) {
        let bottom = total.saturating_sub(height);
        let to = self.first(total, height).saturating_add_signed(delta);
        self.top = (to < bottom).then_some(to);
    }

    pub fn home(&mut self) {
        self.top = Some(0);
    }

    pub fn end(&mut self) {
        self.top = None;
    }

    /// Shows `line` (a match), moving as little as needed.
    pub fn show(&mut self, line: usize, total: usize, height: usize) {
        let first = self.first(total, height);
        let to = crate::tui::ui::scroll::follow(first, line, line, height);
        self.top = (to < total.saturating_sub(height)).then_some(to);
    }

    /// `n` lines were dropped from the front: what is shown stays shown.
    pub fn dropped(&mut self, n: usize) {
        self.top = self.top.map(|t| t.saturating_sub(n));
        if let Some(s) = &mut self.search {
            s.current = s.current.and_then(|c| c.checked_sub(n));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrolling_back_holds_the_view_and_the_end_follows_again() {
        let mut v = LogView::default();
        assert_eq!(v.first(100, 10), 90, "follows the newest lines");
        v.scroll(-15, 100, 10);
        assert_eq!(v.first(100, 10), 75);
        assert_eq!(
            v.first(120, 10),
            75,
            "new lines do not move a view scrolled back"
        );
        v.scroll(100, 120, 10);
        assert_eq!(v.top, None, "scrolling to the end follows again");
        v.home();
        assert_eq!(v.first(120, 10), 0);
        v.dropped(30);
        assert_eq!(v.first(90, 10), 0);
        v.end();
        assert_eq!(v.first(5, 10), 0, "a short log starts at the top");
    }

    #[test]
    fn search_finds_lines_ignoring_case_and_n_wraps() {
        let lines = [
            "running fetch",
            "fetch: 3 new tags",
            "done: fetch",
            "running tag",
        ];
        let found = matches(lines.iter().copied(), "FETCH");
        assert_eq!(found, [0, 1, 2]);
        assert_eq!(next_match(&found, None, true), Some(2), "the newest first");
        assert_eq!(
            next_match(&found, Some(2), true),
            Some(0),
            "wraps to the oldest"
        );
        assert_eq!(next_match(&found, Some(0), false), Some(2));
        assert_eq!(next_match(&found, Some(1), false), Some(0));
        assert_eq!(next_match(&[], None, true), None);
        assert_eq!(spans_of("Fetch: fetch", "fetch"), [(0, 5), (7, 12)]);
    }

    #[test]
    fn showing_a_match_scrolls_just_enough() {
        let mut v = LogView::default();
        v.show(3, 100, 10);
        assert_eq!(v.first(100, 10), 3);
        v.show(95, 100, 10);
        assert_eq!(v.first(100, 10), 86, "the match on the last row");
        let mut v = LogView::default();
        v.show(95, 100, 10);
        assert_eq!(
            v.top, None,
            "a match on the page shown keeps following the end"
        );
    }
}
