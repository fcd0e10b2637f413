//! Fixture code shared by the git tests.

pub mod gitrepo;
