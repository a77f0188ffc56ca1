//! `access-audit probe`: verify the rollout live. The only command that touches the network.
//!
//! For every distinct base address a scan found (or each `--url`), request a cheap endpoint (the
//! rules' `[address] probe`, `/system_stats` for ComfyUI):
//!
//! - **remote** addresses: once *without* a credential — `protected` (a redirect to a
//!   `*.cloudflareaccess.com` login, or 401/403), `exposed` (the API answers), `unreachable`,
//!   `unexpected` — then, when the environment holds a service token **and** [`token_policy`]
//!   allows it, once *with* it — `token-ok`, `token-rejected`, `unreachable`, `unexpected` (else
//!   `not-tested`, `not-sent` or `cleartext`);
//! - **local / docker-network / private-network** addresses: once without a credential —
//!   `reachable` (any HTTP answer) or `unreachable`.
//!
//! The token goes only over HTTPS, only to a host declared protected (`--domain`, the config's
//! `protected-domains`, the rules' `domains`), and never after the host answered without it. A
//! host merely found in code or given with `--url` is probed without credentials; a remote address
//! over plain HTTP / WS is a failing result of its own (`cleartext`). Redirects are never followed
//! (so a credential never leaves the probed host), every request has a connect and an overall
//! timeout, at most `--concurrency` requests are in flight, and credential values never reach any
//! output: [`Credentials`] has no `Display`, its `Debug` is redacted, and everything printed passes
//! through [`Credentials::redact`] (which also masks case-changed, URL-encoded and base64 echoes).
//!
//! The HTTP classification is pure ([`classify`]) and tested without a network; [`probe_url`] is
//! the network part.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, ContentArrangement, Table};
use serde::Serialize;

use crate::cli::{ProbeArgs, ProbeFormat, ScanTarget};
use crate::config;
use crate::engine::address;
use crate::engine::classify::{classify_host, Group};
use crate::engine::finding::Report;
use crate::error::Error;
use crate::rules::{RuleSet, Service};

/// Env vars of a Cloudflare Access service token (sent as `CF-Access-Client-Id` / `-Secret`).
pub const CLIENT_ID_ENV: &str = "CF_ACCESS_CLIENT_ID";
pub const CLIENT_SECRET_ENV: &str = "CF_ACCESS_CLIENT_SECRET";

/// The longest `--timeout` accepted, in seconds.
pub const MAX_TIMEOUT_SECS: u64 = 120;

/// Table width (fixed: the output is the same in a terminal, a pipe and a test).
const WIDTH: u16 = 140;

/// What one request (or the pair of requests) tells about an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Without a credential: Cloudflare Access stops the request (login redirect, 401, 403).
    Protected,
    /// Without a credential: the API answers (2xx) — Access is not enforced.
    Exposed,
    /// Local / docker / private address: something answers over HTTP.
    Reachable,
    /// Connection error, DNS failure or timeout.
    Unreachable,
    /// Any other answer (a 5xx, a redirect elsewhere, …).
    Unexpected,
    /// With the service token: the API answers (2xx).
    TokenOk,
    /// With the service token: Access still refuses (login redirect, 401, 403).
    TokenRejected,
    /// No credential in the environment: the request with a token was not made.
    NotTested,
    /// The token was withheld: the host is not declared protected, or it answered without one.
    NotSent,
    /// A remote address over plain HTTP / WS: a credential would travel in clear, so none was
    /// sent (a failure: use HTTPS).
    Cleartext,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Protected => "protected",
            Verdict::Exposed => "exposed",
            Verdict::Reachable => "reachable",
            Verdict::Unreachable => "unreachable",
            Verdict::Unexpected => "unexpected",
            Verdict::TokenOk => "token-ok",
            Verdict::TokenRejected => "token-rejected",
            Verdict::NotTested => "not tested",
            Verdict::NotSent => "not sent",
            Verdict::Cleartext => "cleartext",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The overall outcome for one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Verified: protected and the token gets through, or a local address answers.
    Ok,
    /// Needs a look but does not fail the run: unreachable, unexpected, token not tested.
    Warn,
    /// Fails the run (exit 1): a remote address is exposed, answers over plain HTTP, or the token
    /// is rejected.
    Fail,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }
}

/// Which request is being classified: decides what an answer means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// A remote address, requested without a credential.
    WithoutToken,
    /// A remote address, requested with the service token.
    WithToken,
    /// A local / docker-network / private-network address (no credential, ever).
    Local,
}

/// What came back from one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// An HTTP answer: status and headers (names lower-cased).
    Response {
        status: u16,
        headers: Vec<(String, String)>,
    },
    /// No HTTP answer: connection refused, DNS failure, timeout, TLS error.
    Failed(String),
}

/// A verdict and a short human explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classification {
    pub verdict: Verdict,
    pub detail: String,
}

/// Classify one outcome for a phase. Pure: no network, no environment.
pub fn classify(phase: Phase, outcome: &Outcome) -> Classification {
    match outcome {
        Outcome::Failed(message) => Classification {
            verdict: Verdict::Unreachable,
            detail: message.clone(),
        },
        Outcome::Response { status, headers } => classify_response(phase, *status, headers),
    }
}

/// Classify an HTTP answer (status and headers) for a phase. Pure: no network, no environment.
pub fn classify_response(
    phase: Phase,
    status: u16,
    headers: &[(String, String)],
) -> Classification {
    let c = |verdict, detail: String| Classification { verdict, detail };
    if phase == Phase::Local {
        return c(Verdict::Reachable, format!("HTTP {status}"));
    }
    let redirect = (300..400).contains(&status).then(|| location_host(headers));
    let to_access = matches!(&redirect, Some(Some(h)) if is_access_login(h));
    let refused = status == 401 || status == 403;
    let refused_detail = || {
        if from_cloudflare(headers) {
            format!("HTTP {status} from Cloudflare")
        } else {
            format!("HTTP {status} (no Cloudflare headers: the origin may be refusing)")
        }
    };
    let redirect_detail = |host: &Option<String>| match host {
        Some(h) if is_access_login(h) => format!("HTTP {status} to {h} (Access login)"),
        Some(h) => format!("HTTP {status} to {h}"),
        None => format!("HTTP {status} without a usable Location"),
    };
    match phase {
        Phase::WithoutToken => match (&redirect, status) {
            (Some(host), _) if to_access => c(Verdict::Protected, redirect_detail(host)),
            (Some(host), _) => c(Verdict::Unexpected, redirect_detail(host)),
            (None, 200..=299) => c(
                Verdict::Exposed,
                format!("HTTP {status} without a token: the API answers"),
            ),
            (None, _) if refused => c(Verdict::Protected, refused_detail()),
            (None, _) => c(Verdict::Unexpected, format!("HTTP {status}")),
        },
        Phase::WithToken => match (&redirect, status) {
            (Some(host), _) if to_access => c(Verdict::TokenRejected, redirect_detail(host)),
            (Some(host), _) => c(Verdict::Unexpected, redirect_detail(host)),
            (None, 200..=299) => c(Verdict::TokenOk, format!("HTTP {status}")),
            (None, _) if refused => c(Verdict::TokenRejected, refused_detail()),
            (None, _) => c(Verdict::Unexpected, format!("HTTP {status}")),
        },
        Phase::Local => unreachable!("handled above"),
    }
}

