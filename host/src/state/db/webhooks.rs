//! Webhook state: the durable inbox of accepted deliveries, the
//! per-outegration webhook credentials and the subscriptions made with them.
//!
//! A delivery is inserted (the headers the plugin needs to authenticate it,
//! the body, the event id) in a committed transaction before the server
//! acknowledges it. The worker then applies the plugin's ticket update, the
//! updated link and the row's `done` mark in one transaction, so a crash
//! either leaves the row pending (processed again, and the plugin's duplicate
//! detection on the stored link plus the `done` mark keep it from applying
//! twice) or finished.

use anyhow::Context as _;
use rusqlite::{OptionalExtension as _, params};

use super::links::write;
use super::{Db, now};
use crate::state::ticket_file::{parse as from_json, to_json};
use crate::{Comment, Field, Link, Ticket, TicketUpdate};

/// A delivery accepted into the inbox.
#[derive(Debug, Clone, PartialEq)]
pub struct InboxRow {
    pub id: i64,
    /// Outegration key (config path).
    pub outegration: String,
    pub event_id: String,
    pub event_type: String,
    pub work_item_id: i32,
    /// Header names (lower case) and values, as received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub done: bool,
    /// What processing did (`applied ...`, `ignored: ...`, `no link ...`).
    pub result: Option<String>,
}

/// Webhook basic-auth credentials of an outegration.
#[derive(Clone, PartialEq)]
pub struct HookCredentials {
    /// Outegration key (config path).
    pub outegration: String,
    /// Endpoint name: `/hooks/{name}`.
    pub name: String,
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for HookCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HookCredentials")
            .field("outegration", &self.outegration)
            .field("name", &self.name)
            .field("username", &self.username)
            .field("password", &"********")
            .finish()
    }
}

/// A stored subscription.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSubscription {
    pub id: String,
    pub outegration: String,
    pub event_type: String,
    pub url: String,
}

/// An authenticated delivery, to be stored.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub outegration: String,
    pub event_id: String,
    pub event_type: String,
    pub work_item_id: i32,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Sets the fields and adds the comments (once: by comment id) of an update,
/// as `ticketing_model::update` does for every host.
pub fn apply_update(t: Ticket, fields: &[Field], comments: &[Comment]) -> Ticket {
    use ticketing_runtime::convert as c;
    let mut model = c::ticket_to_model(&t);
    let fields: Vec<_> = fields.iter().map(c::field_to_model).collect();
    let comments: Vec<_> = comments.iter().map(c::comment_to_model).collect();
    ticketing_runtime::model::update::apply_update(&mut model, &fields, &comments);
    c::ticket_from_model(model)
}

fn random_password() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// The headers an inbox row keeps: not `Authorization`, `Cookie` or any
/// header named like a credential (a shared-secret header's
/// `X-...-Secret`, a token, a signature). The delivery was authenticated
/// before it was stored; processing it needs only its body.
fn without_credentials(headers: &[(String, String)]) -> Vec<(String, String)> {
    const CREDENTIAL: [&str; 8] = [
        "auth",
        "cookie",
        "token",
        "secret",
        "password",
        "key",
        "signature",
        "credential",
    ];
    headers
        .iter()
        .filter(|(name, _)| {
            let name = name.to_ascii_lowercase();
            !CREDENTIAL.iter().any(|c| name.contains(c))
        })
        .cloned()
        .collect()
}

type RawRow = (
    i64,
    String,
    String,
    String,
    i32,
    String,
    Vec<u8>,
    bool,
    Option<String>,
);

fn inbox_row(r: RawRow) -> anyhow::Result<InboxRow> {
    let headers = serde_json::from_str(&r.5)
        .with_context(|| format!("inbox row {}: malformed headers_json", r.0))?;
    Ok(InboxRow {
        id: r.0,
        outegration: r.1,
        event_id: r.2,
        event_type: r.3,
        work_item_id: r.4,
        headers,
        body: r.6,
        done: r.7,
        result: r.8,
    })
}

const INBOX_COLUMNS: &str =
    "id, outegration, event_id, event_type, work_item_id, headers_json, body, done, result";

impl Db {
    /// Inserts an accepted delivery; committed when this returns. Its row id.
    pub fn inbox_insert(
        &self,
        outegration: &str,
        event_id: &str,
        event_type: &str,
        work_item_id: i32,
        headers: &[(String, String)],
        body: &[u8],
    ) -> anyhow::Result<i64> {
        let tx = self.tx()?;
        tx.prepare_cached("INSERT INTO inbox (outegration, event_id, event_type, work_item_id, headers_json, body, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")?.execute(params![outegration, event_id, event_type, work_item_id, serde_json::to_string(&without_credentials(headers))?, body, now()],
        )
        .context("storing a webhook delivery in the inbox")?;
        let id = tx.last_insert_rowid();
        tx.commit()?;
        Ok(id)
    }

