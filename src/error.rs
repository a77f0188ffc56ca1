//! The one error type of access-audit. Each variant maps to an exit code, a message and a hint
//! (`main.rs` prints them); per-file problems are not errors but [`crate::engine::finding::Diagnostic`]s.

use thiserror::Error;

/// The io, TOML or JSON error behind an [`Error`], when there is one: its text is already in the
/// message, it is kept for [`std::error::Error::source`].
pub type Source = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, Error)]
pub enum Error {
    /// A path given on the command line does not exist or cannot be read.
    #[error("cannot read `{path}`: {message}")]
    UnreadablePath {
        path: String,
        message: String,
        #[source]
        source: Option<Source>,
    },
    /// A rule file is invalid: `file` carries `path:line` when the line is known.
    #[error("invalid rule file {file}: {message}")]
    Rules {
        file: String,
        message: String,
        #[source]
        source: Option<Source>,
    },
    /// A config file (`access-audit.toml`, `[tool.access-audit]` in `pyproject.toml`) is invalid.
    #[error("invalid config {file}: {message}")]
    Config {
        file: String,
        message: String,
        #[source]
        source: Option<Source>,
    },
    /// Git could not tell which files changed (`--changed-since`).
    #[error("{message}")]
    Git {
        message: String,
        #[source]
        source: Option<Source>,
    },
    /// An output file cannot be written.
    #[error("cannot write `{path}`: {message}")]
    Output {
        path: String,
        message: String,
        #[source]
        source: Option<Source>,
    },
    /// Stdout was closed before the output was written (`| head`): exit 2, without a message.
    #[error("stdout was closed")]
    StdoutClosed,
    /// Anything else the user asked for that cannot be done.
    #[error("{0}")]
    Usage(String),
}

impl Error {
    /// A git failure with no error behind it but git's own answer.
    pub(crate) fn git(message: String) -> Self {
        Error::Git {
            message,
            source: None,
        }
    }

    /// Writing `path` failed with `e`.
    pub(crate) fn output(path: impl std::fmt::Display, e: std::io::Error) -> Self {
        Error::Output {
            path: path.to_string(),
            message: e.to_string(),
            source: Some(Box::new(e)),
        }
    }

    /// The process exit code for this error (0 success and 1 violations are not errors).
    pub fn exit_code(&self) -> i32 {
        2
    }

    /// `{"error": {"message": …, "hint": …}}` (`hint` is `null` when there is none), for
    /// `--format json`.
    pub fn to_json(&self) -> String {
        serde_json::json!({"error": {"message": self.to_string(), "hint": self.hint()}}).to_string()
    }

    /// One line telling the user what to do next.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Error::UnreadablePath { .. } => {
                Some("check the path exists and is readable; PATH defaults to `.`")
            }
            Error::Rules { .. } => Some(
                "`access-audit rules validate DIR` checks rule files; see README \"Rules format\"",
            ),
            Error::Output { .. } => Some("check the directory exists and is writable"),
            Error::Config { .. } => Some(
                "see README \"Configuration\" for the keys; `access-audit explain` lists rule ids",
            ),
            Error::Git { .. } => None,
            Error::StdoutClosed => None,
            Error::Usage(_) => None,
        }
    }
}
