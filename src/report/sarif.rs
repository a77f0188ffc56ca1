//! `check --format sarif`: SARIF 2.1.0 for GitHub code scanning. Rules carry help text; results carry
//! a physical location with a relative POSIX `uri`, `partialFingerprints` (so uploads de-duplicate
//! across runs), `suppressions` for inline-suppressed results and `baselineState` for baselined ones.

use serde_json::{json, Value};

use crate::gate::{Check, GateResult, Severity, State};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

pub fn render(result: &GateResult, version: &str) -> String {
    let rules: Vec<Value> = Check::ALL
        .iter()
        .map(|c| {
            json!({
                "id": c.id(),
                "name": camel(c.id()),
                "shortDescription": { "text": c.summary() },
                "fullDescription": { "text": c.summary() },
                "help": { "text": c.doc(), "markdown": format!("```text\n{}```\n", c.doc()) },
                "helpUri": format!("https://github.com/access-audit/access-audit#{}", c.id()),
                "defaultConfiguration": { "level": if c.enabled_by_default() { Severity::Error } else { Severity::Warning }.as_str() },
                "properties": { "tags": ["security", "cloudflare-access"] }
            })
        })
        .collect();
    let index = |c: Check| Check::ALL.iter().position(|x| *x == c).unwrap_or(0);
    let results: Vec<Value> = result
        .violations
        .iter()
        .map(|v| {
            let mut r = json!({
                "ruleId": v.rule.id(),
                "ruleIndex": index(v.rule),
                "level": v.severity.as_str(),
                "message": { "text": crate::engine::secrets::mask_line(&v.message) },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri(&v.path), "uriBaseId": "%SRCROOT%" },
                        "region": { "startLine": v.line, "startColumn": v.column, "endLine": v.end_line.max(v.line) }
                    }
                }],
                "partialFingerprints": { "accessAudit/v1": v.fingerprint },
                "baselineState": if v.state == State::Baselined { "unchanged" } else { "new" }
            });
            let suppression = match v.state {
                State::Suppressed => Some(json!({ "kind": "inSource", "justification": v.justification.clone().unwrap_or_default() })),
                State::Baselined => Some(json!({ "kind": "external", "justification": "recorded in the access-audit baseline" })),
                State::Active => None,
            };
            if let (Some(s), Some(obj)) = (suppression, r.as_object_mut()) {
                obj.insert("suppressions".into(), json!([s]));
            }
            r
        })
        .collect();
    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "access-audit",
                "version": version,
                "informationUri": "https://github.com/access-audit/access-audit",
                "rules": rules
            }},
            "originalUriBaseIds": { "%SRCROOT%": { "description": { "text": "The scanned root." } } },
            "results": results
        }]
    });
    let mut s = serde_json::to_string_pretty(&log).unwrap_or_default();
    s.push('\n');
    s
}

/// A relative path as a URI reference: `/`-separated, other reserved characters percent-encoded.
fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `untokenized-remote` → `UntokenizedRemote`.
fn camel(id: &str) -> String {
    id.split('-')
        .map(|w| w[..1].to_ascii_uppercase() + &w[1..])
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn uris_are_percent_encoded() {
        assert_eq!(super::uri("sub dir/ä.py"), "sub%20dir/%C3%A4.py");
        assert_eq!(super::camel("untokenized-remote"), "UntokenizedRemote");
    }
}
