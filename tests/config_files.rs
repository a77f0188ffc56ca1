//! Configuration and deployment files: `.env`, docker-compose, Kubernetes / Helm, JSON and TOML.
//! End to end over `fixtures/deploy` (findings with `evidence: "config"`, the right language, line,
//! column and group; the `.env` secret never reaches the output), then `lower::config::extract`
//! directly: compose services, Kubernetes / Helm env entries, dotenv syntax, positions, errors.

use std::path::Path;

use access_audit::engine::finding::{Evidence, Finding, Language, Report};
use access_audit::engine::ir::{InputKind, StrExpr};
use access_audit::engine::lower::config::{extract, ComposeService, ConfigFacts, EnvEntry};
use access_audit::engine::scan::{scan, ScanOptions};
use access_audit::rules::RuleSet;

/// The fake Access client secret written in `fixtures/deploy/.env` (right shape, not a real one).
const FAKE_SECRET: &str = "cfast_FakeTestSecretNotReal0000000000000000000Xy12Ab34";

fn rules() -> RuleSet {
    RuleSet::embedded().unwrap()
}

fn deploy_report() -> Report {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/deploy");
    // As the CLI does with the fixture's `access-audit.toml`.
    let mut rules = rules();
    rules.protect_domains(&["comfyui.datacrew.space".to_string()]);
    scan(
        &ScanOptions {
            paths: vec![root],
            ..Default::default()
        },
        &rules,
    )
    .unwrap()
}

fn config_findings(report: &Report) -> Vec<&Finding> {
    report
        .findings
        .iter()
        .filter(|f| f.evidence == Evidence::Config)
        .collect()
}

fn find<'a>(report: &'a Report, path: &str, url: &str) -> &'a Finding {
    report
        .findings
        .iter()
        .find(|f| f.path == path && f.url.as_deref() == Some(url))
        .unwrap_or_else(|| {
            panic!(
                "no finding for {url} in {path}; findings: {:#?}",
                report.findings
            )
        })
}

fn json(f: &Finding) -> serde_json::Value {
    serde_json::to_value(f).unwrap()
}

// ---------------------------------------------------------------------------------------------
// End to end: fixtures/deploy

#[test]
fn deploy_fixture_config_findings() {
    let report = deploy_report();
    assert!(
        report.diagnostics.is_empty(),
        "config files parse: {:#?}",
        report.diagnostics
    );
    // (path, url, language, line, column, group): the config values no code uses. A value that
    // code reads (the `.env` entry, the compose and Kubernetes env, the JSON key) is where the
    // address is defined, not where it is sent: it is folded into the code's finding.
    let expected = [
        (
            "docker-compose.yml",
            "http://localhost:8188/system_stats",
            "yaml",
            9,
            36,
            "local",
        ),
        (
            "config/app.toml",
            "http://comfyui:8188",
            "toml",
            3,
            14,
            "docker-network",
        ),
    ];
    for (path, url, env_source) in [
        (
            "worker/worker.py",
            "https://comfyui.datacrew.space/prompt",
            ".env:2",
        ),
        (
            "worker/worker.py",
            "http://comfyui:8188/prompt",
            "docker-compose.yml:13",
        ),
    ] {
        let f = find(&report, path, url);
        assert_eq!(f.env_source.as_deref(), Some(env_source), "{path} {url}");
        assert_eq!(f.evidence, Evidence::Ast, "{path} {url}");
    }
    for (path, url, language, line, column, group) in expected {
        let f = find(&report, path, url);
        let v = json(f);
        assert_eq!(v["evidence"], "config", "{path} {url}");
        assert_eq!(v["language"], language, "{path} {url}");
        assert_eq!(v["group"], group, "{path} {url}");
        assert_eq!(v["service"], "comfyui", "{path} {url}");
        assert_eq!((f.line, f.column), (line, column), "{path} {url}");
    }
    // Nothing else comes from the config files: not the compose port mapping `8189:8188`, not the
    // other services' URLs (telemetry, push gateway), not the image names.
    let got: Vec<(&str, Option<&str>)> = config_findings(&report)
        .iter()
        .map(|f| (f.path.as_str(), f.url.as_deref()))
        .collect();
    assert_eq!(got.len(), expected.len(), "config findings: {got:#?}");
}

