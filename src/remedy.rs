//! Remedies: what to change so an untokenized use carries the Access credential. The helper's
//! names (functions, env vars, headers) derived from the rules ([`HelperSpec`]), and the one-line
//! suggestion used by `check`, the report and `check --fix` ([`suggestion`]).

use std::path::Path;

use crate::engine::finding::Language;
use crate::rules::Service;

/// Everything the templates need, derived from one service's rules.
#[derive(Debug, Clone)]
pub struct HelperSpec {
    /// Display name (`ComfyUI`).
    pub name: String,
    /// Identifier prefix of the helper's functions and env vars (`comfyui`).
    pub prefix: String,
    /// The request function (`comfyui_request`): a name from `helpers.functions`.
    pub function: String,
    /// Env var holding the base URL (`COMFYUI_URL`).
    pub url_env: String,
    /// Default base URL (`http://localhost:8188`).
    pub default_url: String,
    /// Env var forcing credentials even for local addresses (`COMFYUI_ACCESS_REQUIRED`).
    pub required_env: String,
    /// Env var with the default timeout in seconds (`COMFYUI_TIMEOUT`).
    pub timeout_env: String,
    /// Service-token headers and their env vars.
    pub id_header: String,
    pub secret_header: String,
    pub id_env: String,
    pub secret_env: String,
    /// Single-token header (`cf-access-token`) and its env var (`COMFYUI_ACCESS_TOKEN`).
    pub token_header: String,
    pub token_env: String,
    /// Container / compose service names that reach the service on the Docker network.
    pub docker_hosts: Vec<String>,
    /// Default output path per language.
    pub python_file: String,
    pub rust_file: String,
    /// Whether the rules declare the function name (else the scanner needs a rules update).
    pub declared: bool,
}

impl HelperSpec {
    /// Derive the spec from a service's rules.
    pub fn from_service(svc: &Service) -> HelperSpec {
        let prefix: String = svc
            .id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect();
        let upper = prefix.to_ascii_uppercase();
        let declared = !svc.helpers.functions.is_empty();
        let function = svc
            .helpers
            .functions
            .iter()
            .find(|f| f.ends_with("_request"))
            .or(svc.helpers.functions.first())
            .cloned()
            .unwrap_or_else(|| format!("{prefix}_request"));
        let header = |needle: &str, default: &str| {
            svc.access
                .headers
                .iter()
                .find(|h| h.to_ascii_lowercase().contains(needle))
                .cloned()
                .unwrap_or_else(|| default.to_string())
        };
        let env = |needle: &str, default: &str| {
            svc.access
                .token_env
                .iter()
                .find(|e| e.starts_with("CF_ACCESS_") && e.ends_with(needle))
                .cloned()
                .unwrap_or_else(|| default.to_string())
        };
        let default_url = match svc.ports.first() {
            Some(p) => format!("http://localhost:{p}"),
            None => "http://localhost".to_string(),
        };
        let python_file = svc
            .helpers
            .files
            .iter()
            .find(|f| f.ends_with(".py"))
            .cloned()
            .unwrap_or_else(|| format!("utils/{prefix}_api_client.py"));
        let rust_file = svc
            .helpers
            .files
            .iter()
            .find(|f| f.ends_with(".rs"))
            .cloned()
            .unwrap_or_else(|| {
                let stem = Path::new(&python_file)
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| format!("{prefix}_api_client"));
                format!("src/{stem}.rs")
            });
        HelperSpec {
            name: svc.name.clone(),
            function,
            url_env: format!("{upper}_URL"),
            default_url,
            required_env: format!("{upper}_ACCESS_REQUIRED"),
            timeout_env: format!("{upper}_TIMEOUT"),
            id_header: header("client-id", "CF-Access-Client-Id"),
            secret_header: header("client-secret", "CF-Access-Client-Secret"),
            id_env: env("_ID", "CF_ACCESS_CLIENT_ID"),
            secret_env: env("_SECRET", "CF_ACCESS_CLIENT_SECRET"),
            token_header: header("token", "cf-access-token"),
            token_env: svc
                .access
                .recommended_env
                .clone()
                .unwrap_or_else(|| format!("{upper}_ACCESS_TOKEN")),
            docker_hosts: svc.hosts.clone(),
            python_file,
            rust_file,
            declared,
            prefix,
        }
    }

    /// The Python exception class: `ComfyUIAccessError`.
    pub fn error_class(&self) -> String {
        let stem: String = self
            .name
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect();
        let stem = if stem.is_empty() {
            "Service".to_string()
        } else {
            stem
        };
        let stem = if stem.starts_with(|c: char| c.is_ascii_digit()) {
            format!("S{stem}")
        } else {
            stem
        };
        format!("{stem}AccessError")
    }
}