/// The host a redirect points to (lower-cased), if the `Location` header names one.
fn location_host(headers: &[(String, String)]) -> Option<String> {
    let loc = header(headers, "location")?;
    let url = url::Url::parse(loc.trim()).ok()?;
    url.host_str().map(|h| h.to_ascii_lowercase())
}

fn is_access_login(host: &str) -> bool {
    host.trim_end_matches('.')
        .ends_with(".cloudflareaccess.com")
}

/// Did Cloudflare (or Access) answer? `cf-ray`, or any `cf-access-*` header.
fn from_cloudflare(headers: &[(String, String)]) -> bool {
    headers.iter().any(|(n, _)| {
        let n = n.to_ascii_lowercase();
        n == "cf-ray" || n.starts_with("cf-access-")
    })
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// A Cloudflare Access credential read from the environment. Its values are never displayed: there
/// is no `Display`, `Debug` redacts, and [`Credentials::redact`] masks them in any text.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// `CF-Access-Client-Id` + `CF-Access-Client-Secret`.
    ServiceToken {
        client_id: String,
        client_secret: String,
    },
    /// `cf-access-token`, read from the env var named `env`.
    Token { env: String, token: String },
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({})", self.describe())
    }
}

impl Credentials {
    /// The credential in the process environment: `CF_ACCESS_CLIENT_ID` + `CF_ACCESS_CLIENT_SECRET`
    /// first, else the rules' token variable (`token_env`, e.g. `COMFYUI_ACCESS_TOKEN`).
    pub fn from_env(token_env: Option<&str>) -> Option<Credentials> {
        Credentials::from_lookup(|name| std::env::var(name).ok(), token_env)
    }

    /// Same as [`Credentials::from_env`], reading variables through `lookup` (empty values count
    /// as unset).
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
        token_env: Option<&str>,
    ) -> Option<Credentials> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        if let (Some(client_id), Some(client_secret)) = (get(CLIENT_ID_ENV), get(CLIENT_SECRET_ENV))
        {
            return Some(Credentials::ServiceToken {
                client_id,
                client_secret,
            });
        }
        let env = token_env?;
        get(env).map(|token| Credentials::Token {
            env: env.to_string(),
            token,
        })
    }

    /// Where the credential came from (env var names only, never values).
    pub fn describe(&self) -> String {
        match self {
            Credentials::ServiceToken { .. } => format!("{CLIENT_ID_ENV} + {CLIENT_SECRET_ENV}"),
            Credentials::Token { env, .. } => env.clone(),
        }
    }

    /// The request headers that carry the credential.
    fn headers(&self) -> Vec<(&'static str, &str)> {
        match self {
            Credentials::ServiceToken {
                client_id,
                client_secret,
            } => vec![
                ("CF-Access-Client-Id", client_id.as_str()),
                ("CF-Access-Client-Secret", client_secret.as_str()),
            ],
            Credentials::Token { token, .. } => vec![("cf-access-token", token.as_str())],
        }
    }

    fn values(&self) -> Vec<&str> {
        self.headers().into_iter().map(|(_, v)| v).collect()
    }

    /// `text` with every credential value replaced by `***`.
    pub fn redact(&self, text: &str) -> String {
        redact_values(text, &self.values())
    }
}

/// `text` with every value masked as `***`: as is, in any letter case, URL-encoded and base64
/// (standard and URL-safe alphabets, with or without padding), so an echo a server or an error
/// transformed is masked too.
fn redact_values(text: &str, values: &[&str]) -> String {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    use base64::Engine;
    let mut forms: Vec<String> = Vec::new();
    for v in values.iter().map(|v| v.trim()) {
        // Very short values would mask unrelated text; they are not real credentials anyway.
        if v.len() < 4 {
            continue;
        }
        forms.push(v.to_string());
        forms.push(percent_encode(v));
        for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
            forms.push(engine.encode(v));
        }
    }
    // Longest first, so a value containing another is masked whole.
    forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
    forms.dedup();
    let mut out = text.to_string();
    for f in forms {
        let re = regex::RegexBuilder::new(&regex::escape(&f))
            .case_insensitive(true)
            .build();
        if let Ok(re) = re {
            out = re.replace_all(&out, "***").into_owned();
        }
    }
    out
}

/// Percent-encode every byte outside the URL unreserved set (`A-Z a-z 0-9 - . _ ~`).
fn percent_encode(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A URL for messages: any user info (`user:password@`) masked as `***@`.
pub fn redact_userinfo(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) => format!("{scheme}://***{}", &rest[at..]),
        None => url.to_string(),
    }
}

/// The probe of one address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProbeResult {
    /// The base address, `scheme://host[:port]`.
    pub url: String,
    pub group: Group,
    /// The URL requested (base + probe path).
    pub endpoint: String,
    pub without_token: Verdict,
    /// `null` for local / docker-network / private-network addresses (never sent a credential).
    pub with_token: Option<Verdict>,
    pub status: Status,
    pub detail: String,
    /// HTTP status of each request, when there was an answer.
    pub http: HttpStatuses,
    /// Where the credential came from (env var names), when one was sent.
    pub credential: Option<String>,
    /// Whether the token could go to this address at all (decided before any request).
    pub token_policy: TokenPolicy,
    /// The env var the rules recommend for the token (for the "what to do" hints).
    #[serde(skip)]
    pub token_env: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HttpStatuses {
    pub without_token: Option<u16>,
    pub with_token: Option<u16>,
}

