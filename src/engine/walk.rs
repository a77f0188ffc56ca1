//! Finding the files to scan: a parallel, gitignore-aware walk (the `ignore` crate) that skips VCS
//! and dependency directories and virtualenvs, follows no symlinks, never opens FIFOs or devices,
//! tells the language by extension and skips files over the size limit with a diagnostic.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ignore::{WalkBuilder, WalkState};

use crate::engine::finding::Diagnostic;
use crate::engine::source::Language;

/// Directories never descended into, whatever the ignore files say.
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

/// A file to scan.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FileEntry {
    pub path: PathBuf,
    /// Relative to the scanned root, `/`-separated.
    pub display: String,
    pub language: Language,
    pub size: u64,
}

/// Files larger than this many bytes are skipped unless `--max-file-size` says otherwise (2 MiB).
pub const DEFAULT_MAX_FILE_SIZE: u64 = 2 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct WalkOptions {
    pub max_file_size: u64,
    pub threads: usize,
    /// Honour .gitignore / .ignore files (on by default).
    pub respect_ignore: bool,
}

impl Default for WalkOptions {
    fn default() -> Self {
        WalkOptions {
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            threads: 0,
            respect_ignore: true,
        }
    }
}

/// The kind of a file, by extension or name; `None` for files access-audit does not read.
pub fn language_of(path: &Path) -> Option<Language> {
    // Non-UTF-8 names are told by their lossy form (their extension is ASCII anyway).
    let name = path.file_name()?.to_string_lossy();
    let lower = name.to_ascii_lowercase();
    if lower == "dockerfile"
        || lower == "containerfile"
        || lower.starts_with("dockerfile.")
        || lower.ends_with(".dockerfile")
    {
        return Some(Language::Dockerfile);
    }
    if lower == ".env" || lower.starts_with(".env.") || lower.ends_with(".env") {
        return Some(Language::Dotenv);
    }
    let ext = name
        .rsplit_once('.')
        .filter(|(stem, _)| !stem.is_empty())?
        .1;
    match ext {
        "py" | "pyi" => Some(Language::Python),
        "rs" => Some(Language::Rust),
        "ipynb" => Some(Language::Notebook),
        "sh" | "bash" | "zsh" => Some(Language::Shell),
        "js" | "mjs" | "cjs" | "jsx" | "ts" | "tsx" | "mts" | "cts" => Some(Language::JavaScript),
        "yml" | "yaml" => Some(Language::Yaml),
        "toml" => Some(Language::Toml),
        "json" => Some(Language::Json),
        _ => None,
    }
}

fn is_virtualenv(dir: &Path) -> bool {
    dir.join("pyvenv.cfg").is_file()
}

/// Walk `root` (a directory or a single file). Files come back sorted by display path.
pub fn walk(root: &Path, opts: &WalkOptions) -> (Vec<FileEntry>, Vec<Diagnostic>) {
    let files = Mutex::new(Vec::new());
    let diags = Mutex::new(Vec::new());
    let base = if root.is_file() {
        root.parent().unwrap_or(root).to_path_buf()
    } else {
        root.to_path_buf()
    };
    let mut builder = WalkBuilder::new(root);
    builder
        .hidden(false)
        .follow_links(false)
        .git_ignore(opts.respect_ignore)
        .git_exclude(opts.respect_ignore)
        .git_global(false)
        .ignore(opts.respect_ignore)
        .parents(opts.respect_ignore)
        .require_git(false)
        .threads(opts.threads)
        .filter_entry(|e| {
            let is_dir = e.file_type().is_some_and(|t| t.is_dir());
            if !is_dir || e.depth() == 0 {
                return true;
            }
            let name = e.file_name().to_string_lossy();
            !SKIP_DIRS.contains(&name.as_ref()) && !is_virtualenv(e.path())
        });
    builder.build_parallel().run(|| {
        let files = &files;
        let diags = &diags;
        let base = &base;
        Box::new(move |entry| {
            let entry = match entry {
                Ok(e) => e,
                Err(err) => {
                    let path = error_path(&err).map_or_else(|| rel(base, root), |p| rel(base, p));
                    // An I/O error loses a file or a directory; a bad pattern in an ignore file does not.
                    let what = if err.io_error().is_some() { "cannot read" } else { "invalid ignore rule" };
                    push(diags, Diagnostic { path, message: format!("{what}: {}", root_cause(&err)) });
                    return WalkState::Continue;
                }
            };
            // Regular files only: no symlinks, FIFOs, sockets or devices (never opened). One with
            // a source file's name is said to be skipped, so that no file is lost silently.
            let Some(kind) = entry.file_type() else { return WalkState::Continue };
            if !kind.is_file() {
                if !kind.is_dir()
                    && (entry.depth() > 0 || !kind.is_symlink())
                    && language_of(entry.path()).is_some()
                {
                    let what = if kind.is_symlink() {
                        "a symbolic link (not followed)"
                    } else {
                        "not a regular file (FIFO, socket or device; never opened)"
                    };
                    push(diags, Diagnostic { path: rel(base, entry.path()), message: format!("skipped: {what}") });
                }
                return WalkState::Continue;
            }
            let Some(language) = language_of(entry.path()) else { return WalkState::Continue };
            let display = rel(base, entry.path());
            let size = match entry.metadata() {
                Ok(m) => m.len(),
                Err(e) => {
                    push(diags, Diagnostic { path: display, message: format!("cannot read metadata: {e}") });
                    return WalkState::Continue;
                }
            };
            if size > opts.max_file_size && !notebook_code_fits(entry.path(), language, size, opts.max_file_size) {
                push(
                    diags,
                    Diagnostic {
                        path: display,
                        message: if language == Language::Notebook {
                            format!("skipped: the code cells of this {size}-byte notebook are over the size limit of {} bytes (--max-file-size)", opts.max_file_size)
                        } else {
                            format!("skipped: {size} bytes is over the size limit of {} bytes (--max-file-size)", opts.max_file_size)
                        },
                    },
                );
                return WalkState::Continue;
            }
            push(files, FileEntry { path: entry.path().to_path_buf(), display, language, size });
            WalkState::Continue
        })
    });
    let mut files = files.into_inner().unwrap_or_else(|e| e.into_inner());
    files.sort();
    (files, diags.into_inner().unwrap_or_else(|e| e.into_inner()))
}

