//! `_apis/hooks`: subscriptions (create, list with filters, get, replace,
//! delete), their notification history and diagnostics, and the publishers,
//! event types, consumers and actions the emulator offers. Shapes follow
//! `samples/rest/hooks/7.1` and the 7.1 spec; lists come as `{count, value}`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use crate::errors::envelope;
use crate::hooks::catalog;
use crate::hooks::subscriptions::{self, Subscription, notification_json};
use crate::routes::core::org_caller;
use crate::routes::params::{Q, bad_argument, org_wit_caller, param};
use crate::state::Emu;
use crate::variants::{MissingSubscription, MissingSubscriptionDelete};

type S = State<Arc<Emu>>;

pub fn routes() -> Router<Arc<Emu>> {
    let mut r = Router::new()
        .route("/{org}/_apis/hooks/subscriptions", get(list).post(create))
        .route(
            "/{org}/_apis/hooks/subscriptions/{id}",
            get(one).put(replace).delete(delete),
        )
        .route(
            "/{org}/_apis/hooks/subscriptions/{id}/diagnostics",
            get(diagnostics).put(set_diagnostics),
        )
        .route(
            "/{org}/_apis/hooks/subscriptions/{id}/notifications",
            get(notifications),
        )
        .route(
            "/{org}/_apis/hooks/subscriptions/{id}/notifications/{nid}",
            get(notification),
        )
        .route("/{org}/_apis/hooks/publishers", get(publishers))
        .route("/{org}/_apis/hooks/publishers/{pid}", get(publisher))
        .route("/{org}/_apis/hooks/consumers", get(consumers))
        .route("/{org}/_apis/hooks/consumers/{cid}", get(consumer))
        .route("/{org}/_apis/hooks/consumers/{cid}/actions", get(actions))
        .route(
            "/{org}/_apis/hooks/consumers/{cid}/actions/{aid}",
            get(action),
        );
    // The samples write both `eventTypes` and `eventtypes`; ADO ignores case.
    for spelling in ["eventTypes", "eventtypes"] {
        r = r
            .route(
                &format!("/{{org}}/_apis/hooks/publishers/{{pid}}/{spelling}"),
                get(event_types),
            )
            .route(
                &format!("/{{org}}/_apis/hooks/publishers/{{pid}}/{spelling}/{{et}}"),
                get(event_type),
            );
    }
    r
}

fn org_url(emu: &Emu) -> String {
    format!("{}/{}", emu.base_url(), emu.organization)
}

fn listed(list: Vec<Value>) -> Response {
    axum::Json(json!({"count": list.len(), "value": list})).into_response()
}

/// An id no subscription has, on GET, PUT, DELETE and the routes under a
/// subscription. Azure DevOps Server 2022's code (decompiled by a third
/// party, mjwrona/decompiled: `ServiceHooksService.GetSubscription` throws
/// `SubscriptionNotFoundException`, which `ServiceHooksPublisherControllerBase`
/// and `ServiceHooksSvcControllerBase` answer with 404) and Microsoft's .NET
/// client (the exception's `ExceptionMapping` type key; its message, the
/// resource `Error_NoSubscriptionWithId`, "No subscription could be found
/// with id {0}.", the id a GUID as .NET writes it) give the default;
/// [unverified] that Azure DevOps Services answers the same: no captured
/// answer is public, so each plausible shape is a setting
/// (`variants::MissingSubscription`).
fn no_subscription(emu: &Emu, id: &str) -> Response {
    let message = format!(
        "No subscription could be found with id {}.",
        id.to_ascii_lowercase()
    );
    match emu.variants.missing_subscription {
        MissingSubscription::Envelope => envelope(
            StatusCode::NOT_FOUND,
            &message,
            "SubscriptionNotFoundException",
        ),
        MissingSubscription::Text => (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "The resource cannot be found.",
        )
            .into_response(),
        MissingSubscription::BadRequest => envelope(
            StatusCode::BAD_REQUEST,
            &message,
            "SubscriptionNotFoundException",
        ),
    }
}

/// An unknown publisher, consumer, consumer action, event type or
/// notification: the texts and type keys are the resources and exceptions
/// of Microsoft's .NET client (`ServiceHooksWebApiResources`:
/// `Error_PublisherNotFoundByIdFormat`, `Error_ConsumerNotFoundByIdFormat`,
/// `Error_ConsumerActionNotFoundByIdFormat`,
/// `Error_PublisherEventTypeNotFoundByIdFormat`,
/// `Error_NotificationNotFoundByIdFormat`), Server 2022's controllers answer
/// all but the event type's with 404 (as decompiled in mjwrona/decompiled).
/// [unverified] code and text for an unknown publisher, consumer, action or event type.
fn not_found(message: String, type_key: &str) -> Response {
    envelope(StatusCode::NOT_FOUND, &message, type_key)
}

fn no_publisher(pid: &str) -> Response {
    not_found(
        format!("No publisher could be found with id \"{pid}\"."),
        "PublisherNotFoundException",
    )
}

fn no_consumer(cid: &str) -> Response {
    not_found(
        format!("No consumer could be found with id \"{cid}\"."),
        "ConsumerNotFoundException",
    )
}

