//! The table fits the terminal: `COLUMNS` (or the terminal's width) decides the layout; long URLs
//! are shortened with `…`, less important columns are dropped, nothing wraps mid-URL. Snapshots
//! at 80 and 160 columns.

use assert_cmd::Command;

fn table(fixture: &str, columns: usize, extra: &[&str]) -> String {
    let out = Command::cargo_bin("access-audit")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("ACCESS_AUDIT_NO_VCS", "1")
        .env("COLUMNS", columns.to_string())
        .args(["scan", fixture, "--color", "never"])
        .args(extra)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    for line in text.lines() {
        assert!(
            line.chars().count() <= columns,
            "line wider than {columns}: {line:?}\n{text}"
        );
    }
    text
}

/// Every table row (one per finding) is one line: nothing wraps.
fn rows(text: &str) -> Vec<&str> {
    text.lines().filter(|l| l.starts_with("│ ")).collect()
}

#[test]
fn group_table_at_80_columns() {
    let out = table("fixtures/remote-mixed", 80, &[]);
    // 19 findings + the header row.
    assert_eq!(rows(&out).len(), 20, "{out}");
    assert!(out.contains('…'), "long URLs are shortened: {out}");
    assert!(
        out.contains("remote: no"),
        "Tokenized folds into Group: {out}"
    );
    assert!(!out.contains("Function"), "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn group_table_at_160_columns() {
    let out = table("fixtures/remote-mixed", 160, &[]);
    assert_eq!(rows(&out).len(), 20, "{out}");
    assert!(!out.contains('…'), "everything fits at 160: {out}");
    assert!(
        out.contains("https://comfyui.datacrew.space/history/{prompt_id}"),
        "{out}"
    );
    for h in [
        "Group",
        "Location",
        "URL",
        "Client",
        "Tokenized",
        "Function",
    ] {
        assert!(out.contains(h), "{h}: {out}");
    }
    insta::assert_snapshot!(out);
}

#[test]
fn file_table_at_80_and_160_columns() {
    let narrow = table("fixtures/audit-demo", 80, &["--group-by", "file"]);
    assert!(
        narrow.contains("ComfyUI/script_examples/websockets_api_example_ws_images.py"),
        "{narrow}"
    );
    insta::assert_snapshot!("file_table_80", narrow);
    let wide = table("fixtures/audit-demo", 160, &["--group-by", "file"]);
    assert!(wide.contains("docker-network, local"), "{wide}");
    insta::assert_snapshot!("file_table_160", wide);
}

#[test]
fn notebook_locations_name_the_cell() {
    let out = table("fixtures/notebooks", 80, &[]);
    assert!(out.contains("analysis.ipynb[cell 6]:5:24"), "{out}");
}
