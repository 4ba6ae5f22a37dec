//! The error of a query that cannot be parsed or run.

/// A query error, with ADO's TF code first in the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WiqlError {
    pub message: String,
}

impl WiqlError {
    /// TF51006-style syntax error [unverified: ADO's exact wording].
    pub fn syntax(expected: &str, found: &str) -> WiqlError {
        WiqlError {
            message: format!(
                "TF51006: The query statement is not valid. Expecting {expected}. The error is caused by «{found}»."
            ),
        }
    }

    /// TF51005: a field the organization does not have.
    pub fn unknown_field(name: &str) -> WiqlError {
        WiqlError {
            message: format!(
                "TF51005: The query references a field that does not exist. The error is caused by «{name}»."
            ),
        }
    }

    /// Any other refusal, with its own code.
    pub fn other(message: impl Into<String>) -> WiqlError {
        WiqlError {
            message: message.into(),
        }
    }
}
