//! Everything mutable about work items and credentials, behind the one data
//! lock.

use std::collections::HashMap;
use std::time::Instant;

use crate::classification::Trees;
use crate::model::{Identity, Scope, StoredItem};
use crate::store::WorkStore;

/// Everything mutable, behind one lock.
#[derive(Debug, Default)]
pub struct Data {
    pub pats: HashMap<String, (Identity, Scope)>,
    pub tokens: HashMap<String, (Identity, Instant)>,
    pub refresh_tokens: HashMap<String, Identity>,
    pub work_items: HashMap<i32, StoredItem>,
    pub next_id: i32,
    /// Revisions, recycle bin, comments and attachments.
    pub store: WorkStore,
    /// Area and iteration trees by project id.
    pub trees: HashMap<String, Trees>,
    /// Classification node ids are unique in the organization.
    pub next_node_id: i32,
}
