//! Notebooks, shell scripts and Dockerfiles (issue 5, "More file kinds"): the fixtures under
//! `fixtures/notebooks/` and `fixtures/shell/` are found with the right cell, line, group, URL, token
//! flag, language and evidence, and their decoys (markdown, comments, `echo`, magics) are not; plus
//! unit-level checks of the shell and notebook front ends through `scan::analyze`.

use std::path::Path;

use access_audit::engine::classify::Group;
use access_audit::engine::finding::{Evidence, Finding, Language};
use access_audit::engine::scan::{analyze, scan, ScanOptions};
use access_audit::rules::RuleSet;

fn rules() -> RuleSet {
    RuleSet::embedded().unwrap()
}

fn scan_fixture(dir: &str) -> Vec<Finding> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(dir);
    let report = scan(
        &ScanOptions {
            paths: vec![root],
            ..Default::default()
        },
        &rules(),
    )
    .unwrap();
    assert!(
        report.diagnostics.is_empty(),
        "unexpected diagnostics: {:#?}",
        report.diagnostics
    );
    report.findings
}

fn find<'a>(findings: &'a [Finding], path: &str, line: u32) -> &'a Finding {
    let hits: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.path == path && f.line == line)
        .collect();
    assert_eq!(
        hits.len(),
        1,
        "expected one finding at {path}:{line}, got {hits:#?}\nall: {findings:#?}"
    );
    hits[0]
}

fn shell(src: &str) -> Vec<Finding> {
    let (f, notes) = analyze(src, Language::Shell, "x.sh", &rules(), None);
    assert!(notes.is_empty(), "{notes:?}");
    f
}

fn dockerfile(src: &str) -> Vec<Finding> {
    let (f, notes) = analyze(src, Language::Dockerfile, "Dockerfile", &rules(), None);
    assert!(notes.is_empty(), "{notes:?}");
    f
}

fn urls(findings: &[Finding]) -> Vec<(u32, String)> {
    let mut v: Vec<(u32, String)> = findings
        .iter()
        .map(|f| (f.line, f.url.clone().unwrap_or_default()))
        .collect();
    v.sort();
    v
}

// ------------------------------------------------------------------------------------------------
// Fixtures
// ------------------------------------------------------------------------------------------------

#[test]
fn notebook_fixture() {
    let found = scan_fixture("notebooks");
    assert_eq!(found.len(), 4, "{found:#?}");

    let post = found.iter().find(|f| f.cell == Some(5)).expect("cell 5");
    assert_eq!(post.path, "analysis.ipynb");
    assert_eq!(post.line, 3);
    assert_eq!(post.column, 22);
    assert_eq!(post.group, Group::Local);
    assert_eq!(post.url.as_deref(), Some("http://127.0.0.1:8188/prompt"));
    assert!(!post.tokenized);
    assert_eq!(post.client.as_deref(), Some("requests"));
    assert_eq!(post.language, Language::Notebook);
    assert_eq!(post.evidence, Evidence::Ast);
    assert!(post.defined_at.is_some(), "COMFY is defined in cell 3");

    let remote = found.iter().find(|f| f.cell == Some(6)).expect("cell 6");
    assert_eq!(remote.line, 5);
    assert_eq!(remote.group, Group::Remote);
    assert_eq!(
        remote.url.as_deref(),
        Some("https://comfyui.datacrew.space/history")
    );
    assert!(remote.tokenized, "CF-Access headers are sent");
    assert_eq!(remote.language, Language::Notebook);
    assert_eq!(remote.evidence, Evidence::Ast);

    // `!curl …` in cell 3 and the `%%bash` cell 7 run requests: the shell front end reads them,
    // in cell coordinates.
    for cell in [3, 7] {
        let f = found
            .iter()
            .find(|f| f.cell == Some(cell))
            .expect("shell cell");
        assert_eq!(f.client.as_deref(), Some("curl"), "{f:#?}");
        assert_eq!(f.evidence, Evidence::Text, "{f:#?}");
        assert_eq!(f.group, Group::Local, "{f:#?}");
    }
    // Decoys: the markdown cell's URLs.
    for f in &found {
        assert_ne!(f.cell, Some(1), "markdown cell: {f:#?}");
        assert_ne!(
            f.url.as_deref(),
            Some("https://comfyui.datacrew.space/queue")
        );
    }
}