#[test]
fn deploy_fixture_secret_never_in_output() {
    let report = deploy_report();
    let out = access_audit::report::json::render(&report);
    assert!(!out.contains(FAKE_SECRET), "the .env secret leaked: {out}");
    assert!(
        !out.contains("FakeTestSecretNotReal"),
        "part of the secret leaked"
    );
    // The credential is reported as a secret, located and redacted.
    assert!(
        report
            .secrets
            .iter()
            .any(|s| s.path == ".env" && s.line == 4 && s.kind == "client-secret"),
        "secrets: {:#?}",
        report.secrets
    );
}

#[test]
fn deploy_fixture_files_extract() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/deploy");
    let read = |p: &str| std::fs::read_to_string(root.join(p)).unwrap();
    let rules = rules();

    let compose = extract(
        &read("docker-compose.yml"),
        Language::Yaml,
        "docker-compose.yml",
        &rules,
    )
    .unwrap();
    let names: Vec<&str> = compose.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["comfyui", "worker"]);
    let comfyui = &compose.services[0];
    assert_eq!(comfyui.line, 3);
    assert_eq!(comfyui.container_name.as_deref(), Some("comfyui"));
    assert_eq!(comfyui.ports, [(8189, 8188)]);
    assert_eq!(
        comfyui.image.as_deref(),
        Some("yanwk/comfyui-boot:cu124-slim")
    );
    let worker = &compose.services[1];
    assert_eq!(worker.line, 10);
    assert_eq!(worker.build_context.as_deref(), Some("./worker"));
    assert_eq!(
        worker.environment,
        [
            env("COMFYUI_URL", "http://comfyui:8188", 13),
            env("LOG_LEVEL", "info", 14)
        ]
    );
    assert!(compose.env.is_empty());

    let dotenv = extract(&read(".env"), Language::Dotenv, ".env", &rules).unwrap();
    assert_eq!(
        dotenv.env,
        [
            env("COMFYUI_URL", "https://comfyui.datacrew.space", 2),
            secret("CF_ACCESS_CLIENT_ID", 3),
            secret("CF_ACCESS_CLIENT_SECRET", 4),
        ]
    );
    // The address is bound to its variable at the candidate's position.
    let b = &dotenv.facts.bindings[0];
    assert_eq!(b.name, "COMFYUI_URL");
    assert_eq!(
        b.value,
        StrExpr::Lit("https://comfyui.datacrew.space".into())
    );
    assert_eq!((b.pos.line, b.pos.column), (2, 13));
    assert_eq!(dotenv.facts.candidates.len(), 1);

    let k8s = extract(
        &read("k8s/deployment.yaml"),
        Language::Yaml,
        "k8s/deployment.yaml",
        &rules,
    )
    .unwrap();
    // `valueFrom:` entries have no value in the manifest: not env entries.
    assert_eq!(
        k8s.env,
        [env(
            "COMFYUI_URL",
            "http://comfyui.comfy.svc.cluster.local:8188",
            25
        )]
    );
    assert!(k8s.services.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Unit tests of `extract`

fn env(var: &str, value: &str, line: u32) -> EnvEntry {
    EnvEntry {
        var: var.into(),
        value: value.into(),
        line,
        secret: false,
    }
}

fn secret(var: &str, line: u32) -> EnvEntry {
    EnvEntry {
        var: var.into(),
        value: String::new(),
        line,
        secret: true,
    }
}

fn ex(text: &str, kind: Language, path: &str) -> ConfigFacts {
    extract(text, kind, path, &rules()).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Candidates as (line, column, literal text).
fn cands(cfg: &ConfigFacts) -> Vec<(u32, u32, String)> {
    cfg.facts
        .candidates
        .iter()
        .map(|c| {
            let text = match &c.expr {
                StrExpr::Lit(s) => s.clone(),
                other => format!("{other:?}"),
            };
            (c.pos.line, c.pos.column, text)
        })
        .collect()
}

fn service<'a>(cfg: &'a ConfigFacts, name: &str) -> &'a ComposeService {
    cfg.services
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no service {name}: {:#?}", cfg.services))
}

#[test]
fn compose_services_ports_environment_build() {
    let text = r#"version: "3.9"
x-common: &common
  environment:
    SHARED: "yes"
services:
  comfyui:
    image: comfyui:latest
    ports:
      - "8189:8188"
      - "127.0.0.1:8190:8188"
      - 8188
      - "9000-9001:9000-9001/tcp"
      - target: 8188
        published: 8191
      - target: 8188
        published: "8192"
        protocol: tcp
      - "${COMFY_PORT:-8193}:8188"
      - "127.0.0.1::8188"
  worker:
    build:
      context: ./services/worker
      dockerfile: Dockerfile
    environment:
      COMFYUI_URL: http://comfyui:8188
      RETRIES: 3
      PASSTHROUGH:
      COMFYUI_API_KEY: abc123
    env_file:
      - .env
      - path: ./worker.env
        required: false
  api:
    <<: *common
    build: .
    container_name: comfy-api
    environment:
      - COMFY_BASE=${COMFY_BASE:-http://comfyui:8188}
      - BARE
"#;
    let cfg = ex(text, Language::Yaml, "docker-compose.yml");
    let names: Vec<&str> = cfg.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["comfyui", "worker", "api"]);

    let c = service(&cfg, "comfyui");
    assert_eq!(c.line, 6);
    assert_eq!(
        c.ports,
        [
            (8189, 8188),
            (8190, 8188),
            (8188, 8188),
            (9000, 9000),
            (9001, 9001),
            (8191, 8188),
            (8192, 8188),
            (8193, 8188),
        ]
    );
    assert_eq!(c.build_context, None);
    assert_eq!(c.image.as_deref(), Some("comfyui:latest"));

    let w = service(&cfg, "worker");
    assert_eq!(w.build_context.as_deref(), Some("./services/worker"));
    assert_eq!(
        w.environment,
        [
            env("COMFYUI_URL", "http://comfyui:8188", 25),
            env("RETRIES", "3", 26),
            secret("COMFYUI_API_KEY", 28),
        ]
    );
    assert_eq!(w.env_files, [".env", "./worker.env"]);

    let a = service(&cfg, "api");
    assert_eq!(a.build_context.as_deref(), Some("."));
    assert_eq!(a.container_name.as_deref(), Some("comfy-api"));
    // Own `environment:` wins over the merged one; interpolation is kept raw.
    assert_eq!(
        a.environment,
        [env("COMFY_BASE", "${COMFY_BASE:-http://comfyui:8188}", 38)]
    );

    // Candidates: the worker's URL and the interpolated default — never the port mappings.
    let cs = cands(&cfg);
    assert_eq!(cs.len(), 2, "{cs:#?}");
    assert_eq!(cs[0], (25, 20, "http://comfyui:8188".to_string()));
    let api = &cfg.facts.candidates[1];
    assert_eq!((api.pos.line, api.pos.column), (38, 20));
    match &api.expr {
        StrExpr::Input {
            kind: InputKind::Env,
            name,
            default: Some(d),
        } => {
            assert_eq!(name, "COMFY_BASE");
            assert_eq!(**d, StrExpr::Lit("http://comfyui:8188".into()));
        }
        other => panic!("expected an env input with a default, got {other:?}"),
    }
    // Each env address is bound to its variable.
    let bound: Vec<&str> = cfg.facts.bindings.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(bound, ["COMFYUI_URL", "COMFY_BASE"]);
}

#[test]
fn interpolation_defaults() {
    use access_audit::engine::lower::config::substitute_defaults;
    assert_eq!(
        substitute_defaults("${COMFY_BASE:-http://comfyui:8188}/prompt").as_deref(),
        Some("http://comfyui:8188/prompt")
    );
    assert_eq!(
        substitute_defaults("http://${HOST-${FALLBACK:-comfy}}:8188").as_deref(),
        Some("http://comfy:8188")
    );
    assert_eq!(
        substitute_defaults("plain $$HOME").as_deref(),
        Some("plain $HOME")
    );
    assert_eq!(substitute_defaults("http://${HOST}:8188"), None);
    assert_eq!(substitute_defaults("http://$HOST:8188"), None);
}

#[test]
fn compose_detected_by_content_under_any_name() {
    let text = "services:\n  comfy:\n    image: comfy\n    ports: [\"8188:8188\"]\n";
    let cfg = ex(text, Language::Yaml, "deploy/stack.yml");
    assert_eq!(cfg.services.len(), 1);
    assert_eq!(cfg.services[0].ports, [(8188, 8188)]);
    assert!(cands(&cfg).is_empty());
    // A `services:` key in an unrelated file is not compose.
    let cfg = ex(
        "services:\n  - name: a\n    url: http://comfyui:8188\n",
        Language::Yaml,
        "settings.yaml",
    );
    assert!(cfg.services.is_empty());
    assert_eq!(cands(&cfg), [(3, 10, "http://comfyui:8188".to_string())]);
}

#[test]
fn kubernetes_env_multi_document_and_configmap() {
    let text = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: comfy-config
data:
  COMFYUI_HOST: comfyui.comfy.svc.cluster.local
  COMFYUI_PORT: "8188"
---
apiVersion: batch/v1
kind: CronJob
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers:
            - name: nightly
              env:
                - name: COMFYUI_URL
                  value: http://comfyui.comfy.svc.cluster.local:8188
                - value: "1"
                  name: WORKERS
                - name: CF_ACCESS_CLIENT_SECRET
                  value: cfast_FakeTestSecretNotReal0000000000000000000Xy12Ab34
                - name: FROM_SECRET
                  valueFrom:
                    secretKeyRef: {name: s, key: k}
"#;
    let cfg = ex(text, Language::Yaml, "k8s/cron.yaml");
    assert_eq!(
        cfg.env,
        [
            env("COMFYUI_HOST", "comfyui.comfy.svc.cluster.local", 6),
            env("COMFYUI_PORT", "8188", 7),
            env(
                "COMFYUI_URL",
                "http://comfyui.comfy.svc.cluster.local:8188",
                19
            ),
            env("WORKERS", "1", 22),
            secret("CF_ACCESS_CLIENT_SECRET", 23),
        ]
    );
    assert_eq!(
        cands(&cfg),
        [(
            20,
            26,
            "http://comfyui.comfy.svc.cluster.local:8188".to_string()
        )]
    );
    assert!(cfg.services.is_empty());
    assert!(!format!("{cfg:?}").contains("FakeTestSecretNotReal"));
}

#[test]
fn helm_values_env_and_extra_env() {
    let text = r#"image:
  repository: ghcr.io/team/worker
  tag: "1.2"
env:
  - name: COMFYUI_URL
    value: "https://comfyui.datacrew.space"
extraEnv:
  COMFY_TIMEOUT: "30"
  COMFY_FALLBACK: http://10.0.0.5:8188
ingress:
  hosts: [worker.example.com]
"#;
    let cfg = ex(text, Language::Yaml, "charts/worker/values.yaml");
    assert_eq!(
        cfg.env,
        [
            env("COMFYUI_URL", "https://comfyui.datacrew.space", 5),
            env("COMFY_TIMEOUT", "30", 8),
            env("COMFY_FALLBACK", "http://10.0.0.5:8188", 9),
        ]
    );
    assert_eq!(
        cands(&cfg),
        [
            (6, 13, "https://comfyui.datacrew.space".to_string()),
            (9, 19, "http://10.0.0.5:8188".to_string()),
        ]
    );
}

#[test]
fn yaml_scalars_anywhere_and_not_keys_or_comments() {
    let text = "# http://comfyui:8188 in a comment\n\
                jobs:\n  \
                  - url: 'http://comfyui:8188/prompt'\n  \
                  - cmd: >\n      curl -s http://127.0.0.1:8188/queue\n  \
                  - addr: comfyui:8188\n\
                \"http://localhost:8188\": key\n";
    let cfg = ex(text, Language::Yaml, "jobs.yml");
    assert_eq!(
        cands(&cfg),
        [
            (3, 11, "http://comfyui:8188/prompt".to_string()),
            (5, 15, "http://127.0.0.1:8188/queue".to_string()),
            (6, 11, "comfyui:8188".to_string()),
        ]
    );
}

#[test]
fn dotenv_syntax() {
    let text = "\u{feff}# comment\n\
                \n\
                export COMFYUI_URL=http://comfyui:8188 # inline comment\n\
                SINGLE='http://127.0.0.1:8188/$NOT_EXPANDED'\n\
                DOUBLE=\"http://localhost:8188\\tx\"\n\
                MULTI=\"line one\n\
                line two\"\n\
                HASH=abc#def\n\
                EMPTY=\n\
                DECLARED\n\
                spaced = value with spaces  \n\
                DB_PASSWORD=http://comfyui:8188\n\
                CF_ACCESS_CLIENT_ID=0123456789abcdef0123456789abcdef.access\n";
    let cfg = ex(text, Language::Dotenv, ".env");
    assert_eq!(
        cfg.env,
        [
            env("COMFYUI_URL", "http://comfyui:8188", 3),
            env("SINGLE", "http://127.0.0.1:8188/$NOT_EXPANDED", 4),
            env("DOUBLE", "http://localhost:8188\tx", 5),
            env("MULTI", "line one\nline two", 6),
            env("HASH", "abc#def", 8),
            env("EMPTY", "", 9),
            env("spaced", "value with spaces", 11),
            secret("DB_PASSWORD", 12),
            secret("CF_ACCESS_CLIENT_ID", 13),
        ]
    );
    let cs = cands(&cfg);
    assert_eq!(cs[0], (3, 20, "http://comfyui:8188".to_string()));
    assert_eq!(cs[2], (5, 9, "http://localhost:8188".to_string()));
    // Secret values are never candidates.
    assert_eq!(cs.len(), 3, "{cs:#?}");
    let names: Vec<&str> = cfg.facts.bindings.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["COMFYUI_URL", "SINGLE", "DOUBLE"]);
}

