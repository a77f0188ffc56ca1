//! access-audit: find every place code talks to a self-hosted service (ComfyUI first) and tell what
//! breaks when its public domain goes behind Cloudflare Access.
//!
//! - [`engine`]: walk → decode → lower each language to one IR → solve value flow → decide
//!   credentials → classify → [`engine::finding::Report`]. It knows nothing of the commands.
//! - [`rules`]: what the scanner knows about each service (data files under `rules/`).
//! - [`gate`]: `check` — findings → violations, baseline, severities.
//! - [`remedy`]: the concrete change that fixes a violation.
//! - [`report`]: one module per output format.
//! - [`cmd`]: one module per command, each a thin user of the above.

pub mod cli;
pub mod cmd;
pub(crate) mod config;
pub(crate) mod digest;
pub mod engine;
pub(crate) mod error;
pub mod gate;
pub(crate) mod git;
pub mod remedy;
pub mod report;
pub mod rules;
