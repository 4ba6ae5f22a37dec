//! What the emulator keeps about work items besides their current state:
//! every revision, the recycle bin, discussion comments and uploaded
//! attachments. It lives inside `data::Data`, behind the one data lock.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};

use crate::model::{Identity, StoredItem};

/// ADO's documented per-attachment upload limit ("accounts with higher
/// attachment upload limits (>130MB)" need chunked upload). [unverified]
/// whether MB means 10^6 or 2^20 bytes; we take 2^20.
pub const ATTACHMENT_LIMIT: usize = 130 * 1024 * 1024;

/// One revision of a work item, as `.../revisions/{rev}` returns it.
#[derive(Debug, Clone)]
pub struct Revision {
    pub rev: i32,
    pub fields: Map<String, Value>,
    pub relations: Vec<Value>,
    /// IdentityRef of who made the revision.
    pub by: Value,
    /// When the revision was made (its `System.ChangedDate`).
    pub date: String,
}

/// A work item in the recycle bin.
#[derive(Debug, Clone)]
pub struct Deleted {
    pub item: StoredItem,
    pub by: Identity,
    /// Already in the recycle bin's date format.
    pub date: String,
}

/// A discussion comment (`Comment` in the 7.1 spec).
#[derive(Debug, Clone)]
pub struct Comment {
    pub id: i32,
    pub work_item_id: i32,
    pub version: i32,
    pub text: String,
    /// `markdown` or `html`.
    pub format: String,
    pub rendered_text: String,
    pub created_by: Value,
    pub created_date: String,
    pub modified_by: Value,
    pub modified_date: String,
    pub is_deleted: bool,
}

/// An uploaded attachment.
#[derive(Clone)]
pub struct Attachment {
    pub file_name: String,
    pub bytes: axum::body::Bytes,
}

// The bytes are left out on purpose: they can be 130 MB.
impl std::fmt::Debug for Attachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attachment")
            .field("file_name", &self.file_name)
            .field("size", &self.bytes.len())
            .finish()
    }
}

/// Work item history, recycle bin, comments and attachments.
#[derive(Debug, Default)]
pub struct WorkStore {
    /// Revisions of each live or deleted work item, oldest first.
    pub history: HashMap<i32, Vec<Revision>>,
    pub recycle_bin: BTreeMap<i32, Deleted>,
    /// Comments of each work item, oldest first.
    pub comments: HashMap<i32, Vec<Comment>>,
    /// Comment ids are unique in the organization.
    pub next_comment_id: i32,
    pub attachments: HashMap<String, Attachment>,
    /// Resource links (Hyperlink, AttachedFile) get an `attributes.id`.
    pub next_link_id: i64,
    /// Overrides `ATTACHMENT_LIMIT` (tests use a small one).
    pub attachment_limit: Option<usize>,
}
