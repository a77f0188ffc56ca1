//! Hostile and broken inputs never crash the scan or lose results (issue 6).
//!
//! Each test builds its inputs in a temporary directory at test time, scans it through the library
//! and checks: the scan returns (within a time limit), the hostile file gets the expected diagnostic
//! (or none, when it is fine), and a good file next to it is still reported.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use access_audit::engine::finding::{Diagnostic, Evidence, Language, Report};
use access_audit::engine::scan::{scan, scan_file, Prefilter, ScanOptions};
use access_audit::engine::walk::{FileEntry, WalkOptions};
use access_audit::rules::{parse_rule_file, RuleSet};

const GOOD: &str = "import requests\n\nrequests.post(\"http://localhost:8188/prompt\")\n";
const GOOD_URL: &str = "http://localhost:8188/prompt";

/// A temp dir holding `good.py`.
fn root_with_good_file() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(dir.path().join("good.py"), GOOD).unwrap();
    dir
}

/// Scan `opts` on another thread; fail when it does not finish within `limit` (a hang) or panics.
fn scan_opts_within(opts: ScanOptions, limit: Duration) -> Report {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let rules = RuleSet::embedded().expect("embedded rules");
        let _ = tx.send(scan(&opts, &rules));
    });
    match rx.recv_timeout(limit) {
        Ok(r) => r.expect("scan returns a report"),
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("the scan did not finish within {limit:?}"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("the scan panicked"),
    }
}

fn scan_dir(dir: &Path) -> Report {
    scan_opts_within(
        ScanOptions {
            paths: vec![dir.to_path_buf()],
            ..Default::default()
        },
        Duration::from_secs(300),
    )
}

fn urls_of<'a>(report: &'a Report, path: &str) -> Vec<&'a str> {
    report
        .findings
        .iter()
        .filter(|f| f.path == path)
        .filter_map(|f| f.url.as_deref())
        .collect()
}

fn diags_of<'a>(report: &'a Report, path: &str) -> Vec<&'a Diagnostic> {
    report
        .diagnostics
        .iter()
        .filter(|d| d.path == path)
        .collect()
}

#[track_caller]
fn assert_good_reported(report: &Report) {
    assert_eq!(
        urls_of(report, "good.py"),
        vec![GOOD_URL],
        "the good file next to the hostile one is still reported: {report:#?}"
    );
    assert!(
        diags_of(report, "good.py").is_empty(),
        "no diagnostic for the good file: {:#?}",
        report.diagnostics
    );
}

#[track_caller]
fn assert_diag(report: &Report, path: &str, needle: &str) {
    assert!(
        diags_of(report, path)
            .iter()
            .any(|d| d.message.contains(needle)),
        "expected a diagnostic for {path} containing {needle:?}, got {:#?}",
        report.diagnostics
    );
}

#[track_caller]
fn assert_no_diag(report: &Report, path: &str) {
    assert!(
        diags_of(report, path).is_empty(),
        "expected no diagnostic for {path}, got {:#?}",
        report.diagnostics
    );
}

#[track_caller]
fn assert_url(report: &Report, path: &str, url: &str) {
    assert!(
        urls_of(report, path).contains(&url),
        "expected {url} in {path}, got {:#?}",
        report.findings
    );
}

// ---------------------------------------------------------------------------------------------
// Broken source

#[test]
fn python2_file_is_text_scanned_with_a_syntax_error_diagnostic() {
    let dir = root_with_good_file();
    fs::write(
        dir.path().join("py2.py"),
        "import urllib2\nprint \"posting\"\nurllib2.urlopen(\"http://10.0.0.5:8188/prompt\")\nprint \"done\"\n",
    )
    .unwrap();
    let report = scan_dir(dir.path());
    assert_url(&report, "py2.py", "http://10.0.0.5:8188/prompt");
    assert_diag(&report, "py2.py", "syntax error");
    assert_good_reported(&report);
}

#[test]
fn python2_url_inside_a_print_statement_is_still_reported() {
    let dir = root_with_good_file();
    fs::write(
        dir.path().join("py2print.py"),
        "print \"server at http://gpu.lan:8188/prompt\"\n",
    )
    .unwrap();
    let report = scan_dir(dir.path());
    assert_url(&report, "py2print.py", "http://gpu.lan:8188/prompt");
    assert_diag(&report, "py2print.py", "syntax error");
    assert_good_reported(&report);
}

#[test]
fn python_syntax_error_keeps_the_url() {
    let dir = root_with_good_file();
    fs::write(
        dir.path().join("broken.py"),
        "import requests\ndef f(:\n    requests.post(\"http://comfyui:8188/prompt\")\n",
    )
    .unwrap();
    let report = scan_dir(dir.path());
    assert_url(&report, "broken.py", "http://comfyui:8188/prompt");
    assert_diag(&report, "broken.py", "syntax error");
    assert_good_reported(&report);
}

