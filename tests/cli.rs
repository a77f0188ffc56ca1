//! End-to-end tests of the `access-audit` binary: commands, options, exit codes and messages.

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

mod common;

use common::write;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The binary, run from the crate root (fixture paths are relative to it).
fn cmd() -> Command {
    let mut c = common::bin();
    c.current_dir(ROOT);
    c
}

/// Run `scan ... --format json` and parse stdout; the command must succeed.
fn scan_json(dir: &Path, args: &[&str]) -> Value {
    common::json_ok(
        Command::cargo_bin("access-audit")
            .unwrap()
            .current_dir(dir)
            .arg("scan")
            .args(args)
            .args(["--format", "json"]),
    )
}

fn findings(v: &Value) -> &Vec<Value> {
    v["findings"].as_array().expect("findings is an array")
}

fn diagnostics(v: &Value) -> &Vec<Value> {
    v["diagnostics"]
        .as_array()
        .expect("diagnostics is an array")
}

const OLLAMA_RULES: &str = r#"
[service]
id = "ollama"
name = "Ollama"

[address]
ports = [11434]
hosts = ["ollama"]
paths = ["/api/generate"]

[[examples]]
language = "python"
code = 'requests.post("http://localhost:11434/api/generate")'
group = "local"
"#;

// ---------------------------------------------------------------------------------------------
// help, version

#[test]
fn help_lists_subcommands() {
    cmd().arg("--help").assert().success().stdout(
        predicate::str::contains("scan")
            .and(predicate::str::contains("report"))
            .and(predicate::str::contains("rules"))
            .and(predicate::str::contains("explain")),
    );
}

#[test]
fn version_prints_name_and_version() {
    cmd()
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "access-audit {}",
            env!("CARGO_PKG_VERSION")
        )));
}

// ---------------------------------------------------------------------------------------------
// errors and exit codes

#[test]
fn nonexistent_path_exits_2_with_hint() {
    cmd()
        .args(["scan", "does/not/exist"])
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(
            predicate::str::contains("cannot read")
                .and(predicate::str::contains("does/not/exist"))
                .and(predicate::str::is_match(r"(?m)^hint: ").unwrap()),
        );
}

#[test]
fn invalid_rule_file_names_file_line_and_field() {
    let rules = tempfile::tempdir().unwrap();
    write(
        &rules.path().join("broken.toml"),
        "[service]\nid = \"x\"\nname = \"X\"\n\n[address]\nports = [1]\nbogus = 3\n",
    );
    let assert = cmd()
        .args(["scan", "fixtures/audit-demo", "--rules"])
        .arg(rules.path())
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(stderr.contains("broken.toml:7"), "stderr: {stderr}");
    assert!(stderr.contains("bogus"), "stderr: {stderr}");
    assert!(stderr.contains("hint:"), "stderr: {stderr}");
}

#[test]
fn rules_dir_adds_a_new_service() {
    let rules = tempfile::tempdir().unwrap();
    write(&rules.path().join("ollama.toml"), OLLAMA_RULES);
    let repo = tempfile::tempdir().unwrap();
    write(
        &repo.path().join("app.py"),
        "import requests\n\nrequests.post(\"http://localhost:11434/api/generate\")\n",
    );
    let v = scan_json(
        repo.path(),
        &[".", "--rules", rules.path().to_str().unwrap()],
    );
    let f = findings(&v);
    assert_eq!(f.len(), 1, "{v:#}");
    assert_eq!(f[0]["service"], "ollama");
    assert_eq!(f[0]["path"], "app.py");
    assert_eq!(f[0]["line"], 3);
    assert_eq!(f[0]["url"], "http://localhost:11434/api/generate");
    assert_eq!(f[0]["port"], 11434);
    assert_eq!(f[0]["group"], "local");

    // Without the rules file the same code is not a finding.
    let v = scan_json(repo.path(), &["."]);
    assert!(findings(&v).is_empty(), "{v:#}");

    // `rules list --rules DIR` shows both services.
    cmd()
        .args(["rules", "list", "--rules"])
        .arg(rules.path())
        .assert()
        .success()
        .stdout(
            predicate::str::contains("ollama")
                .and(predicate::str::contains("11434"))
                .and(predicate::str::contains("comfyui")),
        );

    // And the file validates.
    cmd()
        .args(["rules", "validate"])
        .arg(rules.path())
        .assert()
        .success();
}

