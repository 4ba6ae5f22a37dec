//! The middleware around the REST routes: each part's layer given the
//! pieces of `Emu` it works on, so the parts need not know `Emu`.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::state::Emu;
use crate::{auth, faults, opaque, ratelimit, requests, server, setup};

/// Counts every REST call and its answer's status (`requests`).
pub async fn count(State(emu): State<Arc<Emu>>, request: Request, next: Next) -> Response {
    requests::count(&emu.counts, request, next).await
}

/// Injected faults (`faults`).
pub async fn faults(State(emu): State<Arc<Emu>>, request: Request, next: Next) -> Response {
    faults::layer(&emu.faults, emu.variants.unavailable_body, request, next).await
}

/// Per-identity rate limiting (`ratelimit`); the caller is authenticated
/// only when a limit is set.
pub async fn rate_limit(State(emu): State<Arc<Emu>>, request: Request, next: Next) -> Response {
    let caller_id = |headers: &_| {
        auth::authenticate(&emu, headers)
            .ok()
            .map(|c| c.identity.id)
    };
    ratelimit::layer(&emu.limiter, caller_id, request, next).await
}

/// The seeded setup mistakes (`setup`).
pub async fn setup(State(emu): State<Arc<Emu>>, request: Request, next: Next) -> Response {
    let caller = auth::authenticate(&emu, request.headers())
        .ok()
        .map(|c| (c.identity, c.scope));
    setup::layer(&emu.setup, &emu.site, &emu.variants, caller, request, next).await
}

/// Azure DevOps Server mode (`server`).
pub async fn server(State(emu): State<Arc<Emu>>, request: Request, next: Next) -> Response {
    server::layer(
        emu.server.as_ref(),
        emu.variants.refusal_body,
        request,
        next,
    )
    .await
}

/// `errors=opaque` (`opaque`, `variants`).
pub async fn opaque(State(emu): State<Arc<Emu>>, request: Request, next: Next) -> Response {
    opaque::layer(emu.variants.errors, request, next).await
}
