//! The Matrix stand-in lives in the crate, shared with `pushduty rehearse`.
#![allow(unused_imports)]

pub use pushduty::standins::matrix::*;