fn find(emu: &Emu, id: &str) -> Result<Subscription, Response> {
    emu.hooks
        .subscription(id)
        .ok_or_else(|| no_subscription(emu, id))
}

/// `GET _apis/hooks/subscriptions?publisherId=&eventType=&consumerId=&consumerActionId=`.
async fn list(State(emu): S, Path(org): Path<String>, Query(q): Q, headers: HeaderMap) -> Response {
    if let Err(r) = org_caller(&emu, &org, &headers) {
        return r;
    }
    let all = emu.hooks.data().subscriptions.clone();
    let wanted = |name: &str, value: &str| {
        param(&q, name)
            .filter(|v| !v.is_empty())
            .is_none_or(|v| v.eq_ignore_ascii_case(value))
    };
    let chosen = all.iter().filter(|s| {
        wanted("publisherId", &s.publisher_id)
            && wanted("eventType", &s.event_type)
            && wanted("consumerId", &s.consumer_id)
            && wanted("consumerActionId", &s.consumer_action_id)
    });
    listed(chosen.map(|s| subscriptions::to_json(&emu, s)).collect())
}

/// `POST _apis/hooks/subscriptions`: 200 with the subscription (POST sample).
async fn create(
    State(emu): S,
    Path(org): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let caller = match org_wit_caller(&emu, &org, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let checked = match subscriptions::check(&emu, emu.hooks.settings.allow_local_urls, &body) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let sub = subscriptions::create(&emu, &emu.variants, checked, &caller.identity);
    emu.hooks.data().subscriptions.push(sub.clone());
    axum::Json(subscriptions::to_json(&emu, &sub)).into_response()
}

async fn one(
    State(emu): S,
    Path((org, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = org_caller(&emu, &org, &headers) {
        return r;
    }
    match find(&emu, &id) {
        Ok(s) => axum::Json(subscriptions::to_json(&emu, &s)).into_response(),
        Err(r) => r,
    }
}

/// `PUT _apis/hooks/subscriptions/{id}`: replaces it (PUT sample), e.g.
/// to re-enable it or rotate the basic-auth password.
async fn replace(
    State(emu): S,
    Path((org, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let caller = match org_wit_caller(&emu, &org, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let checked = match subscriptions::check(&emu, emu.hooks.settings.allow_local_urls, &body) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let mut data = emu.hooks.data();
    let Some(sub) = data
        .subscriptions
        .iter_mut()
        .find(|s| s.id.eq_ignore_ascii_case(&id))
    else {
        return no_subscription(&emu, &id);
    };
    subscriptions::replace(
        sub,
        checked,
        &caller.identity,
        emu.variants.replace_masked_kept,
    );
    let sub = sub.clone();
    drop(data);
    axum::Json(subscriptions::to_json(&emu, &sub)).into_response()
}

/// `DELETE _apis/hooks/subscriptions/{id}`: 204 (the DELETE sample; the spec says 200).
async fn delete(
    State(emu): S,
    Path((org, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = org_wit_caller(&emu, &org, &headers) {
        return r;
    }
    let mut data = emu.hooks.data();
    let before = data.subscriptions.len();
    data.subscriptions
        .retain(|s| !s.id.eq_ignore_ascii_case(&id));
    if data.subscriptions.len() == before {
        drop(data);
        return match emu.variants.missing_subscription_delete {
            MissingSubscriptionDelete::AsMissing => no_subscription(&emu, &id),
            MissingSubscriptionDelete::NoContent => StatusCode::NO_CONTENT.into_response(),
        };
    }
    StatusCode::NO_CONTENT.into_response()
}

/// `GET .../diagnostics`: the tracing settings last written (diagnostics
/// samples). [unverified] what ADO answers before any were written.
async fn diagnostics(
    State(emu): S,
    Path((org, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = org_caller(&emu, &org, &headers) {
        return r;
    }
    match find(&emu, &id) {
        Ok(s) => axum::Json(if s.diagnostics.is_null() {
            json!({})
        } else {
            s.diagnostics
        })
        .into_response(),
        Err(r) => r,
    }
}

/// `PUT .../diagnostics` with `{deliveryTracing|evaluationTracing|deliveryResults: {enabled}}`:
/// each one set gets a one-hour window of up to 25 entries (PUT sample).
async fn set_diagnostics(
    State(emu): S,
    Path((org, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = org_wit_caller(&emu, &org, &headers) {
        return r;
    }
    let Ok(Value::Object(update)) = serde_json::from_slice::<Value>(&body) else {
        return bad_argument("The request body is not a diagnostics update.");
    };
    let start = time::OffsetDateTime::now_utc();
    let fmt = &time::format_description::well_known::Rfc3339;
    let (from, to) = (
        start.format(fmt).unwrap_or_default(),
        (start + time::Duration::hours(1))
            .format(fmt)
            .unwrap_or_default(),
    );
    let mut data = emu.hooks.data();
    let Some(sub) = data
        .subscriptions
        .iter_mut()
        .find(|s| s.id.eq_ignore_ascii_case(&id))
    else {
        return no_subscription(&emu, &id);
    };
    let mut stored = sub.diagnostics.as_object().cloned().unwrap_or_default();
    for key in ["deliveryResults", "deliveryTracing", "evaluationTracing"] {
        if let Some(enabled) = update.get(key).and_then(|v| v["enabled"].as_bool()) {
            stored.insert(key.into(), json!({"enabled": enabled, "endDate": to, "startDate": from, "maxTracedEntries": 25}));
        }
    }
    sub.diagnostics = Value::Object(stored.clone());
    axum::Json(Value::Object(stored)).into_response()
}

/// `GET .../notifications?maxResults=&status=&result=`. The order no source
/// gives: newest first, or oldest first with `notifications=oldest`
/// (`variants`).
async fn notifications(
    State(emu): S,
    Path((org, id)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = org_caller(&emu, &org, &headers) {
        return r;
    }
    let sub = match find(&emu, &id) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let max: usize = param(&q, "maxResults")
        .and_then(|m| m.parse().ok())
        .unwrap_or(usize::MAX);
    let data = emu.hooks.data();
    let mut mine: Vec<_> = data
        .notifications
        .iter()
        .filter(|n| n.subscription_id == sub.id)
        .collect();
    if !emu.variants.notifications_oldest_first {
        mine.reverse();
    }
    let list: Vec<Value> = mine
        .into_iter()
        .map(|n| notification_json(&emu, &sub, n, false))
        .filter(|n| {
            ["status", "result"].iter().all(|k| {
                param(&q, k)
                    .is_none_or(|want| n[*k].as_str().is_some_and(|v| v.eq_ignore_ascii_case(want)))
            })
        })
        .take(max)
        .collect();
    listed(list)
}

async fn notification(
    State(emu): S,
    Path((org, id, nid)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = org_caller(&emu, &org, &headers) {
        return r;
    }
    let sub = match find(&emu, &id) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let found = emu
        .hooks
        .data()
        .notifications
        .iter()
        .find(|n| n.subscription_id == sub.id && n.id.to_string() == nid)
        .cloned();
    match found {
        Some(n) => axum::Json(notification_json(&emu, &sub, &n, true)).into_response(),
        None => not_found(
            format!("Could not find notification with id \"{nid}\"."),
            "NotificationNotFoundException",
        ),
    }
}

async fn publishers(State(emu): S, Path(org): Path<String>, headers: HeaderMap) -> Response {
    org_caller(&emu, &org, &headers)
        .map_or_else(|r| r, |_| listed(vec![catalog::publisher(&org_url(&emu))]))
}

async fn publisher(
    State(emu): S,
    Path((org, pid)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = org_caller(&emu, &org, &headers) {
        return r;
    }
    if !pid.eq_ignore_ascii_case("tfs") {
        return no_publisher(&pid);
    }
    axum::Json(catalog::publisher(&org_url(&emu))).into_response()
}

async fn event_types(
    State(emu): S,
    Path((org, pid)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = org_caller(&emu, &org, &headers) {
        return r;
    }
    if !pid.eq_ignore_ascii_case("tfs") {
        return no_publisher(&pid);
    }
    listed(catalog::event_types(&org_url(&emu)))
}

async fn event_type(
    State(emu): S,
    Path((org, pid, et)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = org_caller(&emu, &org, &headers) {
        return r;
    }
    if !pid.eq_ignore_ascii_case("tfs") {
        return no_publisher(&pid);
    }
    match catalog::event_type(&org_url(&emu), &et) {
        Some(e) => axum::Json(e).into_response(),
        None => not_found(
            format!(
                "No publisher event type could be found with id \"{et}\" for publisher \"{pid}\"."
            ),
            "PublisherEventTypeNotFoundException",
        ),
    }
}

async fn consumers(State(emu): S, Path(org): Path<String>, headers: HeaderMap) -> Response {
    org_caller(&emu, &org, &headers)
        .map_or_else(|r| r, |_| listed(vec![catalog::consumer(&org_url(&emu))]))
}

async fn consumer(
    State(emu): S,
    Path((org, cid)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = org_caller(&emu, &org, &headers) {
        return r;
    }
    if !cid.eq_ignore_ascii_case("webHooks") {
        return no_consumer(&cid);
    }
    axum::Json(catalog::consumer(&org_url(&emu))).into_response()
}

async fn actions(
    State(emu): S,
    Path((org, cid)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = org_caller(&emu, &org, &headers) {
        return r;
    }
    if !cid.eq_ignore_ascii_case("webHooks") {
        return no_consumer(&cid);
    }
    listed(vec![catalog::action(&org_url(&emu))])
}

async fn action(
    State(emu): S,
    Path((org, cid, aid)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = org_caller(&emu, &org, &headers) {
        return r;
    }
    if !cid.eq_ignore_ascii_case("webHooks") {
        return no_consumer(&cid);
    }
    if !aid.eq_ignore_ascii_case("httpRequest") {
        return not_found(
            format!("No consumer action could be found with id \"{aid}\" for consumer \"{cid}\"."),
            "ConsumerActionNotFoundException",
        );
    }
    axum::Json(catalog::action(&org_url(&emu))).into_response()
}
