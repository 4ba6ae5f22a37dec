//! The emulator's leaf data types: identities, what a credential may do,
//! projects, app registrations and stored work items. Every other module
//! may use these; they use nothing of the emulator's but the process
//! definitions.

use std::sync::Arc;

use serde_json::Value;

use crate::process::Process;

/// Someone ADO knows.
#[derive(Debug, Clone)]
pub struct Identity {
    pub id: String,
    pub display_name: String,
    pub unique_name: String,
    /// Service principals must be added to the organization to be let in.
    pub member_of_org: bool,
}

/// What a credential may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Full,
    ProjectRead,
    /// Work Items (Read), `vso.work`, without Read & write (see `setup`).
    WorkRead,
}

/// A project.
#[derive(Debug, Clone)]
pub struct Project {
    pub id: String,
    pub name: String,
    pub process: Arc<Process>,
}

/// An app registration in the tenant.
#[derive(Debug, Clone)]
pub struct App {
    pub client_id: String,
    pub secret: String,
    pub identity: Identity,
}

/// A stored work item.
#[derive(Debug, Clone)]
pub struct StoredItem {
    pub id: i32,
    pub rev: i32,
    pub project_id: String,
    pub fields: serde_json::Map<String, Value>,
    pub relations: Vec<Value>,
}
