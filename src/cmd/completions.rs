//! `completions SHELL` (clap_complete) and `man` (clap_mangen): generated from the command line
//! definition, so they never drift from `--help`.

use crate::cmd::common::write_output;
use crate::error::Error;

/// `access-audit completions SHELL`.
pub fn completions(shell: clap_complete::Shell) -> Result<i32, Error> {
    let mut cmd = crate::cli::command_with_version();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "access-audit", &mut out);
    write_output(None, &String::from_utf8_lossy(&out))?;
    Ok(0)
}

/// `access-audit man`.
pub fn man() -> Result<i32, Error> {
    let mut out = Vec::new();
    clap_mangen::Man::new(crate::cli::command_with_version())
        .render(&mut out)
        .map_err(|e| Error::Usage(format!("cannot render the man page: {e}")))?;
    write_output(None, &String::from_utf8_lossy(&out))?;
    Ok(0)
}
