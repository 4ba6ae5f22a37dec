//! The change feed: ticket changes from ADO under cursors allocated
//! atomically (a [`Seq`] named `feed`), and their forwarding to the callback
//! URL. Spin runs no background tasks: a change is forwarded when it
//! arrives; one that fails stays pending (`forward:{cursor}`, one key per
//! change) and is tried again on the next webhook delivery and on
//! `POST /v1/changes/flush`.
//!
//! Each pending change is claimed by the flush that forwards it (see
//! [`crate::claims`]), so simultaneous flushes on any number of instances
//! post each change once. Entries older than the retention are pruned.

use std::time::Duration;

use ado_connector_core::env::{HttpRequest, Method};

use crate::api::{Change, FlushResult, PendingForward};
use crate::claims;
use crate::platform::{Platform, StoreError, now_unix};
use crate::seq::Seq;
use crate::settings::Callback;

/// The change feed.
pub const FEED: Seq = Seq("feed");

/// The most cursors one flush looks at.
const MAX_SCAN: u64 = 1000;
/// The most entries one delivery prunes.
const PRUNE_BATCH: usize = 50;
/// Longer than one POST to the callback can take.
const FORWARD_LEASE: Duration = Duration::from_secs(120);

fn pending_key(cursor: u64) -> String {
    format!("forward:{cursor:020}")
}

const PENDING_FLOOR: &str = "forward:floor";

fn json_err(e: serde_json::Error) -> StoreError {
    StoreError(format!("change feed entry: {e}"))
}

/// Appends a change; `make` receives its cursor. With `forward`, the change
/// is queued for the callback before it is visible in the feed, so no flush
/// can pass it by.
pub fn append(
    p: &dyn Platform,
    forward: bool,
    make: impl FnOnce(u64) -> Change,
) -> Result<Change, StoreError> {
    let cursor = FEED.allocate(p)?;
    let change = make(cursor);
    if forward {
        let item = PendingForward {
            cursor,
            attempts: 0,
            last_error: String::new(),
        };
        p.kv_set(
            &pending_key(cursor),
            &serde_json::to_vec(&item).map_err(json_err)?,
        )?;
    }
    FEED.write(p, cursor, &serde_json::to_vec(&change).map_err(json_err)?)?;
    Ok(change)
}

/// Up to `limit` changes after `cursor`, and the cursor to read on from.
pub fn read(p: &dyn Platform, cursor: u64, limit: u64) -> Result<(Vec<Change>, u64), StoreError> {
    let (entries, next) = FEED.read(p, cursor, limit)?;
    let changes = entries
        .into_iter()
        .map(|(_, bytes)| serde_json::from_slice(&bytes).map_err(json_err))
        .collect::<Result<_, _>>()?;
    Ok((changes, next))
}

/// Deletes changes received more than `retention` seconds ago.
pub fn prune(p: &dyn Platform, retention: u64) -> Result<(), StoreError> {
    let cutoff = now_unix().saturating_sub(retention);
    FEED.prune(
        p,
        PRUNE_BATCH,
        |bytes| serde_json::from_slice::<Change>(bytes).map_or(true, |c| c.received_at <= cutoff),
        |_| Ok(()),
    )
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

fn read_pending(p: &dyn Platform, cursor: u64) -> Result<Option<PendingForward>, StoreError> {
    p.kv_get(&pending_key(cursor))?
        .map(|b| serde_json::from_slice(&b).map_err(json_err))
        .transpose()
}

/// What one pending change came to.
enum Step {
    Forwarded,
    Pending(PendingForward),
    /// Nothing left to forward (done by another flush, or the entry is gone).
    Clear,
    /// Another flush holds it, or its entry is not written yet.
    Busy(Option<PendingForward>),
}

/// Forwards the change at `cursor` under its claim.
fn forward_one(
    p: &dyn Platform,
    callback: &Callback,
    cursor: u64,
    floor: u64,
) -> Result<Step, StoreError> {
    let Some(claim) = claims::acquire(p, &format!("forward:{cursor}"), FORWARD_LEASE)? else {
        return Ok(Step::Busy(read_pending(p, cursor)?));
    };
    let step = (|| {
        // Read again under the claim: a flush that just finished deleted it.
        let Some(mut item) = read_pending(p, cursor)? else {
            return Ok(Step::Clear);
        };
        let Some(bytes) = FEED.get(p, cursor)? else {
            if FEED.passable(p, cursor, FEED.floor(p)?.max(floor))? {
                p.kv_delete(&pending_key(cursor))?;
                return Ok(Step::Clear); // pruned, or its writer died
            }
            return Ok(Step::Busy(Some(item)));
        };
        let change: Change = serde_json::from_slice(&bytes).map_err(json_err)?;
        match post(p, callback, &change) {
            Ok(()) => {
                p.kv_delete(&pending_key(cursor))?;
                Ok(Step::Forwarded)
            }
            Err(why) => {
                item.attempts += 1;
                item.last_error = why;
                p.kv_set(
                    &pending_key(cursor),
                    &serde_json::to_vec(&item).map_err(json_err)?,
                )?;
                Ok(Step::Pending(item))
            }
        }
    })();
    claims::release(p, claim)?;
    step
}

/// Tries every pending change once, oldest first. Without a callback the
/// pending changes are listed and left as they are.
pub fn flush(p: &dyn Platform, callback: Option<&Callback>) -> Result<FlushResult, StoreError> {
    let head = FEED.head(p)?;
    let start: u64 = p
        .kv_get(PENDING_FLOOR)?
        .and_then(|b| String::from_utf8_lossy(&b).trim().parse().ok())
        .unwrap_or(0);
    let feed_floor = FEED.floor(p)?;
    let mut forwarded = Vec::new();
    let mut left = Vec::new();
    // Everything at or below `clear` needs no forwarding any more.
    let mut clear = start;
    let mut contiguous = true;
    for cursor in start.saturating_add(1)..=head.min(start.saturating_add(MAX_SCAN)) {
        let step = match (read_pending(p, cursor)?, callback) {
            (None, _) => {
                // Written entry, or a hole given up on: nothing to forward.
                if FEED.get(p, cursor)?.is_some() || FEED.passable(p, cursor, feed_floor)? {
                    Step::Clear
                } else {
                    Step::Busy(None)
                }
            }
            (Some(item), None) => Step::Pending(item),
            (Some(_), Some(callback)) => forward_one(p, callback, cursor, feed_floor)?,
        };
        match step {
            Step::Forwarded => forwarded.push(cursor),
            Step::Clear => {}
            Step::Pending(item) => {
                left.push(item);
                contiguous = false;
            }
            Step::Busy(item) => {
                left.extend(item);
                contiguous = false;
            }
        }
        if contiguous {
            clear = cursor;
        }
    }
    if clear != start {
        p.kv_set(PENDING_FLOOR, clear.to_string().as_bytes())?;
    }
    Ok(FlushResult {
        forwarded,
        pending: left,
    })
}
