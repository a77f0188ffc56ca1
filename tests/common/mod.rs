//! Helpers the integration tests share: the binary run with a known environment, files written
//! into a temporary repository, a run's exit code and output as text, JSON read from stdout, and
//! one small source run through the per-file analysis.

// Each test binary uses its own part of these.
#![allow(dead_code)]

use std::path::Path;
use std::process::Output;

use access_audit::engine::finding::{Finding, Language};
use access_audit::engine::scan::analyze;
use access_audit::rules::RuleSet;
use assert_cmd::Command;
use serde_json::Value;

/// The `access-audit` binary, colour left to its own detection (`NO_COLOR` removed).
pub fn bin() -> Command {
    let mut c = Command::cargo_bin("access-audit").expect("binary builds");
    c.env_remove("NO_COLOR");
    c
}

/// [`bin`] with no version-control facts in what it writes (`ACCESS_AUDIT_NO_VCS=1`).
pub fn bin_no_vcs() -> Command {
    let mut c = bin();
    c.env("ACCESS_AUDIT_NO_VCS", "1");
    c
}

/// Write `contents` to `path`, creating its directories.
pub fn write(path: &Path, contents: impl AsRef<[u8]>) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(path, contents).unwrap();
}

/// Write `contents` to `rel` below `root`, creating its directories.
pub fn write_in(root: &Path, rel: &str, contents: impl AsRef<[u8]>) {
    write(&root.join(rel), contents);
}

/// Bytes of output as text (invalid UTF-8 replaced).
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Run `cmd`: its exit code (-1 when a signal ended it), stdout and stderr.
pub fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        text(&out.stdout),
        text(&out.stderr),
    )
}

/// Run `cmd`, which must exit 0, and read its stdout as JSON.
pub fn json_ok(cmd: &mut Command) -> Value {
    let out = cmd.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

/// `git` with a committer set and commits unsigned, run in `dir`; `None` when git cannot be
/// started.
pub fn git(dir: &Path, args: &[&str]) -> Option<Output> {
    std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()
        .ok()
}

/// One small source of one language, as the file `path`, through the per-file analysis with the
/// embedded rules.
pub struct Source {
    pub language: Language,
    pub path: &'static str,
}

impl Source {
    /// Findings and notes for `src`, sorted by position.
    pub fn with_notes(&self, src: &str) -> (Vec<Finding>, Vec<String>) {
        let rules = RuleSet::embedded().unwrap();
        let (mut findings, notes) = analyze(src, self.language, self.path, &rules, None);
        findings.sort();
        (findings, notes)
    }

    /// Findings for a source that must parse cleanly.
    pub fn findings(&self, src: &str) -> Vec<Finding> {
        let (findings, notes) = self.with_notes(src);
        assert!(notes.is_empty(), "unexpected notes: {notes:#?}");
        findings
    }

    /// The single finding of `src`.
    pub fn one(&self, src: &str) -> Finding {
        let findings = self.findings(src);
        assert_eq!(findings.len(), 1, "expected one finding: {findings:#?}");
        findings.into_iter().next().unwrap()
    }

    /// The source must produce no finding at all.
    pub fn none(&self, src: &str) {
        let findings = self.findings(src);
        assert!(findings.is_empty(), "expected no finding: {findings:#?}");
    }

    /// `path:line` of a line of the source.
    pub fn at(&self, line: u32) -> Option<String> {
        Some(format!("{}:{line}", self.path))
    }
}
