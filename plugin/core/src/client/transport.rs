//! What a failure of the host's HTTP transport means to the connector: a
//! leaf, shared by the REST client and the Entra token endpoint.

use crate::env::HttpError;
use crate::error::ConnectorError;

/// Maps a host transport failure to the connector's error.
pub fn transport_error(err: HttpError, url: &str) -> ConnectorError {
    let without_query = url.split('?').next().unwrap_or(url);
    match err {
        HttpError::Denied(reason) => ConnectorError::Denied(reason),
        HttpError::Timeout => ConnectorError::Transport(format!(
            "no answer from {without_query} before the deadline"
        )),
        HttpError::Transport(reason) => {
            ConnectorError::Transport(format!("{without_query}: {reason}"))
        }
        HttpError::TooLarge => ConnectorError::Transport(format!(
            "the response of {without_query} was larger than the host allows"
        )),
        HttpError::Other(reason) => ConnectorError::Other(reason),
    }
}
