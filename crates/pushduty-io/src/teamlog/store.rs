//! The push log's git side: a private bare clone under the state dir, fetched and pushed
//! through the operator's own `git` ([`crate::git::net`]), so an ssh alias or a credential
//! helper reaches the log as it reaches the repos. Commits are made with libgit2's object
//! database alone: no working tree, no index, no ref but pushduty's own, so nothing here can
//! touch another branch.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use git2::{ObjectType, Oid, Repository, Signature};

use crate::config::LogConfig;
use crate::git::{Net, RepoSpec, net};

/// The file at the root of the branch that makes it a push log, and its format.
pub const MARKER: &str = "pushduty-log.toml";
pub const FORMAT: u32 = 1;

/// A commit of the log's branch.
pub type Tip = Oid;

/// The remote's name in the private clone.
const REMOTE: &str = "log";
/// The branch as last fetched (forced: a rewound branch must be seen to be refused).
const FETCHED: &str = "refs/pushduty/fetched";
/// The last tip this state dir saw of the branch: every later one must contain it.
const SEEN: &str = "refs/pushduty/seen";
/// How long one fetch or push of the log may take.
const NET_LIMIT: Duration = Duration::from_secs(60);

/// One writer at a time of the clone's own refs in this process: a screen polls the log on
/// one thread while a step claims it on another, and two fetches into one ref at once make
/// one of them fail on git's ref lock.
static REFS: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn refs_lock() -> std::sync::MutexGuard<'static, ()> {
    // A thread that panicked holding it left no half-written ref: git's lock file did that.
    REFS.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One push log as this operator reaches it.
pub struct Store {
    /// As configured: may hold a password, so never said as it is ([`Store::shown`]).
    repo_url: String,
    pub branch: String,
    spec: RepoSpec,
}

/// The log could not be reached at all (no network, the server down, no access): the one
/// failure an operator may choose to go on past, locally.
#[derive(Debug)]
pub struct Unreachable(pub String);

impl std::fmt::Display for Unreachable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unreachable {}

/// Whether `e` (or what it wraps) is [`Unreachable`].
pub fn is_unreachable(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.is::<Unreachable>())
}

/// What a push to the log came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Pushed {
    /// The branch is at this commit now.
    Landed(Oid),
    /// Someone else wrote first: the branch moved; fetch again and decide again.
    Rejected,
}

