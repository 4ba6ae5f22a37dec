//! The REST routes.

pub mod admin;
pub mod attachments;
pub mod batch;
pub mod classification;
pub mod comments;
pub mod core;
pub mod hooks;
pub mod location;
pub mod meta;
pub mod params;
pub mod read_params;
pub mod reads;
pub mod recyclebin;
pub mod token;
pub mod wiql;
pub mod wit;
pub mod workitems;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

use crate::state::Emu;

pub fn router(emu: Arc<Emu>) -> Router {
    Router::new()
        .route("/{tenant}/oauth2/v2.0/token", post(token::token))
        .route("/{org}/_apis/connectionData", get(core::connection_data))
        .route("/{org}/_apis/projects", get(core::projects))
        .route("/{org}/_apis/projects/{project}", get(core::project))
        .route("/{org}/_apis/wit/fields", get(meta::org_fields))
        .route(
            "/{org}/{project}/_apis/wit/fields",
            get(meta::project_fields),
        )
        .route("/{org}/{project}/_apis/wit/workitemtypes", get(meta::types))
        .route(
            "/{org}/{project}/_apis/wit/workitemtypes/{ty}",
            get(meta::one_type),
        )
        .route(
            "/{org}/{project}/_apis/wit/workitemtypes/{ty}/fields",
            get(meta::type_fields),
        )
        .route(
            "/{org}/{project}/_apis/wit/workitemtypes/{ty}/states",
            get(meta::states),
        )
        .merge(wit::routes())
        .merge(classification::routes())
        .merge(hooks::routes())
        .merge(location::routes())
        .fallback(|| async {
            crate::errors::envelope(
                axum::http::StatusCode::NOT_FOUND,
                "VS800044: The requested resource was not found.",
                "ResourceNotFoundException",
            )
        })
        .with_state(emu)
}
