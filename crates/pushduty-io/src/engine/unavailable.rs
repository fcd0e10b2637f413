//! Kinds whose executor is not in this build yet: they fail plainly, never pretend success.

use anyhow::{Result, bail};

use super::{Executor, Job};
use crate::runbook::model::Outputs;

pub struct Unavailable(pub &'static str);

impl Executor for Unavailable {
    fn run(&self, _job: &Job) -> Result<Outputs> {
        bail!("`{}` steps are not available in this build yet", self.0)
    }
}
