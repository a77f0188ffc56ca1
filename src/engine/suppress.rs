//! Inline suppressions: `# access-audit: ignore[rule-id, …] reason` (Python, shell, YAML, TOML,
//! env files, Dockerfiles) and `// access-audit: ignore[rule-id] reason` (Rust, JavaScript). A
//! suppression without a rule id or a reason is malformed and suppresses nothing.
//!
//! Only real comments count: each file is tokenized (Python with the parser's own tokenizer, Rust
//! and JavaScript with a small lexer that knows strings, raw strings, char literals and nested block
//! comments, the `#` languages line by line with their quotes), so the syntax inside a string
//! literal is just text. What a comment covers:
//!
//! - a **trailing** comment (code before it on its line) covers its own line, nothing else;
//! - a comment **on its own line** covers the next statement, all its lines (up to the end of the
//!   logical line, or the `;` / closing `}` in Rust and JavaScript), and nothing else. Inside a
//!   bracketed list it covers the next element only (up to its `,`).
//!
//! Notebooks: comments are looked for in the code cells, in cell coordinates (`cell`, line in cell),
//! as findings are reported.

use std::sync::LazyLock;

use regex::Regex;
use ruff_python_ast::token::TokenKind;
use ruff_text_size::Ranged;

use crate::engine::source::Language;

/// One suppression comment.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Suppression {
    pub path: String,
    /// Notebooks: the 1-based cell index (`line` is then the line in the cell).
    pub cell: Option<u32>,
    pub line: u32,
    pub column: u32,
    /// Rule ids in the brackets (empty when missing).
    pub rules: Vec<String>,
    pub reason: String,
    /// The lines (first, last) this comment covers.
    pub covers: (u32, u32),
}

impl Suppression {
    /// Why this suppression is malformed, if it is.
    pub fn problem(&self) -> Option<&'static str> {
        if self.rules.is_empty() {
            Some("names no rule id: write `access-audit: ignore[rule-id] reason`")
        } else if self.reason.trim().is_empty() {
            Some("gives no reason: write `access-audit: ignore[rule-id] why this is safe`")
        } else {
            None
        }
    }

    /// Does this comment cover `line` (of `cell`, in a notebook) of its file?
    pub fn covers(&self, cell: Option<u32>, line: u32) -> bool {
        self.cell == cell && self.covers.0 <= line && line <= self.covers.1
    }
}

static COMMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:#|//|/\*)\s*access-audit:\s*ignore(?:\[([^\]]*)\])?(.*)$")
        .expect("valid regex")
});

/// What the statement finder needs of a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Open,
    /// `)`, `]`, `}`.
    Close(char),
    Comma,
    /// `;`, or the end of a Python logical line.
    End,
    /// `.`, `?`: a Rust/JS expression goes on after a closing `}`.
    Continue,
    /// `else`.
    Else,
    Other,
}

#[derive(Debug, Clone, Copy)]
struct Tok {
    kind: Kind,
    line: u32,
    end_line: u32,
}

/// A comment: its text (from the comment marker), 1-based line and column, and whether code
/// precedes it on its line.
#[derive(Debug, Clone)]
struct Comment {
    text: String,
    line: u32,
    column: u32,
    trailing: bool,
}

/// Every suppression comment in `text`, a file of `language`.
pub fn find(path: &str, text: &str, language: Language) -> Vec<Suppression> {
    if !text.contains("access-audit:") {
        return Vec::new();
    }
    if language == Language::Notebook {
        let mut out = Vec::new();
        for (cell, code) in crate::engine::lower::notebook::code_cells(text) {
            if code.contains("access-audit:") {
                out.extend(find_in(path, &code, Language::Python, Some(cell)));
            }
        }
        return out;
    }
    find_in(path, text, language, None)
}

