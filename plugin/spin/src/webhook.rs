//! `POST /v1/webhooks/ado`: an ADO service-hook delivery, authenticated with
//! the webhook's own credentials (constant time, in core), applied once per
//! event id, turned into ticket changes by core, appended to the change feed
//! and forwarded to the callback.
//!
//! Simultaneous deliveries of one event (ADO retrying while the first is
//! still handled, or two replicas) are told apart by a claim on the event id
//! (see [`crate::claims`]): one applies it, the others answer `duplicate`
//! when it is done or 409 `delivery_in_progress` while it is not (ADO
//! delivers again later). A handled event leaves a mark
//! (`hook:done:{event id}`), logged in the `hook:log` sequence so marks and
//! feed entries older than the retention are pruned.

use std::time::Duration;

use ado_connector_core::ConnectorError;
use ado_connector_core::webhook::{self as core_webhook, Outcome};
use serde::{Deserialize, Serialize};

use crate::api::WebhookResult;
use crate::error::ApiError;
use crate::platform::{ApiRequest, ApiResponse, Platform, StoreError, now_unix};
use crate::seq::Seq;
use crate::{claims, convert, feed, links, settings};

/// The log of handled events, oldest first.
const HANDLED: Seq = Seq("hook:log");
/// Longer than applying one delivery can take.
const EVENT_LEASE: Duration = Duration::from_secs(120);
/// The most marks one delivery prunes.
const PRUNE_BATCH: usize = 50;

#[derive(Serialize, Deserialize)]
struct Handled {
    event_id: String,
    at: u64,
}

fn done_key(event_id: &str) -> String {
    format!("hook:done:{event_id}")
}

fn ignored(reason: String) -> WebhookResult {
    WebhookResult {
        status: "ignored",
        cursor: None,
        reason: Some(reason),
    }
}

fn duplicate(event_id: &str) -> WebhookResult {
    WebhookResult {
        status: "duplicate",
        cursor: None,
        reason: Some(format!("event {event_id} was handled before")),
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
    let retention = settings::retention(p)?;
    let result = once(p, req, &delivery, callback.is_some())?;
    // Forwarding: the new change, and those that failed before. A failure
    // leaves them pending; the delivery itself is done. So is pruning.
    if callback.is_some() {
        let _ = feed::flush(p, callback.as_ref());
    }
    let _ = prune(p, retention);
    Ok(ApiResponse::json(200, &result))
}

/// Applies the delivery under the claim of its event id.
fn once(
    p: &dyn Platform,
    req: &ApiRequest,
    delivery: &core_webhook::Delivery,
    forward: bool,
) -> Result<WebhookResult, ApiError> {
    let id = &delivery.event_id;
    if p.kv_get(&done_key(id))?.is_some() {
        return Ok(duplicate(id));
    }
    let Some(claim) = claims::acquire(p, &format!("event:{id}"), EVENT_LEASE)? else {
        if p.kv_get(&done_key(id))?.is_some() {
            return Ok(duplicate(id));
        }
        return Err(ApiError::new(
            409,
            "delivery_in_progress",
            format!("event {id} is being handled by another request; deliver it again later"),
        ));
    };
    // Read again under the claim: the holder before us may just have finished.
    let result = match p.kv_get(&done_key(id)) {
        Ok(Some(_)) => Ok(duplicate(id)),
        Ok(None) => apply(p, req, delivery, forward).and_then(|r| {
            mark_done(p, id)?;
            Ok(r)
        }),
        Err(e) => Err(e.into()),
    };
    // On failure the claim goes too, so that ADO's next delivery applies it.
    claims::release(p, claim)?;
    result
}

pub(crate) fn mark_done(p: &dyn Platform, event_id: &str) -> Result<(), StoreError> {
    let at = now_unix();
    p.kv_set(&done_key(event_id), at.to_string().as_bytes())?;
    let n = HANDLED.allocate(p)?;
    let entry = Handled {
        event_id: event_id.to_string(),
        at,
    };
    let bytes = serde_json::to_vec(&entry).map_err(|e| StoreError(e.to_string()))?;
    HANDLED.write(p, n, &bytes)
}

/// Forgets events and feed entries older than the retention.
pub(crate) fn prune(p: &dyn Platform, retention: u64) -> Result<(), StoreError> {
    let cutoff = now_unix().saturating_sub(retention);
    HANDLED.prune(
        p,
        PRUNE_BATCH,
        |bytes| serde_json::from_slice::<Handled>(bytes).map_or(true, |h| h.at <= cutoff),
        |bytes| match serde_json::from_slice::<Handled>(bytes) {
            Ok(h) => p.kv_delete(&done_key(&h.event_id)),
            Err(_) => Ok(()),
        },
    )?;
    feed::prune(p, retention)
}

fn apply(
    p: &dyn Platform,
    req: &ApiRequest,
    delivery: &core_webhook::Delivery,
    forward: bool,
) -> Result<WebhookResult, ApiError> {
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
        Outcome::Ignore(reason) => return Ok(ignored(reason)),
        Outcome::Apply(update) => update,
    };
    record.set_link(&update.link);
    if update.fields.is_empty() && update.comments.is_empty() && update.deleted.is_none() {
        // An edit of fields no from_ado rule maps: the link's revision moves
        // on, the ticket does not change, and nothing is fed or forwarded.
        links::put(p, &record)?;
        return Ok(ignored(
            "the edit changes no field the from_ado rules map".into(),
        ));
    }
    convert::apply_update(&mut record.snapshot, &update);
    let received = now_unix();
    let change = feed::append(p, forward, |cursor| {
        convert::change(cursor, &update, delivery, received)
    })?;
    links::put(p, &record)?;
    Ok(WebhookResult {
        status: "applied",
        cursor: Some(change.cursor),
        reason: None,
    })
}
