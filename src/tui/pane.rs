//! A live source's pane: its latest snapshot and its state, drawn in the pane's title so a
//! failing source never takes the screen. Sources (later issues) send `SourceUpdate`s.

/// Where a source stands.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceState {
    NotConfigured,
    Loading,
    /// Fresh as of this (display) time.
    Ready {
        at: String,
    },
    /// The last poll failed; the previous snapshot, if any, is still shown.
    Error(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Pane {
    pub name: &'static str,
    pub state: SourceState,
    /// The latest snapshot, already as lines of text.
    pub lines: Vec<String>,
}

/// A source's news for its pane.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceUpdate {
    pub pane: &'static str,
    pub result: Result<(String, Vec<String>), String>,
}

impl Pane {
    pub fn not_configured(name: &'static str) -> Self {
        Pane {
            name,
            state: SourceState::NotConfigured,
            lines: Vec::new(),
        }
    }

    pub fn title(&self) -> String {
        self.title_in(usize::MAX)
    }

    /// The title, in a shorter form when the full one does not fit in `width` cells.
    pub fn title_in(&self, width: usize) -> String {
        let full = self.full_title();
        if full.chars().count() <= width {
            return full;
        }
        match &self.state {
            SourceState::NotConfigured => format!("{} (not set)", self.name),
            SourceState::Ready { .. } => self.name.to_string(),
            _ => full,
        }
    }

    fn full_title(&self) -> String {
        match &self.state {
            SourceState::NotConfigured => format!("{} (not configured)", self.name),
            SourceState::Loading => format!("{} (loading)", self.name),
            SourceState::Ready { at } => format!("{} ({at})", self.name),
            SourceState::Error(_) => format!("{} (error)", self.name),
        }
    }

    pub fn apply(&mut self, u: SourceUpdate) {
        match u.result {
            Ok((at, lines)) => {
                self.state = SourceState::Ready { at };
                self.lines = lines;
            }
            Err(e) => self.state = SourceState::Error(e),
        }
    }

    /// The placeholder panes until the sources land.
    pub fn defaults() -> Vec<Pane> {
        ["git", "jenkins", "sentry", "metrics"]
            .into_iter()
            .map(Pane::not_configured)
            .collect()
    }
}
