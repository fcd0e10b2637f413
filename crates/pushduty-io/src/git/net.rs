//! The network half of git (ls-remote, fetch, push) through the operator's own `git`, as cargo
//! does with `net.git-fetch-with-cli`: a remote is reached exactly as the operator's `git push`
//! reaches it (an ssh `Host` alias, `ProxyJump`, `IdentityFile`, a credential helper,
//! `url.<base>.insteadOf`, a proxy), which libgit2 cannot do. Reads of the local repository
//! stay in libgit2.
//!
//! `git` runs with the operator's configuration and environment, but never asks anything:
//! - no terminal: it leads a session of its own (setsid), so neither git nor ssh can open
//!   `/dev/tty`, and stdin is empty;
//! - `GIT_TERMINAL_PROMPT=0` and an empty `GIT_ASKPASS` (which also shadows `core.askPass` and
//!   `SSH_ASKPASS` for git's own prompts): a credential helper answers or git fails;
//! - ssh in `BatchMode` (no passphrase, no host key question), through
//!   `GIT_SSH_COMMAND="ssh -o BatchMode=yes"`, but only when the operator has chosen no ssh
//!   command of their own (`GIT_SSH_COMMAND`, `core.sshCommand`, `GIT_SSH`): setting the
//!   variable would override theirs, since it takes precedence over both.
//!
//! Its session is its process group: a cancel (the operator, a signal) kills git, ssh and any
//! helper together. Progress goes to the step's log; on failure, the error carries the end of
//! what git said (a hook's `remote:` lines, `! [remote rejected] ...`, ssh's own message).
//! Every line passes through the redaction first: a password in the remote's URL never reaches
//! the log, the journal or the screen.

use std::collections::{HashMap, VecDeque};
use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use git2::Oid;

use super::spec::RepoSpec;
use crate::group::{Ended, supervise};
use crate::secret::{REDACTED, Secret, scrub};

/// The oldest `git` that has everything used here (`fetch --no-write-fetch-head`).
pub const MIN_VERSION: (u32, u32) = (2, 29);

/// The ssh command used when the operator has not chosen one.
const BATCH_SSH: &str = "ssh -o BatchMode=yes";

/// Variables that point git at another repository than the one named with `-C` (set when
/// pushduty itself runs from a git hook, say).
pub(crate) const REPO_VARS: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_PREFIX",
];

/// What git said is kept to this many lines for an error, each cut to [`LINE_MAX`] bytes.
const TAIL_LINES: usize = 30;
const LINE_MAX: usize = 1000;
/// The most of git's standard output read (ls-remote's refs); more is an error, not memory.
const STDOUT_MAX: usize = 64 << 20;
/// A progress meter (`Receiving objects:  45% ...\r`) reaches the log this often at most.
const METER_EVERY: Duration = Duration::from_secs(2);

/// Where a network git command's progress goes and what stops it.
pub struct Net<'a> {
    progress: Box<dyn FnMut(String) + 'a>,
    cancelled: Box<dyn Fn() -> bool + 'a>,
    /// How long the command may take; `None`: until cancelled (a step has its cancel).
    limit: Option<Duration>,
}

impl<'a> Net<'a> {
    pub fn new(progress: impl FnMut(String) + 'a, cancelled: impl Fn() -> bool + 'a) -> Self {
        Self {
            progress: Box::new(progress),
            cancelled: Box::new(cancelled),
            limit: None,
        }
    }

    /// Ends the command (and its ssh) once it has run for `limit`.
    pub fn with_limit(mut self, limit: Duration) -> Self {
        self.limit = Some(limit);
        self
    }

    /// No progress, no cancel: for callers that only want the result.
    pub fn quiet() -> Net<'static> {
        Net::new(|_| {}, || false)
    }
}

/// The remote's refs matching `patterns` (as `git ls-remote REMOTE PATTERNS...`; all of them
/// when empty), tags peeled to the commit they name: an annotated tag is advertised twice and
/// its `^{}` line wins. Only the refs named exactly as a pattern, or matching one ending in
/// `/*`, are kept: ls-remote itself matches patterns against the tail of a name.
pub fn ls_remote(
    spec: &RepoSpec,
    patterns: &[&str],
    net: &mut Net<'_>,
) -> Result<HashMap<String, Oid>> {
    // `--`: the remote's name comes from the runbook and must never be read as an option.
    let mut args = vec!["ls-remote".into(), "--".into(), spec.remote.clone()];
    for p in patterns {
        args.push(p.to_string());
        // Without its own pattern, an annotated tag's peeled line is left out.
        if !p.ends_with('*') {
            args.push(format!("{p}^{{}}"));
        }
    }
    let out = run(spec, &args, net).with_context(|| format!("listing refs of {}", spec.remote))?;
    let wanted = |name: &str| {
        patterns.is_empty()
            || patterns.iter().any(|p| match p.strip_suffix('*') {
                Some(prefix) => name.starts_with(prefix),
                None => name == *p,
            })
    };
    let mut refs = HashMap::new();
    let mut peeled = Vec::new();
    for line in out.lines() {
        let Some((sha, name)) = line.split_once('\t') else {
            continue;
        };
        let oid = Oid::from_str(sha).with_context(|| format!("git ls-remote printed `{line}`"))?;
        match name.strip_suffix("^{}") {
            Some(tag) if wanted(tag) => peeled.push((tag.to_string(), oid)),
            None if wanted(name) => {
                refs.insert(name.to_string(), oid);
            }
            _ => {}
        }
    }
    refs.extend(peeled);
    Ok(refs)
}

