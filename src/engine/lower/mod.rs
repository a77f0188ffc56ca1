//! Language front ends: each turns one decoded source file into [`crate::engine::ir::FileFacts`].
//!
//! - [`python`]: `ruff_python_parser` (Python 3.8–3.14, with error recovery);
//! - [`rust`]: `syn`, plus the token trees of `format!`-like macros;
//! - [`notebook`]: Jupyter notebooks, code cells through the Python front end;
//! - [`shell`]: shell scripts and Dockerfiles (`curl`, `wget`, `websocat`, `docker exec`);
//! - [`config`]: `.env`, docker-compose, Kubernetes / Helm, JSON and TOML configuration;
//! - [`text`]: a regex fallback for files that cannot be parsed or decoded (and JavaScript).

/// The name of the scan's worker threads (64 MiB stacks, per-file `catch_unwind`): a front end
/// running on one needs no deeper stack of its own.
pub const DEEP_STACK_WORKER: &str = "access-audit-worker";

pub mod config;
pub mod notebook;
pub mod python;
pub mod rust;
pub mod shell;
pub mod text;

/// `docker exec [flags] NAME cmd…` / `docker compose exec [flags] SERVICE cmd…` /
/// `docker container exec …` / `podman exec …` / `podman-compose exec …` → (NAME, cmd).
/// Shared by every front end that sees a command line (Python, Rust, shell, notebooks).
pub fn docker_exec(words: &[String]) -> Option<(String, String)> {
    let engine = |w: &str| {
        let base = w.rsplit('/').next().unwrap_or(w);
        matches!(
            base,
            "docker" | "docker-compose" | "podman" | "podman-compose"
        )
    };
    let mut i = words.iter().position(|w| engine(w))?;
    let compose_bin = words[i].ends_with("-compose");
    i += 1;
    if !compose_bin
        && words
            .get(i)
            .is_some_and(|w| w == "compose" || w == "container")
    {
        i += 1;
    }
    // `docker compose -f file.yml exec …`
    while words.get(i).is_some_and(|w| w.starts_with('-')) {
        i += if matches!(words[i].as_str(), "-f" | "--file" | "-p" | "--project-name") {
            2
        } else {
            1
        };
    }
    if words.get(i).map(String::as_str) != Some("exec") {
        return None;
    }
    i += 1;
    while let Some(w) = words.get(i) {
        if !w.starts_with('-') {
            break;
        }
        let takes_value = matches!(
            w.as_str(),
            "-u" | "--user" | "-e" | "--env" | "-w" | "--workdir" | "--env-file" | "--index"
        );
        i += if takes_value { 2 } else { 1 };
    }
    let container = words.get(i)?.clone();
    if container.is_empty() || container.contains('{') {
        return None;
    }
    Some((container, words[i + 1..].join(" ")))
}