/// A notebook is read up to this size, whatever the limit: its outputs (images) do not count.
const NOTEBOOK_READ_LIMIT: u64 = 256 * 1024 * 1024;

/// Is this large file a notebook whose code cells are within the limit?
fn notebook_code_fits(path: &Path, language: Language, size: u64, limit: u64) -> bool {
    if language != Language::Notebook || size > NOTEBOOK_READ_LIMIT.max(limit) {
        return false;
    }
    let Ok(bytes) = std::fs::read(path) else {
        // Scanned, so that the read error is reported by the scan.
        return true;
    };
    let text = String::from_utf8_lossy(&bytes);
    crate::engine::lower::notebook::code_size(&text).is_some_and(|n| n <= limit)
}

fn push<T>(m: &Mutex<Vec<T>>, v: T) {
    m.lock().unwrap_or_else(|e| e.into_inner()).push(v);
}

/// The path an error is about, looking through depth and line-number wrappers.
fn error_path(err: &ignore::Error) -> Option<&Path> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        _ => None,
    }
}

fn root_cause(err: &ignore::Error) -> String {
    match err {
        ignore::Error::WithPath { err, .. } | ignore::Error::WithDepth { err, .. } => {
            root_cause(err)
        }
        ignore::Error::WithLineNumber { err, .. } => root_cause(err),
        other => other.to_string(),
    }
}

/// `path` relative to `base`, `/`-separated.
pub fn rel(base: &Path, path: &Path) -> String {
    let r = path.strip_prefix(base).unwrap_or(path);
    let s: Vec<String> = r
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if s.is_empty() {
        // The root itself: its name, or the path as given (`.`), never an empty string.
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| {
                let shown = path.to_string_lossy().into_owned();
                if shown.is_empty() {
                    ".".into()
                } else {
                    shown
                }
            })
    } else {
        s.join("/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_itself_is_never_an_empty_path() {
        // A diagnostic about the root (e.g. it cannot be listed) names it.
        assert_eq!(rel(Path::new("."), Path::new(".")), ".");
        assert_eq!(rel(Path::new("src"), Path::new("src")), "src");
        assert_eq!(rel(Path::new("/r"), Path::new("/r/a/b.py")), "a/b.py");
    }

    #[cfg(unix)]
    #[test]
    fn names_that_are_not_utf8_are_told_by_extension() {
        use std::os::unix::ffi::OsStrExt;
        let p = Path::new(std::ffi::OsStr::from_bytes(b"caf\xe9.py"));
        assert_eq!(language_of(p), Some(Language::Python));
        let p = Path::new(std::ffi::OsStr::from_bytes(b"\xff.env"));
        assert_eq!(language_of(p), Some(Language::Dotenv));
        assert_eq!(language_of(Path::new(".py")), None);
    }
}
