//! Command-line interface (clap derive). The `///` comments are the `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::report::GroupBy;

/// Find every place your code talks to ComfyUI (or another self-hosted service) and tell what
/// breaks when its public domain goes behind Cloudflare Access.
#[derive(Debug, Parser)]
#[command(name = "access-audit", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan files and list every service address, grouped (table, Markdown or JSON).
    Scan(ScanArgs),
    /// Write the Markdown audit report (same as `scan --format markdown`).
    Report(ReportArgs),
    /// Show the rules in force, or validate a directory of rule files.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Explain a group or a check: what it means and what to do about it.
    Explain {
        /// A group (`remote`, `local`, …) or check id; omit to list them all.
        id: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List the services and what is known about each.
    List {
        /// Directory of extra rule files (`*.toml`).
        #[arg(long, value_name = "DIR")]
        rules: Option<PathBuf>,
    },
    /// Validate every `*.toml` in DIR, including its examples.
    Validate {
        /// Directory of rule files.
        dir: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A terminal table grouped by group.
    Table,
    /// The Markdown audit report.
    Markdown,
    /// Machine-readable JSON (schema in the README).
    Json,
}

/// Options shared by every command that scans.
#[derive(Debug, Args)]
pub struct CommonArgs {
    /// Files or directories to scan.
    #[arg(value_name = "PATH", default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Directory of extra rule files (`*.toml`); a file with the same service id replaces the built-in one.
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
    /// Skip files larger than this many bytes (a diagnostic says so).
    #[arg(long, value_name = "BYTES", default_value_t = 2 * 1024 * 1024)]
    pub max_file_size: u64,
    /// Scan files even if .gitignore / .ignore exclude them.
    #[arg(long)]
    pub no_ignore: bool,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', value_name = "N", default_value_t = 0)]
    pub threads: usize,
    /// Write the output to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Roll findings up per file (table and Markdown) or list them per group.
    #[arg(long, value_enum, default_value_t = GroupBy::Group)]
    pub group_by: GroupBy,
    /// Put a date in the report (`today` or YYYY-MM-DD). Without it the report has no date, so it is
    /// stable across runs.
    #[arg(long, value_name = "DATE")]
    pub date: Option<String>,
    /// Do not print diagnostics (unreadable or unparsable files) on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Colour in the table: auto (when stdout is a terminal), always or never.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}
