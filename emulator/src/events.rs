//! Work item events, the seam between the routes that change work items and
//! the service hooks that deliver them: every committed change publishes one
//! event, in commit order (`commit::Journal::publish`).

use serde_json::Value;

use crate::model::{Identity, StoredItem};

/// What happened to a work item (the service hook event types).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// `workitem.created`
    Created,
    /// `workitem.updated`
    Updated,
    /// `workitem.commented`
    Commented,
    /// `workitem.deleted`
    Deleted,
    /// `workitem.restored`
    Restored,
}

impl EventKind {
    /// The service hook event type id.
    pub fn event_type(self) -> &'static str {
        match self {
            EventKind::Created => "workitem.created",
            EventKind::Updated => "workitem.updated",
            EventKind::Commented => "workitem.commented",
            EventKind::Deleted => "workitem.deleted",
            EventKind::Restored => "workitem.restored",
        }
    }
}

/// One committed change.
#[derive(Debug, Clone)]
pub struct WorkItemEvent {
    pub kind: EventKind,
    /// The item after the change.
    pub item: StoredItem,
    /// The item before the change (updates, comments, deletes, restores).
    pub previous: Option<StoredItem>,
    /// The comment, as the comments API returns it (`Commented` only).
    pub comment: Option<Value>,
    /// Who made the change.
    pub actor: Identity,
    /// The change was made with `suppressNotifications=true`: it is
    /// committed and recorded, and service hooks may skip it.
    pub suppress_notifications: bool,
}
