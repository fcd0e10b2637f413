//! The system keyring that `{ keyring = "service/user" }` secrets are read from: the kernel
//! keyring (keyutils) on Linux, the login Keychain on macOS. The backend is chosen by this
//! crate's target-specific `keyring` features, so neither system builds the other's.

pub use keyring::{Entry, Error};

/// Where entries live here, for messages that tell the operator where to put one.
#[cfg(target_os = "linux")]
pub const NAME: &str = "the kernel keyring";
#[cfg(target_os = "macos")]
pub const NAME: &str = "the macOS Keychain";