#[test]
fn json_strings_with_positions_escapes_and_comments() {
    let text = "{\n  \"a\": [\"x\", \"http:\\/\\/comfyui:8188\\/history\"],\n  \"é\": {\"url\": \"ws://localhost:8188/ws\"},\n  \"http://127.0.0.1:8188\": 1,\n  \"client_secret\": \"http://127.0.0.1:8188\"\n}\n";
    let cfg = ex(text, Language::Json, "config.json");
    assert_eq!(
        cands(&cfg),
        [
            // Escaped in the source: located at the start of the string's content.
            (2, 15, "http://comfyui:8188/history".to_string()),
            (3, 17, "ws://localhost:8188/ws".to_string()),
        ]
    );
    let jsonc = "{\n  // the server\n  \"server\": \"http://comfyui:8188\", /* trailing */\n}\n";
    let cfg = ex(jsonc, Language::Json, ".vscode/settings.json");
    assert_eq!(cands(&cfg), [(3, 14, "http://comfyui:8188".to_string())]);
}

#[test]
fn toml_strings() {
    let text = r#"# comfy_url = "http://commented:8188"
title = "x"
[comfy]
url = "http://comfyui:8188"
literal = 'http://127.0.0.1:8188/prompt'
multi = """
  see http://localhost:8188/queue
"""
list = [
  ["http://10.0.0.2:8188"],
]
"quoted.key" = { inner = "comfyui:8188" }
api_token = "http://comfyui:8188"
["http://table:8188"]
x = 1
"#;
    let cfg = ex(text, Language::Toml, "settings.toml");
    assert_eq!(
        cands(&cfg),
        [
            (4, 8, "http://comfyui:8188".to_string()),
            (5, 12, "http://127.0.0.1:8188/prompt".to_string()),
            (7, 7, "http://localhost:8188/queue".to_string()),
            (10, 5, "http://10.0.0.2:8188".to_string()),
            (12, 27, "comfyui:8188".to_string()),
        ]
    );
}

