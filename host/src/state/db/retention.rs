//! Retention: what the state database forgets. A delivered inbox row (its
//! body is a copy of an ADO event, already applied) and a finished outbox
//! job are kept [`DEFAULT_RETENTION`] (7 days; `serve --retention-days`,
//! `db prune --older-than-days`) for a person looking into what happened,
//! then deleted, so the database stays bounded under a steady load: SQLite
//! reuses the freed pages. Pending rows and open, dead or failed jobs are
//! never pruned: they are work, or await a person.

use std::time::Duration;

use anyhow::Context as _;
use rusqlite::params;

use super::conn::Db;

/// How long delivered inbox rows and finished jobs are kept.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);

/// What a prune deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    pub inbox_rows: usize,
    pub jobs: usize,
}

/// The RFC 3339 time `keep` ago, as the tables store times.
fn cutoff(keep: Duration) -> String {
    let then = time::OffsetDateTime::now_utc()
        - time::Duration::try_from(keep).unwrap_or(time::Duration::MAX);
    then.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

impl Db {
    /// Deletes delivered inbox rows and finished jobs older than `keep`.
    pub fn prune(&self, keep: Duration) -> anyhow::Result<Pruned> {
        let before = cutoff(keep);
        let tx = self.tx()?;
        let inbox_rows = tx
            .prepare_cached(
                "DELETE FROM inbox WHERE done = 1 AND COALESCE(processed_at, received_at) < ?1",
            )?
            .execute(params![before])
            .context("pruning delivered inbox rows")?;
        let jobs = tx
            .prepare_cached("DELETE FROM jobs WHERE state = 'done' AND updated_at < ?1")?
            .execute(params![before])
            .context("pruning finished jobs")?;
        tx.commit()?;
        Ok(Pruned { inbox_rows, jobs })
    }
}
