//! Adoption: the user's own domain in the report, the CLI conveniences (version, completions, man
//! page, JSON errors, stdin), and the pre-commit hook definition run as pre-commit would.

use std::path::Path;

use assert_cmd::Command;

fn bin() -> Command {
    let mut c = Command::cargo_bin("access-audit").expect("binary builds");
    c.env("ACCESS_AUDIT_NO_VCS", "1").env_remove("NO_COLOR");
    c
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("UTF-8 stdout")
}

/// A repository whose ComfyUI sits behind another team's public domain.
fn other_domain_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "client.py",
        "import requests\n\n\ndef submit(wf):\n    return requests.post(\"https://comfy.other-team.dev/prompt\", json=wf)\n",
    );
    write(
        dir.path(),
        "local.py",
        "import requests\nrequests.get(\"http://127.0.0.1:8188/queue\")\n",
    );
    dir
}

#[test]
fn report_names_the_remote_host_found_never_a_built_in_domain() {
    let repo = other_domain_repo();
    let out = bin().arg("report").arg(repo.path()).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let md = stdout(&out);
    assert!(!md.contains("datacrew"), "{md}");
    assert!(md.contains("enabled on `comfy.other-team.dev`"), "{md}");
    assert!(md.contains("no protected domain is configured"), "{md}");
    // The Mermaid picture names the same host.
    assert!(
        md.contains("Cloudflare Tunnel + Access<br/>comfy.other-team.dev"),
        "{md}"
    );
}

#[test]
fn report_names_configured_domains_from_flag_and_pyproject() {
    let repo = other_domain_repo();
    write(
        repo.path(),
        "pyproject.toml",
        "[project]\nname = \"demo\"\n\n[tool.access-audit]\nprotected_domains = [\"comfy.mydomain.dev\"]\n",
    );
    let md = stdout(&bin().arg("report").arg(repo.path()).output().unwrap());
    assert!(md.contains("enabled on `comfy.mydomain.dev`"), "{md}");
    assert!(!md.contains("**Protected domain:**"), "{md}");
    assert!(!md.contains("datacrew"), "{md}");
    // `--domain` adds to the file's list.
    let md = stdout(
        &bin()
            .arg("report")
            .arg(repo.path())
            .args(["--domain", "api.mydomain.dev"])
            .output()
            .unwrap(),
    );
    assert!(
        md.contains("enabled on `api.mydomain.dev` and `comfy.mydomain.dev`"),
        "{md}"
    );
}

#[test]
fn report_without_remote_or_configuration_says_none_is_configured() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "local.py",
        "import requests\nrequests.get(\"http://127.0.0.1:8188/queue\")\n",
    );
    let md = stdout(&bin().arg("report").arg(dir.path()).output().unwrap());
    assert!(md.contains("**Protected domain:** none configured"), "{md}");
    assert!(!md.contains("datacrew"), "{md}");
    assert!(
        md.contains("Enable Cloudflare Access (browser authentication) for the public domain"),
        "{md}"
    );
}
