//! Adoption: the user's own domain in the report, the CLI conveniences (version, completions, man
//! page, JSON errors, stdin), and the pre-commit hook definition run as pre-commit would.

use std::path::Path;

mod common;

use common::{bin_no_vcs, write_in};

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("UTF-8 stdout")
}

/// A repository whose ComfyUI sits behind another team's public domain.
fn other_domain_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_in(
        dir.path(),
        "client.py",
        "import requests\n\n\ndef submit(wf):\n    return requests.post(\"https://comfy.other-team.dev/prompt\", json=wf)\n",
    );
    write_in(
        dir.path(),
        "local.py",
        "import requests\nrequests.get(\"http://127.0.0.1:8188/queue\")\n",
    );
    dir
}

#[test]
fn report_names_the_remote_host_found_never_a_built_in_domain() {
    let repo = other_domain_repo();
    let out = bin_no_vcs()
        .arg("report")
        .arg(repo.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let md = stdout(&out);
    assert!(!md.contains("datacrew"), "{md}");
    assert!(md.contains("enabled on `comfy.other-team.dev`"), "{md}");
    assert!(md.contains("no protected domain is configured"), "{md}");
    // The Mermaid picture names the same host.
    assert!(
        md.contains("Cloudflare Tunnel + Access<br/>comfy.other-team.dev"),
        "{md}"
    );
}

#[test]
fn report_names_configured_domains_from_flag_and_pyproject() {
    let repo = other_domain_repo();
    write_in(
        repo.path(),
        "pyproject.toml",
        "[project]\nname = \"demo\"\n\n[tool.access-audit]\nprotected_domains = [\"comfy.mydomain.dev\"]\n",
    );
    let md = stdout(
        &bin_no_vcs()
            .arg("report")
            .arg(repo.path())
            .output()
            .unwrap(),
    );
    assert!(md.contains("enabled on `comfy.mydomain.dev`"), "{md}");
    assert!(!md.contains("**Protected domain:**"), "{md}");
    assert!(!md.contains("datacrew"), "{md}");
    // `--domain` adds to the file's list.
    let md = stdout(
        &bin_no_vcs()
            .arg("report")
            .arg(repo.path())
            .args(["--domain", "api.mydomain.dev"])
            .output()
            .unwrap(),
    );
    assert!(
        md.contains("enabled on `api.mydomain.dev` and `comfy.mydomain.dev`"),
        "{md}"
    );
}

#[test]
fn report_without_remote_or_configuration_says_none_is_configured() {
    let dir = tempfile::tempdir().unwrap();
    write_in(
        dir.path(),
        "local.py",
        "import requests\nrequests.get(\"http://127.0.0.1:8188/queue\")\n",
    );
    let md = stdout(&bin_no_vcs().arg("report").arg(dir.path()).output().unwrap());
    assert!(md.contains("**Protected domain:** none configured"), "{md}");
    assert!(!md.contains("datacrew"), "{md}");
    assert!(
        md.contains("Enable Cloudflare Access (browser authentication) for the public domain"),
        "{md}"
    );
}

#[test]
fn version_prints_the_rules_digest_of_a_scan() {
    let out = bin_no_vcs().arg("--version").output().unwrap();
    assert!(out.status.success());
    let line = stdout(&out);
    let dir = tempfile::tempdir().unwrap();
    let scan = stdout(
        &bin_no_vcs()
            .arg("scan")
            .arg(dir.path())
            .args(["--format", "json"])
            .output()
            .unwrap(),
    );
    let v: serde_json::Value = serde_json::from_str(&scan).unwrap();
    let digest = v["meta"]["rules_digest"].as_str().unwrap();
    assert_eq!(
        line.trim(),
        format!(
            "access-audit {} (rules {digest})",
            env!("CARGO_PKG_VERSION")
        )
    );
}

#[test]
fn help_lists_exit_codes_and_completions_and_man_render() {
    let help = stdout(&bin_no_vcs().arg("--help").output().unwrap());
    assert!(help.contains("Exit codes:"), "{help}");
    assert!(help.contains("  2  usage error"), "{help}");
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = bin_no_vcs().args(["completions", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}: {out:?}");
        let text = stdout(&out);
        assert!(text.contains("access-audit"), "{shell}: {text}");
        assert!(text.contains("stdin-filename"), "{shell}: {text}");
    }
    let man = stdout(&bin_no_vcs().arg("man").output().unwrap());
    assert!(man.contains(".TH access-audit 1"), "{man}");
    assert!(man.contains("Exit codes"), "{man}");
    let bad = bin_no_vcs().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn json_format_reports_a_fatal_error_as_json_on_stdout() {
    for cmd in ["scan", "check"] {
        let out = bin_no_vcs()
            .args([cmd, "no/such/dir", "--format", "json"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{cmd}");
        let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON error");
        let msg = v["error"]["message"].as_str().unwrap();
        assert!(msg.contains("no/such/dir"), "{msg}");
        assert!(v["error"]["hint"].as_str().unwrap().contains("path"), "{v}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("error: cannot read `no/such/dir`"), "{err}");
    }
    // Without JSON, stdout stays empty.
    let out = bin_no_vcs().args(["scan", "no/such/dir"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}

#[test]
fn check_and_scan_read_one_file_from_stdin() {
    let repo = tempfile::tempdir().unwrap();
    write_in(
        repo.path(),
        "access-audit.toml",
        "protected-domains = [\"comfy.mydomain.dev\"]\n",
    );
    let src =
        "import requests\n\n\ndef go():\n    requests.get(\"https://comfy.mydomain.dev/queue\")\n";
    let out = bin_no_vcs()
        .current_dir(repo.path())
        .args([
            "check",
            "-",
            "--stdin-filename",
            "pkg/client.py",
            "--format",
            "json",
        ])
        .write_stdin(src)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let text = v.to_string();
    assert!(text.contains("\"pkg/client.py\""), "{text}");
    assert!(text.contains("untokenized-remote"), "{text}");
    // The language follows the file name: the same text as a shell script is not Python.
    let out = bin_no_vcs()
        .current_dir(repo.path())
        .args([
            "scan",
            "-",
            "--stdin-filename",
            "notes.txt",
            "--format",
            "json",
        ])
        .write_stdin("nothing here\n")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 0);
    // The report names the stdin file as its scope and uses the config beside it.
    let out = bin_no_vcs()
        .current_dir(repo.path())
        .args(["report", "-", "--stdin-filename", "pkg/client.py"])
        .write_stdin(src)
        .output()
        .unwrap();
    let md = stdout(&out);
    assert!(md.contains("**Scope:** `pkg/client.py`"), "{md}");
    assert!(md.contains("enabled on `comfy.mydomain.dev`"), "{md}");
    // `-` needs a file name.
    let out = bin_no_vcs()
        .args(["check", "-"])
        .write_stdin(src)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--stdin-filename"));
}

/// The hooks of `.pre-commit-hooks.yaml`: (id, entry, language, pass_filenames, files regex).
fn hooks() -> Vec<(String, String, String, bool, String)> {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml"),
    )
    .unwrap();
    let docs = yaml_rust2::YamlLoader::load_from_str(&text).unwrap();
    docs[0]
        .as_vec()
        .expect("a list of hooks")
        .iter()
        .map(|h| {
            let s = |k: &str| h[k].as_str().unwrap_or_default().to_string();
            (
                s("id"),
                s("entry"),
                s("language"),
                h["pass_filenames"].as_bool().unwrap_or(true),
                s("files"),
            )
        })
        .collect()
}

#[test]
fn pre_commit_hooks_fail_on_a_violation_that_comes_through_env() {
    let hooks = hooks();
    assert!(
        hooks.iter().any(|h| h.0 == "access-audit" && !h.3),
        "{hooks:?}"
    );
    let repo = tempfile::tempdir().unwrap();
    // The URL is only in `.env`; the code that sends it is in `app/client.py`.
    write_in(
        repo.path(),
        ".env",
        "COMFYUI_URL=https://comfy.mydomain.dev\n",
    );
    write_in(
        repo.path(),
        "app/client.py",
        "import os\nimport requests\n\n\ndef submit(wf):\n    return requests.post(os.environ[\"COMFYUI_URL\"] + \"/prompt\", json=wf)\n",
    );
    write_in(
        repo.path(),
        "app/local.py",
        "import requests\nrequests.get(\"http://127.0.0.1:8188/queue\")\n",
    );
    for (id, entry, language, pass_filenames, files) in &hooks {
        assert_eq!(
            language, "python",
            "{id}: installs the wheel, no Rust toolchain"
        );
        let files_re = regex::Regex::new(files).unwrap();
        for f in [
            ".env",
            "app/client.py",
            "explore.ipynb",
            "deploy/.env.prod",
            "Dockerfile",
            "docker-compose.yml",
            "scripts/run.sh",
            "k8s/deploy.yaml",
            "src/main.rs",
        ] {
            assert!(files_re.is_match(f), "{id}: `files` misses {f}");
        }
        let mut words = entry.split_whitespace();
        assert_eq!(words.next(), Some("access-audit"), "{id}");
        let mut cmd = bin_no_vcs();
        cmd.current_dir(repo.path())
            .args(words)
            .args(["--format", "github"]);
        if *pass_filenames {
            // pre-commit passes the staged files relative to the repository root: only the code.
            cmd.args(["app/client.py", "app/local.py"]);
        }
        let out = cmd.output().unwrap();
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(1), "{id} must fail: {text} {out:?}");
        assert!(
            text.contains("::error file=app/client.py,line=6,")
                && text.contains("untokenized-remote"),
            "{id}: path relative to the repository root: {text}"
        );
        assert!(
            !text.contains("file=.env"),
            "{id}: a definition is not a violation: {text}"
        );
    }
}

#[test]
fn check_never_reports_a_definition_as_sent_without_credential() {
    let repo = tempfile::tempdir().unwrap();
    write_in(
        repo.path(),
        ".env",
        "COMFYUI_URL=https://comfy.mydomain.dev:8188\n",
    );
    write_in(
        repo.path(),
        "docker-compose.yml",
        "services:\n  worker:\n    image: worker\n    environment:\n      - COMFY=https://comfy.mydomain.dev/prompt\n",
    );
    let out = bin_no_vcs()
        .arg("check")
        .arg(repo.path())
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    // The scan still lists the `.env` address (its port is the service's); the compose URL is the
    // service's by its API path alone, which in a data file is never a finding…
    let scan = stdout(
        &bin_no_vcs()
            .arg("scan")
            .arg(repo.path())
            .args(["--format", "json"])
            .output()
            .unwrap(),
    );
    let v: serde_json::Value = serde_json::from_str(&scan).unwrap();
    let paths: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, [".env"], "{scan}");
    // …and the code that sends one is the violation, pointing at the `.env` entry.
    write_in(
        repo.path(),
        "client.py",
        "import os\nimport requests\nrequests.get(os.environ[\"COMFYUI_URL\"] + \"/queue\")\n",
    );
    let out = bin_no_vcs()
        .arg("check")
        .arg(repo.path())
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let paths: Vec<&str> = v["violations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["rule"] == "untokenized-remote" || x["check"] == "untokenized-remote")
        .map(|x| x["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["client.py"], "{v}");
}

/// A notebook whose third cell (after a markdown cell and a code cell) calls a remote address.
fn notebook_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let nb = serde_json::json!({
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["# Explore\n"]},
            {"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [],
             "source": ["import requests\n", "BASE = \"https://comfy.mydomain.dev\"\n"]},
            {"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [],
             "source": ["r = requests.get(BASE + \"/queue\")\n", "print(r)"]}
        ],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5
    });
    write_in(
        dir.path(),
        "explore.ipynb",
        serde_json::to_string_pretty(&nb).unwrap(),
    );
    write_in(
        dir.path(),
        "local.py",
        "import requests\nrequests.get(\"http://127.0.0.1:8188/queue\")\n",
    );
    write_in(
        dir.path(),
        "deploy/.env",
        "COMFYUI_URL=http://127.0.0.1:8188\n",
    );
    dir
}

#[test]
fn notebooks_show_the_cell_everywhere_and_sarif_the_raw_line() {
    let repo = notebook_repo();
    let run = |args: &[&str]| {
        let out = bin_no_vcs()
            .arg("check")
            .arg(repo.path())
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        stdout(&out)
    };
    let human = run(&["--color", "never"]);
    assert!(human.contains("--> explore.ipynb[cell 3]:1:18"), "{human}");
    assert!(
        human.contains("1 | r = requests.get(BASE + \"/queue\")"),
        "cell source, not JSON: {human}"
    );
    assert!(!human.contains("\"source\""), "{human}");
    // The raw line of cell 3's first source line in the pretty-printed JSON.
    let text = std::fs::read_to_string(repo.path().join("explore.ipynb")).unwrap();
    let raw_line = text
        .lines()
        .position(|l| l.contains("r = requests.get(BASE"))
        .unwrap()
        + 1;
    let github = run(&["--format", "github"]);
    assert!(
        github.contains(&format!("file=explore.ipynb,line={raw_line},")),
        "{github}"
    );
    assert!(
        github.contains("at explore.ipynb[cell 3]%3A1%3A18"),
        "{github}"
    );
    let sarif: serde_json::Value = serde_json::from_str(&run(&["--format", "sarif"])).unwrap();
    let region = &sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startLine"], raw_line, "{sarif}");
    // The table and the report name the cell; the report counts files by kind and names languages.
    let table = stdout(
        &bin_no_vcs()
            .arg("scan")
            .arg(repo.path())
            .args(["--color", "never"])
            .output()
            .unwrap(),
    );
    assert!(table.contains("explore.ipynb[cell 3]:1:18"), "{table}");
    let md = stdout(
        &bin_no_vcs()
            .arg("report")
            .arg(repo.path())
            .output()
            .unwrap(),
    );
    assert!(md.contains("| `explore.ipynb` | cell 3:1 |"), "{md}");
    assert!(md.contains("`explore.ipynb[cell 3]:1`"), "{md}");
    assert!(
        md.contains("in 3 files: 1 script, 1 config file and 1 notebook"),
        "{md}"
    );
    assert!(md.contains("(env file)"), "{md}");
}

#[test]
fn report_fix_and_helper_name_the_same_env_vars() {
    let repo = other_domain_repo();
    let md = stdout(
        &bin_no_vcs()
            .arg("report")
            .arg(repo.path())
            .output()
            .unwrap(),
    );
    let out = bin_no_vcs()
        .arg("check")
        .arg(repo.path())
        .args(["--format", "json"])
        .output()
        .unwrap();
    let fix = stdout(&out);
    let helper_dir = tempfile::tempdir().unwrap();
    let helper = helper_dir.path().join("client.py");
    let out = bin_no_vcs()
        .arg("init-helper")
        .arg("--out")
        .arg(&helper)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let helper = std::fs::read_to_string(helper).unwrap();
    for var in ["CF_ACCESS_CLIENT_ID", "CF_ACCESS_CLIENT_SECRET"] {
        assert!(md.contains(&format!("`{var}`")), "report lacks {var}: {md}");
        assert!(
            fix.contains(&format!("os.environ[\\\"{var}\\\"]")),
            "fix lacks {var}: {fix}"
        );
        assert!(helper.contains(var), "helper lacks {var}");
    }
    assert!(md.contains("`COMFYUI_ACCESS_TOKEN`") && helper.contains("COMFYUI_ACCESS_TOKEN"));
}