    /// Inserts accepted deliveries in one transaction (see
    /// `inbox_writer`); their row ids, in order, once committed.
    pub fn inbox_insert_many(&self, rows: &[&NewDelivery]) -> anyhow::Result<Vec<i64>> {
        let tx = self.tx()?;
        let mut ids = Vec::with_capacity(rows.len());
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO inbox (outegration, event_id, event_type, work_item_id, headers_json, body, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            let received = now();
            for d in rows {
                insert
                    .execute(params![
                        d.outegration,
                        d.event_id,
                        d.event_type,
                        d.work_item_id,
                        serde_json::to_string(&without_credentials(&d.headers))?,
                        d.body,
                        received
                    ])
                    .context("storing a webhook delivery in the inbox")?;
                ids.push(tx.last_insert_rowid());
            }
        }
        tx.commit()?;
        Ok(ids)
    }

    /// The pending inbox rows, oldest first.
    pub fn inbox_pending(&self) -> anyhow::Result<Vec<InboxRow>> {
        self.inbox_query(&format!(
            "SELECT {INBOX_COLUMNS} FROM inbox WHERE done = 0 ORDER BY id"
        ))
    }

    /// The pending inbox rows of work items whose id is `index` modulo
    /// `of` (one inbox worker's share), oldest first.
    pub fn inbox_pending_part(&self, index: u32, of: u32) -> anyhow::Result<Vec<InboxRow>> {
        if of <= 1 {
            return self.inbox_pending();
        }
        self.inbox_query(&format!(
            "SELECT {INBOX_COLUMNS} FROM inbox WHERE done = 0 AND abs(work_item_id) % {of} = {index} ORDER BY id"
        ))
    }

    /// Every inbox row, oldest first.
    pub fn inbox(&self) -> anyhow::Result<Vec<InboxRow>> {
        self.inbox_query(&format!("SELECT {INBOX_COLUMNS} FROM inbox ORDER BY id"))
    }

    fn inbox_query(&self, sql: &str) -> anyhow::Result<Vec<InboxRow>> {
        let mut stmt = self.conn.prepare(sql)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<RawRow>>>()?;
        rows.into_iter().map(inbox_row).collect()
    }

    /// Marks an inbox row done without changing anything else.
    pub fn inbox_finish(&self, id: i64, result: &str) -> anyhow::Result<()> {
        self.conn
            .prepare_cached(
                "UPDATE inbox SET done = 1, result = ?2, processed_at = ?3 WHERE id = ?1",
            )?
            .execute(params![id, result, now()])?;
        Ok(())
    }

