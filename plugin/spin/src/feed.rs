//! The change feed: ticket changes from ADO, appended under a growing cursor
//! (`feed:head`, `feed:{cursor}`), and their forwarding to the callback URL.
//! Spin runs no background tasks: a change is forwarded when it arrives;
//! one that fails stays in `feed:pending` and is tried again on the next
//! webhook delivery and on `POST /v1/changes/flush`.
//!
//! The cursor is read, incremented and written back: two replicas appending
//! at the same instant can race on it (Spin's key-value interface has no
//! atomic increment). See the README for what that means on SpinKube.

use ado_connector_core::env::{HttpRequest, Method};

use crate::api::{Change, FlushResult, PendingForward};
use crate::platform::{Platform, StoreError};
use crate::settings::Callback;

const HEAD: &str = "feed:head";
const PENDING: &str = "feed:pending";

fn entry_key(cursor: u64) -> String {
    format!("feed:{cursor:020}")
}

fn json_err(e: serde_json::Error) -> StoreError {
    StoreError(format!("change feed entry: {e}"))
}

/// The last cursor written; 0 when the feed is empty.
pub fn head(p: &dyn Platform) -> Result<u64, StoreError> {
    Ok(p.kv_get(HEAD)?
        .and_then(|b| String::from_utf8_lossy(&b).trim().parse().ok())
        .unwrap_or(0))
}

/// Appends a change; `make` receives its cursor.
pub fn append(p: &dyn Platform, make: impl FnOnce(u64) -> Change) -> Result<Change, StoreError> {
    let cursor = head(p)? + 1;
    let change = make(cursor);
    p.kv_set(
        &entry_key(cursor),
        &serde_json::to_vec(&change).map_err(json_err)?,
    )?;
    p.kv_set(HEAD, cursor.to_string().as_bytes())?;
    Ok(change)
}

/// Up to `limit` changes after `cursor`, and the cursor to read on from.
pub fn read(p: &dyn Platform, cursor: u64, limit: u64) -> Result<(Vec<Change>, u64), StoreError> {
    let head = head(p)?;
    let mut changes = Vec::new();
    let mut next = cursor;
    for c in cursor.saturating_add(1)..=head.min(cursor.saturating_add(limit)) {
        if let Some(bytes) = p.kv_get(&entry_key(c))? {
            changes.push(serde_json::from_slice(&bytes).map_err(json_err)?);
        }
        next = c;
    }
    Ok((changes, next))
}

fn pending(p: &dyn Platform) -> Result<Vec<PendingForward>, StoreError> {
    p.kv_get(PENDING)?
        .map(|b| serde_json::from_slice(&b).map_err(json_err))
        .transpose()
        .map(Option::unwrap_or_default)
}

fn set_pending(p: &dyn Platform, list: &[PendingForward]) -> Result<(), StoreError> {
    p.kv_set(PENDING, &serde_json::to_vec(list).map_err(json_err)?)
}

/// Queues a change for forwarding.
pub fn enqueue(p: &dyn Platform, cursor: u64) -> Result<(), StoreError> {
    let mut list = pending(p)?;
    if !list.iter().any(|f| f.cursor == cursor) {
        list.push(PendingForward {
            cursor,
            attempts: 0,
            last_error: String::new(),
        });
    }
    set_pending(p, &list)
}

/// Posts one change to the callback; why not, when it fails.
fn post(p: &dyn Platform, callback: &Callback, change: &Change) -> Result<(), String> {
    let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
    if let Some(token) = &callback.token {
        headers.push(("authorization".into(), format!("Bearer {}", token.expose())));
    }
    let body = serde_json::to_vec(change).unwrap_or_default();
    headers.push(("content-length".into(), body.len().to_string()));
    let request = HttpRequest {
        method: Method::Post,
        url: callback.url.clone(),
        headers,
        body,
    };
    match p.send(request) {
        Ok(r) if (200..300).contains(&r.status) => Ok(()),
        Ok(r) => Err(format!("the callback answered {}", r.status)),
        Err(ado_connector_core::env::HttpError::Denied(_)) => Err(
            "denied: the callback host is not in allowed_outbound_hosts (set `callback_origin`)"
                .into(),
        ),
        Err(e) => Err(format!("the callback is unreachable: {e:?}")),
    }
}

/// Tries every pending change once, oldest first. Without a callback the
/// queue is left as it is.
pub fn flush(p: &dyn Platform, callback: Option<&Callback>) -> Result<FlushResult, StoreError> {
    let list = pending(p)?;
    let Some(callback) = callback else {
        return Ok(FlushResult {
            forwarded: Vec::new(),
            pending: list,
        });
    };
    if list.is_empty() {
        return Ok(FlushResult {
            forwarded: Vec::new(),
            pending: list,
        });
    }
    let mut forwarded = Vec::new();
    let mut left = Vec::new();
    for mut item in list {
        let Some(bytes) = p.kv_get(&entry_key(item.cursor))? else {
            continue; // the entry is gone: nothing to forward
        };
        let change: Change = serde_json::from_slice(&bytes).map_err(json_err)?;
        match post(p, callback, &change) {
            Ok(()) => forwarded.push(item.cursor),
            Err(why) => {
                item.attempts += 1;
                item.last_error = why;
                left.push(item);
            }
        }
    }
    set_pending(p, &left)?;
    Ok(FlushResult {
        forwarded,
        pending: left,
    })
}
