//! The scan: walk the paths, then process files on worker threads (large stacks, a caught panic is a
//! diagnostic for that file), each file read once: prefilter → decode → parse → resolve. Results are
//! merged and sorted into one [`Report`].

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use aho_corasick::AhoCorasick;

use crate::error::Error;
use crate::finding::{Diagnostic, Evidence, Finding, Language, Report};
use crate::lang;
use crate::resolve::{self, FileInfo};
use crate::rules::RuleSet;
use crate::source;
use crate::walk::{self, FileEntry, WalkOptions};

/// What to scan and how.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    pub paths: Vec<PathBuf>,
    pub walk: WalkOptions,
    /// Worker threads (0 = one per core).
    pub threads: usize,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            paths: vec![PathBuf::from(".")],
            walk: WalkOptions::default(),
            threads: 0,
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
    let prefilter = Prefilter::new(rules);
    let threads = if opts.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        opts.threads
    }
    .clamp(1, files.len().max(1));
    let next = AtomicUsize::new(0);
    let results: Mutex<(Vec<Finding>, Vec<Diagnostic>)> = Mutex::new((Vec::new(), Vec::new()));
    std::thread::scope(|s| {
        for _ in 0..threads {
            let builder = std::thread::Builder::new()
                .name("access-audit-worker".into())
                .stack_size(WORKER_STACK);
            let work = || {
                let mut found = Vec::new();
                let mut diags = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(entry) = files.get(i) else { break };
                    let r = catch_unwind(AssertUnwindSafe(|| scan_file(entry, rules, &prefilter)));
                    match r {
                        Ok((f, d)) => {
                            found.extend(f);
                            diags.extend(d);
                        }
                        Err(panic) => {
                            let msg = panic
                                .downcast_ref::<&str>()
                                .map(|s| s.to_string())
                                .or_else(|| panic.downcast_ref::<String>().cloned())
                                .unwrap_or_else(|| "unknown panic".into());
                            diags.push(Diagnostic { path: entry.display.clone(), message: format!("internal error while scanning this file (please report): {msg}") });
                        }
                    }
                }
                let mut r = results.lock().unwrap_or_else(|e| e.into_inner());
                r.0.extend(found);
                r.1.extend(diags);
            };
            if builder.spawn_scoped(s, work).is_err() {
                // Could not start a thread with a large stack: the others carry on.
                continue;
            }
        }
    });
    let (findings, mut file_diags) = results.into_inner().unwrap_or_else(|e| e.into_inner());
    diagnostics.append(&mut file_diags);
    Ok(Report::new(findings, diagnostics, files.len()))
}

/// Literal needles derived from the rules: a file without any of them cannot hold a finding.
pub struct Prefilter {
    ac: AhoCorasick,
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
        let ac = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(&needles)
            .unwrap_or_else(|_| AhoCorasick::new(["docker"]).expect("static needle"));
        Prefilter { ac }
    }

    pub fn may_match(&self, bytes: &[u8]) -> bool {
        self.ac.is_match(bytes)
    }
}

/// Scan one file: never panics on its content by design; a panic is caught by the caller.
pub fn scan_file(
    entry: &FileEntry,
    rules: &RuleSet,
    prefilter: &Prefilter,
) -> (Vec<Finding>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let diag = |m: String| Diagnostic {
        path: entry.display.clone(),
        message: m,
    };
    let bytes = match std::fs::read(&entry.path) {
        Ok(b) => b,
        Err(e) => return (vec![], vec![diag(format!("cannot read: {e}"))]),
    };
    if !prefilter.may_match(&bytes)
        && !bytes.starts_with(&[0xFF, 0xFE])
        && !bytes.starts_with(&[0xFE, 0xFF])
    {
        return (vec![], vec![]);
    }
    let decoded = match source::decode(&bytes, entry.language == Language::Python) {
        Ok(d) => d,
        Err(source::Refused::Binary) => {
            return (
                vec![],
                vec![diag("skipped: binary file (NUL bytes)".into())],
            )
        }
    };
    let (findings, notes) = analyze(
        &decoded.text,
        entry.language,
        &entry.display,
        rules,
        decoded.lossy.as_deref(),
    );
    diags.extend(notes.into_iter().map(diag));
    (findings, diags)
}

/// Analyze decoded source text. `lossy` is set when decoding replaced bytes (text fallback only).
pub fn analyze(
    text: &str,
    language: Language,
    path: &str,
    rules: &RuleSet,
    lossy: Option<&str>,
) -> (Vec<Finding>, Vec<String>) {
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
        return (f, notes);
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
            (found, notes)
        }
        Language::Rust => match lang::rust::extract(text, rules) {
            Ok(facts) => (resolve::findings(&facts, rules, &info), notes),
            Err(e) => {
                let f = text_findings(&mut notes, format!("cannot parse: {e}"));
                (f, notes)
            }
        },
    }
}
