//! The durable inbox of accepted webhook deliveries.
//!
//! A delivery is inserted (the headers the plugin needs to authenticate it,
//! the body, the event id) in a committed transaction before the server
//! acknowledges it. The worker then applies the plugin's ticket update, the
//! updated link and the row's `done` mark in one transaction (a batch of
//! rows and tickets at a time: [`Db::inbox_apply_handled`]), so a crash
//! either leaves the row pending (processed again, and the plugin's duplicate
//! detection on the stored link plus the `done` mark keep it from applying
//! twice) or finished.

use anyhow::Context as _;
use rusqlite::{OptionalExtension as _, params};

use super::conn::{Db, now};
use super::links::write;
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

/// A row the inbox worker handled: its id, its result, and the update to
/// apply (none: the row is only marked done).
pub type HandledRow = (i64, String, Option<TicketUpdate>);

/// What a ticket's handled rows write: the link with its snapshot (when an
/// update came), the ticket (when one changed a field or comment), the
/// deleted flag (when one set it).
struct TicketPlan<'a> {
    outegration: String,
    ticket: Option<Ticket>,
    link: Option<(&'a Link, Ticket)>,
    deleted: Option<bool>,
}

/// Reads and checks what `rows` of the ticket of `before` write; `None`
/// when they must stay pending (the stored link is not `before`, or a row
/// is done already).
fn plan_ticket<'a>(
    tx: &rusqlite::Transaction<'_>,
    before: &Link,
    rows: &'a [HandledRow],
) -> anyhow::Result<Option<TicketPlan<'a>>> {
    for (id, _, _) in rows {
        if row_done(tx, *id)? {
            return Ok(None);
        }
    }
    let ticket_id = &before.ticket_id;
    let Some((outegration, link_json, snapshot)) = tx
        .prepare_cached(
            "SELECT outegration, link_json, synced_ticket_json FROM links WHERE ticket_id = ?1",
        )?
        .query_row([ticket_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })
        .optional()?
    else {
        return Ok(None);
    };
    if link_json != super::links::link_to_json(before) {
        return Ok(None);
    }
    let updates: Vec<&TicketUpdate> = rows.iter().filter_map(|(_, _, u)| u.as_ref()).collect();
    let Some(last) = updates.last() else {
        return Ok(Some(TicketPlan {
            outegration,
            ticket: None,
            link: None,
            deleted: None,
        }));
    };
    if let Some(other) = updates.iter().find(|u| u.link.ticket_id != *ticket_id) {
        anyhow::bail!(
            "an update of ticket {ticket_id} came with the link of ticket {}",
            other.link.ticket_id
        );
    }
    let json: String = tx
        .prepare_cached("SELECT json FROM tickets WHERE id = ?1")?
        .query_row([ticket_id], |r| r.get(0))
        .optional()?
        .with_context(|| format!("unknown ticket `{ticket_id}`"))?;
    let mut ticket =
        from_json(&json).with_context(|| format!("the stored ticket {ticket_id} is malformed"))?;
    let mut snapshot = from_json(&snapshot)
        .with_context(|| format!("the stored snapshot of ticket {ticket_id} is malformed"))?;
    let mut changed = false;
    for u in &updates {
        ticket = apply_update(ticket, &u.fields, &u.comments);
        snapshot = apply_update(snapshot, &u.fields, &u.comments);
        changed |= !u.fields.is_empty() || !u.comments.is_empty();
    }
    Ok(Some(TicketPlan {
        outegration,
        ticket: changed.then_some(ticket),
        link: Some((&last.link, snapshot)),
        deleted: updates.iter().rev().find_map(|u| u.deleted),
    }))
}

fn write_plan(
    tx: &rusqlite::Transaction<'_>,
    plan: &TicketPlan<'_>,
    at: &str,
) -> anyhow::Result<()> {
    let Some((link, snapshot)) = &plan.link else {
        return Ok(());
    };
    if let Some(ticket) = &plan.ticket {
        tx.prepare_cached("UPDATE tickets SET json = ?2, updated_at = ?3 WHERE id = ?1")?
            .execute(params![link.ticket_id, to_json(ticket), at])?;
    }
    write(tx, &plan.outegration, link, snapshot)?;
    if let Some(deleted) = plan.deleted {
        tx.prepare_cached("UPDATE links SET deleted = ?2 WHERE ticket_id = ?1")?
            .execute(params![link.ticket_id, deleted])?;
    }
    Ok(())
}

