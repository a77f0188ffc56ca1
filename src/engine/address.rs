//! Reading an address out of an evaluated string: scheme, host, port and path, where the host may be
//! a hole (known only at run time), and deciding whether the address is a given service's.

use crate::engine::solve::{display_text, HOLE_CLOSE, HOLE_OPEN};
use crate::rules::Service;

/// An address found in an evaluated string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// `http`, `https`, `ws`, `wss`; `None` for `host:port` strings.
    pub scheme: Option<String>,
    /// Lower-cased host without IPv6 brackets; `None` when the host is a hole.
    pub host: Option<String>,
    /// Explicit port (`None`: the scheme default, or unknown).
    pub port: Option<u16>,
    /// Path, query and fragment, holes shown as `{name}`.
    pub path: String,
    /// The whole address, holes shown as `{name}`.
    pub url: String,
    /// The host (or the port) is a hole.
    pub host_hole: bool,
}

const SCHEMES: &[&str] = &["https://", "http://", "wss://", "ws://"];

/// Parse the address a string starts with, if it looks like one.
pub fn parse(text: &str) -> Option<Address> {
    // Hole labels may hold any character (`{cfg["host"]}`): parse with them masked.
    let (masked, labels) = mask_holes(text.trim_start());
    let mut addr = parse_masked(&masked)?;
    if !labels.is_empty() {
        addr.path = unmask(&addr.path, &labels);
        addr.url = unmask(&addr.url, &labels);
    }
    Some(addr)
}

/// Replace each hole's label by its index: `\u{E000}cfg["host"]\u{E001}` → `\u{E000}0\u{E001}`.
fn mask_holes(text: &str) -> (String, Vec<String>) {
    if !text.contains(HOLE_OPEN) {
        return (text.to_string(), Vec::new());
    }
    let mut out = String::with_capacity(text.len());
    let mut labels = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(HOLE_OPEN) {
        out.push_str(&rest[..i]);
        let after = &rest[i + HOLE_OPEN.len_utf8()..];
        let Some(j) = after.find(HOLE_CLOSE) else {
            rest = &rest[i..];
            break;
        };
        out.push(HOLE_OPEN);
        out.push_str(&labels.len().to_string());
        out.push(HOLE_CLOSE);
        labels.push(after[..j].to_string());
        rest = &after[j + HOLE_CLOSE.len_utf8()..];
    }
    out.push_str(rest);
    (out, labels)
}

/// Put the labels back, shown as `{label}` (the text is already displayed with `{`/`}`).
fn unmask(shown: &str, labels: &[String]) -> String {
    let mut out = shown.to_string();
    for (i, label) in labels.iter().enumerate().rev() {
        out = out.replace(&format!("{{{i}}}"), &format!("{{{label}}}"));
    }
    out
}

fn parse_masked(text: &str) -> Option<Address> {
    let lower_start: String = text
        .chars()
        .take(8)
        .collect::<String>()
        .to_ascii_lowercase();
    let (scheme, rest) = match SCHEMES.iter().find(|s| lower_start.starts_with(*s)) {
        Some(s) => (
            Some(s.trim_end_matches("://").to_string()),
            &text[s.len()..],
        ),
        None => (None, text),
    };
    let end = rest
        .find(['/', '?', '#', ' ', '\t', '\n', '"', '\''])
        .unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    if tail.starts_with([' ', '\t', '\n', '"', '\'']) && scheme.is_none() {
        return None;
    }
    let path_end = tail
        .find([' ', '\t', '\n', '"', '\'', '<', '>'])
        .unwrap_or(tail.len());
    let tail = &tail[..path_end];
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    if authority.is_empty() {
        return None;
    }
    let (host_part, port_part) = split_host_port(authority)?;
    let host_hole = host_part.contains(HOLE_OPEN);
    let mut port = None;
    let mut port_hole = false;
    if let Some(p) = port_part {
        if p.contains(HOLE_OPEN) {
            port_hole = true;
        } else {
            port = Some(p.parse::<u16>().ok()?);
        }
    }
    if !host_hole && !valid_host(host_part) {
        return None;
    }
    if scheme.is_none() {
        // Without a scheme: `host:port[/path]`, or `{hole}/api/path`.
        if host_hole {
            if !host_part.starts_with(HOLE_OPEN) || !host_part.ends_with(HOLE_CLOSE) {
                return None;
            }
        } else if port.is_none() && !port_hole {
            return None;
        }
    }
    let host = if host_hole {
        None
    } else {
        Some(host_part.trim_matches(['[', ']']).to_ascii_lowercase())
    };
    let url_len = text.len() - rest.len() + end + tail.len();
    Some(Address {
        scheme,
        host,
        port,
        path: display_text(tail),
        url: display_text(&redact_userinfo(&text[..url_len])),
        host_hole,
    })
}

/// `https://user:secret@host/…` → `https://user:***@host/…`: a password never reaches the output.
fn redact_userinfo(url: &str) -> String {
    let Some(start) = url.find("://").map(|i| i + 3) else {
        return url.to_string();
    };
    let end = url[start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| start + i);
    let Some(at) = url[start..end].rfind('@').map(|i| start + i) else {
        return url.to_string();
    };
    let user = url[start..at].split(':').next().unwrap_or("");
    format!("{}{user}:***{}", &url[..start], &url[at..])
}