impl Store {
    /// The private clone of `cfg`'s log under `state_dir`, made (empty) when missing.
    pub fn open(state_dir: &Path, cfg: &LogConfig) -> Result<Self> {
        let branch = cfg.branch().to_string();
        if git2::Branch::name_is_valid(&branch).ok() != Some(true) || branch.starts_with('-') {
            bail!(
                "the push log's branch `{branch}` is not a valid branch name: fix `[log] branch`"
            );
        }
        let dir = clone_dir(state_dir, &cfg.repo, &branch);
        let repo = match Repository::open_bare(&dir) {
            Ok(r) => r,
            Err(_) => {
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("making the push log's clone {}", dir.display()))?;
                Repository::init_bare(&dir)
                    .with_context(|| format!("making the push log's clone {}", dir.display()))?
            }
        };
        // The URL may have changed in the config since the clone was made.
        match repo.find_remote(REMOTE) {
            Ok(r) if r.url_bytes() == cfg.repo.as_bytes() => {}
            Ok(_) => repo.remote_set_url(REMOTE, &cfg.repo)?,
            Err(_) => {
                repo.remote(REMOTE, &cfg.repo)
                    .with_context(|| format!("naming the push log {} in its clone", cfg.repo))?;
            }
        }
        Ok(Self {
            repo_url: cfg.repo.clone(),
            spec: RepoSpec {
                name: "push log".into(),
                path: dir,
                github: None,
                remote: REMOTE.into(),
                branch: branch.clone(),
            },
            branch,
        })
    }

    fn repo(&self) -> Result<Repository> {
        Repository::open_bare(&self.spec.path)
            .with_context(|| format!("opening the push log's clone {}", self.spec.path.display()))
    }

    /// The log's URL as it may be said: a password in it cut out.
    pub fn shown(&self) -> String {
        net::redact(&self.repo_url, &[])
    }

    fn where_(&self) -> String {
        format!(
            "the push log (branch `{}` of {})",
            self.branch,
            self.shown()
        )
    }

    /// Fetches the branch: its tip, or `None` when the remote has no such branch (and this
    /// state dir never saw one). Refuses a branch that does not contain the last tip seen
    /// here (rewound or force-pushed) and one that is not a push log.
    pub fn fetch(&self) -> Result<Option<Oid>> {
        let _refs = refs_lock();
        let refspec = format!("+refs/heads/{}:{FETCHED}", self.branch);
        let fetched = net::fetch_refspecs(
            &self.spec,
            &[refspec],
            &mut Net::quiet().with_limit(NET_LIMIT),
        );
        let repo = self.repo()?;
        let seen = repo.refname_to_id(SEEN).ok();
        if let Err(e) = fetched {
            // Told apart only when the fetch failed: an absent branch, or no log at all.
            let refs = net::ls_remote(
                &self.spec,
                &[&format!("refs/heads/{}", self.branch)],
                &mut Net::quiet().with_limit(NET_LIMIT),
            )
            .map_err(|_| {
                anyhow::Error::new(Unreachable(format!(
                    "{} could not be reached: {e:#}",
                    self.where_()
                )))
            })?;
            if !refs.is_empty() {
                bail!("{} was listed but could not be fetched", self.where_());
            }
            if let Some(seen) = seen {
                bail!(
                    "{} is gone, though this machine saw it at {seen}: it was deleted or \
                     renamed. Nothing was written; ask who changed it, and restore the branch \
                     (it holds every push's journal)",
                    self.where_()
                );
            }
            return Ok(None);
        }
        let tip = repo
            .refname_to_id(FETCHED)
            .with_context(|| format!("reading the fetched tip of {}", self.where_()))?;
        if let Some(seen) = seen
            && seen != tip
            && !repo.graph_descendant_of(tip, seen).unwrap_or(false)
        {
            bail!(
                "{} was rewound or force-pushed: its tip {tip} does not contain {seen}, which \
                 this machine saw there. Nothing was written, and nothing local was changed; \
                 ask who rewrote it, and put the lost commits back (they are kept in {})",
                self.where_(),
                self.spec.path.display()
            );
        }
        self.check_marker(&repo, tip)?;
        self.see(&repo, tip)?;
        Ok(Some(tip))
    }

    fn check_marker(&self, repo: &Repository, tip: Oid) -> Result<()> {
        let tree = repo.find_commit(tip)?.tree()?;
        let Some(text) = read_blob(repo, &tree, MARKER)? else {
            bail!(
                "{} is not a push log: it has no {MARKER} at its root. Name a branch of its \
                 own in `[log] branch`, or make one with `pushduty log init`",
                self.where_()
            );
        };
        let format = text.lines().find_map(|l| {
            l.trim()
                .strip_prefix("format")?
                .trim()
                .strip_prefix('=')?
                .trim()
                .parse::<u32>()
                .ok()
        });
        match format {
            Some(FORMAT) => Ok(()),
            Some(n) => bail!(
                "{} is written in format {n}, and this pushduty reads format {FORMAT}: \
                 update pushduty",
                self.where_()
            ),
            None => bail!("{}: its {MARKER} has no `format = N` line", self.where_()),
        }
    }

    fn see(&self, repo: &Repository, tip: Oid) -> Result<()> {
        repo.reference(SEEN, tip, true, "seen")
            .with_context(|| format!("keeping the tip seen of {}", self.where_()))?;
        Ok(())
    }

    /// Fetches the branch and gives its tip; a remote without the branch is an error that
    /// says how to make it.
    pub fn tip(&self) -> Result<Oid> {
        self.fetch()?.with_context(|| {
            format!(
                "the push log has no branch `{}` in {} yet: make it once for the team with \
                 `pushduty log init`",
                self.branch,
                self.shown()
            )
        })
    }

    /// The names of the folders at `path` (`""`: the top) in commit `tip`, sorted.
    pub fn folders(&self, tip: Oid, path: &str) -> Result<Vec<String>> {
        let repo = self.repo()?;
        let root = repo.find_commit(tip)?.tree()?;
        let tree = if path.is_empty() {
            root
        } else {
            match root.get_path(Path::new(path)) {
                Ok(e) if e.kind() == Some(git2::ObjectType::Tree) => repo.find_tree(e.id())?,
                _ => return Ok(Vec::new()),
            }
        };
        let mut out: Vec<String> = tree
            .iter()
            .filter(|e| e.kind() == Some(git2::ObjectType::Tree))
            .filter_map(|e| e.name().ok().map(str::to_string))
            .collect();
        out.sort();
        Ok(out)
    }

    /// The text of `path` in commit `tip`, if it is there.
    pub fn read(&self, tip: Oid, path: &str) -> Result<Option<String>> {
        let repo = self.repo()?;
        let tree = repo.find_commit(tip)?.tree()?;
        read_blob(&repo, &tree, path)
    }

    /// Commits `files` (path, new text) on top of `base` (a new branch when `None`) and
    /// pushes that commit to the branch. Only a branch that moved meanwhile is a rejection;
    /// any other failure is an error.
    pub fn commit_and_push(
        &self,
        base: Option<Oid>,
        files: &[(String, String)],
        message: &str,
    ) -> Result<Pushed> {
        let repo = self.repo()?;
        let parent = base.map(|b| repo.find_commit(b)).transpose()?;
        let mut root = parent
            .as_ref()
            .map(|p| p.tree())
            .transpose()?
            .map(|t| t.id());
        for (path, text) in files {
            let blob = repo.blob(text.as_bytes())?;
            let parts: Vec<&str> = path.split('/').collect();
            root = Some(put(&repo, root, &parts, blob)?);
        }
        let tree = repo.find_tree(root.context("nothing to commit to the push log")?)?;
        // The operator's own git identity, as their commits to the repos have.
        let sig = repo
            .signature()
            .or_else(|_| Signature::now("pushduty", "pushduty@localhost"))?;
        let parents: Vec<&git2::Commit> = parent.iter().collect();
        let commit = repo.commit(None, &sig, &sig, message, &tree, &parents)?;
        let refspec = format!("{commit}:refs/heads/{}", self.branch);
        let pushed = net::push_refspec(
            &self.spec,
            &refspec,
            &mut Net::quiet().with_limit(NET_LIMIT),
        );
        match pushed {
            Ok(()) => {
                let _refs = refs_lock();
                self.see(&repo, commit)?;
                Ok(Pushed::Landed(commit))
            }
            Err(e) => {
                // What the branch is now decides: moved on is a rejection, ours is landed
                // (the answer was lost), unchanged is a failure to say.
                let now = self.fetch().with_context(|| format!("{e:#}"))?;
                match now {
                    Some(t) if t == commit => Ok(Pushed::Landed(commit)),
                    t if t != base => Ok(Pushed::Rejected),
                    _ => Err(e.context(format!("writing to {}", self.where_()))),
                }
            }
        }
    }

    /// Makes the branch, holding only the marker; refuses when it is there already.
    pub fn init(&self) -> Result<Oid> {
        if self.fetch()?.is_some() {
            bail!("{} is there already", self.where_());
        }
        let marker = format!(
            "# This branch is a pushduty push log: one folder per push (its journal and \
             report).\n# Written by pushduty only; never force-push it.\nformat = {FORMAT}\n"
        );
        match self.commit_and_push(None, &[(MARKER.to_string(), marker)], "Begin the push log")? {
            Pushed::Landed(c) => Ok(c),
            Pushed::Rejected => bail!("{} was made by someone else meanwhile", self.where_()),
        }
    }
}

