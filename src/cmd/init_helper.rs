//! `access-audit init-helper`: write the token helper the report recommends.
//!
//! The helper is generated from the rules of the primary service: its name, the credential headers
//! (`access.headers`), the token variable (`access.recommended_env`), the container names that count
//! as local (`address.hosts`), the default file (`helpers.files[0]`) and the function name
//! (`helpers.functions[0]`), so the scanner recognises calls through it out of the box.
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

/// The Python helper (standard library only).
pub fn python(spec: &HelperSpec) -> String {
    fill(spec, PYTHON_TEMPLATE)
}

/// The Rust helper module (`ureq` 2 + `serde_json`).
pub fn rust(spec: &HelperSpec) -> String {
    fill(spec, RUST_TEMPLATE)
}

fn fill(spec: &HelperSpec, template: &str) -> String {
    let py_hosts = spec
        .docker_hosts
        .iter()
        .map(|h| format!("{h:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    let py_hosts = if spec.docker_hosts.len() == 1 {
        format!("{py_hosts},")
    } else {
        py_hosts
    };
    let rs_hosts = spec
        .docker_hosts
        .iter()
        .map(|h| format!("{h:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    template
        .replace("@NAME@", &spec.name)
        .replace("@PREFIX@", &spec.prefix)
        .replace("@CLASS@", &spec.error_class())
        .replace("@FUNC@", &spec.function)
        .replace("@URL_ENV@", &spec.url_env)
        .replace("@DEFAULT_URL@", &spec.default_url)
        .replace("@REQUIRED_ENV@", &spec.required_env)
        .replace("@TIMEOUT_ENV@", &spec.timeout_env)
        .replace("@ID_HEADER@", &spec.id_header)
        .replace("@SECRET_HEADER@", &spec.secret_header)
        .replace("@ID_ENV@", &spec.id_env)
        .replace("@SECRET_ENV@", &spec.secret_env)
        .replace("@TOKEN_HEADER@", &spec.token_header)
        .replace("@TOKEN_ENV@", &spec.token_env)
        .replace("@PY_HOSTS@", &py_hosts)
        .replace("@MODULE@", &module_path(Path::new(&spec.python_file)))
        .replace("@RS_HOSTS@", &rs_hosts)
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
        std::fs::create_dir_all(parent).map_err(|e| Error::Output {
            path: parent.display().to_string(),
            message: e.to_string(),
        })?;
    }
    crate::cmd::fix::write_atomic(&out, text.as_bytes()).map_err(|e| Error::Output {
        path: out.display().to_string(),
        message: e.to_string(),
    })?;
    println!("Wrote the {} token helper to {}", spec.name, out.display());
    match args.lang {
        HelperLang::Python => {
            let module = module_path(&out);
            println!(
                "Next: call the API through it — `from {module} import {func}` then `{func}(\"/system_stats\")` —",
                func = spec.function
            );
            println!(
                "and set {url} (default {default}) plus {id} / {secret} (service token) or {token} in the environment.",
                url = spec.url_env,
                default = spec.default_url,
                id = spec.id_env,
                secret = spec.secret_env,
                token = spec.token_env
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
            println!(
                "and set {url} (default {default}) plus {id} / {secret} (service token) or {token} in the environment.",
                url = spec.url_env,
                default = spec.default_url,
                id = spec.id_env,
                secret = spec.secret_env,
                token = spec.token_env
            );
        }
    }
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

const PYTHON_TEMPLATE: &str = r#""""@NAME@ API client that adds the Cloudflare Access credential.

Generated by `access-audit init-helper`; every request to @NAME@ should go through
`@FUNC@()`, which the access-audit scanner counts as tokenized.

Environment (read on every call, never stored in code):
  @URL_ENV@                 base URL (default @DEFAULT_URL@); an absolute URL passed to
                            @FUNC@() wins over it
  @ID_ENV@ + @SECRET_ENV@   Access service token, sent as @ID_HEADER@ / @SECRET_HEADER@
  @TOKEN_ENV@      alternative: an Access token, sent as @TOKEN_HEADER@
  @REQUIRED_ENV@   "1": require a credential even for a local address (e.g. a
                            local test of the Access front); default: only for remote addresses
  @TIMEOUT_ENV@           default timeout in seconds (30)

Local addresses (localhost, 127.0.0.0/8, ::1, the container names in DOCKER_HOSTS, private
networks, .local/.lan/.internal/.ts.net) need no credential; a credential that is set is still
sent. A remote address without a credential raises
@CLASS@ before any network call. Redirects to another host (the Access login page)
are never followed: they raise @CLASS@ too.

    from @MODULE@ import @FUNC@
    stats = @FUNC@("/system_stats")
    queued = @FUNC@("/prompt", method="POST", data={"prompt": workflow})
"""

from __future__ import annotations

import ipaddress
import json
import os
import urllib.error
import urllib.parse
import urllib.request

DEFAULT_URL = "@DEFAULT_URL@"
DEFAULT_TIMEOUT = 30.0

# Container / compose service names that reach @NAME@ on the Docker network (from the rules).
DOCKER_HOSTS = frozenset((@PY_HOSTS@))
PRIVATE_SUFFIXES = (".local", ".lan", ".internal", ".home.arpa", ".ts.net", ".localhost")
_CGNAT = ipaddress.ip_network("100.64.0.0/10")


class @CLASS@(RuntimeError):
    """The request cannot carry (or was refused) the Cloudflare Access credential."""


def @PREFIX@_base_url() -> str:
    """The base URL from @URL_ENV@ (default @DEFAULT_URL@), without a trailing slash."""
    return os.environ.get("@URL_ENV@", DEFAULT_URL).rstrip("/")


def is_local_url(url: str) -> bool:
    """Is this address local (loopback, container name, private network)? Such addresses do not
    go through Cloudflare, so they need no Access credential."""
    host = (urllib.parse.urlsplit(url).hostname or "").lower().rstrip(".")
    if not host or host == "localhost" or host in DOCKER_HOSTS:
        return True
    if host.endswith(PRIVATE_SUFFIXES):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        # A single-label name (`comfyui`, `worker`) is a container or LAN host.
        return "." not in host
    return (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_unspecified
        or (ip.version == 4 and ip in _CGNAT)
    )


def _required(url: str) -> bool:
    forced = os.environ.get("@REQUIRED_ENV@", "").strip().lower() in ("1", "true", "yes")
    return forced or not is_local_url(url)


def @PREFIX@_access_headers(url: str | None = None) -> dict:
    """The Access credential headers, from the environment only.

    Empty when no credential is set and `url` is local; raises @CLASS@ when no
    credential is set and `url` is remote (or @REQUIRED_ENV@=1). Pass them to a WebSocket
    client too (websocket-client: `header=[f"{k}: {v}" for k, v in headers.items()]`).
    """
    client_id = os.environ.get("@ID_ENV@", "").strip()
    client_secret = os.environ.get("@SECRET_ENV@", "").strip()
    token = os.environ.get("@TOKEN_ENV@", "").strip()
    if client_id and client_secret:
        return {"@ID_HEADER@": client_id, "@SECRET_HEADER@": client_secret}
    if token:
        return {"@TOKEN_HEADER@": token}
    target = url if url is not None else @PREFIX@_base_url()
    if _required(target):
        half = ""
        if client_id or client_secret:
            half = " (only one of @ID_ENV@ / @SECRET_ENV@ is set)"
        raise @CLASS@(
            f"{target} is behind Cloudflare Access but no credential is set{half}: "
            "set @ID_ENV@ and @SECRET_ENV@ (service token) or @TOKEN_ENV@ "
            "in the environment, or point @URL_ENV@ at a local address"
        )
    return {}


def @PREFIX@_url(path: str) -> str:
    """An absolute URL for `path` (`/system_stats`); an absolute URL is returned as is."""
    if path.startswith(("http://", "https://", "ws://", "wss://")):
        return path
    return @PREFIX@_base_url() + "/" + path.lstrip("/")


class _SameHostRedirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only to the same host (http -> https allowed); a redirect elsewhere, such
    as the Access login page, is an error: the credential is missing or was rejected."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        old = urllib.parse.urlsplit(req.full_url)
        new = urllib.parse.urlsplit(urllib.parse.urljoin(req.full_url, newurl))
        if (new.hostname or "").lower() != (old.hostname or "").lower() or new.scheme not in ("http", "https"):
            login = " (the Cloudflare Access login)" if "cloudflareaccess.com" in (new.hostname or "") else ""
            raise @CLASS@(
                f"{req.full_url} redirected ({code}) to {new.scheme}://{new.hostname}{login}: "
                "the Access credential is missing or was rejected; check @ID_ENV@ / "
                "@SECRET_ENV@ (or @TOKEN_ENV@)"
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_OPENER = urllib.request.build_opener(_SameHostRedirects)


def @FUNC@(path: str, method: str = "GET", data=None, timeout: float | None = None, headers: dict | None = None):
    """Send a request to @NAME@ with the Access credential and return the parsed JSON.

    `path` is an API route (`/prompt`) joined to @URL_ENV@, or an absolute URL. `data` is sent as
    JSON (dict / list) or as is (bytes). Returns the parsed JSON body, `None` for an empty body,
    or the raw bytes of a non-JSON body (images from /view). HTTP errors raise
    urllib.error.HTTPError; a missing or refused credential raises @CLASS@.
    """
    url = @PREFIX@_url(path)
    if timeout is None:
        timeout = float(os.environ.get("@TIMEOUT_ENV@", DEFAULT_TIMEOUT))
    send = {"Accept": "application/json"}
    send.update(headers or {})
    # The credential: "@ID_HEADER@" / "@SECRET_HEADER@" or "@TOKEN_HEADER@".
    send.update(@PREFIX@_access_headers(url))
    body = None
    if data is not None:
        if isinstance(data, (bytes, bytearray)):
            body = bytes(data)
        else:
            body = json.dumps(data).encode("utf-8")
            send.setdefault("Content-Type", "application/json")
    request = urllib.request.Request(url, data=body, headers=send, method=method.upper())
    with _OPENER.open(request, timeout=timeout) as response:
        payload = response.read()
        content_type = response.headers.get("Content-Type", "")
    if not payload:
        return None
    if "json" in content_type or payload[:1] in (b"{", b"["):
        try:
            return json.loads(payload.decode("utf-8"))
        except ValueError:
            pass
    return payload
"#;

const RUST_TEMPLATE: &str = r#"//! @NAME@ API client that adds the Cloudflare Access credential.
//!
//! Generated by `access-audit init-helper --lang rust`; every request to @NAME@ should go through
//! [`@FUNC@`], which the access-audit scanner counts as tokenized. Needs `ureq = "2"` and
//! `serde_json = "1"` in Cargo.toml.
//!
//! Environment (read on every call, never stored in code):
//! - `@URL_ENV@`: base URL (default `@DEFAULT_URL@`); an absolute URL passed in wins over it
//! - `@ID_ENV@` + `@SECRET_ENV@`: Access service token, sent as `@ID_HEADER@` / `@SECRET_HEADER@`
//! - `@TOKEN_ENV@`: alternative, an Access token sent as `@TOKEN_HEADER@`
//! - `@REQUIRED_ENV@=1`: require a credential even for a local address
//! - `@TIMEOUT_ENV@`: timeout in seconds (30)
//!
//! Local addresses (loopback, container names, private networks) need no credential; a credential
//! that is set is still sent. A remote address without a credential is an error before any network
//! call. Redirects are followed only to the same host: a redirect elsewhere (the Access login page)
//! is an error.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

pub const DEFAULT_URL: &str = "@DEFAULT_URL@";
const DEFAULT_TIMEOUT_SECS: u64 = 30;
const MAX_REDIRECTS: usize = 5;
/// Container / compose service names that reach @NAME@ on the Docker network (from the rules).
const DOCKER_HOSTS: &[&str] = &[@RS_HOSTS@];
const PRIVATE_SUFFIXES: &[&str] = &[".local", ".lan", ".internal", ".home.arpa", ".ts.net", ".localhost"];

/// What can go wrong.
#[derive(Debug)]
pub enum AccessError {
    /// A remote address and no credential in the environment.
    MissingCredential(String),
    /// A redirect to another host (the Access login page): the credential is missing or rejected.
    Redirected { url: String, location: String, status: u16 },
    /// An HTTP error status.
    Status { url: String, status: u16, body: String },
    /// Network, I/O or JSON errors.
    Transport(String),
}

impl fmt::Display for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AccessError::MissingCredential(url) => write!(
                f,
                "{url} is behind Cloudflare Access but no credential is set: set @ID_ENV@ and @SECRET_ENV@ (service token) or @TOKEN_ENV@ in the environment, or point @URL_ENV@ at a local address"
            ),
            AccessError::Redirected { url, location, status } => write!(
                f,
                "{url} redirected ({status}) to {location}: the Access credential is missing or was rejected; check @ID_ENV@ / @SECRET_ENV@ (or @TOKEN_ENV@)"
            ),
            AccessError::Status { url, status, body } => write!(f, "{url}: HTTP {status}: {body}"),
            AccessError::Transport(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for AccessError {}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

/// The base URL from `@URL_ENV@` (default `@DEFAULT_URL@`), without a trailing slash.
pub fn @PREFIX@_base_url() -> String {
    env("@URL_ENV@").unwrap_or_else(|| DEFAULT_URL.to_string()).trim_end_matches('/').to_string()
}

/// An absolute URL for `path` (`/system_stats`); an absolute URL is returned as is.
pub fn @PREFIX@_url(path: &str) -> String {
    if ["http://", "https://", "ws://", "wss://"].iter().any(|s| path.starts_with(s)) {
        return path.to_string();
    }
    format!("{}/{}", @PREFIX@_base_url(), path.trim_start_matches('/'))
}

/// The host of an absolute URL, lower-cased, without brackets, port or user info.
fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(|c: char| c == '/' || c == '?' || c == '#').next().unwrap_or("");
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        authority.split(':').next().unwrap_or("")
    };
    host.trim_end_matches('.').to_ascii_lowercase()
}

/// Is this address local (loopback, container name, private network)? Such addresses do not go
/// through Cloudflare, so they need no Access credential.
pub fn is_local_url(url: &str) -> bool {
    let host = host_of(url);
    if host.is_empty() || host == "localhost" || DOCKER_HOSTS.contains(&host.as_str()) {
        return true;
    }
    if PRIVATE_SUFFIXES.iter().any(|s| host.ends_with(s)) {
        return true;
    }
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => {
            let o = ip.octets();
            ip.is_loopback()
                || ip.is_private()
                || ip.is_link_local()
                || ip.is_unspecified()
                || (o[0] == 100 && (64..128).contains(&o[1]))
        }
        Ok(IpAddr::V6(ip)) => {
            let first = ip.segments()[0];
            ip.is_loopback() || ip.is_unspecified() || (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80
        }
        // A single-label name (`comfyui`, `worker`) is a container or LAN host.
        Err(_) => !host.contains('.'),
    }
}

fn required(url: &str) -> bool {
    let forced = env("@REQUIRED_ENV@").is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes"));
    forced || !is_local_url(url)
}

/// The Access credential headers, from the environment only: empty when none is set and `url` is
/// local, an error when none is set and `url` is remote (or `@REQUIRED_ENV@=1`).
pub fn @PREFIX@_access_headers(url: &str) -> Result<Vec<(&'static str, String)>, AccessError> {
    if let (Some(id), Some(secret)) = (env("@ID_ENV@"), env("@SECRET_ENV@")) {
        return Ok(vec![("@ID_HEADER@", id), ("@SECRET_HEADER@", secret)]);
    }
    if let Some(token) = env("@TOKEN_ENV@") {
        return Ok(vec![("@TOKEN_HEADER@", token)]);
    }
    if required(url) {
        return Err(AccessError::MissingCredential(url.to_string()));
    }
    Ok(Vec::new())
}

/// Send a request to @NAME@ with the Access credential and return the parsed JSON
/// (`Value::Null` for an empty body). `path` is an API route (`/prompt`) joined to `@URL_ENV@`, or
/// an absolute URL; `body` is sent as JSON.
pub fn @FUNC@(path: &str, method: &str, body: Option<&serde_json::Value>) -> Result<serde_json::Value, AccessError> {
    let mut url = @PREFIX@_url(path);
    // The credential: "@ID_HEADER@" / "@SECRET_HEADER@" or "@TOKEN_HEADER@".
    let headers = @PREFIX@_access_headers(&url)?;
    let timeout = env("@TIMEOUT_ENV@").and_then(|t| t.parse().ok()).unwrap_or(DEFAULT_TIMEOUT_SECS);
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(timeout))
        .redirects(0)
        .build();
    let payload = match body {
        Some(b) => Some(serde_json::to_string(b).map_err(|e| AccessError::Transport(e.to_string()))?),
        None => None,
    };
    for _ in 0..=MAX_REDIRECTS {
        let mut request = agent.request(&method.to_ascii_uppercase(), &url).set("Accept", "application/json");
        for (name, value) in &headers {
            request = request.set(name, value);
        }
        let result = match &payload {
            Some(p) => request.set("Content-Type", "application/json").send_string(p),
            None => request.call(),
        };
        let response = match result {
            Ok(r) => r,
            Err(ureq::Error::Status(status, r)) => {
                let body = r.into_string().unwrap_or_default();
                return Err(AccessError::Status { url, status, body });
            }
            Err(e) => return Err(AccessError::Transport(e.to_string())),
        };
        let status = response.status();
        if (300..400).contains(&status) {
            let location = response.header("Location").unwrap_or("").to_string();
            let next = if location.starts_with("http://") || location.starts_with("https://") {
                location.clone()
            } else {
                let rest = url.split_once("://").map_or("", |(_, r)| r);
                let origin_len = url.len() - rest.len() + rest.find('/').unwrap_or(rest.len());
                format!("{}/{}", &url[..origin_len], location.trim_start_matches('/'))
            };
            if host_of(&next) != host_of(&url) || !(next.starts_with("http://") || next.starts_with("https://")) {
                return Err(AccessError::Redirected { url, location, status });
            }
            url = next;
            continue;
        }
        let text = response.into_string().map_err(|e| AccessError::Transport(e.to_string()))?;
        if text.trim().is_empty() {
            return Ok(serde_json::Value::Null);
        }
        return serde_json::from_str(&text).map_err(|e| AccessError::Transport(format!("{url}: not JSON: {e}")));
    }
    Err(AccessError::Transport(format!("{url}: too many redirects")))
}
"#;
