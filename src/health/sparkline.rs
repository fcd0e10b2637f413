//! Sparklines as text, so a pane, `status` and a snapshot test all show the same thing: a
//! series resampled into columns, gaps left blank (never drawn as zero), and the production
//! push marked as a column of its own.

use crate::services::metrics::Point;

const LEVELS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
/// The column that marks the production push.
pub const PUSH_MARK: char = '│';

/// A time span drawn in `width` columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub from: i64,
    pub until: i64,
    pub width: usize,
}

impl Span {
    fn column(&self, t: i64) -> Option<usize> {
        if t < self.from || t >= self.until || self.width == 0 {
            return None;
        }
        let len = i128::from(self.until - self.from);
        let col = i128::from(t - self.from) * self.width as i128 / len;
        usize::try_from(col).ok()
    }
}

/// The mean of each column's values; a column with none is a gap.
pub fn resample(points: &[Point], span: Span) -> Vec<Option<f64>> {
    let mut sum = vec![0.0; span.width];
    let mut n = vec![0u32; span.width];
    for (t, v) in points {
        if let (Some(c), Some(v)) = (span.column(*t), v)
            && v.is_finite()
        {
            sum[c] += v;
            n[c] += 1;
        }
    }
    sum.iter()
        .zip(&n)
        .map(|(s, &k)| (k > 0).then(|| s / f64::from(k)))
        .collect()
}

/// The sparkline of `points` over `span`, with the push (when it falls inside) as a mark
/// before its column.
pub fn line(points: &[Point], span: Span, push: Option<i64>) -> String {
    let cols = resample(points, span);
    let (lo, hi) = cols
        .iter()
        .flatten()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(*v), hi.max(*v))
        });
    let mark = push.and_then(|p| span.column(p));
    let mut out = String::new();
    for (i, c) in cols.iter().enumerate() {
        if Some(i) == mark {
            out.push(PUSH_MARK);
        }
        out.push(match c {
            None => ' ',
            Some(_) if hi <= lo => LEVELS[0],
            Some(v) => {
                let k = ((v - lo) / (hi - lo) * 7.0).round();
                LEVELS[(k as usize).min(7)]
            }
        });
    }
    out
}

/// The time axis under sparklines of `span`: start, push and end times (`fmt` turns unix
/// seconds into a label), aligned with [`line`]'s columns.
pub fn axis(span: Span, push: Option<i64>, fmt: impl Fn(i64) -> String) -> String {
    let start = fmt(span.from);
    let end = fmt(span.until);
    let mark = push.and_then(|p| span.column(p));
    let width = span.width + usize::from(mark.is_some());
    let mut cells: Vec<char> = vec![' '; width];
    fn put(cells: &mut [char], at: usize, text: &str) {
        for (i, ch) in text.chars().enumerate() {
            if let Some(c) = cells.get_mut(at + i) {
                *c = ch;
            }
        }
    }
    put(&mut cells, 0, &start);
    if let Some(m) = mark {
        let label = format!("↑push {}", fmt(push.unwrap_or_default()));
        // Keep the start label readable: the push label moves right when they would meet.
        let at = m.max(start.chars().count() + 1);
        put(&mut cells, at, &label);
    }
    let end_at = width.saturating_sub(end.chars().count());
    let taken = cells.iter().rposition(|c| *c != ' ').map_or(0, |p| p + 2);
    if end_at >= taken {
        put(&mut cells, end_at, &end);
    }
    cells.into_iter().collect::<String>().trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(width: usize) -> Span {
        Span {
            from: 0,
            until: 600,
            width,
        }
    }

    #[test]
    fn gaps_are_blank_not_zero() {
        let pts: Vec<Point> = (0..10)
            .map(|i| (i * 60, if i == 4 { None } else { Some(i as f64) }))
            .collect();
        let s = line(&pts, span(10), None);
        assert_eq!(s.chars().nth(4), Some(' '));
        assert_eq!(s.chars().next(), Some('▁'));
        assert_eq!(s.chars().last(), Some('█'));
    }

    #[test]
    fn the_push_gets_a_column_of_its_own() {
        let pts: Vec<Point> = (0..10).map(|i| (i * 60, Some(1.0))).collect();
        let s = line(&pts, span(10), Some(300));
        assert_eq!(s, "▁▁▁▁▁│▁▁▁▁▁");
        assert_eq!(line(&pts, span(10), Some(9999)).chars().count(), 10);
    }

    #[test]
    fn columns_average_their_points() {
        let pts: Vec<Point> = vec![(0, Some(2.0)), (60, Some(4.0)), (120, None)];
        let cols = resample(&pts, span(5));
        assert_eq!(cols[0], Some(3.0));
        assert_eq!(cols[1], None);
    }

    #[test]
    fn axis_labels_line_up_with_the_mark() {
        let a = axis(span(30), Some(300), |t| format!("{}m", t / 60));
        assert_eq!(a, "0m             ↑push 5m     10m");
        let plain = axis(span(30), None, |t| format!("{}m", t / 60));
        assert_eq!(plain, format!("0m{}10m", " ".repeat(25)));
    }
}
