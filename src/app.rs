//! Runs a parsed command line: builds the options, scans, renders and writes the output. `main.rs`
//! only maps the result to an exit code, so everything here is testable.

use std::io::{IsTerminal, Write};
use std::path::Path;

use crate::classify::Group;
use crate::cli::{Cli, Color, Command, CommonArgs, Format, RulesCommand};
use crate::error::Error;
use crate::finding::{Language, Report};
use crate::report::{self, RenderOptions};
use crate::rules::{self, RuleSet};
use crate::scan::{self, ScanOptions};
use crate::walk::WalkOptions;

/// Run the command; `Ok(code)` is the process exit code.
pub fn run(cli: Cli) -> Result<i32, Error> {
    match cli.command {
        Command::Scan(args) => {
            let color = match args.color {
                Color::Always => true,
                Color::Never => false,
                Color::Auto => {
                    args.common.output.is_none()
                        && std::io::stdout().is_terminal()
                        && std::env::var_os("NO_COLOR").is_none()
                }
            };
            scan_and_render(&args.common, args.format, color)
        }
        Command::Report(args) => scan_and_render(&args.common, Format::Markdown, false),
        Command::Rules { command } => rules_command(command),
        Command::Explain { id } => {
            let text = explain(id.as_deref())?;
            print!("{text}");
            Ok(0)
        }
    }
}

fn scan_and_render(common: &CommonArgs, format: Format, color: bool) -> Result<i32, Error> {
    let rules = RuleSet::load(common.rules.as_deref())?;
    let opts = ScanOptions {
        paths: common.paths.clone(),
        walk: WalkOptions {
            max_file_size: common.max_file_size,
            threads: common.threads,
            respect_ignore: !common.no_ignore,
        },
        threads: common.threads,
    };
    let report = scan::scan(&opts, &rules)?;
    if !common.quiet {
        for d in &report.diagnostics {
            eprintln!("access-audit: {}: {}", d.path, d.message);
        }
    }
    let render = RenderOptions {
        group_by: common.group_by,
        date: resolve_date(common.date.as_deref())?,
        target: target_name(&common.paths),
    };
    let out = render_report(&report, &rules, format, &render, color);
    write_output(common.output.as_deref(), &out)?;
    Ok(0)
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

fn write_output(path: Option<&Path>, text: &str) -> Result<(), Error> {
    match path {
        None => {
            let mut out = std::io::stdout().lock();
            // A closed pipe (`| head`) is not an error worth reporting.
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
            Ok(())
        }
        Some(p) => std::fs::write(p, text).map_err(|e| Error::Output {
            path: p.display().to_string(),
            message: e.to_string(),
        }),
    }
}

fn rules_command(cmd: RulesCommand) -> Result<i32, Error> {
    match cmd {
        RulesCommand::List { rules } => {
            let set = RuleSet::load(rules.as_deref())?;
            for s in &set.services {
                println!("{} ({}) — {}", s.id, s.name, s.source);
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
                .map_err(|e| Error::Rules { file: dir.display().to_string(), message: format!("cannot read rules directory: {e}") })?
                .filter_map(Result::ok)
                .any(|e| e.path().extension().is_some_and(|x| x == "toml"));
            if !has_files {
                return Err(Error::Rules { file: dir.display().to_string(), message: "no `*.toml` rule files in this directory".into() });
            }
            let set = RuleSet::load(Some(&dir))?;
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

/// `explain`: what a group means for the rollout.
pub fn explain(id: Option<&str>) -> Result<String, Error> {
    match id {
        None => {
            let mut s = String::from("Groups (access-audit explain <group>):\n");
            for g in Group::ALL {
                s.push_str(&format!("  {:<16} {}\n", g.as_str(), g.summary()));
            }
            Ok(s)
        }
        Some(id) => Group::ALL
            .into_iter()
            .find(|g| g.as_str() == id)
            .map(|g| format!("{}\n\n{}\n", g.as_str(), g.doc()))
            .ok_or_else(|| {
                Error::Usage(format!(
                    "unknown id `{id}`; run `access-audit explain` for the list"
                ))
            }),
    }
}
