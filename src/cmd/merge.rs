//! `access-audit merge REPORT.json...`: combine the JSON reports of several repositories (each
//! scanned by its own CI job, see `examples/org-scan.yml`) into one Markdown report — with a
//! per-repository summary table at the top — and, with `--sarif FILE`, one SARIF log. Every path is
//! prefixed with its repository's name (`repo/path`), so the merged outputs name each file
//! unambiguously.

use std::collections::BTreeSet;
use std::path::Path;

use serde::Serialize;

use crate::cli::MergeArgs;
use crate::engine::finding::{Meta, Report};
use crate::error::Error;
use crate::gate::{self, GateConfig};
use crate::report::{self, RenderOptions};
use crate::rules::RuleSet;

/// One input report and the name its paths are prefixed with.
#[derive(Debug, Clone)]
pub struct Part {
    pub name: String,
    pub report: Report,
}

pub fn run(args: &MergeArgs) -> Result<i32, Error> {
    let mut parts = Vec::new();
    for path in &args.reports {
        let report = read(path)?;
        parts.push((path.as_path(), report));
    }
    let parts = name_parts(parts);
    let merged = combine(&parts);
    let rules = RuleSet::embedded()?;
    let markdown = render_markdown(&parts, &merged, &rules);
    write(args.output.as_deref(), &markdown)?;
    if let Some(sarif) = &args.sarif {
        let result = gate::evaluate(&merged, &GateConfig::default(), None);
        let text = report::sarif::render(&result, env!("CARGO_PKG_VERSION"));
        write(Some(sarif), &text)?;
    }
    Ok(0)
}

/// Read one JSON report; an unreadable file or invalid JSON is a usage error naming the file (and
/// the line and column for JSON errors).
pub fn read(path: &Path) -> Result<Report, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::UnreadablePath {
        path: path.display().to_string(),
        message: e.to_string(),
        source: Some(e.into()),
    })?;
    let report = serde_json::from_str::<Report>(&text).map_err(|e| {
        Error::Usage(format!(
            "{}:{}:{}: not an access-audit JSON report (`access-audit scan --format json`): {e}",
            path.display(),
            e.line(),
            e.column()
        ))
    })?;
    validate(report).map_err(|why| {
        Error::Usage(format!(
            "{}: refused: {why} (reports are merged as written by `access-audit scan --format json`)",
            path.display()
        ))
    })
}

/// A report from elsewhere is not trusted: every path must be relative, inside its repository and
/// free of control characters, the repository a plain name; credentials in addresses and commands
/// are masked again (reports of older versions may hold them).
fn validate(mut report: Report) -> Result<Report, String> {
    fn check_path(field: &str, p: &str) -> Result<(), String> {
        let bad = if p.is_empty() {
            Some("is empty")
        } else if p.starts_with('/') || p.starts_with('\\') || p.get(1..3) == Some(":\\") {
            Some("is absolute")
        } else if p.split(['/', '\\']).any(|c| c == "..") {
            Some("leaves its repository (`..`)")
        } else if p.chars().any(|c| c.is_control()) {
            Some("holds control characters")
        } else {
            None
        };
        match bad {
            Some(why) => Err(format!(
                "`{field}` {why}: `{}`",
                crate::report::escape_control(p)
            )),
            None => Ok(()),
        }
    }
    for f in &report.findings {
        check_path("path", &f.path)?;
        for at in [&f.defined_at, &f.env_source].into_iter().flatten() {
            check_path("defined_at / env_source", at)?;
        }
    }
    for d in &report.diagnostics {
        check_path("path", &d.path)?;
    }
    for s in &report.secrets {
        check_path("path", &s.path)?;
    }
    if let Some(r) = &report.meta.repository {
        if r.len() > 200 || r.chars().any(|c| c.is_control() || "`|<>[]\\".contains(c)) {
            return Err(format!(
                "`repository` is not a plain name: `{}`",
                crate::report::escape_control(r)
            ));
        }
    }
    if let Some(c) = &report.meta.commit {
        if !c.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err("`commit` is not a hexadecimal commit id".into());
        }
    }
    report.findings = std::mem::take(&mut report.findings)
        .into_iter()
        .map(crate::engine::finding::Finding::masked)
        .collect();
    for s in &mut report.secrets {
        s.redacted = crate::engine::secrets::redact(&s.redacted);
    }
    Ok(report)
}

