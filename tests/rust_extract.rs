//! Regression tests of the Rust extractor, one per case, named after the case.
//!
//! Each test runs one small source through `scan::analyze` with the embedded rules and asserts on
//! the findings (line, url, group, tokenized, env var, client, provenance, enclosing function).

use access_audit::engine::classify::Group;
use access_audit::engine::finding::{Evidence, Finding, Language};

mod common;

const SRC: common::Source = common::Source {
    language: Language::Rust,
    path: "t.rs",
};

/// Findings and notes for `src` as a Rust file `t.rs`, sorted by position.
fn rs_with_notes(src: &str) -> (Vec<Finding>, Vec<String>) {
    SRC.with_notes(src)
}

/// Findings for a source that must parse cleanly.
fn rs(src: &str) -> Vec<Finding> {
    SRC.findings(src)
}

/// The single finding of `src`.
fn one(src: &str) -> Finding {
    SRC.one(src)
}

/// The source must produce no finding at all.
fn none(src: &str) {
    SRC.none(src)
}

fn at(line: u32) -> Option<String> {
    SRC.at(line)
}

#[test]
fn const_with_positional_format_in_reqwest_post() {
    let f = one(r#"use reqwest::blocking::Client;

const COMFY_URL: &str = "http://127.0.0.1:8188";

fn queue(client: &Client, body: String) {
    let _ = client.post(format!("{}/prompt", COMFY_URL)).body(body).send();
}
"#);
    assert_eq!(f.path, "t.rs");
    assert_eq!(f.line, 6);
    assert_eq!(f.url.as_deref(), Some("http://127.0.0.1:8188/prompt"));
    assert_eq!(f.scheme.as_deref(), Some("http"));
    assert_eq!(f.host.as_deref(), Some("127.0.0.1"));
    assert_eq!(f.port, Some(8188));
    assert_eq!(f.group, Group::Local);
    assert!(!f.tokenized);
    assert_eq!(f.language, Language::Rust);
    assert_eq!(f.evidence, Evidence::Ast);
    assert_eq!(f.client.as_deref(), Some("reqwest"));
    assert_eq!(f.function.as_deref(), Some("queue"));
    assert_eq!(f.defined_at, at(3));
    assert_eq!(f.env_var, None);
}

#[test]
fn format_inline_capture_of_const() {
    let f = one(r#"use reqwest::blocking::Client;

const COMFY_URL: &str = "http://127.0.0.1:8188";

fn history(client: &Client, prompt_id: &str) {
    let _ = client.get(format!("{COMFY_URL}/history/{prompt_id}")).send();
}
"#);
    assert_eq!(f.line, 6);
    assert_eq!(
        f.url.as_deref(),
        Some("http://127.0.0.1:8188/history/{prompt_id}")
    );
    assert_eq!(f.group, Group::Local);
    assert_eq!(f.client.as_deref(), Some("reqwest"));
    assert_eq!(f.defined_at, at(3));
}

#[test]
fn let_url_then_post_with_cf_access_headers_is_tokenized_at_the_let() {
    let f = one(r#"use reqwest::blocking::Client;

const REMOTE: &str = "https://comfyui.datacrew.space";

fn send(client: &Client, id: &str, s: &str) {
    let url = format!("{REMOTE}/prompt");
    let _ = client
        .post(&url)
        .header("CF-Access-Client-Id", id)
        .header("CF-Access-Client-Secret", s)
        .send();
}
"#);
    assert_eq!(f.line, 6);
    assert_eq!(
        f.url.as_deref(),
        Some("https://comfyui.datacrew.space/prompt")
    );
    assert_eq!(f.group, Group::Remote);
    assert!(f.tokenized);
    assert_eq!(f.client.as_deref(), Some("reqwest"));
    assert_eq!(f.function.as_deref(), Some("send"));
}

#[test]
fn remote_without_header_is_untokenized() {
    let f = one(r#"use reqwest::blocking::Client;

fn send(client: &Client) {
    let _ = client.post("https://comfyui.datacrew.space/prompt").send();
}
"#);
    assert_eq!(f.line, 4);
    assert_eq!(f.group, Group::Remote);
    assert_eq!(f.port, None);
    assert_eq!(f.scheme.as_deref(), Some("https"));
    assert!(!f.tokenized);
    assert!(f.breaks());
}

#[test]
fn ureq_get_is_client_ureq() {
    let f = one(r#"fn stats() {
    let _ = ureq::get("https://comfyui.datacrew.space/system_stats").call();
}
"#);
    assert_eq!(f.line, 2);
    assert_eq!(
        f.url.as_deref(),
        Some("https://comfyui.datacrew.space/system_stats")
    );
    assert_eq!(f.client.as_deref(), Some("ureq"));
    assert_eq!(f.group, Group::Remote);
    assert!(!f.tokenized);
}

#[test]
fn env_var_with_unwrap_or_else_default() {
    let f = one(r#"fn stats() {
    let base = std::env::var("COMFYUI_URL").unwrap_or_else(|_| "http://comfyui:8188".to_string());
    let _ = reqwest::blocking::get(format!("{base}/system_stats"));
}
"#);
    assert_eq!(f.line, 3);
    assert_eq!(f.url.as_deref(), Some("http://comfyui:8188/system_stats"));
    assert_eq!(f.group, Group::DockerNetwork);
    assert_eq!(f.env_var.as_deref(), Some("COMFYUI_URL"));
    assert_eq!(f.defined_at, at(2));
}

#[test]
fn env_var_with_question_mark_is_unresolved() {
    let f = one(r#"use std::env;

fn stats() -> Result<(), Box<dyn std::error::Error>> {
    let base = env::var("COMFYUI_URL")?;
    let _ = reqwest::blocking::get(format!("{base}/system_stats"))?;
    Ok(())
}
"#);
    assert_eq!(f.line, 5);
    // The run-time hole is named after the binding, as in Python.
    assert_eq!(f.url.as_deref(), Some("{base}/system_stats"));
    assert_eq!(f.host, None);
    assert_eq!(f.port, None);
    assert_eq!(f.group, Group::Unresolved);
    assert_eq!(f.env_var.as_deref(), Some("COMFYUI_URL"));
    assert_eq!(f.defined_at, at(4));
}

#[test]
fn raw_string_literal() {
    let f = one(r#"fn queue() {
    let _ = reqwest::blocking::get(r"http://localhost:8188/queue");
}
"#);
    assert_eq!(f.line, 2);
    assert_eq!(f.url.as_deref(), Some("http://localhost:8188/queue"));
    assert_eq!(f.group, Group::Local);
}

#[test]
fn concat_macro() {
    let f = one(r#"fn prompt() {
    let _ = reqwest::blocking::get(concat!("http://", "localhost:8188", "/prompt"));
}
"#);
    assert_eq!(f.line, 2);
    assert_eq!(f.url.as_deref(), Some("http://localhost:8188/prompt"));
    assert_eq!(f.host.as_deref(), Some("localhost"));
    assert_eq!(f.port, Some(8188));
    assert_eq!(f.group, Group::Local);
}

#[test]
fn static_constant() {
    let f = one(r#"static BASE: &str = "http://comfyui:8188";

fn queue() {
    let _ = reqwest::blocking::get(format!("{}/queue", BASE));
}
"#);
    assert_eq!(f.line, 4);
    assert_eq!(f.url.as_deref(), Some("http://comfyui:8188/queue"));
    assert_eq!(f.group, Group::DockerNetwork);
    assert_eq!(f.defined_at, at(1));
}

#[test]
fn tokio_tungstenite_connect_async() {
    let f = one(r#"use tokio_tungstenite::connect_async;

const SERVER: &str = "127.0.0.1:8188";

async fn listen(id: &str) {
    let _ = connect_async(format!("ws://{SERVER}/ws?clientId={id}")).await;
}
"#);
    assert_eq!(f.line, 6);
    assert_eq!(
        f.url.as_deref(),
        Some("ws://127.0.0.1:8188/ws?clientId={id}")
    );
    assert_eq!(f.scheme.as_deref(), Some("ws"));
    assert_eq!(f.group, Group::Local);
    assert_eq!(f.client.as_deref(), Some("tokio-tungstenite"));
    assert_eq!(f.function.as_deref(), Some("listen"));
    assert_eq!(f.defined_at, at(3));
}

#[test]
fn command_docker_exec_is_container_exec() {
    let f = one(r#"use std::process::Command;

fn ls() {
    let _ = Command::new("docker").args(["exec", "comfyui", "ls"]).status();
}
"#);
    assert_eq!(f.line, 4);
    assert_eq!(f.group, Group::ContainerExec);
    assert_eq!(f.url, None);
    assert_eq!(f.host.as_deref(), Some("comfyui"));
    assert_eq!(f.command.as_deref(), Some("ls"));
    assert_eq!(f.client.as_deref(), Some("docker exec"));
}

#[test]
fn doc_comments_and_comments_are_not_findings() {
    none(
        r#"//! Client for http://127.0.0.1:8188/prompt

/// https://comfyui.datacrew.space/prompt
fn f() {
    // comment: http://comfyui:8188/queue
    /* block: http://localhost:8188/history */
}
"#,
    );
}

#[test]
fn println_with_url_is_not_a_finding() {
    none(
        r#"fn main() {
    println!("see http://localhost:8188");
}
"#,
    );
}

#[test]
fn syntax_error_falls_back_to_text() {
    let (f, notes) = rs_with_notes(
        r#"fn broken( {
    let _ = reqwest::blocking::get("http://127.0.0.1:8188/prompt");
}
"#,
    );
    assert!(!notes.is_empty());
    let hit = f
        .iter()
        .find(|f| f.url.as_deref() == Some("http://127.0.0.1:8188/prompt"))
        .unwrap_or_else(|| panic!("url not found: {f:#?}"));
    assert_eq!(hit.line, 2);
    assert_eq!(hit.evidence, Evidence::Text);
    assert_eq!(hit.group, Group::Local);
}

#[test]
fn clap_default_value_with_env_is_folded_into_its_use() {
    let found = rs(r#"use clap::Parser;
use reqwest::blocking::Client;
#[derive(Parser)]
struct Args {
    /// ComfyUI base URL
    #[arg(long, env = "COMFY_URL", default_value = "http://comfyui:8188")]
    comfy_url: String,
    #[arg(long)]
    server: String,
}
fn main() {
    let args = Args::parse();
    let c = Client::new();
    c.post(format!("{}/prompt", args.comfy_url)).send().unwrap();
    c.get(format!("http://{}/history", args.server)).send().unwrap();
}
"#);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert_eq!(found[0].line, 14);
    assert_eq!(found[0].url.as_deref(), Some("http://comfyui:8188/prompt"));
    assert_eq!(found[0].env_var.as_deref(), Some("COMFY_URL"));
    assert_eq!(found[0].defined_at.as_deref(), Some("t.rs:6"));
    assert_eq!(found[1].group, Group::Unresolved);
    assert_eq!(
        found[1].url.as_deref(),
        Some("http://{args.server}/history")
    );
}
