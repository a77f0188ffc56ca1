//! `syn-floor DIR...`: parse every `.rs` file under DIR with `syn::parse_file` and print how many
//! files, bytes and parse errors there were. The floor access-audit's Rust front end is measured
//! against (bench/run.sh).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The directories access-audit never enters (`SKIP_DIRS` in src/engine/walk.rs: this project
/// cannot use the crate, so the list is repeated).
const SKIP_DIRS: &[&str] = &[
    ".git",
    ".hg",
    ".svn",
    "node_modules",
    "target",
    "__pycache__",
    ".venv",
    "venv",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    "site-packages",
    ".eggs",
];
const MAX_FILE_SIZE: u64 = 2 * 1024 * 1024;
/// syn recurses once per nesting level: the same large stack as access-audit's workers.
const STACK: usize = 64 * 1024 * 1024;

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let path = entry.path();
        if kind.is_dir() {
            let name = entry.file_name();
            if !SKIP_DIRS.iter().any(|s| name == *s) {
                collect(&path, out);
            }
        } else if kind.is_file()
            && path.extension().is_some_and(|e| e == "rs")
            && entry.metadata().is_ok_and(|m| m.len() <= MAX_FILE_SIZE)
        {
            out.push(path);
        }
    }
}

fn main() {
    let mut files = Vec::new();
    for dir in std::env::args_os().skip(1) {
        collect(Path::new(&dir), &mut files);
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let next = AtomicUsize::new(0);
    let (bytes, errors) = (AtomicUsize::new(0), AtomicUsize::new(0));
    std::thread::scope(|s| {
        for _ in 0..threads {
            std::thread::Builder::new()
                .stack_size(STACK)
                .spawn_scoped(s, || {
                    while let Some(path) = files.get(next.fetch_add(1, Ordering::Relaxed)) {
                        let Ok(text) = std::fs::read_to_string(path) else {
                            continue;
                        };
                        // Without this, span-locations keeps every file's line table for the process.
                        proc_macro2::extra::invalidate_current_thread_spans();
                        bytes.fetch_add(text.len(), Ordering::Relaxed);
                        if syn::parse_file(&text).is_err() {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                })
                .expect("worker thread");
        }
    });
    println!(
        "{} files, {} bytes, {} parse errors",
        files.len(),
        bytes.into_inner(),
        errors.into_inner()
    );
}
