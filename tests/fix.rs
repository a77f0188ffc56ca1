//! `check --fix` and the suggested changes: the safe fixes are applied to a temporary repository,
//! the fixed file must parse and scan clean, and the unsafe cases are left as suggestions.

use std::path::Path;
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;

mod common;

use common::{text, write};

fn bin(dir: &Path) -> Command {
    let mut c = common::bin();
    c.current_dir(dir).env("NO_COLOR", "1");
    c
}

fn py_compile(path: &Path, cache: &Path) -> Option<Output> {
    let o = std::process::Command::new("python3")
        .env("PYTHONPYCACHEPREFIX", cache)
        .args(["-m", "py_compile"])
        .arg(path)
        .output()
        .ok()?;
    Some(o)
}

/// Write `src` as `s.py` in a fresh directory and run `check . --fix` there: the run's output,
/// the file afterwards, and the directory (removed when dropped).
fn fix_one(src: &str) -> (Output, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("s.py"), src);
    let o = bin(dir.path())
        .args(["check", ".", "--fix"])
        .output()
        .unwrap();
    let fixed = std::fs::read_to_string(dir.path().join("s.py")).unwrap();
    (o, fixed, dir)
}

const SAFE: &str = r#"#!/usr/bin/env python3
"""Queue a workflow on the shared ComfyUI."""
from __future__ import annotations

import json
import requests

BASE = "https://comfyui.datacrew.space"


def queue(workflow):
    resp = requests.post(
        f"{BASE}/prompt",
        json={"prompt": workflow, "note": "a ) in a string"},  # and ) in a comment
        timeout=60,
    )
    return resp.json()


def stats():
    return requests.get("https://comfyui.datacrew.space/system_stats", timeout=10).json()
"#;

const UNSAFE: &str = r#"import aiohttp
import websocket


async def view(name):
    async with aiohttp.ClientSession() as session:
        async with session.get("https://comfyui.datacrew.space/view?filename=" + name) as r:
            return await r.read()


def listen(client_id):
    return websocket.create_connection("wss://comfyui.datacrew.space/ws?clientId=" + client_id)
"#;

