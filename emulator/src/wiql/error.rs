//! The error of a query that cannot be parsed or run.

/// A query error, with ADO's TF code first in the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WiqlError {
    pub message: String,
}

impl WiqlError {
    /// A syntax error: "Expecting {expected}. The error is caused by
    /// «{found}»." with no TF code [ms-code: ADO's text quoted in
    /// nkdAgility/azure-devops-migration-tools#388, "Expecting end of
    /// string. The error is caused by «[System.WorkItemType]».", and
    /// ostreifel/wiql-editor#55]. [unverified] ADO's wording of each
    /// expectation (it writes "end of string", "field name or expression",
    /// "left bracket").
    pub fn syntax(expected: &str, found: &str) -> WiqlError {
        WiqlError {
            message: format!("Expecting {expected}. The error is caused by «{found}»."),
        }
    }

    /// TF51005: a field the organization does not have, named as the query
    /// writes it, in brackets [ms-code: ADO's text quoted in
    /// nkdAgility/azure-devops-migration-tools#431, #1117 and #2162, "TF51005:
    /// The query references a field that does not exist. The error is caused
    /// by «[Custom.ReflectedWorkItemId]»."].
    pub fn unknown_field(name: &str) -> WiqlError {
        WiqlError {
            message: format!(
                "TF51005: The query references a field that does not exist. The error is caused by «[{name}]»."
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
