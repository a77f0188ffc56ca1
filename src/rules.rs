//! The service model: what access-audit knows about each service (ports, host names, domains, API
//! paths, credential headers, token env vars, helper modules), read from `rules/*.toml`.
//!
//! The default rules are embedded in the binary with `include_str!`; `--rules DIR` adds files
//! (a file whose `service.id` matches an embedded one replaces it). Rule files are validated when
//! loaded: an unknown field, a wrong type or an invalid pattern is an error naming the file, line and
//! field.
//!
//! Every loaded service is *available* (listed by `rules list`); only *enabled* ones are scanned.
//! A service is enabled by default unless its file says `[service] default = false` (ComfyUI is the
//! only built-in service enabled by default); `--service ID[,ID…]` / [`RuleSet::select`] replaces
//! the enabled set.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use regex::Regex;
use serde::Deserialize;

use crate::error::Error;

/// The rule files compiled into the binary: (file name, contents). Only those without
/// `default = false` (ComfyUI) are scanned unless selected with `--service`.
pub const EMBEDDED: &[(&str, &str)] = &[
    ("comfyui.toml", include_str!("../rules/comfyui.toml")),
    // Before ollama: a path both declare (`/api/chat/completions` vs `/api/chat`) goes to the first.
    ("open-webui.toml", include_str!("../rules/open-webui.toml")),
    ("ollama.toml", include_str!("../rules/ollama.toml")),
    ("n8n.toml", include_str!("../rules/n8n.toml")),
];

/// The HTTP / WebSocket client libraries every service's addresses go through (sinks), embedded
/// from `rules/sinks/http.toml`.
pub const SINKS_FILE: (&str, &str) = ("sinks/http.toml", include_str!("../rules/sinks/http.toml"));

/// Client libraries whose calls send the URL they are given (`rules/sinks/http.toml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sinks {
    pub python: PythonSinks,
    pub rust: RustSinks,
    pub objects: ObjectSinks,
    pub shell: ShellSinks,
    #[serde(default)]
    pub examples: Vec<SinkExample>,
}

/// Python: client modules and the calls that run a command line.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PythonSinks {
    pub clients: Vec<PythonClient>,
    pub commands: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PythonClient {
    pub module: String,
    pub client: String,
}

/// Rust: client crates (first path segment) and functions imported on their own.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RustSinks {
    pub crates: Vec<NamedClient>,
    pub functions: Vec<NamedClient>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedClient {
    pub name: String,
    pub client: String,
}

/// Methods of client objects that send a request to the object's base URL.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectSinks {
    pub request_methods: Vec<String>,
}

/// Shell scripts and Dockerfiles: the command-line HTTP / WebSocket tools (`[shell]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShellSinks {
    /// How a tool's words are read, by name (`[shell.arguments.curl]`); tools refer to one.
    pub arguments: BTreeMap<String, ShellArguments>,
    /// The tools; a command runs the first one listing its name.
    pub tools: Vec<ShellTool>,
}

/// A command-line tool that sends its URL words (`curl`, HTTPie's `http`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShellTool {
    /// Command names that run it, without a directory (`/usr/bin/curl` runs `curl`).
    pub commands: Vec<String>,
    /// The client name a finding reports (`httpie` for `http` and `https`).
    pub client: String,
    /// The name of the `[shell.arguments.NAME]` table its words are read with.
    pub arguments: String,
    /// The scheme a URL written without one is sent with (`https` for HTTPie's `https`).
    pub default_scheme: String,
    /// Does a URL written as a port and path (`:8188/prompt`) mean localhost (HTTPie, xh)?
    #[serde(default)]
    pub port_means_localhost: bool,
    /// Does a URL written from its host on (`comfyui:8188/prompt`) get `default_scheme`?
    #[serde(default)]
    pub host_gets_scheme: bool,
}

