//! The gate is safe by construction: it does not pass what it did not read, suppressions and
//! baselines hide only what they name, `--changed-since` re-checks what a change affects, git runs
//! nothing the repository configures, and no output prints a credential or a hostile file name raw.

use std::path::Path;
use std::process::{Command as Std, Stdio};

use serde_json::Value;

mod common;

use common::{bin_no_vcs, write_in};

/// Run `access-audit ARGS` in `dir`; (exit code, stdout, stderr).
fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    common::run(bin_no_vcs().current_dir(dir).args(args))
}

fn check(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["check", "."];
    all.extend_from_slice(args);
    run(dir, &all)
}

/// (path, rule, state) of each violation of `check --format json` output.
fn violations(json: &str) -> Vec<(String, String, String, u64)> {
    let v: Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"));
    v["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["path"].as_str().unwrap().to_string(),
                x["rule"].as_str().unwrap().to_string(),
                x["state"].as_str().unwrap().to_string(),
                x["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn git(dir: &Path, args: &[&str]) {
    let ok = common::git(dir, args).unwrap().status.success();
    assert!(ok, "git {args:?}");
}

const REMOTE_CALL: &str =
    "import requests\nrequests.get(\"https://comfyui.example.space/prompt\")\n";

fn notebook(cells: &[Value]) -> String {
    serde_json::json!({
        "cells": cells,
        "metadata": {"kernelspec": {"language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5
    })
    .to_string()
}

fn code_cell(src: &str, outputs: Value) -> Value {
    serde_json::json!({"cell_type": "code", "metadata": {}, "execution_count": 1, "source": src, "outputs": outputs})
}

// ---- The gate must not pass what it did not read ---------------------------------------------

#[test]
fn a_large_notebook_of_images_with_a_small_code_cell_is_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let image = "iVBORw0KGgo".repeat(300_000); // ~3.3 MB of base64 "PNG"
    let nb = notebook(&[code_cell(
        REMOTE_CALL,
        serde_json::json!([{"output_type": "display_data", "data": {"image/png": image}, "metadata": {}}]),
    )]);
    assert!(nb.len() > 3_000_000);
    write_in(dir.path(), "plots.ipynb", &nb);
    let (code, out, err) = check(dir.path(), &["--format", "json"]);
    assert_eq!(code, 1, "{out}{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let got = &v["violations"][0];
    assert_eq!(got["path"], "plots.ipynb");
    assert_eq!(got["rule"], "untokenized-remote");
    assert_eq!(
        (got["cell"].as_u64(), got["line"].as_u64()),
        (Some(1), Some(2))
    );
    assert_eq!(v["summary"]["files_scanned"], 1);
}

#[test]
fn a_notebook_whose_code_is_over_the_limit_is_skipped_and_fails_check() {
    let dir = tempfile::tempdir().unwrap();
    let code = format!("{REMOTE_CALL}{}", "x = 1\n".repeat(200));
    write_in(
        dir.path(),
        "big.ipynb",
        notebook(&[code_cell(&code, serde_json::json!([]))]),
    );
    write_in(dir.path(), "ok.py", "x = 1\n");
    let (code, out, err) = check(dir.path(), &["--max-file-size", "1000"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("big.ipynb") && err.contains("code cells"),
        "{err}"
    );
}

#[test]
fn a_skipped_file_makes_check_exit_2_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    write_in(dir.path(), "small.py", "x = 1\n");
    write_in(
        dir.path(),
        "huge.py",
        format!("{REMOTE_CALL}{}", "# padding\n".repeat(500)),
    );
    let (code, out, err) = check(dir.path(), &["--max-file-size", "2000", "--color", "never"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("huge.py") && err.contains("--allow-skipped"),
        "{err}"
    );
    let (code, out, err) = check(dir.path(), &["--max-file-size", "2000", "--allow-skipped"]);
    assert_eq!(code, 0, "{out}{err}");
    // A binary file with a source extension is not read either.
    write_in(dir.path(), "blob.py", "\0\0\0binary");
    let (code, _, err) = check(dir.path(), &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("blob.py"), "{err}");
}

#[test]
fn zero_files_scanned_is_a_warning_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    write_in(dir.path(), "README.txt", "nothing to scan\n");
    let (code, out, err) = check(dir.path(), &[]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("0 files scanned"), "{err}");
}

#[cfg(unix)]
#[test]
fn an_unreadable_root_directory_is_an_error() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("locked");
    std::fs::create_dir(&root).unwrap();
    write_in(&root, "a.py", REMOTE_CALL);
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o000)).unwrap();
    let enforced = std::fs::read_dir(&root).is_err();
    let out = bin_no_vcs().arg("check").arg(&root).output().unwrap();
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    if enforced {
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains("locked"), "{err}");
    } else {
        // As root, permissions do not stop reads: the file is scanned.
        assert_eq!(out.status.code(), Some(1), "{err}");
    }
}

