//! The API's operations: each reads its settings, converts the request,
//! calls core, keeps links in key-value storage and converts the answer.

use ado_connector_core::client::Client;
use ado_connector_core::model::Connection;
use ado_connector_core::{
    config as core_config, connection as core_connection, dispatch as core_dispatch,
    schema as core_schema, sync as core_sync,
};
use std::time::Duration;

use serde_json::json;

use crate::api;
use crate::error::ApiError;
use crate::links::{self, Record};
use crate::platform::{ApiResponse, Platform, ServiceEnv};
use crate::{claims, convert, feed, settings};

type Answer = Result<ApiResponse, ApiError>;

fn ok(value: &impl serde::Serialize) -> Answer {
    Ok(ApiResponse::json(200, value))
}

/// Core's error as the API's; a request Spin refused names the variables
/// that make `allowed_outbound_hosts`.
pub(crate) fn ado_error(e: ado_connector_core::ConnectorError) -> ApiError {
    let mut error = convert::error(e);
    if error.body.code == "egress_denied" {
        error.body.remediation = Some(
            "Spin refused the request: its allowed_outbound_hosts are `ado_origin`, \
             `entra_authority` and `callback_origin`; `ado_origin` must be the \
             scheme://host[:port] of `ado_base_url`, and an entry that is not \
             scheme://host[:port] (a path, no scheme) makes Spin refuse everything"
                .into(),
        );
    }
    error
}

fn not_linked(ticket_id: &str) -> ApiError {
    ApiError::new(
        404,
        "not_linked",
        format!("ticket `{ticket_id}` has no work item (dispatch it first)"),
    )
}