/// How a tool's words are read: which options take a value, which carry a header, a cookie or
/// the URL. A short option is one character (`-H v`, `-Hv`, `-sH v`); a long one is written
/// whole, with its leading `--` (`--header v`, `--header=v`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShellArguments {
    /// `options` (curl-like) or `request-items` (HTTPie-like).
    pub style: ArgumentStyle,
    /// Short options that take a value, one character each (`header_short` and `cookie_short`
    /// take one whether listed here or not).
    #[serde(default)]
    pub short_value: String,
    /// Long options that take a value (so do those of `header_long`, `cookie_long`, `url_long`).
    #[serde(default)]
    pub long_value: Vec<String>,
    /// The short option whose value is a header (`-H 'Name: value'`).
    #[serde(default)]
    pub header_short: Option<char>,
    /// Long options whose value is a header.
    #[serde(default)]
    pub header_long: Vec<String>,
    /// The short option whose value is a cookie (`-b 'name=value'`).
    #[serde(default)]
    pub cookie_short: Option<char>,
    /// Long options whose value is a cookie.
    #[serde(default)]
    pub cookie_long: Vec<String>,
    /// Long options whose value is the URL (`--url`).
    #[serde(default)]
    pub url_long: Vec<String>,
    /// Is every positional word a URL? Else only a word with `://` or starting with `$` is.
    #[serde(default)]
    pub positional_urls: bool,
}

/// How a tool's words are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ArgumentStyle {
    /// curl, wget, websocat: options anywhere (until `--`), clustered short options; the URL is a
    /// positional word or the value of a `url_long` option.
    Options,
    /// HTTPie, xh: `[flags] [METHOD] URL [items]`; an item `Name:value` is a header. Only
    /// `short_value` and `long_value` apply, each option written alone (`-a v`, `--auth v`).
    RequestItems,
}

impl ShellSinks {
    /// The tool a command named `command` (without a directory) runs, and how its words are read.
    pub fn tool(&self, command: &str) -> Option<(&ShellTool, &ShellArguments)> {
        let tool = self
            .tools
            .iter()
            .find(|t| t.commands.iter().any(|c| c == command))?;
        Some((tool, self.arguments.get(&tool.arguments)?))
    }
}

impl ShellArguments {
    /// Does the short option `-c` take a value?
    pub fn short_takes_value(&self, c: char) -> bool {
        self.short_value.contains(c) || self.header_short == Some(c) || self.cookie_short == Some(c)
    }

    /// Does the long option `opt` (`--header`) take a value?
    pub fn long_takes_value(&self, opt: &str) -> bool {
        [
            &self.long_value,
            &self.header_long,
            &self.cookie_long,
            &self.url_long,
        ]
        .iter()
        .any(|list| listed(list, opt))
    }

    /// Does the long option `opt` carry a header?
    pub fn is_header_long(&self, opt: &str) -> bool {
        listed(&self.header_long, opt)
    }

    /// Does the long option `opt` carry a cookie?
    pub fn is_cookie_long(&self, opt: &str) -> bool {
        listed(&self.cookie_long, opt)
    }

    /// Is the long option `opt`'s value the URL?
    pub fn is_url_long(&self, opt: &str) -> bool {
        listed(&self.url_long, opt)
    }

    /// The first field that does not apply to a `request-items` tool and is set.
    fn options_only_field_set(&self) -> Option<&'static str> {
        [
            ("header_short", self.header_short.is_some()),
            ("header_long", !self.header_long.is_empty()),
            ("cookie_short", self.cookie_short.is_some()),
            ("cookie_long", !self.cookie_long.is_empty()),
            ("url_long", !self.url_long.is_empty()),
            ("positional_urls", self.positional_urls),
        ]
        .into_iter()
        .find_map(|(field, set)| set.then_some(field))
    }
}

fn listed(list: &[String], item: &str) -> bool {
    list.iter().any(|l| l == item)
}

/// Code that must produce a finding sent through `client`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SinkExample {
    /// `python`, `rust` or `shell`.
    pub language: String,
    pub code: String,
    pub client: String,
    /// The finding's address as reported, when the example promises it.
    #[serde(default)]
    pub url: Option<String>,
    /// Does the request carry the Access credential (when the example promises either)?
    #[serde(default)]
    pub tokenized: Option<bool>,
}

impl Sinks {
    /// Parse and validate a sinks file; errors name the file, line and field.
    pub fn parse(file: &str, text: &str) -> Result<Sinks, Error> {
        let sinks: Sinks = toml::from_str(text).map_err(|e| toml_error(file, text, e))?;
        sinks.validate().map_err(|bad| Error::Rules {
            file: format!("{file}:{}", bad.line(text)),
            message: format!("field `{}`: {}", bad.field, bad.message),
            source: None,
        })?;
        Ok(sinks)
    }