/// `defined_at` of a notebook finding names the cell and line the constant is in, not the line of the
/// joined source.
#[test]
fn notebook_defined_at_is_in_cell_coordinates() {
    let found = scan_fixture("notebooks");
    let post = found.iter().find(|f| f.cell == Some(5)).expect("cell 5");
    // COMFY is on line 1 of cell 3 (line 4 of the joined source).
    assert_eq!(post.defined_at.as_deref(), Some("analysis.ipynb:cell 3:1"));
}

#[test]
fn shell_fixture() {
    let found = scan_fixture("shell");
    assert_eq!(found.len(), 7, "{found:#?}");

    let q = "scripts/queue.sh";
    let plain = find(&found, q, 12);
    assert_eq!(plain.column, 17);
    assert_eq!(plain.group, Group::Remote);
    assert_eq!(
        plain.url.as_deref(),
        Some("https://comfyui.datacrew.space/prompt")
    );
    assert!(!plain.tokenized);
    assert_eq!(plain.client.as_deref(), Some("curl"));
    assert_eq!(plain.language, Language::Shell);
    assert_eq!(plain.evidence, Evidence::Text);

    // The continued command: its URL is on the last line, its headers on the lines before.
    let tokened = find(&found, q, 22);
    assert_eq!(tokened.group, Group::Remote);
    assert_eq!(
        tokened.url.as_deref(),
        Some("https://comfyui.datacrew.space/prompt")
    );
    assert!(tokened.tokenized);
    assert_eq!(tokened.language, Language::Shell);

    let queue = find(&found, q, 24);
    assert_eq!(queue.group, Group::Local);
    assert_eq!(queue.url.as_deref(), Some("http://localhost:8188/queue"));
    assert_eq!(queue.env_var.as_deref(), Some("COMFYUI_URL"));
    assert_eq!(queue.defined_at.as_deref(), Some("scripts/queue.sh:6"));
    assert_eq!(queue.evidence, Evidence::Text);

    let history = find(&found, q, 25);
    assert_eq!(history.group, Group::Local);
    assert_eq!(
        history.url.as_deref(),
        Some("http://localhost:8188/history/{PROMPT_ID}")
    );
    assert_eq!(history.env_var.as_deref(), Some("COMFYUI_URL"));

    let exec = find(&found, q, 27);
    assert_eq!(exec.group, Group::ContainerExec);
    assert_eq!(exec.host.as_deref(), Some("comfyui"));
    assert_eq!(exec.command.as_deref(), Some("ls /app/output"));
    assert_eq!(exec.language, Language::Shell);

    // Decoys: the comment (line 3), the echo (line 9); the default on line 6 is folded into its uses.
    for line in [3, 6, 9] {
        assert!(
            !found.iter().any(|f| f.path == q && f.line == line),
            "unexpected finding at line {line}: {found:#?}"
        );
    }

    let env = find(&found, "Dockerfile", 4);
    assert_eq!(env.column, 17);
    assert_eq!(env.group, Group::DockerNetwork);
    assert_eq!(env.url.as_deref(), Some("http://comfyui:8188"));
    assert_eq!(env.language, Language::Dockerfile);
    assert_eq!(env.evidence, Evidence::Text);

    let health = find(&found, "Dockerfile", 12);
    assert_eq!(health.group, Group::Local);
    assert_eq!(
        health.url.as_deref(),
        Some("http://localhost:8188/system_stats")
    );
    assert_eq!(health.client.as_deref(), Some("curl"));
    assert_eq!(health.language, Language::Dockerfile);
    // The LABEL's URL is not a finding.
    assert!(!found.iter().any(|f| f.path == "Dockerfile" && f.line == 5));
}

// ------------------------------------------------------------------------------------------------
// Shell front end
// ------------------------------------------------------------------------------------------------

