//! Live sources: pollers that run off the UI thread and report snapshots as lines for their
//! pane. A source that fails reports the error; it never blocks or takes the screen.

pub mod git;

/// One poll's result: the time it was taken (for the pane title) and the lines, or an error.
pub type Snapshot = Result<(String, Vec<String>), String>;