#[test]
fn rust_syntax_error_falls_back_to_text() {
    let dir = root_with_good_file();
    fs::write(
        dir.path().join("broken.rs"),
        "fn main() {\n    let x = ;\n    let _ = reqwest::blocking::get(\"http://localhost:8188/queue\");\n",
    )
    .unwrap();
    let report = scan_dir(dir.path());
    assert_url(&report, "broken.rs", "http://localhost:8188/queue");
    assert!(report
        .findings
        .iter()
        .filter(|f| f.path == "broken.rs")
        .all(|f| f.evidence == Evidence::Text && f.language == Language::Rust));
    assert_diag(&report, "broken.rs", "cannot parse");
    assert_good_reported(&report);
}

// ---------------------------------------------------------------------------------------------
// Encodings

#[test]
fn undecodable_bytes_are_diagnosed_and_text_scanned() {
    let dir = root_with_good_file();
    let mut bytes = b"import requests\nname = '".to_vec();
    bytes.extend_from_slice(&[0xC3, 0x28, 0xFF, 0xFE, 0x80]);
    bytes.extend_from_slice(b"'\nrequests.post(\"http://localhost:8188/queue\")\n");
    fs::write(dir.path().join("latin.py"), bytes).unwrap();
    let report = scan_dir(dir.path());
    assert_url(&report, "latin.py", "http://localhost:8188/queue");
    assert_diag(&report, "latin.py", "cannot decode");
    assert!(report
        .findings
        .iter()
        .filter(|f| f.path == "latin.py")
        .all(|f| f.evidence == Evidence::Text));
    assert_good_reported(&report);
}

#[test]
fn utf8_bom_is_decoded() {
    let dir = root_with_good_file();
    let mut bytes = vec![0xEF, 0xBB, 0xBF];
    bytes.extend_from_slice(b"import requests\nrequests.post(\"http://127.0.0.1:8188/prompt\")\n");
    fs::write(dir.path().join("bom.py"), bytes).unwrap();
    let mut rs = vec![0xEF, 0xBB, 0xBF];
    rs.extend_from_slice(
        b"fn main() {\n    let _ = reqwest::blocking::get(\"http://127.0.0.1:8188/queue\");\n}\n",
    );
    fs::write(dir.path().join("bom.rs"), rs).unwrap();
    let report = scan_dir(dir.path());
    assert_url(&report, "bom.py", "http://127.0.0.1:8188/prompt");
    assert_url(&report, "bom.rs", "http://127.0.0.1:8188/queue");
    assert_no_diag(&report, "bom.py");
    assert_no_diag(&report, "bom.rs");
    // Positions are those of the text after the BOM.
    let f = report.findings.iter().find(|f| f.path == "bom.py").unwrap();
    assert_eq!((f.line, f.column, f.evidence), (2, 15, Evidence::Ast));
    assert_good_reported(&report);
}

fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
    let mut out = if big_endian {
        vec![0xFE, 0xFF]
    } else {
        vec![0xFF, 0xFE]
    };
    for u in text.encode_utf16() {
        out.extend_from_slice(&if big_endian {
            u.to_be_bytes()
        } else {
            u.to_le_bytes()
        });
    }
    out
}

#[test]
fn utf16_with_bom_is_decoded() {
    let dir = root_with_good_file();
    let src = "import requests\n# é ✓\nrequests.post(\"http://comfyui:8188/prompt\")\n";
    fs::write(dir.path().join("le.py"), utf16(src, false)).unwrap();
    fs::write(dir.path().join("be.py"), utf16(src, true)).unwrap();
    let report = scan_dir(dir.path());
    for p in ["le.py", "be.py"] {
        assert_url(&report, p, "http://comfyui:8188/prompt");
        assert_no_diag(&report, p);
        let f = report.findings.iter().find(|f| f.path == p).unwrap();
        assert_eq!((f.line, f.evidence), (3, Evidence::Ast), "{p}");
    }
    assert_good_reported(&report);
}

#[test]
fn utf16_with_an_odd_byte_count_is_diagnosed_not_lost() {
    let dir = root_with_good_file();
    let mut bytes = utf16("requests.post(\"http://comfyui:8188/prompt\")\n", false);
    bytes.push(b'x');
    fs::write(dir.path().join("odd.py"), bytes).unwrap();
    let report = scan_dir(dir.path());
    assert_url(&report, "odd.py", "http://comfyui:8188/prompt");
    assert_diag(&report, "odd.py", "cannot decode");
    assert_good_reported(&report);
}

