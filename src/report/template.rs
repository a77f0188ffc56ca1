//! The Markdown templates (`templates/*.md.j2`, embedded in the binary) and the environment that
//! renders them. Rust code computes what a report says — counts, rows, escaped cells, lists — into
//! serializable context structs; the templates hold the prose and lay it out.
//!
//! Whitespace: a line holding only a block tag (`{% if %}`, `{% for %}`) leaves nothing in the
//! output (`trim_blocks`, `lstrip_blocks`); `{%-` / `-%}` join a template line to the one before or
//! after, so one output line can be written over several template lines. Nothing is HTML-escaped:
//! values are escaped for Markdown by the code that computes them ([`super::escape`]).

use std::sync::OnceLock;

use minijinja::syntax::SyntaxConfig;
use minijinja::{AutoEscape, Environment, UndefinedBehavior};

/// Every template, by name.
const TEMPLATES: &[(&str, &str)] = &[
    ("report.md.j2", include_str!("templates/report.md.j2")),
    ("diagram.md.j2", include_str!("templates/diagram.md.j2")),
    ("summary.md.j2", include_str!("templates/summary.md.j2")),
    ("local.md.j2", include_str!("templates/local.md.j2")),
    ("remote.md.j2", include_str!("templates/remote.md.j2")),
    ("services.md.j2", include_str!("templates/services.md.j2")),
    (
        "unresolved.md.j2",
        include_str!("templates/unresolved.md.j2"),
    ),
    ("sources.md.j2", include_str!("templates/sources.md.j2")),
    (
        "recommendations.md.j2",
        include_str!("templates/recommendations.md.j2"),
    ),
    ("impact.md.j2", include_str!("templates/impact.md.j2")),
    (
        "next_steps.md.j2",
        include_str!("templates/next_steps.md.j2"),
    ),
    (
        "diagnostics.md.j2",
        include_str!("templates/diagnostics.md.j2"),
    ),
    ("gate.md.j2", include_str!("templates/gate.md.j2")),
    ("probe.md.j2", include_str!("templates/probe.md.j2")),
    (
        "repositories.md.j2",
        include_str!("templates/repositories.md.j2"),
    ),
];

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_syntax(
            SyntaxConfig::builder()
                .trim_blocks(true)
                .lstrip_blocks(true)
                .keep_trailing_newline(true)
                .build()
                .expect("the default delimiters are valid"),
        );
        env.set_auto_escape_callback(|_| AutoEscape::None);
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.add_filter("count", |n: usize, one: &str, many: &str| {
            count(n, one, many)
        });
        env.add_filter("join_and", |items: Vec<String>| join_and(&items));
        env.add_filter("limited", |items: Vec<String>, max: usize| {
            limited(&items, max)
        });
        for (name, source) in TEMPLATES {
            env.add_template(name, source)
                .unwrap_or_else(|e| panic!("template {name}: {e:#}"));
        }
        env
    })
}

/// Render the template `name` with `ctx`. The templates are part of the binary and every branch is
/// covered by the tests, so a failure is a bug: it panics, naming the template and the line.
pub fn render(name: &str, ctx: &impl serde::Serialize) -> String {
    let env = environment();
    env.get_template(name)
        .and_then(|t| t.render(minijinja::value::Serde(ctx)))
        .unwrap_or_else(|e| panic!("template {name}: {e:#}"))
}

/// `1 file`, `2 files` (the `count` filter: `{{ n|count("file", "files") }}`).
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// "a", "a and b", "a, b and c" (the `join_and` filter).
pub fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [a] => a.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// Comma-separated, at most `max` then "and N more" (the `limited` filter).
pub fn limited(items: &[String], max: usize) -> String {
    if items.len() <= max {
        items.join(", ")
    } else {
        format!("{} and {} more", items[..max].join(", "), items.len() - max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles() {
        let env = environment();
        for (name, _) in TEMPLATES {
            assert!(env.get_template(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn filters() {
        assert_eq!(count(1, "file", "files"), "1 file");
        assert_eq!(count(0, "file", "files"), "0 files");
        let abc: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        assert_eq!(join_and(&abc), "a, b and c");
        assert_eq!(join_and(&abc[..1]), "a");
        assert_eq!(join_and(&[]), "");
        assert_eq!(limited(&abc, 2), "a, b and 1 more");
        assert_eq!(limited(&abc, 3), "a, b, c");
    }
}