// ---------------------------------------------------------------------------------------------
// report

#[test]
fn report_output_file_writes_file_and_nothing_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("audit.md");
    cmd()
        .args(["report", "fixtures/audit-demo", "-o"])
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::is_empty());
    let text = fs::read_to_string(&out).unwrap();
    assert!(text.contains("## Summary"), "{text}");
    assert!(text.starts_with("# "), "{text}");
}

#[test]
fn report_output_to_missing_directory_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    cmd()
        .args(["report", "fixtures/audit-demo", "-o"])
        .arg(dir.path().join("no/such/dir/audit.md"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot write").and(predicate::str::contains("hint:")));
}

#[test]
fn report_date() {
    cmd()
        .args(["report", "fixtures/audit-demo", "--date", "2026-01-02"])
        .assert()
        .success()
        .stdout(predicate::str::contains("2026-01-02"));
    cmd()
        .args(["report", "fixtures/audit-demo"])
        .assert()
        .success()
        .stdout(predicate::str::contains("**Date:**").not());
}

#[test]
fn report_bad_date_exits_2() {
    cmd()
        .args(["report", "fixtures/audit-demo", "--date", "notadate"])
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("notadate"));
}

#[test]
fn report_equals_scan_markdown() {
    let report = cmd()
        .args(["report", "fixtures/remote-mixed"])
        .output()
        .unwrap();
    let scan = cmd()
        .args(["scan", "fixtures/remote-mixed", "--format", "markdown"])
        .output()
        .unwrap();
    assert!(report.status.success() && scan.status.success());
    assert_eq!(report.stdout, scan.stdout);
}

// ---------------------------------------------------------------------------------------------
// JSON

#[test]
fn json_has_the_documented_shape() {
    let v = scan_json(Path::new(ROOT), &["fixtures/remote-mixed"]);
    for key in ["findings", "diagnostics", "summary"] {
        assert!(v.get(key).is_some(), "missing top-level key {key}");
    }
    let f = findings(&v);
    assert!(!f.is_empty());
    const KEYS: &[&str] = &[
        "path",
        "line",
        "column",
        "url",
        "scheme",
        "host",
        "port",
        "group",
        "tokenized",
        "service",
        "language",
        "evidence",
        "client",
        "function",
        "env_var",
    ];
    for finding in f {
        let obj = finding.as_object().expect("finding is an object");
        for key in KEYS {
            assert!(obj.contains_key(*key), "finding lacks `{key}`: {finding}");
        }
        assert!(finding["line"].as_u64().unwrap() >= 1);
        assert!(finding["column"].as_u64().unwrap() >= 1);
        assert!(finding["tokenized"].is_boolean());
    }
    let summary = &v["summary"];
    assert_eq!(
        summary["findings"].as_u64().unwrap() as usize,
        f.len(),
        "{summary}"
    );
    let remote = f.iter().filter(|x| x["group"] == "remote").count();
    assert_eq!(summary["remote"].as_u64().unwrap() as usize, remote);
}

// ---------------------------------------------------------------------------------------------
// files that cannot be read, decoded or are too large

fn awkward_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join("binary.py"),
        b"import requests\x00\x00\nrequests.get(\"http://localhost:8188/prompt\")\n",
    );
    write(
        &dir.path().join("latin.py"),
        b"# caf\xe9 \xff\nimport requests\nrequests.get(\"http://localhost:8188/queue\")\n",
    );
    write(
        &dir.path().join("good.py"),
        "import requests\nrequests.get(\"http://localhost:8188/history\")\n",
    );
    dir
}

