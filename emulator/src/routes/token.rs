//! The Entra ID token endpoint (`/{tenant}/oauth2/v2.0/token`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::errors::entra;
use crate::state::Emu;

/// The Azure DevOps resource; tokens for anything else are refused.
const ADO_RESOURCE: &str = "499b84ac-1321-427f-aa17-267ca6975798";

fn new_token() -> String {
    format!(
        "eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.{}.emulator",
        uuid::Uuid::new_v4().simple()
    )
}

pub async fn token(
    State(emu): State<Arc<Emu>>,
    Path(tenant): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if !tenant.eq_ignore_ascii_case(&emu.tenant_id) {
        return entra(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            &format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
            ),
        );
    }
    let scope = form.get("scope").map(String::as_str).unwrap_or_default();
    if !scope
        .split(' ')
        .any(|s| s.starts_with(ADO_RESOURCE) || s.starts_with("https://app.vssps.visualstudio.com"))
    {
        return entra(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            70011,
            &format!(
                "The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid: '{scope}'."
            ),
        );
    }
    let client_id = form.get("client_id").cloned().unwrap_or_default();
    let Some(app) = emu
        .apps
        .iter()
        .find(|a| a.client_id.eq_ignore_ascii_case(&client_id))
    else {
        return entra(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            &format!(
                "Application with identifier '{client_id}' was not found in the directory '{tenant}'."
            ),
        );
    };
    let expiry = Instant::now() + emu.token_lifetime;
    let lifetime = emu.token_lifetime.as_secs();
    match form.get("grant_type").map(String::as_str) {
        Some("client_credentials") => {
            if form.get("client_secret") != Some(&app.secret) {
                return entra(
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    7000215,
                    &format!(
                        "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."
                    ),
                );
            }
            if let Some(expired) = emu.setup.expired_secret(&app.client_id) {
                return expired;
            }
            let token = new_token();
            emu.data()
                .tokens
                .insert(token.clone(), (app.identity.clone(), expiry));
            axum::Json(json!({"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime, "access_token": token})).into_response()
        }
        Some("refresh_token") => {
            let presented = form.get("refresh_token").cloned().unwrap_or_default();
            let mut data = emu.data();
            let Some(identity) = data.refresh_tokens.remove(&presented) else {
                return entra(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    70008,
                    "The provided authorization code or refresh token has expired due to inactivity.",
                );
            };
            let (token, rotated) = (
                new_token(),
                format!("emulator-refresh-{}", uuid::Uuid::new_v4().simple()),
            );
            data.tokens
                .insert(token.clone(), (identity.clone(), expiry));
            emu.setup.issued(&app.client_id, &token);
            data.refresh_tokens.insert(rotated.clone(), identity);
            axum::Json(json!({"token_type": "Bearer", "scope": scope, "expires_in": lifetime, "ext_expires_in": lifetime, "access_token": token, "refresh_token": rotated}))
                .into_response()
        }
        other => entra(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            &format!(
                "The app requested an unsupported grant type '{}'.",
                other.unwrap_or_default()
            ),
        ),
    }
}
