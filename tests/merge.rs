//! `access-audit merge`: three repositories scanned to JSON each (as the jobs of
//! `examples/org-scan.yml` do), then merged into one Markdown report and one SARIF log.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

mod common;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const FIXTURES: [&str; 3] = ["audit-demo", "remote-mixed", "cross-file"];

fn cmd(dir: &Path) -> Command {
    let mut c = common::bin();
    c.current_dir(dir).env_remove("ACCESS_AUDIT_NO_VCS");
    c
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let kind = entry.file_type().unwrap();
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            copy_dir(&entry.path(), &target);
        } else if kind.is_file() {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = common::git(dir, args)?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Copy the fixtures into `work/<name>` (outside this repository), make the first one a git
/// repository with a commit when git is installed, and scan each from inside it, as a CI job does
/// (`access-audit scan . --format json -o report.json`). Returns the report files and the commit.
fn scan_fixtures(work: &Path) -> (Vec<PathBuf>, Option<String>) {
    let mut reports = Vec::new();
    let mut commit = None;
    for (i, name) in FIXTURES.iter().enumerate() {
        let repo = work.join(name);
        copy_dir(&Path::new(ROOT).join("fixtures").join(name), &repo);
        if i == 0 {
            commit = git(&repo, &["init", "-q"])
                .and_then(|_| git(&repo, &["add", "-A"]))
                .and_then(|_| git(&repo, &["commit", "-q", "-m", "fixture"]))
                .and_then(|_| git(&repo, &["rev-parse", "HEAD"]));
        }
        let out = cmd(&repo)
            .args(["scan", ".", "--format", "json", "-q", "-o", "report.json"])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        reports.push(repo.join("report.json"));
    }
    (reports, commit)
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn three_reports_merge_into_one_markdown_and_one_sarif() {
    let dir = tempfile::tempdir().unwrap();
    let (reports, commit) = scan_fixtures(dir.path());
    let jsons: Vec<Value> = reports.iter().map(|r| read_json(r)).collect();

    // Each report says where it comes from.
    for (json, name) in jsons.iter().zip(FIXTURES) {
        let meta = &json["meta"];
        assert_eq!(meta["tool"], "access-audit");
        assert_eq!(meta["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(meta["repository"], name, "{meta}");
        let digest = meta["rules_digest"].as_str().unwrap();
        assert!(
            digest.len() == 16 && digest.chars().all(|c| c.is_ascii_hexdigit()),
            "{digest}"
        );
        assert_eq!(meta["rules_digest"], jsons[0]["meta"]["rules_digest"]);
    }
    assert_eq!(
        jsons[0]["meta"]["commit"].as_str(),
        commit.as_deref(),
        "the commit of the git repository, or null without git"
    );
    assert!(jsons[1]["meta"]["commit"].is_null());

    let md_path = dir.path().join("org-report.md");
    let sarif_path = dir.path().join("org.sarif");
    let mut args: Vec<String> = vec!["merge".into()];
    args.extend(reports.iter().map(|r| r.display().to_string()));
    args.extend([
        "-o".into(),
        md_path.display().to_string(),
        "--sarif".into(),
        sarif_path.display().to_string(),
    ]);
    let out = cmd(dir.path()).args(&args).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "-o writes the file, not stdout");
    let md = fs::read_to_string(&md_path).unwrap();

    // The per-repository table: header, separator, one row per report with its own counts.
    assert!(md.starts_with("# ComfyUI API Access Audit\n"), "{md}");
    assert!(md.contains("`3 repositories`"), "{md}");
    let header = "| Repository | Commit | Files | Findings | Remote untokenized | Unresolved |\n";
    let table_at = md.find(header).expect("repository table");
    assert!(
        table_at < md.find("```mermaid").unwrap(),
        "table at the top"
    );
    assert!(
        table_at < md.find("## Summary").unwrap(),
        "table at the top"
    );
    let rows: Vec<&str> = md[table_at + header.len()..]
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with('|'))
        .collect();
    assert_eq!(rows.len(), 3, "{rows:#?}");
    let (mut total_untokenized, mut total_findings) = (0, 0);
    for (json, name) in jsons.iter().zip(FIXTURES) {
        let s = &json["summary"];
        let commit = match json["meta"]["commit"].as_str() {
            Some(c) => format!("`{}`", &c[..12]),
            None => "—".to_string(),
        };
        let row = format!(
            "| `{name}` | {commit} | {} | {} | {} | {} |",
            s["files_scanned"], s["findings"], s["remote_untokenized"], s["unresolved"]
        );
        assert!(rows.contains(&row.as_str()), "{row} not in {rows:#?}");
        total_untokenized += s["remote_untokenized"].as_u64().unwrap();
        total_findings += s["findings"].as_u64().unwrap();
    }
    assert!(total_untokenized > 0, "remote-mixed has untokenized uses");
    assert!(
        md.contains(&format!("{total_untokenized} untokenized — break")),
        "the diagram counts every repository:\n{md}"
    );
    // Paths are prefixed with their repository.
    assert!(
        md.contains("remote-mixed/scripts/remote_untokenized.py"),
        "{md}"
    );
    assert!(!md.contains(&dir.path().display().to_string()), "{md}");
    let files_total: u64 = jsons
        .iter()
        .map(|j| j["summary"]["files_scanned"].as_u64().unwrap())
        .sum();
    assert!(
        md.contains(&format!("({files_total} files scanned)")),
        "{md}"
    );
    assert!(total_findings > 0);

    // One SARIF log, valid against the official schema, every location prefixed.
    let sarif: Value = read_json(&sarif_path);
    let schema: Value = serde_json::from_str(include_str!("data/sarif-schema-2.1.0.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let untokenized = results
        .iter()
        .filter(|r| r["ruleId"] == "untokenized-remote")
        .count() as u64;
    assert_eq!(untokenized, total_untokenized);
    for r in results {
        let uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap();
        assert!(
            FIXTURES.iter().any(|f| uri.starts_with(&format!("{f}/"))),
            "{uri}"
        );
    }

    // Without -o the Markdown goes to stdout; the same input gives the same bytes.
    let out = cmd(dir.path())
        .arg("merge")
        .args(&reports)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), md);
}

#[test]
fn an_invalid_report_is_exit_2_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.json");
    let out = cmd(Path::new(ROOT))
        .args(["scan", "fixtures/remote-mixed", "--format", "json", "-q"])
        .args(["-o", good.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));

    let broken = dir.path().join("broken.json");
    fs::write(&broken, "{\n  \"findings\": [\n").unwrap();
    let out = cmd(dir.path())
        .args(["merge", "good.json", "broken.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("broken.json:3:"), "{err}");
    assert!(out.stdout.is_empty());

    // Valid JSON, but not a report (a `check --format json` output).
    fs::write(&broken, "{\"violations\": [], \"summary\": {}}\n").unwrap();
    let out = cmd(dir.path())
        .args(["merge", "broken.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("broken.json") && err.contains("not an access-audit JSON report"),
        "{err}"
    );

    let out = cmd(dir.path())
        .args(["merge", "missing.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.json"));
}

#[test]
fn reports_without_meta_still_merge() {
    // A report written before `meta` existed: named after its directory.
    let dir = tempfile::tempdir().unwrap();
    let mut json = {
        let out = cmd(Path::new(ROOT))
            .args(["scan", "fixtures/remote-mixed", "--format", "json", "-q"])
            .output()
            .unwrap();
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    json.as_object_mut().unwrap().remove("meta");
    let file = dir.path().join("legacy-repo").join("report.json");
    fs::create_dir_all(file.parent().unwrap()).unwrap();
    fs::write(&file, json.to_string()).unwrap();
    let out = cmd(dir.path())
        .args(["merge", "legacy-repo/report.json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(md.contains("| `legacy-repo` | — |"), "{md}");
    assert!(md.contains("`1 repository`"), "{md}");
    assert!(md.contains("legacy-repo/scripts/"), "{md}");
}

#[test]
fn the_org_workflow_runs_these_commands() {
    let workflow = include_str!("../examples/org-scan.yml");
    assert!(workflow.contains("access-audit scan . --format json -o report.json"));
    assert!(
        workflow.contains("access-audit merge */report.json -o org-report.md --sarif org.sarif")
    );
    assert!(workflow.contains("matrix:"));
}

/// A repository without a commit yet: no commit in the metadata, but the repository's name (its
/// top level) even when a subdirectory is scanned.
#[test]
fn a_repository_without_commits_names_its_top_level() {
    let work = tempfile::tempdir().unwrap();
    let repo = work.path().join("service-repo");
    let sub = repo.join("clients");
    copy_dir(&Path::new(ROOT).join("fixtures").join("audit-demo"), &sub);
    if git(&repo, &["init", "-q"]).is_none() {
        return; // git is not installed: the metadata falls back to the path (tested above)
    }
    let out = cmd(&sub)
        .args(["scan", ".", "--format", "json", "-q"])
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert!(json["meta"]["commit"].is_null(), "{}", json["meta"]);
    assert_eq!(
        json["meta"]["repository"], "service-repo",
        "{}",
        json["meta"]
    );
}
