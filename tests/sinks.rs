//! The client libraries and command-line tools in `rules/sinks/http.toml` are data: the file
//! loads, every example it carries produces a finding sent through the client it names (with the
//! address and credential status it names), and a tool declared in other data is read by the shell
//! front end.

use access_audit::engine::finding::Language;
use access_audit::engine::ir::StrExpr;
use access_audit::engine::lower::shell;
use access_audit::engine::scan::analyze;
use access_audit::rules::{sinks, RuleSet, Sinks, SINKS_FILE};

#[test]
fn sinks_file_loads_and_every_example_goes_through_its_client() {
    let parsed = Sinks::parse(SINKS_FILE.0, SINKS_FILE.1).expect("the embedded sinks load");
    assert!(!parsed.examples.is_empty());
    assert!(parsed.examples.iter().any(|ex| ex.language == "shell"));
    let rules = RuleSet::load(None).expect("embedded rules load");
    let mut wrong = Vec::new();
    for (i, ex) in sinks().examples.iter().enumerate() {
        let (language, path) = match ex.language.as_str() {
            "rust" => (Language::Rust, "example.rs"),
            "shell" => (Language::Shell, "example.sh"),
            _ => (Language::Python, "example.py"),
        };
        let (findings, _) = analyze(&ex.code, language, path, &rules, None);
        let found = findings.iter().any(|f| {
            f.client.as_deref() == Some(ex.client.as_str())
                && ex.url.as_ref().is_none_or(|u| f.url.as_ref() == Some(u))
                && ex.tokenized.is_none_or(|t| t == f.tokenized)
        });
        if !found {
            wrong.push(format!(
                "example {} ({}) should be sent through `{}` (url {:?}, tokenized {:?}); \
                 findings (url, client, tokenized): {:?}",
                i + 1,
                ex.language,
                ex.client,
                ex.url,
                ex.tokenized,
                findings
                    .iter()
                    .map(|f| (&f.url, &f.client, f.tokenized))
                    .collect::<Vec<_>>()
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The embedded sinks with one more tool: `mycurl`, read as curl is.
fn with_mycurl() -> Sinks {
    let text = format!(
        "{}\n[[shell.tools]]\ncommands = [\"mycurl\"]\nclient = \"mycurl\"\n\
         arguments = \"curl\"\ndefault_scheme = \"http\"\nhost_gets_scheme = true\n",
        SINKS_FILE.1
    );
    Sinks::parse("custom/http.toml", &text).expect("the custom sinks load")
}

#[test]
fn a_tool_declared_in_the_data_is_read_by_the_shell_front_end() {
    let script = "mycurl -sS -o out.json -H 'CF-Access-Client-Id: a' \\\n  -H 'CF-Access-Client-Secret: b' comfyui:8188/prompt\n";
    let rules = RuleSet::load(None).expect("embedded rules load");

    let facts = shell::extract_with(script, Language::Shell, &rules, &with_mycurl().shell);
    assert_eq!(facts.uses.len(), 1, "{:?}", facts.uses);
    assert_eq!(facts.uses[0].client.as_deref(), Some("mycurl"));
    assert!(facts.uses[0].credentialed, "its -H headers are read");
    let urls: Vec<&StrExpr> = facts.candidates.iter().map(|c| &c.expr).collect();
    assert_eq!(
        urls,
        [&StrExpr::Concat(vec![
            StrExpr::Lit("http://".into()),
            StrExpr::Lit("comfyui:8188/prompt".into()),
        ])],
        "the URL gets the default scheme; `out.json` is the value of -o"
    );

    let embedded = shell::extract(script, Language::Shell, &rules);
    assert!(
        embedded.uses.is_empty() && embedded.candidates.is_empty(),
        "the embedded data knows no `mycurl`"
    );
}

#[test]
fn a_shell_tool_that_cannot_be_used_is_an_error_naming_file_line_and_field() {
    let tool = |body: &str| format!("{}\n[[shell.tools]]\n{body}", SINKS_FILE.1);
    let lines = SINKS_FILE.1.lines().count();
    let cases = [
        (
            tool("commands = [\"c\"]\nclient = \"c\"\narguments = \"nope\"\ndefault_scheme = \"http\"\n"),
            lines + 5,
            "arguments",
        ),
        (
            tool("commands = [\"curl\"]\nclient = \"c\"\narguments = \"curl\"\ndefault_scheme = \"http\"\n"),
            lines + 3,
            "listed by two tools",
        ),
        (
            tool("commands = [\"c\"]\nclient = \"c\"\narguments = \"curl\"\ndefault_scheme = \"http://\"\n"),
            lines + 6,
            "default_scheme",
        ),
        (
            tool("commands = [\"c\"]\nclient = \"c\"\narguments = \"curl\"\ndefault_scheme = \"http\"\nports = 1\n"),
            lines + 7,
            "ports",
        ),
        (
            SINKS_FILE.1.replace(
                "[shell.arguments.httpie]\n",
                "[shell.arguments.httpie]\nheader_long = [\"--header\"]\n",
            ),
            line_of("[shell.arguments.httpie]") + 1,
            "header_long",
        ),
        (
            SINKS_FILE.1.replace("\"--header\", \"--output-document\"", "\"-header\""),
            line_of("[shell.arguments.wget]") + 4,
            "-header",
        ),
    ];
    for (text, line, says) in cases {
        let err = Sinks::parse("sinks/x.toml", &text)
            .expect_err("invalid data is an error")
            .to_string();
        assert!(
            err.contains(&format!("sinks/x.toml:{line}:")),
            "line {line}: {err}"
        );
        assert!(err.contains(says), "{says}: {err}");
    }
}

/// The 1-based line of the embedded sinks file that reads `line`.
fn line_of(line: &str) -> usize {
    SINKS_FILE
        .1
        .lines()
        .position(|l| l == line)
        .expect("the line is there")
        + 1
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