/// `tree` (or an empty one) with `blob` at `parts`, subtrees made as needed: the new tree.
fn put(repo: &Repository, tree: Option<Oid>, parts: &[&str], blob: Oid) -> Result<Oid> {
    let tree = tree.map(|t| repo.find_tree(t)).transpose()?;
    let mut b = repo.treebuilder(tree.as_ref())?;
    match parts {
        [] => bail!("an empty path in the push log"),
        [name] => {
            b.insert(name, blob, 0o100644)?;
        }
        [dir, rest @ ..] => {
            let sub = tree
                .as_ref()
                .and_then(|t| t.get_name(dir))
                .filter(|e| e.kind() == Some(ObjectType::Tree))
                .map(|e| e.id());
            let sub = put(repo, sub, rest, blob)?;
            b.insert(dir, sub, 0o040000)?;
        }
    }
    Ok(b.write()?)
}

fn read_blob(repo: &Repository, tree: &git2::Tree, path: &str) -> Result<Option<String>> {
    let Ok(entry) = tree.get_path(Path::new(path)) else {
        return Ok(None);
    };
    let blob = repo
        .find_blob(entry.id())
        .with_context(|| format!("{path} in the push log is not a file"))?;
    Ok(Some(String::from_utf8_lossy(blob.content()).into_owned()))
}

/// `<state dir>/push-logs/<readable name>-<hash>`: one clone per log and branch.
fn clone_dir(state_dir: &Path, url: &str, branch: &str) -> PathBuf {
    let key = format!("{url}#{branch}");
    let readable: String = url
        .rsplit(['/', ':'])
        .find(|s| !s.is_empty())
        .unwrap_or("log")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    state_dir
        .join("push-logs")
        .join(format!("{readable}-{:016x}", fnv1a(key.as_bytes())))
}

