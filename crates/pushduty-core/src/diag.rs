//! Problems found in a runbook or config, each pinned to a file, line and column.

use std::fmt;
use std::ops::Range;

/// Where a problem sits: a byte range of a source text, or a `--set` override.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Span(Range<usize>),
    /// An override given on the command line (`--set KEY=VALUE`).
    Override(String),
}

/// The span that marks values injected by `--set`; resolved to [`Origin::Override`] on report.
pub const OVERRIDE_SPAN_START: usize = usize::MAX / 2;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file as the user named it (or `<bundled>/runbooks/amo-push.toml`).
    pub file: String,
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: error: {}", self.file, self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: error: {}",
                self.file, self.line, self.col, self.message
            )
        }
    }
}

/// A source text and its display name, able to turn byte offsets into line and column.
#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    pub text: String,
    line_starts: Vec<usize>,
}

impl Source {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        let text = text.into();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self {
            name: name.into(),
            text,
            line_starts,
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line];
        let col = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line + 1, col + 1)
    }

    pub fn diag(&self, span: &Range<usize>, message: impl Into<String>) -> Diagnostic {
        let message = message.into();
        if span.start >= OVERRIDE_SPAN_START {
            // Values from --set have no place in the file: name the override instead.
            return Diagnostic {
                file: "--set".into(),
                line: 0,
                col: 0,
                message,
            };
        }
        let (line, col) = self.line_col(span.start);
        Diagnostic {
            file: self.name.clone(),
            line,
            col,
            message,
        }
    }

    /// A problem with the file as a whole (no position).
    pub fn whole(&self, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            file: self.name.clone(),
            line: 0,
            col: 0,
            message: message.into(),
        }
    }
}

/// Every problem found in one pass; reported together.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }
    /// Sorted by file and position, so the output reads top to bottom.
    pub fn sorted(mut self) -> Self {
        self.0
            .sort_by(|a, b| (&a.file, a.line, a.col).cmp(&(&b.file, b.line, b.col)));
        self.0.dedup();
        self
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.0 {
            writeln!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// At most this many diagnostics are printed: ten thousand copies of one mistake help no one.
pub const MAX_SHOWN: usize = 50;

impl Diagnostics {
    /// The first [`MAX_SHOWN`] diagnostics, one a line, then how many more there were.
    pub fn shown(&self) -> String {
        let mut out: String = self.0[..self.len().min(MAX_SHOWN)]
            .iter()
            .map(|d| format!("{d}\n"))
            .collect();
        if self.len() > MAX_SHOWN {
            out.push_str(&format!(
                "... and {} more not shown\n",
                self.len() - MAX_SHOWN
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters() {
        let s = Source::new("f.toml", "a = 1\nbé = 2\n");
        assert_eq!(s.line_col(0), (1, 1));
        assert_eq!(s.line_col(6), (2, 1));
        assert_eq!(s.line_col(9), (2, 3), "é is one column");
        assert_eq!(s.diag(&(6..7), "x").to_string(), "f.toml:2:1: error: x");
    }

    #[test]
    fn a_flood_is_cut_short() {
        let s = Source::new("f.toml", "a = 1\n");
        let many = Diagnostics(vec![s.whole("same"); MAX_SHOWN + 7]);
        let text = many.shown();
        assert_eq!(text.lines().count(), MAX_SHOWN + 1);
        assert!(text.ends_with("... and 7 more not shown\n"), "{text}");
    }
}
