//! The terminal UI drawn on a test backend: every screen, key and pane, and a recorded push
//! replayed read-only.

#[path = "../support/mod.rs"]
mod support;

mod desk;
mod following;
mod replay;
mod tui;
