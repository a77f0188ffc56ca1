//! Rust front end (placeholder, being written).
