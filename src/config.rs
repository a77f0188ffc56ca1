//! Configuration discovery and merging, as ruff does it: the nearest `access-audit.toml`, or
//! `pyproject.toml` with a `[tool.access-audit]` table, walking up from the first scanned path.
//! Command-line flags override the file.
//!
//! ```toml
//! select = ["untokenized-remote", "hardcoded-secret", "insecure-remote"]  # replaces the default set
//! extend-select = ["unresolved-address"]
//! ignore = ["insecure-remote"]
//! strict = false                     # true: also unresolved-address
//! baseline = ".access-audit-baseline.json"
//! rules = "rules"                    # extra rule files, relative to the config file
//! protected-domains = ["comfy.example.dev"]  # the public domains that go behind Cloudflare Access
//! [severity]
//! insecure-remote = "warning"        # error (fails the build) | warning (reported only)
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::Error;
use crate::gate::{Check, GateConfig, Severity};

/// The settings a config file may hold.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FileConfig {
    pub select: Option<Vec<String>>,
    #[serde(default)]
    pub extend_select: Vec<String>,
    #[serde(default)]
    pub ignore: Vec<String>,
    #[serde(default)]
    pub strict: bool,
    pub baseline: Option<PathBuf>,
    pub rules: Option<PathBuf>,
    #[serde(default)]
    pub severity: BTreeMap<String, String>,
    /// The public domains that go (or went) behind Cloudflare Access (`protected_domains` is accepted
    /// too, as written in the README).
    #[serde(default, alias = "protected_domains")]
    pub protected_domains: Vec<String>,
}

/// A config file found on disk, with paths made relative to the current directory.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The file the settings came from (`None`: no config file was found).
    #[cfg_attr(not(test), allow(dead_code))]
    pub file: Option<PathBuf>,
    pub settings: FileConfig,
}

#[derive(Deserialize)]
struct PyProject {
    tool: Option<PyTool>,
}

#[derive(Deserialize)]
struct PyTool {
    #[serde(rename = "access-audit")]
    access_audit: Option<toml::Value>,
}

/// Find the config for `start` (a file or directory), walking up to the filesystem root.
pub fn discover(start: &Path) -> Result<Config, Error> {
    let abs = std::fs::canonicalize(start).unwrap_or_else(|_| start.to_path_buf());
    let mut dir = if abs.is_file() {
        abs.parent().map(Path::to_path_buf)
    } else {
        Some(abs)
    };
    while let Some(d) = dir {
        let own = d.join("access-audit.toml");
        if own.is_file() {
            return load(&own);
        }
        let py = d.join("pyproject.toml");
        if py.is_file() {
            if let Some(c) = load_pyproject(&py)? {
                return Ok(c);
            }
        }
        dir = d.parent().map(Path::to_path_buf);
    }
    Ok(Config::default())
}

/// Load an `access-audit.toml` (or any file of that shape).
pub fn load(path: &Path) -> Result<Config, Error> {
    let text = read(path)?;
    let settings: FileConfig = toml::from_str(&text).map_err(|e| toml_error(path, &text, e))?;
    let spans = toml::from_str::<Spans>(&text).unwrap_or_default();
    finish(path, &text, &spans, settings)
}

/// Where the rule ids and severities are written, to name the key's line in errors.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Spans {
    #[serde(default)]
    select: Vec<toml::Spanned<String>>,
    #[serde(default)]
    extend_select: Vec<toml::Spanned<String>>,
    #[serde(default)]
    ignore: Vec<toml::Spanned<String>>,
    #[serde(default)]
    severity: BTreeMap<toml::Spanned<String>, toml::Spanned<String>>,
}

impl Spans {
    /// The byte offset of `id` in `field` (or of its severity value with `value`).
    fn offset(&self, field: &str, id: &str, value: bool) -> Option<usize> {
        let find = |v: &[toml::Spanned<String>]| {
            v.iter().find(|s| s.get_ref() == id).map(|s| s.span().start)
        };
        match field {
            "select" => find(&self.select),
            "extend-select" => find(&self.extend_select),
            "ignore" => find(&self.ignore),
            _ => self
                .severity
                .iter()
                .find(|(k, _)| k.get_ref() == id)
                .map(|(k, v)| {
                    if value {
                        v.span().start
                    } else {
                        k.span().start
                    }
                }),
        }
    }
}

#[derive(Default, Deserialize)]
struct PySpans {
    tool: Option<PyToolSpans>,
}

#[derive(Default, Deserialize)]
struct PyToolSpans {
    #[serde(rename = "access-audit")]
    access_audit: Option<Spans>,
}

