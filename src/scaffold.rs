//! `access-audit init-helper`: write the token helper (being built).

use crate::cli::InitHelperArgs;
use crate::error::Error;

pub fn run(_args: &InitHelperArgs) -> Result<i32, Error> {
    Err(Error::Usage("not available yet".into()))
}
