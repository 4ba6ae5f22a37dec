//! A lifecycle step's last transaction: what the step stores (a dispatch's
//! link, a sync's or close's new link), the release of its lease on the
//! ticket, and its outbox job settled done, in one commit. Apart, they were
//! three commits per operation, each a write of the WAL under the
//! database's single write lock, which `dispatch --jobs` workers, the
//! webhook worker and commands all queue for.

use super::conn::Db;
use super::jobs::{JobClaim, JobState, settle_in};
use super::leases::Lease;
use super::links::{store_dispatched_in, update_link_in};
use crate::{Link, Ticket};

/// The open last transaction of a step; nothing is stored until
/// [`Finish::commit`], and dropping it rolls back.
pub struct Finish<'a> {
    tx: rusqlite::Transaction<'a>,
}

impl std::fmt::Debug for Finish<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Finish").finish_non_exhaustive()
    }
}

impl Db {
    /// Opens a step's last transaction.
    pub fn finish(&self) -> anyhow::Result<Finish<'_>> {
        Ok(Finish { tx: self.tx()? })
    }

    /// Runs `write` in a step's last transaction and commits it with
    /// `lease` released and `job` settled done ([`Finish::commit`]). When
    /// `write` fails nothing is stored and the lease is released on drop.
    pub fn finish_step(
        &self,
        lease: Lease<'_>,
        job: Option<&JobClaim>,
        write: impl FnOnce(&Finish<'_>) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let finish = self.finish()?;
        write(&finish)?;
        finish.commit(lease, job)
    }
}

impl Finish<'_> {
    /// [`Db::store_dispatched`], in this transaction.
    pub fn store_dispatched(
        &self,
        outegration: &str,
        link: &Link,
        synced: &Ticket,
    ) -> anyhow::Result<()> {
        store_dispatched_in(&self.tx, outegration, link, synced)
    }

    /// [`Db::update_link`], in this transaction.
    pub fn update_link(
        &self,
        before: &Link,
        link: &Link,
        synced: Option<&Ticket>,
    ) -> anyhow::Result<()> {
        update_link_in(&self.tx, before, link, synced)
    }

    /// Releases `lease`, settles `job` done (when the step runs as one),
    /// and commits. Should the commit fail, nothing is stored, the lease is
    /// released when dropped as usual, and the job stays the outbox's to settle.
    pub fn commit(self, lease: Lease<'_>, job: Option<&JobClaim>) -> anyhow::Result<()> {
        lease.delete_in(&self.tx)?;
        if let Some(j) = job {
            settle_in(&self.tx, j.id, &j.holder, JobState::Done, None, None)?;
        }
        self.tx.commit()?;
        lease.released();
        if let Some(j) = job {
            j.mark_settled();
        }
        Ok(())
    }
}
