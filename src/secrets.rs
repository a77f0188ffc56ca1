//! Hard-coded Access credentials: service-token client ids (`<32 hex>.access`), client secrets
//! (`cfast_` + 40 alphanumerics + an 8-character checksum, or the older 64 hex digits next to a
//! secret's name) and `cf-access-token` / `CF_Authorization` JWTs written in source. Only the
//! location and a redacted prefix are ever kept: the value itself never leaves this module.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

/// A credential value found in source (redacted).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Secret {
    pub path: String,
    pub line: u32,
    pub column: u32,
    /// `client-id`, `client-secret`, `access-token`.
    pub kind: String,
    /// At most the first 6 characters, then `…`.
    pub redacted: String,
}

static CLIENT_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b[0-9a-f]{32}\.access\b").expect("valid regex"));
static CFAST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bcfast_[A-Za-z0-9]{40}[A-Za-z0-9_-]{8}\b").expect("valid regex")
});
static HEX64: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b[0-9a-f]{64}\b").expect("valid regex"));
static JWT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}")
        .expect("valid regex")
});
/// Names next to which a 64-hex value or a JWT is a credential.
static SECRET_CONTEXT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)client[_-]?secret|cf[_-]access[_-]token|cf_authorization|access_token")
        .expect("valid regex")
});

/// Needles a file must contain to be worth a secrets pass (checked by the scan's prefilter).
pub const NEEDLES: &[&str] = &[
    ".access",
    "cfast_",
    "client_secret",
    "client-secret",
    "access-token",
    "access_token",
    "cf_authorization",
];

/// Find hard-coded credentials in `text`.
pub fn find(path: &str, text: &str) -> Vec<Secret> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.len() > 100_000 {
            continue;
        }
        let mut push = |m: regex::Match, kind: &str| {
            let column = line[..m.start()].chars().count() as u32 + 1;
            out.push(Secret {
                path: path.to_string(),
                line: i as u32 + 1,
                column,
                kind: kind.to_string(),
                redacted: redact(m.as_str()),
            });
        };
        for m in CLIENT_ID.find_iter(line) {
            push(m, "client-id");
        }
        for m in CFAST.find_iter(line) {
            push(m, "client-secret");
        }
        if SECRET_CONTEXT.is_match(line) {
            for m in HEX64.find_iter(line) {
                push(m, "client-secret");
            }
            for m in JWT.find_iter(line) {
                push(m, "access-token");
            }
        }
    }
    out
}

/// `line` with every credential value it holds replaced by its redacted form (for code frames).
pub fn mask_line(line: &str) -> String {
    let mut out = line.to_string();
    for re in [&*CLIENT_ID, &*CFAST, &*HEX64, &*JWT] {
        out = re
            .replace_all(&out, |c: &regex::Captures| redact(&c[0]))
            .into_owned();
    }
    out
}

/// The first 6 characters of a secret, then `…`.
pub fn redact(value: &str) -> String {
    let prefix: String = value.chars().take(6).collect();
    format!("{prefix}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0123456789abcdef0123456789abcdef.access";

    #[test]
    fn finds_client_ids_and_new_secrets() {
        let secret = format!("cfast_{}{}", "A1b2C3d4E5".repeat(4), "zz9Y-x_1");
        let text = format!("ID = \"{ID}\"\nSECRET = \"{secret}\"\n");
        let found = find("a.py", &text);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!((found[0].line, found[0].kind.as_str()), (1, "client-id"));
        assert_eq!(
            (found[1].line, found[1].kind.as_str()),
            (2, "client-secret")
        );
        assert!(found
            .iter()
            .all(|s| !s.redacted.contains(&secret[8..]) && s.redacted.chars().count() <= 7));
    }

    #[test]
    fn hex64_only_next_to_a_secret_name() {
        let hex = "ab".repeat(32);
        assert_eq!(
            find("a.py", &format!("CF_ACCESS_CLIENT_SECRET = \"{hex}\"")).len(),
            1
        );
        assert!(find("a.py", &format!("SHA256 = \"{hex}\"")).is_empty());
    }

    #[test]
    fn masking_hides_every_value() {
        let hex = "cd".repeat(32);
        let masked = mask_line(&format!("a = \"{ID}\"; b = \"{hex}\""));
        assert!(!masked.contains(ID) && !masked.contains(&hex), "{masked}");
        assert!(masked.contains("012345…"));
    }

    #[test]
    fn env_reads_are_not_secrets() {
        assert!(find("a.py", "SECRET = os.environ[\"CF_ACCESS_CLIENT_SECRET\"]").is_empty());
    }
}