/// Counts over the results (the JSON `summary`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ProbeSummary {
    pub addresses: usize,
    pub protected: usize,
    pub exposed: usize,
    pub reachable: usize,
    pub unreachable: usize,
    pub unexpected: usize,
    pub token_ok: usize,
    pub token_rejected: usize,
    pub token_not_tested: usize,
    /// Remote addresses the token was withheld from (not declared protected, or exposed).
    pub token_not_sent: usize,
    /// Remote addresses over plain HTTP / WS.
    pub cleartext: usize,
    pub failures: usize,
    pub exit_code: i32,
}

pub fn summarize(results: &[ProbeResult]) -> ProbeSummary {
    let mut s = ProbeSummary {
        addresses: results.len(),
        ..ProbeSummary::default()
    };
    for r in results {
        for v in std::iter::once(r.without_token).chain(r.with_token) {
            match v {
                Verdict::Protected => s.protected += 1,
                Verdict::Exposed => s.exposed += 1,
                Verdict::Reachable => s.reachable += 1,
                Verdict::Unreachable if v == r.without_token => s.unreachable += 1,
                Verdict::Unexpected if v == r.without_token => s.unexpected += 1,
                Verdict::TokenOk => s.token_ok += 1,
                Verdict::TokenRejected => s.token_rejected += 1,
                Verdict::NotTested => s.token_not_tested += 1,
                Verdict::NotSent => s.token_not_sent += 1,
                Verdict::Cleartext => s.cleartext += 1,
                _ => {}
            }
        }
        s.failures += usize::from(r.status == Status::Fail);
    }
    s.exit_code = exit_code(results);
    s
}

/// 1 when a remote address is exposed, answers over plain HTTP or its token is rejected, else 0.
pub fn exit_code(results: &[ProbeResult]) -> i32 {
    i32::from(results.iter().any(|r| r.status == Status::Fail))
}

/// Whether the service token may go to an address. Decided from the address and the declared
/// protected hosts only, before any request, so nothing found in scanned code or given with `--url`
/// can draw the token to a host of its choosing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TokenPolicy {
    /// A local / docker-network / private-network address: never a credential.
    NotRemote,
    /// A remote address over plain HTTP / WS: the credential would travel in clear; never sent.
    Cleartext,
    /// A remote HTTPS host that is not declared protected: never sent.
    Undeclared,
    /// A remote HTTPS host declared protected: sent, unless the host answers without it.
    Declared,
}

/// The [`TokenPolicy`] of an endpoint: only `https://` / `wss://` to a host in `protected`
/// (`--domain`, `protected-domains`, the rules' `domains`; an entry `*.example.com` covers the
/// subdomains of `example.com`) may get the token.
pub fn token_policy(endpoint: &str, group: Group, protected: &[String]) -> TokenPolicy {
    if group != Group::Remote {
        return TokenPolicy::NotRemote;
    }
    let Ok(u) = url::Url::parse(endpoint) else {
        return TokenPolicy::Undeclared;
    };
    if !matches!(u.scheme(), "https" | "wss") {
        return TokenPolicy::Cleartext;
    }
    match u.host_str() {
        Some(host) if is_declared(host, protected) => TokenPolicy::Declared,
        _ => TokenPolicy::Undeclared,
    }
}

/// Is `host` one of the declared protected hosts (exact, case-insensitive; `*.d` for subdomains)?
pub fn is_declared(host: &str, protected: &[String]) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    protected.iter().any(|d| {
        let d = d.trim().trim_end_matches('.').to_ascii_lowercase();
        match d.strip_prefix("*.") {
            Some(parent) => !parent.is_empty() && host.ends_with(&format!(".{parent}")),
            None => !d.is_empty() && host == d,
        }
    })
}

/// `--resolve HOST:PORT:ADDR` (as curl has it): connect to ADDR for HOST:PORT, keeping HOST for
/// everything else (the token decision, TLS, the `Host` header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostOverride {
    pub host: String,
    pub port: u16,
    pub addr: std::net::IpAddr,
}

impl HostOverride {
    /// Parse `HOST:PORT:ADDR` (`ADDR` may be an IPv6 address, bracketed or not).
    pub fn parse(spec: &str) -> Result<HostOverride, Error> {
        let bad = || {
            Error::Usage(format!(
                "--resolve `{spec}`: expected HOST:PORT:ADDRESS (e.g. comfy.example.com:443:127.0.0.1)"
            ))
        };
        let (host, rest) = spec.split_once(':').ok_or_else(bad)?;
        let (port, addr) = rest.split_once(':').ok_or_else(bad)?;
        let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
        if host.is_empty() {
            return Err(bad());
        }
        let port: u16 = port.trim().parse().map_err(|_| bad())?;
        let addr = addr.trim().trim_start_matches('[').trim_end_matches(']');
        let addr: std::net::IpAddr = addr.parse().map_err(|_| bad())?;
        Ok(HostOverride { host, port, addr })
    }
}

/// How to probe: the request timeout, the protected hosts that may get the token, and host
/// overrides.
#[derive(Debug, Clone)]
pub struct ProbeOptions {
    pub timeout: Duration,
    /// Hosts declared protected (lower-case; `*.d` for subdomains).
    pub protected: Vec<String>,
    pub resolve: Vec<HostOverride>,
    /// The TLS client configuration (trusted roots); `None`: the built-in Web PKI roots.
    pub tls: Option<std::sync::Arc<rustls::ClientConfig>>,
}

impl ProbeOptions {
    /// No protected host (so no token is ever sent) and no override.
    pub fn new(timeout: Duration) -> ProbeOptions {
        ProbeOptions {
            timeout,
            protected: Vec::new(),
            resolve: Vec::new(),
            tls: None,
        }
    }
}

/// The protected hosts for a run: `--domain`, the config file's `protected-domains` (found from
/// the first path) and the enabled services' `domains`.
pub fn protected_hosts(target: &ScanTarget, rules: &RuleSet) -> Result<Vec<String>, Error> {
    let first = target.paths.first().cloned().unwrap_or_else(|| ".".into());
    let cfg = config::discover(&first)?;
    let mut out = config::protected_domains(&target.domains, &cfg);
    for d in rules.services.iter().flat_map(|s| &s.domains) {
        let d = d.trim().trim_end_matches('.').to_ascii_lowercase();
        if !d.is_empty() && !out.contains(&d) {
            out.push(d);
        }
    }
    Ok(out)
}

/// A resolver that applies the `--resolve` overrides and asks the system for everything else.
struct Resolver(Vec<HostOverride>);

