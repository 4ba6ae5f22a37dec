//! Ingested findings (schema version 4): one row per fingerprint with its
//! scope (the scanner, or `--scope`), the ticket it was grouped into, its
//! status and when it was first and last seen; the scans ingested; and the
//! rule that dispatched each ticket. [`Db::ingest_tx`] hands an ingest one
//! transaction for all of it, tickets included: a file is stored whole or
//! not at all.

use anyhow::Context as _;
use rusqlite::{OptionalExtension as _, params};

use super::conn::{Db, now};
use crate::Ticket;
use crate::state::finding::ScanFinding;
use crate::state::ticket_file::parse as from_json;

/// A stored finding.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingRow {
    pub fingerprint: String,
    pub scope: String,
    pub ticket_id: String,
    pub status: String,
    pub first_seen: String,
    pub last_seen: String,
    pub data: ScanFinding,
}

/// The ingest's view of the database, inside its transaction.
pub struct IngestTx<'a> {
    tx: &'a rusqlite::Transaction<'a>,
}

const COLUMNS: &str = "fingerprint, scope, ticket_id, status, first_seen, last_seen, json";

fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(FindingRow, String)> {
    let json: String = r.get(6)?;
    Ok((
        FindingRow {
            fingerprint: r.get(0)?,
            scope: r.get(1)?,
            ticket_id: r.get(2)?,
            status: r.get(3)?,
            first_seen: r.get(4)?,
            last_seen: r.get(5)?,
            data: placeholder(),
        },
        json,
    ))
}

// The JSON is decoded after the row, so that a malformed one is reported
// with its fingerprint rather than as an opaque SQLite conversion error.
fn placeholder() -> ScanFinding {
    ScanFinding {
        fingerprint: String::new(),
        scanner: String::new(),
        rule_id: String::new(),
        title: String::new(),
        description: String::new(),
        severity: crate::state::finding::Severity::Info,
        cve: None,
        asset: String::new(),
        component: None,
        file: None,
        line: None,
        tags: Vec::new(),
        asset_tags: Vec::new(),
        status: None,
        scope: String::new(),
    }
}

fn decode(rows: Vec<(FindingRow, String)>) -> anyhow::Result<Vec<FindingRow>> {
    rows.into_iter()
        .map(|(mut row, json)| {
            row.data = serde_json::from_str(&json).with_context(|| {
                format!("the stored finding {} is malformed (json)", row.fingerprint)
            })?;
            Ok(row)
        })
        .collect()
}

impl IngestTx<'_> {
    fn query(&self, sql: &str, arg: &str) -> anyhow::Result<Vec<FindingRow>> {
        let mut stmt = self.tx.prepare(sql)?;
        let rows = stmt
            .query_map([arg], read_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        decode(rows)
    }

    /// The findings of a scope.
    pub fn in_scope(&self, scope: &str) -> anyhow::Result<Vec<FindingRow>> {
        self.query(
            &format!("SELECT {COLUMNS} FROM findings WHERE scope = ?1 ORDER BY fingerprint"),
            scope,
        )
    }

    /// The finding with this fingerprint, in any scope.
    pub fn finding(&self, fingerprint: &str) -> anyhow::Result<Option<FindingRow>> {
        Ok(self
            .query(
                &format!("SELECT {COLUMNS} FROM findings WHERE fingerprint = ?1"),
                fingerprint,
            )?
            .pop())
    }

    /// The findings grouped into a ticket.
    pub fn of_ticket(&self, ticket_id: &str) -> anyhow::Result<Vec<FindingRow>> {
        self.query(
            &format!("SELECT {COLUMNS} FROM findings WHERE ticket_id = ?1 ORDER BY fingerprint"),
            ticket_id,
        )
    }

    /// Inserts or replaces a finding.
    pub fn put(&self, row: &FindingRow) -> anyhow::Result<()> {
        let json = serde_json::to_string(&row.data)?;
        self.tx.prepare_cached("INSERT INTO findings (fingerprint, scope, ticket_id, status, first_seen, last_seen, json)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT(fingerprint) DO UPDATE SET scope = excluded.scope, ticket_id = excluded.ticket_id,
                     status = excluded.status, first_seen = excluded.first_seen,
                     last_seen = excluded.last_seen, json = excluded.json")?.execute(params![row.fingerprint, row.scope, row.ticket_id, row.status, row.first_seen, row.last_seen, json],
            )
            .with_context(|| format!("storing finding {}", row.fingerprint))?;
        Ok(())
    }

    /// A stored ticket, if any.
    pub fn ticket(&self, id: &str) -> anyhow::Result<Option<Ticket>> {
        let json: Option<String> = self
            .tx
            .prepare_cached("SELECT json FROM tickets WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?;
        json.map(|j| from_json(&j).with_context(|| format!("the stored ticket {id} is malformed")))
            .transpose()
    }

    /// Inserts or replaces a ticket.
    pub fn put_ticket(&self, t: &Ticket) -> anyhow::Result<()> {
        super::tickets::upsert(self.tx, t)
    }

    /// Records the scan.
    pub fn record_scan(
        &self,
        file: &str,
        format: &str,
        scopes: &[String],
        summary: &str,
    ) -> anyhow::Result<()> {
        self.tx.prepare_cached("INSERT INTO scans (file, format, scopes, summary, ingested_at) VALUES (?1, ?2, ?3, ?4, ?5)")?.execute(params![file, format, scopes.join(", "), summary, now()],
        )?;
        Ok(())
    }
}

/// The rule that dispatched a ticket, and the outegration it used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleDispatch {
    pub rule: String,
    pub outegration: String,
}