#[test]
fn every_diagnostic_names_its_path() {
    let dir = tempfile::tempdir().unwrap();
    write_in(dir.path(), "bin.py", "\0\0");
    write_in(dir.path(), "broken.py", "def f(:\n");
    let (_, out, _) = run(dir.path(), &["scan", ".", "--format", "json"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    let diags = v["diagnostics"].as_array().unwrap();
    assert!(!diags.is_empty());
    assert!(
        diags
            .iter()
            .all(|d| !d["path"].as_str().unwrap().is_empty()),
        "{out}"
    );
}

#[cfg(unix)]
#[test]
fn a_file_name_that_is_not_utf8_is_scanned() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9.py");
    std::fs::write(dir.path().join(name), REMOTE_CALL).unwrap();
    let (code, out, err) = check(dir.path(), &["--format", "json"]);
    assert_eq!(code, 1, "{out}{err}");
    let got = violations(&out);
    assert_eq!(got.len(), 1, "{out}");
    assert_eq!(got[0].0, "caf\u{fffd}.py");
}

// ---- Suppressions ---------------------------------------------------------------------------

#[test]
fn suppression_syntax_inside_a_string_literal_does_not_count() {
    let dir = tempfile::tempdir().unwrap();
    write_in(
        dir.path(),
        "a.py",
        "import requests\nNOTE = \"# access-audit: ignore[untokenized-remote] not a comment\"\nrequests.get(\"https://comfyui.example.space/prompt\")\n",
    );
    let (code, out, _) = check(dir.path(), &["--format", "json"]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(
        violations(&out),
        vec![(
            "a.py".into(),
            "untokenized-remote".into(),
            "active".into(),
            3
        )]
    );
}

#[test]
fn a_trailing_comment_covers_its_own_line_only() {
    let dir = tempfile::tempdir().unwrap();
    write_in(
        dir.path(),
        "a.py",
        "import requests\nrequests.get(\"https://comfyui.example.space/prompt\")  # access-audit: ignore[untokenized-remote] staging\nrequests.get(\"https://comfyui.example.space/queue\")\n",
    );
    let (code, out, _) = check(dir.path(), &["--format", "json"]);
    assert_eq!(code, 1, "{out}");
    let got = violations(&out);
    assert!(got.contains(&(
        "a.py".into(),
        "untokenized-remote".into(),
        "suppressed".into(),
        2
    )));
    assert!(
        got.contains(&(
            "a.py".into(),
            "untokenized-remote".into(),
            "active".into(),
            3
        )),
        "{out}"
    );
}

#[test]
fn one_comment_does_not_cover_every_element_of_a_list() {
    let dir = tempfile::tempdir().unwrap();
    write_in(
        dir.path(),
        "a.py",
        "import requests\nHOSTS = [\n    \"https://comfyui.example.space/prompt\",  # access-audit: ignore[untokenized-remote] staging\n    \"https://comfyui.other-host.example/prompt\",\n]\nfor h in HOSTS:\n    requests.get(h)\n",
    );
    write_in(
        dir.path(),
        "b.py",
        "import requests\nHOSTS = [\n    # access-audit: ignore[untokenized-remote] staging\n    \"https://comfyui.example.space/prompt\",\n    \"https://comfyui.other-host.example/prompt\",\n]\nfor h in HOSTS:\n    requests.get(h)\n",
    );
    let (code, out, _) = check(dir.path(), &["--format", "json"]);
    assert_eq!(code, 1, "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    for file in ["a.py", "b.py"] {
        let active: Vec<&Value> = v["violations"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| {
                x["path"] == file && x["rule"] == "untokenized-remote" && x["state"] == "active"
            })
            .collect();
        assert!(
            active
                .iter()
                .any(|x| x["url"].as_str().unwrap().contains("other-host")),
            "{file}: the other host must stay active: {out}"
        );
    }
}

#[test]
fn notebook_suppressions_are_in_cell_coordinates() {
    let dir = tempfile::tempdir().unwrap();
    let nb = notebook(&[
        serde_json::json!({"cell_type": "markdown", "metadata": {}, "source": "# Title"}),
        code_cell("import requests\n", serde_json::json!([])),
        code_cell(
            "# access-audit: ignore[untokenized-remote] demo server\nrequests.get(\"https://comfyui.example.space/prompt\")\n",
            serde_json::json!([]),
        ),
        code_cell(
            "requests.get(\"https://comfyui.example.space/queue\")\n",
            serde_json::json!([]),
        ),
    ]);
    write_in(dir.path(), "nb.ipynb", &nb);
    let (code, out, _) = check(dir.path(), &["--format", "json"]);
    assert_eq!(code, 1, "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let got: Vec<(u64, u64, &str, &str)> = v["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["cell"].as_u64().unwrap_or(0),
                x["line"].as_u64().unwrap(),
                x["rule"].as_str().unwrap(),
                x["state"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (3, 2, "untokenized-remote", "suppressed"),
            (4, 1, "untokenized-remote", "active")
        ],
        "{out}"
    );
}

#[test]
fn a_rust_suppression_above_a_rustfmt_wrapped_statement_works() {
    let dir = tempfile::tempdir().unwrap();
    write_in(
        dir.path(),
        "main.rs",
        "async fn f(client: &reqwest::Client) {\n    // access-audit: ignore[untokenized-remote] test server, not behind Access\n    let response = client\n        .get(\"https://comfyui.example.space/queue\")\n        .send()\n        .await;\n    let _ = response;\n}\n",
    );
    let (code, out, _) = check(dir.path(), &["--format", "json"]);
    assert_eq!(code, 0, "{out}");
    let got = violations(&out);
    assert_eq!(got.len(), 1, "{out}");
    assert_eq!(got[0].2, "suppressed");
}

// ---- Baselines ------------------------------------------------------------------------------

#[test]
fn a_baselined_secret_does_not_hide_another_secret_of_the_same_kind() {
    let dir = tempfile::tempdir().unwrap();
    let first = "0123456789abcdef0123456789abcdef.access";
    let second = "fedcba9876543210fedcba9876543210.access";
    write_in(dir.path(), "conf.py", format!("CLIENT_ID = \"{first}\"\n"));
    let (code, _, err) = check(dir.path(), &["--write-baseline", "base.json"]);
    assert_eq!(code, 0, "{err}");
    let baseline = std::fs::read_to_string(dir.path().join("base.json")).unwrap();
    assert!(!baseline.contains(first), "{baseline}");
    let (code, out, _) = check(dir.path(), &["--baseline", "base.json"]);
    assert_eq!(code, 0, "{out}");
    write_in(dir.path(), "conf.py", format!("CLIENT_ID = \"{second}\"\n"));
    let (code, out, _) = check(dir.path(), &["--baseline", "base.json", "--format", "json"]);
    assert_eq!(code, 1, "a different secret must not be baselined: {out}");
    assert!(!out.contains(second));
}

#[test]
fn a_version_1_baseline_still_loads_and_says_its_secret_entries_are_stale() {
    let dir = tempfile::tempdir().unwrap();
    write_in(
        dir.path(),
        "conf.py",
        "CLIENT_ID = \"0123456789abcdef0123456789abcdef.access\"\n",
    );
    write_in(
        dir.path(),
        "old.json",
        "{\"version\": 1, \"violations\": [{\"path\": \"conf.py\", \"rule\": \"hardcoded-secret\", \"fingerprint\": \"0000000000000000\"}]}\n",
    );
    let (code, out, err) = check(dir.path(), &["--baseline", "old.json"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("version 1") && err.contains("--write-baseline"),
        "{err}"
    );
}

// ---- --changed-since ------------------------------------------------------------------------

#[test]
fn changed_since_rechecks_files_that_depend_on_a_changed_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    git(d, &["init", "-q", "-b", "main"]);
    write_in(d, ".env", "COMFYUI_URL=http://localhost:8188\n");
    write_in(
        d,
        "worker.py",
        "import os, requests\nURL = os.getenv(\"COMFYUI_URL\")\nrequests.get(f\"{URL}/prompt\")\n",
    );
    write_in(d, "settings.py", "COMFY = \"http://localhost:8188\"\n");
    write_in(
        d,
        "client.py",
        "import requests\nfrom settings import COMFY\nrequests.get(COMFY + \"/queue\")\n",
    );
    git(d, &["add", "."]);
    git(d, &["commit", "-q", "-m", "base"]);
    let (code, out, _) = check(d, &["--changed-since", "HEAD"]);
    assert_eq!(code, 0, "{out}");
    // Only the .env and the settings module change: the unchanged files now send elsewhere.
    write_in(d, ".env", "COMFYUI_URL=https://comfyui.example.space\n");
    write_in(
        d,
        "settings.py",
        "COMFY = \"https://comfyui.example.space\"\n",
    );
    let (code, out, err) = check(d, &["--changed-since", "HEAD", "--format", "json"]);
    assert_eq!(code, 1, "{out}{err}");
    let paths: Vec<String> = violations(&out).into_iter().map(|v| v.0).collect();
    assert!(paths.iter().any(|p| p == "worker.py"), "{out}");
    assert!(paths.iter().any(|p| p == "client.py"), "{out}");
}

#[cfg(unix)]
#[test]
fn git_runs_nothing_the_repository_configures() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    git(d, &["init", "-q", "-b", "main"]);
    let marker = d.join("ran");
    let script = d.join("hook.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho ran >> '{}'\ncat\n", marker.display()),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    write_in(d, "a.py", "x = 1\n");
    write_in(d, ".gitattributes", "*.py filter=evil diff=evil\n");
    git(d, &["add", "."]);
    git(d, &["commit", "-q", "-m", "base"]);
    let s = script.display().to_string();
    git(d, &["config", "core.fsmonitor", &s]);
    git(d, &["config", "filter.evil.clean", &s]);
    git(d, &["config", "filter.evil.required", "true"]);
    git(d, &["config", "diff.evil.textconv", &s]);
    git(d, &["config", "diff.external", &s]);
    let _ = std::fs::remove_file(&marker);
    // Touch the file so that git must look at its content.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    write_in(d, "a.py", "x = 2\n");
    let (code, out, err) = check(d, &["--changed-since", "HEAD"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        !marker.exists(),
        "git ran a command from the repository's config: {}",
        std::fs::read_to_string(&marker).unwrap_or_default()
    );
}

// ---- Secrets and hostile names in output -----------------------------------------------------

const PASSWORD: &str = "hunter2hunter2pw";
const BEARER: &str = "sk_live_bearervalue123456";
const CURL_PASS: &str = "curlpassword98765";
const QUERY_TOKEN: &str = "querytokenvalue4242";
const CLIENT_SECRET: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn leaky_repo(dir: &Path) {
    write_in(
        dir,
        "client.py",
        format!(
            "import requests\n\
             requests.get(\"https://admin:{PASSWORD}@comfyui.example.space/prompt\")\n\
             requests.get(\"https://comfyui.example.space/queue\", headers={{\"Authorization\": \"Bearer {BEARER}\"}})\n\
             requests.get(\"https://comfyui.example.space/history?token={QUERY_TOKEN}\")\n\
             CF_ACCESS_CLIENT_SECRET = \"{CLIENT_SECRET}\"\n"
        ),
    );
    write_in(
        dir,
        "deploy.sh",
        format!("curl -u admin:{CURL_PASS} https://comfyui.example.space/prompt\ndocker exec comfyui curl -u admin:{CURL_PASS} http://localhost:8188/queue\n"),
    );
}

fn assert_no_secret(what: &str, text: &str) {
    for s in [PASSWORD, BEARER, CURL_PASS, QUERY_TOKEN, CLIENT_SECRET] {
        assert!(!text.contains(s), "{what} leaks `{s}`:\n{text}");
    }
}

#[test]
fn secrets_are_redacted_in_every_output() {
    let dir = tempfile::tempdir().unwrap();
    leaky_repo(dir.path());
    for format in ["human", "json", "sarif", "github", "markdown"] {
        let (code, out, err) = check(dir.path(), &["--format", format, "--color", "never"]);
        assert_eq!(code, 1, "{format}: {out}{err}");
        assert_no_secret(&format!("check --format {format}"), &format!("{out}{err}"));
    }
    let (_, human, _) = check(dir.path(), &["--color", "never"]);
    assert!(
        human.contains("hunt…") || human.contains("admin:***"),
        "{human}"
    );
    for format in ["table", "json", "markdown"] {
        let (_, out, err) = run(
            dir.path(),
            &["scan", ".", "--format", format, "--color", "never"],
        );
        assert_no_secret(&format!("scan --format {format}"), &format!("{out}{err}"));
    }
    let (_, json, _) = run(dir.path(), &["scan", ".", "--format", "json"]);
    assert!(
        json.contains("quer…"),
        "a prefix is kept to locate the value: {json}"
    );
    let (code, _, err) = check(dir.path(), &["--write-baseline", "b.json"]);
    assert_eq!(code, 0, "{err}");
    assert_no_secret(
        "baseline",
        &std::fs::read_to_string(dir.path().join("b.json")).unwrap(),
    );
    // `merge`, also of a report written by something else with the values in it.
    std::fs::write(dir.path().join("r.json"), &json).unwrap();
    let raw = json.replace("quer…", QUERY_TOKEN);
    std::fs::create_dir(dir.path().join("other")).unwrap();
    std::fs::write(dir.path().join("other/r.json"), raw).unwrap();
    let (code, out, err) = run(
        dir.path(),
        &["merge", "r.json", "other/r.json", "--sarif", "m.sarif"],
    );
    assert_eq!(code, 0, "{err}");
    assert_no_secret("merge", &out);
    assert_no_secret(
        "merge --sarif",
        &std::fs::read_to_string(dir.path().join("m.sarif")).unwrap(),
    );
}

#[cfg(unix)]
#[test]
fn hostile_file_names_are_escaped_in_every_output() {
    let dir = tempfile::tempdir().unwrap();
    let name = "x\n::error file=ci.yml,line=1::injected\x1b[31m.py";
    std::fs::write(dir.path().join(name), REMOTE_CALL).unwrap();
    for format in ["human", "github", "markdown", "json", "sarif"] {
        let (code, out, err) = check(dir.path(), &["--format", format, "--color", "never"]);
        assert_eq!(code, 1, "{format}: {out}{err}");
        for text in [&out, &err] {
            assert!(!text.contains('\x1b'), "{format}: raw escape: {text:?}");
            assert!(
                !text.lines().any(|l| l.starts_with("::error file=ci.yml")),
                "{format}: injected workflow command: {text}"
            );
        }
    }
    for format in ["table", "markdown"] {
        let (_, out, _) = run(
            dir.path(),
            &["scan", ".", "--format", format, "--color", "never"],
        );
        assert!(
            !out.contains('\x1b') && !out.lines().any(|l| l.starts_with("::error")),
            "{out}"
        );
    }
}

#[test]
fn merge_refuses_paths_outside_the_repository_and_markdown_in_names() {
    let dir = tempfile::tempdir().unwrap();
    write_in(dir.path(), "a.py", REMOTE_CALL);
    let (_, json, _) = run(dir.path(), &["scan", ".", "--format", "json"]);
    let mut v: Value = serde_json::from_str(&json).unwrap();
    v["findings"][0]["path"] = Value::from("../../etc/passwd");
    std::fs::write(dir.path().join("bad.json"), v.to_string()).unwrap();
    let (code, _, err) = run(dir.path(), &["merge", "bad.json"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("bad.json") && err.contains("`path`"), "{err}");
    let mut v: Value = serde_json::from_str(&json).unwrap();
    v["meta"]["repository"] = Value::from("x` <img src=x onerror=alert(1)> [a](http://evil)");
    std::fs::write(dir.path().join("evil.json"), v.to_string()).unwrap();
    let (code, out, err) = run(dir.path(), &["merge", "evil.json"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("repository"), "{err}");
    // A path with Markdown in it is shown as code, never as Markdown.
    let mut v: Value = serde_json::from_str(&json).unwrap();
    v["findings"][0]["path"] = Value::from("a``b <script>.py");
    std::fs::write(dir.path().join("odd.json"), v.to_string()).unwrap();
    let (code, out, err) = run(dir.path(), &["merge", "odd.json"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("``` ") && !out.contains("`a``b <script>.py`"),
        "{out}"
    );
}

// ---- Threads and output errors ----------------------------------------------------------------

#[test]
fn absurd_thread_counts_are_capped_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    write_in(dir.path(), "a.py", "x = 1\n");
    let (code, out, err) = check(dir.path(), &["-j", "100000"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("capped"), "{err}");
}

#[cfg(unix)]
#[test]
fn a_closed_stdout_exits_2_quietly() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..50 {
        write_in(dir.path(), &format!("f{i}.py"), REMOTE_CALL);
    }
    let exe = assert_cmd::cargo::cargo_bin("access-audit");
    for args in [vec!["check", "."], vec!["scan", ".", "--format", "json"]] {
        let mut child = Std::new(&exe)
            .current_dir(dir.path())
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take()); // the reader goes away
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !err.contains("panicked") && !err.contains("error:"),
            "{err}"
        );
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_stdout_exits_2_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    write_in(dir.path(), "a.py", REMOTE_CALL);
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = Std::new(assert_cmd::cargo::cargo_bin("access-audit"))
        .current_dir(dir.path())
        .args(["check", "."])
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("stdout"));
}

// ---- Config ----------------------------------------------------------------------------------

#[test]
fn config_errors_name_the_line_of_the_key() {
    let dir = tempfile::tempdir().unwrap();
    write_in(dir.path(), "a.py", "x = 1\n");
    write_in(
        dir.path(),
        "access-audit.toml",
        "strict = false\n\n[severity]\ninsecure-remote = \"warning\"\nhardcoded-secret = \"fatal\"\n",
    );
    let (code, _, err) = check(dir.path(), &[]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("access-audit.toml:5") && err.contains("fatal"),
        "{err}"
    );
}

#[test]
fn selecting_no_check_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    write_in(dir.path(), "a.py", REMOTE_CALL);
    write_in(dir.path(), "access-audit.toml", "select = []\n");
    let (code, _, err) = check(dir.path(), &[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("no check is enabled"), "{err}");
    let (_, _, err) = check(
        dir.path(),
        &[
            "--no-config",
            "--ignore",
            "untokenized-remote,hardcoded-secret,insecure-remote,unused-suppression",
        ],
    );
    assert!(err.contains("no check is enabled"), "{err}");
}

#[test]
fn a_rules_file_that_replaces_a_built_in_service_says_so() {
    let dir = tempfile::tempdir().unwrap();
    write_in(dir.path(), "a.py", "x = 1\n");
    let builtin =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/comfyui.toml"))
            .unwrap();
    let rules = tempfile::tempdir().unwrap();
    write_in(rules.path(), "comfyui.toml", &builtin);
    let (code, _, err) = check(dir.path(), &["--rules", rules.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("replaces the built-in `comfyui` service"),
        "{err}"
    );
}
