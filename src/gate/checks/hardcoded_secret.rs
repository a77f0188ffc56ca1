//! `hardcoded-secret`: its id, defaults and message, and its documentation (the sections below,
//! which `access-audit explain hardcoded-secret` prints).
//!
//! ## What it does
//!
//! Reports an Access credential value written in source: a service-token client id
//! (`<32 hex>.access`), a client secret (`cfast_...`, or 64 hex digits next to a secret's name) or
//! an access token.
//!
//! ## Why is this bad?
//!
//! Anyone who can read the repository can pass Access. The value is reported by location only,
//! with at most a 6-character prefix.
//!
//! ## Example
//!
//! ~~~python
//! CF_ACCESS_CLIENT_SECRET = "cfast_..."
//! ~~~
//!
//! ## How to fix
//!
//! Read it from the environment or a secret store, and rotate the token that was committed:
//!
//! ~~~python
//! CF_ACCESS_CLIENT_SECRET = os.environ["CF_ACCESS_CLIENT_SECRET"]
//! ~~~

use super::{Candidate, Check, Meta};
use crate::engine::secrets::Secret;
use crate::gate::Severity;

pub const META: Meta = Meta {
    id: "hardcoded-secret",
    summary: "An Access credential value is written in source",
    enabled_by_default: true,
    default_severity: Severity::Error,
    source: include_str!("hardcoded_secret.rs"),
};

/// The violation at a credential value found in source, named by its kind and redacted prefix.
pub(crate) fn candidate(s: &Secret) -> Candidate {
    Candidate {
        rule: Check::HardcodedSecret,
        path: s.path.clone(),
        cell: s.cell,
        line: s.line,
        column: s.column,
        message: format!(
            "hard-coded Access {} `{}`: read it from the environment and rotate it",
            s.kind, s.redacted
        ),
        url: None,
        function: None,
        // The value's hash: another value of the same kind is another violation.
        key: format!("{}|{}", s.kind, s.digest),
        suggestion: None,
    }
}
