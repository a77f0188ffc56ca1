//! Regression tests of the Python extractor, one per case, named after the case.
//!
//! Each test runs one small source through `scan::analyze` with the embedded rules and asserts on
//! the findings (line, url, group, tokenized, env var, client, provenance, enclosing function).

use access_audit::engine::classify::Group;
use access_audit::engine::finding::{Evidence, Finding, Language};

mod common;

const SRC: common::Source = common::Source {
    language: Language::Python,
    path: "t.py",
};

/// Findings and notes for `src` as a Python file `t.py`, sorted by position.
fn py_with_notes(src: &str) -> (Vec<Finding>, Vec<String>) {
    SRC.with_notes(src)
}

/// Findings for a source that must parse cleanly.
fn py(src: &str) -> Vec<Finding> {
    SRC.findings(src)
}

/// The single finding of `src`.
fn one(src: &str) -> Finding {
    SRC.one(src)
}

/// The source must produce no finding at all.
fn none(src: &str) {
    SRC.none(src)
}

fn at(line: u32) -> Option<String> {
    SRC.at(line)
}

const CF_DICT: &str = r#"CF = {"CF-Access-Client-Id": os.environ["CF_ACCESS_CLIENT_ID"], "CF-Access-Client-Secret": os.environ["CF_ACCESS_CLIENT_SECRET"]}"#;

// ---------------------------------------------------------------------------------------------
// How the address is built
// ---------------------------------------------------------------------------------------------

