//! The scan: walk the paths, then process files on worker threads (large stacks, a caught panic is a
//! diagnostic for that file). Configuration files first; then code in two phases — each file read
//! once (prefilter → decode → text passes, its imports noted), then, with the project's index of
//! imports complete, parse → resolve. Results are merged and sorted into one [`Report`].

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::sync::{Arc, Mutex};

use regex::bytes::{Regex, RegexBuilder};

use crate::engine::finding::{Diagnostic, Evidence, Finding, Language, Meta, Report, ScanContext};
use crate::engine::ir::{FileFacts, Pos};
use crate::engine::lower;
use crate::engine::lower::config::ConfigFacts;
use crate::engine::profile::{self, Stage};
use crate::engine::project::{FileContext, IndexedFile, Module, ModuleRefs, Project};
use crate::engine::resolve::{self, FileInfo};
use crate::engine::secrets::{self, Secret};
use crate::engine::source;
use crate::engine::suppress::{self, Suppression};
use crate::engine::walk::{self, FileEntry, WalkOptions};
use crate::error::Error;
use crate::rules::RuleSet;

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
    /// Bytes of decoded text held between the two phases of the code scan ([`TextBudget`]).
    pub held_text: usize,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            paths: vec![PathBuf::from(".")],
            walk: WalkOptions::default(),
            threads: 0,
            only: None,
            progress: false,
            held_text: TextBudget::DEFAULT,
        }
    }
}

const WORKER_STACK: usize = 64 * 1024 * 1024;

/// Scan every path and return the sorted report.
pub fn scan(opts: &ScanOptions, rules: &RuleSet) -> Result<Report, Error> {
    profile::start();
    let report = scan_inner(opts, rules);
    profile::scan_done();
    report
}

