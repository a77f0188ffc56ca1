//! The baseline file: the violations accepted when the gate was adopted, recorded by fingerprint
//! (no line numbers, sorted, so it diffs cleanly); reading and writing it, its versions, and
//! marking the violations it absorbs as baselined.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use super::{Check, GateResult, State, Violation};
use crate::error::Error;

/// The baseline file: violations accepted when the gate was adopted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    pub version: u32,
    pub violations: Vec<BaselineEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BaselineEntry {
    pub path: String,
    pub rule: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub function: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub url: Option<String>,
    pub fingerprint: String,
}

impl Baseline {
    /// The active violations of a result, as a baseline (sorted; no line numbers, so it stays stable).
    pub fn from_result(result: &GateResult) -> Baseline {
        let mut violations: Vec<BaselineEntry> = result
            .violations
            .iter()
            .filter(|v| v.state != State::Suppressed)
            .map(|v| BaselineEntry {
                path: v.path.clone(),
                rule: v.rule.id().to_string(),
                function: v.function.clone(),
                url: v.url.clone(),
                fingerprint: v.fingerprint.clone(),
            })
            .collect();
        violations.sort();
        Baseline {
            version: Baseline::VERSION,
            violations,
        }
    }

    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    pub fn read(path: &std::path::Path) -> Result<Baseline, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Usage(format!("cannot read baseline `{}`: {e}", path.display())))?;
        let b: Baseline = serde_json::from_str(&text).map_err(|e| {
            Error::Usage(format!(
                "invalid baseline `{}` at line {}: {e}",
                path.display(),
                e.line()
            ))
        })?;
        if !(1..=Baseline::VERSION).contains(&b.version) {
            return Err(Error::Usage(format!(
                "baseline `{}` has version {}; this access-audit reads versions 1 and {}",
                path.display(),
                b.version,
                Baseline::VERSION
            )));
        }
        Ok(b)
    }

    /// Version 2: `hardcoded-secret` fingerprints include a hash of the value.
    pub const VERSION: u32 = 2;

    /// The entries an older baseline holds but can no longer match (secrets recorded without the
    /// value's hash), to tell the user to write it again.
    pub fn stale_entries(&self) -> usize {
        if self.version >= 2 {
            return 0;
        }
        self.violations
            .iter()
            .filter(|e| e.rule == Check::HardcodedSecret.id())
            .count()
    }

    /// Mark the active violations the baseline records as baselined: each recorded fingerprint
    /// absorbs one violation. A version 1 baseline's secret entries were recorded without the
    /// value's hash: they match nothing.
    pub(crate) fn absorb<'a>(&self, violations: impl Iterator<Item = &'a mut Violation>) {
        let mut left: HashMap<&str, usize> = HashMap::new();
        for e in self
            .violations
            .iter()
            .filter(|e| self.version >= 2 || e.rule != Check::HardcodedSecret.id())
        {
            *left.entry(e.fingerprint.as_str()).or_insert(0) += 1;
        }
        for v in violations.filter(|v| v.state == State::Active) {
            if let Some(n) = left.get_mut(v.fingerprint.as_str()).filter(|n| **n > 0) {
                *n -= 1;
                v.state = State::Baselined;
            }
        }
    }
}
