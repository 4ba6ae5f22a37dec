//! The connection to the state database: opening it (schema, WAL, busy
//! handler, statement cache, private file), its transactions and commit
//! count, and the time stamps rows carry. Every other file of `db` adds its
//! own `impl Db` on this.

use std::path::Path;

use anyhow::Context as _;

use super::schema;

/// Prepared statements kept per connection: more than the distinct
/// statements of any one path (a dispatch runs about twenty).
const STATEMENT_CACHE: usize = 128;

/// The state database.
pub struct Db {
    pub(super) conn: rusqlite::Connection,
    /// Transactions this connection committed: each is a write of the WAL
    /// under the database's one write lock, so what a dispatch costs is
    /// counted in them (`tests/tests/commits.rs`).
    commits: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("path", &self.conn.path())
            .finish()
    }
}

impl Db {
    /// Opens (or creates) the state database at `path` and brings its schema
    /// up to date.
    pub fn open(path: &Path) -> anyhow::Result<Db> {
        private_file(path)
            .with_context(|| format!("creating the state database {}", path.display()))?;
        let mut conn = rusqlite::Connection::open(path)
            .with_context(|| format!("opening the state database {}", path.display()))?;
        // The webhook worker, the CLI and `dispatch --jobs` workers write the
        // same database: wait for the other writer's transaction instead of
        // failing with SQLITE_BUSY.
        conn.busy_handler(Some(wait_for_writer))
            .context("setting the state database's busy handler")?;
        schema::prepare(&conn)
            .with_context(|| format!("preparing the state database {}", path.display()))?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .context("setting the state database's synchronous mode")?;
        // Statements are prepared once per connection (`prepare_cached`):
        // parsing and planning SQL again at every call was a measurable
        // share of a dispatch's CPU (BENCHMARKS.md, end to end).
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        let commits = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counted = commits.clone();
        conn.commit_hook(Some(move || {
            counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            false // false: let the commit go ahead
        }))
        .context("counting the state database's commits")?;
        Ok(Db { conn, commits })
    }

    /// Transactions this connection has committed since it was opened
    /// (statements outside a transaction count one each).
    pub fn commits(&self) -> u64 {
        self.commits.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Makes every commit of this connection wait for the disk (`synchronous
    /// = FULL`): for a connection whose commits are promises to someone else.
    pub fn sync_every_commit(&self) -> anyhow::Result<()> {
        self.conn
            .pragma_update(None, "synchronous", "FULL")
            .context("setting the state database's synchronous mode")
    }

    /// A transaction on `&self` (commands never share a `Db` across threads).
    /// `BEGIN IMMEDIATE`: the write lock is taken up front, so two writers
    /// (the webhook worker and a CLI command) wait for each other under the
    /// busy timeout instead of failing when a read would turn into a write.
    pub(super) fn tx(&self) -> rusqlite::Result<rusqlite::Transaction<'_>> {
        rusqlite::Transaction::new_unchecked(&self.conn, rusqlite::TransactionBehavior::Immediate)
    }
}

/// Creates the database file readable and writable by its owner only
/// (0600), whatever the umask: it holds webhook passwords and tickets.
/// SQLite creates the `-wal` and `-shm` files with the database file's
/// permissions, so they are private too. An existing database (and its
/// `-wal`/`-shm`) that others may read is made private.
#[cfg(unix)]
fn private_file(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)?;
    for suffix in ["", "-wal", "-shm"] {
        let file = std::path::PathBuf::from(format!("{}{suffix}", path.display()));
        if let Ok(meta) = std::fs::metadata(&file)
            && meta.permissions().mode() & 0o077 != 0
        {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn private_file(_: &Path) -> std::io::Result<()> {
    Ok(())
}

/// How long a writer waits for another one: 0.2 ms a try for the first
/// 0.2 s, then 5 ms a try, up to about 30 s in all. SQLite's own timeout
/// sleeps 25 to 100 ms a try once it has waited a little, which under many
/// short transactions (a bulk dispatch's workers) costs more than the
/// transactions themselves.
fn wait_for_writer(tries: i32) -> bool {
    const QUICK: i32 = 1000;
    match tries {
        t if t < QUICK => std::thread::sleep(std::time::Duration::from_micros(200)),
        t if t < QUICK + 6000 => std::thread::sleep(std::time::Duration::from_millis(5)),
        _ => return false,
    }
    true
}

/// Now, as RFC 3339 UTC.
pub fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
