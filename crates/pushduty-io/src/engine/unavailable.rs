//! A kind that cannot run here fails plainly, saying why; it never pretends success.

use anyhow::{Result, bail};

use super::{Executor, Job};
use crate::runbook::model::Outputs;

pub struct Unavailable {
    pub kind: &'static str,
    pub why: &'static str,
}

impl Executor for Unavailable {
    fn run(&self, _job: &Job) -> Result<Outputs> {
        bail!("`{}` steps cannot run here: {}", self.kind, self.why)
    }
}