#[test]
fn pep263_latin1_cookie_is_honoured() {
    let dir = root_with_good_file();
    let mut bytes =
        b"#!/usr/bin/env python\n# -*- coding: latin-1 -*-\nimport requests\nname = '".to_vec();
    bytes.extend_from_slice(&[0xE9, 0xE8, 0xFF]);
    bytes.extend_from_slice(b"'\nrequests.post(\"http://localhost:8188/history\")\n");
    fs::write(dir.path().join("cookie.py"), bytes).unwrap();
    let report = scan_dir(dir.path());
    assert_url(&report, "cookie.py", "http://localhost:8188/history");
    assert_no_diag(&report, "cookie.py");
    let f = report
        .findings
        .iter()
        .find(|f| f.path == "cookie.py")
        .unwrap();
    assert_eq!((f.line, f.evidence), (5, Evidence::Ast));
    assert_good_reported(&report);
}

// ---------------------------------------------------------------------------------------------
// Binary, NUL, size, empty, long lines

#[test]
fn binary_file_with_a_source_extension_is_skipped_with_a_diagnostic() {
    let dir = root_with_good_file();
    let mut elf = b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00".to_vec();
    elf.extend((0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    fs::write(dir.path().join("module.py"), &elf).unwrap();
    // The same, holding a service address.
    elf.extend_from_slice(b"http://localhost:8188/prompt\x00");
    fs::write(dir.path().join("lib.rs"), &elf).unwrap();
    let report = scan_dir(dir.path());
    assert_diag(&report, "module.py", "binary");
    assert_diag(&report, "lib.rs", "binary");
    assert!(urls_of(&report, "module.py").is_empty());
    assert!(urls_of(&report, "lib.rs").is_empty());
    assert_good_reported(&report);
}

#[test]
fn nul_bytes_in_source_are_diagnosed() {
    let dir = root_with_good_file();
    fs::write(
        dir.path().join("nul.py"),
        b"import requests\x00\nrequests.post(\"http://localhost:8188/prompt\")\n",
    )
    .unwrap();
    let report = scan_dir(dir.path());
    assert_diag(&report, "nul.py", "NUL");
    assert_good_reported(&report);
}

#[test]
fn minified_one_line_megabyte_file() {
    let dir = root_with_good_file();
    let mut src = String::from("import requests;");
    while src.len() < 512 * 1024 {
        src.push_str("a=[1,2,3];b={'k':(4,5)};c=a+[b];");
    }
    src.push_str("requests.post('http://localhost:8188/queue');");
    while src.len() < 1024 * 1024 {
        src.push_str("d=len(a)*2;e=str(d)+'x';");
    }
    fs::write(dir.path().join("min.py"), &src).unwrap();
    let mut rs = String::from("fn main(){");
    while rs.len() < 512 * 1024 {
        rs.push_str("let a=[1,2,3];let b=(a,4);");
    }
    rs.push_str("let _=ureq::get(\"http://localhost:8188/queue\").call();");
    while rs.len() < 1024 * 1024 {
        rs.push_str("let c=vec![1u8;3];");
    }
    rs.push('}');
    fs::write(dir.path().join("min.rs"), &rs).unwrap();
    let report = scan_dir(dir.path());
    assert_url(&report, "min.py", "http://localhost:8188/queue");
    assert_url(&report, "min.rs", "http://localhost:8188/queue");
    assert_no_diag(&report, "min.py");
    assert_no_diag(&report, "min.rs");
    assert!(report
        .findings
        .iter()
        .filter(|f| f.path.starts_with("min."))
        .all(|f| f.line == 1 && f.column > 500_000));
    assert_good_reported(&report);
}

#[test]
fn file_over_the_size_limit_is_skipped_with_a_diagnostic() {
    let dir = root_with_good_file();
    let mut big = String::from("import requests\nrequests.post('http://localhost:8188/prompt')\n");
    while big.len() <= 3 * 1024 * 1024 {
        big.push_str("x = 1\n");
    }
    fs::write(dir.path().join("huge.py"), &big).unwrap();
    let report = scan_dir(dir.path());
    assert_diag(&report, "huge.py", "over the size limit");
    assert!(urls_of(&report, "huge.py").is_empty());
    assert_good_reported(&report);

    // A lower limit from the options applies too; a file at the limit is scanned.
    fs::write(dir.path().join("huge.py"), "x = 1\n").unwrap();
    let limit = GOOD.len() as u64;
    fs::write(dir.path().join("over.py"), format!("{GOOD}# more\n")).unwrap();
    let report = scan_opts_within(
        ScanOptions {
            paths: vec![dir.path().to_path_buf()],
            walk: WalkOptions {
                max_file_size: limit,
                ..Default::default()
            },
            ..Default::default()
        },
        Duration::from_secs(60),
    );
    assert_diag(&report, "over.py", "over the size limit");
    assert_good_reported(&report);
}

#[test]
fn empty_files_are_scanned_quietly() {
    let dir = root_with_good_file();
    fs::write(dir.path().join("empty.py"), "").unwrap();
    fs::write(dir.path().join("empty.rs"), "").unwrap();
    fs::write(dir.path().join("blank.py"), "\n\n   \n").unwrap();
    fs::write(dir.path().join("bom_only.py"), [0xEF, 0xBB, 0xBF]).unwrap();
    fs::write(dir.path().join("utf16_bom_only.py"), [0xFF, 0xFE]).unwrap();
    let report = scan_dir(dir.path());
    for p in [
        "empty.py",
        "empty.rs",
        "blank.py",
        "bom_only.py",
        "utf16_bom_only.py",
    ] {
        assert_no_diag(&report, p);
        assert!(urls_of(&report, p).is_empty(), "{p}");
    }
    assert_eq!(report.summary.files_scanned, 6);
    assert_good_reported(&report);
}

#[test]
fn very_long_line_with_the_url_at_the_end() {
    let dir = root_with_good_file();
    let filler = "a".repeat(1024 * 1024);
    fs::write(
        dir.path().join("long.py"),
        format!("import requests\ns = '{filler}'; requests.post('http://comfyui.example.com:8188/prompt')\n"),
    )
    .unwrap();
    fs::write(
        dir.path().join("long.rs"),
        format!("fn main() {{ let s = \"{filler}\"; let _ = ureq::get(\"http://comfyui.example.com:8188/prompt\").call(); }}\n"),
    )
    .unwrap();
    // Without any newline at all, and the URL in an unparsable tail.
    fs::write(
        dir.path().join("long_broken.py"),
        format!("x = ({filler} 'http://comfyui.example.com:8188/prompt'"),
    )
    .unwrap();
    let report = scan_dir(dir.path());
    for p in ["long.py", "long.rs"] {
        assert_url(&report, p, "http://comfyui.example.com:8188/prompt");
        assert_no_diag(&report, p);
    }
    assert_url(
        &report,
        "long_broken.py",
        "http://comfyui.example.com:8188/prompt",
    );
    assert_diag(&report, "long_broken.py", "syntax error");
    let f = report
        .findings
        .iter()
        .find(|f| f.path == "long.py")
        .unwrap();
    assert_eq!(f.line, 2);
    assert!(f.column > 1024 * 1024);
    assert_good_reported(&report);
}

// ---------------------------------------------------------------------------------------------
// Deep nesting: recursive parsers and evaluators must not overflow the stack.

const DEPTH: usize = 5_000;

#[test]
fn deeply_nested_python() {
    let dir = root_with_good_file();
    let url_line = "requests.post(\"http://localhost:8188/queue\")\n";
    let parens = format!(
        "import requests\nx = {}1{}\n{url_line}",
        "(".repeat(DEPTH),
        ")".repeat(DEPTH)
    );
    fs::write(dir.path().join("parens.py"), parens).unwrap();
    let lists = format!(
        "import requests\nx = {}1{}\n{url_line}",
        "[".repeat(DEPTH),
        "]".repeat(DEPTH)
    );
    fs::write(dir.path().join("lists.py"), lists).unwrap();
    let calls = format!(
        "import requests\nx = {}'http://localhost:8188/'{}\n{url_line}",
        "f(".repeat(DEPTH),
        ")".repeat(DEPTH)
    );
    fs::write(dir.path().join("calls.py"), calls).unwrap();
    let unary = format!("import requests\nx = {}1\n{url_line}", "-".repeat(DEPTH));
    fs::write(dir.path().join("unary.py"), unary).unwrap();
    let mut concat = String::from("import requests\nu = \"http://localhost:8188\"");
    for _ in 0..20_000 {
        concat.push_str(" + \"a\"");
    }
    concat.push('\n');
    concat.push_str(url_line);
    fs::write(dir.path().join("concat.py"), concat).unwrap();
    let unclosed = format!("import requests\nx = {}\n{url_line}", "(".repeat(DEPTH));
    fs::write(dir.path().join("unclosed.py"), unclosed).unwrap();

    let report = scan_dir(dir.path());
    for p in ["parens.py", "lists.py", "calls.py", "unary.py", "concat.py"] {
        assert_url(&report, p, "http://localhost:8188/queue");
        assert!(
            !diags_of(&report, p)
                .iter()
                .any(|d| d.message.contains("internal error")),
            "{p}: {:#?}",
            report.diagnostics
        );
    }
    assert_url(&report, "unclosed.py", "http://localhost:8188/queue");
    assert_diag(&report, "unclosed.py", "syntax error");
    assert!(
        report
            .findings
            .iter()
            .filter(|f| f.path == "concat.py")
            .any(|f| f
                .url
                .as_deref()
                .is_some_and(|u| u.starts_with("http://localhost:8188/"))
                || f.url.as_deref() == Some("http://localhost:8188/queue")),
        "{:#?}",
        report.findings
    );
    assert_good_reported(&report);
}

#[test]
fn deeply_nested_rust() {
    let dir = root_with_good_file();
    let url = "    let _ = reqwest::blocking::get(\"http://localhost:8188/queue\");\n";
    let blocks = format!(
        "fn main() {{\n    let x = {}1{};\n{url}}}\n",
        "{".repeat(DEPTH),
        "}".repeat(DEPTH)
    );
    fs::write(dir.path().join("blocks.rs"), blocks).unwrap();
    let parens = format!(
        "fn main() {{\n    let x = {}1{};\n{url}}}\n",
        "(".repeat(DEPTH),
        ")".repeat(DEPTH)
    );
    fs::write(dir.path().join("parens.rs"), parens).unwrap();
    let mut concat = String::from("fn main() {\n    let s = String::new()");
    for _ in 0..20_000 {
        concat.push_str(" + \"a\"");
    }
    concat.push_str(";\n");
    concat.push_str(url);
    concat.push_str("}\n");
    fs::write(dir.path().join("concat.rs"), concat).unwrap();
    let macros = format!(
        "fn main() {{\n    let x = {}1{};\n{url}}}\n",
        "vec![".repeat(DEPTH),
        "]".repeat(DEPTH)
    );
    fs::write(dir.path().join("macros.rs"), macros).unwrap();

    let report = scan_dir(dir.path());
    for p in ["blocks.rs", "parens.rs", "concat.rs", "macros.rs"] {
        assert_url(&report, p, "http://localhost:8188/queue");
        assert!(
            !diags_of(&report, p)
                .iter()
                .any(|d| d.message.contains("internal error")),
            "{p}: {:#?}",
            report.diagnostics
        );
    }
    assert_good_reported(&report);
}

#[test]
fn exponential_string_building_is_bounded() {
    // Each name is built from eight copies of the previous one: evaluating `a11` naively visits
    // 8^11 expressions. The evaluator's work budget keeps this to a moment.
    let dir = root_with_good_file();
    let mut py = String::from("import requests\na0 = \"http://localhost:8188/\"\n");
    let mut rs = String::from("fn main() {\n    let a0 = \"http://localhost:8188/\";\n");
    for i in 1..=11 {
        let terms = vec![format!("a{}", i - 1); 8];
        py.push_str(&format!("a{i} = {}\n", terms.join(" + ")));
        rs.push_str(&format!(
            "    let a{i} = format!(\"{}\", {});\n",
            "{}".repeat(8),
            terms.join(", ")
        ));
    }
    py.push_str("b = b + b + b + b + b + b + b + b\nrequests.post(a11)\nrequests.post(b)\n");
    rs.push_str("    let _ = reqwest::blocking::get(a11);\n}\n");
    fs::write(dir.path().join("fanout.py"), py).unwrap();
    fs::write(dir.path().join("fanout.rs"), rs).unwrap();
    let report = scan_opts_within(
        ScanOptions {
            paths: vec![dir.path().to_path_buf()],
            ..Default::default()
        },
        Duration::from_secs(60),
    );
    assert!(
        report.findings.iter().any(|f| f.path == "fanout.py"
            && f.url
                .as_deref()
                .is_some_and(|u| u.starts_with("http://localhost:8188/"))),
        "{:#?}",
        report.findings
    );
    assert_no_diag(&report, "fanout.py");
    assert_no_diag(&report, "fanout.rs");
    assert_good_reported(&report);
}

// ---------------------------------------------------------------------------------------------
// File system hazards

#[cfg(unix)]
#[test]
fn symlink_loop_terminates_without_duplicates() {
    let dir = root_with_good_file();
    let sub = dir.path().join("sub");
    fs::create_dir(&sub).unwrap();
    fs::write(sub.join("inner.py"), GOOD).unwrap();
    std::os::unix::fs::symlink("..", sub.join("up")).unwrap();
    std::os::unix::fs::symlink(".", dir.path().join("self")).unwrap();
    std::os::unix::fs::symlink("loop_b.py", dir.path().join("loop_a.py")).unwrap();
    std::os::unix::fs::symlink("loop_a.py", dir.path().join("loop_b.py")).unwrap();
    let report = scan_dir(dir.path());
    assert_good_reported(&report);
    assert_eq!(urls_of(&report, "sub/inner.py"), vec![GOOD_URL]);
    assert_eq!(report.findings.len(), 2, "{:#?}", report.findings);
    assert_eq!(report.summary.files_scanned, 2);
    assert_diag(&report, "loop_a.py", "symbolic link");
    assert_diag(&report, "loop_b.py", "symbolic link");
}

#[cfg(unix)]
#[test]
fn symlinks_pointing_outside_the_root_are_not_followed() {
    let outside = tempfile::tempdir().unwrap();
    let secret_url = "http://outside.example.com:8188/prompt";
    fs::write(
        outside.path().join("secret.py"),
        format!("import requests\nrequests.post(\"{secret_url}\")\n"),
    )
    .unwrap();
    let dir = root_with_good_file();
    std::os::unix::fs::symlink(outside.path(), dir.path().join("outside_dir")).unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("secret.py"),
        dir.path().join("linked.py"),
    )
    .unwrap();
    let report = scan_dir(dir.path());
    assert!(
        report
            .findings
            .iter()
            .all(|f| f.url.as_deref() != Some(secret_url)
                && !f.path.contains("outside")
                && !f.path.contains("linked")),
        "{:#?}",
        report.findings
    );
    assert_eq!(report.summary.files_scanned, 1);
    assert_diag(&report, "linked.py", "symbolic link (not followed)");
    assert_good_reported(&report);
}

#[cfg(unix)]
#[test]
fn unreadable_file_and_directory() {
    use std::os::unix::fs::PermissionsExt;
    let dir = root_with_good_file();
    let file = dir.path().join("locked.py");
    fs::write(&file, GOOD).unwrap();
    let locked_dir = dir.path().join("locked_dir");
    fs::create_dir(&locked_dir).unwrap();
    fs::write(locked_dir.join("inside.py"), GOOD).unwrap();
    fs::set_permissions(&file, fs::Permissions::from_mode(0o000)).unwrap();
    fs::set_permissions(&locked_dir, fs::Permissions::from_mode(0o000)).unwrap();
    // As root (as in CI containers) permissions do not stop reads: probe for it.
    let enforced = fs::read(&file).is_err() && fs::read_dir(&locked_dir).is_err();

    let report = scan_dir(dir.path());

    fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
    fs::set_permissions(&locked_dir, fs::Permissions::from_mode(0o755)).unwrap();

    assert_good_reported(&report);
    if enforced {
        assert_diag(&report, "locked.py", "cannot read");
        assert!(
            report
                .diagnostics
                .iter()
                .any(|d| d.path.starts_with("locked_dir") && d.message.contains("cannot read")),
            "{:#?}",
            report.diagnostics
        );
        assert!(urls_of(&report, "locked.py").is_empty());
    } else {
        // Running as root: chmod 000 does not block reads, so both are simply scanned. The scan must
        // still not crash, and must not report anything twice.
        assert_eq!(urls_of(&report, "locked.py"), vec![GOOD_URL]);
        assert_eq!(urls_of(&report, "locked_dir/inside.py"), vec![GOOD_URL]);
    }
}

#[cfg(unix)]
#[test]
fn fifo_with_a_source_extension_is_never_opened() {
    let dir = root_with_good_file();
    let fifo = dir.path().join("pipe.py");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(status.success());
    let fifo_rs = dir.path().join("pipe.rs");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo_rs)
        .status()
        .unwrap()
        .success());
    // Opening the FIFO for reading would block forever: the scan must finish quickly anyway.
    let report = scan_opts_within(
        ScanOptions {
            paths: vec![dir.path().to_path_buf()],
            ..Default::default()
        },
        Duration::from_secs(10),
    );
    assert_good_reported(&report);
    assert!(urls_of(&report, "pipe.py").is_empty());
    assert_diag(&report, "pipe.py", "not a regular file");
    assert_diag(&report, "pipe.rs", "not a regular file");
    assert_eq!(report.summary.files_scanned, 1);
    // A FIFO named on the command line is not opened either.
    let report = scan_opts_within(
        ScanOptions {
            paths: vec![fifo.clone()],
            ..Default::default()
        },
        Duration::from_secs(10),
    );
    assert!(report.findings.is_empty());
    assert_diag(&report, "pipe.py", "not a regular file");
}

