//! Reading a file's bytes into text: UTF-8 (with or without BOM), UTF-16 with a BOM, and Python's
//! PEP 263 coding cookie for Latin-1 family encodings; binary files are refused. Also the byte
//! offset → line/column index every front end uses.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::engine::ir::Pos;

/// Decoded text, plus a note when the decoding was lossy or unusual.
#[derive(Debug)]
pub struct Decoded {
    pub text: String,
    /// Set when bytes could not be decoded and were replaced (the file is then only text-scanned).
    pub lossy: Option<String>,
}

/// Why a file is not scanned at all.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    Binary,
}

/// Starts with a UTF-16 byte-order mark.
pub fn has_utf16_bom(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF])
}

/// A binary file: NUL bytes in the first 8 KiB of a file that is not UTF-16.
pub fn is_binary(bytes: &[u8]) -> bool {
    !has_utf16_bom(bytes) && bytes[..bytes.len().min(8192)].contains(&0)
}

/// Decode `bytes`. `python` enables the PEP 263 coding cookie.
pub fn decode(bytes: &[u8], python: bool) -> Result<Decoded, Refused> {
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return Ok(utf8(rest));
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return Ok(utf16(rest, u16::from_le_bytes));
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        return Ok(utf16(rest, u16::from_be_bytes));
    }
    if is_binary(bytes) {
        return Err(Refused::Binary);
    }
    if python {
        if let Some(enc) = coding_cookie(bytes) {
            if matches!(
                enc.as_str(),
                "latin-1"
                    | "latin1"
                    | "iso-8859-1"
                    | "iso8859-1"
                    | "l1"
                    | "cp1252"
                    | "windows-1252"
                    | "iso-8859-15"
            ) {
                return Ok(Decoded {
                    text: bytes.iter().map(|&b| b as char).collect(),
                    lossy: None,
                });
            }
        }
    }
    Ok(utf8(bytes))
}

/// Read the file at `path` and [`decode`] it as `language`; the error is the file's diagnostic.
pub fn read_decoded(path: &Path, language: Language) -> Result<Decoded, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    decode(&bytes, language == Language::Python)
        .map_err(|Refused::Binary| "skipped: binary file (NUL bytes)".to_string())
}

fn utf8(bytes: &[u8]) -> Decoded {
    match std::str::from_utf8(bytes) {
        Ok(s) => Decoded {
            text: s.to_string(),
            lossy: None,
        },
        Err(e) => Decoded {
            text: String::from_utf8_lossy(bytes).into_owned(),
            lossy: Some(format!("invalid UTF-8 at byte {}", e.valid_up_to())),
        },
    }
}

fn utf16(bytes: &[u8], conv: fn([u8; 2]) -> u16) -> Decoded {
    let units: Vec<u16> = bytes.chunks_exact(2).map(|c| conv([c[0], c[1]])).collect();
    let text = String::from_utf16_lossy(&units);
    let lossy =
        (bytes.len() % 2 == 1 || text.contains('\u{FFFD}')).then(|| "invalid UTF-16".to_string());
    Decoded { text, lossy }
}

/// The PEP 263 encoding declared on line 1 or 2 (`# -*- coding: latin-1 -*-`), lower-cased.
fn coding_cookie(bytes: &[u8]) -> Option<String> {
    for line in bytes.split(|&b| b == b'\n').take(2) {
        let line = String::from_utf8_lossy(line);
        let t = line.trim_start();
        if !t.starts_with('#') {
            continue;
        }
        if let Some(i) = t.find("coding") {
            let rest = &t[i + 6..];
            if let Some(rest) = rest.strip_prefix([':', '=']) {
                let enc: String = rest
                    .trim_start()
                    .chars()
                    .take_while(|c| {
                        c.is_ascii_alphanumeric() || *c == '-' || *c == '_' || *c == '.'
                    })
                    .collect();
                return Some(enc.to_ascii_lowercase().replace('_', "-"));
            }
        }
    }
    None
}

/// Bytes per block of [`LineIndex`]'s character-count table.
const BLOCK: usize = 4096;

/// Maps byte offsets to 1-based line and (character) column.
///
/// Columns are counted in characters. So that a minified file (one line of a megabyte, with
/// thousands of positions asked for) stays linear, the number of characters before every
/// [`BLOCK`]-th byte is kept: a column costs at most two partial blocks to count.
pub struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
    /// `block_chars[k]`: characters in `text[..k * BLOCK]` (counted as UTF-8 lead bytes).
    block_chars: Vec<usize>,
}