impl Db {
    /// Runs `f` in one transaction, committed only when it succeeds.
    pub fn ingest_tx<T>(
        &self,
        f: impl FnOnce(&IngestTx<'_>) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        let tx = self.tx()?;
        let out = f(&IngestTx { tx: &tx })?;
        tx.commit()?;
        Ok(out)
    }

    /// Every stored finding, by ticket and fingerprint.
    pub fn findings(&self) -> anyhow::Result<Vec<FindingRow>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {COLUMNS} FROM findings ORDER BY ticket_id, fingerprint"
        ))?;
        let rows = stmt
            .query_map([], read_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        decode(rows)
    }

    /// The rule that dispatched `ticket_id`, if a rule did.
    pub fn rule_dispatch(&self, ticket_id: &str) -> anyhow::Result<Option<RuleDispatch>> {
        Ok(self
            .conn
            .prepare_cached("SELECT rule, outegration FROM rule_dispatches WHERE ticket_id = ?1")?
            .query_row([ticket_id], |r| {
                Ok(RuleDispatch {
                    rule: r.get(0)?,
                    outegration: r.get(1)?,
                })
            })
            .optional()?)
    }

    /// Remembers that a rule dispatched `ticket_id`.
    pub fn record_rule_dispatch(&self, ticket_id: &str, d: &RuleDispatch) -> anyhow::Result<()> {
        let tx = self.tx()?;
        tx.prepare_cached("INSERT INTO rule_dispatches (ticket_id, rule, outegration, dispatched_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(ticket_id) DO UPDATE SET rule = excluded.rule, outegration = excluded.outegration")?.execute(params![ticket_id, d.rule, d.outegration, now()],
        )?;
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_2_database_is_migrated_to_the_current_version_keeping_its_tickets_and_inbox() {
        let path = std::env::temp_dir().join(format!("findings-migrate-{}.db", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let ticket = crate::state::ticket_file::parse(
            r#"{"id":"S-1","url":"u","fields":{"severity":"LOW"}}"#,
        )
        .unwrap();
        {
            let db = Db::open(&path).unwrap();
            db.put_ticket(&ticket).unwrap();
            db.inbox_insert("o.json", "ev-1", "workitem.updated", 7, &[], b"{}")
                .unwrap();
            // Back to what a version 2 host left behind.
            db.conn
                .execute_batch(
                    "DROP TABLE findings; DROP TABLE scans; DROP TABLE rule_dispatches; DROP TABLE leases; PRAGMA user_version = 2;",
                )
                .unwrap();
        }
        let db = Db::open(&path).unwrap();
        let v: i64 = db
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, crate::state::db::schema::VERSION);
        assert_eq!(db.ticket("S-1").unwrap(), ticket);
        assert_eq!(db.inbox().unwrap().len(), 1);
        assert!(db.findings().unwrap().is_empty());
        assert_eq!(db.rule_dispatch("S-1").unwrap(), None);
        drop(db);
        let _ = std::fs::remove_file(&path);
    }
}