#[test]
fn variable_is_folded_into_the_curl_that_uses_it() {
    let found = shell("BASE=http://127.0.0.1:8188\n# a comment\ncurl -s \"$BASE/prompt\"\n");
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!((f.line, f.column), (3, 9));
    assert_eq!(f.url.as_deref(), Some("http://127.0.0.1:8188/prompt"));
    assert_eq!(f.group, Group::Local);
    assert_eq!(f.defined_at.as_deref(), Some("x.sh:1"));
    assert_eq!(f.client.as_deref(), Some("curl"));
    assert_eq!(f.language, Language::Shell);
    assert_eq!(f.evidence, Evidence::Text);
}

#[test]
fn full_url_in_a_variable_is_reported_at_the_binding_with_its_use() {
    let found = shell(
        "URL=\"https://comfyui.datacrew.space/prompt\"\n\
         curl -H \"CF-Access-Client-Id: $ID\" -H \"CF-Access-Client-Secret: $SECRET\" \"$URL\"\n",
    );
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!((found[0].line, found[0].column), (1, 5));
    assert_eq!(found[0].group, Group::Remote);
    assert!(found[0].tokenized);
    assert_eq!(found[0].client.as_deref(), Some("curl"));
}

#[test]
fn env_defaults_and_assign_defaults() {
    let found = shell(
        ": \"${COMFY_URL:=http://comfyui:8188}\"\n\
         wget -qO- \"$COMFY_URL/history\"\n\
         curl \"${COMFYUI_BASE:-http://localhost:8188}/queue\"\n\
         curl -s \"$REMOTE_URL/prompt\"\n",
    );
    assert_eq!(
        urls(&found),
        vec![
            (2, "http://comfyui:8188/history".to_string()),
            (3, "http://localhost:8188/queue".to_string()),
            (4, "{REMOTE_URL}/prompt".to_string()),
        ]
    );
    let wget = found.iter().find(|f| f.line == 2).unwrap();
    assert_eq!(wget.env_var.as_deref(), Some("COMFY_URL"));
    assert_eq!(wget.defined_at.as_deref(), Some("x.sh:1"));
    assert_eq!(wget.client.as_deref(), Some("wget"));
    assert_eq!(wget.group, Group::DockerNetwork);
    let inline = found.iter().find(|f| f.line == 3).unwrap();
    assert_eq!(inline.env_var.as_deref(), Some("COMFYUI_BASE"));
    let unresolved = found.iter().find(|f| f.line == 4).unwrap();
    assert_eq!(unresolved.group, Group::Unresolved);
    assert_eq!(unresolved.env_var.as_deref(), Some("REMOTE_URL"));
}

#[test]
fn credentials_in_headers_cookies_and_arrays() {
    let found = shell(
        "curl -H 'Content-Type: application/json' https://comfyui.datacrew.space/queue\n\
         curl -b \"CF_Authorization=$JWT\" https://comfyui.datacrew.space/object_info\n\
         wget --header=\"cf-access-token: $TOKEN\" https://comfyui.datacrew.space/history\n\
         wget --header \"Cookie: CF_Authorization=$JWT\" https://comfyui.datacrew.space/view\n\
         H=(-H \"CF-Access-Client-Id: $ID\" -H \"CF-Access-Client-Secret: $SEC\")\n\
         curl \"${H[@]}\" https://comfyui.datacrew.space/system_stats\n\
         websocat -H 'cf-access-token: x' \"wss://comfyui.datacrew.space/ws?clientId=$CID\"\n\
         websocat \"wss://comfyui.datacrew.space/ws\"\n\
         http POST https://comfyui.datacrew.space/prompt CF-Access-Client-Id:$ID CF-Access-Client-Secret:$S\n\
         xh GET https://comfyui.datacrew.space/free Accept:application/json\n\
         curl -H 'Cf-Access-Jwt-Assertion: x' https://comfyui.datacrew.space/interrupt\n",
    );
    let tok: Vec<(u32, bool)> = {
        let mut v: Vec<(u32, bool)> = found.iter().map(|f| (f.line, f.tokenized)).collect();
        v.sort();
        v
    };
    assert_eq!(
        tok,
        vec![
            (1, false),
            (2, true),
            (3, true),
            (4, true),
            (6, true),
            (7, true),
            (8, false),
            (9, true),
            (10, false),
            (11, false),
        ],
        "{found:#?}"
    );
    assert!(found.iter().all(|f| f.group == Group::Remote));
    let client = |line: u32| {
        found
            .iter()
            .find(|f| f.line == line)
            .and_then(|f| f.client.clone())
    };
    assert_eq!(client(7).as_deref(), Some("websocat"));
    assert_eq!(client(9).as_deref(), Some("httpie"));
    assert_eq!(client(10).as_deref(), Some("xh"));
}

