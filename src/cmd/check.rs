//! `check`: the CI gate. Scans (the whole project, reporting only the named files when pre-commit
//! passes some), evaluates the gate against the baseline, applies `--fix`, and writes the result
//! in the asked format. Exit 0 without active error-level violations, 1 with, 2 on errors.

use crate::cli::{CheckArgs, CheckFormat, ScanTarget};
use crate::cmd::common::{config_start, fs_path, scan_target_with, wants_color, write_output};
use crate::config;
use crate::error::Error;
use crate::gate::{self, Baseline, GateResult};
use crate::git;
use crate::report;
use crate::report::printer::{self, Printer};

/// `check`: the CI gate. Exit 0 without active error-level violations, 1 with, 2 on errors.
pub fn run(args: &CheckArgs) -> Result<i32, Error> {
    let t = &args.target;
    let first = t.paths.first().cloned().unwrap_or_else(|| ".".into());
    let cfg = match (&args.config, args.no_config) {
        (_, true) => config::Config::default(),
        (Some(file), _) => config::load(file)?,
        (None, false) => config::discover(&config_start(t))?,
    };
    let overrides = config::Overrides {
        select: args.select.clone(),
        ignore: args.ignore.clone(),
        strict: args.strict,
        severity: args.severity.clone(),
    };
    let gate_cfg = config::gate_config(&cfg, &overrides)?;
    if gate_cfg.enabled.is_empty() {
        eprintln!("access-audit: warning: no check is enabled (`select = []`, or every check ignored): the gate checks nothing");
    }
    let files_mode = files_in_cwd(t);
    let only = match (&args.changed_since, &files_mode) {
        (Some(r), _) => Some(git::changed_since(&first, r)?),
        (None, Some((_, files))) => Some(files.clone()),
        (None, None) => None,
    };
    let t = files_mode.as_ref().map_or(t, |(whole, _)| whole);
    let domains = config::protected_domains(&t.domains, &cfg);
    let (report, rules) =
        scan_target_with(t, cfg.settings.rules.as_deref(), only.clone(), &domains)?;
    let baseline_path = args.baseline.clone().or_else(|| {
        if args.write_baseline.is_some() {
            None
        } else {
            cfg.settings.baseline.clone()
        }
    });
    let baseline = match &baseline_path {
        Some(p) if args.baseline.is_some() || p.exists() => Some(Baseline::read(p)?),
        _ => None,
    };
    if let Some(n) = baseline
        .as_ref()
        .map(Baseline::stale_entries)
        .filter(|n| *n > 0)
    {
        eprintln!("access-audit: warning: the baseline is version 1: its {n} hardcoded-secret entr{} recorded without a hash of the value and no longer match; write it again with --write-baseline", if n == 1 { "y was" } else { "ies were" });
    }
    // The gate does not pass what it did not read.
    let unread: Vec<&crate::engine::finding::Diagnostic> =
        report.diagnostics.iter().filter(|d| unread(d)).collect();
    let incomplete = if report.summary.files_scanned == 0 && args.changed_since.is_none() {
        eprintln!("access-audit: warning: 0 files scanned: nothing was checked (wrong path, or every file ignored or skipped)");
        true
    } else if !unread.is_empty() && !args.allow_skipped {
        let names: Vec<String> = unread
            .iter()
            .take(5)
            .map(|d| report::escape_control(&d.path).into_owned())
            .collect();
        eprintln!(
            "access-audit: error: {} file(s) could not be read or were skipped, so the gate did not check them ({}{}); fix them, or pass --allow-skipped to accept this",
            unread.len(),
            names.join(", "),
            if unread.len() > 5 { ", …" } else { "" }
        );
        true
    } else {
        false
    };
    let mut result = gate::evaluate_with_rules(&report, &gate_cfg, baseline.as_ref(), &rules);
    let mut fix_refused = false;
    if let Some(mode) = crate::cmd::fix::FixMode::from_flags(args.fix, args.diff, args.dry_run) {
        let hashes = &report.context.hashes;
        let summary =
            crate::cmd::fix::apply_with(&result, &t.paths, Some(rules.primary()), hashes, mode);
        for note in summary.notes() {
            eprintln!("access-audit: {note}");
        }
        fix_refused = !summary.refused.is_empty();
        if mode == crate::cmd::fix::FixMode::Diff {
            write_output(t.output.as_deref(), &summary.diff)?;
            return Ok(if fix_refused {
                2
            } else {
                i32::from(summary.fixed > 0)
            });
        }
        if mode == crate::cmd::fix::FixMode::Write && summary.fixed > 0 {
            let (report, rules) =
                scan_target_with(t, cfg.settings.rules.as_deref(), only, &domains)?;
            result = gate::evaluate_with_rules(&report, &gate_cfg, baseline.as_ref(), &rules);
        }
    }
    if let Some(path) = &args.write_baseline {
        let b = Baseline::from_result(&result);
        std::fs::write(path, b.to_json()).map_err(|e| Error::output(path.display(), e))?;
        eprintln!(
            "access-audit: wrote {} violation(s) to {}",
            b.violations.len(),
            path.display()
        );
        return Ok(0);
    }
    let roots = t.paths.clone();
    let source = move |display: &str| std::fs::read_to_string(fs_path(&roots, display)).ok();
    let printer: Box<dyn Printer<GateResult>> = match args.format {
        CheckFormat::Human => Box::new(printer::Human {
            source: &source,
            color: wants_color(args.color, t.output.is_none()),
        }),
        CheckFormat::Json => Box::new(printer::Json),
        CheckFormat::Sarif => Box::new(printer::Sarif {
            source: &source,
            version: env!("CARGO_PKG_VERSION"),
        }),
        CheckFormat::Github => Box::new(printer::Github { source: &source }),
        CheckFormat::Markdown => Box::new(printer::CheckMarkdown),
    };
    let out = printer.print(&result);
    write_output(t.output.as_deref(), &out)?;
    // A file `--fix` refused (changed since the scan, not writable), or a file the gate could
    // not read, is an error, not a pass.
    Ok(if fix_refused || incomplete {
        2
    } else {
        i32::from(result.fails())
    })
}

/// Did the scan leave this file unread (unreadable, skipped, or crashed)? A symbolic link is not
/// followed by design and does not count (its target is scanned where it lies in the tree).
pub(crate) fn unread(d: &crate::engine::finding::Diagnostic) -> bool {
    let m = d.message.as_str();
    m.starts_with("cannot read")
        || m.starts_with("internal error")
        || (m.starts_with("skipped:") && !m.contains("symbolic link"))
}

/// `check a/b.py c/d.env` as pre-commit runs it (relative files below the current directory): scan
/// the current directory, reporting only those files, so paths stay relative to it (the repository
/// root) and the project's `.env` / YAML values still reach the code. `None` otherwise.
pub(crate) fn files_in_cwd(
    t: &ScanTarget,
) -> Option<(ScanTarget, std::collections::HashSet<std::path::PathBuf>)> {
    let plain = |p: &std::path::PathBuf| {
        // A symbolic link named on the command line is not followed into the tree.
        p.is_relative()
            && p.is_file()
            && !p.is_symlink()
            && p.components().all(|c| {
                matches!(
                    c,
                    std::path::Component::Normal(_) | std::path::Component::CurDir
                )
            })
    };
    if t.stdin_filename.is_some() || t.paths.is_empty() || !t.paths.iter().all(plain) {
        return None;
    }
    let files = t
        .paths
        .iter()
        .map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()))
        .collect();
    let mut whole = t.clone();
    whole.paths = vec![".".into()];
    Some((whole, files))
}
