//! The analysis engine, apart from the commands that use it. Data flows one way:
//!
//! [`walk`] (gitignore-aware parallel walk) → [`source`] (read + decode) → [`lower`] (each language
//! to the one flow IR, [`ir`]) → [`project`] (index of modules, imports, env and compose values) →
//! [`solve`] (every value an expression can take, through calls, returns and fields) →
//! [`resolve`] (uses → findings: which requests send the address, and whether every one carries
//! the credential, [`credential`]) → [`address`] + [`classify`] → [`finding::Report`].
//! [`scan`] drives the pipeline; [`suppress`] reads suppression comments.

pub mod address;
pub mod classify;
pub mod credential;
pub mod finding;
pub mod ir;
pub mod lower;
pub mod profile;
pub mod project;
pub mod resolve;
pub mod scan;
pub mod secrets;
pub mod solve;
pub mod source;
pub mod suppress;
pub mod walk;
