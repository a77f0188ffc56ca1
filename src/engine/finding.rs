//! What a scan produces: [`Finding`]s (one per expression that builds a service address where it is
//! used, or one per `docker exec`), [`Diagnostic`]s (per-file problems), and the [`Report`] that holds
//! both, sorted so every output is deterministic.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::engine::classify::Group;
use crate::engine::secrets::{self, Secret};
pub use crate::engine::source::Language;
use crate::engine::suppress::Suppression;

/// What produced a finding: the syntax tree, or the text fallback for files that did not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Evidence {
    /// The syntax tree of Python or Rust code.
    Ast,
    /// A parsed configuration or deployment file (env, compose, Kubernetes, JSON/TOML config).
    Config,
    /// The text fallback.
    Text,
}

/// One place where code builds (or execs into) a service address.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Finding {
    /// Relative to the scanned root, `/`-separated.
    pub path: String,
    pub line: u32,
    pub column: u32,
    /// The address with run-time parts shown as `{name}`; `null` for container exec.
    pub url: Option<String>,
    pub scheme: Option<String>,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub group: Group,
    /// Does the request carry a Cloudflare Access credential?
    pub tokenized: bool,
    pub service: String,
    pub language: Language,
    pub evidence: Evidence,
    /// Client library (`requests`, `reqwest`, …) or helper that makes the request, when known.
    pub client: Option<String>,
    /// Enclosing function (`Class.method`), when any.
    pub function: Option<String>,
    /// The env var that supplies (or would supply) the address.
    pub env_var: Option<String>,
    /// `path:line` of the constant, env read or default that supplied the host, when elsewhere.
    pub defined_at: Option<String>,
    /// For container exec: the command run in the container.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub command: Option<String>,
    /// `path:line` of the env file / compose / manifest entry that gave the env var its value.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub env_source: Option<String>,
    /// Notebooks: the 1-based index of the cell, all cells counted as Jupyter shows them (`line` is
    /// then the line within the cell; `defined_at` reads `path:cell N:line`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cell: Option<u32>,
    /// The command-line argument that supplies (or would supply) the address (`--host`, `argv[1]`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cli_arg: Option<String>,
    /// Authentication the request carries that is not an Access credential (`bearer`, `basic`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub auth: Option<String>,
}

impl Finding {
    /// The finding with the credentials in its address and command masked
    /// ([`secrets::mask_line`]).
    pub fn masked(mut self) -> Finding {
        for text in [&mut self.url, &mut self.command].into_iter().flatten() {
            if let Cow::Owned(masked) = secrets::mask(text) {
                *text = masked;
            }
        }
        self
    }

    /// Does this finding break once Access is on (a remote use without a credential)?
    pub fn breaks(&self) -> bool {
        self.group == Group::Remote && !self.tokenized
    }
}

/// A problem with one file: it could not be read, decoded or parsed, or was skipped.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Diagnostic {
    pub path: String,
    pub message: String,
}

/// Counts for the summary line and the JSON `summary` object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub files_scanned: usize,
    pub files_with_findings: usize,
    pub findings: usize,
    pub local: usize,
    pub docker_network: usize,
    pub private_network: usize,
    pub container_exec: usize,
    pub remote: usize,
    pub remote_tokenized: usize,
    pub remote_untokenized: usize,
    pub unresolved: usize,
    pub diagnostics: usize,
}

/// The result of a scan.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub findings: Vec<Finding>,
    pub diagnostics: Vec<Diagnostic>,
    pub summary: Summary,
    /// Credential values written in source (location and redacted prefix only).
    #[serde(default)]
    pub secrets: Vec<Secret>,
    /// What produced the report: tool, version, rules digest, scanned commit.
    #[serde(default)]
    pub meta: Meta,
    /// What the gate needs besides findings; not part of the JSON output.
    #[serde(skip)]
    pub context: ScanContext,
}

/// Where a report comes from, so merged results are reproducible: the tool and its version, a
/// digest of the enabled rule files, and the repository and commit that were scanned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    /// Always `access-audit`.
    pub tool: String,
    /// The version of access-audit that wrote the report.
    pub version: String,
    /// A stable hex digest of the enabled rule files ([`crate::rules::RuleSet::digest`]).
    #[serde(default)]
    pub rules_digest: String,
    /// `git rev-parse HEAD` of the first scanned path's repository; `null` outside git (or with
    /// `ACCESS_AUDIT_NO_VCS=1`).
    #[serde(default)]
    pub commit: Option<String>,
    /// The name of the scanned repository: the git top-level directory's name, else the first
    /// path's name.
    #[serde(default)]
    pub repository: Option<String>,
}

impl Default for Meta {
    fn default() -> Self {
        Meta {
            tool: "access-audit".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            rules_digest: String::new(),
            commit: None,
            repository: None,
        }
    }
}

/// Set to `1` to leave the commit out of [`Meta`] (snapshot tests, reproducible outputs).
pub const NO_VCS_ENV: &str = "ACCESS_AUDIT_NO_VCS";

