//! The token helpers `init-helper` writes are real source files (`src/cmd/init_helper/`), checked
//! as code: the Python helper with `py_compile` and `ruff check`, the Rust helper compiled into
//! this test crate. The helpers generated for another service (Ollama) are written to a temporary
//! directory and checked too: the Python one the same way, the Rust one with `rustc` against the
//! `ureq` and `serde_json` this crate was built with (offline, no new build).
//!
//! ruff: `ACCESS_AUDIT_RUFF` names the binary (CI installs it, see `.ci/run`); without it the
//! tests run `python3 -m ruff`, or install ruff with pip into a virtualenv under the build
//! directory once, and fail, saying how to install it, when none of that works.

use std::path::{Path, PathBuf};
use std::process::Command;

use access_audit::cmd::init_helper;
use access_audit::remedy::HelperSpec;
use access_audit::rules::RuleSet;

// The default helper, compiled as a module of this crate. Not every function is called here
// (`dead_code`); the helper splits URLs with a closure, as written since the first version.
#[rustfmt::skip]
#[allow(dead_code, clippy::manual_pattern_char_comparison)]
#[path = "../src/cmd/init_helper/comfyui_api_client.rs"]
mod comfyui_api_client;

fn spec(id: &str) -> HelperSpec {
    let rules = RuleSet::embedded().unwrap();
    let svc = rules
        .available
        .iter()
        .find(|s| s.id == id)
        .unwrap_or_else(|| panic!("service {id}"));
    HelperSpec::from_service(svc)
}

fn source_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src/cmd/init_helper")
}

#[test]
fn the_default_service_gets_the_files_as_written() {
    let comfyui = spec("comfyui");
    let py = std::fs::read_to_string(source_dir().join("comfyui_api_client.py")).unwrap();
    let rs = std::fs::read_to_string(source_dir().join("comfyui_api_client.rs")).unwrap();
    assert_eq!(init_helper::python(&comfyui), py);
    assert_eq!(init_helper::rust(&comfyui), rs);
}

/// The helpers of every other service: all the default service's names replaced, except the
/// comment naming `comfyui` as an example of a container name.
#[test]
fn other_services_get_their_own_names() {
    let rules = RuleSet::embedded().unwrap();
    for svc in rules.available.iter().filter(|s| s.id != "comfyui") {
        let spec = HelperSpec::from_service(svc);
        for text in [init_helper::python(&spec), init_helper::rust(&spec)] {
            for (i, line) in text.lines().enumerate() {
                if line.to_ascii_lowercase().contains("comfy") {
                    assert!(
                        line.contains("A single-label name (`comfyui`, `worker`)"),
                        "{}: line {}: {line}",
                        svc.id,
                        i + 1
                    );
                }
            }
            assert!(text.contains(&spec.function), "{}", svc.id);
            assert!(text.contains(&spec.url_env), "{}", svc.id);
            assert!(text.contains(&spec.error_class()) || !text.contains("class "));
        }
    }
}

/// The rlibs of `name` this test crate's build left in `target/<profile>/deps`, newest first.
fn rlibs(deps: &Path, name: &str) -> Vec<PathBuf> {
    let mut found: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(deps)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&format!("lib{name}-")) && n.ends_with(".rlib"))
        })
        .map(|p| (p.metadata().and_then(|m| m.modified()).unwrap(), p))
        .collect();
    found.sort();
    found.into_iter().rev().map(|(_, p)| p).collect()
}