impl ureq::Resolver for Resolver {
    fn resolve(&self, netloc: &str) -> std::io::Result<Vec<std::net::SocketAddr>> {
        if let Some((host, port)) = netloc.rsplit_once(':') {
            let host = host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .trim_end_matches('.');
            if let Ok(port) = port.parse::<u16>() {
                if let Some(o) = self
                    .0
                    .iter()
                    .find(|o| o.port == port && o.host.eq_ignore_ascii_case(host))
                {
                    return Ok(vec![std::net::SocketAddr::new(o.addr, port)]);
                }
            }
        }
        std::net::ToSocketAddrs::to_socket_addrs(netloc).map(Iterator::collect)
    }
}

/// Probe one address: `url` is the endpoint to request (base + probe path), `as_group` decides
/// what is asked (remote: without, then with `creds`; else one request without any credential).
/// No host is declared protected here, so no credential is sent: see [`probe_with`].
pub fn probe_url(
    url: &str,
    as_group: Group,
    creds: Option<&Credentials>,
    timeout: Duration,
) -> ProbeResult {
    probe_with(url, as_group, creds, &ProbeOptions::new(timeout))
}

/// [`probe_url`] with options: `creds` go to the address only when its [`token_policy`] is
/// [`TokenPolicy::Declared`] and it did not answer without them.
pub fn probe_with(
    url: &str,
    as_group: Group,
    creds: Option<&Credentials>,
    opts: &ProbeOptions,
) -> ProbeResult {
    let base = base_of(url).unwrap_or_else(|| url.to_string());
    let policy = token_policy(url, as_group, &opts.protected);
    // A credential only ever goes to a declared HTTPS host, and only to this one (no redirects).
    let creds = creds.filter(|_| policy == TokenPolicy::Declared);
    let redact = |s: String| match creds {
        Some(c) => c.redact(&s),
        None => s,
    };
    let mut agent = ureq::AgentBuilder::new()
        .redirects(0)
        .timeout_connect(opts.timeout)
        .timeout(opts.timeout)
        .try_proxy_from_env(false)
        .resolver(Resolver(opts.resolve.clone()))
        .user_agent(concat!(
            "access-audit/",
            env!("CARGO_PKG_VERSION"),
            " (probe)"
        ));
    if let Some(tls) = &opts.tls {
        agent = agent.tls_config(std::sync::Arc::clone(tls));
    }
    let agent = agent.build();
    let first = request(&agent, url, None);
    let mut http = HttpStatuses {
        without_token: status_of(&first),
        with_token: None,
    };
    if as_group != Group::Remote {
        let c = classify(Phase::Local, &first);
        let status = if c.verdict == Verdict::Reachable {
            Status::Ok
        } else {
            Status::Warn
        };
        return ProbeResult {
            url: base,
            group: as_group,
            endpoint: url.to_string(),
            without_token: c.verdict,
            with_token: None,
            status,
            detail: redact(c.detail),
            http,
            credential: None,
            token_policy: policy,
            token_env: None,
        };
    }
    let without = classify(Phase::WithoutToken, &first);
    let host = url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    let mut sent = false;
    let (with_verdict, with_detail) = match policy {
        TokenPolicy::Cleartext => (
            Verdict::Cleartext,
            "token not sent: plain HTTP to a remote host, a credential would travel in clear (use https://)".to_string(),
        ),
        TokenPolicy::Undeclared => (
            Verdict::NotSent,
            format!(
                "token not sent: {host} is not a declared protected host (declare it with --domain {host} or protected-domains in access-audit.toml)"
            ),
        ),
        // Never re-sent to a host that answered without it.
        _ if without.verdict == Verdict::Exposed => (
            Verdict::NotSent,
            "token not sent: the host answered without one".to_string(),
        ),
        _ => match creds {
            Some(c) => {
                sent = true;
                let second = request(&agent, url, Some(c));
                http.with_token = status_of(&second);
                let w = classify(Phase::WithToken, &second);
                (w.verdict, format!("with token: {}", w.detail))
            }
            None => (
                Verdict::NotTested,
                "token not tested (no credential in the environment)".to_string(),
            ),
        },
    };
    let status = if without.verdict == Verdict::Exposed
        || matches!(with_verdict, Verdict::TokenRejected | Verdict::Cleartext)
    {
        Status::Fail
    } else if without.verdict == Verdict::Protected && with_verdict == Verdict::TokenOk {
        Status::Ok
    } else {
        Status::Warn
    };
    ProbeResult {
        url: base,
        group: as_group,
        endpoint: url.to_string(),
        without_token: without.verdict,
        with_token: Some(with_verdict),
        status,
        detail: redact(format!("without token: {}; {with_detail}", without.detail)),
        http,
        credential: creds.filter(|_| sent).map(Credentials::describe),
        token_policy: policy,
        token_env: None,
    }
}

fn status_of(o: &Outcome) -> Option<u16> {
    match o {
        Outcome::Response { status, .. } => Some(*status),
        Outcome::Failed(_) => None,
    }
}

/// One GET, never following a redirect; every status is an answer.
fn request(agent: &ureq::Agent, url: &str, creds: Option<&Credentials>) -> Outcome {
    let mut req = agent.get(url).set("Accept", "application/json");
    if let Some(c) = creds {
        for (name, value) in c.headers() {
            req = req.set(name, value);
        }
    }
    let resp = match req.call() {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(ureq::Error::Transport(t)) => return Outcome::Failed(transport_message(&t)),
    };
    let headers = resp
        .headers_names()
        .into_iter()
        .filter_map(|n| {
            let v = resp.header(&n)?.to_string();
            Some((n.to_ascii_lowercase(), v))
        })
        .collect();
    Outcome::Response {
        status: resp.status(),
        headers,
    }
}

/// The transport error without its URL (the address is shown next to it anyway).
fn transport_message(t: &ureq::Transport) -> String {
    let text = t.to_string();
    let text = match t.url() {
        Some(u) => text
            .strip_prefix(&format!("{u}: "))
            .map(str::to_string)
            .unwrap_or(text),
        None => text,
    };
    let lower = text.to_ascii_lowercase();
    if lower.contains("timed out") || lower.contains("timeout") {
        format!("timeout: {text}")
    } else {
        text
    }
}

/// `scheme://host[:port]` of a URL (no user info, path or query).
fn base_of(url: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    let host = u.host_str()?;
    Some(match u.port() {
        Some(p) => format!("{}://{host}:{p}", u.scheme()),
        None => format!("{}://{host}", u.scheme()),
    })
}

