//! The scan: walk the paths, then process files on worker threads (large stacks, a caught panic is a
//! diagnostic for that file), each file read once: prefilter → decode → parse → resolve. Results are
//! merged and sorted into one [`Report`].

use std::collections::HashSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::sync::Mutex;

use aho_corasick::AhoCorasick;

use crate::error::Error;
use crate::finding::{Diagnostic, Evidence, Finding, Language, Report, ScanContext};
use crate::lang;
use crate::resolve::{self, FileInfo};
use crate::rules::RuleSet;
use crate::secrets::{self, Secret};
use crate::source;
use crate::suppress::{self, Suppression};
use crate::walk::{self, FileEntry, WalkOptions};

/// What to scan and how.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    pub paths: Vec<PathBuf>,
    pub walk: WalkOptions,
    /// Worker threads (0 = one per core).
    pub threads: usize,
    /// Only these files (canonical paths), e.g. those changed since a git ref.
    pub only: Option<HashSet<PathBuf>>,
    /// Show a progress bar on stderr when the scan takes longer than a second.
    pub progress: bool,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            paths: vec![PathBuf::from(".")],
            walk: WalkOptions::default(),
            threads: 0,
            only: None,
            progress: false,
        }
    }
}

const WORKER_STACK: usize = 64 * 1024 * 1024;

/// Scan every path and return the sorted report.
pub fn scan(opts: &ScanOptions, rules: &RuleSet) -> Result<Report, Error> {
    let mut files: Vec<FileEntry> = Vec::new();
    let mut diagnostics: Vec<Diagnostic> = Vec::new();
    let several = opts.paths.len() > 1;
    for root in &opts.paths {
        if let Err(e) = std::fs::metadata(root) {
            return Err(Error::UnreadablePath {
                path: root.display().to_string(),
                message: e.to_string(),
            });
        }
        let (mut f, mut d) = walk::walk(root, &opts.walk);
        if several {
            let prefix = root.to_string_lossy().trim_end_matches('/').to_string();
            if root.is_dir() {
                f.iter_mut()
                    .for_each(|e| e.display = format!("{prefix}/{}", e.display));
                d.iter_mut()
                    .for_each(|e| e.path = format!("{prefix}/{}", e.path));
            }
        }
        files.extend(f);
        diagnostics.extend(d);
    }
    if let Some(only) = &opts.only {
        files.retain(|f| {
            only.contains(&std::fs::canonicalize(&f.path).unwrap_or_else(|_| f.path.clone()))
        });
    }
    let prefilter = Prefilter::new(rules);
    let threads = if opts.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        opts.threads
    }
    .clamp(1, files.len().max(1));
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<FileOutcome>> = Mutex::new(Vec::new());
    let bar = ProgressBar::with_draw_target(Some(files.len() as u64), ProgressDrawTarget::hidden());
    bar.set_style(
        ProgressStyle::with_template("{spinner} scanning {pos}/{len} files [{elapsed}] {wide_bar}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        if opts.progress {
            // Only for scans longer than a second.
            s.spawn(|| {
                let start = Instant::now();
                while start.elapsed() < Duration::from_secs(1) {
                    if done.load(Ordering::Relaxed) {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                if !done.load(Ordering::Relaxed) {
                    bar.set_draw_target(ProgressDrawTarget::stderr());
                }
            });
        }
        let mut workers = Vec::new();
        for _ in 0..threads {
            let builder = std::thread::Builder::new()
                .name("access-audit-worker".into())
                .stack_size(WORKER_STACK);
            let work = || {
                let mut outcomes = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(entry) = files.get(i) else { break };
                    outcomes.push(scan_file_isolated(entry, rules, &prefilter));
                    bar.inc(1);
                }
                results
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend(outcomes);
            };
            match builder.spawn_scoped(s, work) {
                Ok(h) => workers.push(h),
                // Could not start a thread with a large stack: the others carry on.
                Err(_) => continue,
            }
        }
        for w in workers {
            let _ = w.join();
        }
        done.store(true, Ordering::Relaxed);
        bar.finish_and_clear();
    });
    let outcomes = results.into_inner().unwrap_or_else(|e| e.into_inner());
    let mut findings = Vec::new();
    let mut context = ScanContext::default();
    for o in outcomes {
        findings.extend(o.findings);
        diagnostics.extend(o.diagnostics);
        context.secrets.extend(o.secrets);
        context.suppressions.extend(o.suppressions);
        if !o.spans.is_empty() {
            context.spans.insert(o.path, o.spans);
        }
    }
    Ok(Report::new(findings, diagnostics, files.len()).with_context(context))
}

