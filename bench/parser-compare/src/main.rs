//! Compare two Rust Python parsers (rustpython-parser, ruff_python_parser)
//! on every `.py` file under a directory.
//!
//! Usage: parser-compare <dir> [--iters N] [--no-cpython] [--per-file] [--exclude DIRNAME]...
//!
//! Directories named `site-packages` or `dist-packages` are always skipped.
//!
//! Unless `--no-cpython` is given, `python3` is run once over the file list to
//! find which files CPython itself accepts (`compile(src, path, "exec")`);
//! parse rates are reported over those files.

use std::collections::HashSet;
use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Clone, PartialEq)]
enum Outcome {
    Ok,
    Err(String),
    Panic,
}

struct Parser {
    name: &'static str,
    parse: fn(&str, &str) -> Result<(), String>,
}

fn parse_rustpython(src: &str, path: &str) -> Result<(), String> {
    rustpython_parser::parse(src, rustpython_parser::Mode::Module, path)
        .map(drop)
        .map_err(|e| format!("{} at byte {:?}", e.error, e.offset))
}

fn parse_ruff(src: &str, _path: &str) -> Result<(), String> {
    ruff_python_parser::parse_module(src)
        .map(drop)
        .map_err(|e| format!("{} at byte {:?}", e.error, e.location.start()))
}

const PARSERS: &[Parser] = &[
    Parser { name: "rustpython-parser", parse: parse_rustpython },
    Parser { name: "ruff_python_parser", parse: parse_ruff },
];

struct Source {
    path: PathBuf,
    text: String,
}

fn collect(dir: &Path, exclude: &[String]) -> (Vec<Source>, Vec<PathBuf>) {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .follow_links(false)
        .into_iter()
        .filter_entry(|e| {
            e.depth() == 0
                || !(e.file_type().is_dir()
                    && exclude.iter().any(|x| e.file_name() == x.as_str()))
        })
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "py"))
        .map(|e| e.into_path())
        .collect();
    files.sort();
    let mut out = Vec::new();
    let mut non_utf8 = Vec::new();
    for p in files {
        match std::fs::read(&p) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => out.push(Source { path: p, text }),
                Err(_) => non_utf8.push(p),
            },
            Err(_) => non_utf8.push(p),
        }
    }
    (out, non_utf8)
}

/// Runs python3 once; returns the set of paths CPython rejects, or None if
/// python3 is unavailable.
fn cpython_rejects(files: &[Source]) -> Option<(String, HashSet<PathBuf>)> {
    const SCRIPT: &str = r#"
import sys
paths = sys.stdin.read().split("\0")
for p in paths:
    if not p:
        continue
    try:
        with open(p, "rb") as fh:
            compile(fh.read(), p, "exec", dont_inherit=True)
    except BaseException:
        sys.stdout.write(p + "\0")
"#;
    let version = Command::new("python3").arg("--version").output().ok()?;
    let version = String::from_utf8_lossy(&version.stdout).trim().to_string();
    let mut child = Command::new("python3")
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    {
        let mut stdin = child.stdin.take()?;
        for f in files {
            stdin.write_all(f.path.to_string_lossy().as_bytes()).ok()?;
            stdin.write_all(b"\0").ok()?;
        }
    }
    let out = child.wait_with_output().ok()?;
    let rejects = String::from_utf8_lossy(&out.stdout)
        .split('\0')
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .collect();
    Some((version, rejects))
}

fn run_once(p: &Parser, files: &[Source]) -> (Vec<Outcome>, Duration) {
    let mut outcomes = Vec::with_capacity(files.len());
    let mut total = Duration::ZERO;
    for f in files {
        let path = f.path.to_string_lossy();
        let start = Instant::now();
        let r = catch_unwind(AssertUnwindSafe(|| (p.parse)(&f.text, &path)));
        total += start.elapsed();
        outcomes.push(match r {
            Ok(Ok(())) => Outcome::Ok,
            Ok(Err(e)) => Outcome::Err(e),
            Err(_) => Outcome::Panic,
        });
    }
    (outcomes, total)
}

