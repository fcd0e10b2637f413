//! Git: release tags, repository state, and the steps that write. The local repository is read
//! and written through libgit2; the network (ls-remote, fetch, push) through the operator's own
//! `git` ([`net`]).
//!
//! Every function takes the [`RepoSpec`] of the repository it works on; nothing is global, so a
//! push that spans several repositories just calls each step once per spec. Write steps check
//! first and are safe to repeat; each has a `preview` giving the equivalent `git` command lines.

pub mod cherry_pick;
pub mod compare;
pub mod fetch;
pub mod net;
pub mod pick_review;
pub mod precheck;
pub mod push;
pub mod quiet_fetch;
pub mod setup;
pub mod spec;
pub mod state;
pub mod tag;
pub mod tags;
pub mod unshipped;

pub use net::Net;
pub use spec::RepoSpec;
