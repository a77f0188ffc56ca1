//! `unresolved-address`: its id, defaults (off) and message, and its documentation (the sections
//! below, which `access-audit explain unresolved-address` prints).
//!
//! ## What it does
//!
//! Reports an address only known at run time (an env var without default, a command-line
//! argument, a parameter).
//!
//! Off by default; `--strict` (or `strict = true` in the config) turns it on.
//!
//! ## Why is this bad?
//!
//! Whether it breaks depends on the value in each deployment.
//!
//! ## Example
//!
//! ~~~python
//! url = os.environ["COMFYUI_URL"]
//! requests.get(url + "/queue")
//! ~~~
//!
//! ## How to fix
//!
//! Give the variable a default, or suppress with the reason why it is safe:
//!
//! ~~~python
//! url = os.environ.get("COMFYUI_URL", "http://localhost:8188")
//! url = os.environ["COMFYUI_URL"]  # access-audit: ignore[unresolved-address] always local
//! ~~~

use super::{Candidate, Check, Meta};
use crate::engine::classify::Group;
use crate::engine::finding::Finding;
use crate::gate::Severity;

pub const META: Meta = Meta {
    id: "unresolved-address",
    summary: "An address is only known at run time",
    enabled_by_default: false,
    default_severity: Severity::Error,
    source: include_str!("unresolved_address.rs"),
};

/// The violation at an address whose host is known only at run time, naming where it comes from.
pub(crate) fn candidate(f: &Finding) -> Option<Candidate> {
    if f.group != Group::Unresolved {
        return None;
    }
    let set_by = f
        .env_var
        .as_deref()
        .map_or_else(|| "a run-time value".to_string(), |v| format!("env `{v}`"));
    Some(Candidate::at_finding(
        f,
        Check::UnresolvedAddress,
        format!(
            "`{}`: the host comes from {set_by}; check what it points to in each deployment",
            f.url.as_deref().unwrap_or("")
        ),
    ))
}
