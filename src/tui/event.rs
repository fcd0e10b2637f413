//! The input reader: its own thread, forwarding key presses, mouse and resize events. It can
//! be paused (and confirms it is parked) so a child process such as `$EDITOR` owns the
//! terminal alone.

use std::sync::mpsc::Sender;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use ratatui::crossterm::event::{self, Event, KeyEventKind};

use super::Msg;

#[derive(Default)]
struct State {
    paused: bool,
    parked: bool,
    /// The screen is gone: the reader ends at its next poll, so it cannot take the first
    /// keys of a screen opened after it (`follow` handing over to `run`).
    stopped: bool,
    /// The reader has ended.
    ended: bool,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    cv: Condvar,
}

pub struct InputReader {
    shared: Arc<Shared>,
}

/// How long a poll waits before the reader looks at its pause flag again. Only the input
/// thread wakes this often; the UI loop itself sleeps until something happens.
const POLL: Duration = Duration::from_millis(250);

/// How long a screen that ends waits for its reader to end.
const FINISH: Duration = Duration::from_secs(1);

impl InputReader {
    pub fn spawn(tx: Sender<Msg>) -> std::io::Result<Self> {
        let shared = Arc::new(Shared::default());
        let s = shared.clone();
        std::thread::Builder::new()
            .name("input".into())
            .spawn(move || {
                read_loop(&s, &tx);
                if let Ok(mut st) = s.state.lock() {
                    st.ended = true;
                }
                s.cv.notify_all();
            })?;
        Ok(InputReader { shared })
    }

    /// Asks the reader to end at its next poll (within [`POLL`]), without waiting.
    pub fn stop(&self) {
        if let Ok(mut st) = self.shared.state.lock() {
            st.stopped = true;
            st.paused = false;
        }
        self.shared.cv.notify_all();
    }

    /// Stops the reader and waits for it to end, so what is typed next is the next reader's;
    /// at most [`FINISH`]: on a terminal that went away (its window closed, the ssh link cut)
    /// a read may never come back, and the process must still end.
    pub fn finish(self) {
        self.stop();
        self.wait_for(FINISH, |st| st.ended);
    }

    /// Stops reading; returns once the reader is parked (or after a bounded wait).
    pub fn pause(&self) {
        if let Ok(mut st) = self.shared.state.lock() {
            st.paused = true;
        }
        self.wait_for(Duration::from_secs(2), |st| st.parked);
    }

    /// Waits until `done` holds of the reader's state, at most `longest`.
    fn wait_for(&self, longest: Duration, done: impl Fn(&State) -> bool) {
        let Ok(mut st) = self.shared.state.lock() else {
            return;
        };
        let deadline = std::time::Instant::now() + longest;
        while !done(&st) {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return;
            }
            match self.shared.cv.wait_timeout(st, left) {
                Ok((g, _)) => st = g,
                Err(_) => return,
            }
        }
    }

    pub fn resume(&self) {
        if let Ok(mut st) = self.shared.state.lock() {
            st.paused = false;
        }
        self.shared.cv.notify_all();
    }
}

impl Drop for InputReader {
    /// A screen that ends early (an error) still lets go of the terminal's input.
    fn drop(&mut self) {
        self.stop();
    }
}

fn read_loop(shared: &Shared, tx: &Sender<Msg>) {
    loop {
        {
            let Ok(mut st) = shared.state.lock() else {
                return;
            };
            if st.stopped {
                return;
            }
            if st.paused {
                st.parked = true;
                shared.cv.notify_all();
                while st.paused {
                    match shared.cv.wait(st) {
                        Ok(g) => st = g,
                        Err(_) => return,
                    }
                }
                st.parked = false;
                if st.stopped {
                    return;
                }
            }
        }
        match event::poll(POLL) {
            Ok(true) => {}
            Ok(false) => continue,
            Err(_) => return,
        }
        let ev = match event::read() {
            Ok(ev) => ev,
            Err(_) => return,
        };
        // Windows terminals report releases too; only presses are actions.
        if let Event::Key(k) = &ev
            && k.kind != KeyEventKind::Press
        {
            continue;
        }
        if matches!(ev, Event::Key(_) | Event::Mouse(_) | Event::Resize(..))
            && tx.send(Msg::Input(ev)).is_err()
        {
            return;
        }
    }
}