fn load_pyproject(path: &Path) -> Result<Option<Config>, Error> {
    let text = read(path)?;
    let py: PyProject = toml::from_str(&text).map_err(|e| toml_error(path, &text, e))?;
    let Some(value) = py.tool.and_then(|t| t.access_audit) else {
        return Ok(None);
    };
    let settings: FileConfig = value
        .try_into()
        .map_err(|e: toml::de::Error| Error::Config {
            file: format!("{}:{}", path.display(), line_of_table(&text)),
            message: format!("[tool.access-audit]: {}", e.message()),
            source: Some(e.into()),
        })?;
    let spans = toml::from_str::<PySpans>(&text)
        .ok()
        .and_then(|p| p.tool?.access_audit)
        .unwrap_or_default();
    finish(path, &text, &spans, settings).map(Some)
}

fn read(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|e| Error::Config {
        file: path.display().to_string(),
        message: e.to_string(),
        source: Some(e.into()),
    })
}

fn toml_error(path: &Path, text: &str, e: toml::de::Error) -> Error {
    let line = e.span().map_or(1, |s| {
        text[..s.start.min(text.len())].matches('\n').count() + 1
    });
    Error::Config {
        file: format!("{}:{line}", path.display()),
        message: e.message().to_string(),
        source: Some(e.into()),
    }
}

fn line_of_table(text: &str) -> usize {
    text.lines()
        .position(|l| l.trim() == "[tool.access-audit]")
        .map_or(1, |i| i + 1)
}

/// Validate ids and severities and make paths relative to the config file's directory.
fn finish(
    path: &Path,
    text: &str,
    spans: &Spans,
    mut settings: FileConfig,
) -> Result<Config, Error> {
    let base = path.parent().unwrap_or(Path::new("."));
    // `file:line` of the offending key or value when it is known, else the file.
    let at = |offset: Option<usize>| match offset {
        Some(o) => format!(
            "{}:{}",
            path.display(),
            text[..o.min(text.len())].matches('\n').count() + 1
        ),
        None => path.display().to_string(),
    };
    let bad = |field: &str, id: &str, value: bool, message: String| Error::Config {
        file: at(spans.offset(field, id, value)),
        message: format!("`{field}`: {message}"),
        source: None,
    };
    for (field, ids) in [
        ("select", settings.select.clone().unwrap_or_default()),
        ("extend-select", settings.extend_select.clone()),
        ("ignore", settings.ignore.clone()),
    ] {
        if let Some(id) = ids.iter().find(|id| Check::from_id(id).is_none()) {
            return Err(bad(
                field,
                id,
                false,
                format!("unknown rule id `{id}`; `access-audit explain` lists them"),
            ));
        }
    }
    for (id, level) in &settings.severity {
        if Check::from_id(id).is_none() {
            return Err(bad(
                "severity",
                id,
                false,
                format!("unknown rule id `{id}`; `access-audit explain` lists them"),
            ));
        }
        if Severity::parse(level).is_none() {
            return Err(bad(
                "severity",
                id,
                true,
                format!("`{id} = \"{level}\"`: expected \"error\" or \"warning\""),
            ));
        }
    }
    settings.baseline = settings.baseline.map(|b| base.join(b));
    settings.rules = settings.rules.map(|r| base.join(r));
    Ok(Config {
        file: Some(path.to_path_buf()),
        settings,
    })
}

/// The protected domains in force: `--domain` values, then the config file's `protected-domains`,
/// lower-cased, without duplicates, in the order given. Hosts are compared case-insensitively.
pub fn protected_domains(cli: &[String], cfg: &Config) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for d in cli.iter().chain(&cfg.settings.protected_domains) {
        let d = d.trim().trim_end_matches('.').to_ascii_lowercase();
        if !d.is_empty() && !out.contains(&d) {
            out.push(d);
        }
    }
    out
}

/// Command-line overrides of the file's settings.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub select: Option<Vec<String>>,
    pub ignore: Vec<String>,
    pub strict: bool,
    pub severity: Vec<String>,
}