    /// Applies a ticket update and marks inbox row `id` done, in one
    /// transaction: the fields and comments go into the stored ticket and
    /// into the link's snapshot (so the next push does not send them back),
    /// the deleted flag and the updated link are stored. `before` is the link
    /// the update was computed from: when the stored one differs (a sync
    /// stored a newer one meanwhile), nothing is written and `false` comes
    /// back, for the caller to handle the delivery again. A row already done
    /// is left alone (`true`).
    pub fn inbox_apply(
        &self,
        id: i64,
        before: &Link,
        update: &TicketUpdate,
        result: &str,
    ) -> anyhow::Result<bool> {
        let tx = self.tx()?;
        let done: bool = tx
            .prepare_cached("SELECT done FROM inbox WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .with_context(|| format!("inbox row {id}"))?;
        if done {
            return Ok(true);
        }
        let ticket_id = &update.link.ticket_id;
        let (outegration, link_json, snapshot): (String, String, String) = tx
            .prepare_cached(
                "SELECT outegration, link_json, synced_ticket_json FROM links WHERE ticket_id = ?1",
            )?
            .query_row([ticket_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?
            .with_context(|| format!("ticket {ticket_id} has no link"))?;
        if link_json != super::link_to_json(before) {
            return Ok(false);
        }
        let json: String = tx
            .prepare_cached("SELECT json FROM tickets WHERE id = ?1")?
            .query_row([ticket_id], |r| r.get(0))
            .optional()?
            .with_context(|| format!("unknown ticket `{ticket_id}`"))?;
        let ticket = from_json(&json)
            .with_context(|| format!("the stored ticket {ticket_id} is malformed"))?;
        let snapshot = from_json(&snapshot)
            .with_context(|| format!("the stored snapshot of ticket {ticket_id} is malformed"))?;
        let ticket = apply_update(ticket, &update.fields, &update.comments);
        let snapshot = apply_update(snapshot, &update.fields, &update.comments);
        if !update.fields.is_empty() || !update.comments.is_empty() {
            tx.prepare_cached("UPDATE tickets SET json = ?2, updated_at = ?3 WHERE id = ?1")?
                .execute(params![ticket_id, to_json(&ticket), now()])?;
        }
        write(&tx, &outegration, &update.link, &snapshot)?;
        if let Some(deleted) = update.deleted {
            tx.prepare_cached("UPDATE links SET deleted = ?2 WHERE ticket_id = ?1")?
                .execute(params![ticket_id, deleted])?;
        }
        tx.prepare_cached(
            "UPDATE inbox SET done = 1, result = ?2, processed_at = ?3 WHERE id = ?1",
        )?
        .execute(params![id, result, now()])?;
        tx.commit()?;
        Ok(true)
    }

    /// The link (with its outegration) of a work item, if any.
    pub fn link_by_work_item(
        &self,
        outegration: &str,
        work_item_id: i32,
    ) -> anyhow::Result<Option<Link>> {
        let json: Option<String> = self
            .conn
            .prepare_cached(
                "SELECT link_json FROM links WHERE outegration = ?1 AND work_item_id = ?2",
            )?
            .query_row(params![outegration, work_item_id], |r| r.get(0))
            .optional()?;
        json.map(|j| {
            super::link_from_json(&j).with_context(|| {
                format!("the stored link of work item {work_item_id} is malformed")
            })
        })
        .transpose()
    }

    /// Whether the work item of `ticket_id` was deleted in Azure DevOps.
    pub fn link_deleted(&self, ticket_id: &str) -> anyhow::Result<bool> {
        Ok(self
            .conn
            .prepare_cached("SELECT deleted FROM links WHERE ticket_id = ?1")?
            .query_row([ticket_id], |r| r.get(0))
            .optional()?
            .unwrap_or(false))
    }

    /// The webhook credentials of an outegration, generated (random password)
    /// and stored the first time. `name` is its endpoint name.
    pub fn hook_credentials(
        &self,
        outegration: &str,
        name: &str,
    ) -> anyhow::Result<HookCredentials> {
        let tx = self.tx()?;
        let found: Option<(String, String, String)> = tx
            .prepare_cached(
                "SELECT name, username, password FROM webhook_credentials WHERE outegration = ?1",
            )?
            .query_row([outegration], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        let creds = match found {
            Some((name, username, password)) => HookCredentials {
                outegration: outegration.into(),
                name,
                username,
                password,
            },
            None => {
                let creds = HookCredentials {
                    outegration: outegration.into(),
                    name: name.into(),
                    username: "ado-hooks".into(),
                    password: random_password(),
                };
                tx.prepare_cached("INSERT INTO webhook_credentials (outegration, name, username, password, created_at) VALUES (?1, ?2, ?3, ?4, ?5)")?.execute(params![creds.outegration, creds.name, creds.username, creds.password, now()],
                )
                .with_context(|| format!("storing the webhook credentials of {outegration} (endpoint name `{name}` taken?)"))?;
                creds
            }
        };
        tx.commit()?;
        Ok(creds)
    }

    /// A new random webhook password (`subscriptions --rotate`), as the
    /// first one is generated; stored only by [`Db::set_hook_password`].
    pub fn new_hook_password() -> String {
        random_password()
    }

    /// Stores a rotated webhook password; `serve` reads it within a second
    /// (its endpoints are read again), and the old one stops working.
    pub fn set_hook_password(&self, outegration: &str, password: &str) -> anyhow::Result<()> {
        let changed = self.conn.prepare_cached("UPDATE webhook_credentials SET password = ?2, created_at = ?3 WHERE outegration = ?1")?.execute(params![outegration, password, now()],
        )?;
        anyhow::ensure!(changed == 1, "no webhook credentials for {outegration}");
        Ok(())
    }

    /// The webhook credentials of every outegration that has some, as
    /// stored (none generated).
    pub fn all_hook_credentials(&self) -> anyhow::Result<Vec<HookCredentials>> {
        let mut stmt = self.conn.prepare(
            "SELECT outegration, name, username, password FROM webhook_credentials ORDER BY outegration",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok(HookCredentials {
                    outegration: r.get(0)?,
                    name: r.get(1)?,
                    username: r.get(2)?,
                    password: r.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Every outegration known to the state: with credentials, or with links.
    pub fn outegrations(&self) -> anyhow::Result<Vec<String>> {
        let mut stmt = self.conn.prepare("SELECT outegration FROM webhook_credentials UNION SELECT outegration FROM links ORDER BY 1")?;
        let rows = stmt
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(rows)
    }

    /// Stores subscriptions made for an outegration.
    pub fn store_subscriptions(&self, subs: &[StoredSubscription]) -> anyhow::Result<()> {
        let tx = self.tx()?;
        for s in subs {
            tx.prepare_cached("INSERT OR REPLACE INTO subscriptions (id, outegration, event_type, url, created_at) VALUES (?1, ?2, ?3, ?4, ?5)")?.execute(params![s.id, s.outegration, s.event_type, s.url, now()],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The stored subscriptions (of one outegration, or all).
    pub fn subscriptions(
        &self,
        outegration: Option<&str>,
    ) -> anyhow::Result<Vec<StoredSubscription>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, outegration, event_type, url FROM subscriptions WHERE ?1 IS NULL OR outegration = ?1 ORDER BY outegration, event_type, id",
        )?;
        let rows = stmt
            .query_map([outegration], |r| {
                Ok(StoredSubscription {
                    id: r.get(0)?,
                    outegration: r.get(1)?,
                    event_type: r.get(2)?,
                    url: r.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Forgets subscriptions.
    pub fn remove_subscriptions(&self, ids: &[String]) -> anyhow::Result<()> {
        let tx = self.tx()?;
        for id in ids {
            tx.prepare_cached("DELETE FROM subscriptions WHERE id = ?1")?
                .execute([id])?;
        }
        tx.commit()?;
        Ok(())
    }
}