    /// What the TOML types cannot say: options are written as typed, a command runs one tool,
    /// a tool's `arguments` exist, examples are in a language the tests scan.
    fn validate(&self) -> Result<(), Invalid> {
        for (name, args) in &self.shell.arguments {
            let bad = |field, message| Invalid {
                header: format!("[shell.arguments.{name}]"),
                nth: 0,
                field,
                message,
            };
            for (field, chars) in [
                ("short_value", args.short_value.chars().collect::<Vec<_>>()),
                ("header_short", args.header_short.into_iter().collect()),
                ("cookie_short", args.cookie_short.into_iter().collect()),
            ] {
                if let Some(c) = chars.into_iter().find(|c| *c == '-' || c.is_whitespace()) {
                    return Err(bad(field, format!("`{c}` is not a short option")));
                }
            }
            for (field, list) in [
                ("long_value", &args.long_value),
                ("header_long", &args.header_long),
                ("cookie_long", &args.cookie_long),
                ("url_long", &args.url_long),
            ] {
                if let Some(o) = list
                    .iter()
                    .find(|o| o.len() < 3 || !o.starts_with("--") || o.contains(['=', ' ']))
                {
                    return Err(bad(field, format!("`{o}` is not a long option (`--name`)")));
                }
            }
            if args.style == ArgumentStyle::RequestItems {
                if let Some(field) = args.options_only_field_set() {
                    return Err(bad(
                        field,
                        "does not apply to `request-items` arguments (headers are `Name:value` \
                         items)"
                            .into(),
                    ));
                }
            }
        }
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        for (i, tool) in self.shell.tools.iter().enumerate() {
            let bad = |field, message| Invalid {
                header: "[[shell.tools]]".to_string(),
                nth: i,
                field,
                message,
            };
            if tool.commands.is_empty() {
                return Err(bad("commands", "name at least one command".into()));
            }
            for c in &tool.commands {
                if c.is_empty() || c.contains(['/', ' ', '\t']) {
                    return Err(bad(
                        "commands",
                        format!("`{c}` is not a command name (no directory, no spaces)"),
                    ));
                }
                if !seen.insert(c) {
                    return Err(bad("commands", format!("`{c}` is listed by two tools")));
                }
            }
            if tool.client.trim().is_empty() {
                return Err(bad("client", "must not be empty".into()));
            }
            if !self.shell.arguments.contains_key(&tool.arguments) {
                let known: Vec<&str> = self.shell.arguments.keys().map(String::as_str).collect();
                return Err(bad(
                    "arguments",
                    format!(
                        "no `[shell.arguments.{}]`; known: {}",
                        tool.arguments,
                        known.join(", ")
                    ),
                ));
            }
            let scheme = &tool.default_scheme;
            if !scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                || !scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
            {
                return Err(bad(
                    "default_scheme",
                    format!("`{scheme}` is not a scheme (`http`, `https`; without `://`)"),
                ));
            }
        }
        for (i, ex) in self.examples.iter().enumerate() {
            if !matches!(ex.language.as_str(), "python" | "rust" | "shell") {
                return Err(Invalid {
                    header: "[[examples]]".to_string(),
                    nth: i,
                    field: "language",
                    message: format!("`{}` is not python, rust or shell", ex.language),
                });
            }
        }
        Ok(())
    }

    /// The client a Python call whose qualified name is `q` goes through (`requests.get` →
    /// `requests`, `urllib.request.urlopen` → `urllib.request`).
    pub fn python_client(&self, q: &str) -> Option<&str> {
        self.python
            .clients
            .iter()
            .find(|c| {
                q.strip_prefix(c.module.as_str())
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
            })
            .map(|c| c.client.as_str())
    }

    /// Does the Python call `q` run a command line (`subprocess.run`, `os.system`)?
    pub fn is_python_command(&self, q: &str) -> bool {
        self.python.commands.iter().any(|c| c == q)
    }

    /// The client of a Rust call path starting with crate `first`.
    pub fn rust_crate(&self, first: &str) -> Option<&str> {
        self.rust
            .crates
            .iter()
            .find(|c| c.name == first)
            .map(|c| c.client.as_str())
    }

    /// The client of a Rust function called by its own name (`connect_async`).
    pub fn rust_function(&self, name: &str) -> Option<&str> {
        self.rust
            .functions
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.client.as_str())
    }

    /// Does calling `method` on a client object send a request?
    pub fn is_request_method(&self, method: &str) -> bool {
        self.objects.request_methods.iter().any(|m| m == method)
    }
}

