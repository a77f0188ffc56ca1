//! Runs a parsed command line: builds the options, scans, renders and writes the output. `main.rs`
//! only maps the result to an exit code, so everything here is testable.

use std::io::{IsTerminal, Write};
use std::path::Path;

use crate::classify::Group;
use crate::cli::{
    CheckArgs, CheckFormat, Cli, Color, Command, Format, ReportStyle, RulesCommand, ScanTarget,
};
use crate::config;
use crate::error::Error;
use crate::finding::{Language, Report};
use crate::gate::{self, Baseline, Check};
use crate::git;
use crate::report::{self, RenderOptions};
use crate::rules::{self, RuleSet};
use crate::scan::{self, ScanOptions};
use crate::walk::WalkOptions;

/// Run the command; `Ok(code)` is the process exit code. A closed stdout (`| head`) ends the
/// command quietly with exit 2: the output was not all delivered.
pub fn run(mut cli: Cli) -> Result<i32, Error> {
    // `scan -` / `check -`: the file read from stdin, written where the scan can read it; the
    // directory goes when `_stdin` is dropped.
    let _stdin = match &mut cli.command {
        Command::Scan(a) => StdinFile::take(&mut a.target)?,
        Command::Report(a) => StdinFile::take(&mut a.target)?,
        Command::Check(a) => StdinFile::take(&mut a.target)?,
        _ => None,
    };
    match run_command(cli) {
        Err(Error::StdoutClosed) => Ok(2),
        other => other,
    }
}

fn run_command(cli: Cli) -> Result<i32, Error> {
    match cli.command {
        Command::Scan(args) => {
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
        Command::Report(args) => {
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
            // `--probe`: the rollout verification section, from live requests.
            let mut opts = crate::probe::ProbeOptions::new(std::time::Duration::from_secs(10));
            opts.protected = crate::probe::protected_hosts(&args.target, &rules)?;
            let results = crate::probe::probe_report(&report, &rules, &opts, 4);
            let render = RenderOptions {
                group_by: args.style.group_by,
                date: resolve_date(args.style.date.as_deref())?,
                target: scope_name(&args.target),
                domains: configured_domains(&args.target)?,
                width: None,
            };
            let mut out = render_report(&report, &rules, Format::Markdown, &render, false);
            out.push('\n');
            out.push_str(&crate::probe::render_markdown(&results));
            write_output(
                args.target.output.as_deref(),
                &crate::probe::redact_credentials(&out, &rules),
            )?;
            Ok(crate::probe::exit_code(&results))
        }
        Command::Check(args) => check(&args),
        Command::Probe(args) => crate::probe::run(&args),
        Command::InitHelper(args) => crate::scaffold::run(&args),
        Command::Merge(args) => crate::merge::run(&args),
        Command::Rules { command } => rules_command(command),
        Command::Explain { id } => {
            let text = explain(id.as_deref())?;
            write_output(None, &text)?;
            Ok(0)
        }
        Command::Completions { shell } => {
            let mut cmd = crate::cli::command_with_version();
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut cmd, "access-audit", &mut out);
            write_output(None, &String::from_utf8_lossy(&out))?;
            Ok(0)
        }
        Command::Man => {
            let mut out = Vec::new();
            clap_mangen::Man::new(crate::cli::command_with_version())
                .render(&mut out)
                .map_err(|e| Error::Usage(format!("cannot render the man page: {e}")))?;
            write_output(None, &String::from_utf8_lossy(&out))?;
            Ok(0)
        }
    }
}

/// One file read from stdin (`PATH` `-`), written under a fresh temporary directory at its
/// `--stdin-filename` (relative form), so findings carry that path.
struct StdinFile {
    dir: std::path::PathBuf,
}

