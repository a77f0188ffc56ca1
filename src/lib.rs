//! access-audit: find every place code talks to a self-hosted service (ComfyUI first) and tell what
//! breaks when its public domain goes behind Cloudflare Access.
//!
//! Data flows one way: [`walk`] → [`source`] → [`lang`] (Python / Rust / text → [`ir`]) → [`eval`] +
//! [`resolve`] (→ [`address`], [`classify`]) → [`finding::Report`] → [`report`] formats.

pub mod address;
pub mod app;
pub mod classify;
pub mod cli;
pub mod config;
pub mod error;
pub mod eval;
pub mod finding;
pub mod fix;
pub mod gate;
pub mod git;
pub mod ir;
pub mod lang;
pub mod merge;
pub mod probe;
pub mod project;
pub mod report;
pub mod resolve;
pub mod rules;
pub mod scaffold;
pub mod scan;
pub mod secrets;
pub mod source;
pub mod suppress;
pub mod walk;
