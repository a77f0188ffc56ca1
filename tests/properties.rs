//! Property tests (issue 6): the string evaluator, the address parser and the host classifier never
//! panic on arbitrary input; the per-file analysis never panics on arbitrary Python or Rust text;
//! and classification is stable under harmless rewrites of the same address (quotes, `+` splits,
//! f-strings, `.format`, `%`, `format!`).

use std::sync::LazyLock;

use access_audit::engine::address;
use access_audit::engine::classify::{classify_host, Group};
use access_audit::engine::finding::Language;
use access_audit::engine::ir::{
    Binding, FileFacts, FormatStyle, InputKind, Pos, ScopeKind, StrExpr,
};
use access_audit::engine::scan::analyze;
use access_audit::engine::solve::Evaluator;
use access_audit::rules::RuleSet;
use proptest::prelude::*;

static RULES: LazyLock<RuleSet> = LazyLock::new(|| RuleSet::embedded().expect("embedded rules"));

// ---------------------------------------------------------------------------------------------
// Strategies

/// Text with a bias towards what matters to templates and addresses: braces, percents, colons,
/// slashes, the evaluator's hole markers, and any other character.
fn tricky_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[{}%()sdr!:0-9a-z._\\[\\] /@#?\u{E000}\u{E001}-]{0,24}",
        ".{0,24}",
        "(https?|wss?)://[a-z0-9.:\\[\\]{}%@-]{0,20}(/[a-z{}%]{0,8})?",
    ]
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("a".to_string()),
        Just("b".to_string()),
        Just("self.base".to_string()),
        Just("HOST".to_string()),
        Just("0".to_string()),
        Just("".to_string()),
        "[a-z_][a-z0-9_.]{0,6}",
    ]
}

fn str_expr() -> impl Strategy<Value = StrExpr> {
    let leaf = prop_oneof![
        tricky_text().prop_map(StrExpr::Lit),
        any::<i64>().prop_map(StrExpr::Int),
        name().prop_map(StrExpr::Ref),
        tricky_text().prop_map(StrExpr::Unknown),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(StrExpr::Concat),
            (
                prop_oneof![
                    Just(InputKind::Env),
                    Just(InputKind::CliArg),
                    Just(InputKind::Param)
                ],
                name(),
                prop::option::of(inner.clone()),
            )
                .prop_map(|(kind, name, default)| StrExpr::Input {
                    kind,
                    name,
                    default: default.map(Box::new),
                }),
            (
                prop_oneof![tricky_text().prop_map(StrExpr::Lit), inner.clone()],
                prop_oneof![Just(FormatStyle::Brace), Just(FormatStyle::Percent)],
                prop::collection::vec(inner.clone(), 0..4),
                prop::collection::vec((name(), inner), 0..3),
            )
                .prop_map(|(template, style, args, named)| StrExpr::Format {
                    template: Box::new(template),
                    style,
                    args,
                    named,
                }),
        ]
    })
}

fn pos() -> impl Strategy<Value = Pos> {
    (0u32..40, 0u32..5).prop_map(|(line, column)| Pos { line, column })
}

/// A file's facts: a few nested scopes (possibly pointing anywhere, even out of range) and
/// bindings that may refer to each other in cycles.
fn facts() -> impl Strategy<Value = FileFacts> {
    (
        prop::collection::vec(0usize..6, 0..4),
        prop::collection::vec((0usize..6, name(), str_expr(), pos()), 0..10),
    )
        .prop_map(|(parents, bindings)| {
            let mut f = FileFacts::new();
            for p in parents {
                let parent = p.min(f.scopes.len() - 1);
                f.push_scope(parent, ScopeKind::Function, "f");
            }
            for (scope, name, value, pos) in bindings {
                f.bindings.push(Binding {
                    scope,
                    name,
                    value,
                    pos,
                });
            }
            f
        })
}

