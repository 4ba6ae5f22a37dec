//! The only place WIT values and core types meet.

use ado_connector_core::env::{self as core_env, HttpError, HttpRequest, HttpResponse};
use ado_connector_core::model::{self as core, Secret};
use ado_connector_core::schema::{self as core_schema, InputType, StateCategory};
use ado_connector_core::target::Deployment;
use ado_connector_core::{
    ConnectorError, Issue, Problem, connection as core_connection, dispatch as core_dispatch,
    sync as core_sync, webhook as core_webhook,
};

use crate::bindings::exports::secops::ticketing::{auth, dispatch, schema, sync, webhook};
use crate::bindings::secops::ticketing::{http, types};

pub fn request(r: HttpRequest) -> http::Request {
    http::Request {
        method: match r.method {
            core_env::Method::Get => http::Method::Get,
            core_env::Method::Head => http::Method::Head,
            core_env::Method::Post => http::Method::Post,
            core_env::Method::Put => http::Method::Put,
            core_env::Method::Patch => http::Method::Patch,
            core_env::Method::Delete => http::Method::Delete,
            core_env::Method::Options => http::Method::Options,
        },
        url: r.url,
        headers: r.headers,
        body: r.body,
    }
}

pub fn response(r: http::Response) -> HttpResponse {
    HttpResponse {
        status: r.status,
        headers: r.headers,
        body: r.body,
    }
}

pub fn http_error(e: http::HttpError) -> HttpError {
    match e {
        http::HttpError::Denied(s) => HttpError::Denied(s),
        http::HttpError::Timeout => HttpError::Timeout,
        http::HttpError::Transport(s) => HttpError::Transport(s),
        http::HttpError::TooLarge => HttpError::TooLarge,
        http::HttpError::Other(s) => HttpError::Other(s),
    }
}

pub fn connection(c: types::Connection) -> core::Connection {
    core::Connection {
        base_url: c.base_url,
        project: c.project,
        credentials: match c.credentials {
            types::Credentials::Pat(p) => core::Credentials::Pat(Secret(p)),
            types::Credentials::AccessToken(t) => core::Credentials::AccessToken(Secret(t)),
            types::Credentials::ClientCredentials(cc) => core::Credentials::ClientCredentials {
                tenant_id: cc.tenant_id,
                client_id: cc.client_id,
                client_secret: Secret(cc.client_secret),
                authority: cc.authority,
            },
            types::Credentials::RefreshToken(rt) => core::Credentials::RefreshToken {
                tenant_id: rt.tenant_id,
                client_id: rt.client_id,
                client_secret: rt.client_secret.map(Secret),
                refresh_token: Secret(rt.refresh_token),
                authority: rt.authority,
            },
        },
    }
}

fn field_value(v: types::FieldValue) -> core::FieldValue {
    match v {
        types::FieldValue::Null => core::FieldValue::Null,
        types::FieldValue::Text(s) => core::FieldValue::Text(s),
        types::FieldValue::Integer(i) => core::FieldValue::Integer(i),
        types::FieldValue::Number(n) => core::FieldValue::Number(n),
        types::FieldValue::Boolean(b) => core::FieldValue::Boolean(b),
        types::FieldValue::DateTime(s) => core::FieldValue::DateTime(s),
        types::FieldValue::TextList(l) => core::FieldValue::TextList(l),
    }
}

fn fields(list: Vec<types::Field>) -> Vec<core::Field> {
    list.into_iter()
        .map(|f| core::Field {
            name: f.name,
            value: field_value(f.value),
        })
        .collect()
}

pub fn ticket(t: types::Ticket) -> core::Ticket {
    core::Ticket {
        id: t.id,
        url: t.url,
        fields: fields(t.fields),
        findings: t
            .findings
            .into_iter()
            .map(|f| core::Finding {
                id: f.id,
                status: f.status,
                fields: fields(f.fields),
            })
            .collect(),
        comments: t
            .comments
            .into_iter()
            .map(|c| core::Comment {
                id: c.id,
                author: c.author,
                created: c.created,
                text: c.text,
            })
            .collect(),
    }
}

pub fn link(l: core::Link) -> types::Link {
    types::Link {
        ticket_id: l.ticket_id,
        project: l.project,
        work_item_type: l.work_item_type,
        work_item_id: l.work_item_id,
        rev: l.rev,
        url: l.url,
        web_url: l.web_url,
        sync_state: l.sync_state,
    }
}

