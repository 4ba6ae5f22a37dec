//! The tables and their version. `PRAGMA user_version` holds the schema
//! version; a database written by a newer host is refused rather than
//! misread.

use anyhow::bail;
use rusqlite::Connection;

/// The schema version this host writes.
pub const VERSION: i64 = 1;

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

/// WAL, foreign-key enforcement, busy timeout, then the tables.
pub fn prepare(conn: &Connection) -> anyhow::Result<()> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version > VERSION {
        bail!("the state database has schema version {version}, newer than this host's {VERSION}: use a newer host");
    }
    if version < VERSION {
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(V1)?;
        tx.pragma_update(None, "user_version", VERSION)?;
        tx.commit()?;
    }
    Ok(())
}
