//! `check --fix` and the suggested changes: the safe fixes are applied to a temporary repository,
//! the fixed file must parse and scan clean, and the unsafe cases are left as suggestions.

use std::path::Path;
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;

fn bin(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("access-audit").expect("binary builds");
    c.current_dir(dir).env("NO_COLOR", "1");
    c
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn write(path: &Path, contents: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, contents).unwrap();
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
    // `import os` after the docstring and the __future__ import, once.
    assert!(
        fixed.starts_with("#!/usr/bin/env python3\n\"\"\"Queue a workflow on the shared ComfyUI.\"\"\"\nfrom __future__ import annotations\nimport os\n\nimport json\n"),
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
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let src = "import os\nimport requests as rq\nimport httpx\n\nURL = \"https://comfyui.datacrew.space/queue\"\nsession = rq.Session()\n\n\ndef a():\n    return session.get(URL).json()\n\n\ndef b(pid):\n    with httpx.Client() as client:\n        return client.get(\"https://comfyui.datacrew.space/history/\" + pid)\n\n\ndef c(extra):\n    return rq.get(\"https://comfyui.datacrew.space/queue\", headers=extra)\n";
    write(&root.join("s.py"), src);
    let o = bin(root).args(["check", ".", "--fix"]).output().unwrap();
    let stderr = text(&o.stderr);
    let fixed = std::fs::read_to_string(root.join("s.py")).unwrap();
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
