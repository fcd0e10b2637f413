//! The signals that stop a session (SIGINT, SIGTERM, SIGHUP: the same on Linux and macOS),
//! heard on a thread instead of killing the process, and SIGPIPE's disposition.

use std::io;

pub use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

/// The stopping signals, queued for one listener from the moment this is made.
pub struct Stops(signal_hook::iterator::Signals);

impl Stops {
    pub fn listen() -> io::Result<Stops> {
        signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]).map(Stops)
    }

    /// Each stopping signal as it comes, for ever.
    pub fn forever(&mut self) -> impl Iterator<Item = i32> + '_ {
        self.0.forever()
    }
}

/// A stopping signal's name.
pub fn name(sig: i32) -> &'static str {
    match sig {
        SIGINT => "SIGINT",
        SIGTERM => "SIGTERM",
        SIGHUP => "SIGHUP",
        _ => "a signal",
    }
}

/// Lets SIGPIPE end the process, as it does `cat`: Rust ignores it, so a closed pipe would
/// be an error on every write instead.
///
/// # Safety
/// Call before any other thread exists.
pub unsafe fn default_sigpipe() {
    // SAFETY: the caller vouches that no other thread runs; restoring a default disposition
    // is then sound.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stopping_signal_is_heard_not_fatal() {
        let mut stops = Stops::listen().unwrap();
        // SAFETY: raising a signal at ourselves; the handler installed above takes it.
        assert_eq!(unsafe { libc::raise(SIGHUP) }, 0);
        let sig = stops.forever().next();
        assert_eq!(sig, Some(SIGHUP));
        assert_eq!(name(SIGHUP), "SIGHUP");
    }
}
