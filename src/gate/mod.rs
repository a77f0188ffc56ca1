//! The CI gate: turns a scan into violations of named checks, applies inline suppressions and a
//! baseline, and gives each violation a fingerprint that survives unrelated edits.
//!
//! Each check's documentation is [`Check::doc`], which `access-audit explain ID` prints.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::digest::fnv1a;
use crate::engine::classify::Group;
use crate::engine::finding::Report;
use crate::error::Error;
use crate::rules::RuleSet;

/// A check the gate runs. Its documentation (what it does, why, example, fix) is [`Check::doc`],
/// which `access-audit explain ID` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Check {
    /// A remote address used without an Access credential.
    UntokenizedRemote,
    /// An Access credential value written in source.
    HardcodedSecret,
    /// `http://` / `ws://` to a remote address.
    InsecureRemote,
    /// An address only known at run time (off by default).
    UnresolvedAddress,
    /// A suppression comment that suppresses nothing or is malformed.
    UnusedSuppression,
}

impl Check {
    pub const ALL: [Check; 5] = [
        Check::UntokenizedRemote,
        Check::HardcodedSecret,
        Check::InsecureRemote,
        Check::UnresolvedAddress,
        Check::UnusedSuppression,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Check::UntokenizedRemote => "untokenized-remote",
            Check::HardcodedSecret => "hardcoded-secret",
            Check::InsecureRemote => "insecure-remote",
            Check::UnresolvedAddress => "unresolved-address",
            Check::UnusedSuppression => "unused-suppression",
        }
    }

    pub fn from_id(id: &str) -> Option<Check> {
        Check::ALL.into_iter().find(|c| c.id() == id)
    }

    pub fn enabled_by_default(self) -> bool {
        !matches!(self, Check::UnresolvedAddress)
    }

    /// One line, for lists and SARIF `shortDescription`.
    pub fn summary(self) -> &'static str {
        match self {
            Check::UntokenizedRemote => {
                "A remote address is used without a Cloudflare Access credential"
            }
            Check::HardcodedSecret => "An Access credential value is written in source",
            Check::InsecureRemote => {
                "A remote address uses http:// or ws://, so credentials travel in clear"
            }
            Check::UnresolvedAddress => "An address is only known at run time",
            Check::UnusedSuppression => "A suppression comment suppresses nothing or is malformed",
        }
    }

    /// The documentation `explain ID` prints: what the check does, why, how to fix it, an example.
    pub fn doc(self) -> &'static str {
        match self {
            Check::UntokenizedRemote => "What it does: reports a request to a remote (public) address of the service that does not\ncarry a Cloudflare Access credential.\n\nWhy: once Access protects the domain, such a request gets the sign-in redirect (302) or a 403\ninstead of the API: the script breaks.\n\nFix: route the call through the token helper, or send CF-Access-Client-Id and\nCF-Access-Client-Secret (a service token) read from the environment.\n\n    requests.get(\"https://comfyui.example.space/prompt\")                      # violation\n    requests.get(\"https://comfyui.example.space/prompt\", headers=CF_HEADERS)  # ok\n",
            Check::HardcodedSecret => "What it does: reports an Access credential value written in source: a service-token client id\n(<32 hex>.access), a client secret (cfast_..., or 64 hex digits next to a secret's name) or an\naccess token.\n\nWhy: anyone who can read the repository can pass Access. The value is reported by location only,\nwith at most a 6-character prefix.\n\nFix: read it from the environment (os.environ[\"CF_ACCESS_CLIENT_SECRET\"]) or a secret store,\nand rotate the token that was committed.\n",
            Check::InsecureRemote => "What it does: reports http:// or ws:// to a remote address of the service.\n\nWhy: the Access credential would travel in clear text.\n\nFix: use https:// / wss://.\n",
            Check::UnresolvedAddress => "Off by default; --strict (or `strict = true` in the config) turns it on.\n\nWhat it does: reports an address only known at run time (an env var without default, a\ncommand-line argument, a parameter).\n\nWhy: whether it breaks depends on the value in each deployment.\n\nFix: give the variable a default, or suppress with the reason why it is safe:\n\n    url = os.environ[\"COMFYUI_URL\"]  # access-audit: ignore[unresolved-address] always local\n",
            Check::UnusedSuppression => "What it does: reports an `access-audit: ignore[...]` comment that suppresses nothing, names no\nrule id or an unknown one, or gives no reason.\n\nWhy: stale suppressions hide the next real violation on that line.\n\nFix: delete the comment, or name the rule and say why:\n\n    # access-audit: ignore[untokenized-remote] staging host, not behind Access\n",
        }
    }
}

