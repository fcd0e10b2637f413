//! Wrapping and scrolling for dialogs and the log: lines are wrapped here (not by the
//! paragraph) so the number of rows is known exactly, which is what keeps a dialog's key
//! hints on screen and lets the scroll offset stop at the end.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

/// The display width of one char (0 for controls, 2 for wide ones).
fn char_width(c: char) -> usize {
    let mut b = [0u8; 4];
    Span::raw(&*c.encode_utf8(&mut b)).width()
}

/// `lines` word-wrapped to `width` cells, styles kept: a word longer than a row is cut
/// where the row ends. An empty line stays one empty row. The rows a line wraps onto hang
/// under its text, past its indent and list marker (`- `, `1. `, `[x] `, the cursor's `› `),
/// so an item that wraps still reads as one item.
pub fn wrap<'a>(lines: &[Line<'a>], width: usize) -> Vec<Line<'a>> {
    let width = width.max(1);
    let mut out = Vec::new();
    for line in lines {
        if line.width() <= width {
            out.push(line.clone());
            continue;
        }
        let chars: Vec<(char, Style)> = line
            .spans
            .iter()
            .flat_map(|s| s.content.chars().map(move |c| (c, s.style)))
            .collect();
        let hang = hang(&chars).filter(|h| h * 2 <= width).unwrap_or(0);
        let mut start = 0;
        while start < chars.len() {
            let (indent, room) = if start == 0 {
                (0, width)
            } else {
                (hang, width - hang)
            };
            let (end, next) = row_end(&chars[start..], room);
            let mut parts = spans(&chars[start..start + end]);
            if indent > 0 {
                parts.insert(0, Span::raw(" ".repeat(indent)));
            }
            let mut row = Line::from(parts);
            row.style = line.style;
            out.push(row);
            start += next;
        }
    }
    out
}

/// How far a line's text starts in: its leading spaces, the cursor's `› `, and a list
/// marker (`- `, `• `, `12. `, a checkbox `[x] ` or `[ ] `, a check's `✓ ` or `✗ `). `None`
/// when it has none.
fn hang(chars: &[(char, Style)]) -> Option<usize> {
    let text: String = chars.iter().take(16).map(|(c, _)| *c).collect();
    let mut rest = text.trim_start_matches(' ');
    rest = rest.strip_prefix("› ").unwrap_or(rest);
    rest = rest.trim_start_matches(' ');
    let marker = if ["- ", "• ", "✓ ", "✗ "].iter().any(|m| rest.starts_with(m)) {
        2
    } else if rest.starts_with("[x] ") || rest.starts_with("[ ] ") {
        4
    } else {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && rest[digits..].starts_with(". ") {
            digits + 2
        } else {
            0
        }
    };
    let before = text.chars().count() - rest.chars().count();
    let hang: usize = text.chars().take(before).map(char_width).sum::<usize>() + marker;
    (hang > 0).then_some(hang)
}

/// Where the row starting at `chars[0]` ends (exclusive) and where the next one starts:
/// after the last space that fits, else where the width runs out.
fn row_end(chars: &[(char, Style)], width: usize) -> (usize, usize) {
    let mut used = 0;
    let mut last_space = None;
    for (i, (c, _)) in chars.iter().enumerate() {
        let w = char_width(*c);
        if used + w > width {
            // A space that does not fit ends the row: the words before it all fit.
            if *c == ' ' {
                return (i, i + 1);
            }
            return match last_space {
                // The space itself is dropped at the break.
                Some(s) if s > 0 => (s, s + 1),
                _ => (i.max(1), i.max(1)),
            };
        }
        // A space in the row's leading indent is no place to break: the row would be blank.
        if *c == ' ' && chars[..i].iter().any(|(c, _)| *c != ' ') {
            last_space = Some(i);
        }
        used += w;
    }
    (chars.len(), chars.len())
}

