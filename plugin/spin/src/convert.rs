//! The only place the API's JSON types and core types meet, including the
//! HTTP status and code of each core error.

use ado_connector_core::connection::ConnectionInfo;
use ado_connector_core::dispatch::Preview;
use ado_connector_core::model::{self as core, Link};
use ado_connector_core::schema::{FieldInfo, StateCategory, StateInfo, WorkItemType};
use ado_connector_core::sync::{Conflict, PushOutcome, StateChange, Transition};
use ado_connector_core::target::Deployment;
use ado_connector_core::webhook::{Subscription, TicketUpdate};
use ado_connector_core::{ConnectorError, Issue};
use serde_json::Value;
use ticketing_model::ticket_json;

use crate::api;
use crate::error::ApiError;

/// An API ticket as a core ticket, read by the one ticket JSON format
/// (`ticketing_model::ticket_json`, the host's too): every bad member is named.
pub fn ticket(t: &api::Ticket) -> Result<core::Ticket, ApiError> {
    let value = serde_json::to_value(t).map_err(|e| ApiError::malformed_json(&e))?;
    ticket_json::from_value(value).map_err(|e| {
        let issues: Vec<Issue> = e
            .issues
            .into_iter()
            .map(|i| Issue::new(format!("ticket.{}", i.path), i.rule, i.message))
            .collect();
        ApiError::new(422, "invalid_ticket", "the ticket has invalid members").issues(issues)
    })
}

fn comment_out(c: &core::Comment) -> api::Comment {
    api::Comment {
        id: c.id.clone(),
        author: c.author.clone(),
        created: c.created.clone(),
        text: c.text.clone(),
    }
}

/// A field value as JSON (the ticket format's).
pub fn value_json(v: &core::FieldValue) -> Value {
    ticket_json::value_json(v)
}

/// The ticket as last sent, after a webhook update: the `before` of the
/// next sync. Applied as every host applies it (`ticketing_model::update`).
pub fn apply_update(snapshot: &mut api::Ticket, update: &TicketUpdate) {
    let Ok(mut model) = ticket(snapshot) else {
        // A stored snapshot was accepted when it was stored; should it not
        // read back, the update still reaches the feed, only the baseline waits.
        return;
    };
    ticketing_model::update::apply_update(&mut model, &update.fields, &update.comments);
    if let Ok(back) = serde_json::from_value(ticket_json::to_value(&model)) {
        *snapshot = back;
    }
}

/// The change-feed entry of a webhook update.
pub fn change(
    cursor: u64,
    update: &TicketUpdate,
    delivery: &ado_connector_core::webhook::Delivery,
    received_at: u64,
) -> api::Change {
    api::Change {
        cursor,
        ticket_id: update.link.ticket_id.clone(),
        work_item_id: update.link.work_item_id,
        event_id: delivery.event_id.clone(),
        event_type: delivery.event_type.clone(),
        fields: update
            .fields
            .iter()
            .map(|f| (f.name.clone(), value_json(&f.value)))
            .collect(),
        comments: update.comments.iter().map(comment_out).collect(),
        deleted: update.deleted,
        received_at,
    }
}

pub fn link(l: &Link) -> api::Link {
    api::Link {
        ticket_id: l.ticket_id.clone(),
        project: l.project.clone(),
        work_item_type: l.work_item_type.clone(),
        work_item_id: l.work_item_id,
        rev: l.rev,
        url: l.url.clone(),
        web_url: l.web_url.clone(),
    }
}

/// The API's link and core's sync state as core's link.
pub fn link_in(l: &api::Link, sync_state: &str) -> Link {
    Link {
        ticket_id: l.ticket_id.clone(),
        project: l.project.clone(),
        work_item_type: l.work_item_type.clone(),
        work_item_id: l.work_item_id,
        rev: l.rev,
        url: l.url.clone(),
        web_url: l.web_url.clone(),
        sync_state: sync_state.to_string(),
    }
}

pub fn connection_info(i: ConnectionInfo) -> api::ConnectionInfo {
    api::ConnectionInfo {
        user: api::Identity {
            id: i.user.id,
            display_name: i.user.display_name,
        },
        organization: i.organization,
        deployment: match i.deployment {
            Deployment::Services => "services",
            Deployment::Server => "server",
        },
        project_id: i.project_id,
        project_name: i.project_name,
        process_template: i.process_template,
    }
}

pub fn work_item_type(t: WorkItemType) -> api::WorkItemType {
    api::WorkItemType {
        name: t.name,
        reference_name: t.reference_name,
        description: t.description,
        is_disabled: t.is_disabled,
    }
}

