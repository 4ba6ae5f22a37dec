//! Finding attachments: a ticket's findings as a CSV, JSONL, XLSX or PDF file
//! with configurable columns, sorted by severity, and the upload of such a
//! file to Azure DevOps.
//!
//! Generation is pure (no I/O, no clock: the caller passes the time), so it
//! runs the same in the plugin, in Spin and in native tests. Every format is
//! refused with [`AttachmentError::TooLarge`] when it exceeds
//! [`ADO_ATTACHMENT_LIMIT`], before anything is sent.
//!
//! Known limits of the PDF: one regular weight (headers are drawn bold by
//! outlining the glyphs); characters neither DejaVu Sans nor Droid Sans
//! Fallback has (Indic and Thai scripts, CJK Extension A/B, emoji beyond
//! DejaVu's monochrome emoticons) are drawn as an empty box and missing
//! from the extracted text. Extracted right-to-left text comes back in
//! visual order, as drawn.

mod attach;
mod columns;
mod csv;
mod font;
mod jsonl;
mod options;
mod pdf;
pub mod refresh;
mod text;
mod upload;
mod xlsx;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::error::{ConnectorError, Issue};
use crate::model::Ticket;

pub use attach::{
    AttachedFile, PreviewFile, attach, comment, digest_marker, for_dispatch, preview, preview_op,
    relation_op,
};
pub use columns::{Cell, Table, severity_rank};
pub use options::{
    AttachmentFormat, AttachmentOptions, Column, DEFAULT_COLUMNS, DEFAULT_FILE_NAME, OnSync,
};
pub use refresh::refresh;
pub use upload::{UploadedAttachment, upload_attachment, upload_attachment_limited};

/// The largest attachment Azure DevOps accepts in one simple upload:
/// 130 MB (the REST reference requires chunked uploads above it). The
/// emulator enforces the same number.
pub const ADO_ATTACHMENT_LIMIT: usize = 130 * 1024 * 1024;

/// A generated file, ready to upload.
#[derive(Debug, Clone, PartialEq)]
pub struct Attachment {
    pub file_name: String,
    /// MIME type of the format.
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

/// Why an attachment could not be produced or uploaded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AttachmentError {
    #[error(
        "the attachment `{file_name}` is {size} bytes, more than Azure DevOps accepts ({limit} bytes); choose fewer columns or a more compact format (CSV or JSONL)"
    )]
    TooLarge {
        file_name: String,
        size: usize,
        limit: usize,
    },
    #[error("could not write the {format} attachment: {reason}")]
    Generation {
        format: AttachmentFormat,
        reason: String,
    },
    #[error("invalid attachment options: {}", .0.iter().map(Issue::to_string).collect::<Vec<_>>().join("; "))]
    InvalidOptions(Vec<Issue>),
}

impl From<AttachmentError> for ConnectorError {
    fn from(err: AttachmentError) -> Self {
        match err {
            AttachmentError::TooLarge { .. } => ConnectorError::Validation(vec![Issue::new(
                "attachments",
                "max-size",
                err.to_string(),
            )]),
            AttachmentError::InvalidOptions(issues) => ConnectorError::InvalidConfig(issues),
            AttachmentError::Generation { .. } => ConnectorError::Other(err.to_string()),
        }
    }
}

/// Refuses `size` bytes over [`ADO_ATTACHMENT_LIMIT`], naming the file.
pub fn check_size(file_name: &str, size: usize) -> Result<(), AttachmentError> {
    check_size_against(file_name, size, ADO_ATTACHMENT_LIMIT)
}

fn check_size_against(file_name: &str, size: usize, limit: usize) -> Result<(), AttachmentError> {
    if size > limit {
        return Err(AttachmentError::TooLarge {
            file_name: file_name.to_string(),
            size,
            limit,
        });
    }
    Ok(())
}

/// Writes the ticket's findings in the chosen format. `labels` are the
/// config's own label → field names (besides the built-in ones); `now_unix`
/// dates the file name and the PDF.
pub fn generate(
    ticket: &Ticket,
    options: &AttachmentOptions,
    labels: &BTreeMap<String, String>,
    now_unix: u64,
) -> Result<Attachment, AttachmentError> {
    let issues = options.validate("attachments");
    if !issues.is_empty() {
        return Err(AttachmentError::InvalidOptions(issues));
    }
    let table = Table::new(ticket, &options.resolved_columns(labels));
    let fail = |reason: String| AttachmentError::Generation {
        format: options.format,
        reason,
    };
    let bytes = match options.format {
        AttachmentFormat::Csv => csv::write(&table).map_err(fail)?,
        AttachmentFormat::Jsonl => jsonl::write(&table).map_err(fail)?,
        AttachmentFormat::Xlsx => xlsx::write(&table, ticket).map_err(fail)?,
        AttachmentFormat::Pdf => pdf::write(&table, ticket, now_unix).map_err(fail)?,
    };
    let file_name = options.file_name_for(ticket, now_unix);
    check_size_against(&file_name, bytes.len(), options.limit())?;
    Ok(Attachment {
        file_name,
        content_type: options.format.content_type(),
        bytes,
    })
}

/// A digest of what the file shows: format, columns and every finding's
/// cells in severity order (SHA-256, hex). Unchanged findings give the same
/// digest whatever the date, so a sync attaches a new version only when the
/// content changed.
pub fn digest(
    ticket: &Ticket,
    options: &AttachmentOptions,
    labels: &BTreeMap<String, String>,
) -> String {
    use sha2::{Digest, Sha256};
    let table = Table::new(ticket, &options.resolved_columns(labels));
    let mut hash = Sha256::new();
    hash.update(options.format.extension().as_bytes());
    for header in table.headers() {
        hash.update(b"\0");
        hash.update(header.as_bytes());
    }
    hash.update(b"\n");
    // The JSONL rendering is typed, ordered and cheap; a failure (none is
    // known) only makes the digest coarser.
    hash.update(jsonl::write(&table).unwrap_or_default());
    let mut hex = String::with_capacity(64);
    for byte in hash.finalize() {
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

#[cfg(test)]
mod tests;
