//! Fingerprints: what identifies a violation across edits that move lines (rule, path, what is
//! wrong, enclosing function, occurrence number), hashed with the stable FNV-1a of
//! [`crate::digest`]; and the URL normalization that makes "what is wrong" independent of case
//! and a trailing `/`.

use std::collections::HashMap;

use super::Violation;
use crate::digest::fnv1a;

/// Give each violation its fingerprint. `key` is what is wrong (normalized URL, secret kind and
/// value hash); violations must be sorted, so the occurrence numbers follow the file's order.
pub(crate) fn assign(raw: &mut [(Violation, String)]) {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (v, key) in raw.iter_mut() {
        let base = format!(
            "{}|{}|{}|{}",
            v.rule.id(),
            v.path,
            key,
            v.function.as_deref().unwrap_or("")
        );
        let n = seen.entry(base.clone()).or_insert(0);
        *n += 1;
        v.fingerprint = format!("{:016x}", fnv1a(format!("{base}|{n}").as_bytes()));
    }
}

/// Lower-case scheme and host, no trailing `/`.
pub(crate) fn normalize_url(url: &str) -> String {
    let url = url.trim().trim_end_matches('/');
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (host, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
            format!(
                "{}://{}{}",
                scheme.to_ascii_lowercase(),
                host.to_ascii_lowercase(),
                path
            )
        }
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_normalization() {
        assert_eq!(
            normalize_url("HTTPS://ComfyUI.Example.space/Prompt/"),
            "https://comfyui.example.space/Prompt"
        );
    }
}