fn split_host_port(authority: &str) -> Option<(&str, Option<&str>)> {
    if let Some(rest) = authority.strip_prefix('[') {
        let close = rest.find(']')?;
        let host = &authority[..close + 2];
        let after = &rest[close + 1..];
        return match after.strip_prefix(':') {
            Some(p) => Some((host, Some(p))),
            None if after.is_empty() => Some((host, None)),
            None => None,
        };
    }
    // A bare IPv6 address without brackets (`::1`) has several colons: no port.
    if authority.matches(':').count() > 1 {
        return if authority.parse::<std::net::Ipv6Addr>().is_ok() {
            Some((authority, None))
        } else {
            None
        };
    }
    match authority.split_once(':') {
        Some((h, p)) => Some((h, Some(p))),
        None => Some((authority, None)),
    }
}

fn valid_host(h: &str) -> bool {
    if let Some(inner) = h.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        return inner.parse::<std::net::Ipv6Addr>().is_ok();
    }
    if h.parse::<std::net::Ipv6Addr>().is_ok() {
        return true;
    }
    !h.is_empty()
        && h.len() <= 253
        && h.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_')
        && !h.starts_with(['.', '-'])
        && h.chars()
            .any(|c| c.is_ascii_alphabetic() || c.is_ascii_digit())
}

/// Why an address is the service's (the strongest reason wins).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    Port,
    Host,
    Path,
}

/// Is this address the service's? By port, by host name / domain, or by API path.
pub fn matches(addr: &Address, svc: &Service) -> Option<Match> {
    if let Some(host) = &addr.host {
        if svc.hosts.iter().any(|h| h == host) || svc.domains.iter().any(|d| d == host) {
            return Some(Match::Host);
        }
    }
    if addr.port.is_some_and(|p| svc.ports.contains(&p)) {
        return Some(Match::Port);
    }
    // An API route: the path starts with it and ends there or continues with `/`, `?`, `{`.
    let path_match = svc.paths.iter().any(|p| {
        addr.path
            .strip_prefix(p.as_str())
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '?', '{', '#']))
    });
    if path_match && (addr.scheme.is_some() || addr.host_hole) {
        return Some(Match::Path);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleSet;

    fn hole(s: &str) -> String {
        format!("{HOLE_OPEN}{s}{HOLE_CLOSE}")
    }

    #[test]
    fn parses_urls() {
        let a = parse("http://127.0.0.1:8188/prompt").unwrap();
        assert_eq!(
            (
                a.scheme.as_deref(),
                a.host.as_deref(),
                a.port,
                a.path.as_str()
            ),
            (Some("http"), Some("127.0.0.1"), Some(8188), "/prompt")
        );
        let a = parse("ws://[::1]:8188/ws?clientId=x").unwrap();
        assert_eq!((a.host.as_deref(), a.port), (Some("::1"), Some(8188)));
        let a = parse("https://comfyui.datacrew.space").unwrap();
        assert_eq!(
            (a.host.as_deref(), a.port, a.path.as_str()),
            (Some("comfyui.datacrew.space"), None, "")
        );
    }

    #[test]
    fn parses_host_port_without_scheme() {
        let a = parse("127.0.0.1:8188").unwrap();
        assert_eq!(
            (a.scheme, a.host.as_deref(), a.port),
            (None, Some("127.0.0.1"), Some(8188))
        );
        assert!(parse("comfyui").is_none());
        assert!(parse("Error: 8188").is_none());
        assert!(parse("a:b").is_none());
    }

    #[test]
    fn holes_in_host() {
        let a = parse(&format!("{}/prompt", hole("COMFYUI_URL"))).unwrap();
        assert!(a.host_hole);
        assert_eq!(a.url, "{COMFYUI_URL}/prompt");
        let a = parse(&format!("http://{}:8188/prompt", hole("host"))).unwrap();
        assert!(a.host_hole);
        assert_eq!(a.port, Some(8188));
        assert!(parse(&format!("{}x/prompt", hole("a"))).is_none());
    }

    #[test]
    fn hole_labels_with_quotes_and_colons() {
        let a = parse(&format!("http://{}:8188/prompt", hole("cfg[\"host\"]"))).unwrap();
        assert!(a.host_hole);
        assert_eq!(a.port, Some(8188));
        assert_eq!(a.url, "http://{cfg[\"host\"]}:8188/prompt");
        let a = parse(&format!("{}/history/{}", hole("a:b"), hole("x/y"))).unwrap();
        assert_eq!(a.url, "{a:b}/history/{x/y}");
    }

    #[test]
    fn passwords_in_userinfo_are_redacted() {
        let a = parse("https://bot:s3cr3t@comfyui.example.com/view").unwrap();
        assert_eq!(a.url, "https://bot:***@comfyui.example.com/view");
        assert_eq!(a.host.as_deref(), Some("comfyui.example.com"));
    }

    #[test]
    fn scheme_only_is_not_an_address() {
        assert!(parse("http://").is_none());
        assert!(parse("ws://").is_none());
    }

    #[test]
    fn service_match() {
        let rules = RuleSet::embedded().unwrap();
        let svc = rules.primary();
        assert_eq!(
            matches(&parse("http://localhost:8188").unwrap(), svc),
            Some(Match::Port)
        );
        assert_eq!(
            matches(&parse("http://comfyui/prompt").unwrap(), svc),
            Some(Match::Host)
        );
        assert_eq!(
            matches(&parse("https://x.example.com/history/1").unwrap(), svc),
            Some(Match::Path)
        );
        assert_eq!(
            matches(&parse("http://localhost:11434/api/generate").unwrap(), svc),
            None
        );
        assert_eq!(
            matches(&parse("https://example.com/prompts").unwrap(), svc),
            None
        );
    }
}