impl std::fmt::Display for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Fails the build.
    Error,
    /// Reported, does not fail the build.
    Warning,
}

impl Severity {
    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "error" => Some(Severity::Error),
            "warning" | "warn" => Some(Severity::Warning),
            _ => None,
        }
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
                .map(|c| (c, Severity::Error))
                .collect(),
        }
    }
}

impl GateConfig {
    fn severity_of(&self, c: Check) -> Severity {
        self.severity.get(&c).copied().unwrap_or(Severity::Error)
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

/// A violation before suppressions, fingerprints and the baseline; `key` identifies what is wrong
/// (normalized URL, secret kind) independently of the line.
struct Candidate {
    rule: Check,
    path: String,
    cell: Option<u32>,
    line: u32,
    column: u32,
    message: String,
    url: Option<String>,
    function: Option<String>,
    key: String,
    suggestion: Option<String>,
}

impl Candidate {
    fn at_finding(
        f: &crate::engine::finding::Finding,
        rule: Check,
        message: String,
        key: String,
    ) -> Candidate {
        Candidate {
            rule,
            path: f.path.clone(),
            cell: f.cell,
            line: f.line,
            column: f.column,
            message,
            url: f.url.clone(),
            function: f.function.clone(),
            key,
            suggestion: None,
        }
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
        let url = f.url.clone();
        let norm = normalize_url(url.as_deref().unwrap_or(""));
        let via = f
            .client
            .as_deref()
            .map(|c| format!(" ({c})"))
            .unwrap_or_default();
        // An env / compose / manifest entry defines a value; the request is sent by the code that
        // reads it (reported there, with `env_source`), so a definition is never "sent".
        if f.breaks() && f.evidence != crate::engine::finding::Evidence::Config {
            let mut c = Candidate::at_finding(f, Check::UntokenizedRemote, format!("`{}`{via} is sent without a Cloudflare Access credential: it breaks once Access is on", url.as_deref().unwrap_or("")), norm.clone());
            let svc = rules.and_then(|r| {
                r.service(&f.service)
                    .or_else(|| r.available.iter().find(|s| s.id == f.service))
            });
            c.suggestion = Some(crate::remedy::suggestion(
                f.client.as_deref(),
                f.language,
                svc,
            ));
            push(&mut raw, c);
        }
        if f.group == Group::Remote && matches!(f.scheme.as_deref(), Some("http" | "ws")) {
            push(
                &mut raw,
                Candidate::at_finding(
                    f,
                    Check::InsecureRemote,
                    format!(
                        "`{}` is not encrypted: the Access credential would travel in clear",
                        url.as_deref().unwrap_or("")
                    ),
                    norm.clone(),
                ),
            );
        }
        if f.group == Group::Unresolved {
            let set_by = f
                .env_var
                .as_deref()
                .map_or_else(|| "a run-time value".to_string(), |v| format!("env `{v}`"));
            push(&mut raw, Candidate::at_finding(f, Check::UnresolvedAddress, format!("`{}`: the host comes from {set_by}; check what it points to in each deployment", url.as_deref().unwrap_or("")), norm));
        }
    }
    for s in &report.secrets {
        push(
            &mut raw,
            Candidate {
                rule: Check::HardcodedSecret,
                path: s.path.clone(),
                cell: s.cell,
                line: s.line,
                column: s.column,
                message: format!(
                    "hard-coded Access {} `{}`: read it from the environment and rotate it",
                    s.kind, s.redacted
                ),
                url: None,
                function: None,
                // The value's hash: another value of the same kind is another violation.
                key: format!("{}|{}", s.kind, s.digest),
                suggestion: None,
            },
        );
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
    let mut unused = Vec::new();
    for (i, s) in suppressions.iter().enumerate() {
        let unknown: Vec<&String> = s
            .rules
            .iter()
            .filter(|r| Check::from_id(r).is_none())
            .collect();
        let message = if let Some(problem) = s.problem() {
            format!("suppression {problem}")
        } else if !unknown.is_empty() {
            format!("suppression names unknown rule id(s) {unknown:?}; `access-audit explain` lists them")
        } else if !used[i] {
            // A suppression for a check that is switched off is not stale.
            if s.rules
                .iter()
                .filter_map(|r| Check::from_id(r))
                .all(|c| !cfg.enabled.contains(&c))
            {
                continue;
            }
            format!(
                "suppression of {} suppresses nothing here: remove it",
                s.rules.join(", ")
            )
        } else {
            continue;
        };
        unused.push(Candidate {
            rule: Check::UnusedSuppression,
            path: s.path.clone(),
            cell: s.cell,
            line: s.line,
            column: s.column,
            message,
            url: None,
            function: None,
            key: format!("{}|{}", s.rules.join(","), s.reason),
            suggestion: None,
        });
    }
    for c in unused {
        push(&mut raw, c);
    }

    // Fingerprints: rule, path, key (normalized URL / secret kind), function, occurrence number.
    raw.sort_by(|a, b| a.0.cmp(&b.0));
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (v, key) in raw.iter_mut() {
        let base = format!(
            "{}|{}|{}|{}",
            v.rule.id(),
            v.path,
            key,
            v.function.as_deref().unwrap_or("")
        );
        let n = seen.entry(base.clone()).or_insert(0);
        *n += 1;
        v.fingerprint = format!("{:016x}", fnv1a(format!("{base}|{n}").as_bytes()));
    }

    // Baseline: each recorded fingerprint absorbs one violation. A version 1 baseline's secret
    // entries were recorded without the value's hash: they match nothing.
    if let Some(b) = baseline {
        let mut left: HashMap<&str, usize> = HashMap::new();
        for e in b
            .violations
            .iter()
            .filter(|e| b.version >= 2 || e.rule != Check::HardcodedSecret.id())
        {
            *left.entry(e.fingerprint.as_str()).or_insert(0) += 1;
        }
        for (v, _) in raw.iter_mut().filter(|(v, _)| v.state == State::Active) {
            if let Some(n) = left.get_mut(v.fingerprint.as_str()).filter(|n| **n > 0) {
                *n -= 1;
                v.state = State::Baselined;
            }
        }
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

/// Lower-case scheme and host, no trailing `/`.
fn normalize_url(url: &str) -> String {
    let url = url.trim().trim_end_matches('/');
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (host, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
            format!(
                "{}://{}{}",
                scheme.to_ascii_lowercase(),
                host.to_ascii_lowercase(),
                path
            )
        }
        None => url.to_string(),
    }
}

/// The baseline file: violations accepted when the gate was adopted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    pub version: u32,
    pub violations: Vec<BaselineEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BaselineEntry {
    pub path: String,
    pub rule: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub function: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub url: Option<String>,
    pub fingerprint: String,
}

impl Baseline {
    /// The active violations of a result, as a baseline (sorted; no line numbers, so it stays stable).
    pub fn from_result(result: &GateResult) -> Baseline {
        let mut violations: Vec<BaselineEntry> = result
            .violations
            .iter()
            .filter(|v| v.state != State::Suppressed)
            .map(|v| BaselineEntry {
                path: v.path.clone(),
                rule: v.rule.id().to_string(),
                function: v.function.clone(),
                url: v.url.clone(),
                fingerprint: v.fingerprint.clone(),
            })
            .collect();
        violations.sort();
        Baseline {
            version: Baseline::VERSION,
            violations,
        }
    }

    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    pub fn read(path: &std::path::Path) -> Result<Baseline, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Usage(format!("cannot read baseline `{}`: {e}", path.display())))?;
        let b: Baseline = serde_json::from_str(&text).map_err(|e| {
            Error::Usage(format!(
                "invalid baseline `{}` at line {}: {e}",
                path.display(),
                e.line()
            ))
        })?;
        if !(1..=Baseline::VERSION).contains(&b.version) {
            return Err(Error::Usage(format!(
                "baseline `{}` has version {}; this access-audit reads versions 1 and {}",
                path.display(),
                b.version,
                Baseline::VERSION
            )));
        }
        Ok(b)
    }

    /// Version 2: `hardcoded-secret` fingerprints include a hash of the value.
    pub const VERSION: u32 = 2;

    /// The entries an older baseline holds but can no longer match (secrets recorded without the
    /// value's hash), to tell the user to write it again.
    pub fn stale_entries(&self) -> usize {
        if self.version >= 2 {
            return 0;
        }
        self.violations
            .iter()
            .filter(|e| e.rule == Check::HardcodedSecret.id())
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_normalization() {
        assert_eq!(
            normalize_url("HTTPS://ComfyUI.Example.space/Prompt/"),
            "https://comfyui.example.space/Prompt"
        );
    }

    #[test]
    fn every_check_has_an_id_and_doc() {
        for c in Check::ALL {
            assert_eq!(Check::from_id(c.id()), Some(c));
            assert!(c.doc().contains("Why"));
        }
    }
}