fn real_main() {
    let mut dir = None;
    let mut iters = 3usize;
    let mut use_cpython = true;
    let mut per_file = false;
    let mut exclude = vec!["site-packages".to_string(), "dist-packages".to_string()];
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--iters" => iters = args.next().and_then(|s| s.parse().ok()).unwrap_or(3).max(1),
            "--no-cpython" => use_cpython = false,
            "--per-file" => per_file = true,
            "--exclude" => exclude.extend(args.next()),
            _ => dir = Some(PathBuf::from(a)),
        }
    }
    let Some(dir) = dir else {
        eprintln!("usage: parser-compare <dir> [--iters N] [--no-cpython] [--per-file] [--exclude DIRNAME]...");
        std::process::exit(2);
    };

    let (files, non_utf8) = collect(&dir, &exclude);
    let total_bytes: usize = files.iter().map(|f| f.text.len()).sum();
    println!("dir: {} (excluding dirs named: {})", dir.display(), exclude.join(", "));
    println!(
        "files: {} UTF-8 .py files ({} bytes), {} skipped (non-UTF-8/unreadable)",
        files.len(),
        total_bytes,
        non_utf8.len()
    );
    for p in &non_utf8 {
        println!("  skipped: {}", rel(&dir, p));
    }

    let cpy = if use_cpython { cpython_rejects(&files) } else { None };
    let rejected: HashSet<PathBuf> = match &cpy {
        Some((v, rej)) => {
            println!("reference: {v} rejects {} file(s)", rej.len());
            let mut sorted: Vec<_> = rej.iter().collect();
            sorted.sort();
            for r in sorted {
                println!("  cpython-rejects: {}", rel(&dir, r));
            }
            rej.clone()
        }
        None => {
            println!("reference: none (all files counted as valid)");
            HashSet::new()
        }
    };
    let accepted_n = files.iter().filter(|f| !rejected.contains(&f.path)).count();
    println!("timing: best of {iters} full pass(es); MB = 10^6 bytes\n");

    let mut results = Vec::new();
    for p in PARSERS {
        let mut best: Option<Duration> = None;
        let mut outcomes = Vec::new();
        for _ in 0..iters {
            let (o, t) = run_once(p, &files);
            if best.is_none_or(|b| t < b) {
                best = Some(t);
            }
            outcomes = o;
        }
        results.push((p, outcomes, best.unwrap()));
    }

    println!(
        "| parser | parsed OK (all) | failed (all) | panics | accepted / CPython-valid | parse rate | MB | time s | MB/s |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for (p, outcomes, t) in &results {
        let ok = outcomes.iter().filter(|o| **o == Outcome::Ok).count();
        let panics = outcomes.iter().filter(|o| **o == Outcome::Panic).count();
        let ok_valid = files
            .iter()
            .zip(outcomes)
            .filter(|(f, o)| **o == Outcome::Ok && !rejected.contains(&f.path))
            .count();
        let secs = t.as_secs_f64();
        let mb = total_bytes as f64 / 1e6;
        println!(
            "| {} | {} | {} | {} | {} / {} | {:.2}% | {:.2} | {:.3} | {:.1} |",
            p.name,
            ok,
            files.len() - ok,
            panics,
            ok_valid,
            accepted_n,
            if accepted_n == 0 { 0.0 } else { 100.0 * ok_valid as f64 / accepted_n as f64 },
            mb,
            secs,
            mb / secs
        );
    }

    for (p, outcomes, _) in &results {
        let bad: Vec<_> = files
            .iter()
            .zip(outcomes)
            .filter(|(f, o)| **o != Outcome::Ok && !rejected.contains(&f.path))
            .collect();
        println!("\n{}: {} CPython-accepted file(s) rejected", p.name, bad.len());
        for (f, o) in bad.iter().take(30) {
            let tag = match o {
                Outcome::Panic => "panic".to_string(),
                Outcome::Err(e) => e.clone(),
                Outcome::Ok => String::new(),
            };
            println!("  {}: {}", rel(&dir, &f.path), tag);
        }
        if bad.len() > 30 {
            println!("  ... {} more", bad.len() - 30);
        }
    }

    if per_file || files.len() <= 50 {
        println!("\nper file:");
        for (i, f) in files.iter().enumerate() {
            let cols: Vec<String> = results
                .iter()
                .map(|(p, o, _)| {
                    format!("{}={}", p.name, match o[i] {
                        Outcome::Ok => "ok",
                        Outcome::Err(_) => "ERR",
                        Outcome::Panic => "PANIC",
                    })
                })
                .collect();
            let cpy_tag = if cpy.is_none() {
                ""
            } else if rejected.contains(&f.path) {
                " cpython=ERR"
            } else {
                " cpython=ok"
            };
            println!("  {:<48} {}{}", rel(&dir, &f.path), cols.join(" "), cpy_tag);
        }
    }
}

fn rel(base: &Path, p: &Path) -> String {
    p.strip_prefix(base).unwrap_or(p).display().to_string()
}

fn main() {
    // Quiet the default panic hook; panics are counted, not printed.
    std::panic::set_hook(Box::new(|_| {}));
    let h = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(real_main)
        .expect("spawn");
    if h.join().is_err() {
        std::process::exit(1);
    }
}
