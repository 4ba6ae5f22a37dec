//! The ticket lifecycle over the state database: dispatch (adopting the work
//! item of an earlier uncertain dispatch), sync, close, reopen and bulk
//! close. Each step is an outbox job ([`crate::platform::outbox`]): written first,
//! retried when it fails transiently, completed by `jobs run` when the host
//! died under it. A step reads what it needs from the [`Db`], calls the
//! plugin through the [`Host`], and stores the links (and snapshots) it
//! returns. The CLI and the demo both run through here.

use std::path::Path;

use anyhow::{Context as _, bail};

use crate::platform::outbox::{self, JobSpec, RetryPolicy};
use crate::state::db::{Db, DispatchStart, JobClaim, StoredLink};
use crate::{
    CallError, CloseItem, CloseOutcome, Connection, ConnectorError, Host, Link, PushOutcome,
    StateChange,
};

/// What a step needs: the plugin, the state, the connection, and how
/// failed steps are retried.
#[derive(Clone, Copy)]
pub struct Lifecycle<'a> {
    /// The plugin.
    pub host: &'a Host,
    /// The state database.
    pub db: &'a Db,
    /// The connection from the host config; calls on a link use the link's project.
    pub conn: &'a Connection,
    /// Retries of transient failures.
    pub retry: RetryPolicy,
}

/// How a dispatch ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Dispatched {
    /// A work item was created.
    Created(Link),
    /// The work item of an earlier, uncertain dispatch was found and adopted.
    Adopted(Link),
}

impl Dispatched {
    /// The stored link.
    pub fn link(&self) -> &Link {
        match self {
            Dispatched::Created(l) | Dispatched::Adopted(l) => l,
        }
    }
}

/// Whether a failed `create` certainly created nothing: the request was
/// refused before or when it reached Azure DevOps. Anything else (transport,
/// deadline, trap, a 5xx answer) may have created the work item. A call
/// the host was too busy to start sent nothing.
pub fn definitely_created_nothing(e: &CallError) -> bool {
    match e {
        CallError::Connector(c) => match c {
            ConnectorError::Validation(_)
            | ConnectorError::InvalidConfig(_)
            | ConnectorError::Unauthorized(_)
            | ConnectorError::Forbidden(_)
            | ConnectorError::NotFound(_)
            | ConnectorError::Denied(_)
            | ConnectorError::RateLimited(_)
            | ConnectorError::Unsupported(_) => true,
            ConnectorError::Remote(r) => r.status < 500,
            ConnectorError::Conflict(_)
            | ConnectorError::Transport(_)
            | ConnectorError::Other(_) => false,
        },
        CallError::Busy(_) => true,
        CallError::Deadline(_) | CallError::Memory | CallError::Trap(_) => false,
    }
}

pub(crate) fn read_config(path: &str) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading the outegration config {path}"))
}