/// A hash that stays the same from one build to the next (std's may not).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn git(dir: &Path, args: &[&str]) -> String {
        let out = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    /// A bare repository on a plain path, and a config naming it.
    fn remote(tmp: &Path) -> LogConfig {
        let bare = tmp.join("team.git");
        std::fs::create_dir_all(&bare).unwrap();
        git(&bare, &["init", "--bare", "-q"]);
        LogConfig {
            repo: bare.to_string_lossy().into_owned(),
            branch: None,
        }
    }

    fn file(path: &str, text: &str) -> Vec<(String, String)> {
        vec![(path.to_string(), text.to_string())]
    }

    #[test]
    fn the_second_of_two_writers_on_one_tip_is_rejected_and_sees_the_first() {
        let tmp = tempfile::tempdir().unwrap();
        let cfg = remote(tmp.path());
        let ann = Store::open(&tmp.path().join("ann"), &cfg).unwrap();
        let bob = Store::open(&tmp.path().join("bob"), &cfg).unwrap();
        assert_eq!(ann.fetch().unwrap(), None);
        let first = ann.init().unwrap();
        let tip = bob.fetch().unwrap();
        assert_eq!(tip, Some(first));
        assert_eq!(ann.fetch().unwrap(), Some(first));
        let a = ann
            .commit_and_push(tip, &file("amo/2015-09-10/journal.jsonl", "a\n"), "ann")
            .unwrap();
        let b = bob
            .commit_and_push(tip, &file("amo/2015-09-10/journal.jsonl", "b\n"), "bob")
            .unwrap();
        assert!(matches!(a, Pushed::Landed(_)), "{a:?}");
        assert_eq!(b, Pushed::Rejected);
        let now = bob.fetch().unwrap().unwrap();
        assert_eq!(
            bob.read(now, "amo/2015-09-10/journal.jsonl")
                .unwrap()
                .as_deref(),
            Some("a\n")
        );
        // The marker stays beside the push folders, and nothing but the branch was written.
        assert!(bob.read(now, MARKER).unwrap().is_some());
        let refs = git(
            Path::new(&cfg.repo),
            &["for-each-ref", "--format=%(refname)"],
        );
        assert_eq!(refs, "refs/heads/pushduty-log");
        assert!(
            ann.init()
                .unwrap_err()
                .to_string()
                .contains("is there already")
        );
    }

    #[test]
    fn a_rewound_branch_is_refused_and_the_tip_seen_is_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let cfg = remote(tmp.path());
        let ann = Store::open(&tmp.path().join("ann"), &cfg).unwrap();
        let first = ann.init().unwrap();
        let second = ann
            .commit_and_push(Some(first), &file("x/j", "1\n"), "one")
            .unwrap();
        let Pushed::Landed(second) = second else {
            panic!("{second:?}")
        };
        git(
            Path::new(&cfg.repo),
            &["update-ref", "refs/heads/pushduty-log", &first.to_string()],
        );
        let err = format!("{:#}", ann.fetch().unwrap_err());
        assert!(err.contains("rewound or force-pushed"), "{err}");
        assert!(err.contains(&second.to_string()), "{err}");
        // Refused again on the next look: the tip seen is not moved back.
        assert!(ann.fetch().is_err());
        // A branch deleted outright is refused as well.
        git(
            Path::new(&cfg.repo),
            &["update-ref", "-d", "refs/heads/pushduty-log"],
        );
        let err = format!("{:#}", ann.fetch().unwrap_err());
        assert!(err.contains("is gone"), "{err}");
    }

    #[test]
    fn a_password_in_the_log_url_is_never_said() {
        let tmp = tempfile::tempdir().unwrap();
        let cfg = LogConfig {
            repo: "https://ann:s3cret@127.0.0.1:9/team.git".into(),
            branch: None,
        };
        let s = Store::open(tmp.path(), &cfg).unwrap();
        let said = format!("{} / {:#}", s.shown(), s.fetch().unwrap_err());
        assert!(!said.contains("s3cret"), "{said}");
        assert!(
            said.contains("https://ann:[redacted]@127.0.0.1:9/team.git"),
            "{said}"
        );
    }

    #[test]
    fn a_branch_without_the_marker_is_not_a_push_log() {
        let tmp = tempfile::tempdir().unwrap();
        let cfg = LogConfig {
            branch: Some("main".into()),
            ..remote(tmp.path())
        };
        let work = tmp.path().join("work");
        std::fs::create_dir_all(&work).unwrap();
        git(&work, &["init", "-q", "-b", "main"]);
        std::fs::write(work.join("README"), "code\n").unwrap();
        git(&work, &["add", "README"]);
        git(
            &work,
            &[
                "-c",
                "user.name=a",
                "-c",
                "user.email=a@b",
                "commit",
                "-qm",
                "code",
            ],
        );
        git(&work, &["push", "-q", &cfg.repo, "main"]);
        let s = Store::open(&tmp.path().join("ann"), &cfg).unwrap();
        let err = format!("{:#}", s.fetch().unwrap_err());
        assert!(err.contains("is not a push log"), "{err}");
        assert!(err.contains(MARKER), "{err}");
    }
}