fn find_in(path: &str, text: &str, language: Language, cell: Option<u32>) -> Vec<Suppression> {
    let (comments, tokens) = match language {
        Language::Python => python(text),
        Language::Rust => c_like(text, false),
        Language::JavaScript => c_like(text, true),
        Language::Json => return Vec::new(),
        Language::Shell
        | Language::Dockerfile
        | Language::Dotenv
        | Language::Yaml
        | Language::Toml
        | Language::Notebook => hash_lines(text),
    };
    let mut out = Vec::new();
    for c in comments {
        let Some(m) = COMMENT.captures(&c.text) else {
            continue;
        };
        let rules = m
            .get(1)
            .map(|m| {
                m.as_str()
                    .split(',')
                    .map(|r| r.trim().to_string())
                    .filter(|r| !r.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let reason = m
            .get(2)
            .map_or("", |m| m.as_str())
            .trim()
            .trim_end_matches("*/")
            .trim()
            .trim_start_matches(['-', ':', '—'])
            .trim()
            .to_string();
        let covers = if c.trailing {
            (c.line, c.line)
        } else {
            next_statement(&tokens, c.line).unwrap_or((c.line + 1, c.line + 1))
        };
        out.push(Suppression {
            path: path.to_string(),
            cell,
            line: c.line,
            column: c.column,
            rules,
            reason,
            covers,
        });
    }
    out
}

/// The lines of the statement (or list element) that starts after line `after`.
fn next_statement(tokens: &[Tok], after: u32) -> Option<(u32, u32)> {
    let start = tokens.iter().position(|t| t.line > after)?;
    let first = tokens[start].line;
    let mut last = first;
    let mut depth = 0usize;
    for (i, t) in tokens.iter().enumerate().skip(start) {
        match t.kind {
            Kind::Open => depth += 1,
            Kind::Close(c) => {
                if depth == 0 {
                    break;
                }
                depth -= 1;
                last = last.max(t.end_line);
                // `fn f() { … }`, `if x { … }`: the statement ends with its block, unless the
                // expression goes on (`}.await`, `} else {`, `};`).
                if depth == 0
                    && c == '}'
                    && !matches!(
                        tokens.get(i + 1).map(|n| n.kind),
                        Some(Kind::Continue | Kind::Else | Kind::End)
                    )
                {
                    break;
                }
                continue;
            }
            Kind::Comma | Kind::End if depth == 0 => {
                last = last.max(t.line);
                break;
            }
            _ => {}
        }
        last = last.max(t.end_line);
    }
    Some((first, last))
}

/// 1-based line of each byte offset, by binary search over line starts.
struct Lines(Vec<usize>);

impl Lines {
    fn new(text: &str) -> Lines {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Lines(starts)
    }
    fn line(&self, offset: usize) -> u32 {
        u32::try_from(self.0.partition_point(|&s| s <= offset)).unwrap_or(u32::MAX)
    }
    fn start(&self, line: u32) -> usize {
        self.0
            .get((line as usize).saturating_sub(1))
            .copied()
            .unwrap_or(0)
    }
}

fn comment_at(text: &str, lines: &Lines, start: usize, end: usize) -> Comment {
    let line = lines.line(start);
    let line_start = lines.start(line);
    let before = &text[line_start..start];
    Comment {
        text: text[start..end].to_string(),
        line,
        column: u32::try_from(before.chars().count() + 1).unwrap_or(u32::MAX),
        trailing: !before.trim().is_empty(),
    }
}

/// Python: the parser's tokenizer.
fn python(text: &str) -> (Vec<Comment>, Vec<Tok>) {
    let parsed =
        ruff_python_parser::parse_unchecked_source(text, ruff_python_ast::PySourceType::Python);
    let lines = Lines::new(text);
    let mut comments = Vec::new();
    let mut tokens = Vec::new();
    for t in parsed.tokens().iter() {
        let (s, e) = (t.start().to_usize(), t.end().to_usize());
        let kind = match t.kind() {
            TokenKind::Comment => {
                comments.push(comment_at(text, &lines, s, e));
                continue;
            }
            TokenKind::NonLogicalNewline
            | TokenKind::Indent
            | TokenKind::Dedent
            | TokenKind::EndOfFile => continue,
            TokenKind::Newline => Kind::End,
            TokenKind::Semi => Kind::End,
            TokenKind::Lpar | TokenKind::Lsqb | TokenKind::Lbrace => Kind::Open,
            TokenKind::Rpar => Kind::Close(')'),
            TokenKind::Rsqb => Kind::Close(']'),
            // A `}` never ends a Python statement by itself.
            TokenKind::Rbrace => Kind::Close(')'),
            TokenKind::Comma => Kind::Comma,
            _ => Kind::Other,
        };
        tokens.push(Tok {
            kind,
            line: lines.line(s),
            end_line: lines.line(e.saturating_sub(1).max(s)),
        });
    }
    (comments, tokens)
}

/// Rust and JavaScript: strings (`"…"`, raw `r#"…"#`, JS `'…'` and `` `…` ``), char literals and
/// lifetimes (Rust), line and nested block comments.
fn c_like(text: &str, js: bool) -> (Vec<Comment>, Vec<Tok>) {
    let b = text.as_bytes();
    let lines = Lines::new(text);
    let mut comments = Vec::new();
    let mut tokens = Vec::new();
    let mut i = 0;
    let push = |tokens: &mut Vec<Tok>, kind: Kind, s: usize, e: usize| {
        tokens.push(Tok {
            kind,
            line: lines.line(s),
            end_line: lines.line(e.saturating_sub(1).max(s)),
        });
    };
    while i < b.len() {
        let c = b[i];
        let start = i;
        match c {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                let end = text[i..].find('\n').map_or(b.len(), |n| i + n);
                comments.push(comment_at(text, &lines, i, end));
                i = end;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut depth = 0;
                while i < b.len() {
                    if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                        depth += 1;
                        i += 2;
                    } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 || js {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
                comments.push(comment_at(text, &lines, start, i.min(b.len())));
            }
            b'"' => {
                i = skip_quoted(b, i + 1, b'"');
                push(&mut tokens, Kind::Other, start, i);
            }
            b'\'' | b'`' if js => {
                i = skip_quoted(b, i + 1, c);
                push(&mut tokens, Kind::Other, start, i);
            }
            b'\'' => {
                // A char literal (`'a'`, `'\n'`, `'\u{1F600}'`) or a lifetime (`'a`).
                if b.get(i + 1) == Some(&b'\\') {
                    i = skip_quoted(b, i + 1, b'\'');
                } else {
                    let ch_len = text[i + 1..].chars().next().map_or(1, char::len_utf8);
                    if b.get(i + 1 + ch_len) == Some(&b'\'') {
                        i += 2 + ch_len;
                    } else {
                        i += 1;
                    }
                }
                push(&mut tokens, Kind::Other, start, i);
            }
            b'r' | b'b' | b'c' if !js && raw_string_start(b, i).is_some() => {
                let (hashes, body) = raw_string_start(b, i).unwrap_or((0, i + 1));
                let close: Vec<u8> = std::iter::once(b'"')
                    .chain(std::iter::repeat_n(b'#', hashes))
                    .collect();
                i = find_bytes(b, body, &close).map_or(b.len(), |p| p + close.len());
                push(&mut tokens, Kind::Other, start, i);
            }
            b'(' | b'[' | b'{' => {
                i += 1;
                push(&mut tokens, Kind::Open, start, i);
            }
            b')' | b']' | b'}' => {
                i += 1;
                push(&mut tokens, Kind::Close(c as char), start, i);
            }
            b',' => {
                i += 1;
                push(&mut tokens, Kind::Comma, start, i);
            }
            b';' => {
                i += 1;
                push(&mut tokens, Kind::End, start, i);
            }
            b'.' | b'?' => {
                i += 1;
                push(&mut tokens, Kind::Continue, start, i);
            }
            _ if c.is_ascii_whitespace() => i += 1,
            _ if c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80 => {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] >= 0x80)
                {
                    i += 1;
                }
                // Stop at a char boundary (non-ASCII identifiers).
                while !text.is_char_boundary(i) {
                    i += 1;
                }
                let kind = if &text[start..i] == "else" {
                    Kind::Else
                } else {
                    Kind::Other
                };
                push(&mut tokens, kind, start, i);
            }
            _ => {
                i += 1;
                push(&mut tokens, Kind::Other, start, i);
            }
        }
    }
    (comments, tokens)
}

/// After an opening quote at `from - 1`: the offset after the closing `quote` (escapes skipped).
fn skip_quoted(b: &[u8], mut i: usize, quote: u8) -> usize {
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            c if c == quote => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

/// `r"`, `r#"`, `br"`, `cr#"`: the number of `#` and the offset of the body.
fn raw_string_start(b: &[u8], i: usize) -> Option<(usize, usize)> {
    // Not the tail of an identifier (`bar"` is not a raw string).
    if i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_') {
        return None;
    }
    let mut j = i;
    if matches!(b[j], b'b' | b'c') {
        j += 1;
    }
    if b.get(j) != Some(&b'r') {
        return None;
    }
    j += 1;
    let mut hashes = 0;
    while b.get(j) == Some(&b'#') {
        hashes += 1;
        j += 1;
    }
    (b.get(j) == Some(&b'"')).then_some((hashes, j + 1))
}

fn find_bytes(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

/// Shell, Dockerfile, YAML, TOML, env files: a `#` outside quotes that starts the line or follows
/// whitespace. A statement is a line and its `\` continuations.
fn hash_lines(text: &str) -> (Vec<Comment>, Vec<Tok>) {
    let mut comments = Vec::new();
    let mut tokens = Vec::new();
    let mut continued = false;
    for (n, line) in text.lines().enumerate() {
        let no = u32::try_from(n + 1).unwrap_or(u32::MAX);
        let mut quote: Option<char> = None;
        let mut prev = ' ';
        let mut comment_at = None;
        let mut escaped = false;
        for (i, c) in line.char_indices() {
            if escaped {
                escaped = false;
            } else if c == '\\' && quote != Some('\'') {
                escaped = true;
            } else if let Some(q) = quote {
                if c == q {
                    quote = None;
                }
            } else if c == '"' || c == '\'' {
                quote = Some(c);
            } else if c == '#' && prev.is_whitespace() {
                comment_at = Some(i);
                break;
            }
            prev = c;
        }
        let code = &line[..comment_at.unwrap_or(line.len())];
        if let Some(at) = comment_at {
            comments.push(Comment {
                text: line[at..].to_string(),
                line: no,
                column: u32::try_from(line[..at].chars().count() + 1).unwrap_or(u32::MAX),
                trailing: !code.trim().is_empty(),
            });
        }
        if code.trim().is_empty() && !continued {
            continue;
        }
        let goes_on = code.trim_end().ends_with('\\');
        tokens.push(Tok {
            kind: if goes_on { Kind::Other } else { Kind::End },
            line: no,
            end_line: no,
        });
        continued = goes_on;
    }
    (comments, tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn covers(text: &str, language: Language) -> Vec<(u32, (u32, u32))> {
        find("f", text, language)
            .iter()
            .map(|s| (s.line, s.covers))
            .collect()
    }

    #[test]
    fn parses_rule_ids_and_reason() {
        let s = find(
            "a.py",
            "x = 1  # access-audit: ignore[untokenized-remote, insecure-remote] staging only\n",
            Language::Python,
        );
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].rules, vec!["untokenized-remote", "insecure-remote"]);
        assert_eq!(s[0].reason, "staging only");
        assert!(s[0].problem().is_none());
        assert_eq!(s[0].covers, (1, 1));
    }

    #[test]
    fn rust_comments_and_malformed_ones() {
        let s = find(
            "a.rs",
            "// access-audit: ignore[untokenized-remote]\n// access-audit: ignore because\n",
            Language::Rust,
        );
        assert_eq!(s.len(), 2);
        assert!(s[0].problem().unwrap().contains("reason"));
        assert!(s[1].problem().unwrap().contains("rule id"));
    }

    #[test]
    fn text_inside_string_literals_is_not_a_comment() {
        let py = "x = \"# access-audit: ignore[untokenized-remote] no\"\ny = '''\n# access-audit: ignore[untokenized-remote] no\n'''\n";
        assert!(find("a.py", py, Language::Python).is_empty());
        let rs = "let a = \"// access-audit: ignore[untokenized-remote] no\";\nlet b = r#\"\n// access-audit: ignore[untokenized-remote] no\n\"#;\n";
        assert!(find("a.rs", rs, Language::Rust).is_empty());
        let sh = "echo '# access-audit: ignore[untokenized-remote] no'\nX=\"a # access-audit: ignore[x] no\"\n";
        assert!(find("a.sh", sh, Language::Shell).is_empty());
    }

    #[test]
    fn own_line_comment_covers_the_next_statement_only() {
        let py = "# access-audit: ignore[untokenized-remote] ok\nrequests.post(\n    URL,\n    json={},\n)\nrequests.get(OTHER)\n";
        assert_eq!(covers(py, Language::Python), vec![(1, (2, 5))]);
        // In a list: the next element.
        let py = "HOSTS = [\n    # access-audit: ignore[untokenized-remote] ok\n    \"https://a.example.com\",\n    \"https://b.example.com\",\n]\n";
        assert_eq!(covers(py, Language::Python), vec![(2, (3, 3))]);
        // A trailing comment: its line.
        let py = "HOSTS = [\n    \"https://a.example.com\",  # access-audit: ignore[untokenized-remote] ok\n    \"https://b.example.com\",\n]\n";
        assert_eq!(covers(py, Language::Python), vec![(2, (2, 2))]);
    }

    #[test]
    fn rust_statements_wrapped_by_rustfmt() {
        let rs = "fn f() {\n    // access-audit: ignore[untokenized-remote] test server\n    let resp = client\n        .get(\"https://comfyui.example.space/queue\")\n        .send()\n        .await;\n    other();\n}\n";
        assert_eq!(covers(rs, Language::Rust), vec![(2, (3, 6))]);
        let rs = "// access-audit: ignore[untokenized-remote] ok\nfn f() {\n    get(\"x\");\n}\nfn g() {}\n";
        assert_eq!(covers(rs, Language::Rust), vec![(1, (2, 4))]);
        let rs = "let c = 'x'; // access-audit: ignore[a] b\nlet l: &'static str = \"\";\n";
        assert_eq!(covers(rs, Language::Rust), vec![(1, (1, 1))]);
    }

    #[test]
    fn shell_continuations() {
        let sh = "# access-audit: ignore[untokenized-remote] ok\ncurl \\\n  https://x.example.com\necho hi\n";
        assert_eq!(covers(sh, Language::Shell), vec![(1, (2, 3))]);
    }
}
