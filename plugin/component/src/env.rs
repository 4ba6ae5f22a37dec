//! The host's imports, as core's `Env`.

use std::time::Duration;

use ado_connector_core::env::{Env, HttpError, HttpRequest, HttpResponse};

use crate::bindings::secops::ticketing::{http, store};
use crate::convert;

/// The host, seen from inside the component.
pub struct HostEnv;

impl Env for HostEnv {
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        http::send(&convert::request(request))
            .map(convert::response)
            .map_err(convert::http_error)
    }

    fn store_get(&self, key: &str) -> Option<String> {
        store::get(key)
    }

    fn store_set(&self, key: &str, value: &str, ttl: Option<Duration>) {
        let ttl = ttl.map(|d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX));
        store::set(key, value, ttl);
    }

    fn store_delete(&self, key: &str) {
        store::delete(key);
    }

    fn now_unix(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    }

    fn sleep(&self, duration: Duration) {
        // WASI 0.2 monotonic clock; the host's deadline still bounds the call.
        std::thread::sleep(duration);
    }
}
