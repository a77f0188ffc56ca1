//! End-to-end tests of `access-audit check` on temporary repositories: exit codes for each case,
//! baseline round trip with moved lines, inline suppressions (used, unused, malformed, above a
//! reflowed call), config discovery, `--changed-since` with a real git repository, SARIF validated against
//! the official 2.1.0 schema, GitHub annotations, and redaction of secrets in every format.

use std::path::Path;
use std::process::Command as Std;

use serde_json::Value;

mod common;

use common::{bin, run, write_in};

/// Run `check` in `dir` with extra args; returns (exit code, stdout, stderr).
fn check(dir: &Path, args: &[&str]) -> (i32, String, String) {
    run(bin().current_dir(dir).arg("check").arg(".").args(args))
}

const UNTOKENIZED: &str = "import requests\n\ndef submit():\n    return requests.get(\"https://comfyui.example.space/prompt\")\n";
const TOKENIZED: &str = "import os\nimport requests\nCF = {\"CF-Access-Client-Id\": os.environ[\"CF_ACCESS_CLIENT_ID\"], \"CF-Access-Client-Secret\": os.environ[\"CF_ACCESS_CLIENT_SECRET\"]}\nrequests.get(\"https://comfyui.example.space/prompt\", headers=CF)\n";
const LOCAL: &str = "import requests\nrequests.get(\"http://localhost:8188/prompt\")\n";

#[test]
fn clean_repository_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    write_in(dir.path(), "local.py", LOCAL);
    write_in(dir.path(), "remote_ok.py", TOKENIZED);
    let (code, out, _) = check(dir.path(), &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("No violations"), "{out}");
}