/// [`scan_file`], with a panic turned into a diagnostic for that file.
pub fn scan_file_isolated(
    entry: &FileEntry,
    rules: &RuleSet,
    prefilter: &Prefilter,
) -> FileOutcome {
    match catch_unwind(AssertUnwindSafe(|| scan_file(entry, rules, prefilter))) {
        Ok(outcome) => outcome,
        Err(panic) => {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            FileOutcome {
                path: entry.display.clone(),
                diagnostics: vec![Diagnostic {
                    path: entry.display.clone(),
                    message: format!(
                        "internal error while scanning this file (please report): {msg}"
                    ),
                }],
                ..Default::default()
            }
        }
    }
}

/// What one file contributed to the scan.
#[derive(Debug, Default)]
pub struct FileOutcome {
    pub path: String,
    pub findings: Vec<Finding>,
    pub diagnostics: Vec<Diagnostic>,
    pub secrets: Vec<Secret>,
    pub suppressions: Vec<Suppression>,
    /// Statement line ranges (for matching suppressions).
    pub spans: Vec<(u32, u32)>,
}

/// Literal needles derived from the rules: a file without any of them cannot hold a finding.
/// A second set (credential shapes, suppression comments) decides whether the text passes are run.
pub struct Prefilter {
    service: AhoCorasick,
    extras: AhoCorasick,
}

impl Prefilter {
    pub fn new(rules: &RuleSet) -> Prefilter {
        let mut needles: Vec<String> = vec!["docker".into()];
        for s in &rules.services {
            needles.extend(s.ports.iter().map(|p| p.to_string()));
            needles.extend(s.hosts.iter().cloned());
            needles.extend(s.domains.iter().cloned());
            needles.extend(s.paths.iter().cloned());
        }
        let build = |needles: &[String]| {
            AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(needles)
                .unwrap_or_else(|_| AhoCorasick::new(["docker"]).expect("static needle"))
        };
        let extras: Vec<String> = secrets::NEEDLES
            .iter()
            .chain(["access-audit:"].iter())
            .map(|s| s.to_string())
            .collect();
        Prefilter {
            service: build(&needles),
            extras: build(&extras),
        }
    }

    /// Could this file hold a service address?
    pub fn may_match(&self, bytes: &[u8]) -> bool {
        self.service.is_match(bytes)
    }

    /// Could this file hold a credential value or a suppression comment?
    pub fn may_have_extras(&self, bytes: &[u8]) -> bool {
        self.extras.is_match(bytes)
    }
}

/// Scan one file: never panics on its content by design; a panic is caught by the caller.
pub fn scan_file(entry: &FileEntry, rules: &RuleSet, prefilter: &Prefilter) -> FileOutcome {
    let mut out = FileOutcome {
        path: entry.display.clone(),
        ..Default::default()
    };
    let diag = |m: String| Diagnostic {
        path: entry.display.clone(),
        message: m,
    };
    let bytes = match std::fs::read(&entry.path) {
        Ok(b) => b,
        Err(e) => {
            out.diagnostics.push(diag(format!("cannot read: {e}")));
            return out;
        }
    };
    let utf16 = bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]);
    // Binary files are told apart before the prefilter, so each one gets its diagnostic.
    if !utf16 && bytes[..bytes.len().min(8192)].contains(&0) {
        out.diagnostics
            .push(diag("skipped: binary file (NUL bytes)".into()));
        return out;
    }
    let service = utf16 || prefilter.may_match(&bytes);
    let extras = utf16 || prefilter.may_have_extras(&bytes);
    if !service && !extras {
        return out;
    }
    let decoded = match source::decode(&bytes, entry.language == Language::Python) {
        Ok(d) => d,
        Err(source::Refused::Binary) => {
            out.diagnostics
                .push(diag("skipped: binary file (NUL bytes)".into()));
            return out;
        }
    };
    if entry.language == Language::Json && is_own_output(&decoded.text) {
        return out;
    }
    if extras {
        out.secrets = secrets::find(&entry.display, &decoded.text);
        out.suppressions = suppress::find(&entry.display, &decoded.text);
    }
    if service || !out.suppressions.is_empty() {
        let (findings, notes, spans) = analyze_with_spans(
            &decoded.text,
            entry.language,
            &entry.display,
            rules,
            decoded.lossy.as_deref(),
        );
        out.findings = findings;
        out.spans = spans;
        out.diagnostics.extend(notes.into_iter().map(diag));
    }
    out
}

