//! Services beyond ComfyUI: the embedded rule files (Ollama, n8n, Open WebUI), service selection
//! (`[service] default = false`, `--service`), `rules list`, a service added by a rule file alone,
//! and names that merely look like ComfyUI.

use std::path::Path;

use access_audit::engine::finding::{Finding, Language};
use access_audit::engine::scan;
use access_audit::rules::{RuleSet, EMBEDDED};
use predicates::prelude::*;
use serde_json::Value;

mod common;

use common::{bin, json_ok, write};

/// A temporary repository with one Python file.
fn repo(code: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("app.py"), code);
    dir
}

/// `scan . --format json` plus `args`, run in `dir`; must exit 0.
fn scan_json(dir: &Path, args: &[&str]) -> Vec<Value> {
    let v = json_ok(
        bin()
            .current_dir(dir)
            .args(["scan", ".", "--format", "json", "-q"])
            .args(args),
    );
    v["findings"].as_array().expect("findings").clone()
}

fn all_selected() -> RuleSet {
    let mut set = RuleSet::embedded().unwrap();
    set.select(&["all".to_string()]).unwrap();
    set
}

fn analyze(code: &str, language: Language, rules: &RuleSet) -> Vec<Finding> {
    let path = match language {
        Language::Rust => "example.rs",
        _ => "example.py",
    };
    scan::analyze(code, language, path, rules, None).0
}

// ---------------------------------------------------------------------------------------------
// the rule files

#[test]
fn four_services_are_embedded_and_only_comfyui_is_enabled_by_default() {
    let set = RuleSet::embedded().unwrap();
    let ids: Vec<&str> = set.available.iter().map(|s| s.id.as_str()).collect();
    for id in ["comfyui", "ollama", "n8n", "open-webui"] {
        assert!(ids.contains(&id), "{id} not embedded: {ids:?}");
    }
    assert_eq!(EMBEDDED.len(), set.available.len());
    let enabled: Vec<&str> = set.services.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(enabled, ["comfyui"]);
    assert_eq!(set.primary().id, "comfyui");
}

#[test]
fn every_embedded_example_behaves_as_declared_alone_and_with_all_services() {
    let all = all_selected();
    for svc in &all.available {
        assert!(
            svc.examples.iter().any(|e| e.negative),
            "{} has no negative example",
            svc.id
        );
        // (comfyui.toml predates this rule and has no negative Rust example.)
        for lang in ["python", "rust"]
            .into_iter()
            .filter(|_| svc.id != "comfyui")
        {
            assert!(
                svc.examples
                    .iter()
                    .any(|e| e.language == lang && !e.negative),
                "{} has no positive {lang} example",
                svc.id
            );
            assert!(
                svc.examples
                    .iter()
                    .any(|e| e.language == lang && e.negative),
                "{} has no negative {lang} example",
                svc.id
            );
        }
        // With every service enabled (a positive example must not be taken by another service)…
        let problems = access_audit::cmd::check_examples(svc, &all);
        assert!(
            problems.is_empty(),
            "{} (all services): {problems:?}",
            svc.source
        );
        // …and alone (a negative example must not be claimed when nothing else can claim it).
        let mut alone = RuleSet::embedded().unwrap();
        alone.select(std::slice::from_ref(&svc.id)).unwrap();
        let problems = access_audit::cmd::check_examples(svc, &alone);
        assert!(problems.is_empty(), "{} (alone): {problems:?}", svc.source);
    }
}

#[test]
fn the_repository_rules_directory_validates() {
    bin()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["rules", "validate", "rules"])
        .assert()
        .success()
        .stdout(predicate::str::contains("4 rule file(s) valid"));
}

// ---------------------------------------------------------------------------------------------
// selection

#[test]
fn select_replaces_the_enabled_set_and_recomputes_lookups() {
    let mut set = RuleSet::embedded().unwrap();
    set.select(&["ollama".into()]).unwrap();
    let ids: Vec<&str> = set.services.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["ollama"]);
    assert_eq!(set.primary().id, "ollama");
    assert!(set.is_credential_literal("CF-Access-Client-Id"));
    assert!(
        set.helper_functions.is_empty(),
        "{:?}",
        set.helper_functions
    );

    set.select(&["comfyui".into(), "n8n".into()]).unwrap();
    let ids: Vec<&str> = set.services.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["comfyui", "n8n"]);
    assert!(set.helper_functions.contains("comfyui_request"));
    assert!(!set.is_credential_literal("X-N8N-API-KEY"));

    set.select(&["all".into()]).unwrap();
    assert_eq!(set.services.len(), set.available.len());
}

