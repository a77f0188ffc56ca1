//! `access-audit probe` against fakes on loopback (127.0.0.1 only): a fake Cloudflare Access front, a
//! fake exposed ComfyUI, a server that fails with 500, a server that never answers, a closed port.
//! Remote verdicts go through the library (`probe_with`): HTTPS fakes serve a test certificate
//! (`tests/data/tls`) for names pointed at 127.0.0.1 with a host override, so the token decision
//! (HTTPS only, declared hosts only, never after an answer without it) is tested on the wire. The
//! CLI is tested end to end for local addresses, plain-HTTP remote names (`--resolve`) and the JSON
//! shape. Nothing leaves the machine.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use access_audit::cmd::probe::{
    exit_code, probe_all, probe_url, probe_with, render_json, render_markdown, render_table,
    Credentials, HostOverride, ProbeOptions, ProbeResult, Status, Target, TokenPolicy, Verdict,
};
use access_audit::engine::classify::Group;
use assert_cmd::Command;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
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
/// Names the test certificate covers.
const DECLARED: &str = "declared.example.test";
const UNDECLARED: &str = "undeclared.example.test";

/// What a fake server saw: (path, lower-cased header names and values).
type Seen = Arc<Mutex<Vec<(String, Vec<(String, String)>)>>>;

/// A fake's answer: status, headers, body.
type Answer = (u16, Vec<(&'static str, String)>, String);

/// A fake HTTP server on 127.0.0.1 (port 0), answering on its own thread until dropped.
struct Fake {
    server: Arc<tiny_http::Server>,
    thread: Option<JoinHandle<()>>,
    seen: Seen,
}

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

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A client configuration that trusts the test CA only.
fn client_tls() -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(include_bytes!("data/tls/ca.pem")).unwrap())
        .unwrap();
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

fn server_tls() -> Arc<rustls::ServerConfig> {
    let cert = CertificateDer::from_pem_slice(include_bytes!("data/tls/leaf.pem")).unwrap();
    let key = PrivateKeyDer::from_pem_slice(include_bytes!("data/tls/leaf.key")).unwrap();
    Arc::new(
        rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)
            .unwrap(),
    )
}

/// The request line's path and the headers, read up to the blank line.
fn read_head(r: &mut impl Read) -> Option<(String, Vec<(String, String)>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = r.read(&mut chunk).ok()?;
        if n == 0 || buf.len() > 65536 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let text = String::from_utf8_lossy(&buf).into_owned();
    let mut lines = text.split("\r\n");
    let path = lines.next()?.split(' ').nth(1)?.to_string();
    let headers = lines
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Some((path, headers))
}

