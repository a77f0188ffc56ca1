//! Every expected address of each fixture repository is found with the right group, line, column,
//! URL, host, port, tokenized flag and env var — and nothing else is (no comments, docstrings,
//! decoys or ignored files). The expectations in `fixtures/*/EXPECTED.jsonl` were written by hand.

use std::path::{Path, PathBuf};

use access_audit::rules::RuleSet;
use assert_cmd::Command;
use serde_json::Value;

/// Compared on every finding.
const FIELDS: &[&str] = &[
    "path",
    "line",
    "column",
    "group",
    "url",
    "host",
    "port",
    "tokenized",
    "env_var",
];
/// Compared when the expectation names them.
const OPTIONAL: &[&str] = &[
    "defined_at",
    "cli_arg",
    "env_source",
    "client",
    "auth",
    "cell",
    "service",
];

/// Every fixture directory with hand-written expectations: `fixtures/*` and `fixtures/cases/*`.
fn fixture_dirs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut dirs = Vec::new();
    for base in [root.clone(), root.join("cases")] {
        for entry in std::fs::read_dir(&base).unwrap() {
            let dir = entry.unwrap().path();
            if dir.join("EXPECTED.jsonl").is_file() {
                dirs.push(dir);
            }
        }
    }
    dirs.sort();
    dirs
}

fn key(v: &Value) -> String {
    FIELDS
        .iter()
        .map(|f| v.get(*f).cloned().unwrap_or(Value::Null).to_string())
        .collect::<Vec<_>>()
        .join(" | ")
}

/// What differs between a fixture's findings (and `check` exit code) and its expectations.
fn differences(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let scanned = Command::cargo_bin("access-audit")
        .unwrap()
        .args(["scan", "--format", "json", "-q"])
        .arg(dir)
        .output()
        .unwrap();
    let report: Value = match serde_json::from_slice(&scanned.stdout) {
        Ok(v) => v,
        Err(e) => return vec![format!("scan output is not JSON ({e})")],
    };
    let diagnostics = report["diagnostics"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if !diagnostics.is_empty() {
        out.push(format!("unexpected diagnostics: {diagnostics:?}"));
    }
    let got: Vec<Value> = report["findings"].as_array().cloned().unwrap_or_default();
    let want: Vec<Value> = std::fs::read_to_string(dir.join("EXPECTED.jsonl"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let got_keys: Vec<String> = got.iter().map(key).collect();
    let want_keys: Vec<String> = want.iter().map(key).collect();
    for (w, k) in want.iter().zip(&want_keys) {
        let Some(i) = got_keys.iter().position(|g| g == k) else {
            out.push(format!("missing:    {k}"));
            continue;
        };
        for f in OPTIONAL {
            if let Some(expected) = w.get(*f) {
                let actual = got[i].get(*f).cloned().unwrap_or(Value::Null);
                if *expected != actual {
                    out.push(format!("{k}: {f} is {actual}, expected {expected}"));
                }
            }
        }
    }
    for k in got_keys.iter().filter(|k| !want_keys.contains(k)) {
        out.push(format!("unexpected: {k}"));
    }
    if let Ok(code) = std::fs::read_to_string(dir.join("EXPECTED.check")) {
        let want: i32 = code.trim().parse().unwrap();
        let checked = Command::cargo_bin("access-audit")
            .unwrap()
            .args(["check", "-q"])
            .arg(dir)
            .output()
            .unwrap();
        let got = checked.status.code().unwrap_or(-1);
        if got != want {
            out.push(format!("`check` exited {got}, expected {want}"));
        }
    }
    out
}

/// Each fixture's findings match its hand-written `EXPECTED.jsonl` exactly (every field above,
/// and the optional ones where written), and `check` exits as `EXPECTED.check` says.
#[test]
fn every_fixture_matches_its_hand_written_expectations() {
    let dirs = fixture_dirs();
    assert!(dirs.len() >= 50, "fixtures found: {}", dirs.len());
    let mut report = String::new();
    for dir in &dirs {
        let diffs = differences(dir);
        if !diffs.is_empty() {
            let name = dir.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap_or(dir);
            report.push_str(&format!(
                "\n{}:\n  {}\n",
                name.display(),
                diffs.join("\n  ")
            ));
        }
    }
    assert!(report.is_empty(), "fixtures that differ:{report}");
}

/// A remote address sent without a credential fails the gate; a fixture whose remote uses all
/// carry one, or that only has other services' URLs, passes: every case says which.
#[test]
fn every_case_states_its_gate_verdict() {
    for dir in fixture_dirs()
        .iter()
        .filter(|d| d.parent().is_some_and(|p| p.ends_with("cases")))
    {
        assert!(
            dir.join("EXPECTED.check").is_file(),
            "{} has no EXPECTED.check",
            dir.display()
        );
    }
}

#[test]
fn every_rule_file_example_behaves_as_declared() {
    let rules = RuleSet::embedded().unwrap();
    for svc in &rules.services {
        assert!(!svc.examples.is_empty(), "{} has no examples", svc.id);
        let problems = access_audit::cmd::check_examples(svc, &rules);
        assert!(problems.is_empty(), "{}: {problems:?}", svc.source);
    }
}