pub fn field_info(f: FieldInfo) -> api::FieldInfo {
    let input_type = serde_json::to_value(f.input_type)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    api::FieldInfo {
        reference_name: f.reference_name,
        name: f.name,
        input_type,
        required: f.required,
        read_only: f.read_only,
        allowed_values: f.allowed_values,
        default_value: f.default_value,
        help_text: f.help_text,
    }
}

pub fn state_info(s: StateInfo) -> api::StateInfo {
    api::StateInfo {
        name: s.name,
        category: match s.category {
            StateCategory::Proposed => "Proposed".into(),
            StateCategory::InProgress => "InProgress".into(),
            StateCategory::Resolved => "Resolved".into(),
            StateCategory::Completed => "Completed".into(),
            StateCategory::Removed => "Removed".into(),
            StateCategory::Other(o) => o,
        },
        color: s.color,
    }
}

pub fn preview(p: Preview) -> api::Preview {
    api::Preview {
        method: p.method,
        url: p.url,
        body: serde_json::from_str(&p.body).unwrap_or(Value::String(p.body)),
        problems: p.problems,
        attachment: p.attachment.map(|a| api::AttachmentPreview {
            file_name: a.file_name,
            size: a.size,
        }),
    }
}

fn transition(t: Transition) -> api::Transition {
    api::Transition {
        from: t.from,
        to: t.to,
        reason: t.reason,
        note: t.note,
    }
}

fn conflict(c: Conflict) -> api::Conflict {
    api::Conflict {
        field: c.field,
        ticket_value: c.ticket_value,
        ado_value: c.ado_value,
        resolution: c.resolution,
    }
}

pub fn sync_result(o: PushOutcome) -> api::SyncResult {
    api::SyncResult {
        link: link(&o.link),
        fields_sent: o.fields_sent,
        comments_posted: o.comments_posted,
        triggers_posted: o.triggers_posted,
        conflicts: o.conflicts.into_iter().map(conflict).collect(),
        transition: o.transition.map(transition),
    }
}

pub fn close_result(c: StateChange) -> api::CloseResult {
    api::CloseResult {
        link: link(&c.link),
        transition: c.transition.map(transition),
    }
}

/// A closed item of a bulk close.
pub fn bulk_closed(ticket_id: &str, c: StateChange) -> api::BulkCloseItem {
    api::BulkCloseItem {
        ticket_id: ticket_id.to_string(),
        status: if c.transition.is_some() {
            "closed"
        } else {
            "already_closed"
        },
        transition: c.transition.map(transition),
        error: None,
    }
}

/// A failed item of a bulk close.
pub fn bulk_failed(ticket_id: &str, e: ApiError) -> api::BulkCloseItem {
    api::BulkCloseItem {
        ticket_id: ticket_id.to_string(),
        status: "failed",
        transition: None,
        error: Some(*e.body),
    }
}

pub fn subscription(s: Subscription) -> api::Subscription {
    api::Subscription {
        id: s.id,
        event_type: s.event_type,
        status: s.status,
    }
}

/// A core error as an API error: ADO's failures are 502s, the caller's are 4xx.
pub fn error(e: ConnectorError) -> ApiError {
    let message = e.to_string();
    match e {
        ConnectorError::Unauthorized(p) => {
            ApiError::new(502, "ado_unauthorized", p.message).remediation(p.remediation)
        }
        ConnectorError::Forbidden(p) => {
            ApiError::new(403, "ado_forbidden", p.message).remediation(p.remediation)
        }
        ConnectorError::NotFound(p) => {
            ApiError::new(404, "not_found", p.message).remediation(p.remediation)
        }
        ConnectorError::Conflict(p) => {
            ApiError::new(409, "conflict", p.message).remediation(p.remediation)
        }
        ConnectorError::RateLimited(after) => {
            let mut e = ApiError::new(429, "rate_limited", message);
            e.body.retry_after = Some(after.max(1));
            e
        }
        ConnectorError::InvalidConfig(issues) => {
            ApiError::new(422, "invalid_config", message).issues(issues)
        }
        ConnectorError::Validation(issues) => {
            ApiError::new(422, "validation_failed", message).issues(issues)
        }
        ConnectorError::Remote { status, .. } => {
            let mut e = ApiError::new(502, "ado_error", message);
            e.body.ado_status = Some(status);
            e
        }
        ConnectorError::Denied(_) => ApiError::new(502, "egress_denied", message).remediation(
            "add the host to `allowed_outbound_hosts` in spin.toml (through its variables)",
        ),
        ConnectorError::Transport(_) => ApiError::new(502, "ado_unreachable", message),
        ConnectorError::Unsupported(_) => ApiError::new(501, "unsupported", message),
        ConnectorError::Other(_) => ApiError::new(500, "connector_error", message),
    }
}
