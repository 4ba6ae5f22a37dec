//! Dispatch attempts: a row is written before `create` is called and removed
//! once the link is stored or the failure is certain to have created nothing.
//! A row left behind means an earlier dispatch may have created a work item,
//! so the next dispatch asks the plugin to adopt it first.

use anyhow::Context as _;
use rusqlite::{OptionalExtension as _, params};

use super::{Db, now};

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

impl Db {
    /// Records that a dispatch of `ticket_id` is about to be sent.
    /// The commit reaches the disk before this returns, power loss
    /// included: a create may follow that cannot be taken back.
    pub fn record_attempt(&self, ticket_id: &str, outegration: &str) -> anyhow::Result<()> {
        self.conn.pragma_update(None, "synchronous", "FULL")?;
        let recorded = self.record_attempt_tx(ticket_id, outegration);
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        recorded
    }

    fn record_attempt_tx(&self, ticket_id: &str, outegration: &str) -> anyhow::Result<()> {
        let tx = self.tx()?;
        tx.prepare_cached("INSERT INTO dispatch_attempts (ticket_id, outegration, started_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(ticket_id) DO UPDATE SET outegration = excluded.outegration, started_at = excluded.started_at")?.execute(params![ticket_id, outegration, now()],
        )
        .with_context(|| format!("recording the dispatch attempt of ticket {ticket_id}"))?;
        tx.commit()?;
        Ok(())
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
