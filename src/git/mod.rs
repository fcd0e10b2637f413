//! Git through git2: release tags, repository state, and the steps that write.

pub mod tags;
