//! `access-audit merge`: combine reports of several repositories (being built).

use crate::cli::MergeArgs;
use crate::error::Error;

pub fn run(_args: &MergeArgs) -> Result<i32, Error> {
    Err(Error::Usage("not available yet".into()))
}