/// `git fetch REMOTE REFSPECS...`: nothing but the refspecs given (no tags followed, nothing
/// pruned, `FETCH_HEAD` left alone), so a fetch changes no ref it was not asked for.
pub fn fetch_refspecs(spec: &RepoSpec, refspecs: &[String], net: &mut Net<'_>) -> Result<()> {
    let mut args: Vec<String> = [
        "fetch",
        "--progress",
        "--no-tags",
        "--no-prune",
        "--no-write-fetch-head",
        "--",
    ]
    .map(String::from)
    .to_vec();
    args.push(spec.remote.clone());
    args.extend(refspecs.iter().cloned());
    run(spec, &args, net).map(drop)
}

/// `git push REMOTE REFSPEC`: that ref alone (no `push.followTags`, no submodules).
pub fn push_refspec(spec: &RepoSpec, refspec: &str, net: &mut Net<'_>) -> Result<()> {
    push(spec, &["--progress"], refspec, net)
}

/// `git push OPTIONS REMOTE REFSPEC`, with no other ref, tag or submodule pushed along.
fn push(spec: &RepoSpec, options: &[&str], refspec: &str, net: &mut Net<'_>) -> Result<()> {
    let mut args: Vec<String> = vec!["push".into()];
    args.extend(options.iter().map(|o| o.to_string()));
    args.extend(
        [
            "--no-follow-tags",
            "--recurse-submodules=no",
            "--",
            &spec.remote,
            refspec,
        ]
        .map(String::from),
    );
    run(spec, &args, net).map(drop)
}

/// `git push --dry-run REMOTE REFSPEC`: the remote is reached and asked to receive (which
/// checks the operator may push there), and nothing is sent; hooks are not run.
pub fn push_dry_run(spec: &RepoSpec, refspec: &str, net: &mut Net<'_>) -> Result<()> {
    push(spec, &["--dry-run", "--no-verify"], refspec, net)
}

/// Runs `git -C PATH ARGS...` as described at the top; its standard output when it succeeds.
fn run(spec: &RepoSpec, args: &[String], net: &mut Net<'_>) -> Result<String> {
    check_version()?;
    let secrets = remote_secrets(spec)?;
    let mut cmd = Command::new("git");
    cmd.arg("-C").arg(&spec.path).args(args);
    for v in REPO_VARS {
        cmd.env_remove(v);
    }
    cmd.env("GIT_TERMINAL_PROMPT", "0").env("GIT_ASKPASS", "");
    if !operator_has_ssh_command(spec) {
        cmd.env("GIT_SSH_COMMAND", BATCH_SSH);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    pushduty_platform::process::in_new_session(&mut cmd);
    let shown = format!("git {}", args.first().map_or("", String::as_str));
    let mut child = cmd.spawn().with_context(|| format!("starting `{shown}`"))?;
    let (tx, rx) = mpsc::channel();
    let stderr = child.stderr.take().map(|e| read_segments(e, tx));
    let stdout = child.stdout.take().map(|mut o| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let r = (&mut o).take(STDOUT_MAX as u64 + 1).read_to_end(&mut buf);
            // The rest is read and dropped, so that git is not left blocked on a full pipe.
            let _ = std::io::copy(&mut o, &mut std::io::sink());
            (buf, r)
        })
    });
    let mut tail = Tail::default();
    let mut meter: Option<Instant> = None;
    let Net {
        progress,
        cancelled,
        limit,
    } = net;
    let deadline = limit.map(|d| Instant::now() + d);
    let mut pass_on = |progress: &mut dyn FnMut(String)| {
        for (text, is_meter) in rx.try_iter() {
            let text = redact(&text, &secrets);
            if is_meter {
                // A meter's every step is not worth a line: its latest, every few seconds.
                if meter.is_none_or(|at| at.elapsed() >= METER_EVERY) {
                    progress(text);
                    meter = Some(Instant::now());
                }
                continue;
            }
            progress(text.clone());
            tail.push(text);
        }
    };
    let ended = supervise(&mut child, &|| cancelled(), deadline, &mut || {
        pass_on(&mut *progress)
    });
    if let Some(reader) = stderr {
        let _ = reader.join();
    }
    let stdout = stdout.map(std::thread::JoinHandle::join);
    // What git said last, now that the reader has seen the pipe close.
    pass_on(&mut *progress);
    let status = match ended? {
        Ended::Exited(st) => st,
        Ended::Cancelled => bail!("cancelled by the operator: `{shown}` was stopped"),
        Ended::TimedOut => match limit {
            Some(d) => bail!(
                "`{shown}` did not finish within {} s and was stopped",
                d.as_secs()
            ),
            None => bail!("`{shown}` took too long and was stopped"),
        },
    };
    if !status.success() {
        let code = status
            .code()
            .map_or_else(|| "a signal".to_string(), |c| format!("code {c}"));
        return Err(match tail.said() {
            Some(said) => anyhow!("`{shown}` exited with {code}: {said}"),
            None => anyhow!("`{shown}` exited with {code} and said nothing"),
        });
    }
    let (buf, read) = match stdout {
        Some(Ok(r)) => r,
        Some(Err(_)) => bail!("reading the output of `{shown}` failed"),
        None => (Vec::new(), Ok(0)),
    };
    read.with_context(|| format!("reading the output of `{shown}`"))?;
    if buf.len() > STDOUT_MAX {
        bail!(
            "`{shown}` printed more than {} MiB; pushduty stopped reading",
            STDOUT_MAX >> 20
        );
    }
    Ok(redact(&String::from_utf8_lossy(&buf), &secrets))
}