fn scan_inner(opts: &ScanOptions, rules: &RuleSet) -> Result<Report, Error> {
    let mut files: Vec<FileEntry> = Vec::new();
    let mut diagnostics: Vec<Diagnostic> = Vec::new();
    let several = opts.paths.len() > 1;
    for root in &opts.paths {
        // A root that cannot be listed is an error, not an empty (passing) scan.
        let readable = std::fs::metadata(root).and_then(|m| {
            if m.is_dir() {
                std::fs::read_dir(root).map(drop)
            } else {
                Ok(())
            }
        });
        if let Err(e) = readable {
            return Err(Error::UnreadablePath {
                path: root.display().to_string(),
                message: e.to_string(),
                source: Some(e.into()),
            });
        }
        let (mut f, mut d) = profile::time_process(Stage::Walk, || walk::walk(root, &opts.walk));
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
    // `--changed-since`: every file is read (an unchanged file's values may come from a changed
    // `.env`, compose file or settings module); the changed files and those whose findings depend
    // on one are reported.
    let wanted = |f: &FileEntry| {
        opts.only.as_ref().is_none_or(|only| {
            only.contains(&std::fs::canonicalize(&f.path).unwrap_or_else(|_| f.path.clone()))
        })
    };
    let changed: HashSet<String> = files
        .iter()
        .filter(|f| wanted(f))
        .map(|f| f.display.clone())
        .collect();
    // Git is asked for the commit while the files are scanned.
    let meta = {
        let (paths, digest) = (opts.paths.clone(), rules.digest());
        std::thread::Builder::new().spawn(move || Meta::for_scan(&paths, digest))
    };
    let prefilter = Prefilter::new(rules);
    let threads = if opts.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        opts.threads
    }
    .clamp(1, files.len().max(1));
    let bar = ProgressBar::with_draw_target(Some(files.len() as u64), ProgressDrawTarget::hidden());
    bar.set_style(
        ProgressStyle::with_template("{spinner} scanning {pos}/{len} files [{elapsed}] {wide_bar}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let done = AtomicBool::new(false);
    let roots: Vec<(PathBuf, String)> = opts
        .paths
        .iter()
        .map(|r| {
            (
                r.clone(),
                if several && r.is_dir() {
                    r.to_string_lossy().trim_end_matches('/').to_string()
                } else {
                    String::new()
                },
            )
        })
        .collect();
    let mut project = Project::new(&roots);
    let (config_files, code_files): (Vec<&FileEntry>, Vec<&FileEntry>) =
        files.iter().partition(|f| f.language.is_config());
    let mut outcomes = Vec::new();
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
        // Configuration first: it gives env values and host names to the code.
        let mut configs = run_parallel(&config_files, threads, |e| {
            let out = scan_file_isolated(e, rules, &prefilter);
            bar.inc(1);
            (!out.is_empty()).then_some(out)
        });
        // Outcomes come back in any order: pair them with their files by report path.
        let by_path: HashMap<&str, &FileEntry> = config_files
            .iter()
            .map(|e| (e.display.as_str(), *e))
            .collect();
        configs.sort_by(|a, b| a.path.cmp(&b.path));
        for o in configs.iter_mut() {
            if let (Some(cfg), Some(entry)) = (o.config.take(), by_path.get(o.path.as_str())) {
                project.add_config(&entry.path, &entry.display, &cfg, rules);
            }
        }
        let files_of = |language: Language| {
            code_files
                .iter()
                .filter(|e| e.language == language)
                .map(|e| e.path.clone())
                .collect()
        };
        project.set_code_files(
            files_of(Language::Python),
            files_of(Language::Rust),
            opts.walk.max_file_size,
        );
        // First phase: every code file is read once (prefilter, decode, text passes) and what
        // its text says about other modules is noted; the analysed files' text is kept.
        let mut prepared: Vec<Prepared> = {
            let project = &project;
            let budget = TextBudget::new(opts.held_text);
            run_parallel(&code_files, threads, |e| {
                let p = isolate(
                    e,
                    || prepare(e, &prefilter, Some(project), Some(&budget)),
                    |o| Prepared::failed(e, o),
                );
                if p.text.is_none() {
                    bar.inc(1);
                }
                (!p.is_empty()).then_some(p)
            })
        };
        let indexing = profile::begin(Stage::Index);
        project.index(
            prepared
                .iter_mut()
                .filter_map(|p| {
                    Some(IndexedFile {
                        path: p.canonical.clone()?,
                        language: p.entry.language,
                        refs: std::mem::take(&mut p.refs),
                        analysed: p.text.is_some(),
                        text: p.text.as_ref().and_then(Held::text).cloned(),
                    })
                })
                .collect(),
        );
        indexing.end(0);
        // Second phase: analysis, with every file's imports known (a module another file looks
        // into is lowered once, for both).
        let project = &project;
        let prepared: Vec<Mutex<Option<Prepared>>> =
            prepared.into_iter().map(|p| Mutex::new(Some(p))).collect();
        let code = run_parallel(&prepared, threads, |slot| {
            let p = slot.lock().unwrap_or_else(|e| e.into_inner()).take()?;
            let entry = p.entry;
            let analysed = p.text.is_some();
            let out = isolate(entry, || finish(p, rules, Some(project)), |o| o);
            if analysed {
                bar.inc(1);
            }
            (!out.is_empty()).then_some(out)
        });
        outcomes.extend(configs);
        outcomes.extend(code);
        done.store(true, Ordering::Relaxed);
        bar.finish_and_clear();
    });
    // The modules other files looked into can be many (every file of a dense tree): they are
    // freed beside the merge, not before it. (If no thread can be started, the closure and the
    // project with it are dropped here.)
    let _ = std::thread::Builder::new().spawn(move || drop(project));
    let merge = profile::begin(Stage::Merge);
    // A binding reported at its definition is folded away when another file builds on it.
    let used: HashSet<(String, Pos)> = outcomes
        .iter()
        .flat_map(|o| o.external_uses.iter().cloned())
        .collect();
    let mut context = ScanContext::default();
    let reported = if opts.only.is_some() {
        depending_on(&outcomes, changed)
    } else {
        changed
    };
    outcomes.retain(|o| reported.contains(&o.path));
    // Sized once: growing by doubling would hold two copies of the largest part of the report.
    let mut findings = Vec::with_capacity(outcomes.iter().map(|o| o.findings.len()).sum());
    for o in outcomes {
        let folded: Vec<Pos> = o
            .definitions
            .iter()
            .filter(|p| {
                // An env entry is used by line (`env_source`); a Kubernetes `- name:` entry
                // gives its value on the next line.
                let by_line = |line: u32| used.contains(&(o.path.clone(), Pos { line, column: 0 }));
                let yaml = o.path.ends_with(".yaml") || o.path.ends_with(".yml");
                used.contains(&(o.path.clone(), **p))
                    || by_line(p.line)
                    || (yaml && by_line(p.line.saturating_sub(1)))
            })
            .copied()
            .collect();
        // Only the statements that hold a finding or a secret matter to the gate.
        let lines: Vec<u32> = o
            .findings
            .iter()
            .map(|f| f.line)
            .chain(o.secrets.iter().map(|s| s.line))
            .collect();
        let spans: Vec<(u32, u32)> = o
            .spans
            .into_iter()
            .filter(|(s, e)| lines.iter().any(|l| s <= l && l <= e))
            .collect();
        findings.extend(
            o.findings
                .into_iter()
                .filter(|f| {
                    !folded.contains(&Pos {
                        line: f.line,
                        column: f.column,
                    })
                })
                .map(Finding::masked),
        );
        diagnostics.extend(o.diagnostics);
        context.secrets.extend(o.secrets);
        context.suppressions.extend(o.suppressions);
        if let Some(h) = o.hash {
            context.hashes.insert(o.path.clone(), h);
        }
        if !spans.is_empty() {
            context.spans.insert(o.path, spans);
        }
    }
    let report = Report::new(findings, diagnostics, reported.len())
        .with_context(context)
        .with_meta(match meta.map(std::thread::JoinHandle::join) {
            Ok(Ok(meta)) => meta,
            _ => Meta::for_scan(&opts.paths, rules.digest()),
        });
    merge.end(0);
    Ok(report)
}