#[test]
fn select_rejects_an_unknown_id_naming_the_known_ones() {
    let mut set = RuleSet::embedded().unwrap();
    let err = set
        .select(&["ollama".into(), "nosuch".into()])
        .unwrap_err()
        .to_string();
    assert!(err.contains("nosuch"), "{err}");
    for id in ["comfyui", "ollama", "n8n", "open-webui"] {
        assert!(err.contains(id), "{err}");
    }
    // The set is unchanged.
    assert_eq!(set.services.len(), 1);
    assert!(set.select(&[]).is_err());
}

#[test]
fn service_flag_finds_ollama_and_the_default_run_does_not() {
    let dir = repo("import requests\n\nrequests.post(\"http://localhost:11434/api/generate\")\n");
    let f = scan_json(dir.path(), &["--service", "ollama"]);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0]["service"], "ollama");
    assert_eq!(f[0]["group"], "local");
    assert_eq!(f[0]["line"], 3);

    assert!(scan_json(dir.path(), &[]).is_empty());
    assert!(scan_json(dir.path(), &["--service", "comfyui"]).is_empty());
}

#[test]
fn service_flag_takes_a_list_and_all() {
    let dir = repo(concat!(
        "import requests\n",
        "requests.post(\"http://127.0.0.1:8188/prompt\", json={})\n",
        "requests.post(\"http://localhost:11434/api/chat\")\n",
        "requests.post(\"https://n8n.example.com/webhook/abc\")\n",
    ));
    let services = |args: &[&str]| {
        let mut s: Vec<String> = scan_json(dir.path(), args)
            .iter()
            .map(|f| f["service"].as_str().unwrap().to_string())
            .collect();
        s.sort();
        s
    };
    assert_eq!(services(&[]), ["comfyui"]);
    assert_eq!(
        services(&["--service", "comfyui,ollama"]),
        ["comfyui", "ollama"]
    );
    assert_eq!(
        services(&["--service", "ollama", "--service", "n8n"]),
        ["n8n", "ollama"]
    );
    assert_eq!(
        services(&["--service", "all"]),
        ["comfyui", "n8n", "ollama"]
    );
}

#[test]
fn check_honours_the_service_flag() {
    let dir = repo("import requests\nrequests.post(\"https://n8n.example.com/webhook/abc\")\n");
    bin()
        .current_dir(dir.path())
        .args(["check", ".", "--no-config", "--format", "json"])
        .assert()
        .code(0);
    bin()
        .current_dir(dir.path())
        .args([
            "check",
            ".",
            "--no-config",
            "--format",
            "json",
            "--service",
            "n8n",
        ])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("untokenized-remote"));
}

#[test]
fn unknown_service_exits_2_naming_the_known_ids() {
    let dir = repo("x = 1\n");
    bin()
        .current_dir(dir.path())
        .args(["scan", ".", "--service", "nosuch"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("nosuch")
                .and(predicate::str::contains("comfyui"))
                .and(predicate::str::contains("ollama"))
                .and(predicate::str::contains("n8n"))
                .and(predicate::str::contains("open-webui")),
        );
}

#[test]
fn rules_list_shows_every_service_and_which_are_enabled() {
    let out = bin().args(["rules", "list"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let header = |id: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("{id} (")))
            .unwrap_or_else(|| panic!("{id} not listed:\n{text}"))
            .to_string()
    };
    assert!(header("comfyui").contains("[enabled]"), "{text}");
    for id in ["ollama", "n8n", "open-webui"] {
        let h = header(id);
        assert!(!h.contains("[enabled]"), "{h}");
        assert!(h.contains(&format!("--service {id}")), "{h}");
    }
    assert!(text.contains("11434") && text.contains("5678") && text.contains("8188"));
}

// ---------------------------------------------------------------------------------------------
// a service from a rule file alone

const MADE_UP: &str = r#"
[service]
id = "widgetd"
name = "Widget daemon"

[address]
ports = [9999]
hosts = ["widgetd"]
paths = ["/widgets"]

[[examples]]
language = "python"
code = 'requests.get("http://localhost:9999/widgets")'
group = "local"

[[examples]]
language = "python"
negative = true
code = 'requests.get("http://localhost:9998/other")'
"#;

#[test]
fn a_service_added_by_a_rule_file_alone_is_found() {
    let rules = tempfile::tempdir().unwrap();
    write(&rules.path().join("rules/x.toml"), MADE_UP);
    let rules_dir = rules.path().join("rules");
    let dir = repo(concat!(
        "import requests\n",
        "requests.get(\"http://localhost:9999/widgets\")\n",
        "requests.get(\"https://api.example.com/widgets/7\")\n",
    ));
    let f = scan_json(dir.path(), &["--rules", rules_dir.to_str().unwrap()]);
    assert_eq!(f.len(), 2, "{f:#?}");
    assert!(f.iter().all(|f| f["service"] == "widgetd"), "{f:#?}");
    assert_eq!(f[0]["group"], "local");
    assert_eq!(f[1]["group"], "remote");
    // Selectable by id, listed, and valid.
    let f = scan_json(
        dir.path(),
        &[
            "--rules",
            rules_dir.to_str().unwrap(),
            "--service",
            "comfyui",
        ],
    );
    assert!(f.is_empty(), "{f:#?}");
    bin()
        .args(["rules", "list", "--rules"])
        .arg(&rules_dir)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "widgetd (Widget daemon) [enabled]",
        ));
    bin()
        .args(["rules", "validate"])
        .arg(&rules_dir)
        .assert()
        .success();
}

