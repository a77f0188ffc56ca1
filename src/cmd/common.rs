//! What the commands share: scanning the target a command line names (rules, config, protected
//! domains, threads), rendering a report in a format, and writing output (a closed stdout ends
//! quietly; a failed write is an error that names the file); `scan -` / `check -` stdin files.

use std::io::{IsTerminal, Write};
use std::path::Path;

use crate::cli::{Color, Format, ReportStyle, ScanTarget};
use crate::config;
use crate::engine::finding::Report;
use crate::engine::scan::{self, ScanOptions};
use crate::engine::walk::WalkOptions;
use crate::error::Error;
use crate::report::printer::{self, Printer};
use crate::report::{self, RenderOptions};
use crate::rules::{self, RuleSet};

/// One file read from stdin (`PATH` `-`), written under a fresh temporary directory at its
/// `--stdin-filename` (relative form), so findings carry that path.
pub(crate) struct StdinFile {
    dir: std::path::PathBuf,
}

impl StdinFile {
    /// With `-` among the paths: read stdin, write it, and point the target at it.
    pub(crate) fn take(t: &mut ScanTarget) -> Result<Option<StdinFile>, Error> {
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
                source: Some(e.into()),
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
        written.map_err(|e| Error::output(file.display(), e))?;
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
pub(crate) fn display_relative(name: &Path) -> std::path::PathBuf {
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
pub(crate) fn config_start(t: &ScanTarget) -> std::path::PathBuf {
    match &t.stdin_filename {
        Some(name) => name.clone(),
        None => t.paths.first().cloned().unwrap_or_else(|| ".".into()),
    }
}

/// What the report calls the scanned target: the paths, or the stdin file's name.
pub(crate) fn scope_name(t: &ScanTarget) -> String {
    match &t.stdin_filename {
        Some(name) => display_relative(name).display().to_string(),
        None => target_name(&t.paths),
    }
}

pub(crate) fn wants_color(choice: Color, to_stdout: bool) -> bool {
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
pub(crate) fn scan_target_with(
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
        ..ScanOptions::default()
    };
    let report = scan::scan(&opts, &rules)?;
    if !t.quiet {
        for d in &report.diagnostics {
            eprintln!(
                "access-audit: {}: {}",
                report::escape_control(&d.path),
                report::escape_control(&crate::engine::secrets::mask_line(&d.message))
            );
        }
    }
    Ok((report, rules))
}

/// At most this many worker threads per core: more only costs memory and scheduling.
pub(crate) const THREADS_PER_CORE: usize = 4;

/// `-j N`, capped at [`THREADS_PER_CORE`] × the cores (with a note); 0 stays "one per core".
pub(crate) fn capped_threads(asked: usize, quiet: bool) -> usize {
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
pub(crate) fn replaced_services(rules: &RuleSet) -> Vec<String> {
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

/// The width the table must fit: `COLUMNS` when set (piped output too), else the terminal's when
/// stdout is one; `None` (a fixed default) otherwise.
pub(crate) fn table_width(to_stdout: bool) -> Option<usize> {
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
pub(crate) fn configured_domains(t: &ScanTarget) -> Result<Vec<String>, Error> {
    let cfg = config::discover(&config_start(t))?;
    Ok(config::protected_domains(&t.domains, &cfg))
}

pub(crate) fn render_and_write(
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
    let printer = report_printer(format, rules, &render, color);
    let written = match t.output.as_deref() {
        None => printer.write(report, &mut std::io::stdout().lock()),
        Some(p) => std::fs::File::create(p).and_then(|mut f| printer.write(report, &mut f)),
    };
    written.map_err(|e| output_error(t.output.as_deref(), &e))?;
    Ok(0)
}

/// The file behind a report path (paths are relative to the single root, or prefixed by the root).
pub(crate) fn fs_path(roots: &[std::path::PathBuf], display: &str) -> std::path::PathBuf {
    match roots {
        [root] if root.is_dir() => root.join(display),
        [root] => root.parent().unwrap_or(Path::new(".")).join(display),
        _ => display.into(),
    }
}

/// The printer of a report format.
pub(crate) fn report_printer<'a>(
    format: Format,
    rules: &'a RuleSet,
    opts: &'a RenderOptions,
    color: bool,
) -> Box<dyn Printer<Report> + 'a> {
    match format {
        Format::Table => Box::new(printer::Table { opts, color }),
        Format::Markdown => Box::new(printer::Markdown { rules, opts }),
        Format::Json => Box::new(printer::Json),
    }
}

/// Render a report in a format.
pub(crate) fn render_report(
    report: &Report,
    rules: &RuleSet,
    format: Format,
    opts: &RenderOptions,
    color: bool,
) -> String {
    report_printer(format, rules, opts, color).print(report)
}

pub(crate) fn target_name(paths: &[std::path::PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn resolve_date(date: Option<&str>) -> Result<Option<String>, Error> {
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
pub(crate) fn today() -> String {
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
pub(crate) fn output_error(path: Option<&Path>, e: &std::io::Error) -> Error {
    match path {
        None if e.kind() == std::io::ErrorKind::BrokenPipe => Error::StdoutClosed,
        None => Error::output("stdout", std::io::Error::new(e.kind(), e.to_string())),
        Some(p) => Error::output(p.display(), std::io::Error::new(e.kind(), e.to_string())),
    }
}