#[cfg(unix)]
#[test]
fn device_file_is_never_opened() {
    // /dev/zero would be read forever; /dev/null is empty. Neither is a regular file.
    let report = scan_opts_within(
        ScanOptions {
            paths: vec![PathBuf::from("/dev/zero")],
            ..Default::default()
        },
        Duration::from_secs(10),
    );
    assert!(report.findings.is_empty());
    assert_eq!(report.summary.files_scanned, 0);
}

#[test]
fn file_deleted_after_the_walk_is_diagnosed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gone.py");
    let entry = FileEntry {
        path: path.clone(),
        display: "gone.py".into(),
        language: Language::Python,
        size: 42,
    };
    let rules = RuleSet::embedded().unwrap();
    let prefilter = Prefilter::new(&rules);
    let out = scan_file(&entry, &rules, &prefilter);
    let (findings, diags) = (out.findings, out.diagnostics);
    assert!(findings.is_empty());
    assert_eq!(diags.len(), 1, "{diags:#?}");
    assert_eq!(diags[0].path, "gone.py");
    assert!(diags[0].message.contains("cannot read"), "{diags:#?}");

    // A file replaced by a directory between the walk and the read.
    fs::create_dir(&path).unwrap();
    let out = scan_file(&entry, &rules, &prefilter);
    let (findings, diags) = (out.findings, out.diagnostics);
    assert!(findings.is_empty());
    assert!(diags[0].message.contains("cannot read"), "{diags:#?}");
}

