//! Fuzz the per-file extractor: decode arbitrary bytes as a source file would be, then run the
//! whole per-file analysis (parse → extract → evaluate → resolve, or the text fallback) on it.
//! The first byte picks the language (even: Python, odd: Rust) and whether the rest is taken as
//! UTF-8 text as-is or goes through the decoder (BOMs, UTF-16, coding cookies, invalid bytes).
#![no_main]

use std::sync::LazyLock;

use access_audit::engine::finding::Language;
use access_audit::rules::RuleSet;
use access_audit::engine::scan::analyze;
use access_audit::engine::source;
use libfuzzer_sys::fuzz_target;

static RULES: LazyLock<RuleSet> = LazyLock::new(|| RuleSet::embedded().expect("embedded rules"));

/// The scan runs every file on a worker thread with this stack; so does the fuzz target, so that
/// a deeply nested input is judged as the scan would see it.
const WORKER_STACK: usize = 64 * 1024 * 1024;

fn run(data: &[u8]) {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let language = if first & 1 == 0 {
        Language::Python
    } else {
        Language::Rust
    };
    if first & 2 == 0 {
        // Arbitrary UTF-8 straight into the analysis.
        if let Ok(text) = std::str::from_utf8(rest) {
            let _ = analyze(text, language, "fuzz.py", &RULES, None);
        }
    } else if let Ok(decoded) = source::decode(rest, language == Language::Python) {
        // Any bytes, decoded as the scan decodes a file.
        let _ = analyze(
            &decoded.text,
            language,
            "fuzz.py",
            &RULES,
            decoded.lossy.as_deref(),
        );
    }
}

fuzz_target!(|data: &[u8]| {
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .stack_size(WORKER_STACK)
            .spawn_scoped(s, || run(data))
            .expect("spawn a worker thread")
            .join()
            // A panic on the worker thread is a crash: re-raise it for libFuzzer.
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
    })
});