// ---------------------------------------------------------------------------------------------
// Never panics

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn evaluator_never_panics(f in facts(), e in str_expr(), scope in 0usize..8, at in pos()) {
        let ev = Evaluator::new(&f);
        let v = ev.eval(&e, scope, at);
        let shown = v.display();
        // The result goes on through the address parser and the classifier.
        if let Some(a) = address::parse(&v.text) {
            let _ = classify_host(a.host.as_deref(), RULES.primary());
            let _ = address::matches(&a, RULES.primary());
            prop_assert!(!a.url.is_empty());
        }
        prop_assert!(!shown.contains(access_audit::engine::solve::HOLE_OPEN));
        for b in &f.bindings {
            let _ = ev.lookup(&b.name, scope, at);
        }
    }

    #[test]
    fn address_parser_never_panics(text in tricky_text(), prefix in "(|https?://|wss?://|HTTP://|\\[)") {
        let text = format!("{prefix}{text}");
        if let Some(a) = address::parse(&text) {
            let _ = classify_host(a.host.as_deref(), RULES.primary());
            let _ = address::matches(&a, RULES.primary());
            if let Some(h) = &a.host {
                prop_assert_eq!(h, &h.to_ascii_lowercase());
            }
        }
    }

    #[test]
    fn address_parser_never_panics_on_any_string(text in any::<String>()) {
        let _ = address::parse(&text);
    }

    #[test]
    fn classifier_never_panics(host in prop_oneof![any::<String>(), tricky_text(), "[0-9a-f:.]{0,40}"]) {
        let _ = classify_host(Some(&host), RULES.primary());
        // Trailing dots and upper case make no difference to a name's group.
        let lower = host.to_ascii_lowercase();
        prop_assert_eq!(
            classify_host(Some(&lower), RULES.primary()),
            classify_host(Some(&format!("{lower}.")), RULES.primary())
        );
    }

    #[test]
    fn analyze_never_panics_on_arbitrary_text(text in any::<String>()) {
        for lang in [Language::Python, Language::Rust] {
            let _ = analyze(&text, lang, "x", &RULES, None);
            let _ = analyze(&text, lang, "x", &RULES, Some("lossy"));
        }
    }

    #[test]
    fn analyze_never_panics_on_source_like_text(tokens in prop::collection::vec(source_token(), 0..80)) {
        let text: String = tokens.concat();
        for lang in [Language::Python, Language::Rust] {
            let (findings, _) = analyze(&text, lang, "x", &RULES, None);
            for f in findings {
                prop_assert!(f.line >= 1 && f.column >= 1);
            }
        }
    }
}

/// Pieces of Python and Rust that reach the interesting parts of the front ends.
fn source_token() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("requests.post(".to_string()),
        Just("reqwest::get(".to_string()),
        Just("format!(".to_string()),
        Just("f\"".to_string()),
        Just("\"http://localhost:8188/prompt\"".to_string()),
        Just("'{}:{}'.format(".to_string()),
        Just("\"%s:%d\" % (".to_string()),
        Just("os.environ.get(\"COMFYUI_URL\", ".to_string()),
        Just("std::env::var(\"X\").unwrap_or(".to_string()),
        Just("def f(x=".to_string()),
        Just("fn f() {".to_string()),
        Just("let x = ".to_string()),
        Just("class A:\n    B = ".to_string()),
        Just("self.base".to_string()),
        Just("subprocess.run([\"docker\", \"exec\", \"comfyui\", ".to_string()),
        Just("headers={\"CF-Access-Client-Id\": ".to_string()),
        Just(" + ".to_string()),
        Just(", ".to_string()),
        Just("\n".to_string()),
        Just("\n    ".to_string()),
        Just(":".to_string()),
        Just(";".to_string()),
        Just("{".to_string()),
        Just("}".to_string()),
        Just("(".to_string()),
        Just(")".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just("\"".to_string()),
        Just("'".to_string()),
        Just("#".to_string()),
        Just("\\".to_string()),
        "[a-zA-Z_][a-zA-Z0-9_]{0,6}",
        "[0-9]{1,6}",
        ".{0,4}",
    ]
}

// ---------------------------------------------------------------------------------------------
// Stable under harmless rewrites

/// A host the address parser accepts: names, dotted names with assorted suffixes, IPv4.
fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("localhost".to_string()),
        Just("comfyui".to_string()),
        "[a-z][a-z0-9]{0,8}(-[a-z0-9]{1,4})?",
        (
            "[a-z][a-z0-9-]{0,8}[a-z0-9]",
            prop_oneof![
                Just(".lan"),
                Just(".local"),
                Just(".ts.net"),
                Just(".example.com"),
                Just(".datacrew.space"),
                Just(".home.arpa"),
                Just(".localhost"),
            ]
        )
            .prop_map(|(a, b)| format!("{a}{b}")),
        (any::<u8>(), any::<u8>(), any::<u8>(), any::<u8>())
            .prop_map(|(a, b, c, d)| format!("{a}.{b}.{c}.{d}")),
        prop_oneof![Just(10u8), Just(127), Just(192), Just(100), Just(172)]
            .prop_flat_map(|a| (Just(a), any::<u8>(), any::<u8>(), any::<u8>()))
            .prop_map(|(a, b, c, d)| format!("{a}.{b}.{c}.{d}")),
    ]
}

fn port() -> impl Strategy<Value = u16> {
    prop_oneof![Just(8188u16), 1u16..=65535]
}

fn api_path() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("/prompt".to_string()),
        Just("/queue".to_string()),
        Just("/history".to_string()),
        Just("/ws".to_string()),
        Just("/system_stats".to_string()),
    ]
}