fn row_done(conn: &rusqlite::Connection, id: i64) -> anyhow::Result<bool> {
    conn.prepare_cached("SELECT done FROM inbox WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .with_context(|| format!("inbox row {id}"))
}

/// Marks an inbox row done with its result, unless it is done already.
fn finish_row(
    tx: &rusqlite::Transaction<'_>,
    id: i64,
    result: &str,
    at: &str,
) -> anyhow::Result<()> {
    tx.prepare_cached(
        "UPDATE inbox SET done = 1, result = ?2, processed_at = ?3 WHERE id = ?1 AND done = 0",
    )?
    .execute(params![id, result, at])?;
    Ok(())
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

    /// Applies what the inbox worker decided for a batch of rows, in one
    /// transaction, and releases the leases it held for them in the same
    /// commit.
    ///
    /// `tickets`: per ticket, the link its first row was handled with and
    /// its rows in arrival order, each with its result and the update the
    /// plugin computed from the link the row before left (none: the row is
    /// only marked done, as `ignored` or `failed`). A ticket's rows are
    /// written together or not at all: when its stored link is no longer
    /// the one they were handled from, or one of them is already done,
    /// nothing of that ticket is written and its rows stay pending, to be
    /// handled again (`false` in the answer, one entry per ticket). Each
    /// update goes into the ticket and into the link's snapshot (so the
    /// next push does not send it back), in order; the ticket, the snapshot
    /// and the link are then written once.
    ///
    /// `finished`: rows marked done with their result and nothing else
    /// (no ticket linked); one already done is left alone.
    ///
    /// `leases`: the leases the rows were handled under, released in this
    /// transaction (no commit of their own); should it fail, they are
    /// released when dropped, after its rollback.
    pub fn inbox_apply_handled(
        &self,
        tickets: &[(Link, Vec<HandledRow>)],
        finished: &[(i64, String)],
        leases: Vec<super::leases::Lease<'_>>,
    ) -> anyhow::Result<Vec<bool>> {
        let tx = self.tx()?;
        let at = now();
        let mut written = Vec::with_capacity(tickets.len());
        for (before, rows) in tickets {
            // Everything is read and checked before anything of this
            // ticket is written: a ticket that cannot be applied leaves
            // the others' rows alone.
            let plan = match plan_ticket(&tx, before, rows) {
                Ok(plan) => plan,
                Err(e) => {
                    tracing::error!(ticket = %before.ticket_id, "inbox rows left pending: {e:#}");
                    None
                }
            };
            let Some(plan) = plan else {
                written.push(false);
                continue;
            };
            write_plan(&tx, &plan, &at)?;
            for (id, result, _) in rows {
                finish_row(&tx, *id, result, &at)?;
            }
            written.push(true);
        }
        for (id, result) in finished {
            finish_row(&tx, *id, result, &at)?;
        }
        for lease in &leases {
            lease.delete_in(&tx)?;
        }
        tx.commit()?;
        for lease in leases {
            lease.released();
        }
        Ok(written)
    }

    /// Whether inbox row `id` is done.
    pub fn inbox_done(&self, id: i64) -> anyhow::Result<bool> {
        row_done(&self.conn, id)
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
            super::links::link_from_json(&j).with_context(|| {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{FieldValue, Link};

    /// A fresh state database in the temp dir, removed (with its WAL
    /// files) on drop.
    struct Temp(std::path::PathBuf);

    impl Temp {
        fn new(name: &str) -> Temp {
            Temp(std::env::temp_dir().join(format!(
                "ticketing-host-handled-{name}-{}.db",
                std::process::id()
            )))
        }
    }

    impl Drop for Temp {
        fn drop(&mut self) {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
            }
        }
    }

    fn link(ticket: &str, work_item: i32, rev: i32) -> Link {
        Link {
            ticket_id: ticket.into(),
            project: "p".into(),
            work_item_type: "Bug".into(),
            work_item_id: work_item,
            rev,
            url: format!("https://ado/wi/{work_item}"),
            web_url: format!("https://ado/edit/{work_item}"),
            sync_state: "{}".into(),
        }
    }

    /// A dispatched ticket: stored, with its link at revision 1.
    fn dispatched(db: &Db, ticket: &str, work_item: i32) {
        let t = from_json(&format!(
            r#"{{"id":"{ticket}","url":"https://x/{ticket}","fields":{{"title":"t"}}}}"#
        ))
        .unwrap();
        db.put_ticket(&t).unwrap();
        db.store_dispatched("o.json", &link(ticket, work_item, 1), &t)
            .unwrap();
    }

    fn delivery(db: &Db, work_item: i32, event: &str) -> i64 {
        db.inbox_insert("o.json", event, "workitem.updated", work_item, &[], b"{}")
            .unwrap()
    }

    fn status(ticket: &str, work_item: i32, rev: i32, value: &str) -> TicketUpdate {
        TicketUpdate {
            link: link(ticket, work_item, rev),
            fields: vec![Field {
                name: "status".into(),
                value: FieldValue::Text(value.into()),
            }],
            comments: Vec::new(),
            deleted: None,
        }
    }

    fn status_of(t: &Ticket) -> Option<&FieldValue> {
        t.fields
            .iter()
            .find(|f| f.name == "status")
            .map(|f| &f.value)
    }

    fn results(db: &Db) -> Vec<Option<String>> {
        db.inbox().unwrap().into_iter().map(|r| r.result).collect()
    }

    #[test]
    fn a_tickets_handled_rows_are_applied_in_order_and_its_lease_released_in_one_commit() {
        let tmp = Temp::new("order");
        let db = Db::open(&tmp.0).unwrap();
        dispatched(&db, "S-1", 7);
        let (a, b, c) = (
            delivery(&db, 7, "e1"),
            delivery(&db, 7, "e2"),
            delivery(&db, 9, "e3"),
        );
        let lease = db.try_lease(&["S-1"]).unwrap().unwrap();
        let mut second = status("S-1", 7, 3, "RESOLVED");
        second.deleted = Some(false);
        let rows = vec![
            (
                a,
                "applied first".to_string(),
                Some(status("S-1", 7, 2, "IN_PROGRESS")),
            ),
            (b, "applied second".to_string(), Some(second)),
        ];
        let commits = db.commits();
        let written = db
            .inbox_apply_handled(
                &[(link("S-1", 7, 1), rows)],
                &[(c, "no ticket is linked to work item 9".into())],
                vec![lease],
            )
            .unwrap();
        assert_eq!(written, [true]);
        assert_eq!(db.commits() - commits, 1, "one commit for the whole batch");
        assert!(!db.leased("S-1").unwrap(), "the lease went with the rows");
        let resolved = FieldValue::Text("RESOLVED".into());
        assert_eq!(status_of(&db.ticket("S-1").unwrap()), Some(&resolved));
        let stored = db.link("S-1").unwrap().unwrap();
        assert_eq!(stored.link.rev, 3, "the last row's link is stored");
        assert_eq!(
            status_of(&stored.synced),
            Some(&resolved),
            "the snapshot follows, so the next push sends nothing back"
        );
        assert_eq!(
            results(&db),
            [
                Some("applied first".into()),
                Some("applied second".into()),
                Some("no ticket is linked to work item 9".into())
            ],
            "each row keeps its own result"
        );
        assert!(db.inbox_pending().unwrap().is_empty());
    }

    #[test]
    fn a_ticket_whose_link_changed_keeps_its_rows_pending_while_the_others_are_applied() {
        let tmp = Temp::new("changed");
        let db = Db::open(&tmp.0).unwrap();
        dispatched(&db, "S-1", 7);
        dispatched(&db, "S-2", 8);
        let (a, b) = (delivery(&db, 7, "e1"), delivery(&db, 8, "e2"));
        let lease = db.try_lease(&["S-1", "S-2"]).unwrap().unwrap();
        let written = db
            .inbox_apply_handled(
                &[
                    // Handled from revision 0: a sync stored revision 1 since.
                    (
                        link("S-1", 7, 0),
                        vec![(a, "applied".into(), Some(status("S-1", 7, 2, "RESOLVED")))],
                    ),
                    (
                        link("S-2", 8, 1),
                        vec![(b, "applied".into(), Some(status("S-2", 8, 2, "RESOLVED")))],
                    ),
                ],
                &[],
                vec![lease],
            )
            .unwrap();
        assert_eq!(written, [false, true]);
        assert_eq!(status_of(&db.ticket("S-1").unwrap()), None);
        assert_eq!(db.link("S-1").unwrap().unwrap().link.rev, 1);
        let pending: Vec<i64> = db.inbox_pending().unwrap().iter().map(|r| r.id).collect();
        assert_eq!(pending, [a], "to be handled again from the stored link");
        assert!(!db.leased("S-1").unwrap() && !db.leased("S-2").unwrap());
    }

    #[test]
    fn a_row_done_meanwhile_keeps_the_rest_of_its_ticket_pending_and_its_result() {
        let tmp = Temp::new("done");
        let db = Db::open(&tmp.0).unwrap();
        dispatched(&db, "S-1", 7);
        let (a, b) = (delivery(&db, 7, "e1"), delivery(&db, 7, "e2"));
        db.inbox_finish(a, "applied elsewhere").unwrap();
        let lease = db.try_lease(&["S-1"]).unwrap().unwrap();
        let rows = vec![
            (
                a,
                "applied".to_string(),
                Some(status("S-1", 7, 2, "IN_PROGRESS")),
            ),
            (
                b,
                "applied".to_string(),
                Some(status("S-1", 7, 3, "RESOLVED")),
            ),
        ];
        let written = db
            .inbox_apply_handled(&[(link("S-1", 7, 1), rows)], &[], vec![lease])
            .unwrap();
        assert_eq!(written, [false]);
        assert_eq!(results(&db), [Some("applied elsewhere".into()), None]);
        assert_eq!(db.link("S-1").unwrap().unwrap().link.rev, 1);
        assert!(!db.leased("S-1").unwrap());
    }
}
