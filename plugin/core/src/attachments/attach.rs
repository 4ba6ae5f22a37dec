//! The findings file at dispatch: generated, refused over the limit, uploaded,
//! and linked by an `AttachedFile` relation op that joins the create request
//! itself, so a dispatch with an attachment costs one upload and one create.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{
    Attachment, AttachmentError, AttachmentOptions, digest, generate, upload_attachment_limited,
};
use crate::client::Client;
use crate::config::Config;
use crate::error::{ConnectorError, Issue};
use crate::model::{AttachmentState, Ticket};
use crate::target::query_value;

/// A findings file uploaded and ready to link.
#[derive(Debug, Clone, PartialEq)]
pub struct AttachedFile {
    /// `add /relations/-` of an `AttachedFile` relation to the upload.
    pub op: Value,
    /// What to remember in the link's sync state.
    pub state: AttachmentState,
}

/// The JSON Patch op linking an uploaded file to the work item.
pub fn relation_op(url: &str, comment: &str) -> Value {
    json!({"op": "add", "path": "/relations/-", "value": {
        "rel": "AttachedFile",
        "url": url,
        "attributes": {"comment": comment}
    }})
}

/// The relation's comment: whose findings, how many, which format, and the
/// start of their digest in brackets. The digest is the upload's
/// idempotency key: a sync repeated after its answer was lost finds the
/// file it already linked instead of linking a second copy.
pub fn comment(ticket: &Ticket, options: &AttachmentOptions, digest: &str) -> String {
    let n = ticket.findings.len();
    let noun = if n == 1 { "finding" } else { "findings" };
    format!(
        "SecOps ticket {}: {n} {noun} ({}) {}",
        ticket.id,
        options.format,
        digest_marker(digest)
    )
}

/// `[` the digest's first 16 hex digits `]`, as the relation comment carries it.
pub fn digest_marker(digest: &str) -> String {
    format!("[{}]", digest.get(..16).unwrap_or(digest))
}

/// The config's findings file for a dispatch, uploaded; `None` when the
/// config has no `attachment` or the ticket no findings.
pub fn for_dispatch(
    client: &Client<'_>,
    config: &Config,
    ticket: &Ticket,
) -> Result<Option<AttachedFile>, ConnectorError> {
    match &config.attachment {
        Some(options) => attach(client, options, &config.labels, ticket),
        None => Ok(None),
    }
}

/// The findings file a preview shows: generated, not uploaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewFile {
    pub file_name: String,
    /// The generated file's size in bytes.
    pub size: u64,
}

/// A preview's body with the findings file's relation op appended (with a
/// placeholder URL: nothing is uploaded) and the file's name and size, or
/// its problem added to `problems`.
pub fn preview(
    client: &Client<'_>,
    config: &Config,
    ticket: &Ticket,
    mut body: Value,
    problems: &mut Vec<Issue>,
) -> (Value, Option<PreviewFile>) {
    let mut shown = None;
    if let (Some(options), Some(ops)) = (&config.attachment, body.as_array_mut()) {
        match preview_op(client, options, &config.labels, ticket) {
            Some(Ok((op, file))) => {
                ops.push(op);
                shown = Some(file);
            }
            Some(Err(issue)) => problems.push(issue),
            None => {}
        }
    }
    (body, shown)
}

/// Generates, checks and uploads the ticket's findings file. `None` when the
/// ticket has no findings. A file over the limit is refused before any
/// request, naming the file, its size and the limit.
pub fn attach(
    client: &Client<'_>,
    options: &AttachmentOptions,
    labels: &BTreeMap<String, String>,
    ticket: &Ticket,
) -> Result<Option<AttachedFile>, ConnectorError> {
    if ticket.findings.is_empty() {
        return Ok(None);
    }
    let file = generate(ticket, options, labels, client.env().now_unix())?;
    upload(client, options, labels, ticket, file).map(Some)
}

/// Uploads a generated file and describes it.
pub(super) fn upload(
    client: &Client<'_>,
    options: &AttachmentOptions,
    labels: &BTreeMap<String, String>,
    ticket: &Ticket,
    file: Attachment,
) -> Result<AttachedFile, ConnectorError> {
    let size = file.bytes.len() as u64;
    let digest = digest(ticket, options, labels);
    let uploaded = upload_attachment_limited(client, &file.file_name, file.bytes, options.limit())?;
    Ok(AttachedFile {
        op: relation_op(&uploaded.url, &comment(ticket, options, &digest)),
        state: AttachmentState {
            file_name: file.file_name,
            url: uploaded.url,
            size,
            digest,
        },
    })
}

/// What a preview shows: the relation op with a placeholder URL (nothing is
/// uploaded) and the generated file's name and size, or the problem that
/// would stop the dispatch. `None` when the ticket has no findings.
pub fn preview_op(
    client: &Client<'_>,
    options: &AttachmentOptions,
    labels: &BTreeMap<String, String>,
    ticket: &Ticket,
) -> Option<Result<(Value, PreviewFile), Issue>> {
    if ticket.findings.is_empty() {
        return None;
    }
    let file = match generate(ticket, options, labels, client.env().now_unix()) {
        Ok(file) => file,
        Err(AttachmentError::InvalidOptions(mut issues)) if !issues.is_empty() => {
            return Some(Err(issues.remove(0)));
        }
        Err(e) => {
            let rule = if matches!(e, AttachmentError::TooLarge { .. }) {
                "max-size"
            } else {
                "generation"
            };
            return Some(Err(Issue::new("attachments", rule, e.to_string())));
        }
    };
    let placeholder = format!(
        "{}/_apis/wit/attachments/{{upload-id}}?fileName={}",
        client.target().base(),
        query_value(&file.file_name)
    );
    let digest = digest(ticket, options, labels);
    let op = relation_op(&placeholder, &comment(ticket, options, &digest));
    Some(Ok((
        op,
        PreviewFile {
            size: file.bytes.len() as u64,
            file_name: file.file_name,
        },
    )))
}
