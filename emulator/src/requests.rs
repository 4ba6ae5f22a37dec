//! Request counts for the admin endpoint (`GET /_emulator/requests`): by
//! method and path, and by status, so a test can see how often a client
//! called, retried or polled.

use std::collections::BTreeMap;
use std::sync::Mutex;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use serde::Serialize;

/// What was asked and answered so far.
#[derive(Debug, Default, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestCounts {
    pub total: u64,
    /// `"GET /contoso/_apis/projects"` → count (path without query).
    pub by_route: BTreeMap<String, u64>,
    /// `"200"` → count.
    pub by_status: BTreeMap<String, u64>,
}

/// The counts of one emulator.
#[derive(Debug, Default)]
pub struct Counter(Mutex<RequestCounts>);

impl Counter {
    pub fn snapshot(&self) -> RequestCounts {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn reset(&self) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = RequestCounts::default();
    }
}

/// Counts every REST call and its answer's status.
pub async fn count(counter: &Counter, request: Request, next: Next) -> Response {
    let route = format!("{} {}", request.method(), request.uri().path());
    let response = next.run(request).await;
    let mut c = counter.0.lock().unwrap_or_else(|e| e.into_inner());
    c.total += 1;
    *c.by_route.entry(route).or_default() += 1;
    *c.by_status
        .entry(response.status().as_u16().to_string())
        .or_default() += 1;
    response
}
