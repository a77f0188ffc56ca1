//! `access-audit probe` against fakes on loopback (127.0.0.1 only): a fake Cloudflare Access front, a
//! fake exposed ComfyUI, a server that fails with 500, a server that never answers, a closed port.
//! Remote verdicts go through the library (`probe_url` with `Group::Remote`, since 127.0.0.1 is a
//! local address to the CLI); the CLI is tested end to end for local addresses and the JSON shape.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use access_audit::classify::Group;
use access_audit::probe::{
    exit_code, probe_all, probe_url, render_json, render_markdown, render_table, Credentials,
    ProbeResult, Status, Target, Verdict,
};
use assert_cmd::Command;
use serde_json::Value;

const CLIENT_ID: &str = "probe-test-client-id.access";
const CLIENT_SECRET: &str = "probe-test-client-secret-0123456789abcdef";
const TOKEN: &str = "probe-test-cf-access-token-eyJhbGciOi";
const WRONG_SECRET: &str = "probe-test-wrong-secret-fedcba9876543210";
const SECRETS: &[&str] = &[CLIENT_ID, CLIENT_SECRET, TOKEN, WRONG_SECRET];
const LOGIN: &str =
    "https://team.cloudflareaccess.com/cdn-cgi/access/login/comfyui.example.space?kid=abc";
const SYSTEM_STATS: &str = r#"{"system":{"os":"posix","python_version":"3.11.9","comfyui_version":"0.3.10"},"devices":[{"name":"cuda:0","type":"cuda"}]}"#;
const TIMEOUT: Duration = Duration::from_secs(5);

/// What a fake server saw: (path, lower-cased header names and values).
type Seen = Arc<Mutex<Vec<(String, Vec<(String, String)>)>>>;

/// A fake HTTP server on 127.0.0.1 (port 0), answering on its own thread until dropped.
struct Fake {
    server: Arc<tiny_http::Server>,
    thread: Option<JoinHandle<()>>,
    seen: Seen,
}