#[test]
fn binary_and_undecodable_files_do_not_stop_the_scan() {
    let dir = awkward_repo();
    let v = scan_json(dir.path(), &["."]);
    let f = findings(&v);
    let good: Vec<_> = f.iter().filter(|x| x["path"] == "good.py").collect();
    assert_eq!(good.len(), 1, "{v:#}");
    assert_eq!(good[0]["url"], "http://localhost:8188/history");
    assert_eq!(good[0]["evidence"], "ast");

    let latin: Vec<_> = f.iter().filter(|x| x["path"] == "latin.py").collect();
    assert_eq!(latin.len(), 1, "{v:#}");
    assert_eq!(latin[0]["url"], "http://localhost:8188/queue");
    assert_eq!(latin[0]["evidence"], "text");

    assert!(
        !f.iter().any(|x| x["path"] == "binary.py"),
        "binary file produced a finding: {v:#}"
    );
    let d = diagnostics(&v);
    assert!(d.iter().any(|x| x["path"] == "binary.py"), "{v:#}");
    assert!(d.iter().any(|x| x["path"] == "latin.py"), "{v:#}");
    assert_eq!(
        v["summary"]["diagnostics"].as_u64().unwrap() as usize,
        d.len()
    );
}

#[test]
fn oversized_file_is_skipped_with_a_diagnostic() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join("small.py"),
        "import requests\nrequests.get(\"http://localhost:8188/history\")\n",
    );
    let mut big = String::from("import requests\nrequests.get(\"http://localhost:8188/prompt\")\n");
    big.push_str(&"# padding\n".repeat(20));
    assert!(big.len() > 100);
    write(&dir.path().join("big.py"), &big);
    let v = scan_json(dir.path(), &[".", "--max-file-size", "100"]);
    let f = findings(&v);
    assert!(f.iter().any(|x| x["path"] == "small.py"), "{v:#}");
    assert!(!f.iter().any(|x| x["path"] == "big.py"), "{v:#}");
    let d = diagnostics(&v);
    assert!(
        d.iter().any(|x| x["path"] == "big.py"
            && x["message"].as_str().unwrap().contains("size limit")),
        "{v:#}"
    );
}

#[test]
fn quiet_suppresses_diagnostics() {
    let dir = awkward_repo();
    Command::cargo_bin("access-audit")
        .unwrap()
        .current_dir(dir.path())
        .args(["scan", ".", "--color", "never"])
        .assert()
        .success()
        .stderr(predicate::str::contains("binary.py"));
    Command::cargo_bin("access-audit")
        .unwrap()
        .current_dir(dir.path())
        .args(["scan", ".", "--color", "never", "-q"])
        .assert()
        .success()
        .stderr(predicate::str::is_empty());
}

// ---------------------------------------------------------------------------------------------
// rules and explain

