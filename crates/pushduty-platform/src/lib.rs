//! Everything pushduty asks of the operating system, in one crate, for Linux and macOS:
//! process groups, whether a process lives and when it started, the session lock, the
//! signals that stop a session, the link opener and desktop notifications, and the keyring.
//! The rest of pushduty calls these and holds no `#[cfg(target_os)]` of its own, so a port
//! is a module here. What one system cannot do fails with an error that says so, never
//! quietly. docs/platforms.md says what has been tried where.

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
compile_error!(
    "pushduty runs on Linux and macOS only: process groups, liveness and the keyring are \
     implemented for those two (see docs/platforms.md)"
);

pub mod desktop;
pub mod fs;
pub mod lock;
pub mod memory;
pub mod process;
#[cfg(feature = "keyring")]
pub mod secret_store;
#[cfg(feature = "signals")]
pub mod signals;
