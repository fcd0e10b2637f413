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
    /// How to configure it, shown while it is not.
    pub hint: String,
    /// The latest snapshot, already as lines of text.
    pub lines: Vec<String>,
    /// Lines starting with this are items the title counts (`#` for the blockers pane).
    pub counts: Option<&'static str>,
}

/// A source's news for its pane.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceUpdate {
    pub pane: &'static str,
    pub result: Result<(String, Vec<String>), String>,
}

impl Pane {
    pub fn not_configured(name: &'static str, hint: impl Into<String>) -> Self {
        Pane {
            name,
            state: SourceState::NotConfigured,
            hint: hint.into(),
            lines: Vec::new(),
            counts: None,
        }
    }

    /// How many counted items the latest snapshot holds, as the title says it.
    fn tally(&self) -> Option<String> {
        let prefix = self.counts?;
        if matches!(
            self.state,
            SourceState::NotConfigured | SourceState::Loading
        ) {
            return None;
        }
        let n = self.lines.iter().filter(|l| l.starts_with(prefix)).count();
        Some(format!("{n} open"))
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
        let short = match &self.state {
            SourceState::NotConfigured => format!("{} (not set)", self.name),
            SourceState::Ready { .. } => match self.tally() {
                Some(t) => format!("{}: {t}", self.name),
                None => self.name.to_string(),
            },
            _ => full,
        };
        // Narrower still, the name alone: the title's colour still tells the state.
        if short.chars().count() <= width {
            short
        } else {
            self.name.to_string()
        }
    }

    fn full_title(&self) -> String {
        let name = match self.tally() {
            Some(t) => format!("{}: {t}", self.name),
            None => self.name.to_string(),
        };
        match &self.state {
            SourceState::NotConfigured => format!("{name} (not configured)"),
            SourceState::Loading => format!("{name} (loading)"),
            SourceState::Ready { at } => format!("{name} ({at})"),
            SourceState::Error(_) => format!("{name} (error)"),
        }
    }

    /// Takes a source's report; whether what the pane says changed (beyond the time of the
    /// read), so that the screen's other work follows only real changes.
    pub fn apply(&mut self, u: SourceUpdate) -> bool {
        match u.result {
            Ok((at, lines)) => {
                let changed =
                    self.lines != lines || !matches!(self.state, SourceState::Ready { .. });
                self.state = SourceState::Ready { at };
                self.lines = lines;
                changed
            }
            Err(e) => {
                let changed = !matches!(&self.state, SourceState::Error(old) if *old == e);
                self.state = SourceState::Error(e);
                changed
            }
        }
    }

    /// A pane per kind of source the runbook has (its repos, its deploy services, Sentry, its
    /// metrics, the blockers on GitHub), each saying how to configure it until its source reports.
    pub fn for_runbook(engine: &crate::engine::Engine) -> Vec<Pane> {
        use crate::runbook::model::Service;
        use crate::services::Resolved;
        let rb = &engine.loaded.runbook;
        let mut panes = Vec::new();
        if !rb.repos.is_empty() {
            let names: Vec<String> = rb
                .repos
                .keys()
                .map(|r| format!("`repos.{r}.path`"))
                .collect();
            panes.push(Pane::not_configured(
                "git",
                format!("set {} in your config to your checkout", names.join(", ")),
            ));
        }
        let deploy_hint = engine.services.0.values().find_map(|s| match s {
            Resolved::Jenkins(c) => Some(c.client().err().unwrap_or_default()),
            Resolved::GithubActions(_) => {
                Some("GitHub Actions runs are followed by the deploy step itself".into())
            }
            _ => None,
        });
        if let Some(hint) = deploy_hint {
            panes.push(Pane::not_configured("jenkins", hint));
        }
        let has = |f: fn(&Service) -> bool| rb.services.values().any(f);
        let learn = "read live by `pushduty run` (learn mode reads no service)";
        if has(|s| matches!(s, Service::Sentry(_))) {
            let hint = engine.services.0.values().find_map(|s| match s {
                Resolved::Sentry(c) => c.client().err(),
                _ => None,
            });
            panes.push(Pane::not_configured("sentry", hint.unwrap_or(learn.into())));
        }
        if let Some(name) = rb
            .services
            .iter()
            .find(|(_, s)| matches!(s, Service::Graphite(_) | Service::Prometheus(_)))
            .map(|(n, _)| n)
        {
            panes.push(Pane::not_configured(
                "metrics",
                format!(
                    "{learn}; it reads `services.{name}.url` (`--set services.{name}.url=URL`)"
                ),
            ));
        }
        let targets = crate::sources::blockers::targets(rb, &engine.services);
        if !targets.is_empty() {
            let hint = targets.iter().find_map(|t| t.conf.client().err());
            let mut pane = Pane::not_configured("blockers", hint.unwrap_or(learn.into()));
            pane.counts = Some("#");
            panes.push(pane);
        }
        panes
    }
}
