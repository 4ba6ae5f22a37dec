//! The `store` import's backing: a TTL cache shared by the calls of one host.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Most entries one host keeps.
pub const MAX_ENTRIES: usize = 4096;
/// Largest entry (key and value bytes).
pub const MAX_ENTRY_BYTES: usize = 64 * 1024;

/// A value and when it expires, if ever.
type Entry = (String, Option<Instant>);

/// Keys and values with optional expiry, shared by every call of one `Host`
/// (one connector instance); entries may vanish at any time.
#[derive(Debug, Clone, Default)]
pub struct Kv {
    inner: Arc<Mutex<HashMap<String, Entry>>>,
}

impl Kv {
    /// The live value under `key`; an expired entry is removed.
    pub fn get(&self, key: &str) -> Option<String> {
        let mut map = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        match map.get(key) {
            Some((_, Some(expiry))) if *expiry <= Instant::now() => {
                map.remove(key);
                None
            }
            Some((value, _)) => Some(value.clone()),
            None => None,
        }
    }

    /// Stores `value`; an entry larger than [`MAX_ENTRY_BYTES`], or one that
    /// finds the cache full of live entries, is dropped (the `store`
    /// contract lets entries vanish at any time).
    pub fn set(&self, key: &str, value: &str, ttl: Option<Duration>) {
        if key.len() + value.len() > MAX_ENTRY_BYTES {
            tracing::warn!(target: "ticketing_host", key, bytes = key.len() + value.len(), "store entry too large; dropped");
            return;
        }
        let now = Instant::now();
        let expiry = ttl.map(|t| now + t);
        let mut map = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_ENTRIES && !map.contains_key(key) {
            map.retain(|_, (_, exp)| exp.is_none_or(|e| e > now));
            if map.len() >= MAX_ENTRIES {
                tracing::warn!(target: "ticketing_host", key, "store full; entry dropped");
                return;
            }
        }
        map.insert(key.to_string(), (value.to_string(), expiry));
    }

    /// Removes `key`.
    pub fn delete(&self, key: &str) {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_after_their_ttl() {
        let kv = Kv::default();
        kv.set("a", "1", Some(Duration::from_millis(30)));
        kv.set("b", "2", None);
        assert_eq!(kv.get("a").as_deref(), Some("1"));
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(kv.get("a"), None);
        assert_eq!(kv.get("b").as_deref(), Some("2"));
        kv.delete("b");
        assert_eq!(kv.get("b"), None);
    }

    #[test]
    fn oversized_entries_and_a_full_cache_drop_the_new_entry() {
        let kv = Kv::default();
        kv.set("big", &"x".repeat(MAX_ENTRY_BYTES), None);
        assert_eq!(kv.get("big"), None);
        for i in 0..MAX_ENTRIES {
            kv.set(
                &format!("k{i}"),
                "v",
                if i == 0 { Some(Duration::ZERO) } else { None },
            );
        }
        kv.set("new", "v", None);
        assert_eq!(
            kv.get("new").as_deref(),
            Some("v"),
            "an expired entry made room"
        );
        kv.set("newer", "v", None);
        assert_eq!(kv.get("newer"), None);
        kv.set("k1", "updated", None);
        assert_eq!(
            kv.get("k1").as_deref(),
            Some("updated"),
            "existing keys can still be updated"
        );
    }
}
