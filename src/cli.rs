//! Command-line interface (clap derive). The `///` comments are the `--help` text.

use std::path::PathBuf;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

use crate::report::GroupBy;

/// Find every place your code talks to ComfyUI (or another self-hosted service) and tell what
/// breaks when its public domain goes behind Cloudflare Access.
#[derive(Debug, Parser)]
#[command(
    name = "access-audit",
    version,
    about,
    long_about = None,
    propagate_version = true,
    after_help = EXIT_CODES
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The exit codes, shown at the end of `--help`.
pub const EXIT_CODES: &str = "\
Exit codes:
  0  success (check: no active error-level violation)
  1  check: at least one active error-level violation; probe / report --probe: a remote address
     is exposed or the service token is rejected
  2  usage error, invalid config or rule file, unreadable path (message and hint on stderr; with
     --format json also {\"error\": {\"message\", \"hint\"}} on stdout)";

/// `access-audit 0.1.0 (rules 0b3c21ecf5730da3)`: the version and the digest of the built-in rules
/// enabled by default (the `meta.rules_digest` of a scan with them).
pub fn version_line() -> String {
    let digest = crate::rules::RuleSet::embedded()
        .map(|r| r.digest())
        .unwrap_or_else(|_| "invalid".to_string());
    format!("{} (rules {digest})", env!("CARGO_PKG_VERSION"))
}

/// The parser, with [`version_line`] as `--version`.
pub fn command_with_version() -> clap::Command {
    // clap keeps the version for the life of the process; it is built once.
    let version: &'static str = Box::leak(version_line().into_boxed_str());
    Cli::command().version(version)
}

impl Cli {
    /// Whether the command asked for JSON output, so a fatal error is reported as JSON too.
    pub fn wants_json(&self) -> bool {
        match &self.command {
            Command::Scan(a) => a.format == Format::Json,
            Command::Check(a) => a.format == CheckFormat::Json,
            Command::Probe(a) => a.format == ProbeFormat::Json,
            _ => false,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan files and list every service address, grouped (table, Markdown or JSON).
    Scan(ScanArgs),
    /// Write the Markdown audit report (same as `scan --format markdown`).
    Report(ReportArgs),
    /// CI gate: exit 1 when an untokenized remote address (or another violation) appears.
    Check(CheckArgs),
    /// Verify the rollout live: is each remote address protected by Access, does the service token
    /// work? (The only command that touches the network.)
    Probe(ProbeArgs),
    /// Write the token helper the report recommends (adds the Access credential from env vars).
    InitHelper(InitHelperArgs),
    /// Combine JSON reports of several repositories into one Markdown report and one SARIF.
    Merge(MergeArgs),
    /// Show the rules in force, or validate a directory of rule files.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Explain a check or a group: what it means and what to do about it.
    Explain {
        /// A check id (`untokenized-remote`, …) or group (`remote`, …); omit to list them all.
        id: Option<String>,
    },
    /// Print a shell completion script (e.g. `access-audit completions bash > ~/.local/share/bash-completion/completions/access-audit`).
    Completions {
        /// The shell to complete in.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) on stdout (e.g. `access-audit man > access-audit.1`).
    Man,
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List every available service (marking the enabled ones) and what is known about each.
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// Grouped violations with a code frame of each offending line.
    Human,
    /// `{"violations": […], "summary": {…}}`.
    Json,
    /// SARIF 2.1.0, for GitHub code scanning.
    Sarif,
    /// GitHub Actions `::error` workflow commands (annotations on the diff).
    Github,
    /// A Markdown table (PR comment, job summary).
    Markdown,
}

/// What to scan and how (shared by every command that scans).
#[derive(Debug, Clone, Args)]
pub struct ScanTarget {
    /// Files or directories to scan; `-` reads one file from stdin (with --stdin-filename).
    #[arg(value_name = "PATH", default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// With PATH `-`: the path of the file read from stdin (picks its language, names it in the
    /// output and finds the config file), as editors pass it.
    #[arg(long, value_name = "PATH")]
    pub stdin_filename: Option<PathBuf>,
    /// Directory of extra rule files (`*.toml`); a file with the same service id replaces the built-in one.
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
    /// Scan for these services only (comma-separated ids, or `all`); default: the services enabled
    /// by default (`rules list` marks them). Example: `--service comfyui,ollama`.
    #[arg(long = "service", value_name = "ID[,ID...]", value_delimiter = ',')]
    pub service: Option<Vec<String>>,
    /// A public domain that goes behind Cloudflare Access (repeatable, or comma-separated); adds to
    /// `protected-domains` in the config file.
    #[arg(long = "domain", value_name = "DOMAIN", value_delimiter = ',')]
    pub domains: Vec<String>,
    /// Skip files larger than this many bytes (a diagnostic says so).
    #[arg(long, value_name = "BYTES", default_value_t = crate::engine::walk::DEFAULT_MAX_FILE_SIZE)]
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
    /// Do not print diagnostics (unreadable or unparsable files) on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Show a progress bar on stderr (default: auto, on a terminal for scans longer than a second).
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub progress: Color,
}

/// Options of the human-readable reports.
#[derive(Debug, Args)]
pub struct ReportStyle {
    /// Roll findings up per file (table and Markdown) or list them per group.
    #[arg(long, value_enum, default_value_t = GroupBy::Group)]
    pub group_by: GroupBy,
    /// Put a date in the report (`today` or YYYY-MM-DD). Without it the report has no date, so it is
    /// stable across runs.
    #[arg(long, value_name = "DATE")]
    pub date: Option<String>,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    pub target: ScanTarget,
    #[command(flatten)]
    pub style: ReportStyle,
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
    pub target: ScanTarget,
    #[command(flatten)]
    pub style: ReportStyle,
    /// Also probe the addresses found (network!) and add a "Rollout verification" section; exit 1
    /// when a remote address is exposed or the service token is rejected.
    #[arg(long)]
    pub probe: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub target: ScanTarget,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = CheckFormat::Human)]
    pub format: CheckFormat,
    /// Colour in human output: auto, always or never.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
    /// Only fail on violations not recorded in this baseline file.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Record the current violations in FILE (then exit 0); commit it and pass it with --baseline.
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// Scan only files changed since this git ref (committed, staged, unstaged and untracked).
    #[arg(long, value_name = "REF")]
    pub changed_since: Option<String>,
    /// Also fail on addresses only known at run time (enables `unresolved-address`).
    #[arg(long)]
    pub strict: bool,
    /// Run only these checks (comma-separated ids); replaces the config's selection.
    #[arg(long, value_name = "IDS", value_delimiter = ',')]
    pub select: Option<Vec<String>>,
    /// Do not run these checks (comma-separated ids).
    #[arg(long, value_name = "IDS", value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Set a check's severity: `ID=error` (fails the build) or `ID=warning` (reported only).
    #[arg(long, value_name = "ID=LEVEL")]
    pub severity: Vec<String>,
    /// Use this config file instead of discovering `access-audit.toml` / `pyproject.toml`.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Ignore config files.
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,
    /// Pass even though some files could not be read or were skipped (over the size limit,
    /// binary, unreadable); without it such a file makes `check` exit 2.
    #[arg(long)]
    pub allow_skipped: bool,
    /// Apply the safe fixes (Python `requests` / `httpx` calls with a literal or constant URL get
    /// the Access headers from env vars), then check again; the rest stay suggestions.
    #[arg(long)]
    pub fix: bool,
    /// Print the fixes `--fix` would make as a unified diff on stdout (nothing else) and write
    /// nothing; exit 1 when the diff is not empty.
    #[arg(long)]
    pub diff: bool,
    /// Say which files `--fix` would change, and how many calls in each, without writing anything.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Args)]
pub struct ProbeArgs {
    #[command(flatten)]
    pub target: ScanTarget,
    /// Probe these addresses instead of those a scan finds (repeatable).
    #[arg(long = "url", value_name = "URL")]
    pub urls: Vec<String>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = ProbeFormat::Table)]
    pub format: ProbeFormat,
    /// Seconds to wait for each request (1 to 120).
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub timeout: u64,
    /// Connect to ADDRESS for HOST:PORT instead of resolving HOST (repeatable), as curl's
    /// `--resolve`: HOST still decides whether the token may be sent.
    #[arg(long, value_name = "HOST:PORT:ADDRESS")]
    pub resolve: Vec<String>,
    /// Requests in flight at once.
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub concurrency: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProbeFormat {
    /// A terminal table.
    Table,
    /// Machine-readable JSON.
    Json,
    /// A "Rollout verification" Markdown section.
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HelperLang {
    Python,
    Rust,
}

#[derive(Debug, Args)]
pub struct InitHelperArgs {
    /// Language of the helper.
    #[arg(long, value_enum, default_value_t = HelperLang::Python)]
    pub lang: HelperLang,
    /// Where to write it (default: the rules' helper file, e.g. `utils/comfyui_api_client.py`).
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
    /// Replace an existing file.
    #[arg(long)]
    pub force: bool,
    /// Directory of extra rule files (`*.toml`).
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// JSON reports (`access-audit scan --format json`), one per repository.
    #[arg(value_name = "REPORT.json", required = true)]
    pub reports: Vec<PathBuf>,
    /// Write the merged Markdown report here (default: stdout).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write the merged SARIF here.
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,
}