#[test]
fn rules_list_shows_comfyui() {
    cmd()
        .args(["rules", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("comfyui").and(predicate::str::contains("8188")));
}

#[test]
fn rules_validate_repo_rules() {
    cmd()
        .args(["rules", "validate", "rules"])
        .assert()
        .success()
        .stdout(predicate::str::contains("valid"));
}

#[test]
fn rules_validate_rejects_a_misbehaving_example() {
    let rules = tempfile::tempdir().unwrap();
    write(
        &rules.path().join("ollama.toml"),
        r#"
[service]
id = "ollama"
name = "Ollama"

[address]
ports = [11434]

[[examples]]
language = "python"
code = 'print("no address here")'
group = "local"
"#,
    );
    cmd()
        .args(["rules", "validate"])
        .arg(rules.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("ollama.toml").and(predicate::str::contains("example")));
}

#[test]
fn explain_remote() {
    cmd()
        .args(["explain", "remote"])
        .assert()
        .success()
        .stdout(predicate::str::contains("CF-Access-Client-Id"));
}

#[test]
fn explain_lists_every_group() {
    let assert = cmd().arg("explain").assert().success();
    let out = String::from_utf8_lossy(&assert.get_output().stdout).to_string();
    for g in [
        "local",
        "docker-network",
        "container-exec",
        "private-network",
        "remote",
        "unresolved",
    ] {
        assert!(out.contains(g), "`explain` lacks {g}: {out}");
    }
}

#[test]
fn explain_unknown_exits_2() {
    cmd()
        .args(["explain", "nosuch"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("nosuch"));
}

// ---------------------------------------------------------------------------------------------
// paths and walking

#[test]
fn single_file_path() {
    let v = scan_json(
        Path::new(ROOT),
        &["fixtures/remote-mixed/scripts/remote_untokenized.py"],
    );
    let f = findings(&v);
    assert!(!f.is_empty(), "{v:#}");
    for finding in f {
        assert_eq!(finding["path"], "remote_untokenized.py", "{v:#}");
    }
    assert_eq!(v["summary"]["files_scanned"], 1);
}

#[test]
fn several_paths_are_prefixed_by_their_root() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join("a/one.py"),
        "import requests\nrequests.get(\"http://localhost:8188/history\")\n",
    );
    write(
        &dir.path().join("b/sub/two.py"),
        "import requests\nrequests.get(\"http://comfyui:8188/prompt\")\n",
    );
    let v = scan_json(dir.path(), &["a", "b"]);
    let mut paths: Vec<&str> = findings(&v)
        .iter()
        .map(|x| x["path"].as_str().unwrap())
        .collect();
    paths.sort();
    assert_eq!(paths, ["a/one.py", "b/sub/two.py"], "{v:#}");
}

#[test]
fn gitignored_file_is_skipped_without_git() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join(".gitignore"), "ignored.py\n");
    let code = "import requests\nrequests.get(\"http://localhost:8188/history\")\n";
    write(&dir.path().join("ignored.py"), code);
    write(&dir.path().join("kept.py"), code);
    assert!(!dir.path().join(".git").exists());

    let v = scan_json(dir.path(), &["."]);
    let paths: Vec<&str> = findings(&v)
        .iter()
        .map(|x| x["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["kept.py"], "{v:#}");

    let v = scan_json(dir.path(), &[".", "--no-ignore"]);
    let paths: Vec<&str> = findings(&v)
        .iter()
        .map(|x| x["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["ignored.py", "kept.py"], "{v:#}");
}

// ---------------------------------------------------------------------------------------------
// table

#[test]
fn table_without_color_has_no_escapes() {
    let assert = cmd()
        .args(["scan", "fixtures/remote-mixed", "--color", "never"])
        .assert()
        .success();
    let out = &assert.get_output().stdout;
    assert!(!out.is_empty());
    assert!(!out.contains(&0x1b), "table contains an ESC byte");
}

#[test]
fn table_with_color_always_has_escapes() {
    let assert = cmd()
        .args(["scan", "fixtures/remote-mixed", "--color", "always"])
        .assert()
        .success();
    assert!(assert.get_output().stdout.contains(&0x1b));
}

#[test]
fn table_auto_color_is_off_when_piped() {
    let assert = cmd()
        .args(["scan", "fixtures/remote-mixed"])
        .assert()
        .success();
    assert!(!assert.get_output().stdout.contains(&0x1b));
}

/// The literal prefilter only skips work: with it switched off every fixture reports the same.
#[test]
fn prefilter_never_drops_a_finding_on_the_fixtures() {
    for fixture in [
        "fixtures/audit-demo",
        "fixtures/remote-mixed",
        "fixtures/cross-file",
        "fixtures/deploy",
        "fixtures/shell",
        "fixtures/notebooks",
    ] {
        let run = |no_prefilter: bool| {
            let mut cmd = Command::cargo_bin("access-audit").unwrap();
            cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
                .args(["scan", fixture, "--format", "json", "-q"]);
            if no_prefilter {
                cmd.env("ACCESS_AUDIT_NO_PREFILTER", "1");
            }
            let out = cmd.output().unwrap();
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            v["findings"].clone()
        };
        assert_eq!(run(false), run(true), "{fixture}");
    }
}
