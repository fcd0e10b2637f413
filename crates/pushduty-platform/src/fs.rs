//! File flags that differ in value between systems.

/// `open(2)` flag: fail on a symbolic link at the last component instead of following it.
pub const NO_FOLLOW: i32 = libc::O_NOFOLLOW;