/// The gate configuration: defaults, then the file, then the command line.
pub fn gate_config(cfg: &Config, cli: &Overrides) -> Result<GateConfig, Error> {
    let mut g = GateConfig::default();
    let parse = |id: &str| {
        Check::from_id(id).ok_or_else(|| {
            Error::Usage(format!(
                "unknown rule id `{id}`; run `access-audit explain` for the list"
            ))
        })
    };
    let s = &cfg.settings;
    if let Some(select) = cli.select.as_ref().or(s.select.as_ref()) {
        g.enabled = select
            .iter()
            .map(|id| parse(id))
            .collect::<Result<_, _>>()?;
    }
    for id in &s.extend_select {
        g.enabled.insert(parse(id)?);
    }
    if s.strict || cli.strict {
        g.enabled.insert(Check::UnresolvedAddress);
    }
    for id in s.ignore.iter().chain(&cli.ignore) {
        g.enabled.remove(&parse(id)?);
    }
    for (id, level) in &s.severity {
        g.severity.insert(
            parse(id)?,
            Severity::parse(level).unwrap_or(Severity::Error),
        );
    }
    for pair in &cli.severity {
        let (id, level) = pair.split_once('=').ok_or_else(|| {
            Error::Usage(format!("--severity `{pair}`: expected RULE=error|warning"))
        })?;
        let level = Severity::parse(level).ok_or_else(|| {
            Error::Usage(format!("--severity `{pair}`: expected error or warning"))
        })?;
        g.severity.insert(parse(id)?, level);
    }
    Ok(g)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovers_pyproject_table_upward() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("pyproject.toml"), "[project]\nname = \"x\"\n\n[tool.access-audit]\nignore = [\"insecure-remote\"]\nstrict = true\n").unwrap();
        let sub = dir.path().join("src/pkg");
        std::fs::create_dir_all(&sub).unwrap();
        let cfg = discover(&sub).unwrap();
        assert!(cfg.file.unwrap().ends_with("pyproject.toml"));
        let g = gate_config(&cfg_from(&cfg.settings), &Overrides::default()).unwrap();
        assert!(!g.enabled.contains(&Check::InsecureRemote));
        assert!(g.enabled.contains(&Check::UnresolvedAddress));
    }

    fn cfg_from(s: &FileConfig) -> Config {
        Config {
            file: None,
            settings: s.clone(),
        }
    }

    #[test]
    fn own_file_wins_and_unknown_fields_name_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("access-audit.toml"),
            "select = [\"untokenized-remote\"]\nstrictt = true\n",
        )
        .unwrap();
        let err = discover(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("access-audit.toml:2") && err.contains("strictt"),
            "{err}"
        );
    }

    #[test]
    fn a_parse_error_keeps_the_toml_error_as_its_source() {
        use std::error::Error as _;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("access-audit.toml");
        std::fs::write(&p, "strict = [\n").unwrap();
        let e = load(&p).unwrap_err();
        assert!(e.to_string().contains("access-audit.toml:"), "{e}");
        assert!(e.source().is_some_and(|s| s.is::<toml::de::Error>()));
        let missing = dir.path().join("none.toml");
        let e = load(&missing).unwrap_err();
        assert!(e.source().is_some_and(|s| s.is::<std::io::Error>()));
    }

    #[test]
    fn unknown_rule_ids_and_bad_severities_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("access-audit.toml");
        std::fs::write(&p, "ignore = [\"nope\"]\n").unwrap();
        assert!(load(&p).unwrap_err().to_string().contains("nope"));
        std::fs::write(&p, "[severity]\ninsecure-remote = \"fatal\"\n").unwrap();
        assert!(load(&p).unwrap_err().to_string().contains("fatal"));
    }

    #[test]
    fn errors_name_the_line_of_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("access-audit.toml");
        std::fs::write(
            &p,
            "strict = false\n\nignore = [\n  \"insecure-remote\",\n  \"nope\",\n]\n",
        )
        .unwrap();
        let e = load(&p).unwrap_err().to_string();
        assert!(
            e.contains("access-audit.toml:5") && e.contains("nope"),
            "{e}"
        );
        std::fs::write(
            &p,
            "[severity]\ninsecure-remote = \"warning\"\nhardcoded-secret = \"fatal\"\n",
        )
        .unwrap();
        let e = load(&p).unwrap_err().to_string();
        assert!(
            e.contains("access-audit.toml:3") && e.contains("fatal"),
            "{e}"
        );
        std::fs::write(&p, "[severity]\n\nno-such-rule = \"error\"\n").unwrap();
        let e = load(&p).unwrap_err().to_string();
        assert!(e.contains("access-audit.toml:3"), "{e}");
        let py = dir.path().join("pyproject.toml");
        std::fs::write(
            &py,
            "[project]\nname = \"x\"\n\n[tool.access-audit]\nstrict = true\nselect = [\"bogus\"]\n",
        )
        .unwrap();
        let e = load_pyproject(&py).unwrap_err().to_string();
        assert!(e.contains("pyproject.toml:6") && e.contains("bogus"), "{e}");
    }

    #[test]
    fn protected_domains_merge_cli_and_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("access-audit.toml");
        std::fs::write(
            &p,
            "protected_domains = [\"Comfy.Example.dev.\", \"b.example\"]\n",
        )
        .unwrap();
        let cfg = load(&p).unwrap();
        let got = protected_domains(&["b.example".into(), "a.example".into()], &cfg);
        assert_eq!(got, vec!["b.example", "a.example", "comfy.example.dev"]);
        assert!(protected_domains(&[], &Config::default()).is_empty());
    }

    #[test]
    fn command_line_overrides_the_file() {
        let cfg = Config {
            file: None,
            settings: FileConfig {
                ignore: vec![],
                ..Default::default()
            },
        };
        let g = gate_config(
            &cfg,
            &Overrides {
                select: Some(vec!["hardcoded-secret".into()]),
                severity: vec!["hardcoded-secret=warning".into()],
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(g.enabled.len(), 1);
        assert_eq!(g.severity[&Check::HardcodedSecret], Severity::Warning);
    }
}
