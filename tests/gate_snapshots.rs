//! Snapshot tests of every `check` output format on the `remote-mixed` fixture.

use assert_cmd::Command;

fn check(format: &str) -> String {
    let out = Command::cargo_bin("access-audit")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        // No commit in `meta`: it would change with every commit of this repository.
        .env("ACCESS_AUDIT_NO_VCS", "1")
        .args([
            "check",
            "fixtures/remote-mixed",
            "--no-config",
            "--color",
            "never",
            "--format",
            format,
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "remote-mixed has untokenized remote uses"
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        !text.contains(env!("CARGO_MANIFEST_DIR")),
        "no absolute paths"
    );
    text
}

#[test]
fn check_human() {
    insta::assert_snapshot!("check_remote_mixed_human", check("human"));
}

#[test]
fn check_json() {
    insta::assert_snapshot!("check_remote_mixed_json", check("json"));
}

#[test]
fn check_sarif() {
    insta::assert_snapshot!("check_remote_mixed_sarif", check("sarif"));
}

#[test]
fn check_github() {
    insta::assert_snapshot!("check_remote_mixed_github", check("github"));
}

#[test]
fn check_markdown() {
    insta::assert_snapshot!("check_remote_mixed_markdown", check("markdown"));
}
