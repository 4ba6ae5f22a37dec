//! What the service needs from its runtime (Spin, or a fake in unit tests),
//! and core's `Env` built on it: outbound HTTP, and a TTL cache kept in the
//! key-value store under `cache:`.

use std::time::Duration;

use ado_connector_core::env::{Env, HttpError, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

/// An incoming API request.
#[derive(Debug, Clone, Default)]
pub struct ApiRequest {
    pub method: String,
    /// The path without the query, e.g. `/v1/dispatch`.
    pub path: String,
    /// The query without `?`.
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl ApiRequest {
    /// First value of a header, matched case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A query parameter's raw value.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .split('&')
            .filter_map(|p| p.split_once('=').or(Some((p, ""))))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v)
    }
}

/// The answer to an API request.
#[derive(Debug, Clone)]
pub struct ApiResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl ApiResponse {
    /// A JSON answer.
    pub fn json(status: u16, value: &impl Serialize) -> ApiResponse {
        ApiResponse {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: serde_json::to_vec(value).unwrap_or_default(),
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> ApiResponse {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// The key-value store failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("key-value store: {0}")]
pub struct StoreError(pub String);

/// The runtime's services. `spin.rs` implements it with spin-sdk.
pub trait Platform {
    /// A component variable; `None` when undefined.
    fn variable(&self, name: &str) -> Option<String>;
    fn kv_get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    fn kv_set(&self, key: &str, value: &[u8]) -> Result<(), StoreError>;
    fn kv_delete(&self, key: &str) -> Result<(), StoreError>;
    /// Adds `delta` to the counter at `key` atomically (a missing key counts
    /// as 0) and returns the new value: `wasi:keyvalue/atomics.increment`,
    /// which Spin serves on SQLite (in a transaction) and Redis (`INCRBY`).
    /// A counter is never read with [`Platform::kv_get`]: its bytes differ
    /// by backend.
    fn kv_increment(&self, key: &str, delta: i64) -> Result<i64, StoreError>;
    /// Outbound HTTP under the manifest's `allowed_outbound_hosts`.
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError>;
}

/// Every key under the application's prefix (`key_prefix`, then `:`), so
/// several apps can share one store: Spin's Redis backend ignores the store
/// label, every label of every app lands in the same Redis keyspace.
pub struct Prefixed<'a> {
    inner: &'a dyn Platform,
    prefix: String,
}

/// The prefix when `key_prefix` is not set.
pub const DEFAULT_KEY_PREFIX: &str = "ado-connector";

impl<'a> Prefixed<'a> {
    pub fn new(inner: &'a dyn Platform) -> Prefixed<'a> {
        let prefix = inner
            .variable("key_prefix")
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| DEFAULT_KEY_PREFIX.to_string());
        Prefixed {
            inner,
            prefix: format!("{prefix}:"),
        }
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }
}

impl Platform for Prefixed<'_> {
    fn variable(&self, name: &str) -> Option<String> {
        self.inner.variable(name)
    }
    fn kv_get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.kv_get(&self.key(key))
    }
    fn kv_set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.inner.kv_set(&self.key(key), value)
    }
    fn kv_delete(&self, key: &str) -> Result<(), StoreError> {
        self.inner.kv_delete(&self.key(key))
    }
    fn kv_increment(&self, key: &str, delta: i64) -> Result<i64, StoreError> {
        self.inner.kv_increment(&self.key(key), delta)
    }
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        self.inner.send(request)
    }
}

/// Seconds since the Unix epoch.
pub fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[derive(Serialize, Deserialize)]
struct Cached {
    value: String,
    /// Unix time after which the entry is gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires: Option<u64>,
}

/// Core's `Env` on a platform.
pub struct ServiceEnv<'a>(pub &'a dyn Platform);

const CACHE: &str = "cache:";

impl Env for ServiceEnv<'_> {
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        self.0.send(request)
    }

    fn store_get(&self, key: &str) -> Option<String> {
        let bytes = self.0.kv_get(&format!("{CACHE}{key}")).ok()??;
        let cached: Cached = serde_json::from_slice(&bytes).ok()?;
        match cached.expires {
            Some(at) if at <= now_unix() => {
                self.store_delete(key);
                None
            }
            _ => Some(cached.value),
        }
    }

    fn store_set(&self, key: &str, value: &str, ttl: Option<Duration>) {
        let cached = Cached {
            value: value.to_string(),
            expires: ttl.map(|d| now_unix().saturating_add(d.as_secs().max(1))),
        };
        if let Ok(bytes) = serde_json::to_vec(&cached) {
            // A cache that cannot be written only costs a later request.
            let _ = self.0.kv_set(&format!("{CACHE}{key}"), &bytes);
        }
    }

    fn store_delete(&self, key: &str) {
        let _ = self.0.kv_delete(&format!("{CACHE}{key}"));
    }

    fn now_unix(&self) -> u64 {
        now_unix()
    }

    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }
}
