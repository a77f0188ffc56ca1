//! `insecure-remote`: its id, defaults and message, and its documentation (the sections below,
//! which `access-audit explain insecure-remote` prints).
//!
//! ## What it does
//!
//! Reports `http://` or `ws://` to a remote address of the service.
//!
//! ## Why is this bad?
//!
//! The Access credential would travel in clear text.
//!
//! ## Example
//!
//! ~~~python
//! requests.get("http://comfyui.example.space/queue", headers=CF_HEADERS)
//! ~~~
//!
//! ## How to fix
//!
//! Use `https://` / `wss://`:
//!
//! ~~~python
//! requests.get("https://comfyui.example.space/queue", headers=CF_HEADERS)
//! ~~~

use super::{Candidate, Check, Meta};
use crate::engine::classify::Group;
use crate::engine::finding::Finding;
use crate::gate::Severity;

pub const META: Meta = Meta {
    id: "insecure-remote",
    summary: "A remote address uses http:// or ws://, so credentials travel in clear",
    enabled_by_default: true,
    default_severity: Severity::Error,
    source: include_str!("insecure_remote.rs"),
};

/// The violation at a remote address reached over `http` or `ws`.
pub(crate) fn candidate(f: &Finding) -> Option<Candidate> {
    if f.group != Group::Remote || !matches!(f.scheme.as_deref(), Some("http" | "ws")) {
        return None;
    }
    Some(Candidate::at_finding(
        f,
        Check::InsecureRemote,
        format!(
            "`{}` is not encrypted: the Access credential would travel in clear",
            f.url.as_deref().unwrap_or("")
        ),
    ))
}
