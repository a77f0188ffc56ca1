//! `access-audit init-helper`: write the token helper the report recommends.
//!
//! The helpers are real source files written for the default service, ComfyUI
//! (`comfyui_api_client.py`, `comfyui_api_client.rs` beside this module, embedded in the binary).
//! For another service, the names that depend on it are replaced by the ones derived from its rules
//! ([`HelperSpec`]): its name, the credential headers (`access.headers`), the token variable
//! (`access.recommended_env`), the container names that count as local (`address.hosts`), the
//! default file (`helpers.files[0]`) and the function name (`helpers.functions[0]`), so the scanner
//! recognises calls through it out of the box.
//!
//! Python: standard library only (`urllib.request`). Rust: a module using `ureq` 2 and `serde_json`.
//! Both read the base URL and the credential from environment variables only, tell local addresses
//! (loopback, container names, private networks) from remote ones, refuse to send a request to a
//! remote address without a credential (before any network call), use timeouts and never follow a
//! redirect to another host (the Access login page).

use std::path::{Path, PathBuf};

use crate::cli::{HelperLang, InitHelperArgs};
use crate::error::Error;
use crate::remedy::HelperSpec;
use crate::rules::RuleSet;

/// The Python helper as written for the default service (ComfyUI): a real file, checked by the
/// tests with `py_compile` and `ruff`.
pub const PYTHON: &str = include_str!("comfyui_api_client.py");

/// The Rust helper module as written for the default service: a real file, compiled by the tests.
pub const RUST: &str = include_str!("comfyui_api_client.rs");

/// The id of the service the helper files are written for.
pub const DEFAULT_SERVICE: &str = "comfyui";

/// The Python helper (standard library only).
pub fn python(spec: &HelperSpec) -> String {
    for_service(PYTHON, spec)
}

/// The Rust helper module (`ureq` 2 + `serde_json`).
pub fn rust(spec: &HelperSpec) -> String {
    for_service(RUST, spec)
}

/// The names in the helpers that depend on the service, in a fixed order: the same list for the
/// default service and for `spec` pairs each default name with its replacement.
fn service_names(spec: &HelperSpec) -> Vec<String> {
    let quoted: Vec<String> = spec.docker_hosts.iter().map(|h| format!("{h:?}")).collect();
    // A one-element Python tuple needs its trailing comma.
    let comma = if quoted.len() == 1 { "," } else { "" };
    let prefix = &spec.prefix;
    vec![
        spec.error_class(),
        spec.function.clone(),
        format!("{prefix}_base_url"),
        format!("{prefix}_access_headers"),
        format!("{prefix}_url"),
        spec.url_env.clone(),
        spec.required_env.clone(),
        spec.timeout_env.clone(),
        spec.token_env.clone(),
        spec.id_env.clone(),
        spec.secret_env.clone(),
        spec.id_header.clone(),
        spec.secret_header.clone(),
        spec.token_header.clone(),
        spec.default_url.clone(),
        module_path(Path::new(&spec.python_file)),
        format!("frozenset(({}{comma}))", quoted.join(", ")),
        format!("DOCKER_HOSTS: &[&str] = &[{}];", quoted.join(", ")),
        spec.name.clone(),
    ]
}

/// The spec of the service the helper files are written for.
fn default_spec() -> HelperSpec {
    let rules = RuleSet::embedded().expect("the embedded rules parse");
    let svc = rules
        .available
        .iter()
        .find(|s| s.id == DEFAULT_SERVICE)
        .expect("the embedded rules declare the default service");
    HelperSpec::from_service(svc)
}

/// `source` (written for the default service) for the service of `spec`: each default name
/// replaced by the service's, in one pass (the longest name wins where names overlap, and a
/// replacement is never replaced again). For the default service this is `source` itself.
fn for_service(source: &str, spec: &HelperSpec) -> String {
    let (from, to): (Vec<String>, Vec<String>) = service_names(&default_spec())
        .into_iter()
        .zip(service_names(spec))
        .filter(|(from, to)| from != to)
        .unzip();
    if from.is_empty() {
        return source.to_string();
    }
    aho_corasick::AhoCorasick::builder()
        .match_kind(aho_corasick::MatchKind::LeftmostLongest)
        .build(&from)
        .expect("the default names are valid patterns")
        .replace_all(source, &to)
}

/// Generate the helper source for a language from the primary service of `rules`.
pub fn generate(rules: &RuleSet, lang: HelperLang) -> String {
    let spec = HelperSpec::from_service(rules.primary());
    match lang {
        HelperLang::Python => python(&spec),
        HelperLang::Rust => rust(&spec),
    }
}

