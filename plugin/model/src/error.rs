//! The typed error every operation returns, and its text for people.
//! Messages never carry secrets.

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
    #[error("Azure DevOps answered HTTP {status}{}: {message}", .code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default())]
    Remote {
        status: u16,
        code: Option<String>,
        message: String,
    },
    #[error("denied by the host's egress policy: {0}")]
    Denied(String),
    #[error("network failure: {0}")]
    Transport(String),
    #[error("unsupported: {0}")]
    Unsupported(String),
    #[error("{0}")]
    Other(String),
}

impl ConnectorError {
    /// The error for a person: the problem and how to fix it, or every issue
    /// with its path and rule, on several lines. (`Display` is the one-line
    /// form for logs and API messages.)
    pub fn describe(&self) -> String {
        fn problem(kind: &str, p: &Problem) -> String {
            format!("{kind}: {}\n  how to fix: {}", p.message, p.remediation)
        }
        fn list(kind: &str, list: &[Issue]) -> String {
            let plural = if list.len() == 1 { "" } else { "s" };
            let mut out = format!("{kind} ({} problem{plural}):", list.len());
            for i in list {
                out.push_str(&format!("\n  - {i}"));
            }
            out
        }
        match self {
            ConnectorError::Unauthorized(p) => problem("unauthorized", p),
            ConnectorError::Forbidden(p) => problem("forbidden", p),
            ConnectorError::NotFound(p) => problem("not found", p),
            ConnectorError::Conflict(p) => problem("conflict", p),
            ConnectorError::RateLimited(s) => {
                format!("rate limited by Azure DevOps: retry after {s} s")
            }
            ConnectorError::InvalidConfig(l) => list("invalid config", l),
            ConnectorError::Validation(l) => list("refused", l),
            ConnectorError::Remote { .. }
            | ConnectorError::Denied(_)
            | ConnectorError::Transport(_)
            | ConnectorError::Unsupported(_)
            | ConnectorError::Other(_) => self.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_is_described_with_how_to_fix_it() {
        let e = ConnectorError::Unauthorized(Problem::new("the PAT expired", "create a new PAT"));
        assert_eq!(
            e.describe(),
            "unauthorized: the PAT expired\n  how to fix: create a new PAT"
        );
    }

    #[test]
    fn issues_are_described_one_a_line_with_path_and_rule() {
        let e = ConnectorError::Validation(vec![
            Issue::new("fields.title", "required", "the title is empty"),
            Issue::new("fields.severity", "allowed-values", "`HUGE` is not allowed"),
        ]);
        assert_eq!(
            e.describe(),
            "refused (2 problems):\n  - fields.title [required]: the title is empty\n  - fields.severity [allowed-values]: `HUGE` is not allowed"
        );
    }

    #[test]
    fn a_remote_error_names_status_and_code() {
        let e = ConnectorError::Remote {
            status: 400,
            code: Some("TF401320".into()),
            message: "rule error".into(),
        };
        assert_eq!(
            e.describe(),
            "Azure DevOps answered HTTP 400 (TF401320): rule error"
        );
    }
}
