//! Work a page does off the async threads (plugin calls, SQLite), and its
//! failure told to a person: shared by every page, so that no page module
//! has to import another.

use serde_json::{Value, json};

use crate::{CallError, ConnectorError};

/// Runs blocking work (plugin calls, SQLite) off the async threads.
pub(super) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| anyhow::anyhow!("the console's worker failed: {e}"))?
}

/// A failure for a person: the message, and how to fix it when the plugin says.
pub(super) fn failure(e: &anyhow::Error) -> Value {
    match e.downcast_ref::<CallError>() {
        Some(CallError::Connector(
            ConnectorError::Unauthorized(p)
            | ConnectorError::Forbidden(p)
            | ConnectorError::NotFound(p)
            | ConnectorError::Conflict(p),
        )) => json!({"message": p.message, "remediation": p.remediation}),
        Some(CallError::Connector(
            ConnectorError::InvalidConfig(l) | ConnectorError::Validation(l),
        )) => {
            json!({"message": format!("{e}"), "issues": l.iter().map(|i| json!({"path": i.path, "rule": i.rule, "message": i.message})).collect::<Vec<_>>()})
        }
        _ => json!({"message": format!("{e:#}")}),
    }
}
