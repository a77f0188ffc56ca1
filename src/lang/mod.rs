//! Language front ends: each turns one decoded source file into [`crate::ir::FileFacts`].
//!
//! - [`python`]: `ruff_python_parser` (Python 3.8–3.14, with error recovery);
//! - [`rust`]: `syn`, plus the token trees of `format!`-like macros;
//! - [`text`]: a regex fallback for files that cannot be parsed or decoded.

pub mod rust;