/// The files in `changed` and every file with a finding whose value comes from one of them
/// (`env_source`, `defined_at`), transitively.
fn depending_on(outcomes: &[FileOutcome], mut changed: HashSet<String>) -> HashSet<String> {
    // `path:line` or, in a notebook, `path:cell N:line`.
    let file_of = |at: &str| -> String {
        let path = at.rsplit_once(':').map_or(at, |(p, _)| p);
        match path.rsplit_once(":cell ") {
            Some((p, n)) if n.chars().all(|c| c.is_ascii_digit()) => p.to_string(),
            _ => path.to_string(),
        }
    };
    loop {
        let before = changed.len();
        for o in outcomes {
            if changed.contains(&o.path) {
                continue;
            }
            let depends = o.findings.iter().any(|f| {
                [&f.env_source, &f.defined_at]
                    .into_iter()
                    .flatten()
                    .any(|at| changed.contains(&file_of(at)))
            });
            if depends {
                changed.insert(o.path.clone());
            }
        }
        if changed.len() == before {
            return changed;
        }
    }
}

/// Run `f` over `items` on worker threads with large stacks; the results it gives, in no
/// particular order.
fn run_parallel<I, T, F>(items: &[I], threads: usize, f: F) -> Vec<T>
where
    I: Sync,
    T: Send,
    F: Fn(&I) -> Option<T> + Sync,
{
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<T>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        let mut started = 0;
        for _ in 0..threads.min(items.len()).max(1) {
            let builder = std::thread::Builder::new()
                .name(crate::engine::lower::DEEP_STACK_WORKER.into())
                .stack_size(WORKER_STACK);
            let work = || {
                let mut out = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    // Most files hold nothing: only what a file contributes is kept, so that
                    // memory follows the findings, not the number of files.
                    out.extend(f(item));
                    if i % TRIM_EVERY == TRIM_EVERY - 1 {
                        release_free_memory();
                    }
                }
                // What the workers freed is not reused by the thread that merges the results.
                release_free_memory();
                results
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend(out);
            };
            // Could not start a thread with a large stack: the others carry on, and when none
            // started at all, this thread does the work rather than lose every file.
            if builder.spawn_scoped(s, work).is_ok() {
                started += 1;
            } else if started == 0 {
                work();
            }
        }
    });
    results.into_inner().unwrap_or_else(|e| e.into_inner())
}

/// Files between two [`release_free_memory`] calls of a worker.
const TRIM_EVERY: usize = 64;

/// Give the pages the allocator keeps free back to the system. A parser's tree is freed in
/// small pieces among results that live to the end of the scan; glibc keeps such pages, so
/// without this the peak RSS grows with the tree's size, not with the results.
fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// [`scan_file`], with a panic turned into a diagnostic for that file.
pub fn scan_file_isolated(
    entry: &FileEntry,
    rules: &RuleSet,
    prefilter: &Prefilter,
) -> FileOutcome {
    isolate(entry, || scan_file(entry, rules, prefilter), |o| o)
}

/// A diagnostic for `entry`.
fn diagnostic(entry: &FileEntry, message: String) -> Diagnostic {
    Diagnostic {
        path: entry.display.clone(),
        message,
    }
}

