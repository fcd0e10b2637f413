//! Whether a push made production worse: metrics after the push judged against before it
//! and against the same hour a week earlier.

pub mod judge;