#[test]
fn comments_echo_heredocs_and_other_commands_are_not_findings() {
    let found = shell(
        "#!/bin/sh\n\
         # curl http://127.0.0.1:8188/prompt\n\
         echo \"POST to http://127.0.0.1:8188/prompt\"\n\
         printf 'see %s\\n' https://comfyui.datacrew.space/queue\n\
         cat > notes.txt <<EOF\n\
         curl http://127.0.0.1:8188/prompt\n\
         EOF\n\
         python3 -m http.server 8188\n\
         curl -s http://127.0.0.1:8188/queue # checks http://127.0.0.1:8188/history\n",
    );
    assert_eq!(
        urls(&found),
        vec![(9, "http://127.0.0.1:8188/queue".to_string())]
    );
}

#[test]
fn commands_in_substitutions_scripts_and_functions() {
    let found = shell(
        "poll() {\n\
         \x20 STATUS=$(curl -s http://comfyui:8188/queue | jq .)\n\
         }\n\
         function submit {\n\
         \x20 if curl -sf localhost:8188/system_stats >/dev/null; then echo up; fi\n\
         }\n\
         bash <<'SCRIPT'\n\
         curl https://comfyui.datacrew.space/history\n\
         SCRIPT\n\
         sh -c 'curl -X POST http://127.0.0.1:8188/interrupt'\n\
         echo \"`curl -s http://127.0.0.1:8188/free`\"\n\
         curl -s \"${1:-http://192.168.1.20:8188}/prompt\"\n",
    );
    assert_eq!(
        urls(&found),
        vec![
            (2, "http://comfyui:8188/queue".to_string()),
            (5, "http://localhost:8188/system_stats".to_string()),
            (8, "https://comfyui.datacrew.space/history".to_string()),
            (10, "http://127.0.0.1:8188/interrupt".to_string()),
            (11, "http://127.0.0.1:8188/free".to_string()),
            (12, "http://192.168.1.20:8188/prompt".to_string()),
        ],
        "{found:#?}"
    );
    let func = |line: u32| {
        found
            .iter()
            .find(|f| f.line == line)
            .and_then(|f| f.function.clone())
    };
    assert_eq!(func(2).as_deref(), Some("poll"));
    assert_eq!(func(5).as_deref(), Some("submit"));
    assert_eq!(func(8), None);
    let private = found.iter().find(|f| f.line == 12).unwrap();
    assert_eq!(private.group, Group::PrivateNetwork);
}

#[test]
fn docker_exec_commands() {
    let found = shell(
        "docker exec comfyui ls /app/output\n\
         docker compose exec -T comfyui-worker python main.py\n\
         sudo docker exec -it comfyui bash\n\
         docker exec postgres psql\n\
         echo docker exec comfyui ls\n",
    );
    let mut execs: Vec<(u32, String, String)> = found
        .iter()
        .filter(|f| f.group == Group::ContainerExec)
        .map(|f| {
            (
                f.line,
                f.host.clone().unwrap_or_default(),
                f.command.clone().unwrap_or_default(),
            )
        })
        .collect();
    execs.sort();
    assert_eq!(
        execs,
        vec![
            (1, "comfyui".into(), "ls /app/output".into()),
            (2, "comfyui-worker".into(), "python main.py".into()),
            (3, "comfyui".into(), "bash".into()),
        ]
    );
    assert_eq!(found.len(), 3);
}

