//! Uploads a file to Azure DevOps: `POST {org}/{project}/_apis/wit/attachments
//! ?fileName=...&api-version=7.1` with the raw bytes as
//! `application/octet-stream`. Uploading attaches nothing yet: the returned
//! URL goes into an `AttachedFile` relation of the work item. The size limit
//! is checked before anything is sent.

use serde::Deserialize;

use super::{AttachmentError, check_size};
use crate::client::Client;
use crate::env::Method;
use crate::error::ConnectorError;
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
pub fn upload_attachment(client: &Client<'_>, file_name: &str, bytes: Vec<u8>) -> Result<UploadedAttachment, ConnectorError> {
    check_size(file_name, bytes.len())?;
    if file_name.trim().is_empty() {
        return Err(AttachmentError::InvalidOptions(vec![crate::error::Issue::new(
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
    let response = client.execute(Method::Post, &url, Some("application/octet-stream"), bytes)?;
    let body = response.body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&response.body);
    let uploaded: UploadedAttachment = serde_json::from_slice(body).map_err(|e| {
        ConnectorError::Other(format!("unexpected answer to the upload of `{file_name}`: {e}"))
    })?;
    if uploaded.url.is_empty() {
        return Err(ConnectorError::Other(format!("Azure DevOps returned no URL for the upload of `{file_name}`")));
    }
    Ok(uploaded)
}
