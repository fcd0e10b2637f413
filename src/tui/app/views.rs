//! Each step's title, doc and preview as the screens show them, made when something changes
//! and never while drawing; previews are computed off the UI thread once the first frame is up.

use super::{App, Deferred, Level, Procedure, StepView};
use crate::sanitize::{clean, clean_line};
use crate::tui::Msg;

impl App {
    /// How many times the step views were made (each asks for fresh previews).
    pub fn views_generation(&self) -> u64 {
        self.views_generation
    }

    /// Renders every step's texts for the screens; called after anything that can change
    /// them (a step finished, skipped or reopened, a repo changed).
    pub fn refresh_views(&mut self) {
        let ctx = self.engine.context();
        let rb = &self.engine.loaded.runbook;
        self.procedure = Procedure {
            summary: crate::preview::fill(&rb.summary, &ctx),
            section_docs: rb
                .sections
                .iter()
                .map(|s| crate::preview::fill(&s.doc, &ctx))
                .collect(),
            links: rb
                .links
                .iter()
                .map(|(name, url)| (name.clone(), crate::preview::fill(url, &ctx)))
                .collect(),
        };
        let old = std::mem::take(&mut self.views);
        let n = self.engine.loaded.runbook.steps.len();
        self.views = self
            .engine
            .loaded
            .runbook
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| StepView {
                // Runbook text and the values in it reach the screen escaped: a title
                // cannot reorder or hide what is around it.
                title: clean_line(&crate::preview::fill(&s.title, &ctx)).into_owned(),
                doc: clean(&crate::preview::fill(&s.doc, &ctx)).into_owned(),
                // Until the new one comes: the last one, or a word that it is on its way
                // (an added item moved the steps after it: their old previews are not theirs).
                preview: old
                    .get(i)
                    .filter(|_| old.len() == n)
                    .map_or_else(|| "(reading…)".to_string(), |v| v.preview.clone()),
                elsewhere: self.engine.still_running(&s.id),
            })
            .collect();
        self.previews_for(ctx);
    }

    /// Computes every step's preview again (off the UI thread when there is a previewer),
    /// keeping titles and docs: what a change to the repository alone calls for.
    pub fn refresh_previews(&mut self) {
        self.previews_for(self.engine.context());
    }

    fn previews_for(&mut self, ctx: serde_json::Value) {
        self.views_generation += 1;
        let generation = self.views_generation;
        let registry = self.engine.registry.clone();
        let rb = self.engine.loaded.runbook.clone();
        let compute = move || -> Vec<String> {
            rb.steps
                .iter()
                .map(|s| registry.get(&s.kind).preview(s, &rb, &ctx))
                .collect()
        };
        match &self.previewer {
            // Git previews read the repository: never on the UI thread. The newest request
            // wins; an older answer arriving late is dropped.
            Some(tx) => {
                let tx = tx.clone();
                self.after_first_frame(Box::new(move |app: &mut App| {
                    let spawned = off_the_ui(&tx, "previews", move || Msg::Previews {
                        generation,
                        previews: compute(),
                    });
                    if !spawned {
                        app.log(Level::Warn, "could not start a thread for the previews");
                    }
                }));
            }
            None => {
                let previews = compute();
                self.on_previews(generation, previews);
            }
        }
    }

    /// Runs `work` now if the first frame is on screen, else as soon as it is.
    pub fn after_first_frame(&mut self, work: Deferred) {
        match &mut self.deferred {
            Some(held) => held.push(work),
            None => work(self),
        }
    }

    /// The first frame is on screen: the work held back for it starts, in the order it was
    /// asked for.
    pub fn first_frame_drawn(&mut self) {
        for work in self.deferred.take().unwrap_or_default() {
            work(self);
        }
    }

    /// Previews computed off the UI thread; only the newest request's are kept.
    pub fn on_previews(&mut self, generation: u64, previews: Vec<String>) {
        if generation != self.views_generation {
            return;
        }
        for (v, p) in self.views.iter_mut().zip(previews) {
            v.preview = p;
        }
    }

    /// The rendered texts of a step, by id.
    pub fn view(&self, id: &str) -> &StepView {
        static NONE: StepView = StepView {
            title: String::new(),
            doc: String::new(),
            preview: String::new(),
            elsewhere: None,
        };
        self.step_index(id)
            .and_then(|i| self.views.get(i))
            .unwrap_or(&NONE)
    }
}

/// Runs `work` on a thread named `name` and sends what it makes to the loop; whether the
/// thread could start.
pub(super) fn off_the_ui(
    tx: &std::sync::mpsc::Sender<Msg>,
    name: &str,
    work: impl FnOnce() -> Msg + Send + 'static,
) -> bool {
    let tx = tx.clone();
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let _ = tx.send(work());
        })
        .is_ok()
}