/// A fake's answer: status, headers, body.
type Answer = (u16, Vec<(&'static str, String)>, String);

impl Fake {
    fn start(handler: impl Fn(&[(String, String)]) -> Answer + Send + 'static) -> Fake {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind 127.0.0.1"));
        let seen: Seen = Arc::default();
        let (srv, log) = (Arc::clone(&server), Arc::clone(&seen));
        let thread = std::thread::spawn(move || {
            for req in srv.incoming_requests() {
                let headers: Vec<(String, String)> = req
                    .headers()
                    .iter()
                    .map(|h| {
                        (
                            h.field.as_str().as_str().to_ascii_lowercase(),
                            h.value.as_str().to_string(),
                        )
                    })
                    .collect();
                log.lock()
                    .unwrap()
                    .push((req.url().to_string(), headers.clone()));
                let (status, extra, body) = handler(&headers);
                let mut resp = tiny_http::Response::from_string(body).with_status_code(status);
                for (name, value) in extra {
                    resp.add_header(tiny_http::Header::from_bytes(name, value.as_bytes()).unwrap());
                }
                let _ = req.respond(resp);
            }
        });
        Fake {
            server,
            thread: Some(thread),
            seen,
        }
    }

    fn port(&self) -> u16 {
        self.server.server_addr().to_ip().unwrap().port()
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port())
    }

    fn requests(&self) -> Vec<(String, Vec<(String, String)>)> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn get<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn has_credential(headers: &[(String, String)]) -> bool {
    headers.iter().any(|(n, _)| {
        n.eq_ignore_ascii_case("cf-access-client-id")
            || n.eq_ignore_ascii_case("cf-access-client-secret")
            || n.eq_ignore_ascii_case("cf-access-token")
    })
}

/// A fake Cloudflare Access front before ComfyUI: 302 to the Access login without a credential,
/// 200 `/system_stats` JSON with the right service token (or `cf-access-token`), 403 with a wrong one.
fn access_front() -> Fake {
    Fake::start(|h| {
        let cf = vec![("cf-ray", "8f00000000000000-AMS".to_string())];
        let id = get(h, "cf-access-client-id");
        let secret = get(h, "cf-access-client-secret");
        let token = get(h, "cf-access-token");
        match (id, secret, token) {
            (Some(CLIENT_ID), Some(CLIENT_SECRET), _) | (_, _, Some(TOKEN)) => (
                200,
                vec![("Content-Type", "application/json".to_string())],
                SYSTEM_STATS.to_string(),
            ),
            (None, None, None) => {
                let mut hs = cf;
                hs.push(("Location", LOGIN.to_string()));
                (302, hs, String::new())
            }
            _ => (403, cf, "Forbidden".to_string()),
        }
    })
}

/// ComfyUI with no Access in front: 200 to everyone.
fn exposed_comfyui() -> Fake {
    Fake::start(|_| {
        (
            200,
            vec![("Content-Type", "application/json".to_string())],
            SYSTEM_STATS.to_string(),
        )
    })
}

fn failing_server() -> Fake {
    Fake::start(|_| (500, vec![], "Internal Server Error".to_string()))
}

/// A port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    port
}

fn service_token() -> Credentials {
    Credentials::ServiceToken {
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
    }
}

fn remote(url: &str, creds: Option<&Credentials>) -> ProbeResult {
    probe_url(url, Group::Remote, creds, TIMEOUT)
}

/// No credential value appears in any rendering of these results.
fn assert_no_secrets(results: &[ProbeResult]) {
    let text = format!(
        "{}{}{}{results:?}",
        render_json(results),
        render_markdown(results),
        render_table(results)
    );
    for s in SECRETS {
        assert!(!text.contains(s), "a credential value leaked: {text}");
    }
}

#[test]
fn protected_and_token_ok() {
    let front = access_front();
    let url = front.url("/system_stats");
    let r = remote(&url, Some(&service_token()));
    assert_eq!(r.without_token, Verdict::Protected, "{r:?}");
    assert_eq!(r.with_token, Some(Verdict::TokenOk), "{r:?}");
    assert_eq!(r.status, Status::Ok);
    assert_eq!(
        (r.http.without_token, r.http.with_token),
        (Some(302), Some(200))
    );
    assert_eq!(r.url, format!("http://127.0.0.1:{}", front.port()));
    assert!(
        r.detail.contains("team.cloudflareaccess.com"),
        "{}",
        r.detail
    );
    assert_eq!(
        r.credential.as_deref(),
        Some("CF_ACCESS_CLIENT_ID + CF_ACCESS_CLIENT_SECRET")
    );
    assert_eq!(exit_code(std::slice::from_ref(&r)), 0);
    // First request without any credential, the second with both headers; both to /system_stats.
    let seen = front.requests();
    assert_eq!(seen.len(), 2);
    assert!(seen.iter().all(|(p, _)| p == "/system_stats"));
    assert!(!has_credential(&seen[0].1));
    assert_eq!(get(&seen[1].1, "cf-access-client-id"), Some(CLIENT_ID));
    assert_eq!(
        get(&seen[1].1, "cf-access-client-secret"),
        Some(CLIENT_SECRET)
    );
    assert_no_secrets(&[r]);
}

#[test]
fn protected_and_cf_access_token_ok() {
    let front = access_front();
    let creds = Credentials::Token {
        env: "COMFYUI_ACCESS_TOKEN".into(),
        token: TOKEN.into(),
    };
    let r = remote(&front.url("/system_stats"), Some(&creds));
    assert_eq!(
        (r.without_token, r.with_token),
        (Verdict::Protected, Some(Verdict::TokenOk))
    );
    assert_eq!(r.credential.as_deref(), Some("COMFYUI_ACCESS_TOKEN"));
    assert_eq!(get(&front.requests()[1].1, "cf-access-token"), Some(TOKEN));
    assert_no_secrets(&[r]);
}

#[test]
fn protected_and_token_rejected_fails() {
    let front = access_front();
    let wrong = Credentials::ServiceToken {
        client_id: CLIENT_ID.into(),
        client_secret: WRONG_SECRET.into(),
    };
    let r = remote(&front.url("/system_stats"), Some(&wrong));
    assert_eq!(
        (r.without_token, r.with_token),
        (Verdict::Protected, Some(Verdict::TokenRejected))
    );
    assert_eq!(r.status, Status::Fail);
    assert_eq!(r.http.with_token, Some(403));
    assert!(r.detail.contains("from Cloudflare"), "{}", r.detail);
    assert_eq!(exit_code(std::slice::from_ref(&r)), 1);
    let md = render_markdown(std::slice::from_ref(&r));
    assert!(
        md.contains("add the service token to the Access policy"),
        "{md}"
    );
    assert_no_secrets(&[r]);
}

#[test]
fn token_not_tested_without_credentials() {
    let front = access_front();
    let mut r = remote(&front.url("/system_stats"), None);
    assert_eq!(
        (r.without_token, r.with_token),
        (Verdict::Protected, Some(Verdict::NotTested))
    );
    assert_eq!(r.status, Status::Warn);
    assert_eq!(exit_code(std::slice::from_ref(&r)), 0);
    assert!(r.detail.contains("token not tested"), "{}", r.detail);
    // Only the request without a credential was made.
    assert_eq!(front.requests().len(), 1);
    r.token_env = Some("COMFYUI_ACCESS_TOKEN".into());
    let md = render_markdown(&[r]);
    assert!(md.contains("`COMFYUI_ACCESS_TOKEN`"), "{md}");
    assert!(md.contains("| not tested |"), "{md}");
}

#[test]
fn exposed_fails_even_with_a_working_token() {
    let comfy = exposed_comfyui();
    let r = remote(&comfy.url("/system_stats"), None);
    assert_eq!(r.without_token, Verdict::Exposed);
    assert_eq!(r.status, Status::Fail);
    assert_eq!(exit_code(std::slice::from_ref(&r)), 1);
    let r2 = remote(&comfy.url("/system_stats"), Some(&service_token()));
    assert_eq!(
        (r2.without_token, r2.with_token),
        (Verdict::Exposed, Some(Verdict::TokenOk))
    );
    assert_eq!(r2.status, Status::Fail);
    let md = render_markdown(&[r, r2.clone()]);
    assert!(md.contains("Access is not enforced on this host"), "{md}");
    assert!(md.contains("**Result: fail.**"), "{md}");
    assert_no_secrets(&[r2]);
}

#[test]
fn server_error_is_unexpected() {
    let broken = failing_server();
    let r = remote(&broken.url("/system_stats"), Some(&service_token()));
    assert_eq!(r.without_token, Verdict::Unexpected);
    assert_eq!(r.with_token, Some(Verdict::Unexpected));
    assert_eq!(r.http.without_token, Some(500));
    assert!(r.detail.contains("HTTP 500"), "{}", r.detail);
    assert_eq!(r.status, Status::Warn);
    assert_eq!(exit_code(std::slice::from_ref(&r)), 0);
    assert!(render_markdown(&[r]).contains("unexpected answer"));
}

#[test]
fn closed_port_is_unreachable() {
    let url = format!("http://127.0.0.1:{}/system_stats", closed_port());
    let r = remote(&url, Some(&service_token()));
    assert_eq!(r.without_token, Verdict::Unreachable, "{r:?}");
    assert_eq!(r.status, Status::Warn);
    assert_eq!(exit_code(std::slice::from_ref(&r)), 0);
    assert!(render_markdown(std::slice::from_ref(&r)).contains("check DNS"));
    assert_no_secrets(&[r]);
}

#[test]
fn a_silent_server_times_out_within_the_timeout() {
    // Accepts connections but never answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let start = Instant::now();
    let r = probe_url(
        &format!("http://127.0.0.1:{port}/system_stats"),
        Group::Remote,
        None,
        Duration::from_secs(1),
    );
    assert_eq!(r.without_token, Verdict::Unreachable, "{r:?}");
    assert!(r.detail.contains("timeout"), "{}", r.detail);
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "{:?}",
        start.elapsed()
    );
    drop(listener);
}

