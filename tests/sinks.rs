//! The client libraries in `rules/sinks/http.toml` are data: the file loads, and every example it
//! carries produces a finding sent through the client it names.

use access_audit::engine::finding::Language;
use access_audit::engine::scan::analyze;
use access_audit::rules::{sinks, RuleSet, Sinks, SINKS_FILE};

#[test]
fn sinks_file_loads_and_every_example_goes_through_its_client() {
    let parsed = Sinks::parse(SINKS_FILE.0, SINKS_FILE.1).expect("the embedded sinks load");
    assert!(!parsed.examples.is_empty());
    let rules = RuleSet::load(None).expect("embedded rules load");
    for (i, ex) in sinks().examples.iter().enumerate() {
        let (language, path) = match ex.language.as_str() {
            "rust" => (Language::Rust, "example.rs"),
            _ => (Language::Python, "example.py"),
        };
        let (findings, _) = analyze(&ex.code, language, path, &rules, None);
        assert!(
            findings
                .iter()
                .any(|f| f.client.as_deref() == Some(ex.client.as_str())),
            "example {} ({}) should be sent through `{}`; findings: {:?}",
            i + 1,
            ex.language,
            ex.client,
            findings
                .iter()
                .map(|f| (&f.url, &f.client))
                .collect::<Vec<_>>()
        );
    }
}

#[test]
fn a_client_not_in_the_data_is_no_sink() {
    let s = sinks();
    assert_eq!(s.python_client("requests.get"), Some("requests"));
    assert_eq!(s.python_client("requests_oauthlib.get"), None);
    assert_eq!(s.rust_crate("reqwest"), Some("reqwest"));
    assert!(s.is_request_method("post"));
    assert!(!s.is_request_method("json"));
}

#[test]
fn a_malformed_sinks_file_is_an_error_naming_it() {
    let err = Sinks::parse("sinks/bad.toml", "[python]\nclients = 3\n")
        .expect_err("a wrong type is an error");
    assert!(err.to_string().contains("sinks/bad.toml"), "{err}");
}
