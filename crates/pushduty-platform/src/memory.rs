//! The allocator's settings, made once at start.

/// glibc gives every thread that allocates an arena of its own, each keeping the memory it
/// freed; two are plenty for pushduty's short-lived and polling threads. Other allocators
/// (musl's, macOS's) have no such setting, and nothing is done there.
///
/// # Safety
/// Call before any other thread exists.
pub unsafe fn few_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: the caller vouches that no other thread runs; a refused setting keeps glibc's
    // default.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}