#[test]
fn the_rust_helper_for_another_service_compiles() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ollama_api_client.rs");
    std::fs::write(&file, init_helper::rust(&spec("ollama"))).unwrap();
    let deps = std::env::current_exe()
        .unwrap()
        .parent()
        .expect("the test binary is in target/<profile>/deps")
        .to_path_buf();
    let (ureq, serde_json) = (rlibs(&deps, "ureq"), rlibs(&deps, "serde_json"));
    assert!(
        !ureq.is_empty() && !serde_json.is_empty(),
        "no ureq / serde_json rlib in {}",
        deps.display()
    );
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let mut errors = String::new();
    // More than one build of a crate can be there (other profiles, older builds): one pair that
    // type-checks the module is enough.
    for u in &ureq {
        for j in &serde_json {
            let o = Command::new(&rustc)
                .args([
                    "--edition",
                    "2021",
                    "--crate-type",
                    "lib",
                    "--emit",
                    "metadata",
                ])
                .args([
                    "--crate-name",
                    "ollama_api_client",
                    "-A",
                    "dead_code",
                    "-D",
                    "warnings",
                ])
                .arg("-L")
                .arg(format!("dependency={}", deps.display()))
                .arg("--extern")
                .arg(format!("ureq={}", u.display()))
                .arg("--extern")
                .arg(format!("serde_json={}", j.display()))
                .arg("--out-dir")
                .arg(dir.path())
                .arg(&file)
                .output()
                .expect("rustc runs");
            if o.status.success() {
                return;
            }
            errors.push_str(&String::from_utf8_lossy(&o.stderr));
        }
    }
    panic!("the Rust helper generated for Ollama does not compile:\n{errors}");
}

#[test]
fn the_rust_helper_tells_local_from_remote() {
    for local in [
        "http://localhost:8188",
        "http://127.0.0.1/prompt",
        "http://comfyui-api:8188",
        "http://[::1]:8188",
        "http://192.168.1.5",
        "http://box.lan",
    ] {
        assert!(comfyui_api_client::is_local_url(local), "{local}");
    }
    assert!(!comfyui_api_client::is_local_url(
        "https://comfy.example.dev"
    ));
    assert_eq!(
        comfyui_api_client::comfyui_url("https://x.example/prompt"),
        "https://x.example/prompt"
    );
}

/// The Python helpers, written into a fresh directory: the default one and Ollama's.
fn python_helpers(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![source_dir().join("comfyui_api_client.py")];
    let ollama = dir.join("ollama_api_client.py");
    std::fs::write(&ollama, init_helper::python(&spec("ollama"))).unwrap();
    out.push(ollama);
    out
}

/// Run `command` on each Python helper; each run must succeed.
fn check_python_helpers(what: &str, command: impl Fn(&Path, &Path) -> Command) {
    let dir = tempfile::tempdir().unwrap();
    for file in python_helpers(dir.path()) {
        let o = command(&file, dir.path())
            .output()
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(
            o.status.success(),
            "{what} {}:\n{}{}",
            file.display(),
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

#[test]
fn the_python_helpers_compile() {
    check_python_helpers("python3 -m py_compile", |file, dir| {
        let mut c = Command::new("python3");
        c.env("PYTHONPYCACHEPREFIX", dir.join("pycache"))
            .args(["-m", "py_compile"])
            .arg(file);
        c
    });
}

/// How to run ruff: `ACCESS_AUDIT_RUFF`, else `python3 -m ruff` when that module is installed,
/// else a ruff installed once with pip into a virtualenv under the build directory (so the
/// README's test command works on a fresh machine with the package index reachable).
fn ruff() -> Command {
    if let Some(bin) = std::env::var_os("ACCESS_AUDIT_RUFF").filter(|v| !v.is_empty()) {
        return Command::new(bin);
    }
    let importable = Command::new("python3")
        .args(["-c", "import ruff"])
        .output()
        .is_ok_and(|o| o.status.success());
    if importable {
        let mut c = Command::new("python3");
        c.args(["-m", "ruff"]);
        return c;
    }
    let venv = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("ruff-venv");
    let bin = venv.join("bin").join("ruff");
    if !bin.is_file() {
        let made = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .is_ok_and(|s| s.success())
            && Command::new(venv.join("bin").join("python"))
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "ruff",
                ])
                .status()
                .is_ok_and(|s| s.success());
        assert!(
            made && bin.is_file(),
            "ruff is needed to lint the generated Python helper and could not be installed with \
             pip into {}: `python3 -m pip install ruff` (in a virtualenv), or set \
             ACCESS_AUDIT_RUFF to a ruff binary (`.ci/run` installs one)",
            venv.display()
        );
    }
    Command::new(bin)
}

#[test]
fn the_python_helpers_pass_ruff() {
    check_python_helpers("ruff check", |file, _| {
        let mut c = ruff();
        c.args(["check", "--isolated", "--no-cache"]).arg(file);
        c
    });
}