/// The outegration path as stored: absolute when it can be resolved.
pub fn outegration_key(path: &Path) -> String {
    std::fs::canonicalize(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

/// Keeps the [`CallError`] inside, so the outbox can tell transient from permanent.
fn call(e: CallError) -> anyhow::Error {
    anyhow::Error::new(e)
}

impl<'a> Lifecycle<'a> {
    /// A lifecycle with the default retry policy.
    pub fn new(host: &'a Host, db: &'a Db, conn: &'a Connection) -> Lifecycle<'a> {
        Lifecycle {
            host,
            db,
            conn,
            retry: RetryPolicy::default(),
        }
    }

    /// Runs `spec` as an outbox job.
    fn job<T>(
        &self,
        spec: JobSpec,
        exec: impl FnMut(&JobSpec, &JobClaim) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        outbox::submit(self.db, &self.retry, &spec, exec)
    }

    /// The connection for calls on a link: the link's project.
    fn conn_for(&self, link: &Link) -> Connection {
        Connection {
            project: link.project.clone(),
            ..self.conn.clone()
        }
    }

    fn linked(&self, ticket_id: &str) -> anyhow::Result<StoredLink> {
        self.db
            .link(ticket_id)?
            .with_context(|| format!("ticket {ticket_id} has no work item yet: dispatch it first"))
    }

    /// Dispatches a stored ticket with the config at `outegration`.
    pub fn dispatch(&self, ticket_id: &str, outegration: &Path) -> anyhow::Result<Dispatched> {
        let key = outegration_key(outegration);
        let config = read_config(&key)?;
        self.dispatch_job(ticket_id, &key, &config, false)
    }

    /// Dispatches a stored ticket with config text in hand (a ticketing
    /// rule's, which adjusts the file's); the link records `key`.
    pub fn dispatch_with(
        &self,
        ticket_id: &str,
        key: &str,
        config: &str,
    ) -> anyhow::Result<Dispatched> {
        self.dispatch_job(ticket_id, key, config, true)
    }

    /// The dispatch job; `own_config`: the config text is not the file's
    /// (the job keeps it, so that a run after a crash uses it too).
    fn dispatch_job(
        &self,
        ticket_id: &str,
        key: &str,
        config: &str,
        own_config: bool,
    ) -> anyhow::Result<Dispatched> {
        if let Some(existing) = self.db.link(ticket_id)? {
            bail!(
                "ticket {ticket_id} is already dispatched as work item {}; use `sync`",
                existing.link.work_item_id
            );
        }
        let spec = JobSpec::Dispatch {
            ticket: ticket_id.to_string(),
            outegration: key.to_string(),
            config: own_config.then(|| config.to_string()),
        };
        self.job(spec, |_, job| {
            self.dispatch_now(job, ticket_id, key, config)
        })
    }

    /// One attempt at a dispatch, as outbox job `job`. Three commits: the
    /// lease with the attempt (on disk before the create is sent), and
    /// after the create the link with the lease's release and the job
    /// settled ([`crate::state::db::Finish`]).
    pub(crate) fn dispatch_now(
        &self,
        job: &JobClaim,
        ticket_id: &str,
        key: &str,
        config: &str,
    ) -> anyhow::Result<Dispatched> {
        // Read before the lease: a ticket that cannot be read leaves no
        // attempt behind. Nothing that holds a lease edits a ticket that
        // has no link yet.
        let ticket = self.db.ticket(ticket_id)?;
        // Two dispatches of one ticket at once would create two work items.
        let (lease, start) = self.db.lease_for_dispatch(ticket_id, key)?;
        match start {
            DispatchStart::Linked(work_item) => bail!(
                "ticket {ticket_id} is already dispatched as work item {work_item}; use `sync`"
            ),
            DispatchStart::Unfinished => {
                let adopted = self
                    .host
                    .adopt(self.conn, config, &ticket)
                    .map_err(|e| call(e).context(format!("an earlier dispatch of {ticket_id} did not finish, and looking for its work item failed")))?;
                if let Some(link) = adopted {
                    self.db.finish_step(lease, Some(job), |f| {
                        f.store_dispatched(key, &link, &ticket)
                    })?;
                    return Ok(Dispatched::Adopted(link));
                }
                self.db.record_attempt(ticket_id, key)?;
            }
            DispatchStart::Recorded => {}
        }
        match self.host.create(self.conn, config, &ticket) {
            Ok(link) => {
                self.db.finish_step(lease, Some(job), |f| {
                    f.store_dispatched(key, &link, &ticket)
                })?;
                Ok(Dispatched::Created(link))
            }
            Err(e) => {
                if definitely_created_nothing(&e) {
                    self.db.clear_attempt(ticket_id)?;
                }
                Err(call(e))
            }
        }
    }

    /// Pushes the ticket's changes since the last sync; stores the new link
    /// and the ticket as pushed.
    pub fn sync(&self, ticket_id: &str) -> anyhow::Result<PushOutcome> {
        self.sync_with(ticket_id, None)
    }

    /// [`Self::sync`] with config text in hand (a ticketing rule's); none:
    /// the link's config file.
    pub fn sync_with(&self, ticket_id: &str, config: Option<&str>) -> anyhow::Result<PushOutcome> {
        self.linked(ticket_id)?;
        let spec = JobSpec::Sync {
            ticket: ticket_id.to_string(),
            config: config.map(str::to_string),
        };
        self.job(spec, |_, job| self.sync_now(job, ticket_id, config))
    }

    /// One attempt at a sync.
    pub(crate) fn sync_now(
        &self,
        job: &JobClaim,
        ticket_id: &str,
        config: Option<&str>,
    ) -> anyhow::Result<PushOutcome> {
        let lease = self.db.lease(&[ticket_id])?;
        let stored = self.linked(ticket_id)?;
        let after = self.db.ticket(ticket_id)?;
        let config = match config {
            Some(c) => c.to_string(),
            None => read_config(&stored.outegration)?,
        };
        let outcome = self
            .host
            .push(
                &self.conn_for(&stored.link),
                &config,
                &stored.link,
                &stored.synced,
                &after,
            )
            .map_err(call)?;
        self.db.finish_step(lease, Some(job), |f| {
            f.update_link(&stored.link, &outcome.link, Some(&after))
        })?;
        Ok(outcome)
    }

    /// Closes the work item of a ticket.
    pub fn close(&self, ticket_id: &str, reason: &str) -> anyhow::Result<StateChange> {
        self.linked(ticket_id)?;
        let spec = JobSpec::Close {
            ticket: ticket_id.to_string(),
            reason: reason.to_string(),
        };
        self.job(spec, |_, job| self.close_now(job, ticket_id, reason))
    }

    pub(crate) fn close_now(
        &self,
        job: &JobClaim,
        ticket_id: &str,
        reason: &str,
    ) -> anyhow::Result<StateChange> {
        self.state_change_now(job, ticket_id, reason, false)
    }

    /// A close, or with `reopen` a reopen: the same step but for the
    /// plugin's call.
    fn state_change_now(
        &self,
        job: &JobClaim,
        ticket_id: &str,
        reason: &str,
        reopen: bool,
    ) -> anyhow::Result<StateChange> {
        let lease = self.db.lease(&[ticket_id])?;
        let stored = self.linked(ticket_id)?;
        let config = read_config(&stored.outegration)?;
        let conn = self.conn_for(&stored.link);
        let change = if reopen {
            self.host.reopen(&conn, &config, &stored.link, reason)
        } else {
            self.host.close(&conn, &config, &stored.link, reason)
        }
        .map_err(call)?;
        self.db.finish_step(lease, Some(job), |f| {
            f.update_link(&stored.link, &change.link, None)
        })?;
        Ok(change)
    }

    /// Reopens the work item of a ticket.
    pub fn reopen(&self, ticket_id: &str, reason: &str) -> anyhow::Result<StateChange> {
        self.linked(ticket_id)?;
        let spec = JobSpec::Reopen {
            ticket: ticket_id.to_string(),
            reason: reason.to_string(),
        };
        self.job(spec, |_, job| self.reopen_now(job, ticket_id, reason))
    }

    pub(crate) fn reopen_now(
        &self,
        job: &JobClaim,
        ticket_id: &str,
        reason: &str,
    ) -> anyhow::Result<StateChange> {
        self.state_change_now(job, ticket_id, reason, true)
    }

    /// Closes the work items of many tickets in one `bulk-close` call, each
    /// with its own config; one result per ticket, in order. A ticket without
    /// a link (or whose config cannot be read) fails alone; the rest go on.
    pub fn bulk_close(
        &self,
        ticket_ids: &[String],
        reason: &str,
    ) -> anyhow::Result<Vec<(String, anyhow::Result<CloseOutcome>)>> {
        let spec = JobSpec::BulkClose {
            tickets: ticket_ids.to_vec(),
            reason: reason.to_string(),
        };
        self.job(spec, |_, _| self.bulk_close_now(ticket_ids, reason))
    }

    pub(crate) fn bulk_close_now(
        &self,
        ticket_ids: &[String],
        reason: &str,
    ) -> anyhow::Result<Vec<(String, anyhow::Result<CloseOutcome>)>> {
        let mut leased: Vec<&str> = ticket_ids.iter().map(String::as_str).collect();
        leased.sort_unstable();
        leased.dedup();
        let _lease = self.db.lease(&leased)?;
        let mut results: Vec<(String, Option<anyhow::Result<CloseOutcome>>)> =
            Vec::with_capacity(ticket_ids.len());
        let mut items = Vec::with_capacity(ticket_ids.len());
        for id in ticket_ids {
            let item = self.linked(id).and_then(|s| {
                Ok(CloseItem {
                    config: read_config(&s.outegration)?,
                    link: s.link,
                })
            });
            match item {
                Ok(item) => {
                    items.push(item);
                    results.push((id.clone(), None));
                }
                Err(e) => results.push((id.clone(), Some(Err(e)))),
            }
        }
        let mut outcomes = if items.is_empty() {
            Vec::new()
        } else {
            self.host
                .bulk_close(self.conn, &items, reason)
                .map_err(call)?
        };
        if outcomes.len() != items.len() {
            bail!(
                "the plugin answered {} outcomes for {} items",
                outcomes.len(),
                items.len()
            );
        }
        for (o, item) in outcomes.iter().zip(&items) {
            match o {
                CloseOutcome::Closed(change) => {
                    self.db.update_link(&item.link, &change.link, None)?
                }
                CloseOutcome::AlreadyClosed(link) => self.db.update_link(&item.link, link, None)?,
                CloseOutcome::Failed(_) => {}
            }
        }
        outcomes.reverse();
        Ok(results
            .into_iter()
            .map(|(id, r)| {
                let r = r.unwrap_or_else(|| {
                    Ok(outcomes.pop().expect("one outcome per item, counted above"))
                });
                (id, r)
            })
            .collect())
    }
}
