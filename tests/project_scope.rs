//! Values from other modules are read only from the scan's own files: a module the ignore files
//! leave out, or one over `--max-file-size`, gives no value (the address stays unresolved).

mod common;

use common::{bin, json_ok, write_in};

fn groups(root: &std::path::Path, extra: &[&str]) -> Vec<(String, String)> {
    let mut cmd = bin();
    cmd.arg("scan")
        .arg(root)
        .args(["--format", "json"])
        .args(extra);
    let v = json_ok(&mut cmd);
    let mut out: Vec<(String, String)> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap_or_default().to_string(),
                f["group"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

fn project(root: &std::path::Path) {
    write_in(
        root,
        "settings.py",
        "COMFY_URL = \"https://comfy.example.com\"\n",
    );
    write_in(
        root,
        "client.py",
        "import requests\nfrom settings import COMFY_URL\n\n\ndef queue(w):\n    return requests.post(f\"{COMFY_URL}/prompt\", json=w)\n",
    );
}

#[test]
fn an_imported_module_gives_its_value() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path());
    assert_eq!(
        groups(dir.path(), &[]),
        vec![("client.py".to_string(), "remote".to_string())]
    );
}

#[test]
fn an_ignored_module_is_not_read() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path());
    write_in(dir.path(), ".ignore", "settings.py\n");
    assert_eq!(
        groups(dir.path(), &[]),
        vec![("client.py".to_string(), "unresolved".to_string())]
    );
}

#[test]
fn a_module_over_the_size_limit_is_not_read() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path());
    // settings.py is over 150 bytes, client.py under: only settings.py is over the limit.
    let padded = format!(
        "COMFY_URL = \"https://comfy.example.com\"\n{}\n",
        "#".repeat(200)
    );
    write_in(dir.path(), "settings.py", padded);
    assert_eq!(
        groups(dir.path(), &["--max-file-size", "150", "--quiet"]),
        vec![("client.py".to_string(), "unresolved".to_string())]
    );
}