/// A fake HTTPS server on 127.0.0.1 with the test certificate, one request per connection.
struct TlsFake {
    port: u16,
    seen: Seen,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TlsFake {
    fn start(handler: impl Fn(&[(String, String)]) -> Answer + Send + 'static) -> TlsFake {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().unwrap().port();
        let seen: Seen = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (log, halt, config) = (Arc::clone(&seen), Arc::clone(&stop), server_tls());
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if halt.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(TIMEOUT));
                let _ = stream.set_write_timeout(Some(TIMEOUT));
                let Ok(conn) = rustls::ServerConnection::new(Arc::clone(&config)) else {
                    continue;
                };
                let mut tls = rustls::StreamOwned::new(conn, stream);
                let Some((path, headers)) = read_head(&mut tls) else {
                    continue;
                };
                log.lock().unwrap().push((path, headers.clone()));
                let (status, extra, body) = handler(&headers);
                let mut head = format!(
                    "HTTP/1.1 {status} Fake\r\nContent-Length: {}\r\nConnection: close\r\n",
                    body.len()
                );
                for (name, value) in extra {
                    head.push_str(&format!("{name}: {value}\r\n"));
                }
                head.push_str("\r\n");
                let _ = tls.write_all(head.as_bytes());
                let _ = tls.write_all(body.as_bytes());
                tls.conn.send_close_notify();
                let _ = tls.flush();
            }
        });
        TlsFake {
            port,
            seen,
            stop,
            thread: Some(thread),
        }
    }

    /// `https://HOST:PORT` + path.
    fn url(&self, host: &str, path: &str) -> String {
        format!("https://{host}:{}{path}", self.port)
    }

    /// HOST:PORT → 127.0.0.1.
    fn resolve(&self, host: &str) -> HostOverride {
        HostOverride {
            host: host.to_string(),
            port: self.port,
            addr: "127.0.0.1".parse().unwrap(),
        }
    }

    fn requests(&self) -> Vec<(String, Vec<(String, String)>)> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for TlsFake {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Options that point `host` at the fake, trust the test CA and declare `protected`.
fn opts(resolve: Vec<HostOverride>, protected: &[&str]) -> ProbeOptions {
    ProbeOptions {
        timeout: TIMEOUT,
        protected: protected.iter().map(|d| d.to_string()).collect(),
        resolve,
        tls: Some(client_tls()),
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
fn access_answer(h: &[(String, String)]) -> Answer {
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
}

/// ComfyUI with no Access in front: 200 to everyone.
fn exposed_answer(_: &[(String, String)]) -> Answer {
    (
        200,
        vec![("Content-Type", "application/json".to_string())],
        SYSTEM_STATS.to_string(),
    )
}

fn failing_answer(_: &[(String, String)]) -> Answer {
    (500, vec![], "Internal Server Error".to_string())
}

fn access_front() -> Fake {
    Fake::start(access_answer)
}

fn exposed_comfyui() -> Fake {
    Fake::start(exposed_answer)
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

/// Probe `host` on an HTTPS fake as a remote address, `DECLARED` being the protected host.
fn remote_tls(fake: &TlsFake, host: &str, creds: Option<&Credentials>) -> ProbeResult {
    probe_with(
        &fake.url(host, "/system_stats"),
        Group::Remote,
        creds,
        &opts(vec![fake.resolve(host)], &[DECLARED]),
    )
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
fn declared_https_host_protected_and_token_ok() {
    let front = TlsFake::start(access_answer);
    let r = remote_tls(&front, DECLARED, Some(&service_token()));
    assert_eq!(r.without_token, Verdict::Protected, "{r:?}");
    assert_eq!(r.with_token, Some(Verdict::TokenOk), "{r:?}");
    assert_eq!(r.status, Status::Ok);
    assert_eq!(r.token_policy, TokenPolicy::Declared);
    assert_eq!(
        (r.http.without_token, r.http.with_token),
        (Some(302), Some(200))
    );
    assert_eq!(r.url, format!("https://{DECLARED}:{}", front.port));
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
fn declared_https_host_cf_access_token_ok() {
    let front = TlsFake::start(access_answer);
    let creds = Credentials::Token {
        env: "COMFYUI_ACCESS_TOKEN".into(),
        token: TOKEN.into(),
    };
    let r = remote_tls(&front, DECLARED, Some(&creds));
    assert_eq!(
        (r.without_token, r.with_token),
        (Verdict::Protected, Some(Verdict::TokenOk))
    );
    assert_eq!(r.credential.as_deref(), Some("COMFYUI_ACCESS_TOKEN"));
    assert_eq!(get(&front.requests()[1].1, "cf-access-token"), Some(TOKEN));
    assert_no_secrets(&[r]);
}

#[test]
fn declared_https_host_token_rejected_fails() {
    let front = TlsFake::start(access_answer);
    let wrong = Credentials::ServiceToken {
        client_id: CLIENT_ID.into(),
        client_secret: WRONG_SECRET.into(),
    };
    let r = remote_tls(&front, DECLARED, Some(&wrong));
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
    let front = TlsFake::start(access_answer);
    let mut r = remote_tls(&front, DECLARED, None);
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

/// A host that answered 200 without the token never gets it: exposed, and nothing more is sent.
#[test]
fn an_exposed_host_never_gets_the_token() {
    let comfy = TlsFake::start(exposed_answer);
    let r = remote_tls(&comfy, DECLARED, Some(&service_token()));
    assert_eq!(
        (r.without_token, r.with_token),
        (Verdict::Exposed, Some(Verdict::NotSent)),
        "{r:?}"
    );
    assert_eq!(r.status, Status::Fail);
    assert_eq!(r.credential, None);
    assert!(r.detail.contains("answered without one"), "{}", r.detail);
    let seen = comfy.requests();
    assert_eq!(seen.len(), 1, "the token was sent after a 200");
    assert!(!has_credential(&seen[0].1));
    let md = render_markdown(std::slice::from_ref(&r));
    assert!(md.contains("Access is not enforced on this host"), "{md}");
    assert!(md.contains("**Result: fail.**"), "{md}");
    assert_no_secrets(&[r]);
}

/// An HTTPS host that is not declared protected (found in code, or given with --url) is probed
/// without credentials, and the result says why.
#[test]
fn an_undeclared_host_never_gets_the_token() {
    let front = TlsFake::start(access_answer);
    let r = remote_tls(&front, UNDECLARED, Some(&service_token()));
    assert_eq!(
        (r.without_token, r.with_token),
        (Verdict::Protected, Some(Verdict::NotSent)),
        "{r:?}"
    );
    assert_eq!(r.token_policy, TokenPolicy::Undeclared);
    assert_eq!(r.status, Status::Warn);
    assert_eq!(r.credential, None);
    assert!(
        r.detail.contains(&format!("--domain {UNDECLARED}")),
        "{}",
        r.detail
    );
    let seen = front.requests();
    assert_eq!(seen.len(), 1);
    assert!(!has_credential(&seen[0].1));
    let md = render_markdown(std::slice::from_ref(&r));
    assert!(md.contains("**protected, token not sent**"), "{md}");
    // No protected host at all (`probe_url`): nothing is ever sent either.
    let r = probe_with(
        &front.url(DECLARED, "/system_stats"),
        Group::Remote,
        Some(&service_token()),
        &opts(vec![front.resolve(DECLARED)], &[]),
    );
    assert_eq!(r.with_token, Some(Verdict::NotSent));
    assert_eq!(front.requests().len(), 2);
    assert!(!has_credential(&front.requests()[1].1));
}

/// Plain HTTP to a remote name, even a declared one, never carries the token: a failing result
/// of its own.
#[test]
fn plain_http_never_gets_the_token() {
    for (fake, without) in [
        (access_front(), Verdict::Protected),
        (exposed_comfyui(), Verdict::Exposed),
    ] {
        let over = HostOverride {
            host: DECLARED.into(),
            port: fake.port(),
            addr: "127.0.0.1".parse().unwrap(),
        };
        let url = format!("http://{DECLARED}:{}/system_stats", fake.port());
        let r = probe_with(
            &url,
            Group::Remote,
            Some(&service_token()),
            &opts(vec![over], &[DECLARED]),
        );
        assert_eq!(
            (r.without_token, r.with_token),
            (without, Some(Verdict::Cleartext)),
            "{r:?}"
        );
        assert_eq!(r.token_policy, TokenPolicy::Cleartext);
        assert_eq!(r.status, Status::Fail);
        assert_eq!(r.credential, None);
        let seen = fake.requests();
        assert_eq!(seen.len(), 1);
        assert!(!has_credential(&seen[0].1), "a credential went over HTTP");
        assert_eq!(
            get(&seen[0].1, "host"),
            Some(format!("{DECLARED}:{}", fake.port()).as_str())
        );
        if without == Verdict::Protected {
            let md = render_markdown(std::slice::from_ref(&r));
            assert!(md.contains("**credential would travel in clear**"), "{md}");
            let table = render_table(std::slice::from_ref(&r));
            assert!(table.contains("1 over plain HTTP"), "{table}");
            assert!(table.contains("FAIL"), "{table}");
        }
        assert_no_secrets(&[r]);
    }
}

#[test]
fn server_error_is_unexpected() {
    let broken = TlsFake::start(failing_answer);
    let r = remote_tls(&broken, DECLARED, Some(&service_token()));
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
    let port = closed_port();
    let over = HostOverride {
        host: DECLARED.into(),
        port,
        addr: "127.0.0.1".parse().unwrap(),
    };
    let r = probe_with(
        &format!("https://{DECLARED}:{port}/system_stats"),
        Group::Remote,
        Some(&service_token()),
        &opts(vec![over], &[DECLARED]),
    );
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
    let redirector =
        TlsFake::start(move |_| (302, vec![("Location", target.clone())], String::new()));
    let r = remote_tls(&redirector, DECLARED, Some(&service_token()));
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
    let front = TlsFake::start(access_answer);
    let comfy = TlsFake::start(exposed_answer);
    let broken = TlsFake::start(failing_answer);
    let local = exposed_comfyui();
    let target = |base: String, group| Target {
        base,
        group,
        path: "/system_stats".into(),
        service: "comfyui".into(),
    };
    let targets = vec![
        target(front.url(DECLARED, ""), Group::Remote),
        target(comfy.url(DECLARED, ""), Group::Remote),
        target(broken.url(DECLARED, ""), Group::Remote),
        target(local.url(""), Group::Local),
    ];
    let creds = |_: &Target| Some(service_token());
    let env = |_: &Target| Some("COMFYUI_ACCESS_TOKEN".to_string());
    let o = opts(
        vec![
            front.resolve(DECLARED),
            comfy.resolve(DECLARED),
            broken.resolve(DECLARED),
        ],
        &[DECLARED],
    );
    let results = probe_all(&targets, &creds, &env, &o, 2);
    let got: Vec<(Verdict, Option<Verdict>)> = results
        .iter()
        .map(|r| (r.without_token, r.with_token))
        .collect();
    assert_eq!(
        got,
        vec![
            (Verdict::Protected, Some(Verdict::TokenOk)),
            (Verdict::Exposed, Some(Verdict::NotSent)),
            (Verdict::Unexpected, Some(Verdict::Unexpected)),
            (Verdict::Reachable, None),
        ]
    );
    assert_eq!(exit_code(&results), 1);
    let json: Value = serde_json::from_str(&render_json(&results)).unwrap();
    assert_eq!(json["summary"]["addresses"], 4);
    assert_eq!(json["summary"]["exposed"], 1);
    assert_eq!(json["summary"]["token_ok"], 1);
    assert_eq!(json["summary"]["token_not_sent"], 1);
    assert_eq!(json["summary"]["exit_code"], 1);
    assert_eq!(json["results"][0]["token_policy"], "declared");
    assert_eq!(json["results"][3]["token_policy"], "not-remote");
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
        vec!["probe", "--url", "http://127.0.0.1:1", "--timeout", "121"],
        vec![
            "probe",
            "--url",
            "http://127.0.0.1:1",
            "--timeout",
            "100000000",
        ],
        vec![
            "probe",
            "--url",
            "http://127.0.0.1:1",
            "--resolve",
            "nonsense",
        ],
        vec![
            "probe",
            "--url",
            "http://127.0.0.1:1",
            "--resolve",
            "h:443:not-an-ip",
        ],
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

/// `--url` errors never echo a password in the URL.
#[test]
fn cli_url_errors_hide_passwords() {
    for url in [
        "https://user:hunter2-secret@{COMFYUI_HOST}:8188",
        "gopher://user:hunter2-secret@h.example",
    ] {
        let (code, stdout, stderr) = run(cli().args(["probe", "--url", url]));
        assert_eq!(code, 2, "{stdout}\n{stderr}");
        assert!(
            !stderr.contains("hunter2") && !stdout.contains("hunter2"),
            "{stderr}"
        );
        assert!(stderr.contains("***@"), "{stderr}");
    }
}

/// A remote name over plain HTTP (pointed at a loopback fake with `--resolve`), declared with
/// `--domain` and with the token in the environment: the token never goes, and the address fails
/// as `cleartext`. A server echo of the token in another letter case is redacted too.
#[test]
fn cli_plain_http_remote_is_cleartext_and_never_gets_the_token() {
    let lower = TOKEN.to_ascii_lowercase();
    let upper = TOKEN.to_ascii_uppercase();
    assert_ne!(lower, TOKEN);
    let login = format!("https://{lower}.cloudflareaccess.com/cdn-cgi/access/login");
    let front = Fake::start(move |h| {
        let (status, mut headers, body) = access_answer(h);
        if status == 302 {
            headers.retain(|(n, _)| *n != "Location");
            headers.push(("Location", login.clone()));
        }
        (status, headers, body)
    });
    let host = "comfyui.datacrew.space";
    let dir = tempfile::tempdir().unwrap();
    let mut c = cli();
    with_credentials(&mut c).current_dir(dir.path()).args([
        "probe",
        "--url",
        &format!("http://{host}:{}", front.port()),
        "--resolve",
        &format!("{host}:{}:127.0.0.1", front.port()),
        "--domain",
        host,
        "--format",
        "json",
    ]);
    let (code, stdout, stderr) = run(&mut c);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    for echo in [&lower, &upper] {
        assert!(!stdout.contains(echo.as_str()), "an echo leaked: {stdout}");
    }
    let json: Value = serde_json::from_str(&stdout).unwrap();
    let r = &json["results"][0];
    assert_eq!(r["group"], "remote", "{stdout}");
    assert_eq!(r["without_token"], "protected", "{stdout}");
    assert_eq!(r["with_token"], "cleartext", "{stdout}");
    assert_eq!(r["token_policy"], "cleartext", "{stdout}");
    assert_eq!(r["status"], "fail", "{stdout}");
    assert_eq!(r["credential"], Value::Null, "{stdout}");
    assert!(r["detail"].as_str().unwrap().contains("***"), "{stdout}");
    assert_eq!(json["summary"]["cleartext"], 1);
    let seen = front.requests();
    assert_eq!(seen.len(), 1);
    assert!(!has_credential(&seen[0].1), "a credential went over HTTP");
}

/// Addresses found in scanned code are probed without credentials unless declared, and plain
/// HTTP ones never get them: a pull request adding a URL cannot draw the CI token to its host.
#[test]
fn cli_hosts_found_in_code_never_get_the_token() {
    let fake = exposed_comfyui();
    let host = "attacker.example";
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("client.py"),
        format!(
            "import requests\nrequests.get(\"http://{host}:{}/prompt\")\n",
            fake.port()
        ),
    )
    .unwrap();
    let mut c = cli();
    with_credentials(&mut c)
        .current_dir(dir.path())
        .args(["probe", ".", "-q", "--format", "json", "--resolve"])
        .arg(format!("{host}:{}:127.0.0.1", fake.port()));
    let (code, stdout, stderr) = run(&mut c);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    let json: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["results"][0]["with_token"], "cleartext", "{stdout}");
    assert_eq!(json["results"][0]["without_token"], "exposed", "{stdout}");
    let seen = fake.requests();
    assert_eq!(seen.len(), 1, "the token request was made");
    assert!(!has_credential(&seen[0].1));
}