/// Run `work` for `entry`; a panic becomes a diagnostic for that file (with its path), given
/// to `failed` to make the result.
fn isolate<T>(
    entry: &FileEntry,
    work: impl FnOnce() -> T,
    failed: impl FnOnce(FileOutcome) -> T,
) -> T {
    match catch_unwind(AssertUnwindSafe(work)) {
        Ok(result) => result,
        Err(panic) => {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            failed(FileOutcome {
                path: entry.display.clone(),
                diagnostics: vec![diagnostic(
                    entry,
                    format!("internal error while scanning this file (please report): {msg}"),
                )],
                ..Default::default()
            })
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
    /// Positions of findings that are a binding reported at its definition.
    pub definitions: Vec<Pos>,
    /// Bindings of other files this file's findings were built from.
    pub external_uses: Vec<(String, Pos)>,
    /// What a configuration file says (env values, compose services); boxed, as most files are
    /// not configuration.
    pub config: Option<Box<ConfigFacts>>,
    /// A digest of the bytes read ([`crate::digest::content_hash`]).
    pub hash: Option<u64>,
}

impl FileOutcome {
    /// Nothing for the report: no finding, diagnostic, secret, suppression, value or digest.
    pub fn is_empty(&self) -> bool {
        self.findings.is_empty()
            && self.diagnostics.is_empty()
            && self.secrets.is_empty()
            && self.suppressions.is_empty()
            && self.spans.is_empty()
            && self.definitions.is_empty()
            && self.external_uses.is_empty()
            && self.config.is_none()
            && self.hash.is_none()
    }
}

/// Literal needles derived from the rules: a file without any of them cannot hold a finding.
/// A second set (credential shapes, suppression comments) decides whether the text passes are run.
///
/// Both are searched for in any ASCII case by the `regex` crate, whose literal search (SIMD over
/// the needles' case variants) reads a file several times faster than an Aho-Corasick automaton
/// built case-insensitively: most files are only ever read by this search.
pub struct Prefilter {
    /// Every needle, longest first: at one position the longest needle that starts there is found.
    service: Regex,
    /// Port numbers: they only count as whole numbers (`8188` inside `181880` does not count).
    ports: HashSet<Vec<u8>>,
    /// Needles that count wherever they are found (a port number that is also a host or domain).
    anywhere: HashSet<Vec<u8>>,
    /// `ACCESS_AUDIT_NO_PREFILTER=1`: parse every file (to check the prefilter drops nothing).
    pub disabled: bool,
    extras: Regex,
}

/// A regular expression matching any of `needles` in any ASCII case (longest first at one
/// position); one that matches everything if it cannot be built (every file is then parsed).
fn any_of(needles: &[String]) -> Regex {
    let mut sorted: Vec<&String> = needles.iter().collect();
    sorted.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
    sorted.dedup();
    let alternatives: Vec<String> = sorted.iter().map(|n| regex::escape(n)).collect();
    RegexBuilder::new(&format!("(?i-u:{})", alternatives.join("|")))
        .unicode(false)
        .build()
        .unwrap_or_else(|_| Regex::new("").expect("the empty pattern"))
}

impl Prefilter {
    pub fn new(rules: &RuleSet) -> Prefilter {
        let ports: Vec<String> = rules
            .services
            .iter()
            .flat_map(|s| s.ports.iter().map(|p| p.to_string()))
            .collect();
        let mut others: Vec<String> = vec!["docker".into()];
        for s in &rules.services {
            others.extend(s.hosts.iter().cloned());
            others.extend(s.domains.iter().cloned());
            others.extend(s.paths.iter().cloned());
        }
        let key = |n: &String| n.to_ascii_lowercase().into_bytes();
        let extras: Vec<String> = secrets::NEEDLES
            .iter()
            .chain(["access-audit:"].iter())
            .map(|s| s.to_string())
            .collect();
        let disabled = std::env::var_os("ACCESS_AUDIT_NO_PREFILTER").is_some_and(|v| v == "1");
        Prefilter {
            service: any_of(&[ports.clone(), others.clone()].concat()),
            ports: ports.iter().map(key).collect(),
            anywhere: others.iter().map(key).collect(),
            extras: any_of(&extras),
            disabled,
        }
    }

    /// Could this file hold a service address? (`8188` inside `181880` does not count.)
    pub fn may_match(&self, bytes: &[u8]) -> bool {
        let mut at = 0;
        while let Some(m) = self.service.find_at(bytes, at) {
            let found = m.as_bytes().to_ascii_lowercase();
            let port_only = self.ports.contains(&found) && !self.anywhere.contains(&found);
            let whole = !bytes[..m.start()].last().is_some_and(u8::is_ascii_digit)
                && !bytes.get(m.end()).is_some_and(u8::is_ascii_digit);
            if !port_only || whole {
                return true;
            }
            // A port inside a longer number. Any needle that starts here is a prefix of it
            // (digits, preceded or followed by a digit too): go on from the next byte.
            at = m.start() + 1;
        }
        false
    }

    /// Could this file hold a credential value or a suppression comment?
    pub fn may_have_extras(&self, bytes: &[u8]) -> bool {
        self.extras.is_match(bytes)
    }
}

/// Scan one file on its own: never panics on its content by design; a panic is caught by the caller.
pub fn scan_file(entry: &FileEntry, rules: &RuleSet, prefilter: &Prefilter) -> FileOutcome {
    finish(prepare(entry, prefilter, None, None), rules, None)
}

/// A file after the scan's first phase: read, prefiltered, decoded, its text passes done; the
/// text is kept when the file is to be analysed.
struct Prepared<'e> {
    entry: &'e FileEntry,
    outcome: FileOutcome,
    /// Canonical path, for a code file the project knows (its key there).
    canonical: Option<PathBuf>,
    /// The text to analyse (`None`: the file is done).
    text: Option<Held>,
    /// Why decoding replaced bytes (the text is then only searched).
    lossy: Option<String>,
    /// What the text says about other modules (Python and Rust, with a project).
    refs: ModuleRefs,
}

impl<'e> Prepared<'e> {
    /// A panic while preparing `entry`: the diagnostic is the file's outcome.
    fn failed(entry: &'e FileEntry, outcome: FileOutcome) -> Prepared<'e> {
        Prepared {
            entry,
            outcome,
            canonical: None,
            text: None,
            lossy: None,
            refs: ModuleRefs::default(),
        }
    }

    fn is_empty(&self) -> bool {
        self.outcome.is_empty() && self.text.is_none() && self.refs.is_empty()
    }
}

/// The text of a file to analyse, between the scan's two phases: held in memory, or read again
/// when the analysis comes (see [`TextBudget`]).
enum Held {
    Text(Arc<String>),
    OnDisk,
}

impl Held {
    /// The text when it is held.
    fn text(&self) -> Option<&Arc<String>> {
        match self {
            Held::Text(t) => Some(t),
            Held::OnDisk => None,
        }
    }
}

/// How much decoded text the first phase may hold for the second. Below it a file is read once;
/// past it (a large, dense tree) the rest are read again when analysed, so memory does not grow
/// with the size of the tree: a second read of a file in the page cache costs far less than
/// parsing it.
pub struct TextBudget(AtomicUsize);

impl TextBudget {
    /// 16 MiB: every analysed file of a tree of a few thousand service clients stays in memory.
    pub const DEFAULT: usize = 16 << 20;

    pub fn new(bytes: usize) -> TextBudget {
        TextBudget(AtomicUsize::new(bytes))
    }

    /// May `len` more bytes be held? Takes them from the budget when they may.
    fn hold(&self, len: usize) -> bool {
        self.0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                left.checked_sub(len)
            })
            .is_ok()
    }
}

