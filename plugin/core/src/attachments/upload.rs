//! Uploads a file to Azure DevOps: `POST {org}/{project}/_apis/wit/attachments
//! ?fileName=...&api-version=7.1` with the raw bytes as
//! `application/octet-stream`. Uploading attaches nothing yet: the returned
//! URL goes into an `AttachedFile` relation of the work item. The size limit
//! is checked before anything is sent; ADO's own refusal (413, when its limit
//! is lower than ours) becomes the same typed `max-size` error.

use serde::Deserialize;

use super::{ADO_ATTACHMENT_LIMIT, AttachmentError, check_size_against};
use crate::client::Client;
use crate::env::Method;
use crate::error::{ConnectorError, Issue};
use crate::target::{API_VERSION, query_value};

/// What ADO answers to an upload.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct UploadedAttachment {
    pub id: String,
    /// The URL an `AttachedFile` relation links to.
    pub url: String,
}

/// Uploads `bytes` as `file_name`; refuses a file over
/// [`super::ADO_ATTACHMENT_LIMIT`] with [`AttachmentError::TooLarge`]
/// (as a validation error naming the file and the limit) without a request.
pub fn upload_attachment(
    client: &Client<'_>,
    file_name: &str,
    bytes: Vec<u8>,
) -> Result<UploadedAttachment, ConnectorError> {
    upload_attachment_limited(client, file_name, bytes, ADO_ATTACHMENT_LIMIT)
}

/// [`upload_attachment`] with a lower `limit` (the config's `max_bytes`).
pub fn upload_attachment_limited(
    client: &Client<'_>,
    file_name: &str,
    bytes: Vec<u8>,
    limit: usize,
) -> Result<UploadedAttachment, ConnectorError> {
    let size = bytes.len();
    check_size_against(file_name, size, limit.min(ADO_ATTACHMENT_LIMIT))?;
    if file_name.trim().is_empty() {
        return Err(AttachmentError::InvalidOptions(vec![Issue::new(
            "attachments.file_name",
            "required",
            "an attachment needs a file name",
        )])
        .into());
    }
    let url = client.target().project_api(
        &client.connection().project,
        &format!("wit/attachments?fileName={}", query_value(file_name)),
        API_VERSION,
    );
    let response = match client.execute(Method::Post, &url, Some("application/octet-stream"), bytes)
    {
        Err(ConnectorError::Remote {
            status: 413,
            message,
            ..
        }) => {
            return Err(ConnectorError::Validation(vec![Issue::new(
                "attachments",
                "max-size",
                format!(
                    "Azure DevOps refused the attachment `{file_name}` ({size} bytes) as too large: {message}"
                ),
            )]));
        }
        other => other?,
    };
    let body = response
        .body
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(&response.body);
    let uploaded: UploadedAttachment = serde_json::from_slice(body).map_err(|e| {
        ConnectorError::Other(format!(
            "unexpected answer to the upload of `{file_name}`: {e}"
        ))
    })?;
    if uploaded.url.is_empty() {
        return Err(ConnectorError::Other(format!(
            "Azure DevOps returned no URL for the upload of `{file_name}`"
        )));
    }
    Ok(uploaded)
}