/// The embedded sinks (validated by the test suite, so loading them cannot fail at run time).
pub fn sinks() -> &'static Sinks {
    static SINKS: std::sync::LazyLock<Sinks> = std::sync::LazyLock::new(|| {
        Sinks::parse(SINKS_FILE.0, SINKS_FILE.1).expect("rules/sinks/http.toml is valid")
    });
    &SINKS
}

/// One rule file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    pub service: ServiceMeta,
    pub address: AddressRules,
    #[serde(default)]
    pub access: AccessRules,
    #[serde(default)]
    pub helpers: HelperRules,
    #[serde(default)]
    pub report: ReportRules,
    #[serde(default)]
    pub clients: ClientRules,
    #[serde(default)]
    pub examples: Vec<Example>,
}

/// Client libraries of the service: a value passed to one of these constructors is the service's
/// address, whatever it looks like (`ComfyUIClient(sys.argv[1])`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientRules {
    /// Constructor names as called (`ComfyUIClient`, `rucomfyui::Client::new`); a call matches
    /// when it ends with one of them.
    #[serde(default)]
    pub constructors: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceMeta {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Scanned without `--service`? (`false`: available, but only scanned when selected.)
    #[serde(default = "enabled_by_default")]
    pub default: bool,
}

fn enabled_by_default() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddressRules {
    #[serde(default)]
    pub ports: Vec<u16>,
    #[serde(default)]
    pub hosts: Vec<String>,
    #[serde(default)]
    pub domains: Vec<String>,
    #[serde(default)]
    pub paths: Vec<String>,
    #[serde(default)]
    pub containers: Option<String>,
    /// A cheap GET endpoint `access-audit probe` requests (default: the first of `paths`, else `/`).
    #[serde(default)]
    pub probe: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessRules {
    #[serde(default)]
    pub headers: Vec<String>,
    #[serde(default)]
    pub cookies: Vec<String>,
    #[serde(default)]
    pub not_credentials: Vec<String>,
    /// Headers that make a credential only together (`CF-Access-Client-Id` with
    /// `CF-Access-Client-Secret`); a header of `headers` in no set is a credential alone.
    #[serde(default)]
    pub header_sets: Vec<Vec<String>>,
    #[serde(default)]
    pub token_env: Vec<String>,
    #[serde(default)]
    pub recommended_env: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HelperRules {
    #[serde(default)]
    pub modules: Vec<String>,
    #[serde(default)]
    pub files: Vec<String>,
    #[serde(default)]
    pub functions: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportRules {
    #[serde(default)]
    pub vendored: Vec<String>,
}

/// A code sample the rule file promises to classify: with `negative = true` it must yield no finding.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Example {
    pub language: String,
    pub code: String,
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub tokenized: Option<bool>,
    #[serde(default)]
    pub negative: bool,
}

/// A validated service, ready for matching.
#[derive(Debug, Clone)]
pub struct Service {
    pub id: String,
    pub name: String,
    pub source: String,
    /// The rule file's text as loaded (for [`RuleSet::digest`]).
    pub text: String,
    /// Enabled when no `--service` selection is given (`[service] default`).
    pub default: bool,
    pub ports: Vec<u16>,
    pub hosts: Vec<String>,
    pub domains: Vec<String>,
    pub paths: Vec<String>,
    /// The path `access-audit probe` requests (`[address] probe`, else the first path, else `/`).
    pub probe: String,
    pub containers: Option<Regex>,
    pub access: AccessRules,
    pub helpers: HelperRules,
    pub report: ReportRules,
    pub clients: ClientRules,
    pub examples: Vec<Example>,
}

/// All services in force for a scan, plus lookups shared by every file.
#[derive(Debug, Clone)]
pub struct RuleSet {
    /// The enabled services: the only ones scanned for (every lookup below is built from them).
    pub services: Vec<Service>,
    /// Every loaded service, enabled or not, in load order (embedded first): what `rules list` shows.
    pub available: Vec<Service>,
    /// Lower-cased credential header names of every enabled service.
    pub credential_headers: BTreeSet<String>,
    /// Lower-cased cookie names of every service.
    pub credential_cookies: BTreeSet<String>,
    /// Lower-cased names that look like credentials but are not.
    pub not_credentials: BTreeSet<String>,
    /// Helper modules (dotted) and function names of every service.
    pub helper_modules: BTreeSet<String>,
    pub helper_functions: BTreeSet<String>,
    /// Lower-cased header sets that make a credential only together.
    pub credential_sets: Vec<BTreeSet<String>>,
}

impl RuleSet {
    /// The embedded default rules.
    pub fn embedded() -> Result<RuleSet, Error> {
        RuleSet::load(None)
    }

    /// The embedded rules plus every `*.toml` in `dir` (same `service.id` replaces). All are
    /// available; those whose file does not say `default = false` are enabled.
    pub fn load(dir: Option<&Path>) -> Result<RuleSet, Error> {
        let mut services: Vec<Service> = Vec::new();
        for (name, text) in EMBEDDED {
            services.push(parse_rule_file(&format!("rules/{name}"), text)?);
        }
        if let Some(dir) = dir {
            let entries = std::fs::read_dir(dir).map_err(|e| Error::Rules {
                file: dir.display().to_string(),
                message: format!("cannot read rules directory: {e}"),
                source: Some(e.into()),
            })?;
            let mut files: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect();
            files.sort();
            for path in files {
                let text = std::fs::read_to_string(&path).map_err(|e| Error::Rules {
                    file: path.display().to_string(),
                    message: format!("cannot read: {e}"),
                    source: Some(e.into()),
                })?;
                let svc = parse_rule_file(&path.display().to_string(), &text)?;
                // Replace in place: the order decides ties between services (first wins).
                match services.iter_mut().find(|s| s.id == svc.id) {
                    Some(old) => *old = svc,
                    None => services.push(svc),
                }
            }
        }
        Ok(RuleSet::from_services(services))
    }

    /// A rule set of these services (all available), enabling those with `default = true`.
    pub fn from_services(available: Vec<Service>) -> RuleSet {
        let mut set = RuleSet {
            services: Vec::new(),
            available,
            credential_headers: BTreeSet::new(),
            credential_cookies: BTreeSet::new(),
            not_credentials: BTreeSet::new(),
            helper_modules: BTreeSet::new(),
            helper_functions: BTreeSet::new(),
            credential_sets: Vec::new(),
        };
        set.enable(|s| s.default);
        set
    }

    /// Enable exactly the services with these ids (`all`: every available service), in load
    /// order. An unknown id is an error naming the known ones; the set is unchanged then.
    pub fn select(&mut self, ids: &[String]) -> Result<(), Error> {
        let ids: Vec<&str> = ids.iter().map(|i| i.trim()).collect();
        let known = || {
            self.available
                .iter()
                .map(|s| s.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        if ids.is_empty() {
            return Err(Error::Usage(format!(
                "--service: no service given; known services: {} (or `all`)",
                known()
            )));
        }
        if let Some(bad) = ids
            .iter()
            .find(|i| **i != "all" && !self.available.iter().any(|s| s.id == **i))
        {
            return Err(Error::Usage(format!(
                "unknown service `{bad}`; known services: {} (or `all`)",
                known()
            )));
        }
        if ids.contains(&"all") {
            self.enable(|_| true);
        } else {
            self.enable(|s| ids.contains(&s.id.as_str()));
        }
        Ok(())
    }

    /// A stable hex digest (FNV-1a 64) of the enabled services' rule files: their ids and texts,
    /// sorted by id. The same rules give the same digest on every machine and in every version.
    pub fn digest(&self) -> String {
        let mut parts: Vec<(&str, &str)> = self
            .services
            .iter()
            .map(|s| (s.id.as_str(), s.text.as_str()))
            .collect();
        parts.sort();
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        let mut feed = |bytes: &[u8]| {
            for b in bytes {
                hash ^= u64::from(*b);
                hash = hash.wrapping_mul(0x0100_0000_01b3);
            }
        };
        for (id, text) in parts {
            // Lengths first, so ("ab", "c") and ("a", "bc") differ.
            feed(&(id.len() as u64).to_le_bytes());
            feed(id.as_bytes());
            feed(&(text.len() as u64).to_le_bytes());
            feed(text.as_bytes());
        }
        format!("{hash:016x}")
    }

    /// Is this service (by id) enabled?
    pub fn is_enabled(&self, id: &str) -> bool {
        self.services.iter().any(|s| s.id == id)
    }

    /// Rebuild the enabled services and every lookup derived from them.
    fn enable(&mut self, keep: impl Fn(&Service) -> bool) {
        let lower = |v: &Vec<String>| v.iter().map(|s| s.to_ascii_lowercase()).collect::<Vec<_>>();
        self.services = self.available.iter().filter(|s| keep(s)).cloned().collect();
        self.credential_headers.clear();
        self.credential_cookies.clear();
        self.not_credentials.clear();
        self.helper_modules.clear();
        self.helper_functions.clear();
        self.credential_sets.clear();
        let set = self;
        for s in &set.services {
            set.credential_headers.extend(lower(&s.access.headers));
            set.credential_cookies.extend(lower(&s.access.cookies));
            set.not_credentials.extend(lower(&s.access.not_credentials));
            set.credential_sets.extend(
                s.access
                    .header_sets
                    .iter()
                    .map(|hs| lower(hs).into_iter().collect::<BTreeSet<_>>()),
            );
            set.helper_modules.extend(s.helpers.modules.iter().cloned());
            set.helper_functions
                .extend(s.helpers.functions.iter().cloned());
        }
    }

    /// The first enabled service (the report's subject when only one is in force); the first
    /// available one if none is enabled.
    /// Add the configured protected domains (`--domain`, `protected-domains`) to the primary
    /// service's `domains`, so an address on one of them is the service's, whatever its path.
    pub fn protect_domains(&mut self, domains: &[String]) {
        if let Some(svc) = self.services.first_mut() {
            for d in domains {
                if !svc.domains.contains(d) {
                    svc.domains.push(d.clone());
                }
            }
        }
    }

    pub fn primary(&self) -> &Service {
        self.services
            .first()
            .or(self.available.first())
            .expect("the embedded rules declare at least one service")
    }

    pub fn service(&self, id: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.id == id)
    }

    /// The credential piece a string names: the lower-cased header or cookie name
    /// (`"CF-Access-Client-Id"`, `"CF-Access-Client-Id: abc"`, `"CF_Authorization=…"`).
    pub fn credential_piece(&self, s: &str) -> Option<String> {
        if !self.is_credential_literal(s) {
            return None;
        }
        let lower = s.trim().trim_end_matches(':').trim().to_ascii_lowercase();
        if self.credential_headers.contains(&lower) || self.credential_cookies.contains(&lower) {
            return Some(lower);
        }
        if let Some((name, _)) = lower.split_once(':') {
            if self.credential_headers.contains(name.trim()) {
                return Some(name.trim().to_string());
            }
        }
        lower.split(';').find_map(|part| {
            part.split_once('=')
                .map(|(name, _)| name.trim().to_string())
                .filter(|n| self.credential_cookies.contains(n))
        })
    }

    /// Do these pieces (lower-cased header / cookie names with a value) make an Access credential:
    /// a cookie, a header that is a credential alone, or every header of a set?
    pub fn is_complete_credential<'s>(&self, pieces: impl IntoIterator<Item = &'s str>) -> bool {
        let have: BTreeSet<&str> = pieces.into_iter().collect();
        if have.contains("*") {
            return true;
        }
        let in_a_set = |h: &str| self.credential_sets.iter().any(|set| set.contains(h));
        have.iter().any(|p| {
            self.credential_cookies.contains(*p)
                || (self.credential_headers.contains(*p) && !in_a_set(p))
        }) || self
            .credential_sets
            .iter()
            .any(|set| !set.is_empty() && set.iter().all(|h| have.contains(h.as_str())))
    }

    /// The service whose client-library constructor a call written as `callee` is.
    pub fn client_constructor(&self, callee: &str) -> Option<&Service> {
        self.services.iter().find(|s| {
            s.clients.constructors.iter().any(|c| {
                callee == c
                    || callee
                        .strip_suffix(c.as_str())
                        .is_some_and(|head| head.ends_with('.') || head.ends_with("::"))
            })
        })
    }

    /// Is this string literal a piece of an Access credential (header name or cookie)?
    pub fn is_credential_literal(&self, s: &str) -> bool {
        let t = s.trim().trim_end_matches(':').trim();
        let lower = t.to_ascii_lowercase();
        if self.not_credentials.contains(&lower) {
            return false;
        }
        if self.credential_headers.contains(&lower) || self.credential_cookies.contains(&lower) {
            return true;
        }
        // `"CF-Access-Client-Id: abc"` header lines and `"CF_Authorization=..."` cookie strings.
        if let Some((name, _)) = lower.split_once(':') {
            if self.credential_headers.contains(name.trim()) {
                return true;
            }
        }
        lower.split(';').any(|part| {
            part.split_once('=')
                .is_some_and(|(name, _)| self.credential_cookies.contains(name.trim()))
        })
    }
}

/// Parse and validate one rule file; errors name the file, line and field.
pub fn parse_rule_file(file: &str, text: &str) -> Result<Service, Error> {
    let raw: RuleFile = toml::from_str(text).map_err(|e| toml_error(file, text, e))?;
    let invalid = |field: &str, message: String| Error::Rules {
        file: format!("{file}:{}", line_of(text, field)),
        message: format!("field `{field}`: {message}"),
        source: None,
    };
    if raw.service.id.trim().is_empty()
        || !raw
            .service
            .id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(invalid(
            "id",
            "must be a non-empty name of letters, digits, `-` or `_`".into(),
        ));
    }
    if raw.address.ports.is_empty()
        && raw.address.hosts.is_empty()
        && raw.address.domains.is_empty()
    {
        return Err(invalid(
            "address",
            "declare at least one of `ports`, `hosts`, `domains`".into(),
        ));
    }
    if let Some(p) = raw.address.paths.iter().find(|p| !p.starts_with('/')) {
        return Err(invalid("paths", format!("`{p}` must start with `/`")));
    }
    if let Some(p) = raw.address.probe.as_deref().filter(|p| !p.starts_with('/')) {
        return Err(invalid("probe", format!("`{p}` must start with `/`")));
    }
    if raw.address.ports.contains(&0) {
        return Err(invalid("ports", "0 is not a port".into()));
    }
    let containers = match &raw.address.containers {
        Some(pat) => Some(
            Regex::new(pat).map_err(|e| invalid("containers", format!("invalid pattern: {e}")))?,
        ),
        None => None,
    };
    for (i, ex) in raw.examples.iter().enumerate() {
        if !matches!(ex.language.as_str(), "python" | "rust") {
            return Err(invalid(
                "language",
                format!("example {}: `{}` is not python or rust", i + 1, ex.language),
            ));
        }
        if ex.negative == ex.group.is_some() {
            return Err(invalid(
                "examples",
                format!(
                    "example {}: give either `group` (a positive example) or `negative = true`",
                    i + 1
                ),
            ));
        }
    }
    let lower = |v: Vec<String>| v.into_iter().map(|s| s.to_ascii_lowercase()).collect();
    let probe = raw
        .address
        .probe
        .clone()
        .or_else(|| raw.address.paths.first().cloned())
        .unwrap_or_else(|| "/".to_string());
    Ok(Service {
        id: raw.service.id,
        name: raw.service.name,
        source: file.to_string(),
        text: text.to_string(),
        default: raw.service.default,
        ports: raw.address.ports,
        hosts: lower(raw.address.hosts),
        domains: lower(raw.address.domains),
        paths: raw.address.paths,
        probe,
        containers,
        access: raw.access,
        helpers: raw.helpers,
        report: raw.report,
        clients: raw.clients,
        examples: raw.examples,
    })
}

/// A TOML syntax or type error as a rules error naming the file and line.
fn toml_error(file: &str, text: &str, e: toml::de::Error) -> Error {
    let line = e
        .span()
        .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
    Error::Rules {
        file: match line {
            Some(l) => format!("{file}:{l}"),
            None => file.to_string(),
        },
        message: e.message().to_string(),
        source: Some(e.into()),
    }
}

/// The 1-based line on which `field` is first assigned in a TOML text (1 when not found).
fn line_of(text: &str, field: &str) -> usize {
    text.lines()
        .position(|l| assigns(l, field) || l.trim() == format!("[{field}]"))
        .map_or(1, |i| i + 1)
}

/// Does this TOML line assign `field`?
fn assigns(line: &str, field: &str) -> bool {
    let l = line.trim_start();
    l.starts_with(field) && l[field.len()..].trim_start().starts_with('=')
}

/// A sinks file's value the TOML types accept but the scanner cannot use: `field` of the
/// `nth` (0-based) table headed `header` (`[[shell.tools]]`, `[shell.arguments.curl]`).
struct Invalid {
    header: String,
    nth: usize,
    field: &'static str,
    message: String,
}

impl Invalid {
    /// The 1-based line of the field in that table, else of the table's header (1 when neither
    /// is found).
    fn line(&self, text: &str) -> usize {
        let lines: Vec<&str> = text.lines().collect();
        let Some(start) = lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.trim() == self.header)
            .nth(self.nth)
            .map(|(i, _)| i)
        else {
            return 1;
        };
        let end = lines[start + 1..]
            .iter()
            .position(|l| l.trim_start().starts_with('['))
            .map_or(lines.len(), |k| start + 1 + k);
        (start + 1..end)
            .find(|&i| assigns(lines[i], self.field))
            .unwrap_or(start)
            + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_is_stable_and_follows_the_enabled_rules() {
        let a = RuleSet::embedded().unwrap();
        let b = RuleSet::embedded().unwrap();
        assert_eq!(a.digest(), b.digest());
        assert_eq!(a.digest().len(), 16);
        assert!(a.digest().chars().all(|c| c.is_ascii_hexdigit()));
        let mut all = RuleSet::embedded().unwrap();
        all.select(&["all".to_string()]).unwrap();
        assert_ne!(a.digest(), all.digest());
        let mut changed = RuleSet::embedded().unwrap();
        changed.services[0].text.push('\n');
        assert_ne!(a.digest(), changed.digest());
    }

    #[test]
    fn embedded_rules_load() {
        let rules = RuleSet::embedded().unwrap();
        assert_eq!(rules.primary().id, "comfyui");
        assert!(rules.primary().ports.contains(&8188));
    }

    #[test]
    fn credential_literals_match_case_insensitively() {
        let rules = RuleSet::embedded().unwrap();
        assert!(rules.is_credential_literal("CF-Access-Client-ID"));
        assert!(rules.is_credential_literal("cf-access-token"));
        assert!(rules.is_credential_literal("CF_Authorization="));
        assert!(rules.is_credential_literal("CF-Access-Client-Secret: abc"));
        assert!(!rules.is_credential_literal("Cf-Access-Jwt-Assertion"));
        assert!(!rules.is_credential_literal("Content-Type"));
    }

    #[test]
    fn unknown_field_names_file_line_and_field() {
        let text = "[service]\nid = \"x\"\nname = \"X\"\n[address]\nports = [1]\nportz = [2]\n";
        let err = parse_rule_file("rules/x.toml", text)
            .unwrap_err()
            .to_string();
        assert!(err.contains("rules/x.toml:6"), "{err}");
        assert!(err.contains("portz"), "{err}");
    }

    #[test]
    fn invalid_container_pattern_is_reported() {
        let text =
            "[service]\nid = \"x\"\nname = \"X\"\n[address]\nports = [1]\ncontainers = \"(\"\n";
        let err = parse_rule_file("x.toml", text).unwrap_err().to_string();
        assert!(
            err.contains("x.toml:6") && err.contains("containers"),
            "{err}"
        );
    }

    #[test]
    fn probe_path_defaults_to_first_path_or_root() {
        let rules = RuleSet::embedded().unwrap();
        assert_eq!(rules.primary().probe, "/system_stats");
        let text =
            "[service]\nid = \"x\"\nname = \"X\"\n[address]\nports = [1]\npaths = [\"/api\"]\n";
        assert_eq!(parse_rule_file("x.toml", text).unwrap().probe, "/api");
        let text = "[service]\nid = \"x\"\nname = \"X\"\n[address]\nports = [1]\n";
        assert_eq!(parse_rule_file("x.toml", text).unwrap().probe, "/");
        let text =
            "[service]\nid = \"x\"\nname = \"X\"\n[address]\nports = [1]\nprobe = \"health\"\n";
        let err = parse_rule_file("x.toml", text).unwrap_err().to_string();
        assert!(err.contains("x.toml:6") && err.contains("probe"), "{err}");
    }

    #[test]
    fn wrong_type_is_reported() {
        let text = "[service]\nid = \"x\"\nname = \"X\"\n[address]\nports = [\"eighty\"]\n";
        let err = parse_rule_file("x.toml", text).unwrap_err().to_string();
        assert!(err.contains("x.toml:5"), "{err}");
    }
}