/// The credential header names and the env vars their values come from.
struct Creds {
    id_header: String,
    secret_header: String,
    id_env: String,
    secret_env: String,
}

impl Creds {
    fn of(svc: Option<&Service>) -> Creds {
        match svc {
            Some(s) => {
                let spec = HelperSpec::from_service(s);
                Creds {
                    id_header: spec.id_header,
                    secret_header: spec.secret_header,
                    id_env: spec.id_env,
                    secret_env: spec.secret_env,
                }
            }
            None => Creds {
                id_header: "CF-Access-Client-Id".into(),
                secret_header: "CF-Access-Client-Secret".into(),
                id_env: "CF_ACCESS_CLIENT_ID".into(),
                secret_env: "CF_ACCESS_CLIENT_SECRET".into(),
            },
        }
    }

    /// `{"CF-Access-Client-Id": os.environ["CF_ACCESS_CLIENT_ID"], …}`
    fn py_dict(&self) -> String {
        format!(
            "{{\"{}\": os.environ[\"{}\"], \"{}\": os.environ[\"{}\"]}}",
            self.id_header, self.id_env, self.secret_header, self.secret_env
        )
    }
}

/// The keyword argument `check --fix` inserts (default ComfyUI / Cloudflare names).
pub fn headers_kwarg(svc: Option<&Service>) -> String {
    format!("headers={}", Creds::of(svc).py_dict())
}