#[test]
fn dockerfile_instructions() {
    let found = dockerfile(
        "# syntax=docker/dockerfile:1\n\
         ARG COMFY_HOST=comfyui\n\
         ENV COMFY_BASE=\"http://${COMFY_HOST}:8188\" \\\n\
         \x20   OTHER=1\n\
         ENV LEGACY http://comfyui-api:8188/prompt\n\
         LABEL homepage=\"http://127.0.0.1:8188/\"\n\
         RUN --mount=type=cache,target=/root/.cache \\\n\
         \x20   # a comment inside the continuation http://localhost:8188/view\n\
         \x20   curl -sf \"$COMFY_BASE/object_info\" > /tmp/oi.json\n\
         RUN <<EOF\n\
         curl -f http://localhost:8188/system_stats\n\
         EOF\n\
         HEALTHCHECK --interval=10s CMD [\"curl\", \"-f\", \"http://localhost:8188/queue\"]\n\
         CMD [\"python\", \"main.py\", \"--server\", \"http://localhost:8188\"]\n",
    );
    assert_eq!(
        urls(&found),
        vec![
            (5, "http://comfyui-api:8188/prompt".to_string()),
            (9, "http://comfyui:8188/object_info".to_string()),
            (11, "http://localhost:8188/system_stats".to_string()),
            (13, "http://localhost:8188/queue".to_string()),
        ],
        "{found:#?}"
    );
    let run = found.iter().find(|f| f.line == 9).unwrap();
    assert_eq!(run.env_var.as_deref(), Some("COMFY_HOST"));
    // Where the host comes from: the `ARG COMFY_HOST=comfyui` line.
    assert_eq!(run.defined_at.as_deref(), Some("Dockerfile:2"));
    assert_eq!(run.group, Group::DockerNetwork);
    assert!(found.iter().all(|f| f.language == Language::Dockerfile));
    let health = found.iter().find(|f| f.line == 13).unwrap();
    assert_eq!(health.column, 47);
    assert_eq!(health.client.as_deref(), Some("curl"));
}

#[test]
fn statement_spans_cover_continued_commands() {
    let rules = rules();
    let facts = access_audit::engine::lower::shell::extract(
        "curl -X POST \\\n  -H 'a: b' \\\n  http://127.0.0.1:8188/prompt\nls\n",
        Language::Shell,
        &rules,
    );
    assert!(facts.stmt_spans.contains(&(1, 3)), "{:?}", facts.stmt_spans);
    assert!(facts.stmt_spans.contains(&(4, 4)), "{:?}", facts.stmt_spans);
}

#[test]
fn hostile_shell_input_does_not_panic() {
    let rules = rules();
    for src in [
        "curl \"unterminated http://127.0.0.1:8188/prompt",
        "curl 'x",
        "$(",
        "${",
        "${X:-",
        "a=(",
        "cat <<",
        "cat <<EOF\nno end",
        "foo() {",
        "}}}}",
        "\\",
        "curl -H",
        "http",
        "é=ü curl ñ://ö:8188/prompt `",
        "$'\\",
    ] {
        let _ = access_audit::engine::lower::shell::extract(src, Language::Shell, &rules);
        let _ = access_audit::engine::lower::shell::extract(src, Language::Dockerfile, &rules);
    }
}

// ------------------------------------------------------------------------------------------------
// Notebook front end
// ------------------------------------------------------------------------------------------------

