//! `/v1/webhooks/subscriptions`: the ADO service-hook subscriptions of each
//! delivery URL, kept in key-value storage (`subscriptions`) so that setting
//! up a URL again replaces its set instead of adding another (ADO would
//! then deliver every event once per set), and so that they can be listed
//! and deleted.
//!
//! Every change runs under one claim (see [`crate::claims`]): two setups at
//! once cannot both read the old set. The new set is created before the old
//! one is deleted, so no event goes undelivered in between (one delivered by
//! both is applied once: deliveries are deduplicated by event id). Old
//! subscriptions ADO would not delete are kept as leftovers and deleted on
//! the next change.

use std::time::Duration;

use ado_connector_core::webhook as core_webhook;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::api::{self, SubscribeRequest};
use crate::error::ApiError;
use crate::handlers::{ado_error, connection};
use crate::platform::{ApiResponse, Platform, ServiceEnv, StoreError};
use crate::{claims, convert, settings};

const KEY: &str = "subscriptions";
/// Longer than creating and deleting a set of subscriptions can take.
const LEASE: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Stored {
    id: String,
    event_type: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Set {
    public_url: String,
    delivery_url: String,
    subscriptions: Vec<Stored>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Book {
    sets: Vec<Set>,
    /// Subscriptions replaced or deleted that ADO did not delete yet.
    #[serde(default)]
    leftovers: Vec<String>,
}

fn load(p: &dyn Platform) -> Result<Book, StoreError> {
    p.kv_get(KEY)?
        .map(|b| {
            serde_json::from_slice(&b)
                .map_err(|e| StoreError(format!("`{KEY}` is not readable: {e}")))
        })
        .transpose()
        .map(Option::unwrap_or_default)
}

fn save(p: &dyn Platform, book: &Book) -> Result<(), StoreError> {
    let bytes = serde_json::to_vec(book).map_err(|e| StoreError(e.to_string()))?;
    p.kv_set(KEY, &bytes)
}

/// `{public_url}/v1/webhooks/ado`.
fn delivery_url(public_url: &str) -> String {
    format!("{}/v1/webhooks/ado", public_url.trim_end_matches('/'))
}

/// Runs `f` on the book under the claim; 409 `setup_in_progress` when
/// another request holds it.
fn locked<T>(
    p: &dyn Platform,
    f: impl FnOnce(&mut Book) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let Some(claim) = claims::acquire(p, KEY, LEASE)? else {
        return Err(ApiError::new(
            409,
            "setup_in_progress",
            "the webhook subscriptions are being changed by another request; try again",
        ));
    };
    let result = load(p).map_err(ApiError::from).and_then(|mut book| {
        let out = f(&mut book);
        save(p, &book)?;
        out
    });
    claims::release(p, claim)?;
    result
}

/// Deletes `ids` in ADO; those it did not delete become leftovers.
fn delete_all(p: &dyn Platform, book: &mut Book, ids: Vec<String>) -> Result<(), ApiError> {
    let c = connection(p)?;
    let mut all = std::mem::take(&mut book.leftovers);
    all.extend(ids);
    if let Err(e) = core_webhook::unsubscribe(&ServiceEnv(p), &c, &all) {
        book.leftovers = all;
        return Err(ado_error(e));
    }
    Ok(())
}

/// Creates the subscriptions of `public_url`, replacing its earlier set.
pub fn subscribe(p: &dyn Platform, req: SubscribeRequest) -> Result<ApiResponse, ApiError> {
    let c = connection(p)?;
    let auth = settings::webhook_auth(p)?;
    let url = delivery_url(&req.public_url);
    locked(p, |book| {
        let created = core_webhook::subscribe(&ServiceEnv(p), &c, &req.config.text(), &url, &auth)
            .map_err(ado_error)?;
        let old: Vec<String> = book
            .sets
            .iter()
            .filter(|s| s.delivery_url == url)
            .flat_map(|s| s.subscriptions.iter().map(|x| x.id.clone()))
            .collect();
        book.sets.retain(|s| s.delivery_url != url);
        book.sets.push(Set {
            public_url: req.public_url.trim_end_matches('/').to_string(),
            delivery_url: url.clone(),
            subscriptions: created
                .iter()
                .map(|s| Stored {
                    id: s.id.clone(),
                    event_type: s.event_type.clone(),
                })
                .collect(),
        });
        delete_all(p, book, old)?;
        let subs: Vec<_> = created.into_iter().map(convert::subscription).collect();
        Ok(ApiResponse::json(201, &json!({ "subscriptions": subs })))
    })
}

/// Every set, with each subscription's status in ADO.
pub fn list(p: &dyn Platform) -> Result<ApiResponse, ApiError> {
    let c = connection(p)?;
    let book = load(p)?;
    let mut sets = Vec::new();
    for set in book.sets {
        let ids: Vec<String> = set.subscriptions.iter().map(|s| s.id.clone()).collect();
        let live = core_webhook::status(&ServiceEnv(p), &c, &ids).map_err(ado_error)?;
        let subscriptions: Vec<api::Subscription> = set
            .subscriptions
            .into_iter()
            .zip(live)
            .map(|(stored, live)| api::Subscription {
                id: stored.id,
                event_type: stored.event_type,
                status: live.status,
            })
            .collect();
        sets.push(json!({
            "public_url": set.public_url,
            "delivery_url": set.delivery_url,
            "subscriptions": subscriptions,
        }));
    }
    Ok(ApiResponse::json(200, &json!({ "sets": sets })))
}

/// Deletes the set of `public_url` in ADO and here.
pub fn delete(p: &dyn Platform, public_url: &str) -> Result<ApiResponse, ApiError> {
    let url = delivery_url(public_url);
    locked(p, |book| {
        let Some(at) = book.sets.iter().position(|s| s.delivery_url == url) else {
            return Err(ApiError::not_found(format!(
                "no subscriptions deliver to `{url}`"
            )));
        };
        let set = book.sets.remove(at);
        let ids: Vec<String> = set.subscriptions.into_iter().map(|s| s.id).collect();
        delete_all(p, book, ids.clone())?;
        Ok(ApiResponse::json(200, &json!({ "deleted": ids })))
    })
}