#[test]
fn plain_literal_in_requests_post() {
    let f = one(r#"import requests
requests.post("http://127.0.0.1:8188/prompt", json={})
"#);
    assert_eq!(f.path, "t.py");
    assert_eq!((f.line, f.column), (2, 15));
    assert_eq!(f.url.as_deref(), Some("http://127.0.0.1:8188/prompt"));
    assert_eq!(f.scheme.as_deref(), Some("http"));
    assert_eq!(f.host.as_deref(), Some("127.0.0.1"));
    assert_eq!(f.port, Some(8188));
    assert_eq!(f.group, Group::Local);
    assert!(!f.tokenized);
    assert_eq!(f.service, "comfyui");
    assert_eq!(f.language, Language::Python);
    assert_eq!(f.evidence, Evidence::Ast);
    assert_eq!(f.client.as_deref(), Some("requests"));
    assert_eq!(f.function, None);
    assert_eq!(f.env_var, None);
    assert_eq!(f.defined_at, None);
}

#[test]
fn fstring_on_module_constant_is_found_at_the_fstring() {
    let f = one(r#"import requests
BASE = "http://127.0.0.1:8188"

def send(p):
    requests.post(f"{BASE}/prompt", json=p)
"#);
    assert_eq!(f.line, 5);
    assert_eq!(f.url.as_deref(), Some("http://127.0.0.1:8188/prompt"));
    assert_eq!(f.group, Group::Local);
    assert_eq!(f.defined_at, at(2));
    assert_eq!(f.function.as_deref(), Some("send"));
    assert_eq!(f.client.as_deref(), Some("requests"));
}

#[test]
fn str_format_on_server_address_constant() {
    let f = one(r#"import requests
server_address = "127.0.0.1:8188"

def queue_prompt(p):
    return requests.post("http://{}/prompt".format(server_address), json=p)
"#);
    assert_eq!(f.line, 5);
    assert_eq!(f.url.as_deref(), Some("http://127.0.0.1:8188/prompt"));
    assert_eq!(f.host.as_deref(), Some("127.0.0.1"));
    assert_eq!(f.port, Some(8188));
    assert_eq!(f.group, Group::Local);
    assert_eq!(f.defined_at, at(2));
    assert_eq!(f.function.as_deref(), Some("queue_prompt"));
}

#[test]
fn percent_format_with_tuple() {
    let f = one(r#"import requests
HOST = "127.0.0.1"
PORT = 8188
requests.get("http://%s:%d/queue" % (HOST, PORT))
"#);
    assert_eq!(f.line, 4);
    assert_eq!(f.url.as_deref(), Some("http://127.0.0.1:8188/queue"));
    assert_eq!(f.port, Some(8188));
    assert_eq!(f.group, Group::Local);
    assert_eq!(f.defined_at, at(2));
}

#[test]
fn percent_format_with_dict() {
    let f = one(r#"import requests
HOST = "comfyui"
requests.get("http://%(host)s:%(port)d/queue" % {"host": HOST, "port": 8188})
"#);
    assert_eq!(f.line, 3);
    assert_eq!(f.url.as_deref(), Some("http://comfyui:8188/queue"));
    assert_eq!(f.host.as_deref(), Some("comfyui"));
    assert_eq!(f.group, Group::DockerNetwork);
    assert_eq!(f.defined_at, at(2));
}

#[test]
fn plus_concatenation_with_str_port() {
    let f = one(r#"import requests
HOST = "192.168.1.20"
PORT = 8188
requests.post("http://" + HOST + ":" + str(PORT) + "/prompt")
"#);
    assert_eq!(f.line, 4);
    assert_eq!(f.url.as_deref(), Some("http://192.168.1.20:8188/prompt"));
    assert_eq!(f.port, Some(8188));
    assert_eq!(f.group, Group::PrivateNetwork);
    assert_eq!(f.defined_at, at(2));
}

#[test]
fn function_local_constant() {
    let f = one(r#"import requests

def run(p):
    base = "http://localhost:8188"
    return requests.post(base + "/prompt", json=p)
"#);
    assert_eq!(f.line, 5);
    assert_eq!(f.url.as_deref(), Some("http://localhost:8188/prompt"));
    assert_eq!(f.group, Group::Local);
    assert_eq!(f.defined_at, at(4));
    assert_eq!(f.function.as_deref(), Some("run"));
}

#[test]
fn class_attribute_via_self() {
    let f = one(r#"import requests

class Client:
    base_url = "http://comfyui:8188"

    def queue(self):
        return requests.get(f"{self.base_url}/queue")
"#);
    assert_eq!(f.line, 7);
    assert_eq!(f.url.as_deref(), Some("http://comfyui:8188/queue"));
    assert_eq!(f.group, Group::DockerNetwork);
    assert_eq!(f.defined_at, at(4));
    assert_eq!(f.function.as_deref(), Some("Client.queue"));
}

#[test]
fn instance_attribute_set_in_init() {
    let f = one(r#"import requests

class Worker:
    def __init__(self):
        self.base = "http://comfyui:8188"

    def stats(self):
        return requests.get(self.base + "/system_stats")
"#);
    assert_eq!(f.line, 8);
    assert_eq!(f.url.as_deref(), Some("http://comfyui:8188/system_stats"));
    assert_eq!(f.group, Group::DockerNetwork);
    assert_eq!(f.defined_at, at(5));
    assert_eq!(f.function.as_deref(), Some("Worker.stats"));
}

#[test]
fn default_argument_value() {
    let f = one(r#"import urllib.request

def q(server="127.0.0.1:8188"):
    return urllib.request.urlopen(f"http://{server}/prompt")
"#);
    assert_eq!(f.line, 4);
    assert_eq!(f.url.as_deref(), Some("http://127.0.0.1:8188/prompt"));
    assert_eq!(f.group, Group::Local);
    assert_eq!(f.defined_at, at(3));
    assert_eq!(f.function.as_deref(), Some("q"));
    assert_eq!(f.client.as_deref(), Some("urllib.request"));
}

#[test]
fn os_getenv_with_default() {
    let f = one(r#"import os
import requests
COMFY = os.getenv("COMFYUI_URL", "http://comfyui:8188")
requests.post(f"{COMFY}/prompt")
"#);
    assert_eq!(f.line, 4);
    assert_eq!(f.url.as_deref(), Some("http://comfyui:8188/prompt"));
    assert_eq!(f.group, Group::DockerNetwork);
    assert_eq!(f.env_var.as_deref(), Some("COMFYUI_URL"));
    assert_eq!(f.defined_at, at(3));
}

#[test]
fn os_environ_get_with_default() {
    let f = one(r#"import os
import requests
COMFY = os.environ.get("COMFYUI_URL", "http://localhost:8188")
requests.get(COMFY + "/queue")
"#);
    assert_eq!(f.line, 4);
    assert_eq!(f.url.as_deref(), Some("http://localhost:8188/queue"));
    assert_eq!(f.group, Group::Local);
    assert_eq!(f.env_var.as_deref(), Some("COMFYUI_URL"));
    assert_eq!(f.defined_at, at(3));
}

#[test]
fn os_environ_subscript_without_default_is_unresolved() {
    let f = one(r#"import os
import requests
requests.post(os.environ["COMFYUI_URL"] + "/prompt")
"#);
    assert_eq!(f.line, 3);
    assert_eq!(f.url.as_deref(), Some("{COMFYUI_URL}/prompt"));
    assert_eq!(f.host, None);
    assert_eq!(f.group, Group::Unresolved);
    assert_eq!(f.env_var.as_deref(), Some("COMFYUI_URL"));
}

#[test]
fn os_getenv_without_default_is_unresolved() {
    let f = one(r#"import os
import requests
requests.get(f"{os.getenv('X')}/queue")
"#);
    assert_eq!(f.line, 3);
    assert_eq!(f.url.as_deref(), Some("{X}/queue"));
    assert_eq!(f.host, None);
    assert_eq!(f.group, Group::Unresolved);
    assert_eq!(f.env_var.as_deref(), Some("X"));
}

#[test]
fn argparse_without_default_is_unresolved() {
    let f = one(r#"import argparse
import requests
parser = argparse.ArgumentParser()
parser.add_argument("--server")
args = parser.parse_args()
requests.post(f"http://{args.server}/prompt")
"#);
    assert_eq!(f.line, 6);
    let url = f.url.as_deref().unwrap();
    assert!(url.starts_with("http://{"), "{url}");
    assert!(url.ends_with("}/prompt"), "{url}");
    assert_eq!(f.host, None);
    assert_eq!(f.group, Group::Unresolved);
}

#[test]
fn nested_fstring() {
    let f = one(r#"import requests
HOST = "127.0.0.1"
requests.post(f"{f'http://{HOST}:8188'}/prompt")
"#);
    assert_eq!(f.line, 3);
    assert_eq!(f.url.as_deref(), Some("http://127.0.0.1:8188/prompt"));
    assert_eq!(f.group, Group::Local);
}

#[test]
fn websocket_format_with_host_port_without_scheme() {
    let f = one(r#"import websocket
addr = "127.0.0.1:8188"

def listen(cid):
    ws = websocket.WebSocket()
    ws.connect("ws://{}/ws?clientId={}".format(addr, cid))
"#);
    assert_eq!(f.line, 6);
    assert_eq!(
        f.url.as_deref(),
        Some("ws://127.0.0.1:8188/ws?clientId={cid}")
    );
    assert_eq!(f.scheme.as_deref(), Some("ws"));
    assert_eq!(f.port, Some(8188));
    assert_eq!(f.group, Group::Local);
    assert_eq!(f.defined_at, at(2));
    assert_eq!(f.function.as_deref(), Some("listen"));
}

#[test]
fn bare_host_port_never_used_is_reported_at_its_definition() {
    let f = one(r#"server_address = "127.0.0.1:8188"
print("hello")
"#);
    assert_eq!(f.line, 1);
    assert_eq!(f.host.as_deref(), Some("127.0.0.1"));
    assert_eq!(f.port, Some(8188));
    assert_eq!(f.group, Group::Local);
}

// ---------------------------------------------------------------------------------------------
// Access credentials
// ---------------------------------------------------------------------------------------------

#[test]
fn full_url_bound_to_name_is_reported_at_binding_and_tokenized_by_module_dict() {
    let src = format!(
        r#"import os
import requests
{CF_DICT}

def send(p):
    url = "https://comfyui.datacrew.space/prompt"
    return requests.post(url, json=p, headers=CF)
"#
    );
    let f = one(&src);
    assert_eq!(f.line, 6);
    assert_eq!(
        f.url.as_deref(),
        Some("https://comfyui.datacrew.space/prompt")
    );
    assert_eq!(f.group, Group::Remote);
    assert!(f.tokenized);
    assert_eq!(f.client.as_deref(), Some("requests"));
    assert_eq!(f.function.as_deref(), Some("send"));
}

#[test]
fn header_names_are_case_insensitive() {
    let f = one(r#"import os
import requests
H = {"CF-Access-Client-ID": os.environ["CF_ACCESS_CLIENT_ID"], "cf-access-client-secret": os.environ["CF_ACCESS_CLIENT_SECRET"]}
requests.get("https://comfyui.datacrew.space/queue", headers=H)
"#);
    assert_eq!(f.line, 4);
    assert_eq!(f.group, Group::Remote);
    assert!(f.tokenized);
}

#[test]
fn cf_access_token_header_is_a_credential() {
    let f = one(r#"import os
import requests
tok = os.environ["COMFYUI_ACCESS_TOKEN"]
requests.get("https://comfyui.datacrew.space/queue", headers={"cf-access-token": tok})
"#);
    assert_eq!(f.line, 4);
    assert_eq!(f.group, Group::Remote);
    assert!(f.tokenized);
}

#[test]
fn cf_authorization_cookie_is_a_credential() {
    let f = one(r#"import os
import requests
tok = os.environ["COMFYUI_ACCESS_TOKEN"]
requests.get("https://comfyui.datacrew.space/queue", cookies={"CF_Authorization": tok})
"#);
    assert_eq!(f.line, 4);
    assert_eq!(f.group, Group::Remote);
    assert!(f.tokenized);
}

#[test]
fn jwt_assertion_header_alone_is_not_a_credential() {
    let f = one(r#"import requests
requests.get("https://comfyui.datacrew.space/queue", headers={"Cf-Access-Jwt-Assertion": jwt})
"#);
    assert_eq!(f.line, 2);
    assert_eq!(f.group, Group::Remote);
    assert!(!f.tokenized);
    assert!(f.breaks());
}

#[test]
fn module_session_with_updated_headers_is_tokenized() {
    let src = format!(
        r#"import os
import requests
{CF_DICT}
session = requests.Session()
session.headers.update(CF)

def queue_depth():
    return session.get("https://comfyui.datacrew.space/queue")
"#
    );
    let f = one(&src);
    assert_eq!(f.line, 8);
    assert_eq!(f.group, Group::Remote);
    assert!(f.tokenized);
    assert_eq!(f.client.as_deref(), Some("requests"));
    assert_eq!(f.function.as_deref(), Some("queue_depth"));
}

#[test]
fn call_through_token_helper_is_tokenized() {
    let f = one(r#"from utils.comfyui_api_client import comfyui_request

def stats():
    return comfyui_request("https://comfyui.datacrew.space/system_stats")
"#);
    assert_eq!(f.line, 4);
    assert_eq!(f.group, Group::Remote);
    assert!(f.tokenized);
    assert!(f.client.is_some(), "{f:#?}");
}

#[test]
fn local_function_returning_cf_headers_is_tokenized() {
    let f = one(r#"import os
import requests

def _headers():
    return {"CF-Access-Client-Id": os.environ["CF_ACCESS_CLIENT_ID"], "CF-Access-Client-Secret": os.environ["CF_ACCESS_CLIENT_SECRET"]}

def history(pid):
    return requests.get("https://comfyui.datacrew.space/history", headers=_headers())
"#);
    assert_eq!(f.line, 8);
    assert_eq!(f.group, Group::Remote);
    assert!(f.tokenized);
}

#[test]
fn same_remote_url_with_and_without_headers() {
    let src = format!(
        r#"import os
import requests
{CF_DICT}
requests.get("https://comfyui.datacrew.space/queue", headers=CF)
requests.get("https://comfyui.datacrew.space/queue")
"#
    );
    let f = py(&src);
    assert_eq!(f.len(), 2, "{f:#?}");
    assert_eq!((f[0].line, f[0].tokenized), (4, true));
    assert_eq!((f[1].line, f[1].tokenized), (5, false));
    assert!(f.iter().all(|f| f.group == Group::Remote));
}

// ---------------------------------------------------------------------------------------------
// Clients and enclosing functions
// ---------------------------------------------------------------------------------------------

#[test]
fn client_httpx() {
    let f = one(r#"import httpx
httpx.post("http://127.0.0.1:8188/prompt", json={})
"#);
    assert_eq!(f.client.as_deref(), Some("httpx"));
    assert_eq!(f.group, Group::Local);
}

#[test]
fn client_aiohttp_session_in_async_with() {
    let f = one(r#"import aiohttp

async def send(p):
    async with aiohttp.ClientSession() as s:
        await s.post("http://comfyui:8188/prompt", json=p)
"#);
    assert_eq!(f.line, 5);
    assert_eq!(f.client.as_deref(), Some("aiohttp"));
    assert_eq!(f.group, Group::DockerNetwork);
    assert_eq!(f.function.as_deref(), Some("send"));
}

#[test]
fn client_urllib_request() {
    let f = one(r#"import urllib.request
urllib.request.urlopen("http://127.0.0.1:8188/system_stats")
"#);
    assert_eq!(f.client.as_deref(), Some("urllib.request"));
}

#[test]
fn client_websocket_client_create_connection() {
    let f = one(r#"import websocket
ws = websocket.create_connection("ws://127.0.0.1:8188/ws")
"#);
    assert_eq!(f.client.as_deref(), Some("websocket-client"));
    assert_eq!(f.scheme.as_deref(), Some("ws"));
}

#[test]
fn client_websockets_connect() {
    let f = one(r#"import websockets

async def listen():
    async with websockets.connect("ws://127.0.0.1:8188/ws") as ws:
        await ws.recv()
"#);
    assert_eq!(f.line, 4);
    assert_eq!(f.client.as_deref(), Some("websockets"));
    assert_eq!(f.function.as_deref(), Some("listen"));
}

#[test]
fn enclosing_function_names_are_recorded() {
    let f = py(r#"import requests
requests.get("http://127.0.0.1:8188/queue")

def top():
    requests.get("http://127.0.0.1:8188/history")

class Runner:
    def run(self):
        requests.get("http://127.0.0.1:8188/prompt")

    async def poll(self):
        requests.get("http://127.0.0.1:8188/system_stats")
"#);
    let got: Vec<(u32, Option<&str>)> = f.iter().map(|f| (f.line, f.function.as_deref())).collect();
    assert_eq!(
        got,
        vec![
            (2, None),
            (5, Some("top")),
            (9, Some("Runner.run")),
            (12, Some("Runner.poll")),
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// docker exec
// ---------------------------------------------------------------------------------------------

#[test]
fn subprocess_docker_exec_list_is_container_exec() {
    let f = one(r#"import subprocess
subprocess.run(["docker", "exec", "comfyui", "ls"])
"#);
    assert_eq!(f.line, 2);
    assert_eq!(f.group, Group::ContainerExec);
    assert_eq!(f.url, None);
    assert_eq!(f.host.as_deref(), Some("comfyui"));
    assert_eq!(f.client.as_deref(), Some("docker exec"));
    assert_eq!(f.command.as_deref(), Some("ls"));
}

#[test]
fn os_system_docker_compose_exec_is_container_exec() {
    let f = one(r#"import os
os.system("docker compose exec -T comfyui nvidia-smi")
"#);
    assert_eq!(f.line, 2);
    assert_eq!(f.group, Group::ContainerExec);
    assert_eq!(f.host.as_deref(), Some("comfyui"));
    assert_eq!(f.command.as_deref(), Some("nvidia-smi"));
}

#[test]
fn docker_exec_into_another_container_is_not_a_finding() {
    none(
        r#"import subprocess
subprocess.run(["docker", "exec", "ollama", "ollama", "list"])
"#,
    );
}

// ---------------------------------------------------------------------------------------------
// Not findings
// ---------------------------------------------------------------------------------------------

#[test]
fn url_in_comment_is_not_a_finding() {
    none(
        r#"import requests
# requests.post("http://127.0.0.1:8188/prompt")
x = 1  # see https://comfyui.datacrew.space/queue
"#,
    );
}

#[test]
fn urls_in_docstrings_are_not_findings() {
    none(
        r#""""Talks to ComfyUI at http://127.0.0.1:8188/prompt."""
import requests

def f():
    """Posts to https://comfyui.datacrew.space/prompt."""
    return 1

class C:
    """Wraps http://comfyui:8188/queue."""

    def m(self):
        """GET http://localhost:8188/history"""
        pass
"#,
    );
}

#[test]
fn other_service_ollama_is_not_a_finding() {
    none(
        r#"import requests
requests.post("http://localhost:11434/api/generate", json={})
"#,
    );
}

#[test]
fn pypi_url_is_not_a_finding() {
    none(
        r#"import subprocess
INDEX = "https://pypi.org/simple"
subprocess.run(["pip", "install", "--index-url", INDEX, "requests"])
"#,
    );
}

#[test]
fn scheme_replace_is_not_a_finding() {
    none(
        r#"def to_ws(url):
    return url.replace("http://", "ws://")
"#,
    );
}

#[test]
fn log_message_mentioning_port_is_not_a_finding() {
    none(
        r#"import logging
logging.info("ComfyUI port 8188 is busy, retrying")
print("waiting for 8188")
"#,
    );
}

// ---------------------------------------------------------------------------------------------
// Classification
// ---------------------------------------------------------------------------------------------

#[test]
fn public_domain_is_remote_with_default_port() {
    let f = one(r#"import requests
requests.post("https://comfyui.datacrew.space/prompt", json={})
"#);
    assert_eq!(f.group, Group::Remote);
    assert_eq!(f.scheme.as_deref(), Some("https"));
    assert_eq!(f.host.as_deref(), Some("comfyui.datacrew.space"));
    assert_eq!(f.port, None);
    assert!(!f.tokenized);
    assert!(f.breaks());
}

#[test]
fn rfc1918_address_is_private_network() {
    let f = one(r#"import requests
requests.post("http://192.168.1.20:8188/prompt", json={})
"#);
    assert_eq!(f.group, Group::PrivateNetwork);
    assert_eq!(f.host.as_deref(), Some("192.168.1.20"));
    assert_eq!(f.port, Some(8188));
}

#[test]
fn tailscale_name_is_private_network() {
    let f = one(r#"import requests
requests.get("http://gpu.tail1234.ts.net:8188")
"#);
    assert_eq!(f.group, Group::PrivateNetwork);
    assert_eq!(f.host.as_deref(), Some("gpu.tail1234.ts.net"));
    assert_eq!(f.port, Some(8188));
}

#[test]
fn ipv6_loopback_is_local() {
    let f = one(r#"import requests
requests.post("http://[::1]:8188/prompt")
"#);
    assert_eq!(f.group, Group::Local);
    assert_eq!(f.host.as_deref(), Some("::1"));
    assert_eq!(f.port, Some(8188));
}

// ---------------------------------------------------------------------------------------------
// Parser robustness
// ---------------------------------------------------------------------------------------------

#[test]
fn syntax_error_still_reports_the_url() {
    let (f, notes) = py_with_notes(
        r#"import requests

def broken(:
    pass

requests.post("http://127.0.0.1:8188/prompt")
"#,
    );
    assert!(!notes.is_empty());
    assert!(!f.is_empty());
    let hit = f
        .iter()
        .find(|f| f.url.as_deref() == Some("http://127.0.0.1:8188/prompt"))
        .unwrap_or_else(|| panic!("url not found: {f:#?}"));
    assert_eq!(hit.line, 6);
    assert_eq!(hit.group, Group::Local);
}

#[test]
fn t_string_parses_without_notes() {
    let f = one(r#"import requests
greeting = t"hello {name}"
requests.post("http://127.0.0.1:8188/prompt")
"#);
    assert_eq!(f.line, 3);
    assert_eq!(f.evidence, Evidence::Ast);
}

#[test]
fn argparse_default_is_folded_into_its_use() {
    let f = one(r#"import argparse, requests
parser = argparse.ArgumentParser()
parser.add_argument("--server", default="localhost:8188")
args = parser.parse_args()
requests.post(f"http://{args.server}/prompt")
"#);
    assert_eq!(f.line, 5);
    assert_eq!(f.url.as_deref(), Some("http://localhost:8188/prompt"));
    assert_eq!(f.group, Group::Local);
    assert_eq!(f.defined_at, at(3));
}

#[test]
fn unused_argparse_default_is_reported_at_its_definition() {
    let f = one(r#"import argparse
parser = argparse.ArgumentParser()
parser.add_argument("--server", default="http://localhost:8188")
"#);
    assert_eq!((f.line, f.column), (3, 41));
    assert_eq!(f.url.as_deref(), Some("http://localhost:8188"));
}

#[test]
fn class_attribute_read_through_the_class_name_is_folded() {
    let f = one(r#"import requests
class Api:
    BASE = "http://127.0.0.1:8188"
def history(pid):
    return requests.get(Api.BASE + "/history/" + pid)
"#);
    assert_eq!(f.line, 5);
    assert_eq!(
        f.url.as_deref(),
        Some("http://127.0.0.1:8188/history/{pid}")
    );
    assert_eq!(f.defined_at, at(3));
}

#[test]
fn subscript_in_the_host_is_an_unresolved_hole() {
    for src in [
        "import requests\ncfg = load()\nrequests.post(f\"http://{cfg[\"host\"]}:8188/prompt\")\n",
        "import requests\ncfg = load()\nrequests.post(f\"http://{cfg['host']}:8188/prompt\")\n",
        "import requests\ncfg = load()\nrequests.post(\"http://\" + cfg[\"host\"] + \":8188/prompt\")\n",
    ] {
        let f = one(src);
        assert_eq!(f.group, Group::Unresolved, "{src}");
        assert_eq!(f.port, Some(8188), "{src}");
        assert!(f.url.as_deref().unwrap().contains("host"), "{src}");
    }
}

#[test]
fn host_and_port_given_apart_as_keyword_arguments() {
    let f = one(r#"from comfy_sdk import ComfyClient
client = ComfyClient(host="comfyui", port=8188)
"#);
    assert_eq!((f.line, f.column), (2, 27));
    assert_eq!(f.url.as_deref(), Some("comfyui:8188"));
    assert_eq!(f.group, Group::DockerNetwork);
}

#[test]
fn log_and_print_messages_are_not_uses() {
    let f = one(r#"import logging
log = logging.getLogger(__name__)
BASE = "http://127.0.0.1:8188/prompt"
log.info(f"{BASE} queued")
logging.warning("retrying http://localhost:8188/prompt")
print(f"http://localhost:8188/history")
"#);
    // Only the constant itself, reported at its definition: the log lines do not use it.
    assert_eq!(f.line, 3);
}
