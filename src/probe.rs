//! `access-audit probe`: verify the rollout live (being built).

use crate::cli::ProbeArgs;
use crate::error::Error;

pub fn run(_args: &ProbeArgs) -> Result<i32, Error> {
    Err(Error::Usage("not available yet".into()))
}