/// The (group, url) of the single finding of `src`, or None when there is not exactly one.
fn only_finding(src: &str, lang: Language) -> Option<(Group, Option<String>, Option<String>)> {
    let (findings, notes) = analyze(src, lang, "x", &RULES, None);
    assert!(notes.is_empty(), "{src}\n{notes:?}");
    match findings.as_slice() {
        [f] => Some((f.group, f.url.clone(), f.host.clone())),
        _ => {
            assert!(findings.is_empty(), "{src}\n{findings:#?}");
            None
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn python_rewrites_classify_the_same(h in host(), p in port(), path in api_path(), scheme in prop_oneof![Just("http"), Just("https"), Just("ws")]) {
        let url = format!("{scheme}://{h}:{p}{path}");
        let base = format!("import requests\nrequests.post(\"{url}\")\n");
        let variants = [
            format!("import requests\nrequests.post('{url}')\n"),
            format!("import requests\nrequests.post(\"{scheme}://\" + \"{h}:{p}\" + \"{path}\")\n"),
            format!("import requests\nrequests.post('{scheme}://' + '{h}' + ':{p}' + '{path}')\n"),
            format!("import requests\nrequests.post(f\"{scheme}://{{'{h}'}}:{p}{path}\")\n"),
            format!("import requests\nrequests.post(\"{scheme}://{{}}:{{}}{path}\".format(\"{h}\", {p}))\n"),
            format!("import requests\nrequests.post(\"{scheme}://%s:%d{path}\" % (\"{h}\", {p}))\n"),
            format!("import requests\nrequests.post(\"\"\"{url}\"\"\")\n"),
            format!("import requests\nrequests.post(r'{url}')\n"),
            format!("import requests\nrequests.post((\n    \"{scheme}://{h}\"\n    \":{p}{path}\"\n))\n"),
        ];
        let want = only_finding(&base, Language::Python);
        if let Some((group, found_url, found_host)) = &want {
            prop_assert_eq!(found_url.as_deref(), Some(url.as_str()));
            prop_assert_eq!(found_host.as_deref(), Some(h.as_str()));
            prop_assert_eq!(*group, classify_host(Some(&h), RULES.primary()));
        } else {
            // Only when the address is not the service's: neither its port nor a known host.
            prop_assert!(p != 8188 && h != "comfyui", "{}", base);
        }
        for v in &variants {
            let got = only_finding(v, Language::Python);
            prop_assert_eq!(
                got.as_ref().map(|g| (g.0, g.1.clone())),
                want.as_ref().map(|g| (g.0, g.1.clone())),
                "{}", v
            );
        }
    }

    #[test]
    fn rust_rewrites_classify_the_same(h in host(), p in port(), path in api_path()) {
        let url = format!("http://{h}:{p}{path}");
        let base = format!("fn main() {{\n    let _ = reqwest::blocking::get(\"{url}\");\n}}\n");
        let variants = [
            format!("fn main() {{\n    let _ = reqwest::blocking::get(r\"{url}\");\n}}\n"),
            format!("fn main() {{\n    let _ = reqwest::blocking::get(r#\"{url}\"#);\n}}\n"),
            format!("fn main() {{\n    let _ = reqwest::blocking::get(format!(\"http://{{}}:{{}}{path}\", \"{h}\", {p}));\n}}\n"),
            format!("fn main() {{\n    let host = \"{h}\";\n    let _ = reqwest::blocking::get(format!(\"http://{{host}}:{p}{path}\"));\n}}\n"),
            format!("fn main() {{\n    let _ = reqwest::blocking::get(concat!(\"http://\", \"{h}:{p}\", \"{path}\"));\n}}\n"),
        ];
        let want = only_finding(&base, Language::Rust);
        if let Some((group, found_url, _)) = &want {
            prop_assert_eq!(found_url.as_deref(), Some(url.as_str()));
            prop_assert_eq!(*group, classify_host(Some(&h), RULES.primary()));
        }
        for v in &variants {
            let got = only_finding(v, Language::Rust);
            prop_assert_eq!(
                got.as_ref().map(|g| (g.0, g.1.clone())),
                want.as_ref().map(|g| (g.0, g.1.clone())),
                "{}", v
            );
        }
    }

    #[test]
    fn evaluated_rewrites_give_the_same_address(h in host(), p in port(), path in api_path()) {
        // The same address built four ways through the IR directly.
        let lit = |s: &str| StrExpr::Lit(s.to_string());
        let f = FileFacts::new();
        let ev = Evaluator::new(&f);
        let at = Pos { line: 1, column: 1 };
        let exprs = [
            lit(&format!("http://{h}:{p}{path}")),
            StrExpr::Concat(vec![lit("http://"), lit(&h), lit(":"), StrExpr::Int(p.into()), lit(&path)]),
            StrExpr::Format {
                template: Box::new(lit(&format!("http://{{}}:{{port}}{path}"))),
                style: FormatStyle::Brace,
                args: vec![lit(&h)],
                named: vec![("port".into(), StrExpr::Int(p.into()))],
            },
            StrExpr::Format {
                template: Box::new(lit(&format!("http://%s:%d{path}"))),
                style: FormatStyle::Percent,
                args: vec![lit(&h), StrExpr::Int(p.into())],
                named: vec![],
            },
        ];
        let parsed: Vec<_> = exprs
            .iter()
            .map(|e| address::parse(&ev.eval(e, 0, at).text))
            .collect();
        let first = parsed[0].clone().expect("a literal address parses");
        prop_assert_eq!(first.host.as_deref(), Some(h.as_str()));
        prop_assert_eq!(first.port, Some(p));
        for a in &parsed {
            prop_assert_eq!(a.as_ref(), Some(&first));
        }
    }
}
