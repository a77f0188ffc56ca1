//! Every expected address of each fixture repository is found with the right group, line, column,
//! URL, host, port, tokenized flag and env var — and nothing else is (no comments, docstrings,
//! decoys or ignored files). The expectations in `fixtures/*/EXPECTED.jsonl` were written by hand.

use std::path::Path;

use access_audit::rules::RuleSet;
use access_audit::scan::{scan, ScanOptions};
use serde_json::Value;

fn check_fixture(name: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name);
    let rules = RuleSet::embedded().unwrap();
    let report = scan(
        &ScanOptions {
            paths: vec![root.clone()],
            ..Default::default()
        },
        &rules,
    )
    .unwrap();
    assert!(
        report.diagnostics.is_empty(),
        "unexpected diagnostics: {:#?}",
        report.diagnostics
    );

    let expected: Vec<Value> = std::fs::read_to_string(root.join("EXPECTED.jsonl"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let fields = [
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
    let project = |v: &Value| {
        fields
            .iter()
            .map(|f| v.get(*f).cloned().unwrap_or(Value::Null))
            .collect::<Vec<_>>()
    };
    let mut want: Vec<Vec<Value>> = expected.iter().map(project).collect();
    let mut got: Vec<Vec<Value>> = report
        .findings
        .iter()
        .map(|f| project(&serde_json::to_value(f).unwrap()))
        .collect();
    want.sort_by_key(|v| format!("{v:?}"));
    got.sort_by_key(|v| format!("{v:?}"));
    let missing: Vec<_> = want.iter().filter(|w| !got.contains(w)).collect();
    let extra: Vec<_> = got.iter().filter(|g| !want.contains(g)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "fixture {name}: fields {fields:?}\nmissing:\n{missing:#?}\nunexpected:\n{extra:#?}"
    );
}

#[test]
fn audit_demo_matches_hand_written_expectations() {
    check_fixture("audit-demo");
}

#[test]
fn remote_mixed_matches_hand_written_expectations() {
    check_fixture("remote-mixed");
}

#[test]
fn cross_file_constants_and_token_helpers_resolve() {
    check_fixture("cross-file");
}

#[test]
fn every_rule_file_example_behaves_as_declared() {
    let rules = RuleSet::embedded().unwrap();
    for svc in &rules.services {
        assert!(!svc.examples.is_empty(), "{} has no examples", svc.id);
        let problems = access_audit::app::check_examples(svc, &rules);
        assert!(problems.is_empty(), "{}: {problems:?}", svc.source);
    }
}

#[test]
fn gitignored_files_are_not_scanned() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/audit-demo");
    let rules = RuleSet::embedded().unwrap();
    let report = scan(
        &ScanOptions {
            paths: vec![root],
            ..Default::default()
        },
        &rules,
    )
    .unwrap();
    assert!(report
        .findings
        .iter()
        .all(|f| !f.path.starts_with("ignored/")));
}