#[test]
fn redirects_are_never_followed_and_credentials_stay_on_the_probed_host() {
    let elsewhere = exposed_comfyui();
    let target = elsewhere.url("/system_stats");
    let redirector = Fake::start(move |_| (302, vec![("Location", target.clone())], String::new()));
    let r = remote(&redirector.url("/system_stats"), Some(&service_token()));
    assert_eq!(r.without_token, Verdict::Unexpected, "{r:?}");
    assert_eq!(r.with_token, Some(Verdict::Unexpected), "{r:?}");
    assert!(elsewhere.requests().is_empty(), "a redirect was followed");
    assert_eq!(redirector.requests().len(), 2);
}

#[test]
fn local_addresses_get_one_request_without_credentials() {
    let comfy = exposed_comfyui();
    let r = probe_url(
        &comfy.url("/system_stats"),
        Group::Local,
        Some(&service_token()),
        TIMEOUT,
    );
    assert_eq!((r.without_token, r.with_token), (Verdict::Reachable, None));
    assert_eq!(r.status, Status::Ok);
    let seen = comfy.requests();
    assert_eq!(seen.len(), 1);
    assert!(
        !has_credential(&seen[0].1),
        "a local address got a credential"
    );
    let r = probe_url(
        &format!("http://127.0.0.1:{}/system_stats", closed_port()),
        Group::DockerNetwork,
        None,
        TIMEOUT,
    );
    assert_eq!(r.without_token, Verdict::Unreachable);
    assert_eq!(r.status, Status::Warn);
}

