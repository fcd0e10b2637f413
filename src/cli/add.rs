//! `pushduty add TEXT`: an ad-hoc item, journaled in this push's session under its lock, like
//! `do`. Nothing runs: the item is ticked off later like any manual step.

use std::process::ExitCode;
use std::sync::Arc;

use super::session::{notices, open_engine, prepare};
use super::{AddArgs, Global, fail};
use crate::engine::NoEdit;
use crate::sanitize::clean;

pub fn run(g: &Global, args: &AddArgs) -> ExitCode {
    let (p, _) = match prepare(g, "run", false) {
        Ok(p) => p,
        Err(code) => return code,
    };
    // Checked before the session is opened, so a typo neither begins a session nor waits
    // for the lock.
    if let Err(e) = crate::engine::item_text(&args.text)
        .and_then(|_| crate::engine::item_section(&p.loaded.runbook, args.section.as_deref()))
    {
        return fail(&e);
    }
    let (mut engine, opened) = match open_engine(g, p, Arc::new(NoEdit), Arc::new(|_| {})) {
        Ok(x) => x,
        Err(code) => return code,
    };
    for n in notices(&opened) {
        eprintln!("pushduty: {}", clean(&n));
    }
    match engine.add_item(&args.text, args.section.as_deref(), args.next_push) {
        Ok(id) => {
            let section = engine
                .session
                .state
                .items
                .get(&id)
                .map_or("", |it| engine.loaded.runbook.section_title(&it.section));
            eprintln!(
                "pushduty: added `{id}` to {} push, in {}",
                if args.next_push { "next" } else { "this" },
                clean(section)
            );
            println!("{id}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}
