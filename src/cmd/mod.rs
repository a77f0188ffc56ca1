//! The commands, one module each (an options struct from [`crate::cli`] and a `run`), every one a
//! thin user of the [`crate::engine`]. [`run`] dispatches a parsed command line; `main.rs` only
//! maps the result to an exit code, so everything here is testable.

pub(crate) mod common;

pub mod check;
pub mod completions;
pub mod explain;
pub mod fix;
pub mod init_helper;
pub mod merge;
pub mod probe;
pub mod report;
pub mod rules;
pub mod scan;

use crate::cli::{Cli, Command};
use crate::error::Error;

pub use rules::check_examples;

/// Run the command; `Ok(code)` is the process exit code. A closed stdout (`| head`) ends the
/// command quietly with exit 2: the output was not all delivered.
pub fn run(mut cli: Cli) -> Result<i32, Error> {
    // `scan -` / `check -`: the file read from stdin, written where the scan can read it; the
    // directory goes when `_stdin` is dropped.
    let _stdin = match &mut cli.command {
        Command::Scan(a) => common::StdinFile::take(&mut a.target)?,
        Command::Report(a) => common::StdinFile::take(&mut a.target)?,
        Command::Check(a) => common::StdinFile::take(&mut a.target)?,
        _ => None,
    };
    let code = match cli.command {
        Command::Scan(args) => scan::run(&args),
        Command::Report(args) => report::run(&args),
        Command::Check(args) => check::run(&args),
        Command::Probe(args) => probe::run(&args),
        Command::InitHelper(args) => init_helper::run(&args),
        Command::Merge(args) => merge::run(&args),
        Command::Rules { command } => rules::run(command),
        Command::Explain { id } => explain::run(id.as_deref()),
        Command::Completions { shell } => completions::completions(shell),
        Command::Man => completions::man(),
    };
    match code {
        Err(Error::StdoutClosed) => Ok(2),
        other => other,
    }
}
