//! libgit2's process-wide setup, done once at start: memory limits sized for what the panes
//! read, and the TLS trust store loaded when a remote is first contacted instead of at start.
//!
//! libgit2 parses the whole system CA bundle when it initialises (about 20 ms, more than the
//! git work behind the first frame on a 100k-commit repository), yet most runs of most
//! commands never open a connection.

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use anyhow::{Context, Result};

/// Pack files are mapped in windows of this size, and at most this much at once: the panes
/// read the newest few hundred commits, which sit together at the front of a pack.
const MWINDOW_SIZE: usize = 1 << 20;
const MWINDOW_MAPPED_LIMIT: usize = 8 << 20;
/// Parsed objects kept for reuse (libgit2's default is 256 MiB).
const CACHE_MAX: isize = 4 << 20;

const CERT_VARS: [&str; 2] = ["SSL_CERT_FILE", "SSL_CERT_DIR"];

/// Where the trust store is, found before libgit2 was pointed at an empty one.
#[derive(Debug, Default)]
struct Trust {
    file: Option<PathBuf>,
    dir: Option<PathBuf>,
}

static TRUST: OnceLock<Trust> = OnceLock::new();
static LOADED: Mutex<bool> = Mutex::new(false);

/// Initialises libgit2 with an empty trust store and the memory limits above, then restores
/// the environment, so that programs the steps run see the operator's own settings.
///
/// # Safety
/// Sets environment variables: call it before any other thread exists.
pub unsafe fn init() {
    // Honours SSL_CERT_FILE and SSL_CERT_DIR, else finds the system's bundle.
    let probe = openssl_probe::probe();
    let _ = TRUST.set(Trust {
        file: probe.cert_file,
        dir: probe.cert_dir,
    });
    let saved: Vec<(&str, Option<OsString>)> = CERT_VARS
        .iter()
        .map(|k| (*k, std::env::var_os(k)))
        .collect();
    // SAFETY (all blocks below): the caller guarantees no other thread exists yet.
    unsafe {
        std::env::set_var("SSL_CERT_FILE", "/dev/null");
        std::env::set_var("SSL_CERT_DIR", "/nonexistent");
        // The first option set initialises libgit2, which reads the variables above. A
        // limit that cannot be set leaves libgit2's default: slower to start, never wrong.
        let _ = git2::opts::set_mwindow_size(MWINDOW_SIZE);
        let _ = git2::opts::set_mwindow_mapped_limit(MWINDOW_MAPPED_LIMIT);
        let _ = git2::opts::set_cache_max_size(CACHE_MAX);
        for (k, v) in saved {
            match v {
                Some(v) => std::env::set_var(k, v),
                None => std::env::remove_var(k),
            }
        }
    }
}

/// Loads the trust store into libgit2 before a remote is contacted; once per process.
pub fn load_trust_store() -> Result<()> {
    let Some(trust) = TRUST.get() else {
        // `init` was not called (a test, an embedding): libgit2 loaded the store itself.
        return Ok(());
    };
    let mut loaded = LOADED
        .lock()
        .map_err(|_| anyhow::anyhow!("the trust store lock is poisoned"))?;
    if *loaded {
        return Ok(());
    }
    // SAFETY: libgit2 guards its TLS context; this only adds locations to it.
    unsafe {
        if let Some(file) = &trust.file {
            git2::opts::set_ssl_cert_file(file)
                .with_context(|| format!("loading TLS certificates from {}", file.display()))?;
        }
        if let Some(dir) = &trust.dir {
            git2::opts::set_ssl_cert_dir(dir)
                .with_context(|| format!("using TLS certificates in {}", dir.display()))?;
        }
    }
    *loaded = true;
    Ok(())
}