#[test]
fn probe_all_keeps_order_with_bounded_concurrency() {
    let front = access_front();
    let comfy = exposed_comfyui();
    let broken = failing_server();
    let target = |fake: &Fake, group| Target {
        base: format!("http://127.0.0.1:{}", fake.port()),
        group,
        path: "/system_stats".into(),
        service: "comfyui".into(),
    };
    let targets = vec![
        target(&front, Group::Remote),
        target(&comfy, Group::Remote),
        target(&broken, Group::Remote),
        target(&comfy, Group::Local),
    ];
    let creds = |_: &Target| Some(service_token());
    let env = |_: &Target| Some("COMFYUI_ACCESS_TOKEN".to_string());
    let results = probe_all(&targets, &creds, &env, TIMEOUT, 2);
    let got: Vec<(Verdict, Option<Verdict>)> = results
        .iter()
        .map(|r| (r.without_token, r.with_token))
        .collect();
    assert_eq!(
        got,
        vec![
            (Verdict::Protected, Some(Verdict::TokenOk)),
            (Verdict::Exposed, Some(Verdict::TokenOk)),
            (Verdict::Unexpected, Some(Verdict::Unexpected)),
            (Verdict::Reachable, None),
        ]
    );
    assert_eq!(exit_code(&results), 1);
    let json: Value = serde_json::from_str(&render_json(&results)).unwrap();
    assert_eq!(json["summary"]["addresses"], 4);
    assert_eq!(json["summary"]["exposed"], 1);
    assert_eq!(json["summary"]["token_ok"], 2);
    assert_eq!(json["summary"]["exit_code"], 1);
    let table = render_table(&results);
    for col in ["Address", "Group", "Without token", "With token", "Detail"] {
        assert!(table.contains(col), "{table}");
    }
    assert_no_secrets(&results);
}

// ---- The binary, end to end (local addresses only: 127.0.0.1 is `local` to the CLI). ----

fn cli() -> Command {
    let mut c = Command::cargo_bin("access-audit").unwrap();
    c.env_remove("CF_ACCESS_CLIENT_ID")
        .env_remove("CF_ACCESS_CLIENT_SECRET")
        .env_remove("COMFYUI_ACCESS_TOKEN")
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .env_remove("ALL_PROXY");
    c
}

fn with_credentials(c: &mut Command) -> &mut Command {
    c.env("CF_ACCESS_CLIENT_ID", CLIENT_ID)
        .env("CF_ACCESS_CLIENT_SECRET", CLIENT_SECRET)
        .env("COMFYUI_ACCESS_TOKEN", TOKEN)
}

/// Run; return (exit code, stdout, stderr), asserting no credential value is in either.
fn run(c: &mut Command) -> (i32, String, String) {
    let out = c.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    for s in SECRETS {
        assert!(
            !stdout.contains(s) && !stderr.contains(s),
            "a credential value leaked:\n{stdout}\n{stderr}"
        );
    }
    (out.status.code().unwrap_or(-1), stdout, stderr)
}

#[test]
fn cli_local_reachable_and_unreachable_json() {
    let comfy = exposed_comfyui();
    let closed = format!("http://127.0.0.1:{}", closed_port());
    let mut c = cli();
    with_credentials(&mut c).args([
        "probe",
        "--url",
        &comfy.url(""),
        "--url",
        &closed,
        "--format",
        "json",
        "--timeout",
        "5",
        "--concurrency",
        "2",
    ]);
    let (code, stdout, stderr) = run(&mut c);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let json: Value = serde_json::from_str(&stdout).unwrap();
    let results = json["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    let r = &results[0];
    assert_eq!(r["url"], comfy.url(""));
    assert_eq!(r["group"], "local");
    assert_eq!(r["without_token"], "reachable");
    assert_eq!(r["with_token"], Value::Null);
    assert_eq!(r["status"], "ok");
    assert_eq!(r["endpoint"], comfy.url("/system_stats"));
    assert!(r["detail"].is_string());
    assert_eq!(results[1]["without_token"], "unreachable");
    assert_eq!(results[1]["status"], "warn");
    assert_eq!(json["summary"]["reachable"], 1);
    assert_eq!(json["summary"]["unreachable"], 1);
    assert_eq!(json["summary"]["exit_code"], 0);
    // The rules' probe path, and no credential sent to a local address.
    let seen = comfy.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].0, "/system_stats");
    assert!(!has_credential(&seen[0].1));
}

