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

use super::conn::Db;
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

/// A held lease on some tickets; released on drop, or in the step's last
/// transaction ([`super::finish::Finish::commit`]).
#[must_use = "the lease is released when dropped"]
pub struct Lease<'a> {
    db: &'a Db,
    tickets: Vec<String>,
    holder: String,
    /// Its rows were deleted by a committed transaction: nothing left to drop.
    released: bool,
}

impl std::fmt::Debug for Lease<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lease")
            .field("tickets", &self.tickets)
            .finish()
    }
}

impl Lease<'_> {
    /// Deletes the lease's rows inside the caller's transaction. The lease
    /// counts as released only once that transaction commits
    /// ([`Lease::released`]); until then, dropping it still releases it.
    pub(super) fn delete_in(&self, conn: &rusqlite::Connection) -> rusqlite::Result<()> {
        for t in &self.tickets {
            conn.prepare_cached("DELETE FROM leases WHERE ticket_id = ?1 AND holder = ?2")?
                .execute(params![t, self.holder])?;
        }
        Ok(())
    }

    /// The transaction that ran [`Lease::delete_in`] committed.
    pub(super) fn released(mut self) {
        self.released = true;
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if self.released {
            return;
        }
        if let Err(e) = self.delete_in(&self.db.conn) {
            tracing::warn!(tickets = ?self.tickets, "releasing a lease failed (it expires on its own): {e}");
        }
    }
}

impl Db {
    /// Takes the leases of all `tickets` at once, or none: `None` when
    /// another holder has one of them.
    pub fn try_lease(&self, tickets: &[&str]) -> anyhow::Result<Option<Lease<'_>>> {
        Ok(self.try_lease_with(tickets, |_| Ok(()))?.map(|(l, ())| l))
    }

    /// [`Db::try_lease`], running `then` in the transaction that takes the
    /// leases (only once they are taken): what a step must read or write
    /// under its lease before its plugin call costs no commit of its own.
    fn try_lease_with<T>(
        &self,
        tickets: &[&str],
        then: impl FnOnce(&rusqlite::Connection) -> anyhow::Result<T>,
    ) -> anyhow::Result<Option<(Lease<'_>, T)>> {
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
        let out = then(&tx)?;
        tx.commit()?;
        let lease = Lease {
            db: self,
            tickets: tickets.iter().map(|t| t.to_string()).collect(),
            holder,
            released: false,
        };
        Ok(Some((lease, out)))
    }

    /// Takes the leases of `tickets`, waiting up to [`LEASE_WAIT`] for
    /// another holder (the webhook worker, another command) to finish.
    pub fn lease(&self, tickets: &[&str]) -> anyhow::Result<Lease<'_>> {
        Ok(self.lease_with(tickets, |_| Ok(()))?.0)
    }

    /// [`Db::lease`], running `then` in the transaction that takes them
    /// (see [`Db::try_lease_with`]); `then` runs once, in the try that takes them.
    pub(super) fn lease_with<T>(
        &self,
        tickets: &[&str],
        mut then: impl FnMut(&rusqlite::Connection) -> anyhow::Result<T>,
    ) -> anyhow::Result<(Lease<'_>, T)> {
        let start = Instant::now();
        loop {
            if let Some(l) = self.try_lease_with(tickets, &mut then)? {
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
