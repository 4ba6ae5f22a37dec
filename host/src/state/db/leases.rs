//! Per-ticket leases: one writer at a time for a ticket's link.
//!
//! A `sync` (or close, reopen, dispatch) calls the plugin with the link it
//! read and stores the link the plugin returns; the webhook worker does the
//! same with a delivery. Both read-call-store sequences run in different
//! processes over the same file, and a plugin call takes far longer than a
//! SQLite transaction may stay open, so each holds a lease on the ticket
//! for the whole sequence instead. A lease expires (a crashed holder does
//! not block the ticket for ever), is taken over at once when its holder's
//! process is gone from this machine, and is released when dropped.

use std::time::{Duration, Instant};

use rusqlite::{OptionalExtension as _, params};

use super::Db;
use super::holder::{epoch_ms, holder_gone, new_holder};

/// How long a lease lasts without being released: well past a plugin
/// call's deadline, so only a crashed holder's lease expires.
pub const LEASE_TTL: Duration = Duration::from_secs(120);

/// How long a command waits for another holder before giving up.
pub const LEASE_WAIT: Duration = Duration::from_secs(90);

/// Another holder kept a ticket past [`LEASE_WAIT`]; worth retrying.
#[derive(Debug, thiserror::Error)]
#[error("ticket {0} is busy: another command or the webhook worker has held it for over {secs} s; try again", secs = LEASE_WAIT.as_secs())]
pub struct LeaseBusy(pub String);

/// A held lease on some tickets; released on drop.
#[must_use = "the lease is released when dropped"]
pub struct Lease<'a> {
    db: &'a Db,
    tickets: Vec<String>,
    holder: String,
}

impl std::fmt::Debug for Lease<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lease")
            .field("tickets", &self.tickets)
            .finish()
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        for t in &self.tickets {
            let released = self
                .db
                .conn
                .prepare_cached("DELETE FROM leases WHERE ticket_id = ?1 AND holder = ?2")
                .and_then(|mut s| s.execute(params![t, self.holder]));
            if let Err(e) = released {
                tracing::warn!(ticket = %t, "releasing a lease failed (it expires on its own): {e}");
            }
        }
    }
}

impl Db {
    /// Takes the leases of all `tickets` at once, or none: `None` when
    /// another holder has one of them.
    pub fn try_lease(&self, tickets: &[&str]) -> anyhow::Result<Option<Lease<'_>>> {
        let holder = new_holder();
        self.release_dead_holders(tickets)?;
        let now = epoch_ms();
        let expires = now + LEASE_TTL.as_millis() as i64;
        let tx = self.tx()?;
        for t in tickets {
            let taken = tx.prepare_cached("INSERT INTO leases (ticket_id, holder, expires_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT(ticket_id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
                 WHERE leases.expires_at < ?4")?.execute(params![t, holder, expires, now],
            )?;
            if taken == 0 {
                return Ok(None); // the transaction rolls back the others
            }
        }
        tx.commit()?;
        Ok(Some(Lease {
            db: self,
            tickets: tickets.iter().map(|t| t.to_string()).collect(),
            holder,
        }))
    }

    /// Takes the leases of `tickets`, waiting up to [`LEASE_WAIT`] for
    /// another holder (the webhook worker, another command) to finish.
    pub fn lease(&self, tickets: &[&str]) -> anyhow::Result<Lease<'_>> {
        let start = Instant::now();
        loop {
            if let Some(l) = self.try_lease(tickets)? {
                return Ok(l);
            }
            if start.elapsed() > LEASE_WAIT {
                return Err(LeaseBusy(tickets.join(", ")).into());
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Removes the leases on `tickets` whose holder's process is gone.
    fn release_dead_holders(&self, tickets: &[&str]) -> anyhow::Result<()> {
        for t in tickets {
            let holder: Option<String> = self
                .conn
                .prepare_cached("SELECT holder FROM leases WHERE ticket_id = ?1")?
                .query_row([t], |r| r.get(0))
                .optional()?;
            if let Some(h) = holder.filter(|h| holder_gone(h)) {
                tracing::info!(ticket = %t, "taking over the lease of a process that is gone");
                self.conn
                    .prepare_cached("DELETE FROM leases WHERE ticket_id = ?1 AND holder = ?2")?
                    .execute(params![t, h])?;
            }
        }
        Ok(())
    }

    /// Whether some holder has a live lease on `ticket` (unexpired, and not
    /// held by a process that is gone).
    pub fn leased(&self, ticket: &str) -> anyhow::Result<bool> {
        let row: Option<String> = self
            .conn
            .prepare_cached("SELECT holder FROM leases WHERE ticket_id = ?1 AND expires_at >= ?2")?
            .query_row(params![ticket, epoch_ms()], |r| r.get(0))
            .optional()?;
        Ok(row.is_some_and(|h| !holder_gone(&h)))
    }
}
