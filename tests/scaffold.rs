//! `access-audit init-helper`: the generated helpers are checked for real. The Python helper is
//! run with the machine's `python3` against a fake Cloudflare Access front on 127.0.0.1 (a
//! `tiny_http` server that redirects to the Access login without the service token and answers
//! JSON with it); the Rust helper is parsed with `syn`.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use assert_cmd::Command;

mod common;

use common::text;

const CLIENT_ID: &str = "0123456789abcdef0123456789abcdef.access";
const CLIENT_SECRET: &str = "test-secret-not-real";

/// Environment variables the helper reads (or that would route it through a proxy): removed from
/// every child so the machine's environment cannot leak in.
const SCRUB: &[&str] = &[
    "CF_ACCESS_CLIENT_ID",
    "CF_ACCESS_CLIENT_SECRET",
    "COMFYUI_ACCESS_TOKEN",
    "COMFYUI_ACCESS_REQUIRED",
    "COMFYUI_URL",
    "COMFYUI_TIMEOUT",
    "http_proxy",
    "HTTP_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
];

fn bin() -> Command {
    let mut c = Command::cargo_bin("access-audit").expect("binary builds");
    for v in SCRUB {
        c.env_remove(v);
    }
    c
}

fn have_python() -> bool {
    std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Write the Python helper into `dir` with `init-helper`; returns its path.
fn python_helper(dir: &Path) -> PathBuf {
    let out = dir.join("comfyui_api_client.py");
    let o = bin()
        .args(["init-helper", "--lang", "python", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

/// Run a Python snippet with the helper's directory on `sys.path`.
fn run_python(dir: &Path, code: &str, env: &[(&str, &str)]) -> Output {
    let mut c = std::process::Command::new("python3");
    for v in SCRUB {
        c.env_remove(v);
    }
    c.env("PYTHONDONTWRITEBYTECODE", "1").arg("-c").arg(format!(
        "import sys; sys.path.insert(0, {:?}); import comfyui_api_client as c\n{code}",
        dir.display().to_string()
    ));
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

/// What the fake saw of one request.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A fake Cloudflare Access front in front of a fake ComfyUI, on 127.0.0.1 (port 0).
struct FakeAccess {
    server: Arc<tiny_http::Server>,
    seen: Arc<Mutex<Vec<Seen>>>,
    thread: Option<JoinHandle<()>>,
    port: u16,
}

impl FakeAccess {
    fn start() -> FakeAccess {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind loopback"));
        let port = server.server_addr().to_ip().expect("ip listener").port();
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let (s, log) = (server.clone(), seen.clone());
        let thread = std::thread::spawn(move || {
            for mut req in s.incoming_requests() {
                let mut body = String::new();
                let _ = req.as_reader().read_to_string(&mut body);
                let entry = Seen {
                    method: req.method().to_string(),
                    url: req.url().to_string(),
                    headers: req
                        .headers()
                        .iter()
                        .map(|h| {
                            (
                                h.field.as_str().as_str().to_string(),
                                h.value.as_str().to_string(),
                            )
                        })
                        .collect(),
                    body,
                };
                let ok = (entry.header("CF-Access-Client-Id") == Some(CLIENT_ID)
                    && entry.header("CF-Access-Client-Secret") == Some(CLIENT_SECRET))
                    || entry.header("cf-access-token") == Some("a.jwt.token");
                let response = if ok {
                    let json = if entry.url == "/system_stats" {
                        r#"{"system": {"os": "posix", "comfyui_version": "0.3.0"}, "devices": []}"#
                            .to_string()
                    } else {
                        format!(
                            r#"{{"method": "{}", "path": "{}", "received": {}}}"#,
                            entry.method,
                            entry.url,
                            if entry.body.is_empty() {
                                "null"
                            } else {
                                &entry.body
                            }
                        )
                    };
                    tiny_http::Response::from_string(json).with_header(
                        tiny_http::Header::from_bytes("Content-Type", "application/json").unwrap(),
                    )
                } else {
                    tiny_http::Response::from_string("")
                        .with_status_code(302)
                        .with_header(
                            tiny_http::Header::from_bytes(
                                "Location",
                                "https://team.cloudflareaccess.com/cdn-cgi/access/login/comfyui.datacrew.space?kid=abc",
                            )
                            .unwrap(),
                        )
                };
                log.lock().unwrap().push(entry);
                let _ = req.respond(response);
            }
        });
        FakeAccess {
            server,
            seen,
            thread: Some(thread),
            port,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for FakeAccess {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Python helper, exercised for real

#[test]
fn python_helper_sends_the_service_token_and_returns_json() {
    if !have_python() {
        eprintln!("skipped: no python3");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    python_helper(dir.path());
    let fake = FakeAccess::start();
    let url = fake.url();
    let out = run_python(
        dir.path(),
        "print(c.comfyui_request('/system_stats'))",
        &[
            ("COMFYUI_URL", &url),
            ("CF_ACCESS_CLIENT_ID", CLIENT_ID),
            ("CF_ACCESS_CLIENT_SECRET", CLIENT_SECRET),
        ],
    );
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("'os': 'posix'"), "{stdout}");
    assert!(stdout.contains("'comfyui_version': '0.3.0'"), "{stdout}");
    let seen = fake.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].url, "/system_stats");
    assert_eq!(seen[0].header("CF-Access-Client-Id"), Some(CLIENT_ID));
    assert_eq!(
        seen[0].header("CF-Access-Client-Secret"),
        Some(CLIENT_SECRET)
    );
}

#[test]
fn python_helper_posts_json_and_accepts_an_access_token() {
    if !have_python() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    python_helper(dir.path());
    let fake = FakeAccess::start();
    let url = fake.url();
    let out = run_python(
        dir.path(),
        "r = c.comfyui_request('/prompt', method='POST', data={'prompt': {'1': {}}}, timeout=5)\nprint(r['method'], r['path'], r['received'])",
        &[("COMFYUI_URL", &url), ("COMFYUI_ACCESS_TOKEN", "a.jwt.token")],
    );
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout).trim(),
        "POST /prompt {'prompt': {'1': {}}}"
    );
    let seen = fake.seen();
    assert_eq!(seen[0].header("cf-access-token"), Some("a.jwt.token"));
    assert_eq!(seen[0].header("Content-Type"), Some("application/json"));
    assert_eq!(seen[0].header("CF-Access-Client-Id"), None);
}

#[test]
fn python_helper_does_not_follow_the_access_login_redirect() {
    if !have_python() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    python_helper(dir.path());
    let fake = FakeAccess::start();
    let url = fake.url();
    // Local address, no credential: sent without one; the fake redirects to the Access login.
    let out = run_python(
        dir.path(),
        "c.comfyui_request('/system_stats')",
        &[("COMFYUI_URL", &url)],
    );
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("ComfyUIAccessError"), "{stderr}");
    assert!(stderr.contains("redirected (302)"), "{stderr}");
    assert!(stderr.contains("team.cloudflareaccess.com"), "{stderr}");
    assert!(
        stderr.contains("credential is missing or was rejected"),
        "{stderr}"
    );
    assert_eq!(fake.seen().len(), 1, "one request, no redirect followed");
    assert_eq!(fake.seen()[0].header("CF-Access-Client-Id"), None);
}

#[test]
fn python_helper_fails_fast_for_a_remote_url_without_credentials() {
    if !have_python() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    python_helper(dir.path());
    // `.invalid` never resolves: an error that is not about the credential would be a URLError.
    let out = run_python(
        dir.path(),
        "c.comfyui_request('/system_stats')",
        &[("COMFYUI_URL", "https://comfyui.example.invalid")],
    );
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("ComfyUIAccessError"), "{stderr}");
    assert!(
        stderr.contains("https://comfyui.example.invalid/system_stats is behind Cloudflare Access but no credential is set"),
        "{stderr}"
    );
    assert!(
        stderr.contains("CF_ACCESS_CLIENT_ID") && stderr.contains("COMFYUI_ACCESS_TOKEN"),
        "{stderr}"
    );
    assert!(!stderr.contains("URLError"), "{stderr}");

    // An absolute URL passed in is judged the same way; half a service token is called out.
    let out = run_python(
        dir.path(),
        "c.comfyui_request('https://comfyui.datacrew.space/queue')",
        &[("CF_ACCESS_CLIENT_ID", CLIENT_ID)],
    );
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("only one of CF_ACCESS_CLIENT_ID / CF_ACCESS_CLIENT_SECRET is set"),
        "{stderr}"
    );
}

#[test]
fn python_helper_local_detection_and_forced_credentials() {
    if !have_python() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    python_helper(dir.path());
    let out = run_python(
        dir.path(),
        "for u in ['http://localhost:8188', 'http://127.0.0.1:8188/x', 'http://comfyui:8188', 'http://[::1]:8188', \
         'http://192.168.1.20:8188', 'http://100.100.1.2:8188', 'http://box.tail1234.ts.net', 'http://nas.lan', \
         'https://comfyui.datacrew.space', 'https://8.8.8.8', 'wss://comfyui.example.space/ws']:\n    print(u, c.is_local_url(u))\n\
         print('default', c.comfyui_base_url())",
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    for local in [
        "http://localhost:8188",
        "http://127.0.0.1:8188/x",
        "http://comfyui:8188",
        "http://[::1]:8188",
        "http://192.168.1.20:8188",
        "http://100.100.1.2:8188",
        "http://box.tail1234.ts.net",
        "http://nas.lan",
    ] {
        assert!(
            stdout.contains(&format!("{local} True")),
            "{local}: {stdout}"
        );
    }
    for remote in [
        "https://comfyui.datacrew.space",
        "https://8.8.8.8",
        "wss://comfyui.example.space/ws",
    ] {
        assert!(
            stdout.contains(&format!("{remote} False")),
            "{remote}: {stdout}"
        );
    }
    assert!(stdout.contains("default http://localhost:8188"), "{stdout}");

    // COMFYUI_ACCESS_REQUIRED=1 requires a credential even for a local address (no request sent).
    let out = run_python(
        dir.path(),
        "c.comfyui_request('/system_stats')",
        &[
            ("COMFYUI_URL", "http://127.0.0.1:9"),
            ("COMFYUI_ACCESS_REQUIRED", "1"),
        ],
    );
    let stderr = text(&out.stderr);
    assert!(stderr.contains("no credential is set"), "{stderr}");
}

#[test]
fn python_helper_compiles_and_uses_the_standard_library_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = python_helper(dir.path());
    let src = std::fs::read_to_string(&path).unwrap();
    for needle in [
        "def comfyui_request(path: str, method: str = \"GET\", data=None",
        "\"CF-Access-Client-Id\"",
        "\"CF-Access-Client-Secret\"",
        "\"cf-access-token\"",
        "os.environ.get(\"COMFYUI_URL\", DEFAULT_URL)",
        "DEFAULT_URL = \"http://localhost:8188\"",
        "COMFYUI_ACCESS_REQUIRED",
        "import urllib.request",
    ] {
        assert!(src.contains(needle), "missing {needle}");
    }
    for forbidden in ["import requests", "import httpx", CLIENT_ID] {
        assert!(!src.contains(forbidden), "{forbidden}");
    }
    // The container names come from the rules.
    assert!(
        src.contains("\"comfyui-api\""),
        "docker hosts from the rules"
    );
    if have_python() {
        let o = std::process::Command::new("python3")
            .env("PYTHONPYCACHEPREFIX", dir.path().join("pycache"))
            .args(["-m", "py_compile"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o.stderr));
    }
}

// ---------------------------------------------------------------------------------------------
// The scanner recognises the helper out of the box

#[test]
fn calls_through_the_generated_helper_scan_as_tokenized() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let o = bin()
        .current_dir(root)
        .args(["init-helper", "--lang", "python"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let stdout = text(&o.stdout);
    assert!(
        stdout.contains("utils/comfyui_api_client.py"),
        "default path from the rules: {stdout}"
    );
    assert!(
        stdout.contains("from utils.comfyui_api_client import comfyui_request"),
        "next step: {stdout}"
    );
    assert!(root.join("utils/comfyui_api_client.py").is_file());
    std::fs::create_dir_all(root.join("scripts")).unwrap();
    std::fs::write(
        root.join("scripts/queue.py"),
        "from utils.comfyui_api_client import comfyui_request\n\n\ndef main():\n    return comfyui_request(\"https://comfyui.datacrew.space/prompt\", method=\"POST\", data={})\n",
    )
    .unwrap();
    let o = bin()
        .current_dir(root)
        .args(["scan", ".", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let findings = v["findings"].as_array().unwrap();
    let call = findings
        .iter()
        .find(|f| f["path"] == "scripts/queue.py")
        .expect("the call is found");
    assert_eq!(call["group"], "remote");
    assert_eq!(call["tokenized"], true, "{call}");
    assert_eq!(call["client"], "comfyui_request");
    // The helper itself is clean: only its local default.
    for f in findings
        .iter()
        .filter(|f| f["path"] == "utils/comfyui_api_client.py")
    {
        assert_eq!(f["group"], "local", "{f}");
    }
    bin()
        .current_dir(root)
        .args(["check", "."])
        .assert()
        .code(0);
}

// ---------------------------------------------------------------------------------------------
// Overwriting, Rust helper

#[test]
fn refuses_to_overwrite_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("helper.py");
    std::fs::write(&out, "# mine\n").unwrap();
    let o = bin()
        .args(["init-helper", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let stderr = text(&o.stderr);
    assert!(stderr.contains("already exists"), "{stderr}");
    assert!(stderr.contains("--force"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "# mine\n");
    bin()
        .args(["init-helper", "--force", "--out"])
        .arg(&out)
        .assert()
        .code(0);
    assert!(std::fs::read_to_string(&out)
        .unwrap()
        .contains("def comfyui_request("));
}

#[test]
fn rust_helper_is_valid_rust_with_the_headers() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("src/comfyui_api_client.rs");
    let o = bin()
        .args(["init-helper", "--lang", "rust", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("mod comfyui_api_client;"));
    let src = std::fs::read_to_string(&out).unwrap();
    let file = syn::parse_file(&src).expect("the Rust helper parses");
    let fns: Vec<String> = file
        .items
        .iter()
        .filter_map(|i| match i {
            syn::Item::Fn(f) => Some(f.sig.ident.to_string()),
            _ => None,
        })
        .collect();
    for f in [
        "comfyui_request",
        "comfyui_access_headers",
        "is_local_url",
        "comfyui_base_url",
    ] {
        assert!(fns.iter().any(|x| x == f), "{f} in {fns:?}");
    }
    for needle in [
        "\"CF-Access-Client-Id\"",
        "\"CF-Access-Client-Secret\"",
        "\"cf-access-token\"",
        "env(\"CF_ACCESS_CLIENT_ID\")",
        "env(\"COMFYUI_URL\")",
        "ureq::AgentBuilder::new()",
        ".redirects(0)",
        ".timeout(",
    ] {
        assert!(src.contains(needle), "missing {needle}");
    }
}

// ---------------------------------------------------------------------------------------------
// Symbolic links at the output path

/// A link at `--out` is refused, with or without `--force`: the file it points to (outside the
/// directory) keeps its content, and a dangling link does not create its target.
#[cfg(unix)]
#[test]
fn refuses_to_write_through_a_symlink() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    let victim = outside.join("victim.py");
    std::fs::write(&victim, "# not yours\n").unwrap();
    let link = repo.join("comfyui_api_client.py");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    for force in [false, true] {
        let mut c = bin();
        c.arg("init-helper");
        if force {
            c.arg("--force");
        }
        let o = c.arg("--out").arg(&link).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "force={force}");
        let stderr = text(&o.stderr);
        assert!(stderr.contains("symbolic link"), "{stderr}");
        assert!(stderr.contains("--out"), "a hint: {stderr}");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "# not yours\n");
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
    }
    // A dangling link: `exists()` is false for it, yet writing would create its target.
    let target = outside.join("created.py");
    let dangling = repo.join("dangling.py");
    std::os::unix::fs::symlink(&target, &dangling).unwrap();
    let o = bin()
        .args(["init-helper", "--force", "--out"])
        .arg(&dangling)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(!target.exists(), "wrote through a dangling link");
    // Nothing else was left in either directory (no temporary files).
    let names = |d: &Path| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(names(&repo), vec!["comfyui_api_client.py", "dangling.py"]);
    assert_eq!(names(&outside), vec!["victim.py"]);
}

/// `--force` replaces a regular file in place of the old one and keeps its permissions.
#[cfg(unix)]
#[test]
fn force_replaces_the_file_and_keeps_its_mode() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("helper.py");
    std::fs::write(&out, "# old\n").unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o640)).unwrap();
    bin()
        .args(["init-helper", "--force", "--out"])
        .arg(&out)
        .assert()
        .code(0);
    let meta = std::fs::metadata(&out).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o640);
    assert!(std::fs::read_to_string(&out)
        .unwrap()
        .contains("def comfyui_request("));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}
