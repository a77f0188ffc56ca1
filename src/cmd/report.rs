//! `report`: the Markdown impact report; with `--probe`, the rollout verification section from
//! live requests to the addresses found.

use crate::cli::{Format, ReportArgs};
use crate::cmd::common::{
    configured_domains, render_and_write, render_report, resolve_date, scan_target, scope_name,
    write_output,
};
use crate::cmd::probe;
use crate::error::Error;
use crate::report::RenderOptions;

/// `access-audit report`.
pub fn run(args: &ReportArgs) -> Result<i32, Error> {
    let (report, rules) = scan_target(&args.target, None, None)?;
    if !args.probe {
        return render_and_write(
            &args.target,
            &report,
            &rules,
            Format::Markdown,
            &args.style,
            false,
        );
    }
    let mut opts = probe::ProbeOptions::new(std::time::Duration::from_secs(10));
    opts.protected = probe::protected_hosts(&args.target, &rules)?;
    let results = probe::probe_report(&report, &rules, &opts, 4);
    let render = RenderOptions {
        group_by: args.style.group_by,
        date: resolve_date(args.style.date.as_deref())?,
        target: scope_name(&args.target),
        domains: configured_domains(&args.target)?,
        width: None,
    };
    let mut out = render_report(&report, &rules, Format::Markdown, &render, false);
    out.push('\n');
    out.push_str(&probe::render_markdown(&results));
    write_output(
        args.target.output.as_deref(),
        &probe::redact_credentials(&out, &rules),
    )?;
    Ok(probe::exit_code(&results))
}
