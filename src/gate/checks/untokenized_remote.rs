//! `untokenized-remote`: its id, defaults, message and suggested fix, and its documentation (the
//! sections below, which `access-audit explain untokenized-remote` prints).
//!
//! ## What it does
//!
//! Reports a request to a remote (public) address of the service that does not carry a Cloudflare
//! Access credential.
//!
//! ## Why is this bad?
//!
//! Once Access protects the domain, such a request gets the sign-in redirect (302) or a 403
//! instead of the API: the script breaks.
//!
//! ## Example
//!
//! ~~~python
//! requests.get("https://comfyui.example.space/prompt")
//! ~~~
//!
//! ## How to fix
//!
//! Route the call through the token helper, or send `CF-Access-Client-Id` and
//! `CF-Access-Client-Secret` (a service token) read from the environment:
//!
//! ~~~python
//! requests.get("https://comfyui.example.space/prompt", headers=CF_HEADERS)
//! ~~~

use super::{Candidate, Check, Meta};
use crate::engine::finding::{Evidence, Finding};
use crate::gate::Severity;
use crate::rules::RuleSet;

pub const META: Meta = Meta {
    id: "untokenized-remote",
    summary: "A remote address is used without a Cloudflare Access credential",
    enabled_by_default: true,
    default_severity: Severity::Error,
    source: include_str!("untokenized_remote.rs"),
};

/// The violation at a request that breaks once Access is on, with the change that fixes it (for
/// that client library, with the helper and header names of the finding's service in `rules`).
pub(crate) fn candidate(f: &Finding, rules: Option<&RuleSet>) -> Option<Candidate> {
    // An env / compose / manifest entry defines a value; the request is sent by the code that
    // reads it (reported there, with `env_source`), so a definition is never "sent".
    if !f.breaks() || f.evidence == Evidence::Config {
        return None;
    }
    let via = f
        .client
        .as_deref()
        .map(|c| format!(" ({c})"))
        .unwrap_or_default();
    let mut c = Candidate::at_finding(
        f,
        Check::UntokenizedRemote,
        format!(
            "`{}`{via} is sent without a Cloudflare Access credential: it breaks once Access is on",
            f.url.as_deref().unwrap_or("")
        ),
    );
    let svc = rules.and_then(|r| {
        r.service(&f.service)
            .or_else(|| r.available.iter().find(|s| s.id == f.service))
    });
    c.suggestion = Some(crate::remedy::suggestion(
        f.client.as_deref(),
        f.language,
        svc,
    ));
    Some(c)
}
