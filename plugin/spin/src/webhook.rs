//! `POST /v1/webhooks/ado`: an ADO service-hook delivery, authenticated with
//! the webhook's own credentials (constant time, in core), deduplicated by
//! event id, turned into ticket changes by core, appended to the change feed
//! and forwarded to the callback.

use ado_connector_core::ConnectorError;
use ado_connector_core::webhook::{self as core_webhook, Outcome};

use crate::api::WebhookResult;
use crate::error::ApiError;
use crate::platform::{ApiRequest, ApiResponse, Platform, now_unix};
use crate::{convert, feed, links, settings};

fn seen_key(event_id: &str) -> String {
    format!("hook:event:{event_id}")
}

fn ignored(reason: String) -> WebhookResult {
    WebhookResult {
        status: "ignored",
        cursor: None,
        reason: Some(reason),
    }
}

/// Handles one delivery.
pub fn deliver(p: &dyn Platform, req: &ApiRequest) -> Result<ApiResponse, ApiError> {
    let auth = settings::webhook_auth(p)?;
    let delivery = core_webhook::inspect(&auth, &req.headers, &req.body).map_err(|e| match e {
        ConnectorError::Unauthorized(problem) => ApiError {
            challenge: Some("Basic realm=\"ado-webhook\""),
            ..ApiError::new(401, "webhook_unauthorized", problem.message)
                .remediation(problem.remediation)
        },
        ConnectorError::Validation(issues) => ApiError::new(
            400,
            "malformed_delivery",
            "the delivery is not a work item event",
        )
        .issues(issues),
        other => convert::error(other),
    })?;
    let callback = settings::callback(p);
    let result = apply(p, req, &delivery, callback.is_some())?;
    // Forwarding: the new change, and those that failed before, in order. A
    // failure leaves them pending; the delivery itself is done.
    let _ = feed::flush(p, callback.as_ref());
    Ok(ApiResponse::json(200, &result))
}

fn apply(
    p: &dyn Platform,
    req: &ApiRequest,
    delivery: &core_webhook::Delivery,
    forward: bool,
) -> Result<WebhookResult, ApiError> {
    let seen = seen_key(&delivery.event_id);
    if p.kv_get(&seen)?.is_some() {
        return Ok(WebhookResult {
            status: "duplicate",
            cursor: None,
            reason: Some(format!("event {} was handled before", delivery.event_id)),
        });
    }
    let Some(ticket_id) = links::ticket_of(p, delivery.work_item_id)? else {
        return Ok(ignored(format!(
            "no ticket is linked to work item {}",
            delivery.work_item_id
        )));
    };
    let Some(mut record) = links::get(p, &ticket_id)? else {
        return Ok(ignored(format!("the link of ticket {ticket_id} is gone")));
    };
    let outcome = core_webhook::handle(&record.config, &record.core_link(), &req.body)
        .map_err(convert::error)?;
    let update = match outcome {
        Outcome::Ignore(reason) => {
            p.kv_set(&seen, b"1")?;
            return Ok(ignored(reason));
        }
        Outcome::Apply(update) => update,
    };
    record.set_link(&update.link);
    convert::apply_update(&mut record.snapshot, &update);
    let received = now_unix();
    let change = feed::append(p, |cursor| {
        convert::change(cursor, &update, delivery, received)
    })?;
    links::put(p, &record)?;
    p.kv_set(&seen, b"1")?;
    if forward {
        feed::enqueue(p, change.cursor)?;
    }
    Ok(WebhookResult {
        status: "applied",
        cursor: Some(change.cursor),
        reason: None,
    })
}