/// Reads git's standard error into `(text, is_meter)` pieces: a piece ended by a lone `\r` is
/// a progress meter that the next one overwrites; one ended by `\n` or `\r\n` (ssh's ending)
/// is a line.
fn read_segments(
    mut r: impl Read + Send + 'static,
    tx: mpsc::Sender<(String, bool)>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut pending = Vec::new();
        // A `\r` was read: what it ends is a line or a meter, as the next byte says.
        let mut after_cr = false;
        let mut buf = [0u8; 8192];
        let send = |pending: &mut Vec<u8>, is_meter: bool| {
            let text = String::from_utf8_lossy(pending).trim_end().to_string();
            pending.clear();
            text.is_empty() || tx.send((text, is_meter)).is_ok()
        };
        loop {
            let n = match r.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            for &b in &buf[..n] {
                if std::mem::take(&mut after_cr) && !send(&mut pending, b != b'\n') {
                    return;
                }
                match b {
                    b'\r' => after_cr = true,
                    b'\n' if !send(&mut pending, false) => return,
                    b'\n' => {}
                    _ if pending.len() < LINE_MAX => pending.push(b),
                    _ => {}
                }
            }
        }
        send(&mut pending, false);
    })
}

/// The last lines git said, for an error.
#[derive(Default)]
struct Tail(VecDeque<String>);

impl Tail {
    fn push(&mut self, line: String) {
        if self.0.len() == TAIL_LINES {
            self.0.pop_front();
        }
        self.0.push_back(line);
    }

    /// One line, without the meters' final `..., done.` lines, which say nothing of a failure.
    fn said(&self) -> Option<String> {
        let lines: Vec<&str> = self
            .0
            .iter()
            .map(|l| l.trim())
            .filter(|l| !l.is_empty() && !l.ends_with(", done."))
            .collect();
        (!lines.is_empty()).then(|| lines.join(" / "))
    }
}

/// Whether the operator chose how git runs ssh: then theirs is used as it is.
fn operator_has_ssh_command(spec: &RepoSpec) -> bool {
    if std::env::var_os("GIT_SSH_COMMAND").is_some_and(|v| !v.is_empty())
        || std::env::var_os("GIT_SSH").is_some_and(|v| !v.is_empty())
    {
        return true;
    }
    // Asked of git itself: includes, `GIT_CONFIG_*` and the rest are resolved as for the fetch.
    Command::new("git")
        .arg("-C")
        .arg(&spec.path)
        .args(["config", "--get", "core.sshCommand"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success() && !o.stdout.trim_ascii().is_empty())
}

/// Checks once per process that `git` is there and new enough.
pub fn check_version() -> Result<()> {
    static FOUND: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            let need = format!("{}.{}", MIN_VERSION.0, MIN_VERSION.1);
            let out = Command::new("git")
                .arg("--version")
                .stdin(Stdio::null())
                .output()
                .map_err(|e| {
                    format!(
                        "pushduty fetches and pushes with your `git` ({need} or newer), and \
                         none could be run ({e}): install git or put it on PATH"
                    )
                })?;
            let said = String::from_utf8_lossy(&out.stdout).trim().to_string();
            match parse_version(&said) {
                Some(v) if v >= MIN_VERSION => Ok(()),
                _ => Err(format!(
                    "pushduty fetches and pushes with your `git`, which must be {need} or \
                     newer; `git --version` says `{said}`: install a newer git"
                )),
            }
        })
        .clone()
        .map_err(anyhow::Error::msg)
}