impl StdinFile {
    /// With `-` among the paths: read stdin, write it, and point the target at it.
    fn take(t: &mut ScanTarget) -> Result<Option<StdinFile>, Error> {
        if !t.paths.iter().any(|p| p.as_os_str() == "-") {
            if t.stdin_filename.is_some() {
                return Err(Error::Usage(
                    "--stdin-filename only applies with PATH `-` (read the file from stdin)".into(),
                ));
            }
            return Ok(None);
        }
        if t.paths.len() > 1 {
            return Err(Error::Usage(
                "PATH `-` (stdin) cannot be combined with other paths".into(),
            ));
        }
        let Some(name) = t.stdin_filename.clone() else {
            return Err(Error::Usage(
                "PATH `-` reads one file from stdin: pass --stdin-filename PATH too (it picks the language)".into(),
            ));
        };
        let rel = display_relative(&name);
        if rel.as_os_str().is_empty() {
            return Err(Error::Usage(format!(
                "--stdin-filename `{}`: expected a file path",
                name.display()
            )));
        }
        let mut text = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut text).map_err(|e| {
            Error::UnreadablePath {
                path: "-".into(),
                message: e.to_string(),
            }
        })?;
        let dir = std::env::temp_dir().join(format!(
            "access-audit-stdin-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        let file = dir.join(&rel);
        let written = std::fs::create_dir_all(file.parent().unwrap_or(&dir))
            .and_then(|()| std::fs::write(&file, &text));
        let guard = StdinFile { dir: dir.clone() };
        written.map_err(|e| Error::Output {
            path: file.display().to_string(),
            message: e.to_string(),
        })?;
        t.paths = vec![dir];
        Ok(Some(guard))
    }
}

impl Drop for StdinFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `--stdin-filename` as the path shown in the output: relative to the current directory when it
/// is inside it (`..` and the root dropped), else the file name alone.
fn display_relative(name: &Path) -> std::path::PathBuf {
    let cwd = std::env::current_dir().unwrap_or_default();
    let rel = match name.strip_prefix(&cwd) {
        Ok(r) => r,
        Err(_) if name.is_absolute() => Path::new(name.file_name().unwrap_or_default()),
        Err(_) => name,
    };
    rel.components()
        .filter_map(|c| match c {
            std::path::Component::Normal(s) => Some(s),
            _ => None,
        })
        .collect()
}

/// The path config discovery starts from: the first PATH, or the stdin file's real location.
fn config_start(t: &ScanTarget) -> std::path::PathBuf {
    match &t.stdin_filename {
        Some(name) => name.clone(),
        None => t.paths.first().cloned().unwrap_or_else(|| ".".into()),
    }
}

/// What the report calls the scanned target: the paths, or the stdin file's name.
fn scope_name(t: &ScanTarget) -> String {
    match &t.stdin_filename {
        Some(name) => display_relative(name).display().to_string(),
        None => target_name(&t.paths),
    }
}

fn wants_color(choice: Color, to_stdout: bool) -> bool {
    match choice {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => {
            to_stdout && std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
        }
    }
}

/// Scan what the command line names; `rules_dir` / `only` come from the config and git.
pub(crate) fn scan_target(
    t: &ScanTarget,
    rules_dir: Option<&Path>,
    only: Option<std::collections::HashSet<std::path::PathBuf>>,
) -> Result<(Report, RuleSet), Error> {
    scan_target_with(t, rules_dir, only, &configured_domains(t)?)
}

/// [`scan_target`] with the protected domains already worked out (`check` reads its own config).
fn scan_target_with(
    t: &ScanTarget,
    rules_dir: Option<&Path>,
    only: Option<std::collections::HashSet<std::path::PathBuf>>,
    domains: &[String],
) -> Result<(Report, RuleSet), Error> {
    let mut rules = RuleSet::load(t.rules.as_deref().or(rules_dir))?;
    if !t.quiet {
        for note in replaced_services(&rules) {
            eprintln!("access-audit: note: {note}");
        }
    }
    if let Some(ids) = &t.service {
        rules.select(ids)?;
    }
    let threads = capped_threads(t.threads, t.quiet);
    rules.protect_domains(domains);
    let opts = ScanOptions {
        paths: t.paths.clone(),
        walk: WalkOptions {
            max_file_size: t.max_file_size,
            threads,
            respect_ignore: !t.no_ignore,
        },
        threads,
        only,
        progress: match t.progress {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => std::io::stderr().is_terminal(),
        },
    };
    let report = scan::scan(&opts, &rules)?;
    if !t.quiet {
        for d in &report.diagnostics {
            eprintln!(
                "access-audit: {}: {}",
                report::escape_control(&d.path),
                report::escape_control(&crate::secrets::mask_line(&d.message))
            );
        }
    }
    Ok((report, rules))
}

/// At most this many worker threads per core: more only costs memory and scheduling.
const THREADS_PER_CORE: usize = 4;

/// `-j N`, capped at [`THREADS_PER_CORE`] × the cores (with a note); 0 stays "one per core".
fn capped_threads(asked: usize, quiet: bool) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cap = cores * THREADS_PER_CORE;
    if asked > cap {
        if !quiet {
            eprintln!(
                "access-audit: note: -j {asked} capped at {cap} threads ({THREADS_PER_CORE} per core, {cores} core(s))"
            );
        }
        cap
    } else {
        asked
    }
}