/// An address to probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `scheme://host[:port]` (http/https).
    pub base: String,
    pub group: Group,
    /// The endpoint's path (the rules' probe path, or the path given with `--url`).
    pub path: String,
    /// The service the address belongs to.
    pub service: String,
}

impl Target {
    pub fn endpoint(&self) -> String {
        format!("{}{}", self.base, self.path)
    }
}

/// `scheme://host[:port]` from parts: `ws`→`http`, `wss`→`https`, none→`http`; IPv6 bracketed.
fn base_from_parts(scheme: Option<&str>, host: &str, port: Option<u16>) -> String {
    let scheme = match scheme.map(str::to_ascii_lowercase).as_deref() {
        Some("https") | Some("wss") => "https",
        _ => "http",
    };
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    match port {
        Some(p) => format!("{scheme}://{host}:{p}"),
        None => format!("{scheme}://{host}"),
    }
}

/// The authority part of a displayed URL (`{holes}` included), to tell a run-time port.
fn authority_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    &rest[..end]
}

/// The distinct base addresses of a scan's findings, remote first. Skips container exec,
/// unresolved hosts, and addresses with a run-time part (`{hole}`) in the host or port.
pub fn targets_from_report(report: &Report, rules: &RuleSet) -> Vec<Target> {
    let mut seen: BTreeMap<(Group, String), Target> = BTreeMap::new();
    for f in &report.findings {
        if matches!(f.group, Group::Unresolved | Group::ContainerExec) {
            continue;
        }
        let (Some(url), Some(host)) = (&f.url, &f.host) else {
            continue;
        };
        if authority_of(url).contains('{') || host.contains('{') {
            continue;
        }
        let base = base_from_parts(f.scheme.as_deref(), host, f.port);
        let path = rules
            .service(&f.service)
            .or_else(|| rules.available.iter().find(|s| s.id == f.service))
            .map_or_else(|| rules.primary().probe.clone(), |s| s.probe.clone());
        seen.entry((f.group, base.clone())).or_insert(Target {
            base,
            group: f.group,
            path,
            service: f.service.clone(),
        });
    }
    // One target per base address, even if two findings disagree on the group.
    let mut out: Vec<Target> = Vec::new();
    for t in seen.into_values() {
        if !out.iter().any(|o| o.base == t.base) {
            out.push(t);
        }
    }
    out
}

/// A `--url` as a target: the group from the host, the probe path from the rules unless the URL
/// names a path. An invalid URL or one with a run-time part is a usage error.
pub fn target_from_url(url: &str, rules: &RuleSet) -> Result<Target, Error> {
    let bad = |why: &str| Error::Usage(format!("--url `{}`: {why}", redact_userinfo(url)));
    if url.contains('{') || url.contains('}') {
        return Err(bad(
            "the address has a run-time part ({...}); give a concrete URL",
        ));
    }
    let not_url = || bad("not a URL (expected http(s)://host[:port][/path])");
    if url.trim().is_empty() || url.trim().contains(char::is_whitespace) {
        return Err(not_url());
    }
    let addr = address::parse(url.trim()).ok_or_else(not_url)?;
    let host = addr.host.clone().ok_or_else(|| bad("no host"))?;
    let svc: &Service = rules
        .services
        .iter()
        .find(|s| address::matches(&addr, s).is_some())
        .unwrap_or_else(|| rules.primary());
    let path = if addr.path.is_empty() || addr.path == "/" {
        svc.probe.clone()
    } else {
        addr.path.clone()
    };
    Ok(Target {
        base: base_from_parts(addr.scheme.as_deref(), &host, addr.port),
        group: classify_host(Some(&host), svc),
        path,
        service: svc.id.clone(),
    })
}

/// Probe every target with at most `concurrency` requests in flight; results in target order.
pub fn probe_all(
    targets: &[Target],
    creds: &(dyn Fn(&Target) -> Option<Credentials> + Sync),
    token_env: &(dyn Fn(&Target) -> Option<String> + Sync),
    opts: &ProbeOptions,
    concurrency: usize,
) -> Vec<ProbeResult> {
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<ProbeResult>>> = targets.iter().map(|_| Mutex::new(None)).collect();
    let workers = concurrency.clamp(1, targets.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(t) = targets.get(i) else { break };
                let c = if t.group == Group::Remote {
                    creds(t)
                } else {
                    None
                };
                let mut r = probe_with(&t.endpoint(), t.group, c.as_ref(), opts);
                r.url = t.base.clone();
                r.token_env = token_env(t);
                *slots[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
            });
        }
    });
    slots
        .into_iter()
        .filter_map(|s| s.into_inner().unwrap_or_else(|e| e.into_inner()))
        .collect()
}

/// `access-audit probe`: exit 1 when a remote address is exposed or its token rejected.
pub fn run(args: &ProbeArgs) -> Result<i32, Error> {
    if !(1..=MAX_TIMEOUT_SECS).contains(&args.timeout) {
        return Err(Error::Usage(format!(
            "--timeout must be between 1 and {MAX_TIMEOUT_SECS} seconds"
        )));
    }
    let resolve = args
        .resolve
        .iter()
        .map(|r| HostOverride::parse(r))
        .collect::<Result<Vec<_>, _>>()?;
    if args.concurrency == 0 {
        return Err(Error::Usage("--concurrency must be at least 1".into()));
    }
    let (targets, rules) = if args.urls.is_empty() {
        let (report, rules) = crate::cmd::common::scan_target(&args.target, None, None)?;
        (targets_from_report(&report, &rules), rules)
    } else {
        let mut rules = RuleSet::load(args.target.rules.as_deref())?;
        if let Some(ids) = &args.target.service {
            rules.select(ids)?;
        }
        let mut targets: Vec<Target> = Vec::new();
        for u in &args.urls {
            let t = target_from_url(u, &rules)?;
            if !targets.iter().any(|o| o.endpoint() == t.endpoint()) {
                targets.push(t);
            }
        }
        (targets, rules)
    };
    let opts = ProbeOptions {
        timeout: Duration::from_secs(args.timeout),
        protected: protected_hosts(&args.target, &rules)?,
        resolve,
        tls: None,
    };
    let results = probe_targets(&targets, &rules, &opts, args.concurrency);
    let out = match args.format {
        ProbeFormat::Table => render_table(&results),
        ProbeFormat::Json => render_json(&results),
        ProbeFormat::Markdown => render_markdown(&results),
    };
    crate::cmd::common::write_output(
        args.target.output.as_deref(),
        &redact_credentials(&out, &rules),
    )?;
    Ok(exit_code(&results))
}