/// Read, prefilter and decode one file, and run its text passes; with a project, note what a
/// Python or Rust file's text says about other modules. The text is held for the analysis
/// while `budget` allows.
fn prepare<'e>(
    entry: &'e FileEntry,
    prefilter: &Prefilter,
    project: Option<&Project>,
    budget: Option<&TextBudget>,
) -> Prepared<'e> {
    let mut p = Prepared {
        entry,
        outcome: FileOutcome {
            path: entry.display.clone(),
            ..Default::default()
        },
        canonical: None,
        text: None,
        lossy: None,
        refs: ModuleRefs::default(),
    };
    let diag = |m: String| diagnostic(entry, m);
    let bytes = match profile::time(Stage::Read, 0, || std::fs::read(&entry.path)) {
        Ok(b) => b,
        Err(e) => {
            p.outcome
                .diagnostics
                .push(diag(format!("cannot read: {e}")));
            return p;
        }
    };
    let utf16 = source::has_utf16_bom(&bytes);
    let prefiltering = profile::begin(Stage::Prefilter);
    // Binary files are told apart before the prefilter, so each one gets its diagnostic.
    if source::is_binary(&bytes) {
        p.outcome
            .diagnostics
            .push(diag("skipped: binary file (NUL bytes)".into()));
        return p;
    }
    let service = utf16 || prefilter.disabled || prefilter.may_match(&bytes);
    let extras = utf16 || prefilter.may_have_extras(&bytes);
    prefiltering.end(bytes.len());
    let code = matches!(entry.language, Language::Python | Language::Rust);
    let project = project.filter(|_| code);
    // Env files and YAML (compose, Kubernetes) are always read: they give values to other files.
    let context_file = matches!(entry.language, Language::Dotenv | Language::Yaml);
    if !service && !extras && !context_file {
        // Not analysed, but a Python file may import what another file defines: callers of
        // that file's functions are looked for there.
        let python = project.filter(|_| entry.language == Language::Python);
        if let (Some(project), Ok(text)) = (python, std::str::from_utf8(&bytes)) {
            p.refs = profile::time(Stage::Index, text.len(), || {
                project.refs(entry.language, text)
            });
            if !p.refs.is_empty() {
                p.canonical = std::fs::canonicalize(&entry.path).ok();
            }
        }
        return p;
    }
    // What was read, for `check --fix` (only a file that can hold a finding is ever fixed).
    let decoding = profile::begin(Stage::Decode);
    p.outcome.hash = Some(crate::digest::content_hash(&bytes));
    let decoded = source::decode(&bytes, entry.language == Language::Python);
    decoding.end(bytes.len());
    let decoded = match decoded {
        Ok(d) => d,
        Err(source::Refused::Binary) => {
            p.outcome
                .diagnostics
                .push(diag("skipped: binary file (NUL bytes)".into()));
            return p;
        }
    };
    drop(bytes);
    if entry.language == Language::Json && is_own_output(&decoded.text) {
        return p;
    }
    if extras {
        let text = profile::begin(Stage::Text);
        p.outcome.secrets = if entry.language == Language::Notebook {
            secrets::find_in_notebook(&entry.display, &decoded.text)
        } else {
            secrets::find(&entry.display, &decoded.text)
        };
        p.outcome.suppressions = suppress::find(&entry.display, &decoded.text, entry.language);
        text.end(decoded.text.len());
    }
    if service || !p.outcome.suppressions.is_empty() || context_file {
        if let Some(project) = project.filter(|_| decoded.lossy.is_none()) {
            p.refs = profile::time(Stage::Index, decoded.text.len(), || {
                project.refs(entry.language, &decoded.text)
            });
        }
        p.canonical = std::fs::canonicalize(&entry.path).ok();
        p.text = Some(if budget.is_none_or(|b| b.hold(decoded.text.len())) {
            p.lossy = decoded.lossy;
            Held::Text(Arc::new(decoded.text))
        } else {
            Held::OnDisk
        });
    }
    p
}

