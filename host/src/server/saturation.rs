//! What keeps a flood of POSTs from costing a real delivery.
//!
//! - **A cheap refusal first.** A request whose credentials are not the
//!   endpoint's (compared in constant time) is answered 401 before its
//!   body is read and before the plugin is called, so an unauthenticated
//!   flood costs no plugin call and takes no delivery slot. The plugin
//!   still authenticates every delivery it is given (`webhook.inspect`):
//!   this only keeps the obviously wrong ones away from it.
//! - **A bound.** At most [`MAX_CONCURRENT_DELIVERIES`] deliveries are
//!   handled at once (each is a plugin call, and the runtime's instance
//!   slots are shared with the inbox worker, the outbox and the console);
//!   one more is answered at once `503 Service Unavailable`, never 500.
//! - **`Retry-After`** on every 503 the server gives (the [`retry_after`]
//!   layer): ADO's service hooks retry a failed delivery on their own
//!   schedule, other senders are told when.

use std::sync::Arc;

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine as _;
use subtle::ConstantTimeEq as _;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::DeliveryAuth;

/// Deliveries handled at once: half the runtime's instance slots
/// (`MAX_CONCURRENT_CALLS`), so the inbox worker, the outbox and the console
/// always find one.
pub const MAX_CONCURRENT_DELIVERIES: usize = 32;

/// Seconds a saturated server asks a sender to wait.
pub const RETRY_AFTER_SECS: u32 = 1;

/// The permits of the deliveries in progress.
#[derive(Clone, Debug)]
pub struct Bound(Arc<Semaphore>);

impl Bound {
    pub fn new(permits: usize) -> Self {
        Bound(Arc::new(Semaphore::new(permits)))
    }

    /// A permit, held while the delivery is handled; `None` when saturated.
    pub fn try_enter(&self) -> Option<OwnedSemaphorePermit> {
        self.0.clone().try_acquire_owned().ok()
    }
}

/// Whether the request presents the endpoint's credentials, read as the
/// plugin reads them (Basic scheme in any case, base64, compared in
/// constant time; a secret header trimmed).
pub fn presents(headers: &HeaderMap, auth: &DeliveryAuth) -> bool {
    let value = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    match auth {
        DeliveryAuth::Basic((user, password)) => {
            let Some(presented) = value("authorization") else {
                return false;
            };
            let (scheme, encoded) = presented.split_once(' ').unwrap_or((presented, ""));
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .unwrap_or_default();
            scheme.eq_ignore_ascii_case("basic")
                && bool::from(decoded.ct_eq(format!("{user}:{password}").as_bytes()))
        }
        DeliveryAuth::Header((name, expected)) => value(&name.to_ascii_lowercase())
            .is_some_and(|got| bool::from(got.as_bytes().ct_eq(expected.trim().as_bytes()))),
    }
}

/// Layer: every 503 answer carries `Retry-After`.
pub async fn retry_after(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if response.status() == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .entry(header::RETRY_AFTER)
            .or_insert(HeaderValue::from(RETRY_AFTER_SECS));
    }
    response
}
