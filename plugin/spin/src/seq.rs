//! Append-only sequences in key-value storage (the change feed, the log of
//! handled ADO events): numbers allocated by the atomic `increment` of
//! `{name}:seq`, entries under `{name}:{number}`, and old entries pruned from
//! the bottom (`{name}:floor`: everything at or below it is gone).
//!
//! A number is allocated before its entry is written, so a reader can meet a
//! number without an entry: its writer is between the two calls (the reader
//! stops there and reads it next time), or died in between. The first
//! reader to meet such a hole notes when (`{name}:hole:{number}`); a hole
//! older than [`HOLE_GRACE`] is skipped for good. Writers allocate and write
//! with nothing in between, so a live writer never stays that long.

use crate::platform::{Platform, StoreError, now_unix};

/// How long a number without an entry is waited for.
pub const HOLE_GRACE: u64 = 60;

/// Entries (number, bytes) and the number to read on from.
pub type Page = (Vec<(u64, Vec<u8>)>, u64);

/// One sequence.
#[derive(Debug, Clone, Copy)]
pub struct Seq(pub &'static str);

impl Seq {
    fn counter(self) -> String {
        format!("{}:seq", self.0)
    }

    pub fn entry_key(self, n: u64) -> String {
        format!("{}:{n:020}", self.0)
    }

    fn hole_key(self, n: u64) -> String {
        format!("{}:hole:{n}", self.0)
    }

    fn floor_key(self) -> String {
        format!("{}:floor", self.0)
    }

    /// A new number, never handed out before.
    pub fn allocate(self, p: &dyn Platform) -> Result<u64, StoreError> {
        Ok(p.kv_increment(&self.counter(), 1)?.max(0) as u64)
    }

    /// The last number allocated; 0 when none was.
    pub fn head(self, p: &dyn Platform) -> Result<u64, StoreError> {
        Ok(p.kv_increment(&self.counter(), 0)?.max(0) as u64)
    }

    /// Every number at or below it is pruned.
    pub fn floor(self, p: &dyn Platform) -> Result<u64, StoreError> {
        Ok(p.kv_get(&self.floor_key())?
            .and_then(|b| String::from_utf8_lossy(&b).trim().parse().ok())
            .unwrap_or(0))
    }

    pub fn write(self, p: &dyn Platform, n: u64, bytes: &[u8]) -> Result<(), StoreError> {
        p.kv_set(&self.entry_key(n), bytes)
    }

    pub fn get(self, p: &dyn Platform, n: u64) -> Result<Option<Vec<u8>>, StoreError> {
        p.kv_get(&self.entry_key(n))
    }

    /// Whether number `n`, which has no entry, is to be passed over: pruned,
    /// or a hole older than the grace.
    pub fn passable(self, p: &dyn Platform, n: u64, floor: u64) -> Result<bool, StoreError> {
        if n <= floor {
            return Ok(true);
        }
        let key = self.hole_key(n);
        let seen = p
            .kv_get(&key)?
            .and_then(|b| String::from_utf8_lossy(&b).trim().parse::<u64>().ok());
        match seen {
            Some(at) => Ok(now_unix().saturating_sub(at) >= HOLE_GRACE),
            None => {
                p.kv_set(&key, now_unix().to_string().as_bytes())?;
                Ok(false)
            }
        }
    }

    /// Up to `limit` entries after `after`, oldest first, and the number to
    /// read on from: it stops at a hole still within its grace.
    pub fn read(self, p: &dyn Platform, after: u64, limit: u64) -> Result<Page, StoreError> {
        let head = self.head(p)?;
        let floor = self.floor(p)?;
        let mut out = Vec::new();
        let mut next = after;
        let mut n = after.max(floor);
        while n < head && (out.len() as u64) < limit {
            n += 1;
            match self.get(p, n)? {
                Some(bytes) => out.push((n, bytes)),
                None if self.passable(p, n, floor)? => {}
                None => break,
            }
            next = n;
        }
        Ok((out, next))
    }

    /// Deletes up to `max` entries from the bottom while `expired` says so,
    /// calling `gone` with each before it goes.
    pub fn prune(
        self,
        p: &dyn Platform,
        max: usize,
        expired: impl Fn(&[u8]) -> bool,
        mut gone: impl FnMut(&[u8]) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let head = self.head(p)?;
        let start = self.floor(p)?;
        let mut floor = start;
        for _ in 0..max {
            let n = floor + 1;
            if n > head {
                break;
            }
            match self.get(p, n)? {
                Some(bytes) if expired(&bytes) => {
                    gone(&bytes)?;
                    p.kv_delete(&self.entry_key(n))?;
                    // A hole its writer filled late leaves its note behind.
                    p.kv_delete(&self.hole_key(n))?;
                }
                Some(_) => break,
                None if self.passable(p, n, start)? => p.kv_delete(&self.hole_key(n))?,
                None => break,
            }
            floor = n;
        }
        if floor != start {
            p.kv_set(&self.floor_key(), floor.to_string().as_bytes())?;
        }
        Ok(())
    }
}
