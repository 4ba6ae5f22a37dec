//! The typed error every operation returns. Messages never carry secrets.

use std::fmt;

/// One problem in a config or a ticket, naming where it is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Issue {
    /// JSON path of the config member, or the field at fault.
    pub path: String,
    /// Machine-readable rule (`required`, `allowed-values`, ...).
    pub rule: String,
    /// Human-readable explanation naming the value at fault.
    pub message: String,
}

impl Issue {
    pub fn new(
        path: impl Into<String>,
        rule: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Issue {
            path: path.into(),
            rule: rule.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}]: {}", self.path, self.rule, self.message)
    }
}

/// A failure with what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub message: String,
    pub remediation: String,
}

impl Problem {
    pub fn new(message: impl Into<String>, remediation: impl Into<String>) -> Self {
        Problem {
            message: message.into(),
            remediation: remediation.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (fix: {})", self.message, self.remediation)
    }
}

fn issues(list: &[Issue]) -> String {
    list.iter()
        .map(Issue::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Every error the connector can return.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConnectorError {
    #[error("unauthorized: {0}")]
    Unauthorized(Problem),
    #[error("forbidden: {0}")]
    Forbidden(Problem),
    #[error("not found: {0}")]
    NotFound(Problem),
    #[error("conflict: {0}")]
    Conflict(Problem),
    #[error("rate limited: retry after {0} s")]
    RateLimited(u32),
    #[error("invalid config: {}", issues(.0))]
    InvalidConfig(Vec<Issue>),
    #[error("validation failed: {}", issues(.0))]
    Validation(Vec<Issue>),
    #[error("Azure DevOps answered {status}{}: {message}", .code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default())]
    Remote {
        status: u16,
        code: Option<String>,
        message: String,
    },
    #[error("denied by the host's egress policy: {0}")]
    Denied(String),
    #[error("transport: {0}")]
    Transport(String),
    #[error("unsupported: {0}")]
    Unsupported(String),
    #[error("{0}")]
    Other(String),
}

impl ConnectorError {
    /// The error for an operation whose issue has not landed yet.
    pub fn unsupported(operation: &str) -> Self {
        ConnectorError::Unsupported(format!(
            "`{operation}` is not available in this version of the connector"
        ))
    }
}
