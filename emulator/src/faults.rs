//! Fault injection, switchable at run time (`Emulator::set_faults`,
//! `PUT /_emulator/faults`): added latency, 503 and 429 answers, responses
//! lost after the write committed, writes answered 502/503/504 or not in
//! time after they committed, and webhook deliveries that fail, arrive
//! twice or out of order. Every decision draws from one seeded RNG, so a
//! test that makes the same calls sees the same faults.
//!
//! None of this is ADO behaviour to imitate exactly; it is what a client
//! must survive. [unverified] the bodies of ADO's 503s: the one given
//! before a call runs has a setting per plausible shape
//! (`unavailable-body=envelope|html|empty`, `variants::UnavailableBody`).
//!
//! The after-commit faults are the front door's: Azure DevOps sits behind
//! Azure Front Door, which answers 502/503/504 itself when the backend is
//! slow or its connection breaks, while the backend may still finish the
//! request (Front Door's documented troubleshooting: "503 ... the backend
//! ... took longer than the timeout", learn.microsoft.com/azure/frontdoor/
//! troubleshoot-issues). A client cannot tell such an answer from one
//! given before the write ran, so the emulator commits first and answers
//! the error (or holds the answer past the client's deadline) after.

use std::sync::Mutex;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use rand::rngs::StdRng;
use rand::{RngExt as _, SeedableRng as _};
use serde::{Deserialize, Serialize};

use crate::errors::envelope;
use crate::net::Kill;
use crate::variants::UnavailableBody;

/// The faults in force. Rates are probabilities from 0 to 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Faults {
    /// Seeds the RNG each time the faults are set.
    pub seed: u64,
    /// Added to every REST call, in milliseconds.
    pub latency_ms: u64,
    /// Share of calls answered 503 before they run.
    pub error_rate: f64,
    /// Share of calls answered 429 before they run.
    pub throttle_rate: f64,
    /// Share of writes (POST, PUT, PATCH, DELETE) whose response is lost
    /// after the change is committed: the connection is reset.
    pub drop_after_commit_rate: f64,
    /// Share of writes committed and then answered 502, 503 or 504 (a
    /// third each), as a front door does when the backend answers late.
    pub error_after_commit_rate: f64,
    /// Share of writes committed and then answered only after
    /// `timeout_hold_ms`: past the client's deadline, the outcome unknown.
    pub timeout_after_commit_rate: f64,
    /// How long a `timeout_after_commit` answer is held, in milliseconds.
    pub timeout_hold_ms: u64,
    /// When set, only requests whose path contains this text get the REST
    /// faults (e.g. `/comments`), so a test can aim at one route.
    pub only_path: Option<String>,
    /// Share of webhook attempts that fail without reaching the receiver
    /// (counted as a transient failure, so they are retried).
    pub hook_failure_rate: f64,
    /// Share of successful webhook deliveries sent a second time.
    pub hook_duplicate_rate: f64,
    /// Share of webhook deliveries swapped with the next one of the same
    /// subscription.
    pub hook_reorder_rate: f64,
}

/// Past the host's default per-call deadline (30 s) and ureq's.
pub const DEFAULT_TIMEOUT_HOLD_MS: u64 = 35_000;

impl Default for Faults {
    fn default() -> Self {
        Faults {
            seed: 0,
            latency_ms: 0,
            error_rate: 0.0,
            throttle_rate: 0.0,
            drop_after_commit_rate: 0.0,
            error_after_commit_rate: 0.0,
            timeout_after_commit_rate: 0.0,
            timeout_hold_ms: DEFAULT_TIMEOUT_HOLD_MS,
            only_path: None,
            hook_failure_rate: 0.0,
            hook_duplicate_rate: 0.0,
            hook_reorder_rate: 0.0,
        }
    }
}

impl Faults {
    /// The rates, each of which must lie in 0..=1.
    fn rates(&self) -> [(&'static str, f64); 8] {
        [
            ("errorRate", self.error_rate),
            ("throttleRate", self.throttle_rate),
            ("dropAfterCommitRate", self.drop_after_commit_rate),
            ("errorAfterCommitRate", self.error_after_commit_rate),
            ("timeoutAfterCommitRate", self.timeout_after_commit_rate),
            ("hookFailureRate", self.hook_failure_rate),
            ("hookDuplicateRate", self.hook_duplicate_rate),
            ("hookReorderRate", self.hook_reorder_rate),
        ]
    }

    /// Checks the rates; the message names the first bad one.
    pub fn validate(&self) -> Result<(), String> {
        match self
            .rates()
            .into_iter()
            .find(|(_, r)| !(0.0..=1.0).contains(r))
        {
            Some((name, r)) => Err(format!("{name} must be between 0 and 1, not {r}")),
            None => Ok(()),
        }
    }
}

/// The faults in force and their RNG.
#[derive(Debug)]
pub struct FaultState {
    inner: Mutex<(Faults, StdRng)>,
}

impl FaultState {
    pub fn new(faults: Faults) -> FaultState {
        let rng = StdRng::seed_from_u64(faults.seed);
        FaultState {
            inner: Mutex::new((faults, rng)),
        }
    }

