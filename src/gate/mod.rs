//! The CI gate: turns a scan into violations of named checks, applies inline suppressions and a
//! baseline, and gives each violation a fingerprint that survives unrelated edits.
//!
//! This module owns the gate's configuration ([`GateConfig`]), its verdict ([`GateResult`],
//! [`Violation`], [`State`], [`Severity`]) and [`evaluate`], which runs the checks in order:
//! candidates from each check of [`checks`] (one module per check, with its documentation, which
//! `access-audit explain ID` prints), then inline suppressions, [`fingerprint`]s and the
//! [`baseline`].

pub mod baseline;
pub mod checks;
pub mod fingerprint;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

pub use baseline::{Baseline, BaselineEntry};
pub use checks::Check;

use crate::engine::finding::Report;
use crate::rules::RuleSet;
use checks::{
    hardcoded_secret, insecure_remote, unresolved_address, untokenized_remote, unused_suppression,
    Candidate,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Fails the build.
    Error,
    /// Reported, does not fail the build.
    Warning,
}

impl Severity {
    pub const ALL: [Severity; 2] = [Severity::Error, Severity::Warning];

    /// The name every output and the configuration use: `error`, `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }

    /// A name as the configuration writes it (`warn` too).
    pub fn parse(s: &str) -> Option<Severity> {
        if s == "warn" {
            return Some(Severity::Warning);
        }
        Severity::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a violation counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Active,
    /// Silenced by an inline `access-audit: ignore[…]` comment.
    Suppressed,
    /// Recorded in the baseline file.
    Baselined,
}

/// One violation of a check.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Violation {
    pub path: String,
    /// Notebooks: the 1-based cell index (`line` is then the line in the cell).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cell: Option<u32>,
    pub line: u32,
    pub column: u32,
    pub rule: Check,
    pub severity: Severity,
    pub message: String,
    pub url: Option<String>,
    pub function: Option<String>,
    /// Stable across edits that move lines: hash of rule, path, normalized URL (or secret kind),
    /// enclosing function and occurrence number.
    pub fingerprint: String,
    pub state: State,
    /// When suppressed: the comment's reason.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub justification: Option<String>,
    /// `untokenized-remote`: a concrete suggested change (route through the token helper, or the
    /// header lines to add for that client library).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub suggestion: Option<String>,
    /// Last line of the statement (for code frames).
    #[serde(skip)]
    pub end_line: u32,
}

/// Which checks run and how severe each is.
#[derive(Debug, Clone)]
pub struct GateConfig {
    pub enabled: BTreeSet<Check>,
    pub severity: BTreeMap<Check, Severity>,
}

impl Default for GateConfig {
    fn default() -> Self {
        GateConfig {
            enabled: Check::ALL
                .into_iter()
                .filter(|c| c.enabled_by_default())
                .collect(),
            severity: Check::ALL
                .into_iter()
                .map(|c| (c, c.default_severity()))
                .collect(),
        }
    }
}

impl GateConfig {
    fn severity_of(&self, c: Check) -> Severity {
        self.severity
            .get(&c)
            .copied()
            .unwrap_or_else(|| c.default_severity())
    }
}

/// The gate's verdict.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GateResult {
    /// Every violation, active or not, sorted by path, line, column, rule.
    pub violations: Vec<Violation>,
    pub summary: GateSummary,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GateSummary {
    pub active: usize,
    pub errors: usize,
    pub warnings: usize,
    pub suppressed: usize,
    pub baselined: usize,
    pub files_scanned: usize,
}

impl GateResult {
    /// Does the build fail (an active violation of severity error)?
    pub fn fails(&self) -> bool {
        self.summary.errors > 0
    }

    pub fn active(&self) -> impl Iterator<Item = &Violation> {
        self.violations.iter().filter(|v| v.state == State::Active)
    }
}

/// Apply the checks, suppressions and baseline to a scan. Suggestions use the embedded rules; see
/// [`evaluate_with_rules`].
pub fn evaluate(report: &Report, cfg: &GateConfig, baseline: Option<&Baseline>) -> GateResult {
    static EMBEDDED: std::sync::OnceLock<Option<RuleSet>> = std::sync::OnceLock::new();
    let rules = EMBEDDED.get_or_init(|| RuleSet::embedded().ok());
    evaluate_inner(report, cfg, baseline, rules.as_ref())
}

/// [`evaluate`] with the rules of the scan (for the suggested fixes' helper and header names).
pub fn evaluate_with_rules(
    report: &Report,
    cfg: &GateConfig,
    baseline: Option<&Baseline>,
    rules: &RuleSet,
) -> GateResult {
    evaluate_inner(report, cfg, baseline, Some(rules))
}

fn evaluate_inner(
    report: &Report,
    cfg: &GateConfig,
    baseline: Option<&Baseline>,
    rules: Option<&RuleSet>,
) -> GateResult {
    let mut raw: Vec<(Violation, String)> = Vec::new();
    let push = |raw: &mut Vec<(Violation, String)>, c: Candidate| {
        if !cfg.enabled.contains(&c.rule) {
            return;
        }
        let span = report.context.span_of(&c.path, c.line);
        raw.push((
            Violation {
                path: c.path,
                cell: c.cell,
                line: c.line,
                column: c.column,
                rule: c.rule,
                severity: cfg.severity_of(c.rule),
                message: c.message,
                url: c.url,
                function: c.function,
                fingerprint: String::new(),
                state: State::Active,
                justification: None,
                suggestion: c.suggestion,
                end_line: span.1.max(c.line),
            },
            c.key,
        ));
    };
    for f in &report.findings {
        let found = [
            untokenized_remote::candidate(f, rules),
            insecure_remote::candidate(f),
            unresolved_address::candidate(f),
        ];
        for c in found.into_iter().flatten() {
            push(&mut raw, c);
        }
    }
    for s in &report.secrets {
        push(&mut raw, hardcoded_secret::candidate(s));
    }

    // Inline suppressions: a trailing comment covers its line, a comment on its own line the next
    // statement (see `crate::engine::suppress`).
    let suppressions = &report.context.suppressions;
    let mut used = vec![false; suppressions.len()];
    for (v, _) in raw.iter_mut() {
        for (i, s) in suppressions.iter().enumerate() {
            if s.path == v.path
                && s.problem().is_none()
                && s.covers(v.cell, v.line)
                && s.rules.iter().any(|r| r == v.rule.id())
            {
                v.state = State::Suppressed;
                v.justification = Some(s.reason.clone());
                used[i] = true;
                break;
            }
        }
    }
    for c in unused_suppression::candidates(suppressions, &used, &cfg.enabled) {
        push(&mut raw, c);
    }

    // Fingerprints: rule, path, key (normalized URL / secret kind), function, occurrence number.
    raw.sort_by(|a, b| a.0.cmp(&b.0));
    fingerprint::assign(&mut raw);
    if let Some(b) = baseline {
        b.absorb(raw.iter_mut().map(|(v, _)| v));
    }

    let violations: Vec<Violation> = raw.into_iter().map(|(v, _)| v).collect();
    let count = |st: State| violations.iter().filter(|v| v.state == st).count();
    let summary = GateSummary {
        active: count(State::Active),
        errors: violations
            .iter()
            .filter(|v| v.state == State::Active && v.severity == Severity::Error)
            .count(),
        warnings: violations
            .iter()
            .filter(|v| v.state == State::Active && v.severity == Severity::Warning)
            .count(),
        suppressed: count(State::Suppressed),
        baselined: count(State::Baselined),
        files_scanned: report.summary.files_scanned,
    };
    GateResult {
        violations,
        summary,
    }
}
