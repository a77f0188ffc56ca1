//! Hard-coded Access credentials: service-token client ids (`<32 hex>.access`), client secrets
//! (`cfast_` + 40 alphanumerics + an 8-character checksum, or the older 64 hex digits next to a
//! secret's name) and `cf-access-token` / `CF_Authorization` JWTs written in source. Only the
//! location and a redacted prefix are ever kept: the value itself never leaves this module.

use std::borrow::Cow;
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
    /// Notebooks: the 1-based cell index of a value in a code cell (`line` is then the line in the
    /// cell).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cell: Option<u32>,
    /// A hash of the value (never the value): a baselined secret does not hide another one of the
    /// same kind. Not serialized.
    #[serde(skip)]
    pub digest: String,
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
                cell: None,
                digest: digest(m.as_str()),
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

/// Credentials in a notebook: those in code cells in cell coordinates, the others (outputs,
/// metadata) at their line of the notebook's JSON.
pub fn find_in_notebook(path: &str, text: &str) -> Vec<Secret> {
    let mut out = Vec::new();
    for (cell, code) in crate::engine::lower::notebook::raw_code_cells(text) {
        out.extend(find(path, &code).into_iter().map(|mut s| {
            s.cell = Some(cell);
            s
        }));
    }
    let in_cells: std::collections::HashSet<String> =
        out.iter().map(|s| s.digest.clone()).collect();
    out.extend(
        find(path, text)
            .into_iter()
            .filter(|s| !in_cells.contains(&s.digest)),
    );
    out
}

/// A short, stable hash of a value (64-bit FNV-1a of a domain-separated input, in hex).
fn digest(value: &str) -> String {
    let input = [b"access-audit secret\0".as_slice(), value.as_bytes()].concat();
    format!("{:016x}", crate::digest::fnv1a(&input))
}

/// Other credentials that travel in source and command lines: the value is group `v`.
static OTHER_CREDENTIALS: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        // `https://user:password@host`
        r"(?i)[a-z][a-z0-9+.-]*://[^\s/@:'\x22`]*:(?P<v>[^\s/@'\x22`]+)@",
        // `Authorization: Bearer …`, `Basic …`, `token …`
        r"(?i)\b(?:bearer|basic)\s+(?P<v>[A-Za-z0-9._~+/=-]{4,})",
        // `curl -u user:pass`, `--user user:pass`, `-uuser:pass`
        r#"(?:^|\s)(?:-u\s*|--user[\s=]+)['"]?[^\s:'"]*:(?P<v>[^\s'"]+)"#,
        // `?token=…`, `&api_key=…`
        r"(?i)[?&;](?:access_token|api[_-]?key|apikey|auth|client_secret|key|password|passwd|pwd|secret|sig|signature|token)=(?P<v>[^&#\s'\x22`]+)",
        // Access headers and variables with their value: `CF-Access-Client-Secret: …`
        r#"(?i)\b(?:cf[_-]access[_-]client[_-](?:secret|id)|cf[_-]access[_-]token|cf_authorization|authorization)['"]?\s*[:=]\s*['"]?(?:bearer\s+|basic\s+)?(?P<v>[^\s'",;}]{4,})"#,
    ]
    .iter()
    .map(|p| Regex::new(p).expect("valid regex"))
    .collect()
});

/// `text` with every credential value it holds masked: Access client ids, secrets and tokens, URL
/// passwords, `Bearer` / `Basic` values, `curl -u user:pass`, `?token=` / `?key=` query values and
/// the values of Access and `Authorization` headers. Enough is kept to find the place (the first
/// characters of a long value, then `…`). Used for every output that shows source text.
pub fn mask_line(line: &str) -> String {
    mask(line).into_owned()
}

/// [`mask_line`], borrowing `line` when it holds nothing to mask (most lines).
pub fn mask(line: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(line);
    for re in [&*CLIENT_ID, &*CFAST, &*HEX64, &*JWT] {
        let masked = match re.replace_all(&out, |c: &regex::Captures| redact(&c[0])) {
            Cow::Owned(masked) => Some(masked),
            Cow::Borrowed(_) => None,
        };
        if let Some(masked) = masked {
            out = Cow::Owned(masked);
        }
    }
    for re in OTHER_CREDENTIALS.iter() {
        if !re.is_match(&out) {
            continue;
        }
        let hay = out.into_owned();
        out = re
            .replace_all(&hay, |c: &regex::Captures| {
                let all = c.get(0).map_or("", |m| m.as_str());
                let Some(v) = c.name("v").filter(|v| !hay[v.end()..].starts_with('…')) else {
                    return all.to_string();
                };
                let start = v.start() - c.get(0).map_or(0, |m| m.start());
                format!(
                    "{}{}{}",
                    &all[..start],
                    mask_value(v.as_str()),
                    &all[start + v.len()..]
                )
            })
            .into_owned()
            .into();
    }
    out
}

/// A value masked: the first 4 characters of a long value, then `…`; a short one entirely. An
/// already masked value stays as it is.
fn mask_value(v: &str) -> String {
    if v.ends_with('…') || v == "***" || v.chars().all(|c| c == '*') {
        return v.to_string();
    }
    let n = v.chars().count();
    let keep = if n >= 12 { 4 } else { 0 };
    let prefix: String = v.chars().take(keep).collect();
    format!("{prefix}…")
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
    fn other_credentials_are_masked_keeping_a_prefix() {
        for (line, leak) in [
            (
                "requests.get('https://bob:hunter2hunter2@x.example.com/a')",
                "hunter2hunter2",
            ),
            (
                "H = {'Authorization': 'Bearer eyZZsecretTOKENvalue123'}",
                "secretTOKENvalue123",
            ),
            (
                "curl -u admin:s3cretpassword https://x.example.com",
                "s3cretpassword",
            ),
            (
                "curl --user admin:s3cretpassword https://x.example.com",
                "s3cretpassword",
            ),
            (
                "get('https://x.example.com/api?token=abcdef0123456789&x=1')",
                "abcdef0123456789",
            ),
            (
                "get('https://x.example.com/api?x=1&key=abcdef0123456789')",
                "abcdef0123456789",
            ),
            (
                "curl -H 'CF-Access-Client-Secret: plainvalue12345678' x",
                "plainvalue12345678",
            ),
        ] {
            let masked = mask_line(line);
            assert!(!masked.contains(leak), "{masked}");
            assert!(masked.contains('…'), "{masked}");
            assert_eq!(mask_line(&masked), masked, "masking twice changes nothing");
        }
        assert!(mask_line("?token=abcdef0123456789").contains("abcd…"));
        assert_eq!(
            mask_line("https://x.example.com/a?page=2"),
            "https://x.example.com/a?page=2"
        );
    }

    #[test]
    fn a_different_value_has_a_different_digest() {
        let a = find("a.py", &format!("X = \"{ID}\""));
        let b = find("a.py", &format!("X = \"{}\"", ID.replace('0', "1")));
        assert_eq!(a[0].kind, b[0].kind);
        assert_ne!(a[0].digest, b[0].digest);
        assert!(!a[0].digest.contains("0123456789abcdef"));
    }

    #[test]
    fn env_reads_are_not_secrets() {
        assert!(find("a.py", "SECRET = os.environ[\"CF_ACCESS_CLIENT_SECRET\"]").is_empty());
    }
}