/// Name each report: its `meta.repository`, else the directory holding the file (an artifact
/// directory in CI), else the file name. A name already taken gets `-2`, `-3`, ….
pub fn name_parts(reports: Vec<(&Path, Report)>) -> Vec<Part> {
    let mut taken: BTreeSet<String> = BTreeSet::new();
    let mut parts = Vec::new();
    for (path, report) in reports {
        let base = report
            .meta
            .repository
            .clone()
            .filter(|r| !r.trim().is_empty())
            .or_else(|| {
                std::fs::canonicalize(path)
                    .ok()
                    .and_then(|p| p.parent().and_then(|d| d.file_name()).map(os_name))
            })
            .or_else(|| path.file_stem().map(os_name))
            .unwrap_or_else(|| "report".to_string())
            .replace(['/', '\\'], "-");
        let mut name = base.clone();
        let mut n = 2;
        while !taken.insert(name.clone()) {
            name = format!("{base}-{n}");
            n += 1;
        }
        if name != base {
            eprintln!(
                "access-audit: {}: repository `{base}` appears twice; its paths are prefixed `{name}/`",
                path.display()
            );
        }
        parts.push(Part { name, report });
    }
    parts
}

fn os_name(s: &std::ffi::OsStr) -> String {
    s.to_string_lossy().into_owned()
}

/// `path` → `repo/path`; also for `path:line` references.
fn prefixed(repo: &str, path: &str) -> String {
    format!("{repo}/{}", path.trim_start_matches("./"))
}

/// One report of every part, with each path prefixed by its repository's name.
pub fn combine(parts: &[Part]) -> Report {
    let mut findings = Vec::new();
    let mut diagnostics = Vec::new();
    let mut secrets = Vec::new();
    let mut files = 0;
    for p in parts {
        let r = &p.report;
        files += r.summary.files_scanned;
        findings.extend(r.findings.iter().cloned().map(|mut f| {
            f.path = prefixed(&p.name, &f.path);
            f.defined_at = f.defined_at.map(|d| prefixed(&p.name, &d));
            f.env_source = f.env_source.map(|d| prefixed(&p.name, &d));
            f
        }));
        diagnostics.extend(r.diagnostics.iter().cloned().map(|mut d| {
            d.path = prefixed(&p.name, &d.path);
            d
        }));
        secrets.extend(r.secrets.iter().cloned().map(|mut s| {
            s.path = prefixed(&p.name, &s.path);
            s
        }));
    }
    let mut merged = Report::new(findings, diagnostics, files);
    secrets.sort();
    merged.secrets = secrets;
    let digests: BTreeSet<&str> = parts
        .iter()
        .map(|p| p.report.meta.rules_digest.as_str())
        .collect();
    merged.meta = Meta {
        rules_digest: match digests.len() {
            1 => digests.into_iter().next().unwrap_or_default().to_string(),
            _ => String::new(),
        },
        repository: None,
        commit: None,
        ..Meta::default()
    };
    merged
}

/// The merged Markdown: the usual report over all repositories, with the per-repository table
/// (and where the reports come from) inserted after the title lines, before the diagram.
pub fn render_markdown(parts: &[Part], merged: &Report, rules: &RuleSet) -> String {
    let opts = RenderOptions {
        target: format!(
            "{} {}",
            parts.len(),
            if parts.len() == 1 {
                "repository"
            } else {
                "repositories"
            }
        ),
        ..Default::default()
    };
    let body = report::markdown::render(merged, rules, &opts);
    let table = repository_table(parts);
    let at = body
        .find("```mermaid\n")
        .or_else(|| body.find("## Summary\n"))
        .unwrap_or(body.len());
    let mut out = String::with_capacity(body.len() + table.len());
    out.push_str(&body[..at]);
    if !out.is_empty() && !out.ends_with("\n\n") {
        out.push_str(if out.ends_with('\n') { "\n" } else { "\n\n" });
    }
    out.push_str(&table);
    out.push_str(&body[at..]);
    out
}