/// A note per rule file that replaces a built-in service (same `service.id`).
fn replaced_services(rules: &RuleSet) -> Vec<String> {
    let builtin: Vec<(String, String)> = rules::EMBEDDED
        .iter()
        .filter_map(|(name, text)| {
            let id = toml::from_str::<toml::Value>(text)
                .ok()?
                .get("service")?
                .get("id")?
                .as_str()?
                .to_string();
            Some((id, format!("rules/{name}")))
        })
        .collect();
    rules
        .available
        .iter()
        .filter_map(|s| {
            builtin
                .iter()
                .find(|(id, source)| *id == s.id && *source != s.source)
                .map(|_| {
                    format!(
                        "{} replaces the built-in `{}` service (same service id)",
                        s.source, s.id
                    )
                })
        })
        .collect()
}

/// Did the scan leave this file unread (unreadable, skipped, or crashed)? A symbolic link is not
/// followed by design and does not count (its target is scanned where it lies in the tree).
fn unread(d: &crate::finding::Diagnostic) -> bool {
    let m = d.message.as_str();
    m.starts_with("cannot read")
        || m.starts_with("internal error")
        || (m.starts_with("skipped:") && !m.contains("symbolic link"))
}

/// The width the table must fit: `COLUMNS` when set (piped output too), else the terminal's when
/// stdout is one; `None` (a fixed default) otherwise.
fn table_width(to_stdout: bool) -> Option<usize> {
    let columns = std::env::var("COLUMNS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&c| c > 0);
    columns.or_else(|| {
        (to_stdout && std::io::stdout().is_terminal())
            .then(|| comfy_table::Table::new().width().map(usize::from))
            .flatten()
    })
}

/// The protected domains for `scan` / `report`: `--domain`, then `protected-domains` of the config
/// file discovered from the first PATH.
fn configured_domains(t: &ScanTarget) -> Result<Vec<String>, Error> {
    let cfg = config::discover(&config_start(t))?;
    Ok(config::protected_domains(&t.domains, &cfg))
}

fn render_and_write(
    t: &ScanTarget,
    report: &Report,
    rules: &RuleSet,
    format: Format,
    style: &ReportStyle,
    color: bool,
) -> Result<i32, Error> {
    let render = RenderOptions {
        group_by: style.group_by,
        date: resolve_date(style.date.as_deref())?,
        target: scope_name(t),
        domains: configured_domains(t)?,
        width: table_width(t.output.is_none()),
    };
    if format == Format::Json {
        let written = match t.output.as_deref() {
            None => report::json::write(report, std::io::stdout().lock()),
            Some(p) => std::fs::File::create(p).and_then(|f| report::json::write(report, f)),
        };
        return match written {
            Ok(()) => Ok(0),
            Err(e) => Err(output_error(t.output.as_deref(), &e)),
        };
    }
    let out = render_report(report, rules, format, &render, color);
    write_output(t.output.as_deref(), &out)?;
    Ok(0)
}

/// `check`: the CI gate. Exit 0 without active error-level violations, 1 with, 2 on errors.
fn check(args: &CheckArgs) -> Result<i32, Error> {
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
    let unread: Vec<&crate::finding::Diagnostic> =
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
    if let Some(mode) = crate::fix::FixMode::from_flags(args.fix, args.diff, args.dry_run) {
        let hashes = &report.context.hashes;
        let summary =
            crate::fix::apply_with(&result, &t.paths, Some(rules.primary()), hashes, mode);
        for note in summary.notes() {
            eprintln!("access-audit: {note}");
        }
        fix_refused = !summary.refused.is_empty();
        if mode == crate::fix::FixMode::Diff {
            write_output(t.output.as_deref(), &summary.diff)?;
            return Ok(if fix_refused {
                2
            } else {
                i32::from(summary.fixed > 0)
            });
        }
        if mode == crate::fix::FixMode::Write && summary.fixed > 0 {
            let (report, rules) =
                scan_target_with(t, cfg.settings.rules.as_deref(), only, &domains)?;
            result = gate::evaluate_with_rules(&report, &gate_cfg, baseline.as_ref(), &rules);
        }
    }
    if let Some(path) = &args.write_baseline {
        let b = Baseline::from_result(&result);
        std::fs::write(path, b.to_json()).map_err(|e| Error::Output {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        eprintln!(
            "access-audit: wrote {} violation(s) to {}",
            b.violations.len(),
            path.display()
        );
        return Ok(0);
    }
    let out = match args.format {
        CheckFormat::Human => {
            let roots = t.paths.clone();
            let source =
                move |display: &str| std::fs::read_to_string(fs_path(&roots, display)).ok();
            report::human::render(
                &result,
                &source,
                wants_color(args.color, t.output.is_none()),
            )
        }
        CheckFormat::Json => report::json::render_gate(&result),
        CheckFormat::Sarif => {
            // Notebooks: SARIF points at the raw `.ipynb` line, where code scanning shows it.
            let roots = t.paths.clone();
            let source =
                move |display: &str| std::fs::read_to_string(fs_path(&roots, display)).ok();
            let raw = report::with_raw_notebook_lines(&result, &source);
            report::sarif::render(&raw, env!("CARGO_PKG_VERSION"))
        }
        CheckFormat::Github => {
            let roots = t.paths.clone();
            report::github::render_with(&result, &|v| {
                let text = std::fs::read_to_string(fs_path(&roots, &v.path)).ok()?;
                report::notebook_raw_position(&text, v.cell?, v.line, v.column)
            })
        }
        CheckFormat::Markdown => report::markdown::render_gate(&result),
    };
    write_output(t.output.as_deref(), &out)?;
    // A file `--fix` refused (changed since the scan, not writable), or a file the gate could
    // not read, is an error, not a pass.
    Ok(if fix_refused || incomplete {
        2
    } else {
        i32::from(result.fails())
    })
}

/// `check a/b.py c/d.env` as pre-commit runs it (relative files below the current directory): scan
/// the current directory, reporting only those files, so paths stay relative to it (the repository
/// root) and the project's `.env` / YAML values still reach the code. `None` otherwise.
fn files_in_cwd(
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

/// The file behind a report path (paths are relative to the single root, or prefixed by the root).
fn fs_path(roots: &[std::path::PathBuf], display: &str) -> std::path::PathBuf {
    match roots {
        [root] if root.is_dir() => root.join(display),
        [root] => root.parent().unwrap_or(Path::new(".")).join(display),
        _ => display.into(),
    }
}

/// Render a report in a format.
pub fn render_report(
    report: &Report,
    rules: &RuleSet,
    format: Format,
    opts: &RenderOptions,
    color: bool,
) -> String {
    match format {
        Format::Table => report::table::render(report, opts, color),
        Format::Markdown => report::markdown::render(report, rules, opts),
        Format::Json => report::json::render(report),
    }
}

fn target_name(paths: &[std::path::PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn resolve_date(date: Option<&str>) -> Result<Option<String>, Error> {
    match date {
        None => Ok(None),
        Some("today") => Ok(Some(today())),
        Some(d) => {
            let ok = d.len() == 10
                && d.chars().enumerate().all(|(i, c)| {
                    if i == 4 || i == 7 {
                        c == '-'
                    } else {
                        c.is_ascii_digit()
                    }
                });
            let month: u32 = d.get(5..7).and_then(|m| m.parse().ok()).unwrap_or(0);
            let day: u32 = d.get(8..10).and_then(|m| m.parse().ok()).unwrap_or(0);
            if ok && (1..=12).contains(&month) && (1..=31).contains(&day) {
                Ok(Some(d.to_string()))
            } else {
                Err(Error::Usage(format!(
                    "--date `{d}`: expected `today` or YYYY-MM-DD"
                )))
            }
        }
    }
}

/// Today's date (UTC) as YYYY-MM-DD, from the system clock.
fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = (secs / 86_400) as i64;
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

pub(crate) fn write_output(path: Option<&Path>, text: &str) -> Result<(), Error> {
    let written = match path {
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes()).and_then(|()| out.flush())
        }
        Some(p) => std::fs::write(p, text),
    };
    written.map_err(|e| output_error(path, &e))
}

/// A failed write: a closed stdout (`| head`) ends quietly, a full disk or an unwritable file is
/// an error that names it. Either way the exit code is 2, never 0.
fn output_error(path: Option<&Path>, e: &std::io::Error) -> Error {
    match path {
        None if e.kind() == std::io::ErrorKind::BrokenPipe => Error::StdoutClosed,
        None => Error::Output {
            path: "stdout".into(),
            message: e.to_string(),
        },
        Some(p) => Error::Output {
            path: p.display().to_string(),
            message: e.to_string(),
        },
    }
}

fn rules_command(cmd: RulesCommand) -> Result<i32, Error> {
    match cmd {
        RulesCommand::List { rules } => {
            let set = RuleSet::load(rules.as_deref())?;
            for s in &set.available {
                let state = if set.is_enabled(&s.id) {
                    "enabled".to_string()
                } else {
                    format!("off by default: --service {}", s.id)
                };
                println!("{} ({}) [{state}] — {}", s.id, s.name, s.source);
                println!(
                    "  ports:    {}",
                    s.ports
                        .iter()
                        .map(|p| p.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                println!("  hosts:    {}", s.hosts.join(", "));
                println!("  domains:  {}", s.domains.join(", "));
                println!("  paths:    {}", s.paths.join(", "));
                println!("  headers:  {}", s.access.headers.join(", "));
                println!("  token env: {}", s.access.token_env.join(", "));
                println!(
                    "  helpers:  {}",
                    s.helpers
                        .files
                        .iter()
                        .chain(&s.helpers.modules)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            Ok(0)
        }
        RulesCommand::Validate { dir } => {
            let has_files = std::fs::read_dir(&dir)
                .map_err(|e| Error::Rules {
                    file: dir.display().to_string(),
                    message: format!("cannot read rules directory: {e}"),
                })?
                .filter_map(Result::ok)
                .any(|e| e.path().extension().is_some_and(|x| x == "toml"));
            if !has_files {
                return Err(Error::Rules {
                    file: dir.display().to_string(),
                    message: "no `*.toml` rule files in this directory".into(),
                });
            }
            let mut set = RuleSet::load(Some(&dir))?;
            set.select(&["all".to_string()])?; // examples run with their service enabled
            let mut failures = 0;
            let mut checked = 0;
            for s in set.services.iter().filter(|s| {
                !rules::EMBEDDED.iter().any(|(n, _)| s.source.ends_with(n))
                    || s.source.starts_with(&dir.display().to_string())
            }) {
                for (i, problem) in check_examples(s, &set) {
                    failures += 1;
                    eprintln!("{}: example {}: {problem}", s.source, i + 1);
                }
                checked += 1;
            }
            if failures > 0 {
                return Err(Error::Rules {
                    file: dir.display().to_string(),
                    message: format!("{failures} example(s) do not behave as declared"),
                });
            }
            println!("{checked} rule file(s) valid, every example behaves as declared");
            Ok(0)
        }
    }
}

/// Run a service's own examples through the scanner; returns (example index, problem).
pub fn check_examples(svc: &rules::Service, set: &RuleSet) -> Vec<(usize, String)> {
    let mut problems = Vec::new();
    for (i, ex) in svc.examples.iter().enumerate() {
        let language = if ex.language == "rust" {
            Language::Rust
        } else {
            Language::Python
        };
        let path = if language == Language::Rust {
            "example.rs"
        } else {
            "example.py"
        };
        let (findings, _) = scan::analyze(&ex.code, language, path, set, None);
        let mine: Vec<_> = findings.iter().filter(|f| f.service == svc.id).collect();
        if ex.negative {
            if let Some(f) = mine.first() {
                problems.push((
                    i,
                    format!(
                        "negative example produced a finding: {:?} at line {}",
                        f.url, f.line
                    ),
                ));
            }
            continue;
        }
        let want = ex.group.as_deref().unwrap_or("");
        match mine.iter().find(|f| f.group.as_str() == want) {
            None => problems.push((
                i,
                format!(
                    "expected a `{want}` finding, got {:?}",
                    mine.iter().map(|f| f.group.as_str()).collect::<Vec<_>>()
                ),
            )),
            Some(f) => {
                if let Some(t) = ex.tokenized {
                    if f.tokenized != t {
                        problems
                            .push((i, format!("expected tokenized = {t}, got {}", f.tokenized)));
                    }
                }
            }
        }
    }
    problems
}

/// `explain`: what a check or a group means, and what to do about it.
pub fn explain(id: Option<&str>) -> Result<String, Error> {
    match id {
        None => {
            let mut s = String::from("Checks (access-audit check; explain <id> for details):\n");
            for c in Check::ALL {
                let off = if c.enabled_by_default() {
                    ""
                } else {
                    " (off by default)"
                };
                s.push_str(&format!("  {:<20} {}{off}\n", c.id(), c.summary()));
            }
            s.push_str("\nGroups (access-audit scan):\n");
            for g in Group::ALL {
                s.push_str(&format!("  {:<20} {}\n", g.as_str(), g.summary()));
            }
            Ok(s)
        }
        Some(id) => {
            if let Some(c) = Check::from_id(id) {
                return Ok(format!("{}\n\n{}", c.id(), c.doc()));
            }
            Group::ALL
                .into_iter()
                .find(|g| g.as_str() == id)
                .map(|g| format!("{}\n\n{}\n", g.as_str(), g.doc()))
                .ok_or_else(|| {
                    Error::Usage(format!(
                        "unknown id `{id}`; run `access-audit explain` for the list"
                    ))
                })
        }
    }
}
