//! Claims: which of several simultaneous requests (on one instance or on
//! replicas sharing the store) does a piece of work that must happen once:
//! create a ticket's work item, apply an ADO event, forward a change.
//!
//! A claim is the `wasi:keyvalue/atomics` `increment` of `claim:{name}`: the
//! request that gets 1 holds it; every other one gets a larger number and
//! backs off. Spin serves `increment` atomically on both of its backends
//! (SQLite: read and write in one transaction under the store's lock; Redis:
//! `INCRBY`). Compare-and-swap is deliberately not used: on Spin's SQLite
//! store a `swap` whose `current` found no value is an unconditional upsert
//! (`INSERT ... ON CONFLICT DO UPDATE`), so two requests creating the same
//! key would both succeed.
//!
//! The holder then writes a lease (`claim:{name}:lease`: an id and an
//! expiry). A holder that died mid-request (its replica was killed) leaves
//! its counter behind; once its lease has expired, one request takes the
//! claim over, and taking over is itself a claim (`increment` of
//! `claim:{name}:takeover:{lease id}`), so two requests never take over the
//! same lease. A counter found without a lease (the holder died between its
//! two writes) gets an orphan lease, which expires the same way. Releasing
//! deletes the lease, then the counter; a holder whose lease was taken over
//! (it outlived its lease) leaves the new holder's claim alone.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::platform::{Platform, StoreError, now_unix};

/// A claim held by this request; give it back with [`release`].
#[derive(Debug)]
pub struct Claim {
    name: String,
    lease_id: String,
    /// The lease this claim took over, whose takeover counter goes on release.
    took_over: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Lease {
    id: String,
    expires: u64,
    /// Written by a request that found the counter without a lease.
    #[serde(default)]
    orphan: bool,
}

fn counter_key(name: &str) -> String {
    format!("claim:{name}")
}

fn lease_key(name: &str) -> String {
    format!("claim:{name}:lease")
}

fn takeover_key(name: &str, lease_id: &str) -> String {
    format!("claim:{name}:takeover:{lease_id}")
}

/// An id no other lease has: the counter value and the clock's nanoseconds.
fn lease_id(n: i64) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{n}-{nanos}")
}

fn read_lease(p: &dyn Platform, name: &str) -> Result<Option<Lease>, StoreError> {
    // A lease that cannot be read counts as none: it is replaced.
    Ok(p.kv_get(&lease_key(name))?
        .and_then(|b| serde_json::from_slice(&b).ok()))
}

fn write_lease(p: &dyn Platform, name: &str, lease: &Lease) -> Result<(), StoreError> {
    let bytes = serde_json::to_vec(lease).map_err(|e| StoreError(e.to_string()))?;
    p.kv_set(&lease_key(name), &bytes)
}

/// Holds the claim: writes its lease.
fn hold(
    p: &dyn Platform,
    name: &str,
    n: i64,
    expires: u64,
    took_over: Option<String>,
) -> Result<Claim, StoreError> {
    let claim = Claim {
        name: name.to_string(),
        lease_id: lease_id(n),
        took_over,
    };
    let lease = Lease {
        id: claim.lease_id.clone(),
        expires,
        orphan: false,
    };
    write_lease(p, name, &lease)?;
    Ok(claim)
}

/// Claims `name` for `lease` (longer than the work can take). `None`: another
/// request holds it.
pub fn acquire(p: &dyn Platform, name: &str, lease: Duration) -> Result<Option<Claim>, StoreError> {
    let n = p.kv_increment(&counter_key(name), 1)?;
    let expires = now_unix().saturating_add(lease.as_secs().max(1));
    if n == 1 {
        return hold(p, name, n, expires, None).map(Some);
    }
    match read_lease(p, name)? {
        Some(old) if old.expires <= now_unix() => {
            if p.kv_increment(&takeover_key(name, &old.id), 1)? != 1 {
                return Ok(None);
            }
            hold(p, name, n, expires, Some(old.id)).map(Some)
        }
        Some(_) => Ok(None),
        None => {
            let orphan = Lease {
                id: lease_id(-n),
                expires,
                orphan: true,
            };
            write_lease(p, name, &orphan)?;
            Ok(None)
        }
    }
}

/// Gives the claim back, unless its lease was taken over meanwhile.
pub fn release(p: &dyn Platform, claim: Claim) -> Result<(), StoreError> {
    let ours = match read_lease(p, &claim.name)? {
        Some(lease) => lease.id == claim.lease_id || lease.orphan,
        None => true,
    };
    if let Some(old) = &claim.took_over {
        p.kv_delete(&takeover_key(&claim.name, old))?;
    }
    if ours {
        p.kv_delete(&lease_key(&claim.name))?;
        p.kv_delete(&counter_key(&claim.name))?;
    }
    Ok(())
}
