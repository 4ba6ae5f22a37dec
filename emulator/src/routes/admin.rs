//! The emulator's own control endpoints under `/_emulator` (not ADO's; no
//! authentication, the emulator listens on 127.0.0.1 only): faults, request
//! counts and the webhook delivery log. They bypass faults, rate limits and
//! counting, so a test can always reach them.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use crate::faults::Faults;
use crate::state::Emu;

pub fn routes() -> Router<Arc<Emu>> {
    Router::new()
        .route("/_emulator/faults", get(faults).put(set_faults))
        .route("/_emulator/requests", get(requests).delete(reset_requests))
        .route("/_emulator/deliveries", get(deliveries))
}

async fn faults(State(emu): State<Arc<Emu>>) -> Response {
    axum::Json(emu.faults.get()).into_response()
}

/// Replaces the faults; members left out fall back to "off".
async fn set_faults(State(emu): State<Arc<Emu>>, body: Bytes) -> Response {
    let faults: Faults = match serde_json::from_slice(&body) {
        Ok(f) => f,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                axum::Json(json!({"message": format!("not a faults object: {e}")})),
            )
                .into_response();
        }
    };
    if let Err(m) = faults.validate() {
        return (StatusCode::BAD_REQUEST, axum::Json(json!({"message": m}))).into_response();
    }
    emu.faults.set(faults.clone());
    axum::Json(faults).into_response()
}

async fn requests(State(emu): State<Arc<Emu>>) -> Response {
    axum::Json(emu.counts.snapshot()).into_response()
}

async fn reset_requests(State(emu): State<Arc<Emu>>) -> Response {
    emu.counts.reset();
    StatusCode::NO_CONTENT.into_response()
}

async fn deliveries(State(emu): State<Arc<Emu>>) -> Response {
    axum::Json(json!({"pending": emu.hooks.pending(), "deliveries": emu.hooks.deliveries()}))
        .into_response()
}
