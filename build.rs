//! Stamps the binary with the git commit it was built from, for `--version`, and packs its
//! relocations where the toolchain can.
//!
//! Runs `git` locally only (no network). Any failure (no git, not a checkout, a tarball that
//! sits inside some other repository) gives "unknown" rather than a failed build.

use std::path::{Path, PathBuf};
use std::process::Command;

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn main() {
    let dir: PathBuf =
        std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(|| ".".into(), Into::into);
    let dir = dir.as_path();
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=PUSHDUTY_BUILD_COMMIT");
    println!("cargo:rustc-env=PUSHDUTY_COMMIT={}", commit(dir));
    if packs_relocations() {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}

/// Whether the binary can carry its relative relocations packed (DT_RELR): tens of thousands
/// of them, which the loader otherwise reads from a table of a megabyte and more at every
/// start, about 2 MiB of resident memory and a few milliseconds before the first frame. It
/// keeps the binary position-independent. Needs GNU ld 2.38+ and glibc 2.36+, so a native
/// glibc build asks the C compiler (rustc's linker there) to link a probe that way first;
/// any doubt leaves the default.
fn packs_relocations() -> bool {
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    if var("CARGO_CFG_TARGET_OS") != "linux"
        || var("CARGO_CFG_TARGET_ENV") != "gnu"
        || var("TARGET") != var("HOST")
        || std::env::var_os("RUSTC_LINKER").is_some()
    {
        return false;
    }
    let Some(out) = std::env::var_os("OUT_DIR").map(PathBuf::from) else {
        return false;
    };
    let (src, bin) = (out.join("relr-probe.c"), out.join("relr-probe"));
    if std::fs::write(&src, "int main(void) { return 0; }\n").is_err() {
        return false;
    }
    let linked = Command::new("cc")
        .args(["-pie", "-fPIE", "-Wl,-z,pack-relative-relocs", "-o"])
        .arg(&bin)
        .arg(&src)
        .output()
        .is_ok_and(|o| o.status.success() && o.stderr.is_empty());
    // The probe must also run: a glibc without DT_RELR support refuses such a binary.
    linked && Command::new(&bin).status().is_ok_and(|s| s.success())
}

fn commit(dir: &Path) -> String {
    // Packagers building from a tarball may say which commit it was.
    if let Ok(c) = std::env::var("PUSHDUTY_BUILD_COMMIT")
        && !c.trim().is_empty()
    {
        return c.trim().to_string();
    }
    // Only this crate's own checkout counts: an unpacked tarball inside another repository
    // must not take that repository's commit.
    if git(dir, &["ls-files", "--error-unmatch", "Cargo.toml"]).is_none() {
        return "unknown".into();
    }
    let Some(sha) = git(dir, &["rev-parse", "--short", "HEAD"]) else {
        return "unknown".into();
    };
    // Rebuild when HEAD moves: HEAD itself (a checkout) and the ref it points to (a commit).
    // Worktrees keep HEAD and refs in different folders; git knows where.
    for path in ["HEAD", "index", "packed-refs"] {
        rerun_on_git_path(dir, path);
    }
    if let Some(r) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
        rerun_on_git_path(dir, &r);
    }
    // Edits to the sources make the tree dirty without touching git's files.
    for p in ["src", "Cargo.toml", "Cargo.lock", "runbooks", "templates"] {
        println!("cargo:rerun-if-changed={p}");
    }
    let dirty =
        git(dir, &["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    if dirty { format!("{sha}-dirty") } else { sha }
}

fn rerun_on_git_path(dir: &Path, name: &str) {
    let asked = ["rev-parse", "--path-format=absolute", "--git-path", name];
    if let Some(p) = git(dir, &asked)
        && Path::new(&p).exists()
    {
        println!("cargo:rerun-if-changed={p}");
    }
}
