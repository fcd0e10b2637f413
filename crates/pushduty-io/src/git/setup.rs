//! libgit2's process-wide setup, done once at start: memory limits sized for what the panes
//! read. libgit2 has no network here (no TLS, no ssh: see [`super::net`]), so there is no trust
//! store to load.

/// Pack files are mapped in windows of this size, and at most this much at once: the panes
/// read the newest few hundred commits, which sit together at the front of a pack.
const MWINDOW_SIZE: usize = 1 << 20;
const MWINDOW_MAPPED_LIMIT: usize = 8 << 20;
/// Parsed objects kept for reuse (libgit2's default is 256 MiB).
const CACHE_MAX: isize = 4 << 20;

/// Initialises libgit2 with the memory limits above.
///
/// # Safety
/// Changes libgit2's global options: call it before any other thread exists.
pub unsafe fn init() {
    // SAFETY: the caller guarantees no other thread exists yet. A limit that cannot be set
    // leaves libgit2's default: slower to start, never wrong.
    unsafe {
        let _ = git2::opts::set_mwindow_size(MWINDOW_SIZE);
        let _ = git2::opts::set_mwindow_mapped_limit(MWINDOW_MAPPED_LIMIT);
        let _ = git2::opts::set_cache_max_size(CACHE_MAX);
    }
}