#[test]
fn missing_root_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let rules = RuleSet::embedded().unwrap();
    let err = scan(
        &ScanOptions {
            paths: vec![dir.path().join("nope")],
            ..Default::default()
        },
        &rules,
    )
    .unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(err.to_string().contains("nope"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Invalid rule files

#[test]
fn invalid_rule_files_name_file_line_and_field() {
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "[service]\nid = \"x\"\nname = \"X\"\n[address]\nports = [8188]\nhostz = [\"a\"]\n",
            "bad.toml:6",
            &["hostz"],
        ),
        (
            "[service]\nid = \"x\"\nname = \"X\"\n[address]\nports = [\"eighty\"]\n",
            "bad.toml:5",
            &[],
        ),
        (
            "[service]\nid = \"x\"\nname = \"X\"\n[address]\nports = [8188]\npaths = [\"prompt\"]\n",
            "bad.toml:6",
            &["paths"],
        ),
        (
            "[service]\nid = \"x\"\nname = \"X\"\n[address]\nports = [8188]\ncontainers = \"[\"\n",
            "bad.toml:6",
            &["containers"],
        ),
        (
            "[service]\nid = \"has space\"\nname = \"X\"\n[address]\nports = [8188]\n",
            "bad.toml:2",
            &["id"],
        ),
        (
            "[service]\nid = \"x\"\nname = \"X\"\n[address]\nports = [0]\n",
            "bad.toml:5",
            &["ports"],
        ),
        ("[service\nid = 1\n", "bad.toml:1", &[]),
        ("\u{0}\u{FFFD}garbage = = =\n", "bad.toml:1", &[]),
        ("", "bad.toml", &["service"]),
    ];
    for (text, location, fields) in cases {
        let err = parse_rule_file("rules/bad.toml", text)
            .expect_err(text)
            .to_string();
        assert!(err.contains(location), "{text:?}: {err}");
        for f in *fields {
            assert!(err.contains(f), "{text:?}: {err}");
        }
    }
}