/// access-audit's own baseline files and SARIF logs are not configuration: they would report every
/// violation a second time.
fn is_own_output(text: &str) -> bool {
    let head: String = text.chars().take(4096).collect();
    (head.contains("\"violations\"") && head.contains("\"fingerprint\""))
        || (head.contains("\"$schema\"") && head.contains("sarif"))
}

/// Analyze decoded source text. `lossy` is set when decoding replaced bytes (text fallback only).
pub fn analyze(
    text: &str,
    language: Language,
    path: &str,
    rules: &RuleSet,
    lossy: Option<&str>,
) -> (Vec<Finding>, Vec<String>) {
    let (findings, notes, _) = analyze_with_spans(text, language, path, rules, lossy);
    (findings, notes)
}

/// [`analyze`], also returning the statement spans of the file.
fn analyze_with_spans(
    text: &str,
    language: Language,
    path: &str,
    rules: &RuleSet,
    lossy: Option<&str>,
) -> (Vec<Finding>, Vec<String>, Vec<(u32, u32)>) {
    let text_findings = |notes: &mut Vec<String>, why: String| {
        notes.push(format!(
            "{why}; addresses found by text search (evidence: text)"
        ));
        let facts = lang::text::extract(text, rules);
        resolve::findings(
            &facts,
            rules,
            &FileInfo {
                path,
                language,
                evidence: Evidence::Text,
            },
        )
    };
    let mut notes = Vec::new();
    if let Some(why) = lossy {
        let f = text_findings(&mut notes, format!("cannot decode: {why}"));
        return (f, notes, Vec::new());
    }
    let info = FileInfo {
        path,
        language,
        evidence: Evidence::Ast,
    };
    match language {
        Language::Python => {
            let facts = lang::python::extract(text, rules);
            let mut found = resolve::findings(&facts, rules, &info);
            if !facts.notes.is_empty() {
                // The parser recovered: keep its findings, add text findings on other lines.
                let extra = text_findings(&mut notes, facts.notes.join("; "));
                let lines: std::collections::HashSet<u32> = found.iter().map(|f| f.line).collect();
                found.extend(extra.into_iter().filter(|f| !lines.contains(&f.line)));
            }
            (found, notes, facts.stmt_spans)
        }
        Language::Rust => match lang::rust::extract(text, rules) {
            Ok(facts) => (
                resolve::findings(&facts, rules, &info),
                notes,
                facts.stmt_spans,
            ),
            Err(e) => {
                let f = text_findings(&mut notes, format!("cannot parse: {e}"));
                (f, notes, Vec::new())
            }
        },
        Language::Notebook => match lang::notebook::extract(text, rules) {
            Ok(nb) => {
                let mut found = resolve::findings(&nb.facts, rules, &info);
                for f in &mut found {
                    if let Some(&(cell, line)) = nb.line_map.get(f.line as usize - 1) {
                        f.cell = Some(cell);
                        f.line = line;
                    }
                }
                (found, notes, Vec::new())
            }
            Err(e) => {
                let f = text_findings(&mut notes, format!("cannot parse notebook: {e}"));
                (f, notes, Vec::new())
            }
        },
        Language::Shell | Language::Dockerfile => {
            let facts = lang::shell::extract(text, language, rules);
            let info = FileInfo {
                path,
                language,
                evidence: Evidence::Text,
            };
            (
                resolve::findings(&facts, rules, &info),
                notes,
                facts.stmt_spans,
            )
        }
        Language::JavaScript => {
            let facts = lang::text::extract(text, rules);
            let info = FileInfo {
                path,
                language,
                evidence: Evidence::Text,
            };
            (resolve::findings(&facts, rules, &info), notes, Vec::new())
        }
        Language::Dotenv | Language::Yaml | Language::Toml | Language::Json => {
            match lang::config::extract(text, language, path, rules) {
                Ok(cfg) => {
                    let info = FileInfo {
                        path,
                        language,
                        evidence: Evidence::Config,
                    };
                    (
                        resolve::findings(&cfg.facts, rules, &info),
                        notes,
                        Vec::new(),
                    )
                }
                Err(e) => {
                    let f = text_findings(&mut notes, format!("cannot parse: {e}"));
                    (f, notes, Vec::new())
                }
            }
        }
    }
}