impl Meta {
    /// The metadata of a scan of `paths` with rules whose digest is `rules_digest`. Git is asked
    /// for the commit and top level of the first path; a missing git, a path outside any
    /// repository or `ACCESS_AUDIT_NO_VCS=1` leave `commit` null (never an error).
    pub fn for_scan(paths: &[std::path::PathBuf], rules_digest: String) -> Meta {
        let first = paths
            .first()
            .cloned()
            .unwrap_or_else(|| std::path::PathBuf::from("."));
        let no_vcs = std::env::var_os(NO_VCS_ENV).is_some_and(|v| !v.is_empty() && v != "0");
        let dir = if first.is_file() {
            first
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map(std::path::Path::to_path_buf)
                .unwrap_or_else(|| std::path::PathBuf::from("."))
        } else {
            first.clone()
        };
        // One `git rev-parse` for both: the top level on the first line, then the commit (a
        // repository without commits prints the top level and fails on `HEAD`).
        let (commit, toplevel) = if no_vcs {
            (None, None)
        } else {
            crate::git::command(&dir)
                .args(["rev-parse", "--show-toplevel", "HEAD"])
                .stderr(std::process::Stdio::null())
                .output()
                .ok()
                .and_then(|out| {
                    let text = String::from_utf8(out.stdout).ok()?;
                    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
                    let toplevel = lines.next().map(str::to_string);
                    let commit = lines
                        .next()
                        .filter(|_| out.status.success())
                        .map(str::to_string);
                    Some((commit, toplevel))
                })
                .unwrap_or((None, None))
        };
        let basename = |p: &std::path::Path| {
            let p = std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
            p.file_name().map(|n| n.to_string_lossy().into_owned())
        };
        let repository = toplevel
            .as_deref()
            .and_then(|t| basename(std::path::Path::new(t)))
            .or_else(|| basename(&first));
        Meta {
            rules_digest,
            commit,
            repository,
            ..Meta::default()
        }
    }
}

/// Per-file facts the CI gate uses: suppression comments and statement spans (and, while the
/// scan collects them, the secrets that [`Report::with_context`] moves into the report).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScanContext {
    pub secrets: Vec<Secret>,
    pub suppressions: Vec<Suppression>,
    /// Statement line ranges per file path.
    pub spans: BTreeMap<String, Vec<(u32, u32)>>,
    /// A digest of each read file's bytes as scanned ([`crate::digest::content_hash`]): `check --fix`
    /// refuses a file that changed since.
    pub hashes: BTreeMap<String, u64>,
}

impl ScanContext {
    /// The statement span (first, last line) around `line` in `path`, or `(line, line)`.
    pub fn span_of(&self, path: &str, line: u32) -> (u32, u32) {
        self.spans
            .get(path)
            .and_then(|spans| {
                spans
                    .iter()
                    .filter(|(s, e)| *s <= line && line <= *e)
                    .min_by_key(|(s, e)| e - s)
                    .copied()
            })
            .unwrap_or((line, line))
    }
}

impl Report {
    /// Sort findings and diagnostics and compute the summary.
    pub fn new(
        mut findings: Vec<Finding>,
        mut diagnostics: Vec<Diagnostic>,
        files_scanned: usize,
    ) -> Report {
        // Equal findings are equal in every field, so an unstable sort (no buffer) is as good.
        findings.sort_unstable();
        findings.dedup();
        diagnostics.sort();
        diagnostics.dedup();
        let count = |g: Group| findings.iter().filter(|f| f.group == g).count();
        let mut files: Vec<&str> = findings.iter().map(|f| f.path.as_str()).collect();
        files.dedup();
        let summary = Summary {
            files_scanned,
            files_with_findings: files.len(),
            findings: findings.len(),
            local: count(Group::Local),
            docker_network: count(Group::DockerNetwork),
            private_network: count(Group::PrivateNetwork),
            container_exec: count(Group::ContainerExec),
            remote: count(Group::Remote),
            remote_tokenized: findings
                .iter()
                .filter(|f| f.group == Group::Remote && f.tokenized)
                .count(),
            remote_untokenized: findings.iter().filter(|f| f.breaks()).count(),
            unresolved: count(Group::Unresolved),
            diagnostics: diagnostics.len(),
        };
        Report {
            findings,
            diagnostics,
            summary,
            secrets: Vec::new(),
            meta: Meta::default(),
            context: ScanContext::default(),
        }
    }

    /// Attach where the report comes from (tool, version, rules digest, commit).
    pub fn with_meta(mut self, meta: Meta) -> Report {
        self.meta = meta;
        self
    }

    /// Attach the gate's context; secrets are sorted and also exposed in the JSON.
    pub fn with_context(mut self, mut context: ScanContext) -> Report {
        context.suppressions.sort();
        self.secrets = std::mem::take(&mut context.secrets);
        self.secrets.sort();
        self.context = context;
        self
    }
}
