//! Tickets, stored whole in the ticket file format ([`crate::state::ticket_file`]).
//! An edit reads, changes and writes the ticket in one transaction; when the
//! change fails, the stored ticket is left as it was.

use anyhow::{Context as _, bail};
use rusqlite::{OptionalExtension as _, params};

use super::conn::{Db, now};
use crate::Ticket;
use crate::state::ticket_file::{parse as from_json, to_json};

impl Db {
    /// Inserts the ticket, or replaces the stored one with the same id.
    pub fn put_ticket(&self, t: &Ticket) -> anyhow::Result<()> {
        if t.id.trim().is_empty() {
            bail!("a ticket needs a non-empty `id`");
        }
        let tx = self.tx()?;
        upsert(&tx, t)?;
        tx.commit()?;
        Ok(())
    }

    /// The stored ticket `id`, if any.
    pub fn find_ticket(&self, id: &str) -> anyhow::Result<Option<Ticket>> {
        let json: Option<String> = self
            .conn
            .prepare_cached("SELECT json FROM tickets WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()
            .with_context(|| format!("reading ticket {id}"))?;
        json.map(|j| from_json(&j).with_context(|| format!("the stored ticket {id} is malformed")))
            .transpose()
    }

    /// The stored ticket `id`; an error naming it when there is none.
    pub fn ticket(&self, id: &str) -> anyhow::Result<Ticket> {
        self.find_ticket(id)?.with_context(|| {
            format!("unknown ticket `{id}`: import it first (`ticket import <file>`)")
        })
    }

    /// Ids of every stored ticket, sorted.
    pub fn ticket_ids(&self) -> anyhow::Result<Vec<String>> {
        let mut stmt = self.conn.prepare("SELECT id FROM tickets ORDER BY id")?;
        let ids = stmt
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(ids)
    }

    /// Applies `change` to the stored ticket `id` and stores the result, in
    /// one transaction. When `change` fails, or its result changes the id,
    /// nothing is stored.
    pub fn update_ticket(
        &self,
        id: &str,
        change: impl FnOnce(Ticket) -> anyhow::Result<Ticket>,
    ) -> anyhow::Result<Ticket> {
        let tx = self.tx()?;
        let json: String = tx
            .prepare_cached("SELECT json FROM tickets WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?
            .with_context(|| {
                format!("unknown ticket `{id}`: import it first (`ticket import <file>`)")
            })?;
        let before =
            from_json(&json).with_context(|| format!("the stored ticket {id} is malformed"))?;
        let after = change(before).with_context(|| format!("ticket {id} was not changed"))?;
        if after.id != id {
            bail!(
                "ticket {id} was not changed: the change would rename it to `{}`",
                after.id
            );
        }
        upsert(&tx, &after)?;
        tx.commit()?;
        Ok(after)
    }
}

pub(super) fn upsert(tx: &rusqlite::Transaction<'_>, t: &Ticket) -> anyhow::Result<()> {
    tx.prepare_cached(
        "INSERT INTO tickets (id, json, updated_at) VALUES (?1, ?2, ?3)
         ON CONFLICT(id) DO UPDATE SET json = excluded.json, updated_at = excluded.updated_at",
    )?
    .execute(params![t.id, to_json(t), now()])
    .with_context(|| format!("storing ticket {}", t.id))?;
    Ok(())
}