#[test]
fn parse_errors_name_the_line() {
    let rules = rules();
    let e = extract("a: [b\nc: d\n", Language::Yaml, "x.yml", &rules).unwrap_err();
    assert!(e.contains("line 2"), "{e}");
    let e = extract(
        "{\n  \"a\": 1,\n  \"b\" 2\n}",
        Language::Json,
        "x.json",
        &rules,
    )
    .unwrap_err();
    assert!(e.contains("line 3"), "{e}");
    let e = extract("a = 1\nb = \n", Language::Toml, "x.toml", &rules).unwrap_err();
    assert!(e.contains("line 2"), "{e}");
    let e = extract("A=1\nnot an assignment\n", Language::Dotenv, ".env", &rules).unwrap_err();
    assert!(e.contains("line 2"), "{e}");
    let e = extract("A=\"open\n", Language::Dotenv, ".env", &rules).unwrap_err();
    assert!(e.contains("line 1"), "{e}");
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let rules = rules();
    let flow = "[".repeat(100_000);
    assert!(extract(&flow, Language::Yaml, "x.yaml", &rules).is_err());
    let mut block = String::new();
    for i in 0..400 {
        block.push_str(&" ".repeat(i));
        block.push_str("k:\n");
    }
    assert!(extract(&block, Language::Yaml, "x.yaml", &rules).is_err());
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert!(extract(&deep, Language::Json, "x.json", &rules).is_err());
    let deep = format!("a = {}{}", "[".repeat(10_000), "]".repeat(10_000));
    let _ = extract(&deep, Language::Toml, "x.toml", &rules);
}