#[test]
fn cli_probes_the_addresses_a_scan_finds() {
    let comfy = exposed_comfyui();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("client.py"),
        format!(
            "import os, requests, subprocess\n\
             requests.post(\"http://127.0.0.1:{port}/prompt\", json={{}})\n\
             requests.get(\"http://127.0.0.1:{port}/history/1\")\n\
             requests.get(os.environ[\"COMFYUI_URL\"] + \"/queue\")\n\
             subprocess.run([\"docker\", \"exec\", \"comfyui\", \"ls\"])\n",
            port = comfy.port()
        ),
    )
    .unwrap();
    let mut c = cli();
    with_credentials(&mut c)
        .arg("probe")
        .arg(dir.path())
        .args(["--format", "json", "-q"]);
    let (code, stdout, stderr) = run(&mut c);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let json: Value = serde_json::from_str(&stdout).unwrap();
    let results = json["results"].as_array().unwrap();
    // One base address; the env-var address and the docker exec are skipped.
    assert_eq!(results.len(), 1, "{stdout}");
    assert_eq!(results[0]["url"], comfy.url(""));
    assert_eq!(results[0]["without_token"], "reachable");
    assert_eq!(comfy.requests().len(), 1);
    assert_eq!(comfy.requests()[0].0, "/system_stats");
}

#[test]
fn cli_table_and_markdown() {
    let comfy = exposed_comfyui();
    let (code, stdout, _) = run(cli().args(["probe", "--url", &comfy.url("/queue")]));
    assert_eq!(code, 0);
    for col in ["Address", "Group", "Without token", "With token", "Detail"] {
        assert!(stdout.contains(col), "{stdout}");
    }
    assert!(stdout.contains("reachable"), "{stdout}");
    // A path given with --url is requested as is.
    assert_eq!(comfy.requests()[0].0, "/queue");
    let mut c = cli();
    with_credentials(&mut c).args(["probe", "--url", &comfy.url(""), "--format", "markdown"]);
    let (code, md, _) = run(&mut c);
    assert_eq!(code, 0);
    assert!(md.starts_with("## Rollout verification\n"), "{md}");
    assert!(
        md.contains("| Address | Group | Without token | With token | Detail |"),
        "{md}"
    );
    assert!(md.contains("**reachable**"), "{md}");
}

#[test]
fn cli_usage_errors_exit_2() {
    for args in [
        vec!["probe", "--url", "not a url"],
        vec!["probe", "--url", "http://{COMFYUI_HOST}:8188"],
        vec!["probe", "--url", "http://127.0.0.1:1", "--timeout", "0"],
        vec!["probe", "--url", "http://127.0.0.1:1", "--concurrency", "0"],
    ] {
        let (code, stdout, stderr) = run(cli().args(&args));
        assert_eq!(code, 2, "{args:?}: {stdout}\n{stderr}");
        assert!(stderr.contains("error:"), "{stderr}");
    }
}

#[test]
fn cli_without_addresses_says_so() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x.py"), "print('hello')\n").unwrap();
    let (code, stdout, _) = run(cli().arg("probe").arg(dir.path()).arg("-q"));
    assert_eq!(code, 0);
    assert!(stdout.contains("No addresses to probe"), "{stdout}");
}

/// `report --probe` adds the rollout verification section for the addresses the scan found.
#[test]
fn report_with_probe_adds_the_rollout_verification_section() {
    let fake = exposed_comfyui();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("client.py"),
        format!(
            "import requests\nrequests.get(\"http://127.0.0.1:{}/prompt\")\n",
            fake.port()
        ),
    )
    .unwrap();
    let out = assert_cmd::Command::cargo_bin("access-audit")
        .unwrap()
        .args(["report", "--probe"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("## Summary"), "{text}");
    let section = text
        .split("## Rollout verification")
        .nth(1)
        .unwrap_or_else(|| panic!("no section:\n{text}"));
    assert!(
        section.contains(&format!("127.0.0.1:{}", fake.port())),
        "{section}"
    );
    assert!(section.contains("reachable"), "{section}");
}
