//! Shell scripts and Dockerfiles: `curl` / `wget` / `websocat` commands (with their `-H` headers,
//! so a request that sends `CF-Access-Client-Id` is tokenized), `docker exec` commands, and
//! variables assigned in the script (`COMFY=http://…`, `ENV COMFY_URL=…`, `ARG`).

use crate::finding::Language;
use crate::ir::FileFacts;
use crate::rules::RuleSet;

/// Extract facts from a shell script or a Dockerfile.
pub fn extract(text: &str, kind: Language, rules: &RuleSet) -> FileFacts {
    let _ = kind;
    super::text::extract(text, rules)
}
