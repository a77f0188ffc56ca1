//! `rules list` / `rules validate`: what each service's rules say, and whether a rules directory
//! loads and every example in it behaves as it declares.

use std::fmt::Write as _;

use crate::cli::RulesCommand;
use crate::cmd::common::write_output;
use crate::engine::finding::Language;
use crate::engine::scan;
use crate::error::Error;
use crate::rules::{self, RuleSet};

pub fn run(cmd: RulesCommand) -> Result<i32, Error> {
    match cmd {
        RulesCommand::List { rules } => {
            let set = RuleSet::load(rules.as_deref())?;
            let mut out = String::new();
            for s in &set.available {
                let state = if set.is_enabled(&s.id) {
                    "enabled".to_string()
                } else {
                    format!("off by default: --service {}", s.id)
                };
                let _ = writeln!(out, "{} ({}) [{state}] — {}", s.id, s.name, s.source);
                let _ = writeln!(
                    out,
                    "  ports:    {}",
                    s.ports
                        .iter()
                        .map(|p| p.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                let _ = writeln!(out, "  hosts:    {}", s.hosts.join(", "));
                let _ = writeln!(out, "  domains:  {}", s.domains.join(", "));
                let _ = writeln!(out, "  paths:    {}", s.paths.join(", "));
                let _ = writeln!(out, "  headers:  {}", s.access.headers.join(", "));
                let _ = writeln!(out, "  token env: {}", s.access.token_env.join(", "));
                let _ = writeln!(
                    out,
                    "  helpers:  {}",
                    s.helpers
                        .files
                        .iter()
                        .chain(&s.helpers.modules)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            write_output(None, &out)?;
            Ok(0)
        }
        RulesCommand::Validate { dir } => {
            let has_files = std::fs::read_dir(&dir)
                .map_err(|e| Error::Rules {
                    file: dir.display().to_string(),
                    message: format!("cannot read rules directory: {e}"),
                    source: Some(e.into()),
                })?
                .filter_map(Result::ok)
                .any(|e| e.path().extension().is_some_and(|x| x == "toml"));
            if !has_files {
                return Err(Error::Rules {
                    file: dir.display().to_string(),
                    message: "no `*.toml` rule files in this directory".into(),
                    source: None,
                });
            }
            let mut set = RuleSet::load(Some(&dir))?;
            set.select(&["all".to_string()])?; // examples run with their service enabled
            let mut failures = 0;
            let mut checked = 0;
            for s in set.services.iter().filter(|s| {
                !rules::EMBEDDED.iter().any(|(n, _)| s.source.ends_with(n))
                    || s.source.starts_with(&dir.display().to_string())
            }) {
                for (i, problem) in check_examples(s, &set) {
                    failures += 1;
                    eprintln!("{}: example {}: {problem}", s.source, i + 1);
                }
                checked += 1;
            }
            if failures > 0 {
                return Err(Error::Rules {
                    file: dir.display().to_string(),
                    message: format!("{failures} example(s) do not behave as declared"),
                    source: None,
                });
            }
            write_output(
                None,
                &format!("{checked} rule file(s) valid, every example behaves as declared\n"),
            )?;
            Ok(0)
        }
    }
}

/// Run a service's own examples through the scanner; returns (example index, problem).
pub fn check_examples(svc: &rules::Service, set: &RuleSet) -> Vec<(usize, String)> {
    let mut problems = Vec::new();
    for (i, ex) in svc.examples.iter().enumerate() {
        let language = if ex.language == "rust" {
            Language::Rust
        } else {
            Language::Python
        };
        let path = if language == Language::Rust {
            "example.rs"
        } else {
            "example.py"
        };
        let (findings, _) = scan::analyze(&ex.code, language, path, set, None);
        let mine: Vec<_> = findings.iter().filter(|f| f.service == svc.id).collect();
        if ex.negative {
            if let Some(f) = mine.first() {
                problems.push((
                    i,
                    format!(
                        "negative example produced a finding: {:?} at line {}",
                        f.url, f.line
                    ),
                ));
            }
            continue;
        }
        let want = ex.group.as_deref().unwrap_or("");
        match mine.iter().find(|f| f.group.as_str() == want) {
            None => problems.push((
                i,
                format!(
                    "expected a `{want}` finding, got {:?}",
                    mine.iter().map(|f| f.group.as_str()).collect::<Vec<_>>()
                ),
            )),
            Some(f) => {
                if let Some(t) = ex.tokenized {
                    if f.tokenized != t {
                        problems
                            .push((i, format!("expected tokenized = {t}, got {}", f.tokenized)));
                    }
                }
            }
        }
    }
    problems
}
