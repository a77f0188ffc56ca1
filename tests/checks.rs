//! Each gate check, end to end and in the README: `fixtures/checks/<id>/` makes the check fire with
//! its default severity, `fixtures/checks/<id>-ok/` does not; `check` exits as each directory's
//! `EXPECTED.check` says; with every check selected, the violations (path, line, rule, state) are
//! exactly the directory's hand-written `EXPECTED.jsonl`; and the README's table of checks is the
//! one rendered from the checks' own declarations.

use std::path::{Path, PathBuf};

use access_audit::gate::Check;
use assert_cmd::Command;
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/checks")
        .join(name)
}

/// `check DIR --format json` with extra args: (exit code, the violations of `rule`).
fn check(dir: &Path, args: &[&str], rule: &str) -> (i32, Vec<Value>) {
    let out = Command::cargo_bin("access-audit")
        .unwrap()
        .args(["check", "--format", "json", "-q"])
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{}: output is not JSON ({e})", dir.display()));
    let violations = v["violations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["rule"] == rule)
        .cloned()
        .collect();
    (out.status.code().unwrap_or(-1), violations)
}

fn expected_exit(dir: &Path) -> i32 {
    std::fs::read_to_string(dir.join("EXPECTED.check"))
        .unwrap_or_else(|e| panic!("{}/EXPECTED.check: {e}", dir.display()))
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn each_check_fires_on_its_fixture_and_not_on_the_corrected_one() {
    for c in Check::ALL {
        let id = c.id();
        // The default selection, plus this check when it is off by default.
        let mut select: Vec<&str> = Check::ALL
            .into_iter()
            .filter(|c| c.enabled_by_default())
            .map(Check::id)
            .collect();
        if !c.enabled_by_default() {
            select.push(id);
        }
        let select = ["--select", &select.join(",")];

        let fires = fixture(id);
        let (code, by_default) = check(&fires, &[], id);
        assert_eq!(code, expected_exit(&fires), "{}", fires.display());
        assert_eq!(
            by_default.is_empty(),
            !c.enabled_by_default(),
            "{id} by default: {by_default:?}"
        );
        let (_, found) = check(&fires, &select, id);
        assert!(
            !found.is_empty(),
            "{id} does not fire on {}",
            fires.display()
        );
        for v in &found {
            assert_eq!(v["severity"], c.default_severity().as_str(), "{v}");
            assert_eq!(v["state"], "active", "{v}");
        }

        let ok = fixture(&format!("{id}-ok"));
        let (code, _) = check(&ok, &[], id);
        assert_eq!(code, expected_exit(&ok), "{}", ok.display());
        let (_, found) = check(&ok, &select, id);
        assert!(
            found.is_empty(),
            "{id} fires on {}: {found:?}",
            ok.display()
        );
    }
}

#[test]
fn each_fixture_reports_exactly_its_expected_violations() {
    let every: Vec<&str> = Check::ALL.into_iter().map(Check::id).collect();
    let select = ["--select", &every.join(",")];
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(fixture(""))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty());
    for dir in dirs {
        let out = Command::cargo_bin("access-audit")
            .unwrap()
            .args(["check", "--format", "json", "-q"])
            .arg(&dir)
            .args(select)
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut got: Vec<Value> = v["violations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| {
                serde_json::json!({
                    "path": x["path"], "line": x["line"], "rule": x["rule"], "state": x["state"],
                })
            })
            .collect();
        got.sort_by_key(|x| x.to_string());
        let text = std::fs::read_to_string(dir.join("EXPECTED.jsonl"))
            .unwrap_or_else(|e| panic!("{}/EXPECTED.jsonl: {e}", dir.display()));
        let mut want: Vec<Value> = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        want.sort_by_key(|x| x.to_string());
        assert_eq!(got, want, "{}", dir.display());
    }
}

#[test]
fn every_fixture_directory_belongs_to_a_check() {
    for entry in std::fs::read_dir(fixture("")).unwrap() {
        let path = entry.unwrap().path();
        if !path.is_dir() {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let id = name.strip_suffix("-ok").unwrap_or(&name);
        assert!(
            Check::from_id(id).is_some(),
            "fixtures/checks/{name} names no check"
        );
    }
}

const START: &str = "<!-- checks:start -->\n";
const END: &str = "<!-- checks:end -->\n";

/// The table of checks, as the README shows it.
fn table() -> String {
    let mut out = String::from("| id | default | summary |\n|---|---|---|\n");
    for c in Check::ALL {
        let default = if c.enabled_by_default() {
            format!("on ({})", c.default_severity())
        } else {
            "off".to_string()
        };
        out.push_str(&format!("| `{}` | {default} | {} |\n", c.id(), c.summary()));
    }
    out
}

#[test]
fn readme_lists_every_check() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let expected = format!("{START}{}{END}", table());
    assert!(
        readme.contains(&expected),
        "README.md's table of checks is out of date; put this in its place (under \"## CI gate\"):\n\n{expected}"
    );
}
