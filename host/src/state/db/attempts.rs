//! Dispatch attempts: a row is written before `create` is called and removed
//! once the link is stored or the failure is certain to have created nothing.
//! A row left behind means an earlier dispatch may have created a work item,
//! so the next dispatch asks the plugin to adopt it first.

use anyhow::Context as _;
use rusqlite::{OptionalExtension as _, params};

use super::conn::{Db, now};
use super::leases::Lease;

/// An unfinished dispatch of a ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The ticket.
    pub ticket_id: String,
    /// The outegration config path it was dispatched with.
    pub outegration: String,
    /// When it started (RFC 3339).
    pub started_at: String,
}

/// What a dispatch found when it took its ticket's lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DispatchStart {
    /// The ticket is dispatched already, as this work item.
    Linked(i32),
    /// An earlier dispatch did not finish: it may have created a work item.
    Unfinished,
    /// Nothing before: the attempt is recorded, on disk, and the create may go.
    Recorded,
}

fn insert_attempt(
    conn: &rusqlite::Connection,
    ticket_id: &str,
    outegration: &str,
) -> anyhow::Result<()> {
    conn.prepare_cached("INSERT INTO dispatch_attempts (ticket_id, outegration, started_at) VALUES (?1, ?2, ?3)
         ON CONFLICT(ticket_id) DO UPDATE SET outegration = excluded.outegration, started_at = excluded.started_at")?.execute(params![ticket_id, outegration, now()],
    )
    .with_context(|| format!("recording the dispatch attempt of ticket {ticket_id}"))?;
    Ok(())
}

impl Db {
    /// Runs `f` with every commit reaching the disk before it returns,
    /// power loss included (`synchronous = FULL`), then puts the
    /// connection's mode back as it was.
    fn with_full_sync<T>(&self, f: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<T> {
        let mode: i64 = self
            .conn
            .pragma_query_value(None, "synchronous", |r| r.get(0))?;
        self.conn.pragma_update(None, "synchronous", "FULL")?;
        let out = f();
        self.conn.pragma_update(None, "synchronous", mode)?;
        out
    }

    /// Records that a dispatch of `ticket_id` is about to be sent.
    /// The commit reaches the disk before this returns, power loss
    /// included: a create may follow that cannot be taken back.
    pub fn record_attempt(&self, ticket_id: &str, outegration: &str) -> anyhow::Result<()> {
        self.with_full_sync(|| {
            let tx = self.tx()?;
            insert_attempt(&tx, ticket_id, outegration)?;
            tx.commit()?;
            Ok(())
        })
    }

    /// Takes the lease of `ticket_id` for a dispatch (waiting for another
    /// holder as [`Db::lease`] does) and, in the same transaction, looks for
    /// its link and an unfinished attempt; when there is neither, records
    /// the attempt ([`Db::record_attempt`]: on disk before this returns).
    /// One commit where a lease and then an attempt took two.
    pub fn lease_for_dispatch(
        &self,
        ticket_id: &str,
        outegration: &str,
    ) -> anyhow::Result<(Lease<'_>, DispatchStart)> {
        self.with_full_sync(|| {
            self.lease_with(&[ticket_id], |conn| {
                if let Some(s) = self.link(ticket_id)? {
                    return Ok(DispatchStart::Linked(s.link.work_item_id));
                }
                if self.attempt(ticket_id)?.is_some() {
                    return Ok(DispatchStart::Unfinished);
                }
                insert_attempt(conn, ticket_id, outegration)?;
                Ok(DispatchStart::Recorded)
            })
        })
    }

    /// The unfinished dispatch of `ticket_id`, if any.
    pub fn attempt(&self, ticket_id: &str) -> anyhow::Result<Option<Attempt>> {
        self.conn.prepare_cached("SELECT ticket_id, outegration, started_at FROM dispatch_attempts WHERE ticket_id = ?1")?.query_row([ticket_id],
                |r| {
                    Ok(Attempt {
                        ticket_id: r.get(0)?,
                        outegration: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                        started_at: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                    })
                },
            )
            .optional()
            .with_context(|| format!("reading the dispatch attempt of ticket {ticket_id}"))
    }

    /// Forgets the dispatch attempt of `ticket_id` (its failure was definite).
    pub fn clear_attempt(&self, ticket_id: &str) -> anyhow::Result<()> {
        let tx = self.tx()?;
        tx.prepare_cached("DELETE FROM dispatch_attempts WHERE ticket_id = ?1")?
            .execute([ticket_id])?;
        tx.commit()?;
        Ok(())
    }
}