#[test]
fn invalid_rule_file_on_the_command_line_exits_2_naming_it() {
    let rules = tempfile::tempdir().unwrap();
    fs::write(
        rules.path().join("broken.toml"),
        "[service]\nid = \"x\"\nname = \"X\"\n[address]\nports = [8188]\nportz = [1]\n",
    )
    .unwrap();
    let dir = root_with_good_file();
    let out = assert_cmd::Command::cargo_bin("access-audit")
        .unwrap()
        .arg("scan")
        .arg(dir.path())
        .arg("--rules")
        .arg(rules.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("broken.toml:6") && stderr.contains("portz"),
        "{stderr}"
    );
}

#[test]
fn hostile_files_do_not_change_the_exit_code() {
    let dir = root_with_good_file();
    fs::write(
        dir.path().join("broken.py"),
        "def f(:\n  'http://comfyui:8188/prompt'\n",
    )
    .unwrap();
    fs::write(dir.path().join("bin.py"), b"\x00\x01\x02 8188").unwrap();
    fs::write(dir.path().join("bad.py"), b"x = '\xff' # 8188\n").unwrap();
    let out = assert_cmd::Command::cargo_bin("access-audit")
        .unwrap()
        .args(["scan", "--format", "json"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = json["findings"].as_array().unwrap();
    assert!(findings
        .iter()
        .any(|f| f["path"] == "good.py" && f["url"] == GOOD_URL));
    assert!(findings
        .iter()
        .any(|f| f["path"] == "broken.py" && f["evidence"] == "text"));
    let diagnosed: Vec<&str> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["path"].as_str())
        .collect();
    for p in ["broken.py", "bin.py", "bad.py"] {
        assert!(diagnosed.contains(&p), "{p}: {json}");
    }
}

// ---------------------------------------------------------------------------------------------
// Panic isolation (the per-file `catch_unwind` itself is unit-tested in src/engine/scan.rs): the worst
// inputs above all at once, in one scan, still give every good result.

#[test]
fn all_hostile_inputs_together_keep_every_good_result() {
    let dir = root_with_good_file();
    let d = dir.path();
    fs::write(d.join("py2.py"), "print \"x\"\n").unwrap();
    fs::write(
        d.join("deep.py"),
        format!("{}{}", "(".repeat(DEPTH), ")".repeat(DEPTH)),
    )
    .unwrap();
    fs::write(
        d.join("deep.rs"),
        format!("fn f() {{ {} }}", "{".repeat(DEPTH)),
    )
    .unwrap();
    fs::write(d.join("bin.py"), b"\x00\xff\xfe8188").unwrap();
    fs::write(d.join("odd.py"), [0xFF, 0xFE, b'8', b'1', b'8']).unwrap();
    fs::write(d.join("bad.rs"), b"\"http://localhost:8188/\xff\xff").unwrap();
    fs::write(d.join("holes.py"), "'{'.format(\"%(\" % {}) + f'{{{'\n").unwrap();
    for i in 0..20 {
        fs::write(d.join(format!("good_{i:02}.py")), GOOD).unwrap();
    }
    let report = scan_dir(d);
    assert_good_reported(&report);
    for i in 0..20 {
        assert_eq!(urls_of(&report, &format!("good_{i:02}.py")), vec![GOOD_URL]);
    }
    assert!(
        !report
            .diagnostics
            .iter()
            .any(|d| d.message.contains("internal error")),
        "{:#?}",
        report.diagnostics
    );
}

// ---------------------------------------------------------------------------------------------
// Security

#[test]
fn output_paths_are_relative_to_the_root() {
    let dir = root_with_good_file();
    fs::create_dir_all(dir.path().join("a/b")).unwrap();
    fs::write(dir.path().join("a/b/deep.py"), GOOD).unwrap();
    fs::write(
        dir.path().join("a/broken.py"),
        "def f(:\n  'http://localhost:8188/x'\n",
    )
    .unwrap();
    let report = scan_dir(dir.path());
    let root = dir.path().to_string_lossy().to_string();
    assert_eq!(urls_of(&report, "a/b/deep.py"), vec![GOOD_URL]);
    assert_good_reported(&report);
    for p in report
        .findings
        .iter()
        .map(|f| &f.path)
        .chain(report.diagnostics.iter().map(|d| &d.path))
        .chain(report.findings.iter().filter_map(|f| f.defined_at.as_ref()))
    {
        assert!(
            !p.starts_with('/') && !p.contains(&root) && !p.contains('\\'),
            "{p}"
        );
    }
    let json = access_audit::report::json::render(&report);
    assert!(!json.contains(&root), "{json}");
}

#[test]
fn secret_values_never_reach_the_output() {
    let secret = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let client_id = "9f3c2a1b0e8d7c6b5a4f3e2d1c0b9a8f.access";
    let dir = root_with_good_file();
    fs::write(
        dir.path().join("remote.py"),
        format!(
            "import requests\n\
             HEADERS = {{\"CF-Access-Client-Id\": \"{client_id}\", \"CF-Access-Client-Secret\": \"{secret}\"}}\n\
             requests.post(\"https://comfyui.example.com/prompt\", headers=HEADERS)\n\
             requests.get(\"https://comfyui.example.com/queue\", headers={{\"CF-Access-Client-Secret\": \"{secret}\"}})\n\
             requests.get(\"https://comfyui.example.com/history\", cookies={{\"CF_Authorization\": \"{secret}\"}})\n\
             requests.get(\"https://user:{secret}@comfyui.example.com/view\")\n"
        ),
    )
    .unwrap();
    fs::write(
        dir.path().join("broken.py"),
        format!("def f(:\n  h = {{'CF-Access-Client-Secret': '{secret}'}}; requests.get('https://comfyui.example.com/x', headers=h)\n"),
    )
    .unwrap();
    let report = scan_dir(dir.path());
    assert!(
        urls_of(&report, "remote.py").len() >= 3,
        "{:#?}",
        report.findings
    );
    let rules = RuleSet::embedded().unwrap();
    let json = access_audit::report::json::render(&report);
    let debug = format!("{report:?}");
    for (what, text) in [("json", &json), ("debug", &debug)] {
        assert!(
            !text.contains(secret),
            "{what} output leaks the secret:\n{text}"
        );
        assert!(
            !text.contains(client_id),
            "{what} output leaks the client id:\n{text}"
        );
    }
    for format in ["table", "markdown", "json"] {
        let out = assert_cmd::Command::cargo_bin("access-audit")
            .unwrap()
            .args(["scan", "--color", "never", "--format", format])
            .arg(dir.path())
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !all.contains(secret),
            "{format} output leaks the secret:\n{all}"
        );
        assert!(
            !all.contains(client_id),
            "{format} output leaks the client id:\n{all}"
        );
    }
    drop(rules);
}

/// Past the held-text budget the second phase reads a file again: same findings, diagnostics and
/// summary as when every text is held (the fixtures include modules other files import).
#[test]
fn files_read_again_past_the_text_budget_give_the_same_report() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let scan_with = |held_text: usize| {
        scan_opts_within(
            ScanOptions {
                paths: vec![fixtures.clone()],
                held_text,
                ..Default::default()
            },
            Duration::from_secs(300),
        )
    };
    let held = scan_with(usize::MAX);
    let read_again = scan_with(0);
    assert!(held.findings.len() > 100, "{}", held.findings.len());
    assert_eq!(held.findings, read_again.findings);
    assert_eq!(held.diagnostics, read_again.diagnostics);
    assert_eq!(held.summary, read_again.summary);
}