/// `git version 2.39.3 (Apple Git-145)` -> (2, 39).
fn parse_version(said: &str) -> Option<(u32, u32)> {
    let v = said.strip_prefix("git version ")?;
    let mut parts = v.split(|c: char| !c.is_ascii_digit());
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// The passwords written in the remote's URLs, which git may repeat.
fn remote_secrets(spec: &RepoSpec) -> Result<Vec<Secret>> {
    let repo = spec.open()?;
    let remote = repo.find_remote(&spec.remote).with_context(|| {
        format!(
            "remote {} not found in {}",
            spec.remote,
            spec.path.display()
        )
    })?;
    // Lossy: a URL that is not UTF-8 is compared as git prints it, replaced characters and all.
    let url = String::from_utf8_lossy(remote.url_bytes()).into_owned();
    let push_url = remote
        .pushurl_bytes()
        .map(|b| String::from_utf8_lossy(b).into_owned());
    Ok([Some(url), push_url]
        .into_iter()
        .flatten()
        .filter_map(|u| url_password(&u))
        .map(Secret::new)
        .collect())
}

/// The password of `scheme://user:password@host/...`, if there is one.
fn url_password(url: &str) -> Option<String> {
    let (_, rest) = url.split_once("://")?;
    let authority = rest.split('/').next()?;
    let (userinfo, _) = authority.rsplit_once('@')?;
    let (_, password) = userinfo.split_once(':')?;
    (!password.is_empty()).then(|| password.to_string())
}

/// `text` with `secrets` cut out (in every form [`scrub`] knows), and the password of any URL
/// in it too, known or not.
pub(crate) fn redact(text: &str, secrets: &[Secret]) -> String {
    let refs: Vec<&Secret> = secrets.iter().collect();
    let text = scrub(text, &refs);
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(at) = rest.find("://") {
        let (before, after) = rest.split_at(at + 3);
        out.push_str(before);
        let end = after
            .find(|c: char| c == '/' || c.is_whitespace() || c == '\'' || c == '"')
            .unwrap_or(after.len());
        let authority = &after[..end];
        match authority
            .rsplit_once('@')
            .and_then(|(info, host)| info.split_once(':').map(|(user, _)| (user, host)))
        {
            Some((user, host)) => out.push_str(&format!("{user}:{REDACTED}@{host}")),
            None => out.push_str(authority),
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_as_git_prints_them() {
        assert_eq!(parse_version("git version 2.47.3"), Some((2, 47)));
        assert_eq!(
            parse_version("git version 2.39.3 (Apple Git-145)"),
            Some((2, 39))
        );
        assert_eq!(parse_version("git version 2.45.1.windows.1"), Some((2, 45)));
        assert_eq!(parse_version("hub version 2.14"), None);
        assert!(parse_version("git version 2.28.0").unwrap() < MIN_VERSION);
    }

    #[test]
    fn meters_are_told_from_lines_as_git_and_ssh_end_them() {
        let said: &[u8] = b"Receiving 1%\rReceiving 50%\rdone.\r\nremote: no\nlast";
        let (tx, rx) = mpsc::channel();
        read_segments(said, tx).join().unwrap();
        let got: Vec<(String, bool)> = rx.try_iter().collect();
        let want = [
            ("Receiving 1%", true),
            ("Receiving 50%", true),
            ("done.", false),
            ("remote: no", false),
            ("last", false),
        ]
        .map(|(t, m)| (t.to_string(), m));
        assert_eq!(got, want);
    }

    #[test]
    fn url_passwords_never_pass() {
        let secrets = vec![Secret::new("s3cret")];
        let said = "fatal: unable to access 'https://me:s3cret@git.example/o/r.git/': 403 \
                    (c2VjcmV0 https://you:other@host/x and git@host:o/r.git)";
        let out = redact(said, &secrets);
        assert!(!out.contains("s3cret") && !out.contains("other"), "{out}");
        assert!(
            out.contains("https://me:[redacted]@git.example/o/r.git/"),
            "{out}"
        );
        assert!(out.contains("https://you:[redacted]@host/x"), "{out}");
        assert!(out.contains("git@host:o/r.git"), "{out}");
        assert_eq!(
            url_password("https://me:s3cret@git.example/r.git").as_deref(),
            Some("s3cret")
        );
        assert_eq!(url_password("ssh://git@host/r.git"), None);
        assert_eq!(url_password("olympia-upstream:src/r.git"), None);
    }
}