fn with_client<T>(
    p: &dyn Platform,
    f: impl FnOnce(&Client<'_>) -> Result<T, ado_connector_core::ConnectorError>,
) -> Result<T, ApiError> {
    let connection = settings::connection(p)?;
    let env = ServiceEnv(p);
    let client = Client::new(&env, &connection).map_err(ado_error)?;
    f(&client).map_err(ado_error)
}

pub(crate) fn connection(p: &dyn Platform) -> Result<Connection, ApiError> {
    Ok(settings::connection(p)?)
}

pub fn test_connection(p: &dyn Platform) -> Answer {
    let c = connection(p)?;
    let info = core_connection::test_connection(&ServiceEnv(p), &c).map_err(ado_error)?;
    ok(&convert::connection_info(info))
}

pub fn work_item_types(p: &dyn Platform) -> Answer {
    let types = with_client(p, core_schema::work_item_types)?;
    let types: Vec<_> = types.into_iter().map(convert::work_item_type).collect();
    ok(&json!({ "types": types }))
}

pub fn fields(p: &dyn Platform, ty: &str) -> Answer {
    let schema = with_client(p, |c| core_schema::type_schema(c, ty))?;
    let fields: Vec<_> = schema
        .fields
        .iter()
        .cloned()
        .map(convert::field_info)
        .collect();
    ok(&json!({ "work_item_type": ty, "fields": fields }))
}

pub fn states(p: &dyn Platform, ty: &str) -> Answer {
    let (states, initial) = with_client(p, |c| {
        Ok((
            core_schema::states(c, ty)?,
            core_schema::type_schema(c, ty)?.initial_states.clone(),
        ))
    })?;
    let states: Vec<_> = states.into_iter().map(convert::state_info).collect();
    ok(&json!({ "work_item_type": ty, "states": states, "initial_states": initial }))
}

pub fn config_schema() -> Answer {
    let schema: serde_json::Value =
        serde_json::from_str(&core_config::json_schema()).unwrap_or_default();
    ok(&schema)
}

/// The config's own checks; with the service's connection configured, its
/// area and iteration paths are looked up in the project's trees too (a
/// service without one still checks the rest).
pub fn validate_config(p: &dyn Platform, req: api::ValidateConfigRequest) -> Answer {
    let c = connection(p).ok();
    core_dispatch::validate_config(&ServiceEnv(p), c.as_ref(), &req.config.text())
        .map_err(ado_error)?;
    ok(&json!({ "valid": true }))
}

pub fn preview(p: &dyn Platform, req: api::PreviewRequest) -> Answer {
    let c = connection(p)?;
    let ticket = convert::ticket(&req.ticket)?;
    let preview = core_dispatch::preview(
        &ServiceEnv(p),
        &c,
        &req.config.text(),
        &ticket,
        req.validate_remote,
    )
    .map_err(ado_error)?;
    ok(&convert::preview(preview))
}

fn already_linked(ticket_id: &str, work_item_id: i32) -> ApiError {
    ApiError::new(
        409,
        "already_linked",
        format!(
            "ticket `{ticket_id}` is already linked to work item {work_item_id} (use /v1/sync)"
        ),
    )
}

/// Longer than one create can take (plan, attachment upload, create, with
/// core's retries): a claim older than this belonged to a dead request.
const DISPATCH_LEASE: Duration = Duration::from_secs(600);

/// Creates the work item of a ticket once, whatever the number of
/// simultaneous dispatches on any number of instances: the ticket is
/// claimed first (see [`crate::claims`]) and the losers answer 409
/// `dispatch_in_progress`. The claim is given back whatever the outcome: a
/// create whose outcome is uncertain (no answer from ADO) leaves core's
/// in-flight mark in the store, so the next dispatch adopts the work item
/// that create may have made (found by its `secops:` tag) instead of
/// creating another.
pub fn dispatch(p: &dyn Platform, req: api::DispatchRequest) -> Answer {
    let c = connection(p)?;
    let ticket = convert::ticket(&req.ticket)?;
    if let Some(existing) = links::get(p, &ticket.id)? {
        return Err(already_linked(&ticket.id, existing.link.work_item_id));
    }
    let Some(claim) = claims::acquire(p, &format!("dispatch:{}", ticket.id), DISPATCH_LEASE)?
    else {
        return Err(ApiError::new(
            409,
            "dispatch_in_progress",
            format!(
                "ticket `{}` is being dispatched by another request; read /v1/links/{{ticket_id}} for its work item",
                ticket.id
            ),
        ));
    };
    let created = (|| {
        // Read again under the claim: the holder before us may have linked it.
        if let Some(existing) = links::get(p, &ticket.id)? {
            return Err(already_linked(&ticket.id, existing.link.work_item_id));
        }
        let config = req.config.text();
        let link =
            core_dispatch::create(&ServiceEnv(p), &c, &config, &ticket).map_err(ado_error)?;
        links::put(p, &Record::new(&link, config, req.ticket))?;
        Ok(link)
    })();
    claims::release(p, claim)?;
    Ok(ApiResponse::json(
        201,
        &json!({ "link": convert::link(&created?) }),
    ))
}

pub fn sync(p: &dyn Platform, req: api::SyncRequest) -> Answer {
    let c = connection(p)?;
    let after = convert::ticket(&req.ticket)?;
    let mut record = links::get(p, &after.id)?.ok_or_else(|| not_linked(&after.id))?;
    let before = convert::ticket(&record.snapshot)?;
    let outcome = core_sync::push(
        &ServiceEnv(p),
        &c,
        &record.config,
        &record.core_link(),
        &before,
        &after,
    )
    .map_err(ado_error)?;
    record.set_link(&outcome.link);
    record.snapshot = req.ticket;
    links::put(p, &record)?;
    ok(&convert::sync_result(outcome))
}

pub fn close(p: &dyn Platform, req: api::CloseRequest) -> Answer {
    let c = connection(p)?;
    let mut record = links::get(p, &req.ticket_id)?.ok_or_else(|| not_linked(&req.ticket_id))?;
    let change = core_sync::close(
        &ServiceEnv(p),
        &c,
        &record.config,
        &record.core_link(),
        &req.reason,
    )
    .map_err(ado_error)?;
    record.set_link(&change.link);
    links::put(p, &record)?;
    ok(&convert::close_result(change))
}

pub fn bulk_close(p: &dyn Platform, req: api::BulkCloseRequest) -> Answer {
    let c = connection(p)?;
    let mut results: Vec<Option<api::BulkCloseItem>> = Vec::new();
    let mut records = Vec::new();
    let mut items = Vec::new();
    for id in &req.ticket_ids {
        match links::get(p, id)? {
            Some(record) => {
                items.push(core_sync::CloseItem {
                    config: record.config.clone(),
                    link: record.core_link(),
                });
                records.push((results.len(), record));
                results.push(None);
            }
            None => results.push(Some(convert::bulk_failed(id, not_linked(id)))),
        }
    }
    let outcomes = core_sync::bulk_close(&ServiceEnv(p), &c, &items, &req.reason);
    for ((slot, mut record), outcome) in records.into_iter().zip(outcomes) {
        let id = record.link.ticket_id.clone();
        results[slot] = Some(match outcome {
            core_sync::CloseOutcome::Closed(change) => {
                record.set_link(&change.link);
                links::put(p, &record)?;
                convert::bulk_closed(&id, change)
            }
            core_sync::CloseOutcome::AlreadyClosed(link) => {
                record.set_link(&link);
                links::put(p, &record)?;
                convert::bulk_closed(
                    &id,
                    core_sync::StateChange {
                        link,
                        transition: None,
                    },
                )
            }
            core_sync::CloseOutcome::Failed(e) => convert::bulk_failed(&id, convert::error(e)),
        });
    }
    let results: Vec<_> = results.into_iter().flatten().collect();
    ok(&json!({ "results": results }))
}

pub fn link(p: &dyn Platform, ticket_id: &str) -> Answer {
    let record = links::get(p, ticket_id)?.ok_or_else(|| not_linked(ticket_id))?;
    ok(&json!({ "link": record.link }))
}

pub fn changes(p: &dyn Platform, cursor: u64, limit: u64) -> Answer {
    let (changes, next_cursor) = feed::read(p, cursor, limit)?;
    ok(&api::ChangePage {
        changes,
        next_cursor,
    })
}

pub fn flush(p: &dyn Platform) -> Answer {
    let callback = settings::callback(p);
    ok(&feed::flush(p, callback.as_ref())?)
}
