//! Human-readable text for the plugin's typed errors (never secrets: the
//! plugin's messages carry none, and nothing else is added here).

use crate::bindings::exports::secops::ticketing::schema::{InputType, StateCategory};
use crate::bindings::secops::ticketing::types::{ConnectorError, Issue, Problem};

fn problem(kind: &str, p: &Problem) -> String {
    format!("{kind}: {}\n  how to fix: {}", p.message, p.remediation)
}

fn issues(kind: &str, list: &[Issue]) -> String {
    let mut out = format!(
        "{kind} ({} problem{}):",
        list.len(),
        if list.len() == 1 { "" } else { "s" }
    );
    for i in list {
        out.push_str(&format!("\n  - {} [{}]: {}", i.path, i.rule, i.message));
    }
    out
}

/// Describes a connector error for a person: the problem and how to fix it,
/// or every issue with its path and rule. (The generated `Display` of
/// `ConnectorError` is its `Debug`; use this, or `CallError`'s `Display`.)
pub fn describe(e: &ConnectorError) -> String {
    match e {
        ConnectorError::Unauthorized(p) => problem("unauthorized", p),
        ConnectorError::Forbidden(p) => problem("forbidden", p),
        ConnectorError::NotFound(p) => problem("not found", p),
        ConnectorError::Conflict(p) => problem("conflict", p),
        ConnectorError::RateLimited(s) => {
            format!("rate limited by Azure DevOps: retry after {s} s")
        }
        ConnectorError::InvalidConfig(l) => issues("invalid config", l),
        ConnectorError::Validation(l) => issues("refused", l),
        ConnectorError::Remote(r) => format!(
            "Azure DevOps answered HTTP {}{}: {}",
            r.status,
            r.code
                .as_deref()
                .map(|c| format!(" ({c})"))
                .unwrap_or_default(),
            r.message
        ),
        ConnectorError::Denied(s) => format!("denied by the host's egress policy: {s}"),
        ConnectorError::Transport(s) => format!("network failure: {s}"),
        ConnectorError::Unsupported(s) => format!("unsupported: {s}"),
        ConnectorError::Other(s) => s.clone(),
    }
}

/// The WIT name of a state category (`in-progress`, or the unknown name).
pub fn state_category(c: &StateCategory) -> String {
    match c {
        StateCategory::Proposed => "proposed".into(),
        StateCategory::InProgress => "in-progress".into(),
        StateCategory::Resolved => "resolved".into(),
        StateCategory::Completed => "completed".into(),
        StateCategory::Removed => "removed".into(),
        StateCategory::Other(o) => o.clone(),
    }
}

/// The WIT name of an input type (`picklist-string`...).
pub fn input_type(t: InputType) -> &'static str {
    match t {
        InputType::Text => "text",
        InputType::PlainText => "plain-text",
        InputType::Html => "html",
        InputType::Integer => "integer",
        InputType::Double => "double",
        InputType::DateTime => "date-time",
        InputType::Boolean => "boolean",
        InputType::Identity => "identity",
        InputType::TreePath => "tree-path",
        InputType::PicklistString => "picklist-string",
        InputType::PicklistInteger => "picklist-integer",
        InputType::PicklistDouble => "picklist-double",
        InputType::Guid => "guid",
        InputType::History => "history",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::secops::ticketing::types::RemoteError;

    #[test]
    fn problems_show_their_remediation_and_issues_each_line() {
        let e = ConnectorError::Unauthorized(Problem {
            message: "PAT rejected".into(),
            remediation: "create a new PAT".into(),
        });
        assert_eq!(
            describe(&e),
            "unauthorized: PAT rejected\n  how to fix: create a new PAT"
        );
        let e = ConnectorError::Validation(vec![
            Issue {
                path: "System.Title".into(),
                rule: "required".into(),
                message: "empty".into(),
            },
            Issue {
                path: "Priority".into(),
                rule: "allowed-values".into(),
                message: "7 is not allowed".into(),
            },
        ]);
        let text = describe(&e);
        assert!(
            text.contains("2 problems")
                && text.contains("System.Title [required]: empty")
                && text.contains("Priority [allowed-values]"),
            "{text}"
        );
        let e = ConnectorError::Remote(RemoteError {
            status: 500,
            code: Some("TF1".into()),
            message: "boom".into(),
        });
        assert_eq!(describe(&e), "Azure DevOps answered HTTP 500 (TF1): boom");
    }
}
