//! Snapshot tests of the CLI output for the bundled fixtures.
//!
//! Every command runs from the crate root with a relative fixture path, so the snapshots hold no
//! machine-specific absolute paths. Update after an intended change with
//! `INSTA_UPDATE=always cargo test --test snapshots` and review the diff.

use assert_cmd::Command;

fn run(args: &[&str]) -> String {
    let out = Command::cargo_bin("access-audit")
        .expect("binary builds")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("NO_COLOR")
        // The table fits `COLUMNS` when set; these snapshots are of the default width.
        .env_remove("COLUMNS")
        // No commit in `meta`: it would change with every commit of this repository.
        .env("ACCESS_AUDIT_NO_VCS", "1")
        .args(args)
        .output()
        .expect("binary runs");
    assert!(
        out.status.success(),
        "access-audit {args:?} failed with {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("stdout is UTF-8")
}

fn assert_no_machine_paths(out: &str) {
    let root = env!("CARGO_MANIFEST_DIR");
    assert!(!out.contains(root), "output contains {root}");
    assert!(!out.contains("/tmp/"), "output contains /tmp/");
    assert!(!out.contains('\x1b'), "output contains an ANSI escape");
}

fn table(fixture: &str) -> String {
    let out = run(&["scan", fixture, "--format", "table", "--color", "never"]);
    assert_no_machine_paths(&out);
    out
}

fn json(fixture: &str) -> String {
    let out = run(&["scan", fixture, "--format", "json"]);
    assert_no_machine_paths(&out);
    serde_json::from_str::<serde_json::Value>(&out).expect("JSON output parses");
    out
}

fn report(fixture: &str) -> String {
    let out = run(&["report", fixture]);
    assert_no_machine_paths(&out);
    out
}

fn by_file(fixture: &str) -> String {
    let out = run(&["scan", fixture, "--group-by", "file", "--color", "never"]);
    assert_no_machine_paths(&out);
    out
}

#[test]
fn audit_demo_table() {
    insta::assert_snapshot!("audit_demo_table", table("fixtures/audit-demo"));
}

#[test]
fn audit_demo_json() {
    insta::assert_snapshot!("audit_demo_json", json("fixtures/audit-demo"));
}

#[test]
fn audit_demo_report() {
    insta::assert_snapshot!("audit_demo_report", report("fixtures/audit-demo"));
}

#[test]
fn audit_demo_group_by_file() {
    insta::assert_snapshot!("audit_demo_group_by_file", by_file("fixtures/audit-demo"));
}

#[test]
fn remote_mixed_table() {
    insta::assert_snapshot!("remote_mixed_table", table("fixtures/remote-mixed"));
}

#[test]
fn remote_mixed_json() {
    insta::assert_snapshot!("remote_mixed_json", json("fixtures/remote-mixed"));
}

#[test]
fn remote_mixed_report() {
    insta::assert_snapshot!("remote_mixed_report", report("fixtures/remote-mixed"));
}

#[test]
fn remote_mixed_group_by_file() {
    insta::assert_snapshot!(
        "remote_mixed_group_by_file",
        by_file("fixtures/remote-mixed")
    );
}

/// The same input gives the same bytes, whatever the number of worker threads.
#[test]
fn output_is_deterministic() {
    for fixture in ["fixtures/audit-demo", "fixtures/remote-mixed"] {
        let one = run(&["scan", fixture, "--format", "json", "-j", "1"]);
        let many = run(&["scan", fixture, "--format", "json", "-j", "8"]);
        assert_eq!(one, many, "{fixture}: -j 1 and -j 8 differ");
    }
}