/// Characters starting in `bytes` (UTF-8 lead bytes: every byte but continuation bytes).
fn lead_bytes(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| (b & 0xC0) != 0x80).count()
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> LineIndex<'a> {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        let mut block_chars = Vec::with_capacity(text.len() / BLOCK + 1);
        let mut total = 0;
        block_chars.push(0);
        for chunk in text.as_bytes().chunks(BLOCK) {
            total += lead_bytes(chunk);
            block_chars.push(total);
        }
        LineIndex {
            text,
            starts,
            block_chars,
        }
    }

    /// Characters in `text[..offset]`, for a char-boundary `offset`.
    fn chars_before(&self, offset: usize) -> usize {
        let block = offset / BLOCK;
        let base = self.block_chars.get(block).copied().unwrap_or(0);
        base + lead_bytes(&self.text.as_bytes()[block * BLOCK..offset])
    }

    pub fn pos(&self, offset: usize) -> Pos {
        let offset = offset.min(self.text.len());
        let line = self
            .starts
            .partition_point(|&s| s <= offset)
            .saturating_sub(1);
        let start = self.starts[line];
        let column = if !self.text.is_char_boundary(offset) {
            offset - start
        } else if offset - start <= BLOCK {
            // A usual line: count its characters directly (two block lookups would each scan up
            // to a block).
            lead_bytes(&self.text.as_bytes()[start..offset])
        } else {
            self.chars_before(offset) - self.chars_before(start)
        };
        Pos {
            line: line as u32 + 1,
            column: column as u32 + 1,
        }
    }

    /// The text of 1-based `line`, without its newline.
    pub fn line_text(&self, line: u32) -> &'a str {
        let i = (line as usize).saturating_sub(1);
        let Some(&start) = self.starts.get(i) else {
            return "";
        };
        let end = self.starts.get(i + 1).map_or(self.text.len(), |e| e - 1);
        self.text
            .get(start..end)
            .unwrap_or("")
            .trim_end_matches('\r')
    }
}

/// The kind of file a finding comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Python,
    Rust,
    /// Jupyter notebook (`.ipynb`): code cells go through the Python front end.
    Notebook,
    /// Shell scripts (`.sh`, `.bash`, `.zsh`).
    Shell,
    /// `Dockerfile`, `*.dockerfile`, `Containerfile`.
    Dockerfile,
    /// JavaScript / TypeScript (text search).
    JavaScript,
    /// `.env`, `.env.*`, `*.env`.
    Dotenv,
    Yaml,
    Toml,
    Json,
}

impl Language {
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Python => "python",
            Language::Rust => "rust",
            Language::Notebook => "notebook",
            Language::Shell => "shell",
            Language::Dockerfile => "dockerfile",
            Language::JavaScript => "javascript",
            Language::Dotenv => "dotenv",
            Language::Yaml => "yaml",
            Language::Toml => "toml",
            Language::Json => "json",
        }
    }

    /// Configuration and deployment files: read first, they supply env values and host names.
    pub fn is_config(self) -> bool {
        matches!(
            self,
            Language::Dotenv | Language::Yaml | Language::Toml | Language::Json
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let idx = LineIndex::new("ab\né x\n");
        assert_eq!(idx.pos(0), Pos { line: 1, column: 1 });
        assert_eq!(idx.pos(3), Pos { line: 2, column: 1 });
        assert_eq!(idx.pos(6), Pos { line: 2, column: 3 });
        assert_eq!(idx.line_text(2), "é x");
    }

    #[test]
    fn columns_across_blocks_match_a_plain_count() {
        let mut text = String::new();
        for i in 0..3 * BLOCK {
            text.push(match i % 7 {
                0 => 'é',
                1 => '\n',
                2 => '✓',
                3 => '𝄞',
                _ => 'a',
            });
            if i % 1000 == 0 {
                text.push_str(&"x".repeat(BLOCK + 3));
            }
        }
        let idx = LineIndex::new(&text);
        for (offset, _) in text.char_indices().step_by(97).chain([(text.len(), ' ')]) {
            let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
            let want = text[line_start..offset].chars().count() as u32 + 1;
            assert_eq!(idx.pos(offset).column, want, "at {offset}");
        }
        // Not a char boundary: counted in bytes, never a panic.
        let idx = LineIndex::new("é");
        assert_eq!(idx.pos(1), Pos { line: 1, column: 2 });
    }

    #[test]
    fn bom_and_utf16() {
        assert_eq!(decode(b"\xEF\xBB\xBFx = 1", true).unwrap().text, "x = 1");
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("u = 'a'".encode_utf16().flat_map(|u| u.to_le_bytes()))
            .collect();
        assert_eq!(decode(&utf16, true).unwrap().text, "u = 'a'");
    }

    #[test]
    fn latin1_cookie() {
        let d = decode(b"# -*- coding: latin-1 -*-\ns = '\xe9'\n", true).unwrap();
        assert!(d.text.contains('é'));
        assert!(d.lossy.is_none());
    }

    #[test]
    fn binary_and_invalid_utf8() {
        assert_eq!(
            decode(b"\x7fELF\x00\x00", true).unwrap_err(),
            Refused::Binary
        );
        assert!(decode(b"x = '\xff'", false).unwrap().lossy.is_some());
    }
}