/// Probe `targets` with the credentials the environment holds for each one's service.
pub fn probe_targets(
    targets: &[Target],
    rules: &RuleSet,
    opts: &ProbeOptions,
    concurrency: usize,
) -> Vec<ProbeResult> {
    let token_env = |t: &Target| -> Option<String> {
        rules
            .available
            .iter()
            .find(|s| s.id == t.service)
            .and_then(|s| s.access.recommended_env.clone())
    };
    let creds = |t: &Target| Credentials::from_env(token_env(t).as_deref());
    probe_all(targets, &creds, &token_env, opts, concurrency)
}

/// The addresses a scan found, probed (`report --probe`).
pub fn probe_report(
    report: &Report,
    rules: &RuleSet,
    opts: &ProbeOptions,
    concurrency: usize,
) -> Vec<ProbeResult> {
    probe_targets(
        &targets_from_report(report, rules),
        rules,
        opts,
        concurrency,
    )
}

/// Defence in depth: no credential value from the environment reaches `text`, whatever produced it.
pub fn redact_credentials(text: &str, rules: &RuleSet) -> String {
    let mut secrets: Vec<String> = Vec::new();
    let mut envs: Vec<Option<String>> = vec![None];
    envs.extend(
        rules
            .available
            .iter()
            .map(|s| s.access.recommended_env.clone()),
    );
    for env in envs {
        if let Some(c) = Credentials::from_env(env.as_deref()) {
            secrets.extend(c.values().into_iter().map(str::to_string));
        }
    }
    // Every variable the rules name as holding a token, whether or not it was used.
    for env in rules.available.iter().flat_map(|s| &s.access.token_env) {
        if let Ok(v) = std::env::var(env) {
            secrets.push(v);
        }
    }
    redact_values(
        text,
        &secrets.iter().map(String::as_str).collect::<Vec<_>>(),
    )
}

fn with_token_cell(r: &ProbeResult) -> &'static str {
    r.with_token.map_or("-", Verdict::as_str)
}

/// The terminal table: Address, Group, Without token, With token, Detail; then a summary line.
pub fn render_table(results: &[ProbeResult]) -> String {
    if results.is_empty() {
        return "No addresses to probe: the scan found no concrete address (give --url URL).\n"
            .to_string();
    }
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    table.force_no_tty();
    table.set_width(WIDTH);
    table.set_header(vec![
        "Address",
        "Group",
        "Without token",
        "With token",
        "Detail",
    ]);
    for r in results {
        table.add_row(vec![
            Cell::new(&r.url),
            Cell::new(r.group.as_str()),
            Cell::new(r.without_token.as_str()),
            Cell::new(with_token_cell(r)),
            Cell::new(&r.detail),
        ]);
    }
    format!("{table}\n{}\n", summary_line(results))
}