/// `access-audit init-helper`.
pub fn run(args: &InitHelperArgs) -> Result<i32, Error> {
    let rules = RuleSet::load(args.rules.as_deref())?;
    let spec = HelperSpec::from_service(rules.primary());
    let (text, default) = match args.lang {
        HelperLang::Python => (python(&spec), spec.python_file.clone()),
        HelperLang::Rust => (rust(&spec), spec.rust_file.clone()),
    };
    let out: PathBuf = args.out.clone().unwrap_or_else(|| PathBuf::from(default));
    // A link at the output path would send the helper (and `--force`) to wherever it points.
    let existing = std::fs::symlink_metadata(&out).ok();
    if existing
        .as_ref()
        .is_some_and(|m| m.file_type().is_symlink())
    {
        return Err(Error::Usage(format!(
            "`{}` is a symbolic link; init-helper does not write through links (even with --force). Remove the link, or pass --out with the path of a regular file",
            out.display()
        )));
    }
    if out.is_dir() {
        return Err(Error::Usage(format!(
            "`{}` is a directory: pass the file to write with --out (e.g. --out {}/{})",
            out.display(),
            out.display(),
            Path::new(match args.lang {
                HelperLang::Python => &spec.python_file,
                HelperLang::Rust => &spec.rust_file,
            })
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
        )));
    }
    if existing.is_some() && !args.force {
        return Err(Error::Usage(format!(
            "`{}` already exists; not overwriting it (pass --force to replace it, or --out PATH to write elsewhere)",
            out.display()
        )));
    }
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| Error::output(parent.display(), e))?;
    }
    crate::cmd::fix::write_atomic(&out, text.as_bytes())
        .map_err(|e| Error::output(out.display(), e))?;
    println!("Wrote the {} token helper to {}", spec.name, out.display());
    match args.lang {
        HelperLang::Python => {
            let module = module_path(&out);
            println!(
                "Next: call the API through it — `from {module} import {func}` then `{func}(\"/system_stats\")` —",
                func = spec.function
            );
        }
        HelperLang::Rust => {
            println!(
                "Next: add `mod {stem};` to your crate, `ureq = \"2\"` and `serde_json = \"1\"` to Cargo.toml, call `{stem}::{func}(\"/system_stats\", \"GET\", None)`,",
                stem = out
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                func = spec.function
            );
        }
    }
    println!(
        "and set {url} (default {default}) plus {id} / {secret} (service token) or {token} in the environment.",
        url = spec.url_env,
        default = spec.default_url,
        id = spec.id_env,
        secret = spec.secret_env,
        token = spec.token_env
    );
    if !spec.declared {
        println!(
            "Note: the rules of `{}` declare no helper functions; add `[helpers] functions = [\"{}\"]` to its rule file so the scanner counts calls through it as tokenized.",
            rules.primary().id,
            spec.function
        );
    } else {
        println!("Then run `access-audit check` again: calls through it count as tokenized.");
    }
    Ok(0)
}

/// `utils/comfyui_api_client.py` → `utils.comfyui_api_client` (relative paths only).
fn module_path(out: &Path) -> String {
    let rel = if out.is_absolute() {
        Path::new(out.file_name().unwrap_or_default())
    } else {
        out
    };
    rel.with_extension("")
        .components()
        .filter_map(|c| match c {
            std::path::Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every name of the default service is in the helper files, once per meaning: the pairs of
    /// names are a precise substitution.
    #[test]
    fn the_default_names_are_distinct_and_in_the_files() {
        let names = service_names(&default_spec());
        for (i, name) in names.iter().enumerate() {
            assert!(
                PYTHON.contains(name.as_str()) || RUST.contains(name.as_str()),
                "{name} is not in the helper files"
            );
            assert!(!names[..i].contains(name), "{name} twice");
        }
    }

    #[test]
    fn one_container_name_keeps_a_tuple() {
        let mut spec = default_spec();
        spec.docker_hosts = vec!["svc".to_string()];
        let py = python(&spec);
        assert!(py.contains("DOCKER_HOSTS = frozenset((\"svc\",))"), "{py}");
        spec.docker_hosts.clear();
        assert!(python(&spec).contains("DOCKER_HOSTS = frozenset(())"));
        assert!(rust(&spec).contains("DOCKER_HOSTS: &[&str] = &[];"));
    }
}