#[test]
fn untokenized_remote_fails_with_a_code_frame() {
    let dir = tempfile::tempdir().unwrap();
    write_in(dir.path(), "bad.py", UNTOKENIZED);
    let (code, out, _) = check(dir.path(), &["--color", "never"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("error[untokenized-remote]"), "{out}");
    assert!(out.contains("--> bad.py:4:25"), "{out}");
    assert!(
        out.contains("4 |     return requests.get(\"https://comfyui.example.space/prompt\")"),
        "{out}"
    );
    assert!(
        out.contains("access-audit explain untokenized-remote"),
        "{out}"
    );
}

#[test]
fn insecure_remote_and_strict_unresolved() {
    let dir = tempfile::tempdir().unwrap();
    write_in(dir.path(), "a.py", "import os, requests\nrequests.get(\"http://comfyui.example.space/queue\", headers={\"cf-access-token\": os.environ[\"T\"]})\nrequests.get(os.environ[\"COMFYUI_URL\"] + \"/prompt\")\n");
    let (code, out, _) = check(dir.path(), &["--format", "json"]);
    assert_eq!(code, 1);
    let v: Value = serde_json::from_str(&out).unwrap();
    let rules: Vec<&str> = v["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["rule"].as_str().unwrap())
        .collect();
    assert_eq!(
        rules,
        vec!["insecure-remote"],
        "unresolved-address is off by default"
    );
    let (_, out, _) = check(dir.path(), &["--format", "json", "--strict"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    let rules: Vec<&str> = v["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, vec!["insecure-remote", "unresolved-address"]);
}

#[test]
fn usage_errors_exit_two() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .current_dir(dir.path())
        .args(["check", "no/such/dir"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let (code, _, err) = check(dir.path(), &["--select", "no-such-rule"]);
    assert_eq!(code, 2);
    assert!(err.contains("no-such-rule"), "{err}");
    let (code, _, err) = check(dir.path(), &["--severity", "insecure-remote=fatal"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn severity_warning_reports_without_failing() {
    let dir = tempfile::tempdir().unwrap();
    write_in(dir.path(), "bad.py", UNTOKENIZED);
    let (code, out, _) = check(
        dir.path(),
        &[
            "--severity",
            "untokenized-remote=warning",
            "--color",
            "never",
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("warning[untokenized-remote]"), "{out}");
}

#[test]
fn config_file_is_discovered_upward_and_cli_overrides_it() {
    let dir = tempfile::tempdir().unwrap();
    write_in(
        dir.path(),
        "pyproject.toml",
        "[project]\nname = \"demo\"\n\n[tool.access-audit]\nignore = [\"untokenized-remote\"]\n",
    );
    write_in(dir.path(), "pkg/sub/bad.py", UNTOKENIZED);
    let out = bin()
        .current_dir(dir.path())
        .args(["check", "pkg/sub"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = bin()
        .current_dir(dir.path())
        .args(["check", "pkg/sub", "--no-config"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    write_in(
        dir.path(),
        "pkg/access-audit.toml",
        "select = [\"untokenized-remote\"]\n",
    );
    let out = bin()
        .current_dir(dir.path())
        .args(["check", "pkg/sub"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "the nearer access-audit.toml wins"
    );
    write_in(dir.path(), "pkg/access-audit.toml", "selekt = []\n");
    let out = bin()
        .current_dir(dir.path())
        .args(["check", "pkg/sub"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("access-audit.toml:1") && err.contains("selekt"),
        "{err}"
    );
}

#[test]
fn baseline_round_trip_survives_moved_lines_but_not_new_violations() {
    let dir = tempfile::tempdir().unwrap();
    write_in(dir.path(), "legacy.py", UNTOKENIZED);
    let (code, _, err) = check(
        dir.path(),
        &["--write-baseline", ".access-audit-baseline.json"],
    );
    assert_eq!(code, 0, "{err}");
    let baseline = std::fs::read_to_string(dir.path().join(".access-audit-baseline.json")).unwrap();
    assert!(
        baseline.contains("\"rule\": \"untokenized-remote\""),
        "{baseline}"
    );
    assert!(
        !baseline.contains("\"line\""),
        "no line numbers in the baseline: {baseline}"
    );

    let (code, out, _) = check(dir.path(), &["--baseline", ".access-audit-baseline.json"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("1 in the baseline"), "{out}");

    // Unrelated edits move the violation down: still baselined.
    write_in(
        dir.path(),
        "legacy.py",
        format!("# a comment\nimport os\n\n\n{UNTOKENIZED}"),
    );
    let (code, out, _) = check(dir.path(), &["--baseline", ".access-audit-baseline.json"]);
    assert_eq!(code, 0, "{out}");

    // A different violation on the very line the old one had: reported.
    write_in(dir.path(), "legacy.py", "import requests\n\ndef submit():\n    return requests.get(\"https://other.example.space/prompt\")\n");
    let (code, out, _) = check(
        dir.path(),
        &[
            "--baseline",
            ".access-audit-baseline.json",
            "--color",
            "never",
        ],
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("other.example.space"), "{out}");

    // A second copy of the baselined call is new.
    write_in(dir.path(), "legacy.py", format!("{UNTOKENIZED}\ndef again():\n    return requests.get(\"https://comfyui.example.space/prompt\")\n"));
    let (code, _, _) = check(dir.path(), &["--baseline", ".access-audit-baseline.json"]);
    assert_eq!(code, 1);
}

#[test]
fn baseline_file_is_sorted_and_stable() {
    let dir = tempfile::tempdir().unwrap();
    write_in(dir.path(), "b.py", UNTOKENIZED);
    write_in(dir.path(), "a.py", UNTOKENIZED);
    check(dir.path(), &["--write-baseline", "one.json"]);
    check(dir.path(), &["--write-baseline", "two.json"]);
    let one = std::fs::read_to_string(dir.path().join("one.json")).unwrap();
    assert_eq!(
        one,
        std::fs::read_to_string(dir.path().join("two.json")).unwrap()
    );
    let v: Value = serde_json::from_str(&one).unwrap();
    let paths: Vec<&str> = v["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, vec!["a.py", "b.py"]);
}

#[test]
fn inline_suppression_on_the_line_above_a_statement_covers_all_its_lines() {
    let dir = tempfile::tempdir().unwrap();
    write_in(dir.path(), "above.py", "import requests\n# access-audit: ignore[untokenized-remote] staging host, not behind Access\nrequests.get(\"https://comfyui.example.space/prompt\")\n");
    write_in(
        dir.path(),
        "reflowed.py",
        "import requests\n# access-audit: ignore[untokenized-remote] black reflowed this call\nrequests.post(\n    \"https://comfyui.example.space/prompt\",\n    json={},\n    timeout=30,\n)\n",
    );
    write_in(dir.path(), "main.rs", "fn f(c: &reqwest::Client) {\n    // access-audit: ignore[untokenized-remote] test server\n    let _ = c.get(\"https://comfyui.example.space/queue\").send();\n}\n");
    let (code, out, _) = check(dir.path(), &["--format", "json"]);
    assert_eq!(code, 0, "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let states: Vec<&str> = v["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["state"].as_str().unwrap())
        .collect();
    assert_eq!(
        states,
        vec!["suppressed", "suppressed", "suppressed"],
        "{out}"
    );
    assert_eq!(
        v["violations"][0]["justification"],
        "staging host, not behind Access"
    );
}

#[test]
fn unused_and_malformed_suppressions_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    write_in(dir.path(), "a.py", "import requests\nrequests.get(\"http://localhost:8188/prompt\")  # access-audit: ignore[untokenized-remote] not needed\n");
    write_in(dir.path(), "b.py", "import requests\n# access-audit: ignore[untokenized-remote]\nrequests.get(\"https://comfyui.example.space/prompt\")\n");
    write_in(
        dir.path(),
        "c.py",
        "x = 1  # access-audit: ignore because reasons\n",
    );
    write_in(
        dir.path(),
        "d.py",
        "x = 1  # access-audit: ignore[no-such-check] typo\n",
    );
    let (code, out, _) = check(dir.path(), &["--format", "json"]);
    assert_eq!(code, 1);
    let v: Value = serde_json::from_str(&out).unwrap();
    let got: Vec<(String, String)> = v["violations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["state"] == "active")
        .map(|x| {
            (
                x["path"].as_str().unwrap().to_string(),
                x["rule"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = [
        ("a.py", "unused-suppression"),
        ("b.py", "unused-suppression"),
        ("b.py", "untokenized-remote"),
        ("c.py", "unused-suppression"),
        ("d.py", "unused-suppression"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(
        got, want,
        "a suppression without a reason does not suppress: {out}"
    );
}

fn git(dir: &Path, args: &[&str]) {
    let ok = common::git(dir, args).unwrap();
    assert!(
        ok.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&ok.stderr)
    );
}

#[test]
fn changed_since_scans_only_changed_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    git(d, &["init", "-q", "-b", "main"]);
    write_in(d, "old_bad.py", UNTOKENIZED);
    git(d, &["add", "."]);
    git(d, &["commit", "-q", "-m", "legacy"]);
    let (code, _, err) = check(d, &["--changed-since", "HEAD"]);
    assert_eq!(code, 0, "nothing changed since HEAD: {err}");
    write_in(d, "new_bad.py", UNTOKENIZED);
    let (code, out, _) = check(d, &["--changed-since", "HEAD", "--format", "json"]);
    assert_eq!(code, 1);
    let v: Value = serde_json::from_str(&out).unwrap();
    let paths: Vec<&str> = v["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, vec!["new_bad.py"]);
}

#[test]
fn changed_since_a_missing_ref_says_to_fetch_more_history() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("origin");
    std::fs::create_dir_all(&d).unwrap();
    git(&d, &["init", "-q", "-b", "main"]);
    for i in 0..3 {
        write_in(&d, "a.py", format!("x = {i}\n"));
        git(&d, &["add", "."]);
        git(&d, &["commit", "-q", "-m", &format!("c{i}")]);
    }
    let clone = dir.path().join("clone");
    let url = format!("file://{}", d.display());
    let st = Std::new("git")
        .args(["clone", "-q", "--depth", "1", &url])
        .arg(&clone)
        .status()
        .unwrap();
    assert!(st.success());
    let (code, _, err) = check(&clone, &["--changed-since", "HEAD~2"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("shallow") && err.contains("fetch"), "{err}");
    let (code, _, err) = check(&clone, &["--changed-since", "no-such-branch"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn sarif_validates_against_the_official_schema() {
    let dir = tempfile::tempdir().unwrap();
    write_in(dir.path(), "sub dir/bad.py", UNTOKENIZED);
    write_in(dir.path(), "ok.py", "import requests\n# access-audit: ignore[untokenized-remote] staging\nrequests.get(\"https://comfyui.example.space/queue\")\n");
    let (code, out, _) = check(dir.path(), &["--format", "sarif"]);
    assert_eq!(code, 1);
    let sarif: Value = serde_json::from_str(&out).unwrap();
    let schema: Value = serde_json::from_str(include_str!("data/sarif-schema-2.1.0.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");

    let run = &sarif["runs"][0];
    let ids: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let mut unique = ids.clone();
    unique.dedup();
    assert_eq!(ids.len(), unique.len());
    for r in run["results"].as_array().unwrap() {
        let loc = &r["locations"][0]["physicalLocation"];
        let uri = loc["artifactLocation"]["uri"].as_str().unwrap();
        assert!(!uri.starts_with('/') && !uri.contains('\\'), "{uri}");
        assert!(loc["region"]["startLine"].as_u64().unwrap() >= 1);
        assert!(
            r["partialFingerprints"]["accessAudit/v1"]
                .as_str()
                .unwrap()
                .len()
                == 16
        );
    }
    let suppressed: Vec<&Value> = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r.get("suppressions").is_some())
        .collect();
    assert_eq!(suppressed.len(), 1);
}

#[test]
fn github_format_annotates_each_violation() {
    let dir = tempfile::tempdir().unwrap();
    write_in(dir.path(), "bad.py", UNTOKENIZED);
    let (code, out, _) = check(dir.path(), &["--format", "github"]);
    assert_eq!(code, 1);
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(
        out.starts_with(
            "::error file=bad.py,line=4,col=25,title=access-audit untokenized-remote::"
        ),
        "{out}"
    );
}

#[test]
fn hardcoded_secrets_are_reported_and_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let client_id = "0123456789abcdef0123456789abcdef.access";
    let secret = format!("cfast_{}{}", "Q7w8E9r0T1".repeat(4), "z9Y8x7W6");
    let hex = "9f".repeat(32);
    write_in(
        dir.path(),
        "creds.py",
        format!("import requests\nHEADERS = {{\"CF-Access-Client-Id\": \"{client_id}\", \"CF-Access-Client-Secret\": \"{secret}\"}}\nCF_ACCESS_CLIENT_SECRET = \"{hex}\"\nrequests.get(\"https://comfyui.example.space/prompt\", headers=HEADERS)\n"),
    );
    let mut saw_rule = false;
    for format in ["human", "json", "sarif", "github", "markdown"] {
        let (code, out, err) = check(dir.path(), &["--format", format, "--color", "never"]);
        assert_eq!(code, 1, "{format}: {out}");
        for value in [client_id, secret.as_str(), hex.as_str()] {
            assert!(
                !out.contains(value) && !err.contains(value),
                "{format} leaked a secret:\n{out}"
            );
            assert!(
                !out.contains(&value[8..20]),
                "{format} leaked part of a secret:\n{out}"
            );
        }
        saw_rule |= out.contains("hardcoded-secret");
    }
    assert!(saw_rule);
    let (_, out, _) = check(dir.path(), &["--format", "json"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    let secrets: Vec<&Value> = v["violations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["rule"] == "hardcoded-secret")
        .collect();
    assert_eq!(secrets.len(), 3, "{out}");
    // The scan's JSON and report also keep only the redacted prefix.
    for cmd in [vec!["scan", ".", "--format", "json"], vec!["report", "."]] {
        let out = bin().current_dir(dir.path()).args(&cmd).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            !text.contains(&secret) && !text.contains(client_id) && !text.contains(&hex),
            "{cmd:?}"
        );
    }
}

#[test]
fn explain_prints_each_check() {
    for id in [
        "untokenized-remote",
        "hardcoded-secret",
        "insecure-remote",
        "unresolved-address",
        "unused-suppression",
    ] {
        let out = bin().args(["explain", id]).output().unwrap();
        assert!(out.status.success());
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.starts_with(id) && text.contains("Why"), "{text}");
    }
}

#[test]
fn changed_since_still_reads_unchanged_env_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    git(d, &["init", "-q", "-b", "main"]);
    write_in(d, ".env", "COMFYUI_URL=https://comfyui.example.space\n");
    write_in(
        d,
        "worker.py",
        "import os\nURL = os.getenv(\"COMFYUI_URL\")\n",
    );
    git(d, &["add", "."]);
    git(d, &["commit", "-q", "-m", "base"]);
    write_in(
        d,
        "worker.py",
        "import os, requests\nURL = os.getenv(\"COMFYUI_URL\")\nrequests.get(f\"{URL}/prompt\")\n",
    );
    let (code, out, _) = check(d, &["--changed-since", "HEAD", "--format", "json"]);
    assert_eq!(code, 1, "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let violations = v["violations"].as_array().unwrap();
    assert_eq!(violations.len(), 1, "{out}");
    assert_eq!(violations[0]["path"], "worker.py");
    assert_eq!(violations[0]["url"], "https://comfyui.example.space/prompt");
}
