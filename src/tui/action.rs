//! What the operator asked for, decoupled from the key that asked: the keymap and mouse turn
//! events into actions, `App::update` applies them.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Next,
    Prev,
    First,
    Last,
    /// Enter: the confirmation (run) or the explanation (learn) of the selected step.
    Open,
    Skip,
    /// Put a finished step back to pending (asks for a reason).
    Reopen,
    /// `o`: open the link of what is selected (asks which when there are several).
    OpenLink,
    /// `c`: copy the selected step's text or link to the clipboard, and show it.
    Copy,
    Retry,
    /// Add an ad-hoc item (asks for its text).
    Add,
    /// End a running watch now, judged on what it saw (asks for a note).
    EndEarly,
    /// `h`: what to do by hand instead of the step, then tick it off (asks what was done).
    ByHand,
    /// `T` on the screen that follows a push, or a `run` screen whose seat was taken: take
    /// the driver's seat (asks why), then drive the push on this machine.
    TakeOver,
    FocusNext,
    /// The whole procedure: the runbook's summary, every section with its doc and day.
    Overview,
    Help,
    Quit,
    /// Ctrl-C: cancel the running step.
    Interrupt,
    ScrollDown,
    ScrollUp,
    /// `y` in a dialog.
    Yes,
    /// `f` in a confirmation whose checks failed: act anyway, with a reason.
    Override,
    /// `n` or `Esc` in a dialog.
    No,
}