/// Analyse a prepared file, with the project's context (imports, env values, compose services)
/// when given.
fn finish(p: Prepared, rules: &RuleSet, project: Option<&Project>) -> FileOutcome {
    let mut out = p.outcome;
    let (Some(held), entry) = (p.text, p.entry) else {
        return out;
    };
    let (text, lossy) = match held {
        Held::Text(text) => (text, p.lossy),
        Held::OnDisk => match source::read_decoded(&entry.path, entry.language) {
            Ok(d) => (Arc::new(d.text), d.lossy),
            Err(e) => {
                out.diagnostics.push(diagnostic(entry, e));
                return out;
            }
        },
    };
    let ctx = project.zip(p.canonical.as_deref());
    let a = analyze_full(
        &text,
        entry.language,
        &entry.display,
        rules,
        lossy.as_deref(),
        ctx,
    );
    out.findings = a.findings;
    out.spans = a.spans;
    out.definitions = a.definitions;
    out.external_uses = a.external_uses;
    out.config = a.config.map(Box::new);
    out.diagnostics
        .extend(a.notes.into_iter().map(|m| diagnostic(entry, m)));
    out
}

/// access-audit's own baseline files and SARIF logs are not configuration: they would report every
/// violation a second time.
fn is_own_output(text: &str) -> bool {
    let head: String = text.chars().take(4096).collect();
    (head.contains("\"violations\"") && head.contains("\"fingerprint\""))
        || (head.contains("\"$schema\"") && head.contains("sarif"))
}

/// Analyze decoded source text on its own. `lossy` is set when decoding replaced bytes (text
/// fallback only).
pub fn analyze(
    text: &str,
    language: Language,
    path: &str,
    rules: &RuleSet,
    lossy: Option<&str>,
) -> (Vec<Finding>, Vec<String>) {
    let a = analyze_full(text, language, path, rules, lossy, None);
    (a.findings, a.notes)
}

/// Everything the analysis of one file yields.
#[derive(Debug, Default)]
pub struct Analysis {
    pub findings: Vec<Finding>,
    pub notes: Vec<String>,
    pub spans: Vec<(u32, u32)>,
    pub definitions: Vec<Pos>,
    pub external_uses: Vec<(String, Pos)>,
    pub config: Option<ConfigFacts>,
}

/// A JavaScript / TypeScript test file: `*.test.*`, `*.spec.*`, or under `__tests__/`.
fn is_js_test(path: &str) -> bool {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    name.contains(".test.")
        || name.contains(".spec.")
        || path.split(['/', '\\']).any(|c| c == "__tests__")
}

/// A file's facts: lowered once and shared with other files' lookups into it, or its own.
enum Lowered {
    Shared(Arc<Module>),
    Own(Box<FileFacts>),
}

impl Lowered {
    /// The statement spans: moved out of the file's own facts, copied from shared ones.
    fn into_spans(self) -> Vec<(u32, u32)> {
        match self {
            Lowered::Shared(m) => m.facts().stmt_spans.clone(),
            Lowered::Own(f) => f.stmt_spans,
        }
    }
}

impl std::ops::Deref for Lowered {
    type Target = FileFacts;

    fn deref(&self) -> &FileFacts {
        match self {
            Lowered::Shared(m) => m.facts(),
            Lowered::Own(f) => f,
        }
    }
}

/// The facts of a Python or Rust file: those the project shares when other files look into it
/// (lowered by whichever came first), else lowered now by `lower`.
fn lower_once<E>(
    ctx: Option<(&Project, &Path)>,
    text: &str,
    rules: &RuleSet,
    lower: impl FnOnce(&str, &RuleSet) -> Result<FileFacts, E>,
) -> Result<Lowered, E> {
    let shared = ctx
        .filter(|(project, file)| project.is_shared(file))
        .and_then(|(project, file)| {
            profile::time(Stage::Lower, text.len(), || project.shared(file, rules))
        });
    match shared {
        Some(m) => Ok(Lowered::Shared(m)),
        None => profile::time(Stage::Lower, text.len(), || lower(text, rules))
            .map(|f| Lowered::Own(Box::new(f))),
    }
}

