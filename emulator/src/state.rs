//! The emulator's data: projects, identities, tokens and work items.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::time::{Duration, Instant};

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

/// Everything mutable, behind one lock.
#[derive(Debug, Default)]
pub struct Data {
    pub pats: HashMap<String, (Identity, Scope)>,
    pub tokens: HashMap<String, (Identity, Instant)>,
    pub refresh_tokens: HashMap<String, Identity>,
    pub work_items: HashMap<i32, StoredItem>,
    pub next_id: i32,
    /// Revisions, recycle bin, comments and attachments.
    pub store: crate::store::WorkStore,
    /// Area and iteration trees by project id.
    pub trees: HashMap<String, crate::classification::Trees>,
    /// Classification node ids are unique in the organization.
    pub next_node_id: i32,
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

/// Shared state of one emulator.
#[derive(Debug)]
pub struct Emu {
    pub organization: String,
    pub tenant_id: String,
    pub instance_id: String,
    pub projects: Vec<Project>,
    pub apps: Vec<App>,
    pub token_lifetime: Duration,
    pub data: Mutex<Data>,
    pub requests: AtomicU64,
    pub sign_in_page_mode: AtomicBool,
    /// Set once the listener is bound: `http://127.0.0.1:PORT`.
    pub base_url: Mutex<String>,
    /// Every committed work item change, in order (see `events`).
    pub events: Mutex<Vec<crate::events::WorkItemEvent>>,
    /// Service hook subscriptions and deliveries (own lock).
    pub hooks: crate::hooks::Hooks,
    /// Injected faults (own lock).
    pub faults: crate::faults::FaultState,
    /// Per-identity rate limiting (own lock).
    pub limiter: crate::ratelimit::Limiter,
    /// Settings for behaviours no ADO source decides.
    pub variants: crate::variants::Variants,
    /// REST calls by route and status, for `/_emulator/requests`.
    pub counts: crate::requests::Counter,
    /// Azure DevOps Server mode, if on.
    pub server: Option<crate::server::ServerMode>,
    /// The seeded setup mistakes (expired secret, project membership).
    pub setup: crate::setup::Setup,
}

impl Emu {
    pub fn data(&self) -> std::sync::MutexGuard<'_, Data> {
        self.data.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn project(&self, id_or_name: &str) -> Option<&Project> {
        self.projects.iter().find(|p| {
            p.id.eq_ignore_ascii_case(id_or_name) || p.name.eq_ignore_ascii_case(id_or_name)
        })
    }

    pub fn base_url(&self) -> String {
        self.base_url
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}