pub fn link_in(l: types::Link) -> core::Link {
    core::Link {
        ticket_id: l.ticket_id,
        project: l.project,
        work_item_type: l.work_item_type,
        work_item_id: l.work_item_id,
        rev: l.rev,
        url: l.url,
        web_url: l.web_url,
        sync_state: l.sync_state,
    }
}

/// A work item field value (JSON) as a WIT field value.
fn json_value(v: serde_json::Value) -> types::FieldValue {
    field_value_out(ado_connector_core::mapping::from_json(&v))
}

/// A core field value as a WIT field value.
fn field_value_out(v: core::FieldValue) -> types::FieldValue {
    match v {
        core::FieldValue::Null => types::FieldValue::Null,
        core::FieldValue::Text(s) => types::FieldValue::Text(s),
        core::FieldValue::Integer(i) => types::FieldValue::Integer(i),
        core::FieldValue::Number(n) => types::FieldValue::Number(n),
        core::FieldValue::Boolean(b) => types::FieldValue::Boolean(b),
        core::FieldValue::DateTime(s) => types::FieldValue::DateTime(s),
        core::FieldValue::TextList(l) => types::FieldValue::TextList(l),
    }
}

fn transition(t: core_sync::Transition) -> sync::Transition {
    sync::Transition {
        from: t.from,
        to: t.to,
        reason: t.reason,
        note: t.note,
    }
}

pub fn push_outcome(o: core_sync::PushOutcome) -> sync::PushOutcome {
    sync::PushOutcome {
        link: link(o.link),
        fields_sent: o.fields_sent,
        comments_posted: o.comments_posted,
        triggers_posted: o.triggers_posted,
        conflicts: o
            .conflicts
            .into_iter()
            .map(|c| sync::Conflict {
                field: c.field,
                ticket_value: json_value(c.ticket_value),
                ado_value: json_value(c.ado_value),
                resolution: c.resolution,
            })
            .collect(),
        transition: o.transition.map(transition),
    }
}

pub fn state_change(c: core_sync::StateChange) -> sync::StateChange {
    sync::StateChange {
        link: link(c.link),
        transition: c.transition.map(transition),
    }
}

pub fn close_item(i: sync::CloseItem) -> core_sync::CloseItem {
    core_sync::CloseItem {
        config: i.config,
        link: link_in(i.link),
    }
}

pub fn close_outcome(o: core_sync::CloseOutcome) -> sync::CloseOutcome {
    match o {
        core_sync::CloseOutcome::Closed(c) => sync::CloseOutcome::Closed(state_change(c)),
        core_sync::CloseOutcome::AlreadyClosed(l) => sync::CloseOutcome::AlreadyClosed(link(l)),
        core_sync::CloseOutcome::Failed(e) => sync::CloseOutcome::Failed(error(e)),
    }
}

pub fn connection_info(i: core_connection::ConnectionInfo) -> auth::ConnectionInfo {
    auth::ConnectionInfo {
        user: auth::Identity {
            id: i.user.id,
            display_name: i.user.display_name,
        },
        organization: i.organization,
        deployment: match i.deployment {
            Deployment::Services => auth::Deployment::Services,
            Deployment::Server => auth::Deployment::Server,
        },
        project_id: i.project_id,
        project_name: i.project_name,
        process_template: i.process_template,
        api_version: i.api_version,
    }
}

pub fn work_item_type(t: core_schema::WorkItemType) -> schema::WorkItemType {
    schema::WorkItemType {
        name: t.name,
        reference_name: t.reference_name,
        description: t.description,
        is_disabled: t.is_disabled,
    }
}

pub fn field_info(f: core_schema::FieldInfo) -> schema::FieldInfo {
    schema::FieldInfo {
        input_type: match f.input_type {
            InputType::Text => schema::InputType::Text,
            InputType::PlainText => schema::InputType::PlainText,
            InputType::Html => schema::InputType::Html,
            InputType::Integer => schema::InputType::Integer,
            InputType::Double => schema::InputType::Double,
            InputType::DateTime => schema::InputType::DateTime,
            InputType::Boolean => schema::InputType::Boolean,
            InputType::Identity => schema::InputType::Identity,
            InputType::TreePath => schema::InputType::TreePath,
            InputType::PicklistString => schema::InputType::PicklistString,
            InputType::PicklistInteger => schema::InputType::PicklistInteger,
            InputType::PicklistDouble => schema::InputType::PicklistDouble,
            InputType::Guid => schema::InputType::Guid,
            InputType::History => schema::InputType::History,
        },
        reference_name: f.reference_name,
        name: f.name,
        required: f.required,
        read_only: f.read_only,
        allowed_values: f.allowed_values,
        default_value: f.default_value,
        help_text: f.help_text,
    }
}