/// Analyze decoded source text; `ctx` is the project and the file's canonical path.
pub fn analyze_full(
    text: &str,
    language: Language,
    path: &str,
    rules: &RuleSet,
    lossy: Option<&str>,
    ctx: Option<(&Project, &Path)>,
) -> Analysis {
    let mut a = Analysis::default();
    let text_findings = |notes: &mut Vec<String>, why: String| {
        notes.push(format!(
            "{why}; addresses found by text search (evidence: text)"
        ));
        let facts = profile::time(Stage::Lower, text.len(), || {
            lower::text::extract(text, rules)
        });
        profile::time(Stage::Resolve, 0, || {
            resolve::findings(
                &facts,
                rules,
                &FileInfo {
                    path,
                    language,
                    evidence: Evidence::Text,
                },
            )
        })
    };
    if let Some(why) = lossy {
        a.findings = text_findings(&mut a.notes, format!("cannot decode: {why}"));
        return a;
    }
    let resolve_with = |facts: &FileFacts, evidence: Evidence, a: &mut Analysis| {
        let info = FileInfo {
            path,
            language,
            evidence,
        };
        let file_ctx = ctx.map(|(project, file)| FileContext {
            project,
            rules,
            path: file.to_path_buf(),
            language,
            facts,
            depth: 0,
            env: Vec::new(),
        });
        let r = profile::time(Stage::Resolve, 0, || {
            resolve::resolve(facts, rules, &info, file_ctx.as_ref())
        });
        a.definitions = r.definitions;
        a.external_uses = r.external_uses;
        r.findings
    };
    match language {
        Language::Python => {
            let facts = lower_once(ctx, text, rules, |t, r| {
                Ok::<_, Infallible>(lower::python::extract(t, r))
            })
            .unwrap_or_else(|e| match e {});
            let mut found = resolve_with(&facts, Evidence::Ast, &mut a);
            if !facts.notes.is_empty() {
                // The parser recovered: keep its findings, add text findings on other lines.
                let extra = text_findings(&mut a.notes, facts.notes.join("; "));
                let lines: HashSet<u32> = found.iter().map(|f| f.line).collect();
                found.extend(extra.into_iter().filter(|f| !lines.contains(&f.line)));
            }
            a.findings = found;
            a.spans = facts.into_spans();
        }
        Language::Rust => match lower_once(ctx, text, rules, lower::rust::extract) {
            Ok(facts) => {
                a.findings = resolve_with(&facts, Evidence::Ast, &mut a);
                a.spans = facts.into_spans();
            }
            Err(e) => a.findings = text_findings(&mut a.notes, format!("cannot parse: {e}")),
        },
        Language::Notebook => match profile::time(Stage::Lower, text.len(), || {
            lower::notebook::extract(text, rules)
        }) {
            Ok(nb) => {
                let mut found = resolve_with(&nb.facts, Evidence::Ast, &mut a);
                // `!curl …` lines and `%%bash` cells: the shell front end, same coordinates.
                let info = FileInfo {
                    path,
                    language,
                    evidence: Evidence::Text,
                };
                found.extend(resolve::resolve(&nb.shell, rules, &info, None).findings);
                let cell_of =
                    |line: u32| nb.line_map.get((line as usize).saturating_sub(1)).copied();
                for f in &mut found {
                    if let Some((cell, line)) = cell_of(f.line) {
                        f.cell = Some(cell);
                        f.line = line;
                    }
                    // `defined_at` in the same notebook: `path:cell N:line`.
                    let local = f
                        .defined_at
                        .as_deref()
                        .and_then(|d| d.strip_prefix(path))
                        .and_then(|r| r.strip_prefix(':'));
                    if let Some((cell, line)) = local.and_then(|l| l.parse().ok()).and_then(cell_of)
                    {
                        f.defined_at = Some(format!("{path}:cell {cell}:{line}"));
                    }
                }
                a.notes.extend(nb.facts.notes.iter().cloned());
                a.definitions.clear();
                a.findings = found;
            }
            Err(e) => {
                a.findings = text_findings(&mut a.notes, format!("cannot parse notebook: {e}"))
            }
        },
        Language::Shell | Language::Dockerfile => {
            let facts = profile::time(Stage::Lower, text.len(), || {
                lower::shell::extract(text, language, rules)
            });
            a.findings = resolve_with(&facts, Evidence::Text, &mut a);
            a.spans = facts.stmt_spans;
        }
        // JavaScript / TypeScript is searched as text, where a test's data and expectations
        // cannot be told from requests: its test files are not searched.
        Language::JavaScript if is_js_test(path) => {}
        Language::JavaScript => {
            let facts = profile::time(Stage::Lower, text.len(), || {
                lower::text::extract(text, rules)
            });
            a.findings = resolve_with(&facts, Evidence::Text, &mut a);
        }
        Language::Dotenv | Language::Yaml | Language::Toml | Language::Json => {
            match profile::time(Stage::Lower, text.len(), || {
                lower::config::extract(text, language, path, rules)
            }) {
                Ok(cfg) => {
                    let r = resolve::resolve(
                        &cfg.facts,
                        rules,
                        &FileInfo {
                            path,
                            language,
                            evidence: Evidence::Config,
                        },
                        None,
                    );
                    // Env entries are definitions: folded away where code uses their value.
                    a.definitions = r.definitions;
                    a.findings = r.findings;
                    a.config = Some(cfg);
                }
                Err(e) => a.findings = text_findings(&mut a.notes, format!("cannot parse: {e}")),
            }
        }
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str) -> FileEntry {
        FileEntry {
            path: PathBuf::from(name),
            display: name.to_string(),
            language: Language::Python,
            size: 0,
        }
    }

    fn outcome(e: &FileEntry) -> FileOutcome {
        FileOutcome {
            path: e.display.clone(),
            diagnostics: vec![Diagnostic {
                path: e.display.clone(),
                message: "ok".into(),
            }],
            ..Default::default()
        }
    }

    /// The prefilter's answer as an Aho-Corasick automaton gives it: any needle, any ASCII case,
    /// every occurrence looked at, a port only as a whole number.
    fn oracle(ports: &[&str], others: &[&str]) -> impl Fn(&[u8]) -> bool {
        let needles: Vec<&str> = ports.iter().chain(others).copied().collect();
        let ac = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(&needles)
            .unwrap();
        let n = ports.len();
        move |bytes| {
            ac.find_overlapping_iter(bytes).any(|m| {
                m.pattern().as_usize() >= n
                    || (!bytes[..m.start()].last().is_some_and(u8::is_ascii_digit)
                        && !bytes.get(m.end()).is_some_and(u8::is_ascii_digit))
            })
        }
    }

    fn prefilter_of(ports: &[&str], others: &[&str]) -> Prefilter {
        let own = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let key = |v: &[&str]| {
            v.iter()
                .map(|s| s.to_ascii_lowercase().into_bytes())
                .collect()
        };
        Prefilter {
            service: any_of(&[own(ports), own(others)].concat()),
            ports: key(ports),
            anywhere: key(others),
            disabled: false,
            extras: any_of(&own(secrets::NEEDLES)),
        }
    }

    #[test]
    fn the_prefilter_finds_what_an_automaton_over_every_occurrence_finds() {
        let ports = ["8188", "300", "3000", "30001"];
        let others = [
            "docker",
            "comfy",
            "comfyui-api",
            "/ws",
            "/prompt",
            "3000.example",
            "café.io",
        ];
        let p = prefilter_of(&ports, &others);
        let oracle = oracle(&ports, &others);
        let pieces: [&[u8]; 16] = [
            b"8",
            b"1",
            b"0",
            b"3",
            b"81",
            b"88",
            b"8188",
            b"3000",
            b"Comfy",
            b"UI-api",
            b"/W",
            b"s",
            b"DOCK",
            b"er",
            b" ",
            "caf\u{c9}.io".as_bytes(),
        ];
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            let mut text = Vec::new();
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let mut r = seed;
            for _ in 0..(r % 7) {
                r /= 7;
                text.extend_from_slice(pieces[(r % 16) as usize]);
                r /= 16;
            }
            assert_eq!(
                p.may_match(&text),
                oracle(&text),
                "{:?}",
                String::from_utf8_lossy(&text)
            );
        }
        for (text, want) in [
            (&b"port 8188"[..], true),
            (b"181880", false),
            (b"18188 8188", true),
            (b"300000", false),
            (b"x3000.EXAMPLE", true),
            (b"http://COMFYUI:1/", true),
            (b"caf\xc3\xa9.io", true),
            (b"caf\xc3\x89.io", false),
            (b"", false),
        ] {
            assert_eq!(
                p.may_match(text),
                want,
                "{:?}",
                String::from_utf8_lossy(text)
            );
            assert_eq!(oracle(text), want);
        }
        assert!(p.may_have_extras(b"headers = {'CF-Access-Client-Secret': s}"));
        assert!(p.may_have_extras(b"CF_AUTHORIZATION=x"));
        assert!(!p.may_have_extras(b"nothing here"));
    }

    #[test]
    fn a_panic_in_one_file_is_a_diagnostic_for_that_file() {
        let e = entry("pkg/boom.py");
        let out = isolate(&e, || panic!("index out of bounds: the len is 3"), |o| o);
        assert_eq!(out.path, "pkg/boom.py");
        assert!(out.findings.is_empty());
        assert_eq!(out.diagnostics.len(), 1);
        assert_eq!(out.diagnostics[0].path, "pkg/boom.py");
        assert!(out.diagnostics[0].message.contains("internal error"));
        assert!(out.diagnostics[0].message.contains("the len is 3"));
        // A non-string payload.
        let out: FileOutcome = isolate(&e, || std::panic::panic_any(42u8), |o| o);
        assert!(out.diagnostics[0].message.contains("unknown panic"));
    }

    #[test]
    fn the_scan_goes_on_after_a_panic_on_every_worker() {
        let entries: Vec<FileEntry> = (0..40).map(|i| entry(&format!("f{i:02}.py"))).collect();
        let refs: Vec<&FileEntry> = entries.iter().collect();
        for threads in [1, 4] {
            let outcomes = run_parallel(&refs, threads, |e| {
                Some(isolate(
                    e,
                    || {
                        if e.display.ends_with("3.py") {
                            panic!("boom in {}", e.display);
                        }
                        outcome(e)
                    },
                    |o| o,
                ))
            });
            assert_eq!(outcomes.len(), 40);
            for o in &outcomes {
                let msg = &o.diagnostics[0].message;
                if o.path.ends_with("3.py") {
                    assert!(
                        msg.contains("internal error") && msg.contains(&o.path),
                        "{msg}"
                    );
                } else {
                    assert_eq!(msg, "ok");
                }
            }
        }
    }

    #[test]
    fn a_stack_overflow_prone_input_runs_on_a_large_stack() {
        // The worker threads have WORKER_STACK bytes: deep recursion that would overflow a
        // default 2 MiB test thread completes there.
        fn depth(n: u32) -> u32 {
            let pad = std::hint::black_box([0u8; 1024]);
            if n == 0 {
                u32::from(pad[0])
            } else {
                depth(n - 1) + u32::from(pad[1])
            }
        }
        let entries = [entry("deep.py")];
        let refs: Vec<&FileEntry> = entries.iter().collect();
        let outcomes = run_parallel(&refs, 1, |e| {
            Some(isolate(
                e,
                || {
                    assert_eq!(depth(20_000), 0);
                    outcome(e)
                },
                |o| o,
            ))
        });
        assert_eq!(outcomes[0].diagnostics[0].message, "ok");
    }
}
