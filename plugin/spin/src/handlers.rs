//! The API's operations: each reads its settings, converts the request,
//! calls core, keeps links in key-value storage and converts the answer.

use ado_connector_core::client::Client;
use ado_connector_core::model::Connection;
use ado_connector_core::{
    config as core_config, connection as core_connection, dispatch as core_dispatch,
    schema as core_schema, sync as core_sync, webhook as core_webhook,
};
use serde_json::json;

use crate::api;
use crate::error::ApiError;
use crate::links::{self, Record};
use crate::platform::{ApiResponse, Platform, ServiceEnv};
use crate::{convert, feed, settings};

type Answer = Result<ApiResponse, ApiError>;

fn ok(value: &impl serde::Serialize) -> Answer {
    Ok(ApiResponse::json(200, value))
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
    let client = Client::new(&env, &connection).map_err(convert::error)?;
    f(&client).map_err(convert::error)
}

fn connection(p: &dyn Platform) -> Result<Connection, ApiError> {
    Ok(settings::connection(p)?)
}

pub fn test_connection(p: &dyn Platform) -> Answer {
    let c = connection(p)?;
    let info = core_connection::test_connection(&ServiceEnv(p), &c).map_err(convert::error)?;
    ok(&convert::connection_info(info))
}

pub fn work_item_types(p: &dyn Platform) -> Answer {
    let types = with_client(p, core_schema::work_item_types)?;
    let types: Vec<_> = types.into_iter().map(convert::work_item_type).collect();
    ok(&json!({ "types": types }))
}

pub fn fields(p: &dyn Platform, ty: &str) -> Answer {
    let schema = with_client(p, |c| core_schema::type_schema(c, ty))?;
    let fields: Vec<_> = schema.fields.into_iter().map(convert::field_info).collect();
    ok(&json!({ "work_item_type": ty, "fields": fields }))
}

pub fn states(p: &dyn Platform, ty: &str) -> Answer {
    let (states, initial) = with_client(p, |c| {
        Ok((
            core_schema::states(c, ty)?,
            core_schema::type_schema(c, ty)?.initial_states,
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

pub fn validate_config(req: api::ValidateConfigRequest) -> Answer {
    core_config::parse(&req.config.text()).map_err(convert::error)?;
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
    .map_err(convert::error)?;
    ok(&convert::preview(preview))
}

pub fn dispatch(p: &dyn Platform, req: api::DispatchRequest) -> Answer {
    let c = connection(p)?;
    let ticket = convert::ticket(&req.ticket)?;
    if let Some(existing) = links::get(p, &ticket.id)? {
        return Err(ApiError::new(
            409,
            "already_linked",
            format!(
                "ticket `{}` is already linked to work item {} (use /v1/sync)",
                ticket.id, existing.link.work_item_id
            ),
        ));
    }
    let config = req.config.text();
    let link =
        core_dispatch::create(&ServiceEnv(p), &c, &config, &ticket).map_err(convert::error)?;
    links::put(p, &Record::new(&link, config, req.ticket))?;
    Ok(ApiResponse::json(
        201,
        &json!({ "link": convert::link(&link) }),
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
    .map_err(convert::error)?;
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
    .map_err(convert::error)?;
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

pub fn subscribe(p: &dyn Platform, req: api::SubscribeRequest) -> Answer {
    let c = connection(p)?;
    let auth = settings::webhook_auth(p)?;
    let url = format!("{}/v1/webhooks/ado", req.public_url.trim_end_matches('/'));
    let subs = core_webhook::subscribe(&ServiceEnv(p), &c, &req.config.text(), &url, &auth)
        .map_err(convert::error)?;
    let subs: Vec<_> = subs.into_iter().map(convert::subscription).collect();
    Ok(ApiResponse::json(201, &json!({ "subscriptions": subs })))
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