fn summary_line(results: &[ProbeResult]) -> String {
    let s = summarize(results);
    let mut parts = Vec::new();
    for (n, what) in [
        (s.exposed, "exposed"),
        (s.cleartext, "over plain HTTP"),
        (s.token_rejected, "token rejected"),
        (s.protected, "protected"),
        (s.token_ok, "token ok"),
        (s.token_not_tested, "token not tested"),
        (s.token_not_sent, "token not sent"),
        (s.reachable, "reachable"),
        (s.unreachable, "unreachable"),
        (s.unexpected, "unexpected"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    }
    let warnings = results.iter().filter(|r| r.status == Status::Warn).count();
    let verdict = if s.failures > 0 {
        format!("FAIL ({} address(es) need action)", s.failures)
    } else if warnings > 0 {
        format!("ok, {warnings} to check")
    } else {
        "ok".to_string()
    };
    format!(
        "{} address(es) probed: {} - {verdict}",
        s.addresses,
        parts.join(", ")
    )
}

/// `{"results":[…], "summary":{…}}`.
pub fn render_json(results: &[ProbeResult]) -> String {
    let doc = serde_json::json!({
        "results": results,
        "summary": summarize(results),
    });
    let mut s = serde_json::to_string_pretty(&doc).expect("probe results serialize");
    s.push('\n');
    s
}

/// The `## Rollout verification` Markdown section: a table, a verdict per address and what to do
/// (`templates/probe.md.j2`).
pub fn render_markdown(results: &[ProbeResult]) -> String {
    use crate::report::escape::{cell, code, code_cell};
    #[derive(Serialize)]
    struct Row {
        address: String,
        url: String,
        group: String,
        without_token: String,
        with_token: &'static str,
        detail: String,
        verdict: String,
    }
    #[derive(Serialize)]
    struct View {
        result: &'static str,
        summary: String,
        rows: Vec<Row>,
    }
    let s = summarize(results);
    let view = View {
        result: if s.failures > 0 {
            "fail"
        } else if results.iter().any(|r| r.status == Status::Warn) {
            "pass, with addresses to check"
        } else {
            "pass"
        },
        summary: summary_line(results),
        rows: results
            .iter()
            .map(|r| Row {
                address: code_cell(&r.url),
                url: code(&r.url),
                group: r.group.to_string(),
                without_token: r.without_token.to_string(),
                with_token: with_token_cell(r),
                detail: cell(&r.detail),
                verdict: verdict_line(r),
            })
            .collect(),
    };
    crate::report::template::render("probe.md.j2", &view)
}

/// One line per address: the verdict and what to do.
pub fn verdict_line(r: &ProbeResult) -> String {
    let set_env = match &r.token_env {
        Some(env) => format!("`{CLIENT_ID_ENV}` + `{CLIENT_SECRET_ENV}` (or `{env}`)"),
        None => format!("`{CLIENT_ID_ENV}` + `{CLIENT_SECRET_ENV}`"),
    };
    if r.group != Group::Remote {
        return match r.without_token {
            Verdict::Reachable => format!(
                "**reachable** ({}) - a {} address, unaffected by Access; nothing to do.",
                r.http
                    .without_token
                    .map_or_else(String::new, |s| format!("HTTP {s}")),
                r.group
            ),
            _ => format!(
                "**not reachable from here** - a {} address; expected when the probe runs outside \
                 that host or Docker network. Nothing to do if the service runs elsewhere.",
                r.group
            ),
        };
    }
    let token = r.with_token.unwrap_or(Verdict::NotTested);
    let host = url::Url::parse(&r.url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    match (r.without_token, token) {
        (Verdict::Exposed, _) => "**exposed** - Access is not enforced on this host: the API \
             answers without a credential. Add a Cloudflare Access application (with a policy) \
             for this hostname before anything else."
            .to_string(),
        (_, Verdict::Cleartext) => "**credential would travel in clear** - a remote address over \
             plain HTTP: the service token was not sent. Use `https://` (Access serves the host \
             over HTTPS) in the code and in the probe."
            .to_string(),
        (Verdict::Protected, Verdict::NotSent) => format!(
            "**protected, token not sent** - Access is enforced; `{host}` is not declared \
             protected, so the service token was withheld. Declare it (`--domain {host}` or \
             `protected-domains` in `access-audit.toml`) to verify the token."
        ),
        (_, Verdict::TokenRejected) => "**token rejected** - Access is enforced but refuses the \
             service token: add the service token to the Access policy (a *Service Auth* rule \
             of this application) and check the client id and secret in the environment."
            .to_string(),
        (Verdict::Protected, Verdict::TokenOk) => {
            "**verified** - Access is enforced and the service token gets through.".to_string()
        }
        (Verdict::Protected, Verdict::NotTested) => format!(
            "**protected, token not tested** - Access is enforced. Set {set_env} and run \
             `access-audit probe` again to verify the service token."
        ),
        (Verdict::Protected, Verdict::Unreachable) => "**protected; the request with the token \
             did not get through** - check DNS / the tunnel and run again."
            .to_string(),
        (Verdict::Protected, _) => format!(
            "**protected; unexpected answer with the token** ({}) - check what answers behind \
             Access (the origin may be failing).",
            r.http
                .with_token
                .map_or_else(|| "no status".to_string(), |s| format!("HTTP {s}"))
        ),
        (Verdict::Unreachable, _) => "**unreachable** - check DNS / the tunnel (cloudflared) \
             and that the service is running."
            .to_string(),
        _ => format!(
            "**unexpected answer** ({}) - neither the API nor Access answered as expected; check \
             what answers on this host (an origin error, another proxy, a redirect elsewhere).",
            r.http
                .without_token
                .map_or_else(|| "no status".to_string(), |s| format!("HTTP {s}"))
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    const LOGIN: &str = "https://team.cloudflareaccess.com/cdn-cgi/access/login/comfyui.example.space?redirect_url=%2Fsystem_stats";

    #[test]
    fn without_token() {
        let v = |s, hs: &[(&str, &str)]| classify_response(Phase::WithoutToken, s, &h(hs)).verdict;
        assert_eq!(v(302, &[("Location", LOGIN)]), Verdict::Protected);
        assert_eq!(v(303, &[("location", LOGIN)]), Verdict::Protected);
        assert_eq!(v(307, &[("location", LOGIN)]), Verdict::Protected);
        assert_eq!(
            v(302, &[("location", "https://evil.example.com/")]),
            Verdict::Unexpected
        );
        assert_eq!(
            v(
                302,
                &[("location", "https://cloudflareaccess.com.evil.net/")]
            ),
            Verdict::Unexpected
        );
        assert_eq!(v(302, &[("location", "/login")]), Verdict::Unexpected);
        assert_eq!(v(302, &[]), Verdict::Unexpected);
        assert_eq!(v(403, &[("cf-ray", "1-AMS")]), Verdict::Protected);
        assert_eq!(v(401, &[]), Verdict::Protected);
        assert_eq!(v(200, &[]), Verdict::Exposed);
        assert_eq!(v(500, &[]), Verdict::Unexpected);
        assert_eq!(v(404, &[]), Verdict::Unexpected);
        let d = classify_response(Phase::WithoutToken, 403, &h(&[("CF-Access-Domain", "x")]));
        assert!(d.detail.contains("from Cloudflare"), "{}", d.detail);
        let d = classify_response(Phase::WithoutToken, 403, &[]);
        assert!(d.detail.contains("no Cloudflare headers"), "{}", d.detail);
        let d = classify_response(Phase::WithoutToken, 302, &h(&[("location", LOGIN)]));
        assert_eq!(
            d.detail,
            "HTTP 302 to team.cloudflareaccess.com (Access login)"
        );
    }

    #[test]
    fn with_token() {
        let v = |s, hs: &[(&str, &str)]| classify_response(Phase::WithToken, s, &h(hs)).verdict;
        assert_eq!(v(200, &[]), Verdict::TokenOk);
        assert_eq!(v(204, &[]), Verdict::TokenOk);
        assert_eq!(v(302, &[("location", LOGIN)]), Verdict::TokenRejected);
        assert_eq!(v(403, &[]), Verdict::TokenRejected);
        assert_eq!(v(401, &[]), Verdict::TokenRejected);
        assert_eq!(
            v(302, &[("location", "https://example.com/")]),
            Verdict::Unexpected
        );
        assert_eq!(v(502, &[]), Verdict::Unexpected);
    }

    #[test]
    fn local_and_failures() {
        assert_eq!(
            classify_response(Phase::Local, 404, &[]).verdict,
            Verdict::Reachable
        );
        for phase in [Phase::Local, Phase::WithoutToken, Phase::WithToken] {
            let c = classify(phase, &Outcome::Failed("Connection refused".into()));
            assert_eq!(c.verdict, Verdict::Unreachable);
        }
    }

    #[test]
    fn credentials_from_lookup() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |n: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == n)
                    .map(|(_, v)| v.to_string())
            }
        };
        let c = Credentials::from_lookup(
            env(&[
                ("CF_ACCESS_CLIENT_ID", "id-1234"),
                ("CF_ACCESS_CLIENT_SECRET", "sec-5678"),
            ]),
            Some("COMFYUI_ACCESS_TOKEN"),
        )
        .unwrap();
        assert!(matches!(c, Credentials::ServiceToken { .. }));
        let shown = format!("{c:?} {}", c.describe());
        assert!(
            !shown.contains("id-1234") && !shown.contains("sec-5678"),
            "{shown}"
        );
        assert_eq!(c.redact("a id-1234 b sec-5678"), "a *** b ***");
        // Only the id: falls back to the token variable.
        let c = Credentials::from_lookup(
            env(&[
                ("CF_ACCESS_CLIENT_ID", "id-1234"),
                ("COMFYUI_ACCESS_TOKEN", "tok-9999"),
            ]),
            Some("COMFYUI_ACCESS_TOKEN"),
        )
        .unwrap();
        assert_eq!(c.describe(), "COMFYUI_ACCESS_TOKEN");
        assert!(Credentials::from_lookup(env(&[("CF_ACCESS_CLIENT_SECRET", " ")]), None).is_none());
    }

    #[test]
    fn bases() {
        assert_eq!(
            base_from_parts(Some("wss"), "a.example.com", None),
            "https://a.example.com"
        );
        assert_eq!(
            base_from_parts(None, "::1", Some(8188)),
            "http://[::1]:8188"
        );
        assert_eq!(
            authority_of("http://comfyui:{PORT}/prompt"),
            "comfyui:{PORT}"
        );
        assert_eq!(
            base_of("https://u:p@x.example.com:8443/a?b").as_deref(),
            Some("https://x.example.com:8443")
        );
    }

    #[test]
    fn the_token_goes_only_over_https_to_declared_hosts() {
        let declared = vec![
            "comfy.example.dev".to_string(),
            "*.corp.example".to_string(),
        ];
        let p = |url: &str, group| token_policy(url, group, &declared);
        use TokenPolicy::{Cleartext, Declared, NotRemote, Undeclared};
        for (url, want) in [
            ("https://comfy.example.dev/system_stats", Declared),
            ("wss://COMFY.example.dev./ws", Declared),
            ("https://a.corp.example/x", Declared),
            // Plain HTTP / WS: never, even to a declared host.
            ("http://comfy.example.dev/x", Cleartext),
            ("ws://comfy.example.dev/ws", Cleartext),
            // A host merely found in code: never. Look-alikes do not match.
            ("https://evil.example/x", Undeclared),
            ("https://comfy.example.dev.evil.example/x", Undeclared),
            ("https://xcomfy.example.dev/x", Undeclared),
            ("https://corp.example/x", Undeclared),
            ("https://comfy.example.dev@evil.example/x", Undeclared),
            ("not a url", Undeclared),
        ] {
            assert_eq!(p(url, Group::Remote), want, "{url}");
        }
        assert_eq!(p("https://comfy.example.dev/x", Group::Local), NotRemote);
        assert_eq!(
            token_policy("https://comfy.example.dev/x", Group::Remote, &[]),
            TokenPolicy::Undeclared
        );
    }

    #[test]
    fn protected_hosts_come_from_flags_config_and_rules() {
        use clap::Parser;
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("access-audit.toml"),
            "protected-domains = [\"Comfy.Example.dev\"]\n",
        )
        .unwrap();
        let sub = dir.path().join("src");
        std::fs::create_dir_all(&sub).unwrap();
        let cli = crate::cli::Cli::try_parse_from([
            "access-audit".as_ref(),
            "probe".as_ref(),
            sub.as_os_str(),
            "--domain".as_ref(),
            "b.example".as_ref(),
        ])
        .unwrap();
        let crate::cli::Command::Probe(args) = cli.command else {
            panic!("not probe");
        };
        let mut rules = RuleSet::embedded().unwrap();
        // A rule file's own domains count too.
        rules.services[0].domains.push("rules.example".into());
        let got = protected_hosts(&args.target, &rules).unwrap();
        assert_eq!(got, vec!["b.example", "comfy.example.dev", "rules.example"]);
    }

    #[test]
    fn host_overrides_parse() {
        let o = HostOverride::parse("Comfy.Example.dev:443:127.0.0.1").unwrap();
        assert_eq!(
            (o.host.as_str(), o.port, o.addr.to_string().as_str()),
            ("comfy.example.dev", 443, "127.0.0.1")
        );
        assert_eq!(
            HostOverride::parse("h:8443:[::1]")
                .unwrap()
                .addr
                .to_string(),
            "::1"
        );
        for bad in [
            "h",
            "h:443",
            "h:port:127.0.0.1",
            ":443:127.0.0.1",
            "h:443:not-an-ip",
            "h:70000:127.0.0.1",
        ] {
            assert!(HostOverride::parse(bad).is_err(), "{bad}");
        }
        let r = Resolver(vec![o]);
        use ureq::Resolver as _;
        assert_eq!(
            r.resolve("COMFY.example.dev:443").unwrap(),
            vec!["127.0.0.1:443".parse().unwrap()]
        );
        assert_eq!(
            r.resolve("127.0.0.2:80").unwrap(),
            vec!["127.0.0.2:80".parse().unwrap()]
        );
    }

    #[test]
    fn transformed_echoes_are_redacted() {
        let secret = "Sec-Ret/Value+42=x";
        let c = Credentials::Token {
            env: "T".into(),
            token: secret.into(),
        };
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD.encode(secret);
        let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret);
        for echo in [
            secret.to_string(),
            secret.to_lowercase(),
            secret.to_uppercase(),
            percent_encode(secret),
            percent_encode(secret).to_lowercase(),
            b64.clone(),
            b64url.clone(),
        ] {
            let out = c.redact(&format!("before {echo} after"));
            assert_eq!(out, "before *** after", "{echo}");
        }
    }

    #[test]
    fn url_passwords_never_reach_messages() {
        assert_eq!(
            redact_userinfo("https://user:hunter2-pass@h.example/x@y"),
            "https://***@h.example/x@y"
        );
        assert_eq!(
            redact_userinfo("https://h.example/a@b"),
            "https://h.example/a@b"
        );
        let rules = RuleSet::embedded().unwrap();
        for url in [
            "https://user:hunter2-pass@{HOST}:8188",
            "ftp://user:hunter2-pass@h.example",
        ] {
            let e = target_from_url(url, &rules).unwrap_err().to_string();
            assert!(!e.contains("hunter2"), "{e}");
            assert!(e.contains("***@"), "{e}");
        }
    }

    #[test]
    fn urls_become_targets() {
        let rules = RuleSet::embedded().unwrap();
        let t = target_from_url("https://comfyui.datacrew.space", &rules).unwrap();
        assert_eq!(t.endpoint(), "https://comfyui.datacrew.space/system_stats");
        assert_eq!(t.group, Group::Remote);
        let t = target_from_url("http://127.0.0.1:8188/queue", &rules).unwrap();
        assert_eq!(
            (t.group, t.endpoint().as_str()),
            (Group::Local, "http://127.0.0.1:8188/queue")
        );
        assert!(target_from_url("not a url", &rules).is_err());
        assert!(target_from_url("http://{HOST}:8188", &rules).is_err());
        assert!(target_from_url("ftp://x", &rules).is_err());
    }
}