/// Runs of chars as spans, one per style.
fn spans<'a>(chars: &[(char, Style)]) -> Vec<Span<'a>> {
    let mut out: Vec<Span> = Vec::new();
    for (c, style) in chars {
        match out.last_mut() {
            Some(last) if last.style == *style => last.content.to_mut().push(*c),
            _ => out.push(Span::styled(c.to_string(), *style)),
        }
    }
    out
}

/// The furthest a view of `view` rows can scroll into `rows` rows.
pub fn max_offset(rows: usize, view: usize) -> usize {
    rows.saturating_sub(view)
}

/// `offset` moved by `delta` rows, kept between the top and the last full view.
pub fn moved(offset: usize, delta: isize, rows: usize, view: usize) -> usize {
    offset
        .saturating_add_signed(delta)
        .min(max_offset(rows, view))
}

/// The smallest change to `offset` that shows rows `first..=last` (a selected item).
pub fn follow(offset: usize, first: usize, last: usize, view: usize) -> usize {
    let view = view.max(1);
    if first < offset {
        first
    } else if last >= offset + view {
        (last + 1).saturating_sub(view).min(first)
    } else {
        offset
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(lines: &[Line]) -> Vec<String> {
        lines.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn wraps_at_spaces_and_cuts_long_words() {
        let l = [Line::raw("tag main of olympia as 2015.09.10")];
        assert_eq!(
            texts(&wrap(&l, 12)),
            ["tag main of", "olympia as", "2015.09.10"]
        );
        let l = [Line::raw("abcdefghij")];
        assert_eq!(texts(&wrap(&l, 4)), ["abcd", "efgh", "ij"]);
        assert_eq!(texts(&wrap(&[Line::default()], 4)), [""]);
        let l = [Line::raw("a row that fits exactly then more")];
        assert_eq!(
            texts(&wrap(&l, 23)),
            ["a row that fits exactly", "then more"]
        );
    }

    #[test]
    fn a_wrapped_item_hangs_under_its_text() {
        let l = [
            Line::raw("› [x] abc1234 Fix the add-on search — Ana"),
            Line::raw("  2. master: tag master as it is"),
            Line::raw("- one two three four"),
            Line::raw("plain text that wraps here"),
        ];
        assert_eq!(
            texts(&wrap(&l, 20)),
            [
                "› [x] abc1234 Fix",
                "      the add-on",
                "      search — Ana",
                "  2. master: tag",
                "     master as it is",
                "- one two three four",
                "plain text that",
                "wraps here",
            ]
        );
        // An indented word too long for the row is cut, not moved to a row of its own.
        let l = [Line::raw("  https://example.com/a/long/path")];
        assert_eq!(
            texts(&wrap(&l, 20)),
            ["  https://example.co", "  m/a/long/path"]
        );
        // A marker wider than half the row does not hang.
        let l = [Line::raw("        - a b c d e f")];
        assert_eq!(texts(&wrap(&l, 12)), ["        - a", "b c d e f"]);
    }

    #[test]
    fn wrapping_keeps_each_spans_style() {
        let bold = Style::new().bold();
        let l = [Line::from(vec![
            Span::styled("[y]", bold),
            Span::raw(" yes run it"),
        ])];
        let rows = wrap(&l, 8);
        assert_eq!(texts(&rows), ["[y] yes", "run it"]);
        assert_eq!(rows[0].spans[0].style, bold);
        assert_eq!(rows[1].spans[0].style, Style::new());
    }

    #[test]
    fn offsets_stay_inside_the_content() {
        assert_eq!(moved(0, -5, 30, 10), 0);
        assert_eq!(moved(0, 5, 30, 10), 5);
        assert_eq!(moved(18, 5, 30, 10), 20);
        assert_eq!(moved(3, 5, 8, 10), 0, "content that fits never scrolls");
    }

    #[test]
    fn follow_scrolls_just_enough_to_show_the_selection() {
        assert_eq!(follow(0, 3, 3, 5), 0);
        assert_eq!(follow(0, 7, 7, 5), 3);
        assert_eq!(follow(6, 2, 2, 5), 2);
        assert_eq!(
            follow(0, 4, 6, 5),
            2,
            "an item of several rows is shown whole"
        );
    }
}