pub fn state_info(s: core_schema::StateInfo) -> schema::StateInfo {
    schema::StateInfo {
        category: match s.category {
            StateCategory::Proposed => schema::StateCategory::Proposed,
            StateCategory::InProgress => schema::StateCategory::InProgress,
            StateCategory::Resolved => schema::StateCategory::Resolved,
            StateCategory::Completed => schema::StateCategory::Completed,
            StateCategory::Removed => schema::StateCategory::Removed,
            StateCategory::Other(o) => schema::StateCategory::Other(o),
        },
        name: s.name,
        color: s.color,
    }
}

pub fn preview(p: core_dispatch::Preview) -> dispatch::DispatchPreview {
    dispatch::DispatchPreview {
        method: p.method,
        url: p.url,
        body: p.body,
        problems: p.problems.into_iter().map(issue).collect(),
        attachment: p.attachment.map(|a| dispatch::AttachmentPreview {
            file_name: a.file_name,
            size: a.size,
        }),
    }
}

fn issue(i: Issue) -> types::Issue {
    types::Issue {
        path: i.path,
        rule: i.rule,
        message: i.message,
    }
}

fn problem(p: Problem) -> types::Problem {
    types::Problem {
        message: p.message,
        remediation: p.remediation,
    }
}

pub fn error(e: ConnectorError) -> types::ConnectorError {
    match e {
        ConnectorError::Unauthorized(p) => types::ConnectorError::Unauthorized(problem(p)),
        ConnectorError::Forbidden(p) => types::ConnectorError::Forbidden(problem(p)),
        ConnectorError::NotFound(p) => types::ConnectorError::NotFound(problem(p)),
        ConnectorError::Conflict(p) => types::ConnectorError::Conflict(problem(p)),
        ConnectorError::RateLimited(s) => types::ConnectorError::RateLimited(s),
        ConnectorError::InvalidConfig(l) => {
            types::ConnectorError::InvalidConfig(l.into_iter().map(issue).collect())
        }
        ConnectorError::Validation(l) => {
            types::ConnectorError::Validation(l.into_iter().map(issue).collect())
        }
        ConnectorError::Remote {
            status,
            code,
            message,
        } => types::ConnectorError::Remote(types::RemoteError {
            status,
            code,
            message,
        }),
        ConnectorError::Denied(s) => types::ConnectorError::Denied(s),
        ConnectorError::Transport(s) => types::ConnectorError::Transport(s),
        ConnectorError::Unsupported(s) => types::ConnectorError::Unsupported(s),
        ConnectorError::Other(s) => types::ConnectorError::Other(s),
    }
}

pub fn delivery_auth(a: webhook::DeliveryAuth) -> core_webhook::DeliveryAuth {
    match a {
        webhook::DeliveryAuth::Basic((user, password)) => core_webhook::DeliveryAuth::Basic {
            user,
            password: Secret(password),
        },
        webhook::DeliveryAuth::Header((name, value)) => core_webhook::DeliveryAuth::Header {
            name,
            value: Secret(value),
        },
    }
}

pub fn delivery(d: core_webhook::Delivery) -> webhook::Delivery {
    webhook::Delivery {
        event_id: d.event_id,
        event_type: d.event_type,
        work_item_id: d.work_item_id,
        rev: d.rev,
    }
}

pub fn outcome(o: core_webhook::Outcome) -> webhook::Outcome {
    match o {
        core_webhook::Outcome::Ignore(reason) => webhook::Outcome::Ignore(reason),
        core_webhook::Outcome::Apply(u) => webhook::Outcome::Apply(webhook::TicketUpdate {
            link: link(u.link),
            fields: u
                .fields
                .into_iter()
                .map(|f| types::Field {
                    name: f.name,
                    value: field_value_out(f.value),
                })
                .collect(),
            comments: u
                .comments
                .into_iter()
                .map(|c| types::Comment {
                    id: c.id,
                    author: c.author,
                    created: c.created,
                    text: c.text,
                })
                .collect(),
            deleted: u.deleted,
        }),
    }
}

pub fn subscription(s: core_webhook::Subscription) -> webhook::Subscription {
    webhook::Subscription {
        id: s.id,
        event_type: s.event_type,
        status: s.status,
    }
}
