//! The sources behind the panes: their reports coming in, and asking them for a fresh look
//! when a step changed what they show.

use super::App;
use crate::tui::pane::SourceUpdate;

impl App {
    /// Takes a source's report; whether the screen shows anything new (a poll that found
    /// what the pane already says, in the same minute, needs no redraw: idle panes cost no
    /// drawing).
    pub fn on_source(&mut self, u: SourceUpdate) -> bool {
        let git = u.pane == "git";
        let Some(pane) = self.panes.iter_mut().find(|p| p.name == u.pane) else {
            return false;
        };
        let title = pane.title();
        // What the blockers pane listed before, to call the operator for a new one.
        let before = (pane.name == "blockers"
            && matches!(pane.state, crate::tui::pane::SourceState::Ready { .. }))
        .then(|| pane.lines.clone());
        let changed = pane.apply(u);
        let retitled = pane.title() != title;
        if before.is_some() && changed {
            let now = pane.lines.clone();
            self.call_for_blockers(before.as_deref(), &now);
        }
        // The repo changed outside pushduty: git previews name its commits (titles and docs
        // read the session, not the repo). A read that found the same repo (every 30 s while
        // idle) computes nothing again.
        if git && changed {
            self.refresh_previews();
        }
        changed || retitled
    }

    /// Keeps the health panes' push moment in step with the journal; when it moves, they
    /// read again at once.
    pub fn note_push_moment(&self) {
        let now = self.engine.push_moment();
        if self.push_moment.get() != now {
            self.push_moment.set(now);
            for (pane, tx) in &self.refresh {
                if matches!(*pane, "sentry" | "metrics") {
                    let _ = tx.send(());
                }
            }
        }
    }

    /// Asks the sources that show what `step` changes for a fresh look.
    pub(super) fn poke_sources(&self, step: &str) {
        let Ok(kind) = self.engine.step(step).map(|s| s.kind.name()) else {
            return;
        };
        let family = match kind {
            // Outcomes recorded: the pane reads GitHub again rather than wait a minute.
            "github.blockers" => "blockers",
            _ => kind.split('.').next().unwrap_or(kind),
        };
        for (pane, tx) in &self.refresh {
            if *pane == family {
                let _ = tx.send(());
            }
        }
    }
}
