//! The harness's key-value store: a SQLite file with Spin's own schema
//! (`spin_key_value(store, key, value)`) and Spin's semantics for each
//! operation, as its SQLite backend (`crates/key-value-spin`) implements
//! them: `increment` reads and writes in one transaction and keeps the
//! counter as 8 little-endian bytes (a missing key counts as 0); a CAS
//! `swap` after a `current` that found a value updates only if the value is
//! unchanged, and after one that found none (or without `current`) is an
//! unconditional upsert. The file outlives the app, so a restarted harness
//! finds its links; several apps may open one file, as replicas share one
//! store.

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

/// One open store file.
pub struct Kv {
    conn: Mutex<Connection>,
}

/// A store operation failed (reported to the guest as `other`).
pub type KvResult<T> = Result<T, String>;

fn err(e: rusqlite::Error) -> String {
    format!("sqlite: {e}")
}

impl Kv {
    /// Opens (creates) the store file.
    pub fn open(path: &Path) -> Kv {
        let conn = Connection::open(path).expect("the key-value file opens");
        // Several apps (replicas) may write the one file.
        conn.busy_timeout(Duration::from_secs(10)).unwrap();
        // Readers do not wait for a writer of another app.
        conn.query_row("PRAGMA journal_mode=WAL", [], |_| Ok(()))
            .expect("WAL");
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS spin_key_value (
                 store TEXT NOT NULL,
                 key   TEXT NOT NULL,
                 value BLOB NOT NULL,
                 PRIMARY KEY (store, key)
             );",
        )
        .expect("the key-value schema");
        Kv {
            conn: Mutex::new(conn),
        }
    }

    pub fn get(&self, store: &str, key: &str) -> KvResult<Option<Vec<u8>>> {
        self.conn
            .lock()
            .unwrap()
            .query_row(
                "SELECT value FROM spin_key_value WHERE store=?1 AND key=?2",
                params![store, key],
                |r| r.get(0),
            )
            .optional()
            .map_err(err)
    }

    pub fn set(&self, store: &str, key: &str, value: &[u8]) -> KvResult<()> {
        self.conn
            .lock()
            .unwrap()
            .execute(
                "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT(store, key) DO UPDATE SET value=?3",
                params![store, key, value],
            )
            .map(drop)
            .map_err(err)
    }

    pub fn delete(&self, store: &str, key: &str) -> KvResult<()> {
        self.conn
            .lock()
            .unwrap()
            .execute(
                "DELETE FROM spin_key_value WHERE store=?1 AND key=?2",
                params![store, key],
            )
            .map(drop)
            .map_err(err)
    }

    pub fn keys(&self, store: &str) -> KvResult<Vec<String>> {
        let conn = self.conn.lock().unwrap();
        let mut stmt = conn
            .prepare("SELECT key FROM spin_key_value WHERE store=?1 ORDER BY key")
            .map_err(err)?;
        stmt.query_map([store], |r| r.get(0))
            .map_err(err)?
            .collect::<Result<_, _>>()
            .map_err(err)
    }

    /// Spin's increment. The transaction takes the write lock first
    /// (IMMEDIATE), since other apps may hold the file: read-then-upgrade
    /// would fail with SQLITE_BUSY under contention instead of waiting.
    pub fn increment(&self, store: &str, key: &str, delta: i64) -> KvResult<i64> {
        let mut conn = self.conn.lock().unwrap();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        let value: Option<Vec<u8>> = tx
            .query_row(
                "SELECT value FROM spin_key_value WHERE store=?1 AND key=?2",
                params![store, key],
                |r| r.get(0),
            )
            .optional()
            .map_err(err)?;
        let current = match value {
            Some(v) => i64::from_le_bytes(
                v.try_into()
                    .map_err(|_| format!("`{key}` does not hold a counter"))?,
            ),
            None => 0,
        };
        let new = current + delta;
        tx.execute(
            "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3)
             ON CONFLICT(store, key) DO UPDATE SET value=?3",
            params![store, key, new.to_le_bytes().to_vec()],
        )
        .map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(new)
    }

    /// Spin's CAS swap: `seen` is what `current` returned (`None` when it
    /// found nothing or was not called). `Ok(false)`: the value changed.
    pub fn swap(
        &self,
        store: &str,
        key: &str,
        seen: Option<&[u8]>,
        value: &[u8],
    ) -> KvResult<bool> {
        let conn = self.conn.lock().unwrap();
        let rows = match seen {
            Some(old) => conn.execute(
                "UPDATE spin_key_value SET value=?4 WHERE store=?1 AND key=?2 AND value=?3",
                params![store, key, old, value],
            ),
            None => conn.execute(
                "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT(store, key) DO UPDATE SET value=?3",
                params![store, key, value],
            ),
        }
        .map_err(err)?;
        Ok(rows == 1)
    }
}