    pub fn get(&self) -> Faults {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .0
            .clone()
    }

    /// Replaces the faults and reseeds the RNG.
    pub fn set(&self, faults: Faults) {
        let rng = StdRng::seed_from_u64(faults.seed);
        *self.inner.lock().unwrap_or_else(|e| e.into_inner()) = (faults, rng);
    }

    /// Draws once for the rate `pick` selects; no draw when it is 0, so
    /// turning one fault on does not shift the others' sequence.
    pub fn roll(&self, pick: fn(&Faults) -> f64) -> bool {
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let (faults, rng) = &mut *guard;
        let p = pick(faults);
        p > 0.0 && rng.random_bool(p.min(1.0))
    }

    /// A number below `n`, from the same RNG.
    pub fn pick(&self, n: u32) -> u32 {
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        guard.1.random_range(0..n)
    }
}

fn with_retry_after(mut r: Response, seconds: u64) -> Response {
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    r
}

/// Whether a request changes something: POST, PUT, PATCH and DELETE, but
/// not the POSTs that only read (a WIQL query, `workitemsbatch`).
fn is_write(method: &Method, path: &str) -> bool {
    let path = path.to_ascii_lowercase();
    matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    ) && !(path.contains("/_apis/wit/wiql") || path.contains("/_apis/wit/workitemsbatch"))
}

/// A front door's own error page: HTML, not ADO's JSON envelope. Its text
/// is the one Microsoft Learn quotes from Azure Front Door's error page
/// ("Our services aren't available right now. We're working to restore all
/// services as soon as possible. Please check back soon.": "Enable custom
/// domains in Azure AD B2C", troubleshooting, MicrosoftDocs/azure-docs
/// `articles/active-directory-b2c/custom-domain.md`); the markup around it
/// is the emulator's, the status the one the fault drew.
fn front_door_error(status: StatusCode) -> Response {
    let mut r = Response::new(axum::body::Body::from(format!(
        "<!DOCTYPE html><html><head><title>{status}</title></head><body><h2>Our services aren't available right now</h2><p>We're working to restore all services as soon as possible. Please check back soon.</p><!-- fault injected by the emulator after the change was committed --></body></html>"
    )));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r
}

/// The 503 given before a call runs, in the shape `body` names.
fn unavailable(body: UnavailableBody) -> Response {
    match body {
        UnavailableBody::Envelope => envelope(
            StatusCode::SERVICE_UNAVAILABLE,
            "TF400898: The service is temporarily unavailable. (fault injected by the emulator)",
            "ServiceUnavailableException",
        ),
        UnavailableBody::Html => front_door_error(StatusCode::SERVICE_UNAVAILABLE),
        UnavailableBody::Empty => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

/// The fault layer around the REST routes.
pub async fn layer(
    state: &FaultState,
    unavailable_body: UnavailableBody,
    request: Request,
    next: Next,
) -> Response {
    let faults = state.get();
    if faults
        .only_path
        .as_deref()
        .is_some_and(|p| !request.uri().path().contains(p))
    {
        return next.run(request).await;
    }
    if faults.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(faults.latency_ms)).await;
    }
    if state.roll(|f| f.error_rate) {
        // The body's shape is a setting (`unavailable`).
        let r = unavailable(unavailable_body);
        return with_retry_after(r, 1);
    }
    if state.roll(|f| f.throttle_rate) {
        return with_retry_after(crate::ratelimit::blocked_response(), 1);
    }
    let write = matches!(
        *request.method(),
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    let changes = is_write(request.method(), request.uri().path());
    let kill = request
        .extensions()
        .get::<ConnectInfo<Kill>>()
        .map(|c| c.0.clone());
    let response = next.run(request).await;
    if write && state.roll(|f| f.drop_after_commit_rate) {
        match kill {
            // The connection breaks before the first byte of the answer.
            Some(k) => k.trigger(),
            None => {
                tracing::warn!(target: "ado_emulator", "dropAfterCommit needs the emulator's own listener; answer kept")
            }
        }
        return response;
    }
    if !changes {
        return response;
    }
    if state.roll(|f| f.error_after_commit_rate) {
        let status = match state.pick(3) {
            0 => StatusCode::BAD_GATEWAY,
            1 => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::GATEWAY_TIMEOUT,
        };
        return front_door_error(status);
    }
    if state.roll(|f| f.timeout_after_commit_rate) {
        tokio::time::sleep(Duration::from_millis(faults.timeout_hold_ms)).await;
    }
    response
}