fn notebook(cells: &[(&str, &str)]) -> String {
    let cells: Vec<serde_json::Value> = cells
        .iter()
        .map(|(kind, src)| {
            serde_json::json!({
                "cell_type": kind,
                "metadata": {},
                "source": src.split_inclusive('\n').collect::<Vec<_>>(),
            })
        })
        .collect();
    serde_json::json!({ "cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5 })
        .to_string()
}

#[test]
fn invalid_notebook_json_falls_back_to_text() {
    let text = "{\"cells\": [ {\"cell_type\": \"code\", \"source\": \"requests.get('http://127.0.0.1:8188/prompt')\"";
    let (found, notes) = analyze(text, Language::Notebook, "x.ipynb", &rules(), None);
    assert!(!notes.is_empty());
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(
        found[0].url.as_deref(),
        Some("http://127.0.0.1:8188/prompt")
    );
    assert_eq!(found[0].evidence, Evidence::Text);
    assert_eq!(found[0].language, Language::Notebook);
}

#[test]
fn json_without_cells_is_not_a_notebook() {
    let rules = rules();
    assert!(access_audit::engine::lower::notebook::extract("{\"nbformat\": 4}", &rules).is_err());
    assert!(access_audit::engine::lower::notebook::extract("[1, 2]", &rules).is_err());
    assert!(access_audit::engine::lower::notebook::extract("not json", &rules).is_err());
}

#[test]
fn cells_are_numbered_among_all_cells_and_lines_within_the_cell() {
    let text = notebook(&[
        ("markdown", "# Title\nhttp://127.0.0.1:8188/prompt\n"),
        ("code", "import requests\nBASE = 'http://127.0.0.1:8188'\n"),
        ("raw", "http://127.0.0.1:8188/queue"),
        (
            "code",
            "files = !ls\n%time x = 1\n\nrequests.get(f'{BASE}/history')",
        ),
        ("code", "requests.get('http://comfyui:8188/queue')\n"),
    ]);
    let rules = rules();
    let nb = access_audit::engine::lower::notebook::extract(&text, &rules).unwrap();
    assert_eq!(
        nb.line_map,
        vec![(2, 1), (2, 2), (4, 1), (4, 2), (4, 3), (4, 4), (5, 1)]
    );
    assert!(nb.facts.notes.is_empty(), "{:?}", nb.facts.notes);
    let (found, notes) = analyze(&text, Language::Notebook, "n.ipynb", &rules, None);
    assert!(notes.is_empty());
    let mut at: Vec<(Option<u32>, u32, String)> = found
        .iter()
        .map(|f| (f.cell, f.line, f.url.clone().unwrap_or_default()))
        .collect();
    at.sort();
    assert_eq!(
        at,
        vec![
            (Some(4), 4, "http://127.0.0.1:8188/history".to_string()),
            (Some(5), 1, "http://comfyui:8188/queue".to_string()),
        ]
    );
}

#[test]
fn a_broken_cell_does_not_swallow_the_next_ones() {
    let text = notebook(&[
        (
            "code",
            "payload = {\n  'url': 'http://127.0.0.1:8188/prompt',\n",
        ),
        (
            "code",
            "requests.get('https://comfyui.datacrew.space/queue')\n",
        ),
        ("code", "x = 1 + \\"),
        ("code", "requests.get('http://localhost:8188/history')\n"),
    ]);
    let rules = rules();
    let nb = access_audit::engine::lower::notebook::extract(&text, &rules).unwrap();
    assert!(
        nb.facts.notes.iter().any(|n| n.starts_with("cell 1:")),
        "{:?}",
        nb.facts.notes
    );
    let (found, _) = analyze(&text, Language::Notebook, "n.ipynb", &rules, None);
    let mut at: Vec<(Option<u32>, u32, String)> = found
        .iter()
        .map(|f| (f.cell, f.line, f.url.clone().unwrap_or_default()))
        .collect();
    at.sort();
    assert_eq!(
        at,
        vec![
            (Some(1), 2, "http://127.0.0.1:8188/prompt".to_string()),
            (
                Some(2),
                1,
                "https://comfyui.datacrew.space/queue".to_string()
            ),
            (Some(4), 1, "http://localhost:8188/history".to_string()),
        ]
    );
}

#[test]
fn non_python_notebooks_fall_back_to_text() {
    let text = serde_json::json!({
        "cells": [{"cell_type": "code", "source": ["httr::GET(\"http://127.0.0.1:8188/queue\")"]}],
        "metadata": {"kernelspec": {"language": "R", "name": "ir"}},
    })
    .to_string();
    let (found, notes) = analyze(&text, Language::Notebook, "r.ipynb", &rules(), None);
    assert!(!notes.is_empty());
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].evidence, Evidence::Text);
}
