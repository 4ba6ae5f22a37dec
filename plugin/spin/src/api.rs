//! The JSON of the `/v1` API, as documented in `openapi.json`. Requests
//! refuse unknown members; responses are plain data.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A SecOps ticket (the ticket file format of `examples/tickets/`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ticket {
    pub id: String,
    pub url: String,
    /// A field named twice is refused, as the host's ticket files refuse it.
    #[serde(
        default,
        deserialize_with = "ticketing_model::ticket_json::unique_members"
    )]
    pub fields: Map<String, Value>,
    #[serde(default)]
    pub findings: Vec<Finding>,
    #[serde(default)]
    pub comments: Vec<Comment>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    pub id: String,
    #[serde(default = "open")]
    pub status: String,
    #[serde(
        default,
        deserialize_with = "ticketing_model::ticket_json::unique_members"
    )]
    pub fields: Map<String, Value>,
}

fn open() -> String {
    "open".into()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Comment {
    pub id: String,
    pub author: String,
    pub created: String,
    pub text: String,
}

/// An outegration config: the JSON document, or a string holding it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ConfigDoc {
    Text(String),
    Document(Map<String, Value>),
}

impl ConfigDoc {
    pub fn text(&self) -> String {
        match self {
            ConfigDoc::Text(t) => t.clone(),
            ConfigDoc::Document(d) => Value::Object(d.clone()).to_string(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidateConfigRequest {
    pub config: ConfigDoc,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    pub config: ConfigDoc,
    pub ticket: Ticket,
    #[serde(default)]
    pub validate_remote: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DispatchRequest {
    pub config: ConfigDoc,
    pub ticket: Ticket,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncRequest {
    pub ticket: Ticket,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloseRequest {
    pub ticket_id: String,
    #[serde(default)]
    pub reason: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkCloseRequest {
    pub ticket_ids: Vec<String>,
    #[serde(default)]
    pub reason: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscribeRequest {
    pub config: ConfigDoc,
    /// Where ADO reaches this service: `{public_url}/v1/webhooks/ado`.
    pub public_url: String,
}

/// A ticket's work item, as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Link {
    pub ticket_id: String,
    pub project: String,
    pub work_item_type: String,
    pub work_item_id: i32,
    pub rev: i32,
    pub url: String,
    pub web_url: String,
}

#[derive(Debug, Serialize)]
pub struct Identity {
    pub id: String,
    pub display_name: String,
}

#[derive(Debug, Serialize)]
pub struct ConnectionInfo {
    pub user: Identity,
    pub organization: String,
    pub deployment: &'static str,
    pub project_id: String,
    pub project_name: String,
    pub process_template: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct WorkItemType {
    pub name: String,
    pub reference_name: String,
    pub description: String,
    pub is_disabled: bool,
}

#[derive(Debug, Serialize)]
pub struct FieldInfo {
    pub reference_name: String,
    pub name: String,
    pub input_type: String,
    pub required: bool,
    pub read_only: bool,
    pub allowed_values: Vec<String>,
    pub default_value: Option<String>,
    pub help_text: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct StateInfo {
    pub name: String,
    pub category: String,
    pub color: String,
}

#[derive(Debug, Serialize)]
pub struct Preview {
    pub method: String,
    pub url: String,
    /// The JSON Patch document that would be sent.
    pub body: Value,
    pub problems: Vec<ado_connector_core::Issue>,
    /// The findings file the dispatch would upload; absent without one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachment: Option<AttachmentPreview>,
}

/// A preview's findings file: generated, not uploaded.
#[derive(Debug, Serialize)]
pub struct AttachmentPreview {
    pub file_name: String,
    /// Size in bytes.
    pub size: u64,
}

#[derive(Debug, Serialize)]
pub struct Transition {
    pub from: String,
    pub to: String,
    pub reason: String,
    pub note: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Conflict {
    pub field: String,
    pub ticket_value: Value,
    pub ado_value: Value,
    pub resolution: String,
}

#[derive(Debug, Serialize)]
pub struct SyncResult {
    pub link: Link,
    pub fields_sent: Vec<String>,
    pub comments_posted: u32,
    pub triggers_posted: u32,
    pub conflicts: Vec<Conflict>,
    pub transition: Option<Transition>,
}

#[derive(Debug, Serialize)]
pub struct CloseResult {
    pub link: Link,
    /// `None` when the work item was already closed.
    pub transition: Option<Transition>,
}

/// One item of a bulk close.
#[derive(Debug, Serialize)]
pub struct BulkCloseItem {
    pub ticket_id: String,
    /// `closed`, `already_closed` or `failed`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transition: Option<Transition>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<crate::error::ErrorBody>,
}

#[derive(Debug, Serialize)]
pub struct Subscription {
    pub id: String,
    pub event_type: String,
    pub status: String,
}

/// A ticket change that came from ADO, as the change feed and the callback carry it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Change {
    pub cursor: u64,
    pub ticket_id: String,
    pub work_item_id: i32,
    pub event_id: String,
    pub event_type: String,
    /// Ticket fields to set, by system name.
    pub fields: Map<String, Value>,
    pub comments: Vec<Comment>,
    /// `true`: the work item was deleted; `false`: restored.
    pub deleted: Option<bool>,
    /// Unix time the delivery was received.
    pub received_at: u64,
}

#[derive(Debug, Serialize)]
pub struct ChangePage {
    pub changes: Vec<Change>,
    /// Pass it as `cursor` to read on; equal to the request's when nothing is new.
    pub next_cursor: u64,
}

/// A change whose forwarding to the callback has not succeeded yet.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingForward {
    pub cursor: u64,
    pub attempts: u32,
    pub last_error: String,
}

#[derive(Debug, Serialize)]
pub struct FlushResult {
    pub forwarded: Vec<u64>,
    pub pending: Vec<PendingForward>,
}

/// What the webhook endpoint did with a delivery.
#[derive(Debug, Serialize)]
pub struct WebhookResult {
    /// `applied`, `duplicate` or `ignored`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}