/// A concrete suggested change for an untokenized remote use: route it through the token helper,
/// or the header lines to add for that client library. One line; code in backticks.
pub fn suggestion(client: Option<&str>, language: Language, svc: Option<&Service>) -> String {
    let c = Creds::of(svc);
    let spec = svc.map(HelperSpec::from_service);
    let dict = c.py_dict();
    let (id_h, sec_h, id_e, sec_e) = (&c.id_header, &c.secret_header, &c.id_env, &c.secret_env);
    match language {
        Language::Python | Language::Notebook => {
            let helper = spec.as_ref().filter(|s| s.declared).map(|s| {
                let module = svc
                    .and_then(|svc| svc.helpers.modules.first().cloned())
                    .unwrap_or_else(|| s.python_file.trim_end_matches(".py").replace('/', "."));
                (module, s.function.clone(), format!("{}_access_headers", s.prefix))
            });
            // Clients the synchronous helper cannot replace: add the headers, or take them from
            // the helper's headers function.
            let streaming = |add: String, how: &str| match &helper {
                Some((module, _, headers_fn)) => format!(
                    "{add} (with `import os`); or take them from the helper: `from {module} import {headers_fn}` and {how}"
                ),
                None => format!("{add} (with `import os`)"),
            };
            match client {
                Some("aiohttp") => streaming(
                    format!("add `headers={dict}` to the aiohttp call"),
                    "pass `headers=HEADERS_FN(url)`",
                ),
                Some("websocket-client") => streaming(
                    format!("add `header=[\"{id_h}: \" + os.environ[\"{id_e}\"], \"{sec_h}: \" + os.environ[\"{sec_e}\"]]` to the websocket-client call (`create_connection` / `WebSocketApp`)"),
                    "pass `header=[f\"{k}: {v}\" for k, v in HEADERS_FN(url).items()]`",
                ),
                Some("websockets") => streaming(
                    format!("add `additional_headers={dict}` to `websockets.connect(…)` (`extra_headers=` before websockets 14)"),
                    "pass `additional_headers=HEADERS_FN(url)`",
                ),
                _ => {
                    let add = match client {
                        Some(lib @ ("requests" | "httpx" | "urllib3")) => {
                            format!("add `headers={dict}` to the {lib} call")
                        }
                        Some("urllib.request") => format!(
                            "build the request as `urllib.request.Request(url, headers={dict})` and open that"
                        ),
                        Some("http.client") => format!(
                            "pass `headers={dict}` to `conn.request(method, path, body, headers=…)`"
                        ),
                        _ => format!("send `headers={dict}` with the request"),
                    };
                    match &helper {
                        Some((module, f, _)) => format!(
                            "route it through the helper: `from {module} import {f}` then `{f}(url, method=…, data=…)` (`access-audit init-helper` writes it); or {add} (with `import os`)"
                        ),
                        None => format!("{add} (with `import os`)"),
                    }
                }
            }
            .replace(
                "HEADERS_FN",
                &helper.as_ref().map(|h| h.2.clone()).unwrap_or_default(),
            )
        }
        Language::Rust => {
            let helper = spec
                .as_ref()
                .filter(|s| s.declared)
                .map(|s| {
                    let stem = Path::new(&s.rust_file)
                        .file_stem()
                        .map(|x| x.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    format!(
                        "route it through the helper module: `{stem}::{}(url, \"GET\", None)` (`access-audit init-helper --lang rust` writes it); or ",
                        s.function
                    )
                })
                .unwrap_or_default();
            let add = match client {
                Some("ureq") => format!(
                    "add `.set(\"{id_h}\", &std::env::var(\"{id_e}\")?).set(\"{sec_h}\", &std::env::var(\"{sec_e}\")?)` before `.call()`"
                ),
                Some("tokio-tungstenite" | "tungstenite") => format!(
                    "build the request with `url.into_client_request()?`, then `request.headers_mut().insert(\"{id_h}\", std::env::var(\"{id_e}\")?.parse()?)` and the same for `{sec_h}` (`{sec_e}`), and connect with that request"
                ),
                Some("awc") => format!(
                    "add `.insert_header((\"{id_h}\", std::env::var(\"{id_e}\")?)).insert_header((\"{sec_h}\", std::env::var(\"{sec_e}\")?))` before `.send()`"
                ),
                Some(lib) => format!(
                    "add `.header(\"{id_h}\", std::env::var(\"{id_e}\")?).header(\"{sec_h}\", std::env::var(\"{sec_e}\")?)` to the {lib} request before sending it"
                ),
                None => format!(
                    "add `.header(\"{id_h}\", std::env::var(\"{id_e}\")?).header(\"{sec_h}\", std::env::var(\"{sec_e}\")?)` to the request before sending it"
                ),
            };
            format!("{helper}{add}")
        }
        Language::Shell | Language::Dockerfile => match client {
            Some("wget") => format!(
                "add `--header=\"{id_h}: ${id_e}\" --header=\"{sec_h}: ${sec_e}\"` to the wget command"
            ),
            Some(lib @ ("httpie" | "xh")) => format!(
                "add `{id_h}:\"${id_e}\" {sec_h}:\"${sec_e}\"` to the {lib} command"
            ),
            Some(lib) => format!(
                "add `-H \"{id_h}: ${id_e}\" -H \"{sec_h}: ${sec_e}\"` to the {lib} command"
            ),
            None => format!(
                "send `{id_h}` / `{sec_h}` from `${id_e}` / `${sec_e}` (curl: `-H \"{id_h}: ${id_e}\" -H \"{sec_h}: ${sec_e}\"`)"
            ),
        },
        Language::JavaScript => format!(
            "add `headers: {{\"{id_h}\": process.env.{id_e}, \"{sec_h}\": process.env.{sec_e}}}` to the request options"
        ),
        Language::Dotenv | Language::Yaml | Language::Toml | Language::Json => {
            let docker = svc
                .and_then(|svc| {
                    let port = svc.ports.first().map(|p| format!(":{p}")).unwrap_or_default();
                    svc.hosts.first().map(|h| format!("; or, when the consumer runs beside the service, point it at the Docker network name (`http://{h}{port}`)"))
                })
                .unwrap_or_default();
            format!(
                "whatever reads this address must send `{id_h}` / `{sec_h}` from the `{id_e}` / `{sec_e}` environment variables{docker}"
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_name_the_client() {
        let s = suggestion(Some("requests"), Language::Python, None);
        assert!(
            s.contains("headers={\"CF-Access-Client-Id\": os.environ[\"CF_ACCESS_CLIENT_ID\"]"),
            "{s}"
        );
        let s = suggestion(Some("websocket-client"), Language::Python, None);
        assert!(s.contains("header=["), "{s}");
        let s = suggestion(Some("websockets"), Language::Python, None);
        assert!(s.contains("additional_headers="), "{s}");
        let s = suggestion(Some("reqwest"), Language::Rust, None);
        assert!(
            s.contains(".header(\"CF-Access-Client-Id\", std::env::var(\"CF_ACCESS_CLIENT_ID\")?)"),
            "{s}"
        );
        let s = suggestion(Some("ureq"), Language::Rust, None);
        assert!(s.contains(".set(\"CF-Access-Client-Id\""), "{s}");
        let s = suggestion(Some("curl"), Language::Shell, None);
        assert!(
            s.contains("-H \"CF-Access-Client-Id: $CF_ACCESS_CLIENT_ID\""),
            "{s}"
        );
    }
}
