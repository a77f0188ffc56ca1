//! The text a span covers, read from the file instead of copied out of the tokens.
//!
//! Spans count lines from 1 (split at `\n`) and columns in characters from the line's start, in
//! the text given to the lexer (after [`super::strip_preamble`]).

use std::cell::OnceCell;

use proc_macro2::{LineColumn, Span};

/// A file's text with where its lines start (found when first asked).
pub(super) struct SourceText<'s> {
    text: &'s str,
    /// Byte offset of each line's start, and whether the text is all ASCII (a column is then a
    /// byte count).
    lines: OnceCell<(Vec<usize>, bool)>,
}

impl<'s> SourceText<'s> {
    pub(super) fn new(text: &'s str) -> Self {
        SourceText {
            text,
            lines: OnceCell::new(),
        }
    }

    fn offset(&self, at: LineColumn) -> Option<usize> {
        let (lines, ascii) = self.lines.get_or_init(|| {
            let mut lines = vec![0];
            lines.extend(self.text.match_indices('\n').map(|(i, _)| i + 1));
            (lines, self.text.is_ascii())
        });
        let start = *lines.get(at.line.checked_sub(1)?)?;
        let line = self.text.get(start..)?;
        if *ascii {
            return (at.column <= line.len()).then_some(start + at.column);
        }
        match line.char_indices().nth(at.column) {
            Some((i, _)) => Some(start + i),
            None => (line.chars().count() == at.column).then_some(self.text.len()),
        }
    }

    /// The text `span` covers, if it is one of this text's.
    fn of(&self, span: Span) -> Option<&'s str> {
        let (start, end) = (self.offset(span.start())?, self.offset(span.end())?);
        self.text.get(start..end)
    }

    /// May the source of `span` hold `needle`? `false` only when it certainly does not (comments
    /// and literals included: a token never holds what its source text does not).
    pub(super) fn may_contain(&self, span: Span, needle: &str) -> bool {
        self.of(span).is_none_or(|t| t.contains(needle))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_map_to_their_text() {
        for src in [
            "fn f() { g!(a, b::c(1)); }\n",
            "// é ü\nfn f() {\n    g!(\"ö\", b::c(1));\n}\n",
        ] {
            proc_macro2::extra::invalidate_current_thread_spans();
            let file: syn::File = syn::parse_str(src).unwrap();
            let text = SourceText::new(src);
            let syn::Item::Fn(f) = &file.items[0] else {
                panic!()
            };
            let syn::Stmt::Macro(m) = &f.block.stmts[0] else {
                panic!()
            };
            let span = m.mac.delimiter.span().join();
            let inner = text.of(span).unwrap();
            assert!(inner.starts_with('(') && inner.ends_with(')'), "{inner}");
            assert!(text.may_contain(span, "::"));
            assert!(!text.may_contain(span, "::d"));
        }
    }
}
