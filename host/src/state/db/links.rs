//! Links: the work item a ticket was dispatched to, the outegration config
//! (path) it was dispatched with, every `Link` field as JSON (including the
//! plugin's opaque `sync_state`), and the ticket as last sent to Azure DevOps
//! (the `before` of the next push). A link and its snapshot are always
//! written together, in one transaction.

use anyhow::Context as _;
use rusqlite::{OptionalExtension as _, params};
use serde_json::{Value, json};

use super::conn::{Db, now};
use crate::state::ticket_file::{parse as from_json, to_json};
use crate::{Link, Ticket};

/// A stored link.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredLink {
    /// The link as the plugin last returned it.
    pub link: Link,
    /// Path of the outegration config the ticket was dispatched with.
    pub outegration: String,
    /// The ticket as of the last successful dispatch or sync.
    pub synced: Ticket,
}

/// Every field of a link as JSON.
pub fn link_to_json(l: &Link) -> String {
    json!({
        "ticket_id": l.ticket_id,
        "project": l.project,
        "work_item_type": l.work_item_type,
        "work_item_id": l.work_item_id,
        "rev": l.rev,
        "url": l.url,
        "web_url": l.web_url,
        "sync_state": l.sync_state,
    })
    .to_string()
}

/// Reads a link written by [`link_to_json`]; a missing member is named.
pub fn link_from_json(text: &str) -> anyhow::Result<Link> {
    let v: Value = serde_json::from_str(text).context("the link is not JSON")?;
    let s = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .map(str::to_string)
            .with_context(|| format!("link member `{k}` is missing or not text"))
    };
    let n = |k: &str| {
        v.get(k)
            .and_then(Value::as_i64)
            .and_then(|i| i32::try_from(i).ok())
            .with_context(|| format!("link member `{k}` is missing or not a 32-bit integer"))
    };
    Ok(Link {
        ticket_id: s("ticket_id")?,
        project: s("project")?,
        work_item_type: s("work_item_type")?,
        work_item_id: n("work_item_id")?,
        rev: n("rev")?,
        url: s("url")?,
        web_url: s("web_url")?,
        sync_state: s("sync_state")?,
    })
}

pub(super) fn write(
    tx: &rusqlite::Transaction<'_>,
    outegration: &str,
    link: &Link,
    synced: &Ticket,
) -> anyhow::Result<()> {
    tx.prepare_cached("INSERT INTO links (ticket_id, outegration, work_item_id, project, link_json, synced_ticket_json, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT(ticket_id) DO UPDATE SET outegration = excluded.outegration, work_item_id = excluded.work_item_id,
             project = excluded.project, link_json = excluded.link_json,
             synced_ticket_json = excluded.synced_ticket_json, updated_at = excluded.updated_at")?.execute(params![link.ticket_id, outegration, link.work_item_id, link.project, link_to_json(link), to_json(synced), now()],
    )
    .with_context(|| format!("storing the link of ticket {}", link.ticket_id))?;
    Ok(())
}

fn row(
    ticket_id: &str,
    outegration: String,
    link_json: &str,
    synced_json: &str,
) -> anyhow::Result<StoredLink> {
    Ok(StoredLink {
        link: link_from_json(link_json).with_context(|| {
            format!("the stored link of ticket {ticket_id} is malformed (link_json)")
        })?,
        outegration,
        synced: from_json(synced_json).with_context(|| {
            format!("the stored link of ticket {ticket_id} is malformed (synced_ticket_json)")
        })?,
    })
}

/// [`Db::store_dispatched`] inside the caller's transaction.
pub(super) fn store_dispatched_in(
    conn: &rusqlite::Transaction<'_>,
    outegration: &str,
    link: &Link,
    synced: &Ticket,
) -> anyhow::Result<()> {
    write(conn, outegration, link, synced)?;
    conn.prepare_cached("DELETE FROM dispatch_attempts WHERE ticket_id = ?1")?
        .execute([&link.ticket_id])?;
    Ok(())
}

/// [`Db::update_link`] inside the caller's transaction.
pub(super) fn update_link_in(
    tx: &rusqlite::Transaction<'_>,
    before: &Link,
    link: &Link,
    synced: Option<&Ticket>,
) -> anyhow::Result<()> {
    let (outegration, stored, snapshot): (String, String, String) = tx
        .prepare_cached(
            "SELECT outegration, link_json, synced_ticket_json FROM links WHERE ticket_id = ?1",
        )?
        .query_row([&link.ticket_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?
        .with_context(|| format!("ticket {} has no link to update", link.ticket_id))?;
    if stored != link_to_json(before) {
        anyhow::bail!(
            "the link of ticket {} changed while the plugin worked on it (a webhook delivery or another command stored one); \
             work item {} has the change, and the next `sync` reconciles the link",
            link.ticket_id,
            link.work_item_id
        );
    }
    let synced = match synced {
        Some(t) => t.clone(),
        None => from_json(&snapshot).with_context(|| {
            format!(
                "the stored snapshot of ticket {} is malformed",
                link.ticket_id
            )
        })?,
    };
    write(tx, &outegration, link, &synced)
}

impl Db {
    /// Stores the link a dispatch (or adoption) returned with the ticket as
    /// dispatched, and forgets the dispatch attempt, in one transaction.
    pub fn store_dispatched(
        &self,
        outegration: &str,
        link: &Link,
        synced: &Ticket,
    ) -> anyhow::Result<()> {
        let tx = self.tx()?;
        store_dispatched_in(&tx, outegration, link, synced)?;
        tx.commit()?;
        Ok(())
    }

    /// Replaces the stored link `before` (the one the plugin call started
    /// from) with `link`; with `synced`, its snapshot too (else the
    /// snapshot is kept). The outegration stays the one stored. When the
    /// stored link is no longer `before`, someone else stored one meanwhile
    /// (the ticket's lease expired): nothing is written, and the error says so.
    pub fn update_link(
        &self,
        before: &Link,
        link: &Link,
        synced: Option<&Ticket>,
    ) -> anyhow::Result<()> {
        let tx = self.tx()?;
        update_link_in(&tx, before, link, synced)?;
        tx.commit()?;
        Ok(())
    }

    /// The link of `ticket_id`, if any.
    pub fn link(&self, ticket_id: &str) -> anyhow::Result<Option<StoredLink>> {
        let found: Option<(String, String, String)> = self
            .conn
            .prepare_cached(
                "SELECT outegration, link_json, synced_ticket_json FROM links WHERE ticket_id = ?1",
            )?
            .query_row([ticket_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()
            .with_context(|| format!("reading the link of ticket {ticket_id}"))?;
        found.map(|(o, l, s)| row(ticket_id, o, &l, &s)).transpose()
    }

    /// Every stored link, by ticket id.
    pub fn links(&self) -> anyhow::Result<Vec<StoredLink>> {
        let mut stmt = self.conn.prepare("SELECT ticket_id, outegration, link_json, synced_ticket_json FROM links ORDER BY ticket_id")?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|(id, o, l, s)| row(&id, o, &l, &s))
            .collect()
    }
}