#[test]
fn odd_inputs_do_not_panic() {
    let rules = rules();
    let inputs = [
        "",
        "\u{feff}",
        "---\n---\n",
        "*undefined",
        "a: &x [*x]\n",
        "a: &x\n  b: *x\n  <<: *x\n",
        "services:\n  s:\n    <<: *nope\n",
        "services: [1, 2]\n",
        "services:\n  s:\n    ports: [\"99999:8188\", \"a:b:c:d\", \"-1\", {published: x}]\n",
        "=\n",
        "A='\n",
        "\"\\",
        "é: \"http://é:8188\"",
        "x = \"\"\"\n",
        "{\"a\": \"\\ud800\"}",
    ];
    for text in inputs {
        for kind in [
            Language::Yaml,
            Language::Dotenv,
            Language::Json,
            Language::Toml,
        ] {
            let _ = extract(text, kind, "docker-compose.yml", &rules);
        }
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

    /// Any text in any configuration kind: `Ok` or `Err`, never a panic; candidates point into it.
    #[test]
    fn extract_never_panics(text in r#"[a-zA-Z0-9_:/.\-"'\[\]{}=#$&*<>!|>?,\\ \n\té]{0,200}"#) {
        let rules = rules();
        for kind in [Language::Yaml, Language::Dotenv, Language::Json, Language::Toml] {
            if let Ok(cfg) = extract(&text, kind, "docker-compose.yml", &rules) {
                let lines = text.lines().count().max(1) as u32;
                for c in &cfg.facts.candidates {
                    proptest::prop_assert!(c.pos.line >= 1 && c.pos.line <= lines + 1);
                }
            }
        }
    }
}

#[test]
fn large_flow_document_is_linear() {
    // One line, many addresses: positions are found without rescanning the line each time.
    let items: Vec<String> = (0..20_000)
        .map(|i| format!("\"http://h{i}:8188/prompt\""))
        .collect();
    let text = format!("[{}]\n", items.join(", "));
    let start = std::time::Instant::now();
    let cfg = ex(&text, Language::Yaml, "big.yaml");
    assert_eq!(cfg.facts.candidates.len(), 20_000);
    let last = cfg.facts.candidates.last().unwrap();
    let col = text.find("http://h19999:").unwrap() as u32 + 1;
    assert_eq!((last.pos.line, last.pos.column), (1, col));
    let cfg = ex(&text, Language::Json, "big.json");
    assert_eq!(cfg.facts.candidates.len(), 20_000);
    assert!(start.elapsed().as_secs() < 30, "took {:?}", start.elapsed());
}

/// `os.getenv("COMFYUI_URL")` in `worker/` takes its values from the compose service whose build
/// context is `worker/`, from the root `.env` and from the Kubernetes manifest: one finding per value,
/// each naming the entry it came from.
#[test]
fn env_values_from_compose_env_file_and_manifest_resolve_the_code() {
    let report = deploy_report();
    let mut worker: Vec<(String, String, String, Option<String>)> = report
        .findings
        .iter()
        .filter(|f| f.path == "worker/worker.py")
        .map(|f| {
            assert_eq!(f.env_var.as_deref(), Some("COMFYUI_URL"));
            assert_eq!(f.line, 11);
            (
                f.url.clone().unwrap(),
                f.group.to_string(),
                format!("{:?}", f.evidence),
                f.env_source.clone(),
            )
        })
        .collect();
    worker.sort();
    let want = vec![
        (
            "http://comfyui.comfy.svc.cluster.local:8188/prompt",
            "private-network",
            "k8s/deployment.yaml:25",
        ),
        (
            "http://comfyui:8188/prompt",
            "docker-network",
            "docker-compose.yml:13",
        ),
        ("https://comfyui.datacrew.space/prompt", "remote", ".env:2"),
    ];
    assert_eq!(worker.len(), want.len(), "{worker:#?}");
    for (got, (url, group, source)) in worker.iter().zip(want) {
        assert_eq!(
            (got.0.as_str(), got.1.as_str(), got.3.as_deref()),
            (url, group, Some(source))
        );
    }
}

/// The Markdown report names the env var and the file each resolved address came from.
#[test]
fn report_names_the_env_var_and_file_of_each_resolved_address() {
    let report = deploy_report();
    let rules = rules();
    let md = access_audit::report::markdown::render(&report, &rules, &Default::default());
    let section = md
        .split("## Where the Addresses Come From")
        .nth(1)
        .expect("section present");
    for (url, source) in [
        ("http://comfyui:8188/prompt", "docker-compose.yml:13"),
        ("https://comfyui.datacrew.space/prompt", ".env:2"),
    ] {
        let row = section
            .lines()
            .find(|l| l.contains(url))
            .unwrap_or_else(|| panic!("{url}:\n{section}"));
        assert!(
            row.contains("`COMFYUI_URL`") && row.contains(source),
            "{row}"
        );
    }
}

/// `CONFIG = json.load(fh)` then `CONFIG["comfyui"]["base_url"]`: the value comes from the JSON file.
#[test]
fn values_read_from_a_json_config_file_by_key() {
    let report = deploy_report();
    let f = report
        .findings
        .iter()
        .find(|f| f.path == "app/settings_client.py")
        .expect("finding in app/settings_client.py");
    assert_eq!(f.line, 12);
    assert_eq!(f.url.as_deref(), Some("http://127.0.0.1:8188/system_stats"));
    assert_eq!(f.group.to_string(), "local");
    assert_eq!(f.defined_at.as_deref(), Some("config/settings.json:3"));
}

#[test]
fn toml_values_are_flattened_by_key_path() {
    let cfg = ex(
        "[comfy]\nurl = \"http://comfyui:8188\"\n[comfy.auth]\nclient_secret = \"abc\"\n",
        Language::Toml,
        "settings.toml",
    );
    let keys: Vec<(&str, &str, u32)> = cfg
        .values
        .iter()
        .map(|v| (v.key.as_str(), v.value.as_str(), v.line))
        .collect();
    assert_eq!(
        keys,
        vec![("comfy.url", "http://comfyui:8188", 2)],
        "secret-looking keys are left out"
    );
}