#[test]
fn fix_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repo");
    let safe = root.join("scripts/queue.py");
    let unsafe_ = root.join("scripts/stream.py");
    write(&safe, SAFE);
    write(&unsafe_, UNSAFE);

    let before = bin(&root).args(["check", "."]).output().unwrap();
    assert_eq!(before.status.code(), Some(1));
    assert!(
        text(&before.stdout).contains("Found 4 violations"),
        "{}",
        text(&before.stdout)
    );

    let o = bin(&root).args(["check", ".", "--fix"]).output().unwrap();
    let (stdout, stderr) = (text(&o.stdout), text(&o.stderr));
    // The unsafe ones remain: still failing, with suggestions.
    assert_eq!(o.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("fixed 2 untokenized calls in 1 file")
            && stderr.contains("2 left as suggestions"),
        "{stderr}"
    );
    assert!(stdout.contains("Found 2 violations"), "{stdout}");
    assert!(!stdout.contains("scripts/queue.py"), "{stdout}");
    assert_eq!(stdout.matches("   = fix: ").count(), 2, "{stdout}");
    assert!(stdout.contains("to the aiohttp call"), "{stdout}");
    assert!(
        stdout.contains("header=[\"CF-Access-Client-Id: \" + os.environ[\"CF_ACCESS_CLIENT_ID\"]"),
        "{stdout}"
    );
    assert_eq!(
        std::fs::read_to_string(&unsafe_).unwrap(),
        UNSAFE,
        "unsafe cases untouched"
    );

    let fixed = std::fs::read_to_string(&safe).unwrap();
    let headers = r#"headers={"CF-Access-Client-Id": os.environ["CF_ACCESS_CLIENT_ID"], "CF-Access-Client-Secret": os.environ["CF_ACCESS_CLIENT_SECRET"]}"#;
    assert_eq!(fixed.matches(headers).count(), 2, "{fixed}");
    // Multi-line call: a new keyword line before the closing parenthesis, same indentation.
    assert!(
        fixed.contains(&format!("        timeout=60,\n        {headers},\n    )")),
        "{fixed}"
    );
    assert!(
        fixed.contains(&format!(
            "\"https://comfyui.datacrew.space/system_stats\", timeout=10, {headers}).json()"
        )),
        "{fixed}"
    );
    // `import os` after the docstring, the __future__ import and the leading imports, once.
    assert!(
        fixed.starts_with("#!/usr/bin/env python3\n\"\"\"Queue a workflow on the shared ComfyUI.\"\"\"\nfrom __future__ import annotations\n\nimport json\nimport requests\nimport os\n\nBASE = "),
        "{fixed}"
    );
    assert_eq!(fixed.matches("import os").count(), 1);
    // Only env var references, no values.
    assert!(!fixed.contains(".access\"") && !fixed.contains("cfast_"));

    if let Some(o) = py_compile(&safe, &dir.path().join("cache")) {
        assert!(o.status.success(), "fixed file parses: {}", text(&o.stderr));
    }
    // The fixed file scans clean.
    bin(&root)
        .args(["check", "scripts/queue.py"])
        .assert()
        .code(0);
    let v: Value = serde_json::from_slice(
        &bin(&root)
            .args(["scan", "scripts/queue.py", "--format", "json"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    for f in v["findings"].as_array().unwrap() {
        if f["group"] == "remote" {
            assert_eq!(f["tokenized"], true, "{f}");
        }
    }

    // A second run has nothing left to fix in it.
    let o = bin(&root).args(["check", ".", "--fix"]).output().unwrap();
    assert!(
        text(&o.stderr).contains("fixed 0 untokenized calls"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(std::fs::read_to_string(&safe).unwrap(), fixed);
}

#[test]
fn fix_handles_sessions_constants_and_existing_import() {
    let src = "import os\nimport requests as rq\nimport httpx\n\nURL = \"https://comfyui.datacrew.space/queue\"\nsession = rq.Session()\n\n\ndef a():\n    return session.get(URL).json()\n\n\ndef b(pid):\n    with httpx.Client() as client:\n        return client.get(\"https://comfyui.datacrew.space/history/\" + pid)\n\n\ndef c(extra):\n    return rq.get(\"https://comfyui.datacrew.space/queue\", headers=extra)\n";
    let (o, fixed, _dir) = fix_one(src);
    let stderr = text(&o.stderr);
    assert!(
        stderr.contains("fixed 2 untokenized calls"),
        "{stderr}\n{fixed}"
    );
    assert!(
        fixed.contains("session.get(URL, headers={\"CF-Access-Client-Id\""),
        "{fixed}"
    );
    assert!(
        fixed.contains("+ pid, headers={\"CF-Access-Client-Id\""),
        "{fixed}"
    );
    // An existing `headers=` is not touched: merging is left to people.
    assert!(fixed.contains("headers=extra)"), "{fixed}");
    assert_eq!(fixed.matches("import os").count(), 1, "{fixed}");
    assert_eq!(
        o.status.code(),
        Some(1),
        "the headers=extra call stays a violation"
    );
}

#[test]
fn check_json_and_report_carry_suggestions() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(&root.join("a.py"), SAFE);
    write(&root.join("b.py"), UNSAFE);
    write(
        &root.join("c.sh"),
        "#!/bin/sh\ncurl -s https://comfyui.datacrew.space/system_stats\n",
    );
    write(
        &root.join("src/main.rs"),
        "fn main() { let _ = reqwest::blocking::get(\"https://comfyui.datacrew.space/queue\"); }\n",
    );
    let o = bin(root)
        .args(["check", ".", "--format", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let violations = v["violations"].as_array().unwrap();
    let mut untokenized = 0;
    for x in violations {
        if x["rule"] == "untokenized-remote" {
            untokenized += 1;
            let s = x["suggestion"]
                .as_str()
                .unwrap_or_else(|| panic!("suggestion: {x}"));
            let path = x["path"].as_str().unwrap();
            match path {
                "a.py" => assert!(s.contains("from utils.comfyui_api_client import comfyui_request") && s.contains("to the requests call"), "{s}"),
                "b.py" => assert!(s.contains("aiohttp") || s.contains("websocket-client"), "{s}"),
                "c.sh" => assert!(s.contains("-H \"CF-Access-Client-Id: $CF_ACCESS_CLIENT_ID\""), "{s}"),
                "src/main.rs" => assert!(s.contains(".header(\"CF-Access-Client-Secret\", std::env::var(\"CF_ACCESS_CLIENT_SECRET\")?)"), "{s}"),
                other => panic!("unexpected {other}"),
            }
        } else {
            assert!(x.get("suggestion").is_none(), "{x}");
        }
    }
    assert_eq!(untokenized, 6, "{violations:#?}");

    let o = bin(root).args(["report", "."]).output().unwrap();
    let md = text(&o.stdout);
    let fix_list = md
        .split("Fix before enabling Access:")
        .nth(1)
        .expect("fix list");
    assert!(fix_list.contains("`a.py:21` (`https://comfyui.datacrew.space/system_stats`): route it through the helper"), "{fix_list}");
    assert!(
        fix_list
            .contains("add `headers={\"CF-Access-Client-Id\": os.environ[\"CF_ACCESS_CLIENT_ID\"]"),
        "{fix_list}"
    );
}

// ---------------------------------------------------------------------------------------------
// Safety: exactly the reported call, module-level imports, atomic writes, no surprise edits.

const HEADERS: &str = r#"headers={"CF-Access-Client-Id": os.environ["CF_ACCESS_CLIENT_ID"], "CF-Access-Client-Secret": os.environ["CF_ACCESS_CLIENT_SECRET"]}"#;

/// A local call that shares the name of a remote constant keeps its own (local) binding and is
/// not edited: it would raise `KeyError` without the env vars.
#[test]
fn only_the_calls_using_the_reported_binding_are_edited() {
    let src = "import os\nimport requests\n\nURL = \"https://comfyui.datacrew.space/queue\"\n\n\ndef local():\n    URL = \"http://127.0.0.1:8188/queue\"\n    return requests.get(URL)\n\n\ndef shadowed(URL):\n    return requests.get(URL)\n\n\ndef remote():\n    return requests.get(URL)\n";
    let (o, fixed, _dir) = fix_one(src);
    assert!(
        text(&o.stderr).contains("fixed 1 untokenized call in 1 file"),
        "{}\n{fixed}",
        text(&o.stderr)
    );
    assert_eq!(fixed.matches("headers=").count(), 1, "{fixed}");
    assert!(
        fixed.ends_with(&format!(
            "def remote():\n    return requests.get(URL, {HEADERS})\n"
        )),
        "{fixed}"
    );
    assert!(
        fixed.contains("    URL = \"http://127.0.0.1:8188/queue\"\n    return requests.get(URL)\n"),
        "{fixed}"
    );
    assert!(
        fixed.contains("def shadowed(URL):\n    return requests.get(URL)\n"),
        "{fixed}"
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
}

/// `import os` inside a function does not make `os` a module name: the fix adds a module-level
/// import, after the docstring, the `from __future__` imports and the leading imports.
#[test]
fn an_import_inside_a_function_is_not_a_module_import() {
    let src = "\"\"\"Stats.\"\"\"\nfrom __future__ import annotations\n\nimport json\nimport requests\n\n\ndef helper():\n    import os\n    return os.getcwd()\n\n\ndef stats():\n    return json.dumps(requests.get(\"https://comfyui.datacrew.space/system_stats\").json())\n";
    let (o, fixed, dir) = fix_one(src);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let root = dir.path();
    assert!(
        fixed.starts_with("\"\"\"Stats.\"\"\"\nfrom __future__ import annotations\n\nimport json\nimport requests\nimport os\n\n\ndef helper():\n    import os\n"),
        "{fixed}"
    );
    if let Some(o) = py_compile(&root.join("s.py"), &root.join("cache")) {
        assert!(o.status.success(), "{}", text(&o.stderr));
    }
}

/// A module-level call before the module's own `import os` gets an import above it (else the
/// fixed module would raise `NameError` when imported).
#[test]
fn an_import_after_a_module_level_call_does_not_count() {
    let src = "import requests\n\nSTATS = requests.get(\"https://comfyui.datacrew.space/system_stats\")\n\nimport os\n";
    let (o, fixed, _dir) = fix_one(src);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(
        fixed.starts_with("import requests\nimport os\n\nSTATS = "),
        "{fixed}"
    );
}

/// CRLF files stay CRLF: every inserted line ends with `\r\n`.
#[test]
fn line_endings_are_kept() {
    let src = "import requests\r\n\r\n\r\ndef queue(w):\r\n    return requests.post(\r\n        \"https://comfyui.datacrew.space/prompt\",\r\n        json=w,\r\n    )\r\n";
    let (o, fixed, _dir) = fix_one(src);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(fixed.contains(HEADERS), "{fixed:?}");
    assert!(
        fixed.starts_with("import requests\r\nimport os\r\n"),
        "{fixed:?}"
    );
    assert_eq!(
        fixed.matches('\n').count(),
        fixed.matches("\r\n").count(),
        "a bare LF: {fixed:?}"
    );
    assert!(
        fixed.contains(&format!(
            "        json=w,\r\n        {HEADERS},\r\n    )\r\n"
        )),
        "{fixed:?}"
    );
}

/// `--diff` prints a unified diff and writes nothing; `--dry-run` says what would change and writes
/// nothing. Both exit 1 while something is left to fix.
#[test]
fn diff_and_dry_run_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(&root.join("scripts/queue.py"), SAFE);
    let o = bin(root).args(["check", ".", "--diff"]).output().unwrap();
    let (stdout, stderr) = (text(&o.stdout), text(&o.stderr));
    assert_eq!(o.status.code(), Some(1), "{stdout}\n{stderr}");
    assert_eq!(
        std::fs::read_to_string(root.join("scripts/queue.py")).unwrap(),
        SAFE
    );
    assert!(
        stdout.starts_with("--- a/scripts/queue.py\n+++ b/scripts/queue.py\n@@ "),
        "{stdout}"
    );
    assert!(stdout.contains("\n+import os\n"), "{stdout}");
    assert!(
        stdout.contains(&format!("\n-    return requests.get(\"https://comfyui.datacrew.space/system_stats\", timeout=10).json()\n+    return requests.get(\"https://comfyui.datacrew.space/system_stats\", timeout=10, {HEADERS}).json()\n")),
        "{stdout}"
    );
    assert!(
        !stdout.contains("violation"),
        "only the diff on stdout: {stdout}"
    );
    assert!(
        stderr.contains("would fix 2 untokenized calls in 1 file"),
        "{stderr}"
    );

    let o = bin(root)
        .args(["check", ".", "--fix", "--dry-run"])
        .output()
        .unwrap();
    let (stdout, stderr) = (text(&o.stdout), text(&o.stderr));
    assert_eq!(o.status.code(), Some(1), "{stdout}\n{stderr}");
    assert_eq!(
        std::fs::read_to_string(root.join("scripts/queue.py")).unwrap(),
        SAFE
    );
    assert!(
        stderr.contains("would fix 2 untokenized calls in 1 file"),
        "{stderr}"
    );
    assert!(stderr.contains("scripts/queue.py: would fix 2"), "{stderr}");
    assert!(stdout.contains("Found 2 violations"), "{stdout}");

    // Applied for real, the file is what the diff said; a second --diff is empty and exits 0.
    bin(root).args(["check", ".", "--fix"]).assert().code(0);
    let o = bin(root).args(["check", ".", "--diff"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(o.stdout.is_empty(), "{}", text(&o.stdout));
}

/// The file is replaced, not truncated in place: its mode is kept and no temporary file is left.
#[cfg(unix)]
#[test]
fn the_fixed_file_keeps_its_mode_and_no_temporary_file_is_left() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let path = root.join("run.py");
    write(&path, "#!/usr/bin/env python3\nimport requests\nrequests.get(\"https://comfyui.datacrew.space/queue\")\n");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o750)).unwrap();
    bin(root).args(["check", ".", "--fix"]).assert().code(0);
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o750
    );
    let names: Vec<String> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["run.py"]);
    assert!(std::fs::read_to_string(&path).unwrap().contains(HEADERS));
}

/// A file edited between the scan and the fix is refused and left as it is now; the summary
/// names it and the run is marked as failed.
#[test]
fn a_file_changed_since_the_scan_is_refused() {
    use access_audit::cmd::fix::{apply_with, FixMode};
    use access_audit::engine::scan::{scan, ScanOptions};
    use access_audit::gate::{evaluate, GateConfig};
    use access_audit::rules::RuleSet;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let path = root.join("s.py");
    let before = "import requests\nrequests.get(\"https://comfyui.datacrew.space/queue\")\n";
    write(&path, before);
    let rules = RuleSet::embedded().unwrap();
    let opts = ScanOptions {
        paths: vec![root.clone()],
        ..ScanOptions::default()
    };
    let report = scan(&opts, &rules).unwrap();
    let result = evaluate(&report, &GateConfig::default(), None);
    // Someone edits the file after the scan: a new line shifts the reported call.
    let edited = "import requests\nrequests.get(\"http://127.0.0.1:8188/queue\")\nrequests.get(\"https://comfyui.datacrew.space/queue\")\n";
    write(&path, edited);
    let roots = vec![root.clone()];
    let s = apply_with(
        &result,
        &roots,
        None,
        &report.context.hashes,
        FixMode::Write,
    );
    assert_eq!(s.fixed, 0);
    assert_eq!(s.refused.len(), 1, "{s:?}");
    assert!(s.refused[0].1.contains("changed since the scan"), "{s:?}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), edited);
    // Unchanged since the scan: fixed.
    write(&path, before);
    let s = apply_with(
        &result,
        &roots,
        None,
        &report.context.hashes,
        FixMode::Write,
    );
    assert_eq!((s.fixed, s.refused.len()), (1, 0), "{s:?}");
    assert!(std::fs::read_to_string(&path).unwrap().contains(HEADERS));
}

/// A file `--fix` cannot replace safely (here a symbolic link given on the command line) is
/// refused: the file it points to is untouched, and `check` exits 2.
#[cfg(unix)]
#[test]
fn a_refused_file_makes_check_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let src = "import requests\nrequests.get(\"https://comfyui.datacrew.space/queue\")\n";
    write(&root.join("real/x.py"), src);
    std::os::unix::fs::symlink("real/x.py", root.join("y.py")).unwrap();
    let o = bin(root).args(["check", "y.py", "--fix"]).output().unwrap();
    let stderr = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("y.py: not written: it is a symbolic link"),
        "{stderr}"
    );
    assert!(
        stderr.contains("1 file refused and left untouched"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(root.join("real/x.py")).unwrap(),
        src
    );
}
