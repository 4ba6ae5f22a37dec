//! The tables and their version. `PRAGMA user_version` holds the schema
//! version; a database written by a newer host is refused rather than
//! misread.

use anyhow::bail;
use rusqlite::Connection;

/// The schema version this host writes.
pub const VERSION: i64 = 5;

const V1: &str = "
CREATE TABLE IF NOT EXISTS tickets (
    id TEXT PRIMARY KEY,
    json TEXT NOT NULL,
    updated_at TEXT
);
CREATE TABLE IF NOT EXISTS links (
    ticket_id TEXT PRIMARY KEY,
    outegration TEXT NOT NULL,
    work_item_id INTEGER,
    project TEXT,
    link_json TEXT NOT NULL,
    synced_ticket_json TEXT NOT NULL,
    updated_at TEXT
);
CREATE TABLE IF NOT EXISTS dispatch_attempts (
    ticket_id TEXT PRIMARY KEY,
    outegration TEXT,
    started_at TEXT
);
";

/// Version 2: the webhook inbox (deliveries accepted and not yet applied),
/// per-outegration webhook credentials and subscriptions, and the `deleted`
/// flag of a link whose work item was deleted in Azure DevOps.
const V2: &str = "
ALTER TABLE links ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
CREATE TABLE IF NOT EXISTS inbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    outegration TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    work_item_id INTEGER NOT NULL,
    headers_json TEXT NOT NULL,
    body BLOB NOT NULL,
    received_at TEXT NOT NULL,
    done INTEGER NOT NULL DEFAULT 0,
    result TEXT,
    processed_at TEXT
);
CREATE INDEX IF NOT EXISTS inbox_pending ON inbox (done, id);
CREATE TABLE IF NOT EXISTS webhook_credentials (
    outegration TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    username TEXT NOT NULL,
    password TEXT NOT NULL,
    created_at TEXT
);
CREATE TABLE IF NOT EXISTS subscriptions (
    id TEXT PRIMARY KEY,
    outegration TEXT NOT NULL,
    event_type TEXT NOT NULL,
    url TEXT NOT NULL,
    created_at TEXT
);
";

/// Version 3: per-ticket leases (see `leases.rs`).
const V3: &str = "
CREATE TABLE IF NOT EXISTS leases (
    ticket_id TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
";

/// Version 4: ingested findings (by fingerprint, with the ticket they were
/// grouped into and their status), the scans ingested, and the ticketing
/// rule that dispatched each ticket.
const V4: &str = "
CREATE TABLE IF NOT EXISTS findings (
    fingerprint TEXT PRIMARY KEY,
    scope TEXT NOT NULL,
    ticket_id TEXT NOT NULL,
    status TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS findings_scope ON findings (scope);
CREATE INDEX IF NOT EXISTS findings_ticket ON findings (ticket_id);
CREATE TABLE IF NOT EXISTS scans (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    file TEXT NOT NULL,
    format TEXT NOT NULL,
    scopes TEXT NOT NULL,
    summary TEXT NOT NULL,
    ingested_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rule_dispatches (
    ticket_id TEXT PRIMARY KEY,
    rule TEXT NOT NULL,
    outegration TEXT NOT NULL,
    dispatched_at TEXT NOT NULL
);
";

/// Version 5: the outbox (see `jobs.rs`). At most one open (pending or
/// running) job per idempotency key, so a command repeated after a crash
/// joins the job it left instead of queueing a second one.
const V5: &str = "
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    ticket_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    args TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL,
    holder TEXT,
    claimed_until INTEGER,
    last_error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS jobs_open_key ON jobs (idempotency_key)
    WHERE state IN ('pending', 'running');
CREATE INDEX IF NOT EXISTS jobs_due ON jobs (state, next_at);
";

/// WAL, then the tables (the caller sets how writers wait for each other).
pub fn prepare(conn: &Connection) -> anyhow::Result<()> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version > VERSION {
        bail!(
            "the state database has schema version {version}, newer than this host's {VERSION}: use a newer host"
        );
    }
    if version < VERSION {
        let tx = conn.unchecked_transaction()?;
        if version < 1 {
            tx.execute_batch(V1)?;
        }
        // Each step runs once: V2's ALTER TABLE would fail on a version 2 db.
        if version < 2 {
            tx.execute_batch(V2)?;
        }
        if version < 3 {
            tx.execute_batch(V3)?;
        }
        if version < 4 {
            tx.execute_batch(V4)?;
        }
        if version < 5 {
            tx.execute_batch(V5)?;
        }
        tx.pragma_update(None, "user_version", VERSION)?;
        tx.commit()?;
    }
    Ok(())
}