#[test]
fn a_rule_file_with_default_false_is_only_scanned_when_selected() {
    let rules = tempfile::tempdir().unwrap();
    let text = MADE_UP.replace(
        "name = \"Widget daemon\"",
        "name = \"Widget daemon\"\ndefault = false",
    );
    write(&rules.path().join("x.toml"), &text);
    let dir = repo("import requests\nrequests.get(\"http://localhost:9999/widgets\")\n");
    let r = rules.path().to_str().unwrap();
    assert!(scan_json(dir.path(), &["--rules", r]).is_empty());
    let f = scan_json(dir.path(), &["--rules", r, "--service", "widgetd"]);
    assert_eq!(f.len(), 1, "{f:#?}");
    // `rules validate` runs its examples with the service enabled.
    bin().args(["rules", "validate", r]).assert().success();
}

// ---------------------------------------------------------------------------------------------
// n8n, Ollama, Open WebUI when selected

#[test]
fn n8n_webhook_is_remote_when_selected() {
    let code = "import requests\nrequests.post(\"https://n8n.example.com/webhook/abc\", json={})\n";
    let dir = repo(code);
    let f = scan_json(dir.path(), &["--service", "n8n"]);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0]["service"], "n8n");
    assert_eq!(f[0]["group"], "remote");
    assert_eq!(f[0]["tokenized"], false);
    assert_eq!(f[0]["url"], "https://n8n.example.com/webhook/abc");
    assert!(scan_json(dir.path(), &[]).is_empty());
}

#[test]
fn open_webui_chat_completions_goes_to_open_webui_not_ollama() {
    let set = all_selected();
    let f = analyze(
        "requests.post(\"https://chat.example.com/api/chat/completions\", json=b)\n",
        Language::Python,
        &set,
    );
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].service, "open-webui");
    let f = analyze(
        "requests.post(\"https://llm.example.com/api/chat\", json=b)\n",
        Language::Python,
        &set,
    );
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].service, "ollama");
}

// ---------------------------------------------------------------------------------------------
// names that look like ComfyUI but are not

#[test]
fn lookalike_names_are_not_comfyui() {
    let py = r#"
import requests, boto3

requests.get("https://api.comfy.org/nodes?page=1")
requests.get("https://api.comfy.org/publishers/comfyanonymous/nodes")
s3 = boto3.client("s3")
s3.upload_file("out.png", "comfyui-outputs", "renders/out.png")
OUTPUT_URL = "s3://comfyui-outputs/renders/"
GCS = "https://storage.googleapis.com/comfyui-outputs/renders/out.png"
requests.post("https://api.example.com/api/v1/comfyui/jobs", json={})
requests.get("https://jobs.internal-api.example.com/api/v1/comfyui/jobs/42")
"#;
    let rs = r#"
fn f() {
    let _ = reqwest::blocking::get("https://api.comfy.org/nodes");
    let _ = reqwest::blocking::get("https://api.example.com/api/v1/comfyui/jobs");
    let bucket = "comfyui-outputs";
    let _ = bucket;
}
"#;
    for set in [RuleSet::embedded().unwrap(), all_selected()] {
        for (code, lang) in [(py, Language::Python), (rs, Language::Rust)] {
            let comfy: Vec<_> = analyze(code, lang, &set)
                .into_iter()
                .filter(|f| f.service == "comfyui")
                .collect();
            assert!(
                comfy.is_empty(),
                "{lang:?} with {} service(s): {comfy:#?}",
                set.services.len()
            );
        }
    }
}

#[test]
fn other_services_decoys_are_not_comfyui_in_the_default_run() {
    let dir = repo(concat!(
        "import requests\n",
        "requests.post(\"http://localhost:11434/api/generate\")\n",
        "requests.post(\"https://n8n.example.com/webhook/abc\")\n",
        "requests.post(\"http://localhost:3000/api/chat/completions\")\n",
        "requests.get(\"http://open-webui:8080/ollama/api/tags\")\n",
    ));
    let f = scan_json(dir.path(), &[]);
    assert!(f.is_empty(), "{f:#?}");
}
