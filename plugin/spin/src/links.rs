//! Links in key-value storage: `link:{ticket id}` holds the work item link
//! (with core's opaque sync state), the outegration config it was dispatched
//! with, and the ticket as last sent (the `before` of the next sync);
//! `workitem:{id}` points back at the ticket for the webhook.

use ado_connector_core::model::Link;
use serde::{Deserialize, Serialize};

use crate::platform::{Platform, StoreError};
use crate::{api, convert};

/// Everything the service remembers about one dispatched ticket.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub link: api::Link,
    /// Core's opaque sync state of the link.
    pub sync_state: String,
    pub config: String,
    pub snapshot: api::Ticket,
}

impl Record {
    pub fn new(link: &Link, config: String, snapshot: api::Ticket) -> Record {
        Record {
            link: convert::link(link),
            sync_state: link.sync_state.clone(),
            config,
            snapshot,
        }
    }

    /// The link as core takes it.
    pub fn core_link(&self) -> Link {
        convert::link_in(&self.link, &self.sync_state)
    }

    /// Keeps the link core returned.
    pub fn set_link(&mut self, link: &Link) {
        self.link = convert::link(link);
        self.sync_state = link.sync_state.clone();
    }
}

fn link_key(ticket_id: &str) -> String {
    format!("link:{ticket_id}")
}

fn work_item_key(id: i32) -> String {
    format!("workitem:{id}")
}

fn unreadable(key: &str, e: serde_json::Error) -> StoreError {
    StoreError(format!("`{key}` is not readable: {e}"))
}

/// The record of a ticket, if it was dispatched.
pub fn get(p: &dyn Platform, ticket_id: &str) -> Result<Option<Record>, StoreError> {
    let key = link_key(ticket_id);
    p.kv_get(&key)?
        .map(|bytes| serde_json::from_slice(&bytes).map_err(|e| unreadable(&key, e)))
        .transpose()
}

/// The ticket linked to a work item.
pub fn ticket_of(p: &dyn Platform, work_item_id: i32) -> Result<Option<String>, StoreError> {
    Ok(p.kv_get(&work_item_key(work_item_id))?
        .map(|b| String::from_utf8_lossy(&b).into_owned()))
}

/// Stores a record and its work item index.
pub fn put(p: &dyn Platform, record: &Record) -> Result<(), StoreError> {
    let bytes = serde_json::to_vec(record).map_err(|e| StoreError(e.to_string()))?;
    p.kv_set(&link_key(&record.link.ticket_id), &bytes)?;
    p.kv_set(
        &work_item_key(record.link.work_item_id),
        record.link.ticket_id.as_bytes(),
    )
}
