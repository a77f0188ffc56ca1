//! `scan`: find every use of the service and print it (table, Markdown or JSON).

use crate::cli::ScanArgs;
use crate::cmd::common::{render_and_write, scan_target, wants_color};
use crate::error::Error;

/// `access-audit scan`.
pub fn run(args: &ScanArgs) -> Result<i32, Error> {
    let color = wants_color(args.color, args.target.output.is_none());
    let (report, rules) = scan_target(&args.target, None, None)?;
    render_and_write(
        &args.target,
        &report,
        &rules,
        args.format,
        &args.style,
        color,
    )
}
