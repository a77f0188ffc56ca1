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

/// The profile's count of modules lowered for the scan and other files' lookups together, and
/// of modules lowered a second time.
fn lowerings(root: &std::path::Path) -> (u32, u32) {
    let mut cmd = bin();
    cmd.env("ACCESS_AUDIT_PROFILE", "1")
        .arg("scan")
        .arg(root)
        .args(["--format", "json", "-q"]);
    let (_, _, err) = common::run(&mut cmd);
    let line = err
        .lines()
        .find(|l| l.starts_with("modules shared"))
        .unwrap_or_else(|| panic!("no module counts in:\n{err}"));
    let numbers: Vec<u32> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    (numbers[0], numbers[1])
}

#[test]
fn a_module_another_file_imports_is_lowered_once() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path());
    // settings.py (imported) and client.py (imports it): both analysed, both shared.
    assert_eq!(lowerings(dir.path()), (2, 0));
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/cases");
    for case in [
        "cross-module-call-return",
        "rust-default-headers-and-cross-module",
        "token-helper-module",
        "from-config-star",
    ] {
        let (shared, again) = lowerings(&fixtures.join(case));
        assert!(shared >= 1, "{case}: nothing shared");
        assert_eq!(again, 0, "{case}: a module was lowered twice");
    }
}

#[test]
fn a_caller_the_prefilter_passes_over_still_gives_its_argument() {
    // main.py names no port, host or API path of the service: it is not analysed, yet the
    // host it passes reaches client.py's request.
    let dir = tempfile::tempdir().unwrap();
    write_in(
        dir.path(),
        "client.py",
        "import requests\n\n\ndef queue(host, w):\n    return requests.post(f\"http://{host}:8188/prompt\", json=w)\n",
    );
    write_in(
        dir.path(),
        "main.py",
        "from client import queue\n\nqueue(\"10.20.0.7\", {})\n",
    );
    let mut cmd = bin();
    cmd.arg("scan").arg(dir.path()).args(["--format", "json"]);
    let v = json_ok(&mut cmd);
    let urls: Vec<&str> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["url"].as_str())
        .collect();
    assert_eq!(urls, vec!["http://10.20.0.7:8188/prompt"]);
}

#[test]
fn a_python_and_a_rust_module_of_one_name_in_one_directory_are_told_apart() {
    // src/tool.py imports a Python `config` the scan does not have beside it; src/main.rs uses
    // the Rust `config` module. Resolving one must not answer for the other: config.rs and
    // main.rs are still kept lowered for lookups between them.
    let dir = tempfile::tempdir().unwrap();
    write_in(dir.path(), "Cargo.toml", "[package]\nname = \"x\"\n");
    write_in(
        dir.path(),
        "src/main.rs",
        "mod config;\n\nfn main() {\n    let url = config::url();\n    let _ = reqwest::blocking::get(format!(\"{url}/prompt\"));\n}\n",
    );
    write_in(
        dir.path(),
        "src/config.rs",
        "pub fn url() -> String {\n    \"http://10.1.2.3:8188\".to_string()\n}\n",
    );
    write_in(
        dir.path(),
        "src/tool.py",
        "import config\nimport requests\n\nrequests.get(\"http://comfyui:8188/queue\")\n",
    );
    write_in(dir.path(), "other/config.py", "PORT = 8188\n");
    let (shared, again) = lowerings(dir.path());
    // main.rs and config.rs.
    assert_eq!((shared, again), (2, 0));
}