/// `## Repositories`: one row per report, then which tool versions and rules produced them
/// (`templates/repositories.md.j2`).
pub fn repository_table(parts: &[Part]) -> String {
    use crate::report::escape::code_cell;
    #[derive(Serialize)]
    struct Row {
        name: String,
        commit: Option<String>,
        files: usize,
        findings: usize,
        untokenized: usize,
        unresolved: usize,
    }
    #[derive(Serialize)]
    struct View {
        rows: Vec<Row>,
        versions: Vec<String>,
        /// The one rules digest (code-formatted), when every report has the same non-empty one.
        digest: Option<String>,
        /// The digests ("none" for a report without one) when the reports differ.
        different_digests: Option<String>,
    }
    let rows = parts
        .iter()
        .map(|p| {
            let s = &p.report.summary;
            Row {
                name: code_cell(&p.name),
                commit: p
                    .report
                    .meta
                    .commit
                    .as_ref()
                    .map(|c| code_cell(&c.chars().take(12).collect::<String>())),
                files: s.files_scanned,
                findings: s.findings,
                untokenized: s.remote_untokenized,
                unresolved: s.unresolved,
            }
        })
        .collect();
    let versions: BTreeSet<String> = parts
        .iter()
        .map(|p| format!("{} {}", p.report.meta.tool, p.report.meta.version))
        .collect();
    let digests: BTreeSet<&str> = parts
        .iter()
        .map(|p| p.report.meta.rules_digest.as_str())
        .collect();
    let (digest, different_digests) = match digests.iter().collect::<Vec<_>>().as_slice() {
        [d] if !d.is_empty() => (Some(code_cell(d)), None),
        [_] => (None, None),
        many => {
            let shown: Vec<String> = many
                .iter()
                .map(|d| {
                    if d.is_empty() {
                        "none".to_string()
                    } else {
                        code_cell(d)
                    }
                })
                .collect();
            (None, Some(shown.join(", ")))
        }
    };
    crate::report::template::render(
        "repositories.md.j2",
        &View {
            rows,
            versions: versions.iter().map(|v| code_cell(v)).collect(),
            digest,
            different_digests,
        },
    )
}

/// Stdout or a file; a closed or full stdout is an error (exit 2), as for every command.
fn write(path: Option<&Path>, text: &str) -> Result<(), Error> {
    crate::cmd::common::write_output(path, text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::finding::{Diagnostic, Meta};

    fn report(repo: Option<&str>, commit: Option<&str>) -> Report {
        Report::new(
            vec![],
            vec![Diagnostic {
                path: "a.py".into(),
                message: "m".into(),
            }],
            4,
        )
        .with_meta(Meta {
            repository: repo.map(str::to_string),
            commit: commit.map(str::to_string),
            rules_digest: "00ff".into(),
            ..Meta::default()
        })
    }

    #[test]
    fn names_are_unique_and_paths_prefixed() {
        let parts = name_parts(vec![
            (Path::new("x/report.json"), report(Some("api"), None)),
            (Path::new("y/report.json"), report(Some("api"), None)),
        ]);
        assert_eq!(parts[0].name, "api");
        assert_eq!(parts[1].name, "api-2");
        let merged = combine(&parts);
        assert_eq!(merged.summary.files_scanned, 8);
        let paths: Vec<&str> = merged.diagnostics.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(paths, ["api-2/a.py", "api/a.py"]);
        assert_eq!(merged.meta.rules_digest, "00ff");
    }

    #[test]
    fn the_table_shows_short_commits_and_the_digest() {
        let parts = name_parts(vec![(
            Path::new("r.json"),
            report(Some("web"), Some("0123456789abcdef0123")),
        )]);
        let t = repository_table(&parts);
        assert!(
            t.contains("| `web` | `0123456789ab` | 4 | 0 | 0 | 0 |"),
            "{t}"
        );
        assert!(t.contains("rules digest `00ff`"), "{t}");
    }
}
